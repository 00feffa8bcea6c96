//! `custodia scan`: DLP inspection of files and directories against the
//! vault's own customers and classified documents.

use std::io::Write;
use std::path::PathBuf;

use anyhow::bail;
use clap::Args;
use model::{EmploymentStatus, PersonId};

use crate::install::Context;
use crate::output;

#[derive(Args)]
pub struct ScanArgs {
    /// Files or directories (searched recursively).
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Where the content is going: file, upload, email, usb, print or chat.
    #[arg(long, default_value = "file")]
    channel: String,
    /// Scanning threads (0 = all cores).
    #[arg(long, default_value_t = 0)]
    threads: usize,
}

#[derive(Default)]
struct Summary {
    files: u64,
    allow: u64,
    alert: u64,
    justify: u64,
    block: u64,
    customers: u64,
    uninspectable: u64,
    not_scanned: u64,
}

impl Summary {
    /// The exit status of `custodia scan`, so a script can gate on it: 3 when the policy
    /// stops some file (blocked, or needs a justification), else 2 when some path could
    /// not be scanned or some content could not be inspected (a bomb, an encrypted or
    /// malformed file: the policy may only alert on it), else 0. A finding outranks an
    /// incomplete scan: it is certain. (1 is any command's failure, as for every
    /// `custodia` command.)
    fn exit_code(&self) -> u8 {
        if self.block + self.justify > 0 {
            3
        } else if self.not_scanned + self.uninspectable > 0 {
            2
        } else {
            0
        }
    }
}

/// True when the reader closed the pipe; other write errors are errors.
fn is_broken_pipe(result: std::io::Result<()>) -> anyhow::Result<bool> {
    match result {
        Ok(()) => Ok(false),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(true),
        Err(e) => Err(e.into()),
    }
}

/// Scans and prints; returns the exit status ([`Summary::exit_code`]).
pub fn run(ctx: &Context, args: ScanArgs) -> anyhow::Result<u8> {
    let channel: dlp::Channel = match serde_json::from_value(serde_json::Value::String(args.channel.clone())) {
        Ok(c) => c,
        Err(_) => bail!(
            "--channel {:?}: expected file, upload, email, usb, print or chat",
            args.channel
        ),
    };
    let inst = ctx.open()?;
    let gw = &inst.gateway;
    let (operator, access) = (ctx.operator(), ctx.access());
    // The person moving the content decides how strict the verdict is.
    let (actor, employment) = match &ctx.as_person {
        Some(p) => {
            let person = gw.person(&operator, &access, &PersonId(p.clone()))?;
            let employment = match gw.employment_status(&person) {
                EmploymentStatus::Active => dlp::Employment::Active,
                EmploymentStatus::Departing | EmploymentStatus::Departed => dlp::Employment::Departing,
            };
            (ctx.actor(), employment)
        }
        None => (operator.clone(), dlp::Employment::Active),
    };
    let inspector = gw.dlp_inspector(&operator, &access, dlp::Policy::default())?;
    let results = dlp::scan_paths(
        &args.paths,
        &inspector,
        &dlp::ScanContext { channel, employment },
        args.threads,
    );
    let mut sum = Summary::default();
    let mut out = std::io::stdout().lock();
    // When the reader goes away (`| head`), keep scanning and recording.
    let mut reader_gone = false;
    for file in &results {
        match &file.result {
            Ok(result) => {
                sum.files += 1;
                gw.record_scan(
                    &actor,
                    &access,
                    &args.channel,
                    result,
                    dlp::Enforcement::with_justification(result.verdict),
                    &[],
                )?;
                match result.verdict {
                    dlp::Verdict::Allow => sum.allow += 1,
                    dlp::Verdict::Alert => sum.alert += 1,
                    dlp::Verdict::RequireJustification => sum.justify += 1,
                    dlp::Verdict::Block => sum.block += 1,
                }
                sum.customers += result.customer_records as u64;
                sum.uninspectable += u64::from(result.uninspectable.is_some());
                if !ctx.json && !reader_gone {
                    let findings: Vec<String> = (result.customer_contacts > 0)
                        .then(|| format!("customer contacts×{}", result.customer_contacts))
                        .into_iter()
                        .chain(result.findings.iter().map(|f| format!("{:?}×{}", f.detector, f.count)))
                        .collect();
                    let docs: Vec<&str> = result.fingerprint_hits.iter().map(|h| h.doc_id.as_str()).collect();
                    reader_gone |= is_broken_pipe(writeln!(
                        out,
                        "{:<8} {:>15}  {}{}{}  {}",
                        serde_json::to_value(result.verdict)?.as_str().unwrap_or("?"),
                        output::counted(result.customer_records as u64, "customer ", "customers"),
                        findings.join(" "),
                        if docs.is_empty() {
                            String::new()
                        } else {
                            format!(" documents: {}", docs.join(","))
                        },
                        result
                            .uninspectable
                            .as_ref()
                            .map(|u| format!(" (uninspectable: {u})"))
                            .unwrap_or_default(),
                        file.path.display()
                    ))?;
                }
            }
            Err(e) => {
                sum.not_scanned += 1;
                if !ctx.json && !reader_gone {
                    // The message names the path.
                    let label = match e {
                        dlp::FileError::NotAFile { .. } => "skipped",
                        dlp::FileError::Unreadable { .. } | dlp::FileError::TooLarge { .. } => "error",
                    };
                    reader_gone |= is_broken_pipe(writeln!(out, "{label:<8} {e}"))?;
                }
            }
        }
        if ctx.json && !reader_gone {
            reader_gone |= is_broken_pipe(writeln!(out, "{}", serde_json::to_string(file)?))?;
        }
    }
    eprintln!(
        "scanned {}: {} allowed, {} alert, {} need a justification, {} blocked; {} found; {} uninspectable, {} not scanned (unreadable, too large or not a file)",
        output::counted(sum.files, "file", "files"),
        sum.allow,
        sum.alert,
        sum.justify,
        sum.block,
        output::counted(sum.customers, "customer record", "customer records"),
        sum.uninspectable,
        sum.not_scanned
    );
    Ok(sum.exit_code())
}
