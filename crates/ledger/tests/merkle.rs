#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Merkle tree proofs against a naive RFC 9162 implementation and the CT vectors.

use ledger::merkle::{empty_root, Frontier};
use ledger::{
    consistency_proof, inclusion_proof, leaf_hash, node_hash, root_from_store, verify_consistency, verify_inclusion,
    Hash, MemoryStore, ProofError,
};
use proptest::prelude::*;

/// RFC 9162 §2.1.1 MTH, literally.
fn mth(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => empty_root(),
        1 => leaves[0],
        n => {
            let k = largest_pow2_below(n);
            node_hash(&mth(&leaves[..k]), &mth(&leaves[k..]))
        }
    }
}

fn largest_pow2_below(n: usize) -> usize {
    let mut k = 1;
    while k * 2 < n {
        k *= 2;
    }
    k
}

/// RFC 9162 §2.1.3.1 PATH, literally.
fn naive_path(m: usize, leaves: &[Hash]) -> Vec<Hash> {
    let n = leaves.len();
    if n <= 1 {
        return vec![];
    }
    let k = largest_pow2_below(n);
    if m < k {
        let mut p = naive_path(m, &leaves[..k]);
        p.push(mth(&leaves[k..]));
        p
    } else {
        let mut p = naive_path(m - k, &leaves[k..]);
        p.push(mth(&leaves[..k]));
        p
    }
}

/// RFC 9162 §2.1.4.1 SUBPROOF, literally.
fn naive_subproof(m: usize, leaves: &[Hash], b: bool) -> Vec<Hash> {
    let n = leaves.len();
    if m == n {
        return if b { vec![] } else { vec![mth(leaves)] };
    }
    let k = largest_pow2_below(n);
    if m <= k {
        let mut p = naive_subproof(m, &leaves[..k], b);
        p.push(mth(&leaves[k..]));
        p
    } else {
        let mut p = naive_subproof(m - k, &leaves[k..], false);
        p.push(mth(&leaves[..k]));
        p
    }
}

fn leaves(n: usize) -> Vec<Hash> {
    (0..n).map(|i| leaf_hash(&(i as u64).to_be_bytes())).collect()
}

/// A store holding the tree over `leaves`: each leaf hash in an entry row
/// (entry bytes are not needed for proofs), the subtrees above in the node table.
fn store_of(leaves: &[Hash]) -> MemoryStore {
    let store = MemoryStore::new();
    {
        let mut state = store.state();
        let mut f = Frontier::new();
        for (i, l) in (0u64..).zip(leaves) {
            state.entries.insert(i, (Vec::new(), *l));
            f.push(*l, |id, h| {
                if id.level > 0 {
                    state.put_node(id, *h).unwrap()
                }
            });
        }
    }
    store
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap())
        .collect()
}

fn h(s: &str) -> Hash {
    unhex(s).try_into().unwrap()
}

const CT_LEAVES: [&str; 8] = [
    "",
    "00",
    "10",
    "2021",
    "3031",
    "40414243",
    "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
];
const CT_ROOTS: [&str; 8] = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];

#[test]
fn roots_match_the_certificate_transparency_vectors() {
    let l: Vec<Hash> = CT_LEAVES.iter().map(|d| leaf_hash(&unhex(d))).collect();
    let store = store_of(&l);
    let mut f = Frontier::new();
    for (n, leaf) in l.iter().enumerate() {
        f.push(*leaf, |_, _| {});
        assert_eq!(f.root(), h(CT_ROOTS[n]), "frontier root after {} leaves", n + 1);
        assert_eq!(root_from_store(&store, n as u64 + 1).unwrap(), h(CT_ROOTS[n]));
        assert_eq!(mth(&l[..=n]), h(CT_ROOTS[n]), "naive root after {}", n + 1);
    }
    assert_eq!(
        root_from_store(&store, 0).unwrap(),
        h("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    );
}

#[test]
fn proofs_match_the_certificate_transparency_vectors() {
    let l: Vec<Hash> = CT_LEAVES.iter().map(|d| leaf_hash(&unhex(d))).collect();
    let store = store_of(&l);
    let inclusion: [(u64, u64, &[&str]); 5] = [
        (0, 1, &[]),
        (
            0,
            8,
            &[
                "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
            ],
        ),
        (
            5,
            8,
            &[
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ],
        ),
        (
            2,
            3,
            &["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"],
        ),
        (
            1,
            5,
            &[
                "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            ],
        ),
    ];
    for (index, size, want) in inclusion {
        let want: Vec<Hash> = want.iter().map(|s| h(s)).collect();
        let got = inclusion_proof(&store, index, size).unwrap();
        assert_eq!(got, want, "inclusion proof of {index} in {size}");
        let root = h(CT_ROOTS[size as usize - 1]);
        verify_inclusion(index, size, &l[index as usize], &got, &root).unwrap();
    }
    let consistency: [(u64, u64, &[&str]); 3] = [
        (
            1,
            8,
            &[
                "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
            ],
        ),
        (
            6,
            8,
            &[
                "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ],
        ),
        (
            2,
            5,
            &[
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            ],
        ),
    ];
    for (first, second, want) in consistency {
        let want: Vec<Hash> = want.iter().map(|s| h(s)).collect();
        let got = consistency_proof(&store, first, second).unwrap();
        assert_eq!(got, want, "consistency proof {first} -> {second}");
        verify_consistency(
            first,
            second,
            &h(CT_ROOTS[first as usize - 1]),
            &h(CT_ROOTS[second as usize - 1]),
            &got,
        )
        .unwrap();
    }
}

#[test]
fn out_of_range_requests_are_errors() {
    let store = store_of(&leaves(5));
    assert_eq!(
        inclusion_proof(&store, 5, 5),
        Err(ProofError::IndexOutOfRange { index: 5, size: 5 })
    );
    assert_eq!(
        consistency_proof(&store, 6, 5),
        Err(ProofError::SizesReversed { first: 6, second: 5 })
    );
    assert_eq!(
        inclusion_proof(&store, 3, 9),
        Err(ProofError::MissingNode { level: 0, index: 8 })
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn inclusion_matches_naive_and_verifies(size in 1usize..300, pick in any::<prop::sample::Index>(), flip in any::<prop::sample::Index>()) {
        let l = leaves(size);
        let store = store_of(&l);
        let m = pick.index(size);
        let root = mth(&l);
        prop_assert_eq!(root_from_store(&store, size as u64).unwrap(), root);
        let proof = inclusion_proof(&store, m as u64, size as u64).unwrap();
        prop_assert_eq!(&proof, &naive_path(m, &l));
        prop_assert!(verify_inclusion(m as u64, size as u64, &l[m], &proof, &root).is_ok());
        // another leaf, a changed proof hash or a wrong position must fail
        let other = leaf_hash(b"not in the tree");
        prop_assert!(verify_inclusion(m as u64, size as u64, &other, &proof, &root).is_err());
        if !proof.is_empty() {
            let mut bad = proof.clone();
            bad[flip.index(proof.len())][0] ^= 1;
            prop_assert!(verify_inclusion(m as u64, size as u64, &l[m], &bad, &root).is_err());
        }
        let sibling = m ^ 1;
        if sibling < size {
            prop_assert!(verify_inclusion(sibling as u64, size as u64, &l[m], &proof, &root).is_err());
        }
    }

    #[test]
    fn consistency_matches_naive_and_verifies(second in 1usize..300, pick in any::<prop::sample::Index>(), flip in any::<prop::sample::Index>()) {
        let l = leaves(second);
        let store = store_of(&l);
        let first = pick.index(second) + 1;
        let (r1, r2) = (mth(&l[..first]), mth(&l));
        let proof = consistency_proof(&store, first as u64, second as u64).unwrap();
        let naive = if first == second { vec![] } else { naive_subproof(first, &l, true) };
        prop_assert_eq!(&proof, &naive);
        prop_assert!(verify_consistency(first as u64, second as u64, &r1, &r2, &proof).is_ok());
        let wrong = leaf_hash(b"forged root");
        prop_assert!(verify_consistency(first as u64, second as u64, &wrong, &r2, &proof).is_err());
        prop_assert!(verify_consistency(first as u64, second as u64, &r1, &wrong, &proof).is_err());
        if !proof.is_empty() {
            let mut bad = proof.clone();
            bad[flip.index(proof.len())][31] ^= 0x80;
            prop_assert!(verify_consistency(first as u64, second as u64, &r1, &r2, &bad).is_err());
        }
    }
}
