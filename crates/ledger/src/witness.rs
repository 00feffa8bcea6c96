//! Publishing checkpoints outside the ledger's own store, so that a rewritten
//! store can be caught by comparing with what was published (`verify`'s `against`).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use thiserror::Error;

/// A witness target failed.
#[derive(Debug, Error)]
pub enum WitnessError {
    /// File I/O failed.
    #[error("witness file {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The error.
        source: std::io::Error,
    },
    /// The witness file holds something that is not a list of signed notes.
    #[error(
        "witness file {path} is malformed at line {line}: expected signed checkpoint notes separated by blank lines"
    )]
    Malformed {
        /// The file.
        path: String,
        /// 1-based line number.
        line: usize,
    },
    /// Another target failed (for implementations outside this crate).
    #[error("witness {target} failed: {message}")]
    Other {
        /// Which target.
        target: String,
        /// What happened.
        message: String,
    },
}

/// A place that receives every new signed checkpoint (file, URL, syslog...).
pub trait Witness: Send + Sync + 'static {
    /// Publishes one signed checkpoint note.
    fn publish(&self, checkpoint_note: &str) -> Result<(), WitnessError>;
    /// A short description for error reports (path, URL).
    fn describe(&self) -> String;
}

/// Appends each checkpoint note, followed by a blank line, to a file and syncs it.
#[derive(Debug)]
pub struct FileWitness {
    path: PathBuf,
    lock: Mutex<()>,
}

impl FileWitness {
    /// A witness writing to `path` (created on first publish).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        FileWitness {
            path: path.into(),
            lock: Mutex::new(()),
        }
    }
}

impl Witness for FileWitness {
    fn publish(&self, checkpoint_note: &str) -> Result<(), WitnessError> {
        let _guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        let io = |source| WitnessError::Io {
            path: self.path.display().to_string(),
            source,
        };
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .map_err(io)?;
        file.write_all(format!("{checkpoint_note}\n").as_bytes()).map_err(io)?;
        file.sync_data().map_err(io)
    }

    fn describe(&self) -> String {
        format!("file {}", self.path.display())
    }
}

/// Reads the checkpoint notes written by a [`FileWitness`], oldest first.
pub fn read_witness_file(path: &Path) -> Result<Vec<String>, WitnessError> {
    let text = std::fs::read_to_string(path).map_err(|source| WitnessError::Io {
        path: path.display().to_string(),
        source,
    })?;
    let malformed = |line| WitnessError::Malformed {
        path: path.display().to_string(),
        line,
    };
    let mut notes = Vec::new();
    let mut current = String::new();
    let mut in_signatures = false;
    for (n, line) in text.split_inclusive('\n').enumerate() {
        if !line.ends_with('\n') {
            return Err(malformed(n + 1));
        }
        let blank = line == "\n";
        match (blank, in_signatures) {
            (true, false) if current.is_empty() => return Err(malformed(n + 1)),
            (true, false) => in_signatures = true,
            (true, true) => {
                notes.push(std::mem::take(&mut current));
                in_signatures = false;
                continue;
            }
            (false, _) => {}
        }
        current.push_str(line);
    }
    if !current.is_empty() {
        return Err(malformed(text.lines().count()));
    }
    Ok(notes)
}
