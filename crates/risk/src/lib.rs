//! Insider-risk behaviour analytics with explained scores.
//!
//! Spots the employee about to walk out with the customer list from ids and counts only
//! (never plaintext), in the spirit of Purview's "data theft by departing users", Code42
//! Incydr's departing-employee watchlist and the CMU CERT r4.2 scenarios.
//!
//! Public API:
//! - Events: [`Event`], [`EventKind`], [`parse_event`], [`read_json_lines`] (JSON lines,
//!   one event per line — the parser `POST /v1/events` reuses).
//! - CERT r4.2: [`read_cert_dir`] streams `logon/device/file/email/http/psychometric.csv`
//!   and `LDAP/` into an [`Aggregator`], reporting malformed rows with file and line.
//! - Scoring: [`Aggregator::score`] with [`ScoringConfig`] gives a [`ScoreReport`]: per
//!   person a 0–100 [`UserScore`] with plain-language reasons, and budgeted [`Alert`]s
//!   (one open per person) formatted for SIEMs by [`Alert::to_syslog`] (RFC 5424) and
//!   [`Alert::to_json_line`]. [`score_cert_dir`] does read + score in one call.
//! - Output and quality: [`write_scores_csv`]/[`scores_csv`] (`user,score,first_alert,reasons`),
//!   [`Answers`], [`evaluate`] → [`Evaluation`] (ROC AUC, AP, recall@k, lead days of the
//!   first alert and of the first day on the daily top-k risk list, benign-departing alert
//!   rate).
//! - State: [`Aggregator::to_state_bytes`] / [`Aggregator::from_state_bytes`] save and
//!   restore an aggregation (compact binary) so it can be scored or extended later; the
//!   CLI and the server keep it in the store's blob [`STATE_BLOB`] (`risk/state`).
//! - In process: [`RiskEngine`], a thread-safe aggregation that the gateway's vault
//!   accesses, `POST /v1/events` and files stream into ([`ActivitySink`]).
//! - SIEM: [`Forwarder`] sends alerts as RFC 5424 syslog (UDP, or TCP with octet
//!   counting) and JSON lines to an HTTP webhook from a background thread, with retries
//!   and backoff through an injected [`Sleeper`]; [`ForwardLog`] forwards each open
//!   alert once (again only when it escalates).
//! - Synthetic data: [`generate`] with [`GeneratorConfig`] writes the r4.2 layout plus
//!   `answers.csv`; [`bench_cert_dir`] measures scoring throughput against bare csv parsing.
//!
//! How a score is made: events become daily per-user feature vectors ([`Feature`]). Each
//! day, each feature is compared with the person's rolling median/MAD over their last 60
//! active days (blended with the peer group — same role, else department — during the first
//! 20 days), giving indicator points for spikes, first use, 30-day cumulative excess and,
//! for ways out of the company, record days recurring within 30 days (several days each
//! beating every older day of the person's history, which a steady habit makes rare);
//! plus job-site/competitor intent, collect → exfiltrate → delete sequences and breadth vs
//! peers. Points decay by 15 % a day. Exfiltration points weigh 1.6× in departure context
//! (from a resignation notice on, and in hindsight over the 90 days before a departure) and
//! 1.3× after job hunting; several dimensions deviating together weigh more. The sum maps to
//! 0–100. Alerts use the online score (no hindsight); the final per-person score uses
//! hindsight, so `first_alert` is honest while the ranking benefits from the departure.

mod alert;
mod bench;
mod cert;
mod engine;
mod error;
mod eval;
mod event;
mod features;
mod forward;
mod generator;
mod score;
mod state;
pub mod time;

pub use alert::{Alert, Severity};
pub use bench::{bench_cert_dir, BenchReport};
pub use cert::{categorize_url, read_cert_dir, CertOptions, CertReport, MalformedRow};
pub use engine::{parse_json_lines, ActivitySink, RiskEngine, FORWARDED_BLOB, STATE_BLOB};
pub use error::RiskError;
pub use eval::{average_precision, evaluate, roc_auc, scores_csv, write_scores_csv, AnswerRow, Answers, Evaluation};
pub use event::{parse_event, read_json_lines, CopyDirection, Event, EventKind, HrEvent, JsonLinesReport, WebCategory};
pub use features::{Aggregator, Feature, Profile, FEATURE_COUNT};
pub use forward::{
    ForwardConfig, ForwardLog, ForwardStats, Forwarder, RetryPolicy, Sleeper, SyslogTarget, SyslogTransport,
    WaitSleeper, WebhookTarget,
};
pub use generator::{generate, GeneratorConfig, GeneratorSummary};
pub use score::{ScoreReport, ScoringConfig, UserScore};

use std::path::Path;

impl Aggregator {
    /// Scores everything aggregated so far, day by day, raising budgeted alerts.
    pub fn score(self, config: &ScoringConfig) -> ScoreReport {
        score::score(self.finish(), config)
    }
}

/// Reads a CERT r4.2 directory and scores it.
pub fn score_cert_dir(
    dir: &Path,
    options: &CertOptions,
    config: &ScoringConfig,
) -> Result<(CertReport, ScoreReport), RiskError> {
    let mut agg = Aggregator::new(0);
    let report = read_cert_dir(dir, options, &mut agg)?;
    Ok((report, agg.score(config)))
}
