//! The activity event model and its JSON-lines parser (reused by `POST /v1/events`).
//!
//! Events carry identifiers and counts only, never customer plaintext.

use serde::{Deserialize, Serialize};
use std::io::BufRead;

use crate::error::RiskError;

/// One activity event of one person.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// When it happened, Unix milliseconds (UTC).
    pub ts_ms: i64,
    /// The person's stable user id.
    pub user: String,
    /// What happened.
    #[serde(flatten)]
    pub kind: EventKind,
}

/// Direction of a file copy relative to removable media.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CopyDirection {
    /// From the computer onto a removable drive (exfiltration channel).
    ToRemovable,
    /// From a removable drive onto the computer.
    FromRemovable,
}

/// Category of a visited web site.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WebCategory {
    /// Job boards and recruiting sites.
    JobSite,
    /// A competitor's site.
    Competitor,
    /// Cloud storage, file sharing or leak sites.
    CloudStorage,
    /// Personal web mail.
    Webmail,
    /// Anything else.
    Other,
}

/// An HR event from the HR system.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "hr", rename_all = "snake_case")]
pub enum HrEvent {
    /// The person gave notice; `last_day_ms` is the announced last day when known.
    ResignationNotice {
        /// Announced last working day, Unix milliseconds.
        last_day_ms: Option<i64>,
    },
    /// The person's last working day (they leave at its end).
    LastDay,
    /// A new role or department (changes the peer group).
    RoleChange {
        /// New role.
        role: String,
        /// New department.
        department: Option<String>,
    },
    /// A poor performance review (context only, never scored alone).
    PoorPerformanceReview,
}

/// What happened in an [`Event`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EventKind {
    /// Read of a vault record.
    VaultRead {
        /// Customer id read, if any.
        customer: Option<String>,
        /// Whether the customer is one of the person's own accounts.
        #[serde(default = "yes")]
        own_account: bool,
    },
    /// A vault search.
    VaultSearch {
        /// Number of results returned.
        #[serde(default)]
        results: u64,
    },
    /// A bulk export from the vault.
    VaultExport {
        /// Number of records exported.
        records: u64,
        /// Distinct customers in the export.
        #[serde(default)]
        customers: u64,
        /// Whether all exported customers are the person's own accounts.
        #[serde(default = "yes")]
        own_account: bool,
    },
    /// Download of a stored document.
    DocumentDownload {
        /// Customer the document belongs to, if any.
        customer: Option<String>,
        /// Whether the customer is one of the person's own accounts.
        #[serde(default = "yes")]
        own_account: bool,
    },
    /// Result of a DLP scan of something the person sent or stored.
    DlpScan {
        /// Number of policy matches.
        matches: u32,
        /// Whether the DLP engine blocked the transfer.
        #[serde(default)]
        blocked: bool,
    },
    /// Log on to a computer.
    Logon {
        /// Computer id.
        pc: String,
    },
    /// Log off a computer.
    Logoff {
        /// Computer id.
        pc: String,
    },
    /// A removable device was connected.
    DeviceConnect {
        /// Computer id.
        pc: String,
    },
    /// A removable device was disconnected.
    DeviceDisconnect {
        /// Computer id.
        pc: String,
    },
    /// Files copied to or from removable media.
    FileCopy {
        /// Computer id.
        pc: String,
        /// Direction of the copy.
        direction: CopyDirection,
        /// Number of files copied.
        #[serde(default = "one")]
        files: u64,
    },
    /// Files deleted (used for collect → exfiltrate → delete sequences).
    FileDelete {
        /// Computer id.
        pc: String,
        /// Number of files deleted.
        #[serde(default = "one")]
        files: u64,
    },
    /// An email sent by the person.
    Email {
        /// Recipients inside the company.
        #[serde(default)]
        internal: u32,
        /// Recipients outside the company (not personal webmail).
        #[serde(default)]
        external: u32,
        /// Recipients at personal webmail providers.
        #[serde(default)]
        personal: u32,
        /// Number of attachments.
        #[serde(default)]
        attachments: u32,
        /// Total size in bytes.
        #[serde(default)]
        bytes: u64,
    },
    /// A web visit.
    WebVisit {
        /// Site category.
        category: WebCategory,
        /// Whether data was uploaded (posted) to the site.
        #[serde(default)]
        upload: bool,
    },
    /// An HR event.
    Hr(HrEvent),
}

fn yes() -> bool {
    true
}

fn one() -> u64 {
    1
}

/// Parses one JSON event line.
pub fn parse_event(line: &str) -> Result<Event, RiskError> {
    serde_json::from_str(line).map_err(|e| RiskError::BadEvent {
        line: 1,
        reason: e.to_string(),
    })
}

/// Outcome of reading a JSON-lines stream.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct JsonLinesReport {
    /// Events accepted.
    pub accepted: u64,
    /// Rejected lines as (line number, reason), at most 100 kept.
    pub rejected: Vec<(u64, String)>,
    /// Total rejected lines (may exceed `rejected.len()`).
    pub rejected_count: u64,
}

/// Cap on rejected lines kept with their reasons in reports.
const MAX_REPORTED_ERRORS: usize = 100;

/// Streams JSON lines (one event per line, blank lines ignored) into `sink`.
///
/// Bad lines are counted and reported with their line number, then skipped; only an
/// I/O failure stops the stream.
pub fn read_json_lines<R: BufRead>(reader: R, mut sink: impl FnMut(Event)) -> Result<JsonLinesReport, RiskError> {
    let mut report = JsonLinesReport::default();
    for (index, line) in reader.lines().enumerate() {
        let line_no = index as u64 + 1;
        let line = line.map_err(|source| RiskError::Io {
            path: format!("json lines, line {line_no}"),
            source,
        })?;
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Event>(&line) {
            Ok(event) => {
                report.accepted += 1;
                sink(event);
            }
            Err(e) => {
                report.rejected_count += 1;
                if report.rejected.len() < MAX_REPORTED_ERRORS {
                    report.rejected.push((line_no, e.to_string()));
                }
            }
        }
    }
    Ok(report)
}
