//! Scanning files and directory trees on all cores, for `custodia scan PATH...`.
//!
//! Paths are expanded first (directories recursively, entries sorted by name, symbolic
//! links to directories not followed so a link loop cannot recurse forever), then files
//! are handed to a pool of worker threads, one at a time. Results come back in the
//! order of the expanded list, so output is deterministic whatever the thread count.
//! A file that cannot be read is reported in its [`FileResult`], never fatal.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::policy::ScanContext;
use crate::{Inspector, ScanResult};

/// Why one path was not scanned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FileError {
    /// The file or directory could not be read.
    #[error("could not read {path}: {message}; check that it exists and is readable")]
    Unreadable {
        /// The path as given or found.
        path: String,
        /// The operating system's message.
        message: String,
    },
    /// The file is larger than the inspector's work budget, so it was not loaded.
    #[error(
        "{path} is {size} bytes, more than the work budget of {limit} bytes; raise Limits::max_work_bytes to scan it"
    )]
    TooLarge {
        /// The path.
        path: String,
        /// Its size.
        size: u64,
        /// The budget.
        limit: u64,
    },
    /// The path is not a regular file: a fifo, socket or device, or, inside a tree, a
    /// link to a directory (not followed, so a link loop cannot recurse forever).
    #[error("{path} is {what}, so it was not scanned")]
    NotAFile {
        /// The path as given or found.
        path: String,
        /// What it is instead, e.g. "a fifo".
        what: String,
    },
}

impl FileError {
    /// The path that was not scanned.
    pub fn path(&self) -> &str {
        match self {
            Self::Unreadable { path, .. } | Self::TooLarge { path, .. } | Self::NotAFile { path, .. } => path,
        }
    }
}

/// The outcome for one file. Serialized with its `path` as text, lossily (a byte that is
/// not UTF-8 read as U+FFFD), and then, only for such a path, `path_bytes`: the exact
/// bytes in base64, so a file named in another encoding is still reported and can be
/// found.
#[derive(Debug, Clone, PartialEq)]
pub struct FileResult {
    /// The file.
    pub path: PathBuf,
    /// What the inspector decided, or why the file was not scanned.
    pub result: Result<ScanResult, FileError>,
}

impl Serialize for FileResult {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Shown<'a> {
            path: std::borrow::Cow<'a, str>,
            #[serde(skip_serializing_if = "Option::is_none")]
            path_bytes: Option<String>,
            #[serde(flatten, serialize_with = "serialize_outcome")]
            result: &'a Result<ScanResult, FileError>,
        }
        let path = self.path.to_string_lossy();
        let path_bytes = matches!(path, std::borrow::Cow::Owned(_)).then(|| {
            use base64::Engine as _;
            base64::engine::general_purpose::STANDARD.encode(self.path.as_os_str().as_encoded_bytes())
        });
        Shown {
            path,
            path_bytes,
            result: &self.result,
        }
        .serialize(serializer)
    }
}

fn serialize_outcome<S: serde::Serializer>(
    outcome: &&Result<ScanResult, FileError>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    #[derive(Serialize)]
    struct Failed<'a> {
        error: String,
        error_detail: &'a FileError,
    }
    match outcome {
        Ok(result) => result.serialize(serializer),
        Err(error) => Failed {
            error: error.to_string(),
            error_detail: error,
        }
        .serialize(serializer),
    }
}

/// Expands `paths` (files as given, directories recursively) into a sorted file list.
/// Paths that cannot be listed come back as errors in place.
pub fn expand_paths(paths: &[PathBuf]) -> Vec<Result<PathBuf, FileError>> {
    let roots: Vec<PathBuf> = paths
        .iter()
        .filter_map(|path| std::fs::canonicalize(path).ok())
        .filter(|path| path.is_dir())
        .collect();
    let mut out = Vec::new();
    for path in paths {
        expand_into(path, true, &roots, &mut out);
    }
    out
}

fn unreadable(path: &Path, error: &std::io::Error) -> FileError {
    FileError::Unreadable {
        path: path.display().to_string(),
        message: error.to_string(),
    }
}

fn expand_into(path: &Path, given: bool, roots: &[PathBuf], out: &mut Vec<Result<PathBuf, FileError>>) {
    // A path given by the user is followed even when it is a link; links found inside a
    // tree are followed only to files.
    let metadata = if given {
        std::fs::metadata(path)
    } else {
        std::fs::symlink_metadata(path).and_then(|m| {
            if m.file_type().is_symlink() {
                std::fs::metadata(path)
            } else {
                Ok(m)
            }
        })
    };
    let linked = !given
        && std::fs::symlink_metadata(path)
            .map(|m| m.file_type().is_symlink())
            .unwrap_or(false);
    match metadata {
        Err(error) => out.push(Err(unreadable(path, &error))),
        Ok(m) if m.is_dir() => {
            if linked {
                // A link to a directory the scan reads anyway (a virtualenv's `lib64 ->
                // lib`) loses nothing; one leading elsewhere is named (found in review).
                let within_scan =
                    std::fs::canonicalize(path).is_ok_and(|target| roots.iter().any(|root| target.starts_with(root)));
                if !within_scan {
                    out.push(Err(not_a_file(
                        path,
                        "a link to a directory (not followed; give the directory itself to scan it)",
                    )));
                }
                return;
            }
            let entries = match std::fs::read_dir(path) {
                Ok(entries) => entries,
                Err(error) => {
                    out.push(Err(unreadable(path, &error)));
                    return;
                }
            };
            let mut children = Vec::new();
            for entry in entries {
                match entry {
                    Ok(entry) => children.push(entry.path()),
                    Err(error) => out.push(Err(unreadable(path, &error))),
                }
            }
            children.sort();
            for child in children {
                expand_into(&child, false, roots, out);
            }
        }
        Ok(m) if m.is_file() => out.push(Ok(path.to_path_buf())),
        // Reported rather than passed over in silence: a scan that says nothing of a path
        // reads as a clean one. They are not read: a fifo would wait for a writer forever
        // and a device (`/dev/zero`) never ends.
        Ok(m) => out.push(Err(not_a_file(path, special_file_kind(&m.file_type())))),
    }
}

fn not_a_file(path: &Path, what: &str) -> FileError {
    FileError::NotAFile {
        path: path.display().to_string(),
        what: what.to_string(),
    }
}

/// What a path that is neither a file nor a directory is, in words.
#[cfg_attr(not(unix), allow(unused_variables))]
fn special_file_kind(file_type: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if file_type.is_fifo() {
            return "a fifo";
        }
        if file_type.is_socket() {
            return "a socket";
        }
        if file_type.is_block_device() || file_type.is_char_device() {
            return "a device";
        }
    }
    "not a regular file"
}

/// Scans every file under `paths` with `threads` workers (0 = all cores). Results are in
/// the order of [`expand_paths`]; unreadable paths are reported in place.
///
/// The workers are a rayon pool of their own: a large file's inspection shares its work
/// with `rayon::join` (see `parallel.rs`), which in a pool whose threads are all busy
/// with files runs both parts on the thread that asked, at no cost, and lends them to a
/// thread that has run out of files. From worker threads outside a pool, each join handed
/// both parts to the global pool's threads and waited: `custodia bench scan` lost a fifth
/// of its speed.
pub fn scan_paths(paths: &[PathBuf], inspector: &Inspector, context: &ScanContext, threads: usize) -> Vec<FileResult> {
    use rayon::prelude::*;
    let files = expand_paths(paths);
    let scan = |entry: &Result<PathBuf, FileError>| match entry {
        Ok(path) => FileResult {
            path: path.clone(),
            result: scan_file(path, inspector, context),
        },
        Err(error) => FileResult {
            path: PathBuf::from(error.path()),
            result: Err(error.clone()),
        },
    };
    let workers = effective_threads(threads).min(files.len()).max(1);
    match rayon::ThreadPoolBuilder::new()
        .num_threads(workers)
        .thread_name(|index| format!("dlp-scan-{index}"))
        .build()
    {
        Ok(pool) => pool.install(|| files.par_iter().with_max_len(1).map(scan).collect()),
        // No thread could be started: the files are scanned here, one at a time.
        Err(_) => files.iter().map(scan).collect(),
    }
}

/// Reads and inspects one file.
pub fn scan_file(path: &Path, inspector: &Inspector, context: &ScanContext) -> Result<ScanResult, FileError> {
    let limit = inspector.limits().max_work_bytes;
    let size = std::fs::metadata(path).map_err(|e| unreadable(path, &e))?.len();
    if size > limit {
        return Err(FileError::TooLarge {
            path: path.display().to_string(),
            size,
            limit,
        });
    }
    let bytes = std::fs::read(path).map_err(|e| unreadable(path, &e))?;
    // The name is read as the content is (a file named after a customer's record).
    let name = path.file_name().map(|name| name.to_string_lossy()).unwrap_or_default();
    Ok(inspector.inspect_named(&bytes, &name, context))
}

/// `threads`, or the number of cores when 0.
pub fn effective_threads(threads: usize) -> usize {
    if threads > 0 {
        threads
    } else {
        std::thread::available_parallelism().map_or(1, usize::from)
    }
}
