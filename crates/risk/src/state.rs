//! A compact binary encoding of an [`Aggregator`], so aggregation can be saved after an
//! import and scored (or extended) later.
//!
//! Hand-written rather than serde + a binary format: day vectors are sparse whole-number
//! counts, and a bitmask of non-zero features with varint values is ~10× smaller than any
//! generic encoding of `[f32; 22]`, which matters at CERT r4.2 scale (≈ 500k person-days).
//!
//! Layout (all integers LEB128 varints, signed ones zigzagged, strings length-prefixed
//! UTF-8): magic `CRSK`, version byte, utc offset, event and rejected counts, where the
//! audit ledger is read up to (version 2: 0 for never, the largest number for a state of
//! version 1 not yet at a position, else the next index + 1); users (name,
//! profile, days: day delta, event count, feature mask, values, computers, customer
//! hashes as 8 little-endian bytes); computer names; per-computer logon counts.

use rustc_hash::FxHashMap;

use crate::error::RiskError;
use crate::features::{Aggregator, DayAgg, Interner, Profile, UserDays, FEATURE_COUNT};

const MAGIC: &[u8; 4] = b"CRSK";
const VERSION: u8 = 2;
/// States saved before the ledger position was kept.
const VERSION_WITHOUT_LEDGER: u8 = 1;
/// The position field of a state read from version 1 and saved again before it read
/// the ledger: it still predates positions.
const PREDATES_LEDGER_POSITIONS: u64 = u64::MAX;

impl Aggregator {
    /// Encodes everything aggregated so far (see [`Aggregator::from_state_bytes`]).
    pub fn to_state_bytes(&self) -> Vec<u8> {
        let mut w = Writer(Vec::with_capacity(1 << 16));
        w.0.extend_from_slice(MAGIC);
        w.0.push(VERSION);
        w.signed(self.utc_offset_ms);
        w.unsigned(self.events);
        w.unsigned(self.rejected);
        w.unsigned(match (self.ledger_next, self.predates_ledger_positions) {
            (Some(next), _) => next.saturating_add(1).min(PREDATES_LEDGER_POSITIONS - 1),
            (None, true) => PREDATES_LEDGER_POSITIONS,
            (None, false) => 0,
        });
        w.unsigned(self.users.names.len() as u64);
        for (i, name) in self.users.names.iter().enumerate() {
            w.string(name);
            let default_profile = Profile::default();
            w.profile(self.profiles.get(i).unwrap_or(&default_profile));
            let days = self.per_user.get(i).map_or(&[][..], |u| &u.days[..]);
            w.unsigned(days.len() as u64);
            let mut previous = 0i32;
            for d in days {
                w.signed(i64::from(d.day) - i64::from(previous));
                previous = d.day;
                w.unsigned(u64::from(d.events));
                let mask =
                    d.f.iter()
                        .enumerate()
                        .filter(|(_, v)| **v != 0.0)
                        .fold(0u64, |m, (k, _)| m | 1 << k);
                w.unsigned(mask);
                for v in d.f.iter().filter(|v| **v != 0.0) {
                    w.value(*v);
                }
                w.unsigned(d.pcs.len() as u64);
                for pc in &d.pcs {
                    w.unsigned(u64::from(*pc));
                }
                w.unsigned(d.customers.len() as u64);
                for c in &d.customers {
                    w.0.extend_from_slice(&c.to_le_bytes());
                }
            }
        }
        w.unsigned(self.pcs.names.len() as u64);
        for name in &self.pcs.names {
            w.string(name);
        }
        w.unsigned(self.pc_logons.len() as u64);
        for counts in &self.pc_logons {
            w.unsigned(counts.len() as u64);
            for (user, n) in counts {
                w.unsigned(u64::from(*user));
                w.unsigned(u64::from(*n));
            }
        }
        w.0
    }

    /// Decodes bytes written by [`Aggregator::to_state_bytes`]; corrupt or truncated
    /// input gives [`RiskError::BadState`] with the byte offset, never a panic.
    pub fn from_state_bytes(bytes: &[u8]) -> Result<Self, RiskError> {
        let mut r = Reader { bytes, pos: 0 };
        if r.take(4)? != MAGIC {
            return Err(r.error("expected the magic bytes CRSK of a risk state file"));
        }
        let version = r.byte()?;
        if version != VERSION && version != VERSION_WITHOUT_LEDGER {
            return Err(r.error(&format!("expected state format version {VERSION}, found {version}")));
        }
        let utc_offset_ms = r.signed()?;
        let events = r.unsigned()?;
        let rejected = r.unsigned()?;
        let (ledger_next, predates_ledger_positions) = match version {
            VERSION_WITHOUT_LEDGER => (None, true),
            _ => match r.unsigned()? {
                PREDATES_LEDGER_POSITIONS => (None, true),
                position => (position.checked_sub(1), false),
            },
        };
        let user_count = r.count()?;
        let mut names = Vec::with_capacity(user_count);
        let mut profiles = Vec::with_capacity(user_count);
        let mut per_user = Vec::with_capacity(user_count);
        for _ in 0..user_count {
            names.push(r.string()?);
            profiles.push(r.profile()?);
            let day_count = r.count()?;
            let mut days = Vec::with_capacity(day_count);
            let mut index = FxHashMap::default();
            let mut day = 0i64;
            for slot in 0..day_count {
                day += r.signed()?;
                let day = i32::try_from(day).map_err(|_| r.error("day number out of range"))?;
                let events = r.u32()?;
                let mask = r.unsigned()?;
                if mask >> FEATURE_COUNT != 0 {
                    return Err(r.error("feature mask names an unknown feature"));
                }
                let mut f = [0.0f32; FEATURE_COUNT];
                for (k, v) in f.iter_mut().enumerate() {
                    if mask & (1 << k) != 0 {
                        *v = r.value()?;
                    }
                }
                let pcs = (0..r.count()?).map(|_| r.u32()).collect::<Result<Vec<_>, _>>()?;
                let customers = (0..r.count()?).map(|_| r.u64_le()).collect::<Result<Vec<_>, _>>()?;
                if index.insert(day, slot as u32).is_some() {
                    return Err(r.error("the same day appears twice for one person"));
                }
                days.push(DayAgg {
                    day,
                    f,
                    pcs,
                    customers,
                    events,
                });
            }
            per_user.push(UserDays {
                index,
                days,
                last: None,
            });
        }
        let pc_names = (0..r.count()?).map(|_| r.string()).collect::<Result<Vec<_>, _>>()?;
        let mut pc_logons = Vec::new();
        for _ in 0..r.count()? {
            let counts = (0..r.count()?)
                .map(|_| Ok((r.u32()?, r.u32()?)))
                .collect::<Result<Vec<_>, RiskError>>()?;
            if counts.iter().any(|(u, _)| *u as usize >= user_count) {
                return Err(r.error("a computer's logon count names an unknown person"));
            }
            pc_logons.push(counts);
        }
        if per_user
            .iter()
            .flat_map(|u| &u.days)
            .flat_map(|d| &d.pcs)
            .any(|pc| *pc as usize >= pc_names.len())
        {
            return Err(r.error("a day names an unknown computer"));
        }
        if r.pos != bytes.len() {
            return Err(r.error("expected the end of the state, found trailing bytes"));
        }
        Ok(Aggregator {
            users: Interner::from_names(names),
            pcs: Interner::from_names(pc_names),
            per_user,
            profiles,
            pc_logons,
            utc_offset_ms,
            events,
            rejected,
            ledger_next,
            predates_ledger_positions,
        })
    }
}

struct Writer(Vec<u8>);

impl Writer {
    fn unsigned(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.0.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.0.push(v as u8);
    }

    fn signed(&mut self, v: i64) {
        self.unsigned(((v << 1) ^ (v >> 63)) as u64);
    }

    fn string(&mut self, s: &str) {
        self.unsigned(s.len() as u64);
        self.0.extend_from_slice(s.as_bytes());
    }

    /// Whole counts below 2^24 (exact in f32) as `2n`, anything else as `1` + f32 bits.
    fn value(&mut self, v: f32) {
        if v.fract() == 0.0 && v.is_sign_positive() && v < 16_777_216.0 {
            self.unsigned((v as u64) << 1);
        } else {
            self.unsigned(1);
            self.0.extend_from_slice(&v.to_bits().to_le_bytes());
        }
    }

    fn opt_string(&mut self, s: &Option<String>) {
        match s {
            Some(s) => {
                self.0.push(1);
                self.string(s);
            }
            None => self.0.push(0),
        }
    }

    fn opt_day(&mut self, d: Option<i32>) {
        match d {
            Some(d) => {
                self.0.push(1);
                self.signed(i64::from(d));
            }
            None => self.0.push(0),
        }
    }

    fn profile(&mut self, p: &Profile) {
        self.opt_string(&p.role);
        self.opt_string(&p.department);
        self.opt_string(&p.functional_unit);
        self.opt_day(p.notice_day);
        self.opt_day(p.last_day);
        self.0.push(u8::from(p.departed));
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn error(&self, reason: &str) -> RiskError {
        RiskError::BadState {
            offset: self.pos as u64,
            reason: reason.to_string(),
        }
    }

    fn take(&mut self, n: usize) -> Result<&[u8], RiskError> {
        let end = self.pos.checked_add(n).filter(|e| *e <= self.bytes.len());
        let slice = end.and_then(|e| self.bytes.get(self.pos..e));
        match slice {
            Some(s) => {
                self.pos += n;
                Ok(s)
            }
            None => Err(self.error("unexpected end of the state")),
        }
    }

    fn byte(&mut self) -> Result<u8, RiskError> {
        self.take(1)?
            .first()
            .copied()
            .ok_or_else(|| self.error("unexpected end of the state"))
    }

    fn unsigned(&mut self) -> Result<u64, RiskError> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(self.error("varint longer than 10 bytes"))
    }

    fn signed(&mut self) -> Result<i64, RiskError> {
        let u = self.unsigned()?;
        Ok((u >> 1) as i64 ^ -((u & 1) as i64))
    }

    fn u32(&mut self) -> Result<u32, RiskError> {
        let v = self.unsigned()?;
        u32::try_from(v).map_err(|_| self.error(&format!("expected a 32-bit number, found {v}")))
    }

    /// A length, bounded by the bytes left (every element takes at least one byte), so a
    /// corrupt length cannot make us allocate gigabytes.
    fn count(&mut self) -> Result<usize, RiskError> {
        let v = self.unsigned()?;
        let left = (self.bytes.len() - self.pos) as u64;
        if v > left {
            return Err(self.error(&format!("length {v} exceeds the {left} bytes left in the state")));
        }
        Ok(v as usize)
    }

    fn u64_le(&mut self) -> Result<u64, RiskError> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_le_bytes(a))
    }

    fn value(&mut self) -> Result<f32, RiskError> {
        let tag = self.unsigned()?;
        if tag == 1 {
            let b = self.take(4)?;
            let mut a = [0u8; 4];
            a.copy_from_slice(b);
            return Ok(f32::from_bits(u32::from_le_bytes(a)));
        }
        if tag & 1 == 1 {
            return Err(self.error("expected a feature value tag"));
        }
        Ok((tag >> 1) as f32)
    }

    fn string(&mut self) -> Result<String, RiskError> {
        let n = self.count()?;
        let b = self.take(n)?;
        String::from_utf8(b.to_vec()).map_err(|_| self.error("expected UTF-8 text"))
    }

    fn opt_string(&mut self) -> Result<Option<String>, RiskError> {
        match self.byte()? {
            0 => Ok(None),
            1 => self.string().map(Some),
            b => Err(self.error(&format!("expected an option tag 0 or 1, found {b}"))),
        }
    }

    fn opt_day(&mut self) -> Result<Option<i32>, RiskError> {
        match self.byte()? {
            0 => Ok(None),
            1 => {
                let d = self.signed()?;
                i32::try_from(d)
                    .map(Some)
                    .map_err(|_| self.error("day number out of range"))
            }
            b => Err(self.error(&format!("expected an option tag 0 or 1, found {b}"))),
        }
    }

    fn profile(&mut self) -> Result<Profile, RiskError> {
        Ok(Profile {
            role: self.opt_string()?,
            department: self.opt_string()?,
            functional_unit: self.opt_string()?,
            notice_day: self.opt_day()?,
            last_day: self.opt_day()?,
            departed: match self.byte()? {
                0 => false,
                1 => true,
                b => return Err(self.error(&format!("expected a flag 0 or 1, found {b}"))),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::cert::{read_cert_dir, CertOptions};
    use crate::eval::scores_csv;
    use crate::generator::{generate, GeneratorConfig};
    use crate::score::ScoringConfig;
    use proptest::prelude::*;

    fn tiny_aggregator() -> Aggregator {
        let dir = tempfile::tempdir().unwrap();
        generate(&GeneratorConfig::tiny(3), dir.path()).unwrap();
        let mut agg = Aggregator::new(0);
        read_cert_dir(dir.path(), &CertOptions::default(), &mut agg).unwrap();
        agg
    }

    #[test]
    fn round_trip_scores_exactly_as_the_original() {
        let agg = tiny_aggregator();
        let bytes = agg.to_state_bytes();
        let back = Aggregator::from_state_bytes(&bytes).unwrap();
        assert_eq!(back.to_state_bytes(), bytes);
        assert_eq!(back.event_count(), agg.event_count());
        let config = ScoringConfig::default();
        let want = scores_csv(&agg.score(&config).users).unwrap();
        let got = scores_csv(&back.score(&config).users).unwrap();
        assert_eq!(got, want);
    }

    #[test]
    fn the_ledger_position_round_trips_and_a_version_1_state_has_none() {
        let mut agg = tiny_aggregator();
        let never = agg.to_state_bytes();
        assert_eq!(Aggregator::from_state_bytes(&never).unwrap().ledger_next(), None);
        for next in [0, 1, 4_096, u64::MAX - 2] {
            agg.set_ledger_next(next);
            let back = Aggregator::from_state_bytes(&agg.to_state_bytes()).unwrap();
            assert_eq!(back.ledger_next(), Some(next));
        }
        // A state saved before the position was kept: version 1, without the field.
        let mut r = Reader {
            bytes: &never,
            pos: MAGIC.len() + 1,
        };
        let (offset, events, rejected) = (r.signed().unwrap(), r.unsigned().unwrap(), r.unsigned().unwrap());
        assert_eq!(r.unsigned().unwrap(), 0, "never followed a ledger");
        let mut w = Writer(MAGIC.to_vec());
        w.0.push(VERSION_WITHOUT_LEDGER);
        w.signed(offset);
        w.unsigned(events);
        w.unsigned(rejected);
        w.0.extend_from_slice(never.get(r.pos..).unwrap());
        let old = Aggregator::from_state_bytes(&w.0).unwrap();
        assert_eq!(old.ledger_next(), None);
        assert!(old.predates_ledger_positions());
        assert!(!Aggregator::from_state_bytes(&never)
            .unwrap()
            .predates_ledger_positions());
        // Saved again (`risk ingest` on it) before it reads the ledger: still so.
        let again = Aggregator::from_state_bytes(&old.to_state_bytes()).unwrap();
        assert_eq!((again.ledger_next(), again.predates_ledger_positions()), (None, true));
        assert_eq!(old.event_count(), agg.event_count());
    }

    #[test]
    fn every_truncation_is_an_error_not_a_panic() {
        let bytes = tiny_aggregator().to_state_bytes();
        for len in (0..bytes.len()).step_by(97) {
            let err = Aggregator::from_state_bytes(bytes.get(..len).unwrap()).unwrap_err();
            assert!(matches!(err, RiskError::BadState { .. }), "{err}");
        }
    }

    proptest! {
        #[test]
        fn corrupt_bytes_never_panic(noise in proptest::collection::vec(any::<u8>(), 0..300)) {
            let mut bytes = MAGIC.to_vec();
            bytes.push(VERSION);
            bytes.extend(noise);
            let _ = Aggregator::from_state_bytes(&bytes);
        }

        #[test]
        fn values_round_trip(v in prop_oneof![(0u32..100_000).prop_map(|n| n as f32), any::<f32>()]) {
            let mut w = Writer(Vec::new());
            w.value(v);
            let mut r = Reader { bytes: &w.0, pos: 0 };
            let back = r.value().unwrap();
            prop_assert_eq!(back.to_bits(), v.to_bits());
        }
    }
}
