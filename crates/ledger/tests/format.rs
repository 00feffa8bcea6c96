#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Entry encoding, signed notes, checkpoints and key files.

mod common;

use ledger::{Checkpoint, CheckpointError, Entry, EntryError, NoteError, SigningKey, VerifyingKey};
use proptest::prelude::*;

#[test]
fn entry_round_trips_and_starts_with_the_documented_layout() {
    let mut e = common::entry(3);
    e.index = 0x0102_0304_0506_0708;
    let bytes = e.encode().unwrap();
    assert_eq!(bytes[0], 1, "version byte");
    assert_eq!(&bytes[1..9], &[1, 2, 3, 4, 5, 6, 7, 8], "big-endian index");
    assert_eq!(&bytes[9..17], &e.time.to_be_bytes(), "time");
    assert_eq!(&bytes[17..21], &(e.actor.len() as u32).to_be_bytes());
    assert_eq!(Entry::decode(&bytes).unwrap(), e);
}

/// One boundary check: decoding `bytes` gives `want`.
fn check(name: &str, bytes: &[u8], want: Result<(), EntryError>) {
    let got = Entry::decode(bytes).map(|_| ());
    assert_eq!(got, want, "{name}");
}

#[test]
fn malformed_entries_get_clear_errors() {
    let good = common::entry(1).encode().unwrap();
    let mut trailing = good.clone();
    trailing.push(0);
    let mut v2 = good.clone();
    v2[0] = 2;
    // the decision byte follows the resources; find it by re-encoding with another decision
    let mut other = common::entry(1);
    other.decision = ledger::Decision::Admin;
    let other = other.encode().unwrap();
    let decision_at = good.iter().zip(&other).position(|(a, b)| a != b).unwrap();
    let mut bad_decision = good.clone();
    bad_decision[decision_at] = 9;
    // first resource kind byte: after version, index, time, actor, action and the count
    let actor_len = common::entry(1).actor.len();
    let action_len = common::entry(1).action.len();
    let kind_at = 1 + 8 + 8 + 4 + actor_len + 4 + action_len + 4;
    let mut bad_kind = good.clone();
    bad_kind[kind_at] = 5;
    let mut bad_utf8 = good.clone();
    bad_utf8[21] = 0xff; // first byte of the actor
    check("good", &good, Ok(()));
    check(
        "empty",
        &[],
        Err(EntryError::Truncated {
            field: "version",
            needed: 1,
            remaining: 0,
        }),
    );
    check("trailing", &trailing, Err(EntryError::TrailingBytes { count: 1 }));
    check("version", &v2, Err(EntryError::UnknownVersion { found: 2 }));
    check("decision", &bad_decision, Err(EntryError::UnknownDecision { found: 9 }));
    check("kind", &bad_kind, Err(EntryError::UnknownResourceKind { found: 5 }));
    check("utf8", &bad_utf8, Err(EntryError::InvalidUtf8 { field: "actor" }));
    check(
        "huge length",
        &[&good[..17], &[0xff, 0xff, 0xff, 0xff]].concat(),
        Err(EntryError::Truncated {
            field: "actor",
            needed: 0xffff_ffff,
            remaining: 0,
        }),
    );
}

proptest! {
    #[test]
    fn every_truncation_is_rejected(n in 0u64..1000, cut in any::<prop::sample::Index>()) {
        let bytes = common::entry(n).encode().unwrap();
        let cut = cut.index(bytes.len());
        prop_assert!(Entry::decode(&bytes[..cut]).is_err());
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let decoded = Entry::decode(&bytes);
        prop_assert_eq!(Entry::validate(&bytes), decoded.clone().map(|e| e.index));
        if let Ok(e) = decoded {
            // anything accepted must be canonical
            prop_assert_eq!(e.encode().unwrap(), bytes);
        }
    }

    #[test]
    fn validate_agrees_with_decode_on_mutated_entries(n in 0u64..100, pos in any::<prop::sample::Index>(), value in any::<u8>()) {
        let mut bytes = common::entry(n).encode().unwrap();
        let pos = pos.index(bytes.len());
        bytes[pos] = value;
        prop_assert_eq!(Entry::validate(&bytes), Entry::decode(&bytes).map(|e| e.index));
    }

    #[test]
    fn arbitrary_entries_round_trip(actor in ".{0,20}", fields in proptest::collection::vec(".{0,8}", 0..5), index in any::<u64>(), time in any::<i64>()) {
        let mut e = common::entry(1);
        e.actor = actor;
        e.fields = fields;
        e.index = index;
        e.time = time;
        let bytes = e.encode().unwrap();
        // any UTF-8, not only ASCII, passes the fast check too
        prop_assert_eq!(Entry::validate(&bytes), Ok(index));
        prop_assert_eq!(Entry::decode(&bytes).unwrap(), e);
    }
}

#[test]
fn checkpoint_note_has_the_c2sp_shape_and_verifies() {
    let key = common::key();
    let cp = Checkpoint {
        origin: common::NAME.into(),
        size: 42,
        root: [5u8; 32],
        time: 1234,
    };
    let note = cp.sign(&key).unwrap();
    let lines: Vec<&str> = note.split('\n').collect();
    assert_eq!(lines[0], common::NAME);
    assert_eq!(lines[1], "42");
    assert_eq!(lines[2], "BQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQU=");
    assert_eq!(lines[3], "custodia-time 1234");
    assert_eq!(lines[4], "");
    assert!(lines[5].starts_with(&format!("\u{2014} {} ", common::NAME)));
    assert_eq!(lines[6], "");
    // the signature blob is key id (4 bytes) then a 64-byte signature
    use base64::Engine;
    let blob = base64::engine::general_purpose::STANDARD
        .decode(lines[5].rsplit(' ').next().unwrap())
        .unwrap();
    assert_eq!(blob.len(), 68);
    assert_eq!(blob[..4], key.verifying_key().key_id());
    assert_eq!(Checkpoint::open(&note, &key.verifying_key()).unwrap(), cp);
}

#[test]
fn key_id_follows_the_signed_note_formula() {
    use sha2::{Digest, Sha256};
    let vk = common::key().verifying_key();
    let vkey = vk.to_string();
    let parts: Vec<&str> = vkey.split('+').collect();
    use base64::Engine;
    let blob = base64::engine::general_purpose::STANDARD.decode(parts[2]).unwrap();
    assert_eq!(blob[0], 1);
    let mut h = Sha256::new();
    h.update(common::NAME.as_bytes());
    h.update([0x0a]);
    h.update(&blob);
    assert_eq!(vk.key_id(), h.finalize()[..4]);
    assert_eq!(
        parts[1],
        vk.key_id().iter().map(|b| format!("{b:02x}")).collect::<String>()
    );
    assert_eq!(VerifyingKey::from_vkey(&vkey).unwrap(), vk);
    assert!(VerifyingKey::from_vkey(&vkey.replace(&parts[1][..2], "zz")).is_err());
}

#[test]
fn altered_or_foreign_checkpoints_are_rejected() {
    let key = common::key();
    let vk = key.verifying_key();
    let cp = Checkpoint {
        origin: common::NAME.into(),
        size: 7,
        root: [1u8; 32],
        time: 9,
    };
    let note = cp.sign(&key).unwrap();
    let altered = note.replacen("\n7\n", "\n8\n", 1);
    assert_eq!(
        Checkpoint::open(&altered, &vk),
        Err(CheckpointError::Note(NoteError::BadSignature {
            name: common::NAME.into()
        }))
    );
    let foreign = cp.sign(&common::other_key()).unwrap();
    assert!(matches!(
        Checkpoint::open(&foreign, &vk),
        Err(CheckpointError::Note(NoteError::NoSignature { .. }))
    ));
    assert!(matches!(
        Checkpoint::open("garbage", &vk),
        Err(CheckpointError::Note(NoteError::Malformed(_)))
    ));
    // a witness cosignature by another key is ignored, ours still verifies
    let other = SigningKey::from_seed("witness.example", &[3u8; 32]).unwrap();
    let cosig = other.sign_note(&cp.body()).unwrap();
    let cosig_line = cosig.rsplit("\n\n").next().unwrap();
    let cosigned = format!("{note}{cosig_line}");
    assert_eq!(Checkpoint::open(&cosigned, &vk).unwrap(), cp);
}

#[test]
fn key_files_round_trip_private_and_redacted() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.key");
    let key = SigningKey::generate(common::NAME).unwrap();
    key.write_file(&path).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    }
    assert!(key.write_file(&path).is_err(), "must not overwrite a key file");
    let loaded = SigningKey::load_file(&path).unwrap();
    assert_eq!(loaded.verifying_key(), key.verifying_key());
    let secret_b64 = std::fs::read_to_string(&path)
        .unwrap()
        .lines()
        .nth(2)
        .unwrap()
        .to_owned();
    let debug = format!("{key:?}");
    assert!(debug.contains("redacted") && !debug.contains(&secret_b64));
    std::fs::write(&path, "custodia-ledger-signing-key v1\nname\nnot base64\n").unwrap();
    let err = SigningKey::load_file(&path).unwrap_err().to_string();
    assert!(err.contains("malformed") && !err.contains("not base64"), "{err}");
    // A seed a byte short or long, and a file that is not text, are no key either.
    use base64::Engine as _;
    for seed in [&[7u8; 31][..], &[7u8; 33][..]] {
        let b64 = base64::engine::general_purpose::STANDARD.encode(seed);
        std::fs::write(&path, format!("custodia-ledger-signing-key v1\nname\n{b64}\n")).unwrap();
        let err = SigningKey::load_file(&path).unwrap_err().to_string();
        assert!(err.contains("malformed"), "{} bytes: {err}", seed.len());
    }
    std::fs::write(&path, b"custodia-ledger-signing-key v1\nname\n\xff\xfe\n").unwrap();
    assert!(SigningKey::load_file(&path).is_err());
    assert!(SigningKey::from_seed("bad name", &[0; 32]).is_err());
}

#[test]
fn vkeys_round_trip_even_when_the_base64_holds_a_plus() {
    // A key whose base64 form contains '+' must parse back: the name cannot
    // hold '+', so only the first two separators split.
    let mut with_plus = 0;
    for seed in 0u8..64 {
        let key = ledger::SigningKey::from_seed("custodia/inst-1", &[seed; 32]).unwrap();
        let text = key.verifying_key().to_string();
        let parsed = ledger::VerifyingKey::from_vkey(&text).unwrap();
        assert_eq!(parsed.to_string(), text);
        if text.splitn(3, '+').nth(2).is_some_and(|b64| b64.contains('+')) {
            with_plus += 1;
        }
    }
    assert!(with_plus > 0, "the seeds must include a key whose base64 has a '+'");
}
