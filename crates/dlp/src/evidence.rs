//! Customers that the same evidence fits, counted once.
//!
//! Customers can share values: the people of one client company its switchboard
//! and its address, a household its phone. An email signature with that phone and
//! address then holds two fields of every one of them, yet it is one company's
//! contact data, not five customer records. So a match is counted by its evidence:
//! - a customer whose hits are all hits of another matched customer too, and fewer,
//!   is left out: the other explains them better (`Lena Fischer`'s signature fits
//!   her by name, phone and address, her colleagues by phone and address only);
//! - a customer none of whose hits is theirs alone, one of them a hit of a customer
//!   with a hit of their own, is left out too: the values shared are that
//!   customer's company's or household's (`Jonas Weber` signs with his name, his
//!   mobile, the switchboard and the office address: his colleagues' switchboard
//!   and address are his company's, not a record of theirs);
//! - customers whose hits are the very same count as one record, the first by
//!   record id standing for the others ([`CustomerMatch::shared_with`]), when a name
//!   is among the hits (two customers of one name at one address). Without a name,
//!   the values are a company's or a household's contact data (a company's
//!   switchboard and office address, on its public contact page): one contact, and no
//!   customer record (the issue lists public company contact data as a hard
//!   negative, and a blind test found such a listing counted as a customer);
//! - contacts (a phone or email alone) are folded the same way, also into a record.
//!
//! A hit is a field's kind and place in the text, so two customers share a hit only
//! where one value of both was found.

use crate::edm::{CustomerMatch, FieldHit, FieldKind};

/// A value found that more customers than this share is not folded: finding
/// which of them explains the others is quadratic in their number. Such a value
/// is a placeholder a whole import carries, not a company's people.
const MAX_SHARERS: usize = 1024;

/// A hit's place and kind in one number, ordered by start, length and kind, with room
/// in its low 32 bits for whose hit it is (see `fold`): one sort of plain numbers is
/// most of the cost of folding a table of thousands of records.
fn key(hit: &FieldHit) -> u128 {
    // A hit is a value of at most a few hundred bytes, so its length fits 29 bits.
    let length = hit.end.saturating_sub(hit.start).min((1 << 29) - 1);
    ((hit.start as u128) << 64) | ((length as u128) << 35) | (u128::from(hit.kind.bit().trailing_zeros()) << 32)
}

/// Folds `records` (sorted by record id) and `contacts` (each the hits of a customer
/// found by an email or phone alone) as the module says: the records left, with
/// [`CustomerMatch::shared_with`] filled, and the number of contacts left.
pub(crate) fn fold(mut records: Vec<CustomerMatch>, mut contacts: Vec<Vec<FieldHit>>) -> (Vec<CustomerMatch>, usize) {
    for record in &mut records {
        record.hits.sort_unstable_by_key(key);
        record.hits.dedup();
    }
    for hits in &mut contacts {
        hits.sort_unstable_by_key(key);
        hits.dedup();
    }
    let lists: Vec<&[FieldHit]> = records
        .iter()
        .map(|r| r.hits.as_slice())
        .chain(contacts.iter().map(Vec::as_slice))
        .collect();
    let Ok(entities) = u32::try_from(lists.len()) else {
        return (records, contacts.len());
    };
    let mut owners: Vec<u128> = (0..entities)
        .zip(&lists)
        .flat_map(|(owner, hits)| hits.iter().map(move |hit| key(hit) | u128::from(owner)))
        .collect();
    owners.sort_unstable();
    let hit_of = |entry: &u128| entry >> 32;
    let owner_of = |entry: &u128| (entry & u128::from(u32::MAX)) as usize;
    // Only evidence with no hit of its own can be another's: most customers found have
    // one (their name, their email), and are settled by this one pass.
    let mut has_own_hit = vec![false; lists.len()];
    for same_hit in owners.chunk_by(|a, b| hit_of(a) == hit_of(b)) {
        if let [only] = same_hit {
            has_own_hit[owner_of(only)] = true;
        }
    }
    // Hits shared with a record that has a hit of its own (its name, its mobile).
    let named: Vec<u128> = owners
        .chunk_by(|a, b| hit_of(a) == hit_of(b))
        .filter(|same_hit| {
            same_hit.len() > 1
                && same_hit
                    .iter()
                    .map(owner_of)
                    .any(|o| o < records.len() && has_own_hit[o])
        })
        .filter_map(|same_hit| same_hit.first().map(hit_of))
        .collect();
    let mut fate = vec![Fate::Counted; lists.len()];
    for (owner, hits) in lists.iter().enumerate() {
        if has_own_hit[owner] || hits.is_empty() {
            continue;
        }
        if hits.iter().any(|hit| named.binary_search(&(key(hit) >> 32)).is_ok()) {
            fate[owner] = Fate::Explained;
            continue;
        }
        // Whoever holds all of these hits holds the one fewest hold.
        let sharers = hits
            .iter()
            .map(|hit| {
                let start = owners.partition_point(|entry| hit_of(entry) < key(hit) >> 32);
                let end = owners.partition_point(|entry| hit_of(entry) <= key(hit) >> 32);
                owners.get(start..end).unwrap_or_default()
            })
            .min_by_key(|sharers| sharers.len())
            .unwrap_or_default();
        if sharers.len() > MAX_SHARERS {
            continue;
        }
        let is_record = owner < records.len();
        let mut first_alike = None;
        for other in sharers.iter().map(owner_of) {
            // A record is only ever explained by another record.
            if other == owner || (is_record && other >= records.len()) {
                continue;
            }
            let Some(others) = lists.get(other) else {
                continue;
            };
            if !is_subset(hits, others) {
                continue;
            }
            if hits.len() < others.len() {
                fate[owner] = Fate::Explained;
                break;
            }
            if other < owner && first_alike.is_none_or(|first| other < first) {
                first_alike = Some(other);
            }
        }
        if let (Fate::Counted, Some(first)) = (fate[owner], first_alike) {
            fate[owner] = Fate::SameAs(first);
        }
    }
    let record_count = records.len();
    let contacts_left = fate[record_count..]
        .iter()
        .filter(|f| matches!(f, Fate::Counted))
        .count();
    // In record id order, so each list of those sharing is too.
    for (alike, f) in fate[..record_count].iter().enumerate() {
        if let Fate::SameAs(first) = *f {
            let id = records.get(alike).map(|r| r.customer_id.clone());
            if let Some(record) = records.get_mut(first) {
                record.shared_with.extend(id);
            }
        }
    }
    let mut kept: Vec<CustomerMatch> = records
        .into_iter()
        .zip(&fate)
        .filter_map(|(record, f)| matches!(f, Fate::Counted).then_some(record))
        .collect();
    let before = kept.len();
    kept.retain(|record| record.shared_with.is_empty() || record.hits.iter().any(|hit| hit.kind == FieldKind::Name));
    let contacts_left = contacts_left + (before - kept.len());
    (kept, contacts_left)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Fate {
    Counted,
    /// All its hits are another's, which has more, or another's with a hit of its
    /// own holds one of them.
    Explained,
    /// Its hits are exactly those of this earlier one.
    SameAs(usize),
}

/// Whether every hit of `small` is in `large` (both sorted by [`key`], without repeats).
fn is_subset(small: &[FieldHit], large: &[FieldHit]) -> bool {
    let mut large = large.iter().map(key).peekable();
    small.iter().map(key).all(|wanted| {
        while large.next_if(|k| *k < wanted).is_some() {}
        large.next_if_eq(&wanted).is_some()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::edm::RecordId;

    /// Hits that entities draw from: two of one span with other kinds, so a key that
    /// confused kinds or lengths would show.
    const POOL: [(FieldKind, usize, usize); 6] = [
        (FieldKind::Name, 0, 11),
        (FieldKind::Email, 12, 30),
        (FieldKind::Phone, 31, 45),
        (FieldKind::Address, 46, 60),
        (FieldKind::Address, 46, 78),
        (FieldKind::CustomerId, 46, 60),
    ];

    fn hits(picked: &[usize]) -> Vec<FieldHit> {
        picked
            .iter()
            .filter_map(|i| POOL.get(*i))
            .map(|&(kind, start, end)| FieldHit { kind, start, end })
            .collect()
    }

    fn contains_all(large: &[FieldHit], small: &[FieldHit]) -> bool {
        small.iter().all(|hit| large.contains(hit))
    }

    fn same(a: &[FieldHit], b: &[FieldHit]) -> bool {
        contains_all(a, b) && contains_all(b, a)
    }

    /// The rule read literally, every entity against every other.
    fn by_the_rule(records: &[Vec<FieldHit>], contacts: &[Vec<FieldHit>]) -> (Vec<(usize, Vec<usize>)>, usize) {
        let all: Vec<&[FieldHit]> = records.iter().chain(contacts).map(Vec::as_slice).collect();
        let own_hit = |i: usize| {
            all[i]
                .iter()
                .any(|hit| all.iter().enumerate().all(|(j, other)| j == i || !other.contains(hit)))
        };
        // Entities by index: records first, then contacts.
        let explained = |i: usize| {
            let hits = all[i];
            !own_hit(i)
                && ((0..records.len()).any(|r| r != i && own_hit(r) && hits.iter().any(|hit| records[r].contains(hit)))
                    || (0..all.len())
                        .filter(|&j| i >= records.len() || j < records.len())
                        .any(|j| contains_all(all[j], hits) && !same(all[j], hits)))
        };
        let kept: Vec<usize> = (0..records.len())
            .filter(|&r| !explained(r) && !records[..r].iter().any(|earlier| same(earlier, &records[r])))
            .collect();
        let (kept, shared_without_name): (Vec<_>, Vec<_>) = kept
            .into_iter()
            .map(|r| {
                let sharing: Vec<usize> = (r + 1..records.len())
                    .filter(|&later| same(&records[later], &records[r]) && !explained(later))
                    .collect();
                (r, sharing)
            })
            .partition(|(r, sharing)| sharing.is_empty() || records[*r].iter().any(|hit| hit.kind == FieldKind::Name));
        let counted = shared_without_name.len()
            + (0..contacts.len())
                .filter(|&c| {
                    let hits = &contacts[c];
                    !explained(records.len() + c)
                        && !records.iter().any(|record| same(record, hits))
                        && !contacts[..c].iter().any(|earlier| same(earlier, hits))
                })
                .count();
        (kept, counted)
    }

    proptest::proptest! {
        /// Folding gives what reading the rule entity by entity gives.
        #[test]
        fn folding_equals_the_rule_read_entity_by_entity(
            records in proptest::collection::vec(proptest::collection::btree_set(0..POOL.len(), 1..4), 0..7),
            contacts in proptest::collection::vec(proptest::collection::btree_set(0..POOL.len(), 1..3), 0..4),
        ) {
            let as_hits = |sets: &[std::collections::BTreeSet<usize>]| -> Vec<Vec<FieldHit>> {
                sets.iter().map(|set| hits(&set.iter().copied().collect::<Vec<_>>())).collect()
            };
            let (record_hits, contact_hits) = (as_hits(&records), as_hits(&contacts));
            let matches = record_hits
                .iter()
                .enumerate()
                .map(|(i, hits)| CustomerMatch {
                    customer_id: RecordId(format!("c{i}")),
                    fields: Vec::new(),
                    hits: hits.iter().rev().copied().collect(),
                    shared_with: Vec::new(),
                })
                .collect();
            let (kept, contacts_left) = fold(matches, contact_hits.clone());
            let kept: Vec<(usize, Vec<usize>)> = kept
                .iter()
                .map(|record| {
                    let number = |id: &RecordId| id.0.trim_start_matches('c').parse::<usize>().unwrap_or(usize::MAX);
                    (number(&record.customer_id), record.shared_with.iter().map(number).collect())
                })
                .collect();
            proptest::prop_assert_eq!((kept, contacts_left), by_the_rule(&record_hits, &contact_hits));
        }
    }
}
