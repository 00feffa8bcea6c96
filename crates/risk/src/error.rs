//! Typed errors of the risk crate.

/// Everything that can go wrong in the risk crate.
#[derive(Debug, thiserror::Error)]
pub enum RiskError {
    /// A file or stream could not be read or written.
    #[error("i/o failed on {path}: {source}; check the path exists and is readable/writable")]
    Io {
        /// File or stream concerned.
        path: String,
        /// Underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A CSV file could not be read at all (not a single malformed row).
    #[error("csv file {path} could not be read: {reason}; expected the CERT r4.2 layout")]
    Csv {
        /// File concerned.
        path: String,
        /// What went wrong.
        reason: String,
    },
    /// A JSON event line was not a valid event.
    #[error("event on line {line} is not a valid event: {reason}; expected one JSON object with ts_ms, user and type")]
    BadEvent {
        /// Line number (1-based).
        line: u64,
        /// What was wrong.
        reason: String,
    },
    /// A CERT data directory lacks required files.
    #[error("no CERT activity files found in {path}; expected logon.csv, device.csv, file.csv, email.csv or http.csv")]
    NoData {
        /// Directory concerned.
        path: String,
    },
    /// An answers file row was malformed.
    #[error("answers file line {line} is malformed: {reason}; expected user,kind,scenario,start,last_day")]
    BadAnswers {
        /// Line number (1-based).
        line: u64,
        /// What was wrong.
        reason: String,
    },
    /// A saved aggregation state could not be decoded.
    #[error("risk state is corrupt at byte {offset}: {reason}; rebuild it by importing the source data again")]
    BadState {
        /// Byte offset where decoding failed.
        offset: u64,
        /// What was wrong.
        reason: String,
    },
    /// A configuration value is out of range.
    #[error("invalid configuration: {0}")]
    Config(String),
}
