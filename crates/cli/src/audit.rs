//! `custodia audit` and `custodia evidence`: search, verify and export the
//! tamper-evident ledger; verify evidence bundles offline.

use std::path::PathBuf;

use anyhow::{bail, Context as _};
use clap::Subcommand;
use gateway::{decision_name, AuditQuery};
use ledger::{Entry, ResourceId, VerifyingKey};
use model::UnixMillis;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, OffsetDateTime};

use crate::install::Context;
use crate::output;

#[derive(Subcommand)]
pub enum AuditCmd {
    /// Recompute the whole ledger and check every signed checkpoint; names
    /// the first bad entry.
    Verify {
        /// Also check against checkpoints published to this witness file.
        #[arg(long)]
        against: Option<PathBuf>,
    },
    /// Find ledger entries.
    Search {
        #[command(flatten)]
        filter: Filter,
        #[arg(long, default_value_t = 100)]
        limit: usize,
    },
    /// Write an evidence bundle (entries, inclusion proofs, checkpoint,
    /// public key, summary) that anyone can verify offline.
    Export {
        #[command(flatten)]
        filter: Filter,
        /// The bundle's title, e.g. a case name.
        #[arg(long, default_value = "custodia evidence")]
        title: String,
        out: PathBuf,
    },
}

#[derive(clap::Args)]
pub struct Filter {
    /// A person, as the actor or as the subject of an action.
    #[arg(long)]
    person: Option<String>,
    #[arg(long)]
    customer: Option<String>,
    #[arg(long)]
    document: Option<String>,
    /// An action such as customer.read or document.download.
    #[arg(long)]
    action: Option<String>,
    /// allow, deny, error or admin.
    #[arg(long)]
    decision: Option<String>,
    /// From this date or time (YYYY-MM-DD or RFC 3339), inclusive.
    #[arg(long)]
    from: Option<String>,
    /// Until this date or time, exclusive (a date means its start).
    #[arg(long)]
    to: Option<String>,
    /// Only entries with an index below this: a search shows the newest
    /// first, and the last index it shows pages further back.
    #[arg(long)]
    before: Option<u64>,
}

#[derive(Subcommand)]
pub enum EvidenceCmd {
    /// Verify an evidence bundle. Needs no data directory and no secret.
    Verify {
        bundle: PathBuf,
        /// The installation's public key (a ledger.pub file or its text):
        /// when given, the bundle must be signed by it.
        #[arg(long)]
        key: Option<String>,
    },
}

/// Parses `YYYY-MM-DD` (midnight UTC) or an RFC 3339 time.
pub fn parse_time(s: &str) -> anyhow::Result<UnixMillis> {
    if let Ok(t) = OffsetDateTime::parse(s, &Rfc3339) {
        return Ok((t.unix_timestamp_nanos() / 1_000_000) as i64);
    }
    let date = Date::parse(s, format_description!("[year]-[month]-[day]"))
        .map_err(|_| anyhow::anyhow!("{s:?} is not a date (YYYY-MM-DD) or an RFC 3339 time"))?;
    Ok(date.midnight().assume_utc().unix_timestamp() * 1000)
}

pub fn format_time(ms: UnixMillis) -> String {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_else(|| ms.to_string())
}

impl Filter {
    fn query(&self) -> anyhow::Result<AuditQuery> {
        if let Some(d) = &self.decision {
            if !["allow", "deny", "error", "admin"].contains(&d.as_str()) {
                bail!("--decision {d:?}: expected allow, deny, error or admin");
            }
        }
        Ok(AuditQuery {
            person: self.person.clone(),
            customer: self.customer.clone(),
            document: self.document.clone(),
            action: self.action.clone(),
            decision: self.decision.clone(),
            from: self.from.as_deref().map(parse_time).transpose()?,
            to: self.to.as_deref().map(parse_time).transpose()?,
            before: self.before,
        })
    }
}

fn resource_text(r: &ResourceId) -> String {
    match r {
        ResourceId::Customer(id) => format!("customer:{id}"),
        ResourceId::Document(id) => format!("document:{id}"),
        ResourceId::Person(id) => format!("person:{id}"),
        ResourceId::Policy(id) => format!("policy:{id}"),
        ResourceId::Other(id) => id.clone(),
    }
}

fn entry_json(e: &Entry) -> serde_json::Value {
    serde_json::json!({
        "index": e.index,
        "time": format_time(e.time),
        "actor": e.actor,
        "action": e.action,
        "decision": decision_name(e.decision),
        "resources": e.resources.iter().map(resource_text).collect::<Vec<_>>(),
        "policies": e.policies,
        "record_count": e.record_count,
        "withheld_count": e.withheld_count,
        "fields": e.fields,
        "client": {"address": e.client.address, "user_agent": e.client.user_agent, "device": e.client.device},
        "justification": e.justification,
    })
}

fn print_entries(entries: &[Entry]) -> anyhow::Result<()> {
    let rows: Vec<Vec<String>> = entries
        .iter()
        .map(|e| {
            let mut res: Vec<String> = e.resources.iter().take(3).map(resource_text).collect();
            if e.resources.len() > 3 {
                res.push(format!("+{} more", e.resources.len() - 3));
            }
            vec![
                e.index.to_string(),
                format_time(e.time),
                e.actor.clone(),
                e.action.clone(),
                decision_name(e.decision).to_owned(),
                e.record_count.to_string(),
                res.join(" "),
                e.policies.join(","),
            ]
        })
        .collect();
    output::table(
        &[
            "#",
            "TIME",
            "ACTOR",
            "ACTION",
            "DECISION",
            "RECORDS",
            "RESOURCES",
            "WHY",
        ],
        &rows,
    )
}

pub fn run(ctx: &Context, cmd: AuditCmd) -> anyhow::Result<()> {
    if let AuditCmd::Verify { against } = &cmd {
        return verify(ctx, against.as_ref());
    }
    let inst = ctx.open()?;
    let (actor, access) = (ctx.actor(), ctx.access());
    match cmd {
        AuditCmd::Verify { .. } => {}
        AuditCmd::Search { filter, limit } => {
            let entries = inst.gateway.audit_search(&actor, &access, &filter.query()?, limit)?;
            if ctx.json {
                output::json(&entries.iter().map(entry_json).collect::<Vec<_>>())?;
            } else {
                print_entries(&entries)?;
            }
        }
        AuditCmd::Export { filter, title, out } => {
            // The newest entries must be under a signed checkpoint to be proven.
            inst.ledger.checkpoint_now()?;
            let key = ctx.signing_key()?;
            let (bytes, n) = inst
                .gateway
                .audit_export(&actor, &access, &key, &filter.query()?, &title)?;
            std::fs::write(&out, &bytes).with_context(|| format!("cannot write {}", out.display()))?;
            if ctx.json {
                output::json(&serde_json::json!({"bundle": out, "entries": n, "bytes": bytes.len()}))?;
            } else {
                outln!(
                    "Wrote {} with {n} entries and their proofs ({} bytes).",
                    out.display(),
                    bytes.len()
                );
                outln!(
                    "Anyone can check it offline: custodia evidence verify {}",
                    out.display()
                );
            }
        }
    }
    Ok(())
}

/// `audit verify`: through the gateway (and itself recorded) when the
/// installation opens; when the ledger is too damaged to open for
/// recording, the stored ledger is still verified directly (it holds no
/// personal data) so that the findings can be read.
fn verify(ctx: &Context, against: Option<&PathBuf>) -> anyhow::Result<()> {
    let published = match against {
        Some(path) => {
            let published = ledger::read_witness_file(path)?;
            // Asked to compare with what was published, finding nothing to compare
            // with is no pass (found in review): a wrong or emptied file.
            if published.is_empty() {
                bail!("{} holds no published checkpoint to verify against", path.display());
            }
            Some(published)
        }
        None => None,
    };
    let key = ctx.verifying_key()?;
    let report = match ctx.open() {
        Ok(inst) => {
            // Sign what this process appended so far, then check everything.
            inst.ledger.checkpoint_now()?;
            inst.gateway
                .audit_verify(&ctx.actor(), &ctx.access(), &key, published.as_deref())?
        }
        Err(e) => {
            eprintln!("warning: the installation cannot record while its ledger is damaged ({e}); verifying the stored ledger directly");
            let store = ctx.open_store()?;
            ledger::verify(&*store, &key, published.as_deref())
        }
    };
    if ctx.json {
        output::json(&serde_json::json!({
            "ok": report.is_ok(),
            "entries_checked": report.entries_checked,
            "checkpoints_checked": report.checkpoints_checked,
            "published_checked": report.published_checked,
            "first_bad_entry": report.first_bad_entry(),
            "findings": report.findings.iter().map(|f| f.to_string()).collect::<Vec<_>>(),
        }))?;
    } else if report.is_ok() {
        outln!(
            "ledger OK: {} entries, {} signed checkpoints{}",
            report.entries_checked,
            report.checkpoints_checked,
            if report.published_checked > 0 {
                format!(", {} published checkpoints agree", report.published_checked)
            } else {
                String::new()
            }
        );
    } else {
        outln!(
            "LEDGER TAMPERED: {} finding(s)",
            report.findings.len() as u64 + report.findings_omitted
        );
        if let Some(first) = report.first_bad_entry() {
            outln!("first bad entry: {first}");
        }
        for f in report.findings.iter().take(20) {
            outln!("  {f}");
        }
    }
    if !report.is_ok() {
        bail!("the audit ledger failed verification");
    }
    Ok(())
}

pub fn evidence(ctx: &Context, cmd: EvidenceCmd) -> anyhow::Result<()> {
    match cmd {
        EvidenceCmd::Verify { bundle, key } => {
            let bytes = std::fs::read(&bundle).with_context(|| format!("cannot read {}", bundle.display()))?;
            let expected = match key {
                Some(k) => {
                    let text = if std::path::Path::new(&k).exists() {
                        std::fs::read_to_string(&k)?
                    } else {
                        k
                    };
                    Some(VerifyingKey::from_vkey(text.trim())?)
                }
                None => None,
            };
            let report = ledger::verify_bundle(&bytes, expected.as_ref())
                .with_context(|| format!("{} is not valid evidence", bundle.display()))?;
            if ctx.json {
                output::json(&serde_json::json!({
                    "ok": true,
                    // Without --key the bundle is checked against the key it carries,
                    // which anyone can make: a script must see that (found in review).
                    "key_checked": expected.is_some(),
                    "key": report.key.to_string(),
                    "checkpoint_size": report.checkpoint.size,
                    "checkpoint_time": format_time(report.checkpoint.time),
                    "entries": report.entries.iter().map(entry_json).collect::<Vec<_>>(),
                }))?;
            } else {
                outln!(
                    "evidence OK: {} entries, each proven included in the ledger of {}",
                    report.entries.len(),
                    report.key.name()
                );
                outln!(
                    "  signed checkpoint: {} entries at {}",
                    report.checkpoint.size,
                    format_time(report.checkpoint.time)
                );
                outln!("  public key: {}", report.key);
                if expected.is_none() {
                    outln!("  (pass --key with the installation's ledger.pub to check who signed it)");
                }
            }
        }
    }
    Ok(())
}
