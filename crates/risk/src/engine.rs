//! The in-process risk engine: one shared aggregation that events stream into from the
//! gateway (vault access), `POST /v1/events` and files, and that is scored on demand.
//!
//! Storage is the caller's business: the engine hands out and takes its state as bytes
//! ([`RiskEngine::state_bytes`], [`RiskEngine::from_state_bytes`]), which the CLI and the
//! server keep in the store under [`STATE_BLOB`].

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};

use crate::error::RiskError;
use crate::event::{Event, JsonLinesReport};
use crate::features::Aggregator;
use crate::score::{ScoreReport, ScoringConfig};

/// The store blob key holding the engine's aggregated activity.
pub const STATE_BLOB: &str = "risk/state";
/// The store blob key holding which alerts were already forwarded to a SIEM.
pub const FORWARDED_BLOB: &str = "risk/forwarded";

/// Anything that accepts activity events (the engine; a test's collector).
pub trait ActivitySink: Send + Sync {
    /// Takes one event. Never blocks for long and never fails: a sink that cannot keep
    /// an event counts it as rejected.
    fn record_activity(&self, event: Event);
}

/// A thread-safe aggregation of activity events.
#[derive(Debug, Default)]
pub struct RiskEngine {
    agg: Mutex<Aggregator>,
    dirty: AtomicBool,
}

/// Cap on rejected lines kept with their reasons in reports.
const MAX_REPORTED_ERRORS: usize = 100;

impl RiskEngine {
    /// An empty engine; `utc_offset_minutes` is the company's offset, so "after hours"
    /// means local hours.
    pub fn new(utc_offset_minutes: i32) -> Self {
        Self::from_aggregator(Aggregator::new(utc_offset_minutes))
    }

    /// An engine over an existing aggregation.
    pub fn from_aggregator(agg: Aggregator) -> Self {
        Self {
            agg: Mutex::new(agg),
            dirty: AtomicBool::new(false),
        }
    }

    /// Restores an engine saved with [`RiskEngine::state_bytes`].
    pub fn from_state_bytes(bytes: &[u8]) -> Result<Self, RiskError> {
        Aggregator::from_state_bytes(bytes).map(Self::from_aggregator)
    }

    fn lock(&self) -> MutexGuard<'_, Aggregator> {
        // A panic while holding the lock cannot leave the aggregation half-updated in a
        // way that matters (counts only), so a poisoned lock is used as is.
        self.agg.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Adds one event.
    pub fn add_event(&self, event: &Event) {
        self.lock().add_event(event);
        self.dirty.store(true, Ordering::Release);
    }

    /// Adds JSON lines (one event per line, blank lines ignored) from a byte buffer:
    /// [`parse_json_lines`], then [`RiskEngine::add_events`].
    pub fn ingest_json_lines(&self, body: &[u8]) -> JsonLinesReport {
        let (events, report) = parse_json_lines(body);
        self.add_events(&events);
        report
    }

    /// Adds events already read (e.g. by [`parse_json_lines`], once the feed is on
    /// record), under one lock.
    pub fn add_events(&self, events: &[Event]) {
        if events.is_empty() {
            return;
        }
        let mut agg = self.lock();
        for event in events {
            agg.add_event(event);
        }
        self.dirty.store(true, Ordering::Release);
    }

    /// Adds the events read from the audit ledger's entries before `next`, and records
    /// that those entries are read, under one lock: a state saved at any moment has
    /// either both or neither.
    ///
    /// Only events make the state "changed since saved": entries without any are read
    /// again after a restart rather than the whole state rewritten for them.
    pub fn add_ledger_events(&self, events: &[Event], next: u64) {
        let mut agg = self.lock();
        for event in events {
            agg.add_event(event);
        }
        agg.set_ledger_next(next);
        if !events.is_empty() {
            self.dirty.store(true, Ordering::Release);
        }
    }

    /// Moves where reading the audit ledger resumes (its start for a state that never
    /// read it, its end for one that counted its entries otherwise).
    pub fn set_ledger_next(&self, next: u64) {
        self.lock().set_ledger_next(next);
        self.dirty.store(true, Ordering::Release);
    }

    /// Where reading the audit ledger resumes ([`Aggregator::ledger_next`]).
    pub fn ledger_next(&self) -> Option<u64> {
        self.lock().ledger_next()
    }

    /// Whether the state was saved before states kept a ledger position
    /// ([`Aggregator::predates_ledger_positions`]).
    pub fn predates_ledger_positions(&self) -> bool {
        self.lock().predates_ledger_positions()
    }

    /// Events aggregated so far.
    pub fn event_count(&self) -> u64 {
        self.lock().event_count()
    }

    /// People seen so far.
    pub fn user_count(&self) -> usize {
        self.lock().user_count()
    }

    /// The aggregation as bytes (see [`Aggregator::to_state_bytes`]); clears the
    /// "changed since saved" flag, so call it when saving.
    pub fn state_bytes(&self) -> Vec<u8> {
        let agg = self.lock();
        self.dirty.store(false, Ordering::Release);
        agg.to_state_bytes()
    }

    /// Whether events arrived since the last [`RiskEngine::state_bytes`].
    pub fn is_dirty(&self) -> bool {
        self.dirty.load(Ordering::Acquire)
    }

    /// Scores a snapshot of everything aggregated so far; events keep arriving meanwhile.
    pub fn score(&self, config: &ScoringConfig) -> Result<ScoreReport, RiskError> {
        let bytes = self.lock().to_state_bytes();
        Ok(Aggregator::from_state_bytes(&bytes)?.score(config))
    }

    /// Takes the aggregation out (the engine is left empty).
    pub fn into_aggregator(self) -> Aggregator {
        self.agg.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl ActivitySink for RiskEngine {
    fn record_activity(&self, event: Event) {
        self.add_event(&event);
    }
}

/// Reads JSON lines (one event per line, blank lines ignored) from a byte buffer
/// without adding them to any engine: the events, and the report of the lines refused.
///
/// Each line is parsed on its own, so one bad line (invalid JSON, an unknown event
/// type, invalid UTF-8) is counted and reported with its 1-based line number while
/// the valid ones are kept.
pub fn parse_json_lines(body: &[u8]) -> (Vec<Event>, JsonLinesReport) {
    let mut report = JsonLinesReport::default();
    let mut parsed = Vec::new();
    for (index, line) in body.split(|b| *b == b'\n').enumerate() {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match serde_json::from_slice::<Event>(line) {
            Ok(event) => parsed.push(event),
            Err(e) => {
                report.rejected_count += 1;
                if report.rejected.len() < MAX_REPORTED_ERRORS {
                    report.rejected.push((index as u64 + 1, e.to_string()));
                }
            }
        }
    }
    report.accepted = parsed.len() as u64;
    (parsed, report)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn bad_lines_are_reported_with_numbers_and_good_ones_kept() {
        let engine = RiskEngine::new(0);
        let body = b"{\"ts_ms\":1262430000000,\"user\":\"ann\",\"type\":\"logon\",\"pc\":\"PC-1\"}\r\n\
            {\"ts_ms\":1,\"user\":\"bob\",\"type\":\"teleport\"}\n\
            \n\
            \xff\xfe not utf-8\n\
            {\"ts_ms\":1262431000000,\"user\":\"ann\",\"type\":\"vault_export\",\"records\":500}";
        let report = engine.ingest_json_lines(body);
        assert_eq!(report.accepted, 2);
        assert_eq!(report.rejected_count, 2);
        let lines: Vec<u64> = report.rejected.iter().map(|(l, _)| *l).collect();
        assert_eq!(lines, vec![2, 4]);
        assert!(report.rejected[0].1.contains("teleport"), "{:?}", report.rejected);
        assert_eq!(engine.event_count(), 2);
        assert!(engine.is_dirty());
        let bytes = engine.state_bytes();
        assert!(!engine.is_dirty());
        let back = RiskEngine::from_state_bytes(&bytes).unwrap();
        assert_eq!(back.event_count(), 2);
        assert_eq!(back.score(&ScoringConfig::default()).unwrap().users.len(), 1);
    }

    #[test]
    fn rejected_reasons_are_capped_but_counted() {
        let engine = RiskEngine::new(0);
        let body = "nope\n".repeat(150);
        let report = engine.ingest_json_lines(body.as_bytes());
        assert_eq!(report.rejected_count, 150);
        assert_eq!(report.rejected.len(), MAX_REPORTED_ERRORS);
        assert!(!engine.is_dirty());
    }
}
