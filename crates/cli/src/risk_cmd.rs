//! `custodia risk`: insider-risk analytics over CERT r4.2 data and activity events.
//!
//! Aggregated activity is kept in the store, as the blob [`risk::STATE_BLOB`] (the risk
//! crate's compact binary state, written in one transaction). Data directories of
//! earlier versions kept it in `risk-state.bin`: that file is imported into the store
//! the first time it is found, then deleted.

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{bail, Context as _};
use clap::{Args, Subcommand, ValueEnum};
use risk::{Aggregator, Answers, CertOptions, GeneratorConfig, ScoringConfig, UserScore};
use store::Store;

use crate::install::Context;
use crate::output;

/// The file earlier versions kept the aggregated activity in (imported once, then deleted).
const LEGACY_STATE_FILE: &str = "risk-state.bin";
/// Malformed rows or lines printed in full; the rest are counted.
const SHOWN_ERRORS: usize = 20;
/// Rows the table shows when `--top` is not given.
const DEFAULT_TABLE_ROWS: usize = 25;

#[derive(Subcommand)]
pub enum RiskCmd {
    /// Read a CERT r4.2 directory (logon/device/file/email/http.csv, LDAP/), report
    /// what it held and save the aggregated activity for `risk scores`.
    ImportCert {
        /// The CERT data directory.
        dir: PathBuf,
        /// Host name (or part of one) of a competitor's site; repeatable.
        #[arg(long = "competitor", value_name = "HOST")]
        competitors: Vec<String>,
        /// Add to the saved activity instead of replacing it.
        #[arg(long)]
        append: bool,
    },
    /// Score everyone in the saved activity, highest risk first.
    Scores {
        /// csv: `user,score,first_alert,reasons`; table: ranked, for people; json.
        #[arg(long, value_enum, default_value_t = ScoresFormat::Table)]
        format: ScoresFormat,
        /// Only the N highest scores (the table shows 25 unless told).
        #[arg(long, value_name = "N")]
        top: Option<usize>,
    },
    /// Compare the scores with a ground-truth answers file.
    ///
    /// The answers file is CSV with header `user,kind,scenario,start,last_day`: kind
    /// `insider` marks malicious insiders, `benign_departure` people who left taking
    /// nothing (any other kind is a benign hard negative); dates are YYYY-MM-DD, empty
    /// when unknown. `risk generate` writes one as answers.csv.
    Evaluate {
        /// The answers file.
        #[arg(long)]
        answers: PathBuf,
    },
    /// Write a synthetic CERT r4.2-format data set with labelled insiders and answers.csv.
    Generate {
        /// Directory to write into (created if missing).
        dir: PathBuf,
        /// tiny: 60 people × 150 days; small: 300 × 200; r42: 1,000 × 500 (≈ 33M rows).
        #[arg(long, value_enum, default_value_t = Scale::Tiny)]
        scale: Scale,
        /// Random seed: the same seed writes the same files.
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// Add activity events (JSON lines, one event per line, as `POST /v1/events`
    /// accepts) to the saved activity; `-` reads standard input.
    Ingest {
        /// The JSON-lines file.
        file: PathBuf,
    },
    /// Send the alerts not yet forwarded to a SIEM: syslog (RFC 5424) and/or JSON lines
    /// to an HTTP webhook. Each open alert is sent once (again only if it escalates).
    Forward(ForwardArgs),
}

/// Where `custodia risk forward` sends alerts.
#[derive(Args)]
pub struct ForwardArgs {
    /// Syslog collector: udp://HOST:PORT or tcp://HOST:PORT (RFC 6587 octet counting).
    #[arg(long, value_name = "URL", env = "CUSTODIA_RISK_SYSLOG")]
    pub syslog: Option<String>,
    /// Webhook receiving JSON lines by POST: http://HOST:PORT/PATH.
    #[arg(long, value_name = "URL", env = "CUSTODIA_RISK_WEBHOOK")]
    pub webhook: Option<String>,
    /// HOSTNAME field of syslog messages (default: this machine's name).
    #[arg(long)]
    pub hostname: Option<String>,
    /// Attempts per message before giving up (with exponential backoff from 0.5 s).
    #[arg(long, default_value_t = 5)]
    pub attempts: u32,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ScoresFormat {
    Csv,
    Table,
    Json,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Scale {
    Tiny,
    Small,
    R42,
}

impl Scale {
    fn config(self, seed: u64) -> GeneratorConfig {
        match self {
            Scale::Tiny => GeneratorConfig::tiny(seed),
            Scale::Small => GeneratorConfig {
                users: 300,
                days: 200,
                http_per_day: 40,
                insiders_per_scenario: 4,
                hard_negatives_per_kind: 5,
                benign_departures: 20,
                ..GeneratorConfig::r42(seed)
            },
            Scale::R42 => GeneratorConfig::r42(seed),
        }
    }
}

/// Arguments of the risk benchmark.
#[derive(Args)]
pub struct BenchArgs {
    /// `tiny`, `small` or `r42` to generate a data set first (removed afterwards), or a
    /// CERT directory to read.
    #[arg(long, default_value = "r42", value_name = "r42|small|tiny|DIR")]
    pub scale: String,
    /// Seed of a generated data set.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

pub fn run(ctx: &Context, cmd: RiskCmd) -> anyhow::Result<()> {
    match cmd {
        RiskCmd::ImportCert {
            dir,
            competitors,
            append,
        } => import_cert(ctx, &dir, competitors, append),
        RiskCmd::Scores { format, top } => scores(ctx, format, top),
        RiskCmd::Evaluate { answers } => evaluate(ctx, &answers),
        RiskCmd::Generate { dir, scale, seed } => generate(&dir, scale, seed),
        RiskCmd::Ingest { file } => ingest(ctx, &file),
        RiskCmd::Forward(args) => forward(ctx, &args),
    }
}

/// The installation's store, SQLite or PostgreSQL (risk commands need no key: the state
/// holds ids and counts).
pub fn open_store(ctx: &Context) -> anyhow::Result<Arc<dyn Store>> {
    if ctx.database.is_none() && !ctx.data_dir.join(store::DB_FILE).exists() {
        bail!(
            "no custodia installation in {}; run `custodia init` first (risk data is kept in its store)",
            ctx.data_dir.display()
        );
    }
    let store: Arc<dyn Store> = ctx.open_store().context("opening the store for risk data")?;
    Ok(store)
}

/// The saved state's bytes, importing a `risk-state.bin` of an earlier version once.
fn state_bytes(ctx: &Context, store: &dyn Store) -> anyhow::Result<Option<Vec<u8>>> {
    if let Some(bytes) = store.get_blob(risk::STATE_BLOB)? {
        return Ok(Some(bytes));
    }
    let legacy = ctx.data_dir.join(LEGACY_STATE_FILE);
    let bytes = match std::fs::read(&legacy) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("reading {}", legacy.display())),
    };
    Aggregator::from_state_bytes(&bytes).with_context(|| format!("reading {}", legacy.display()))?;
    store.put_blob(risk::STATE_BLOB, &bytes)?;
    std::fs::remove_file(&legacy).with_context(|| format!("removing {} after importing it", legacy.display()))?;
    eprintln!("note: moved {} into the store", legacy.display());
    Ok(Some(bytes))
}

/// Loads the saved state, or an empty one (CERT-style local times: offset 0) if none.
fn load_state_or_empty(ctx: &Context, store: &dyn Store) -> anyhow::Result<Aggregator> {
    match state_bytes(ctx, store)? {
        Some(bytes) => Aggregator::from_state_bytes(&bytes).context("reading the saved risk state"),
        None => Ok(Aggregator::new(0)),
    }
}

/// Saves the state in the store (one transaction: the old or the new state, never half).
pub fn save_state(store: &dyn Store, agg: &Aggregator) -> anyhow::Result<u64> {
    let bytes = agg.to_state_bytes();
    store
        .put_blob(risk::STATE_BLOB, &bytes)
        .context("saving the risk state in the store")?;
    Ok(bytes.len() as u64)
}

fn import_cert(ctx: &Context, dir: &Path, competitors: Vec<String>, append: bool) -> anyhow::Result<()> {
    let store = open_store(ctx)?;
    let mut agg = if append {
        load_state_or_empty(ctx, store.as_ref())?
    } else {
        Aggregator::new(0)
    };
    let options = CertOptions {
        competitor_hosts: competitors,
        ..CertOptions::default()
    };
    let started = Instant::now();
    let report =
        risk::read_cert_dir(dir, &options, &mut agg).with_context(|| format!("importing {}", dir.display()))?;
    let seconds = started.elapsed().as_secs_f64();
    outln!("Imported {} in {seconds:.1} s", dir.display());
    for (file, rows) in &report.rows {
        outln!("  {file:<12} {rows:>12} rows");
    }
    outln!("  events         {:>10}", report.events);
    outln!("  malformed rows {:>10}", report.malformed_count);
    for m in report.malformed.iter().take(SHOWN_ERRORS) {
        outln!("    {} line {}: {}", m.file, m.line, m.reason);
    }
    if report.malformed_count > SHOWN_ERRORS as u64 {
        outln!("    … and {} more", report.malformed_count - SHOWN_ERRORS as u64);
    }
    outln!("  duplicates     {:>10}", report.duplicates);
    outln!("  out of order   {:>10}", report.out_of_order);
    outln!("  unknown users  {:>10}", report.unknown_users);
    let months = match (report.ldap_months.first(), report.ldap_months.last()) {
        (Some(first), Some(last)) => format!(" ({first} to {last})"),
        _ => String::new(),
    };
    outln!("  LDAP months    {:>10}{months}", report.ldap_months.len());
    if !report.missing_ldap_months.is_empty() {
        outln!("  missing LDAP months: {}", report.missing_ldap_months.join(", "));
    }
    outln!("  departed users {:>10}", report.departed_users);
    outln!(
        "  psychometric   {:>10} rows (not used for scoring)",
        report.psychometric_rows
    );
    let size = save_state(store.as_ref(), &agg)?;
    outln!(
        "Saved {} people, {} events ({size} bytes) to the store ({})",
        agg.user_count(),
        agg.event_count(),
        risk::STATE_BLOB
    );
    Ok(())
}

/// Scores the saved state, highest first (ties by user id, so the order is stable).
fn ranked_scores(ctx: &Context) -> anyhow::Result<Vec<UserScore>> {
    let store = open_store(ctx)?;
    Ok(ranked(followed_scores(ctx, &store)?.users))
}

/// The scores of the saved state with the activity of the ledger entries recorded
/// since it was saved (by `custodia scan --as`, imports and other commands, or a
/// server that has not saved yet). Read only: the state is saved by whoever feeds it (a server, `risk ingest`),
/// so this never races them for the store.
fn followed_scores(ctx: &Context, store: &Arc<dyn Store>) -> anyhow::Result<risk::ScoreReport> {
    let saved = state_bytes(ctx, store.as_ref())?.is_some();
    let timezone = store
        .get_setting(gateway::TIMEZONE_SETTING)?
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let state = server::RiskState::open(Arc::clone(store), timezone).context("reading the saved risk state")?;
    let read = state
        .catch_up()
        .context("reading the audit ledger into the risk state")?;
    for (index, reason) in &read.unreadable {
        eprintln!("warning: ledger entry {index} cannot be read ({reason}) and was passed over; `custodia audit verify` checks the ledger");
    }
    if !saved && state.engine().event_count() == 0 {
        bail!(
            "no risk data in {}; run `custodia risk import-cert DIR` or `custodia risk ingest FILE` first",
            ctx.data_dir.display()
        );
    }
    Ok(state.engine().score(&ScoringConfig::default())?)
}

/// Highest score first, ties by user id (so the order is stable).
pub fn ranked(mut users: Vec<UserScore>) -> Vec<UserScore> {
    users.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.user.cmp(&b.user)));
    users
}

fn scores(ctx: &Context, format: ScoresFormat, top: Option<usize>) -> anyhow::Result<()> {
    let users = ranked_scores(ctx)?;
    let total = users.len();
    let shown = match (format, top) {
        (_, Some(n)) => n,
        (ScoresFormat::Table, None) => DEFAULT_TABLE_ROWS,
        (_, None) => total,
    };
    let users = users.get(..shown.min(total)).unwrap_or_default();
    match format {
        ScoresFormat::Csv => {
            let stdout = std::io::stdout();
            risk::write_scores_csv(users, stdout.lock())?;
        }
        ScoresFormat::Json => {
            let rows: Vec<serde_json::Value> = users
                .iter()
                .map(|s| {
                    serde_json::json!({
                        "user": s.user,
                        "score": (f64::from(s.score) * 10.0).round() / 10.0,
                        "first_alert": s.first_alert.map(risk::time::iso_date),
                        "peak_day": s.peak_day.map(risk::time::iso_date),
                        "departed": s.departed,
                        "last_day": s.last_day.map(risk::time::iso_date),
                        "reasons": s.reasons,
                    })
                })
                .collect();
            output::json(&rows)?;
        }
        ScoresFormat::Table => {
            let rows: Vec<Vec<String>> = users
                .iter()
                .enumerate()
                .map(|(i, s)| {
                    vec![
                        (i + 1).to_string(),
                        s.user.clone(),
                        format!("{:.1}", s.score),
                        s.first_alert.map(risk::time::iso_date).unwrap_or_default(),
                        if s.reasons.is_empty() {
                            "-".to_string()
                        } else {
                            s.reasons.join("; ")
                        },
                    ]
                })
                .collect();
            output::table(&["RANK", "USER", "SCORE", "FIRST ALERT", "REASONS"], &rows)?;
            if total > users.len() {
                outln!("… {} more people (use --top N to see more)", total - users.len());
            }
        }
    }
    Ok(())
}

fn evaluate(ctx: &Context, answers_path: &Path) -> anyhow::Result<()> {
    let file = File::open(answers_path).with_context(|| format!("opening answers file {}", answers_path.display()))?;
    let answers = Answers::read(BufReader::new(file))
        .with_context(|| format!("reading answers file {}", answers_path.display()))?;
    let users = ranked_scores(ctx)?;
    let e = risk::evaluate(&users, &answers);
    outln!("people scored      {}", e.users);
    outln!("insiders           {}", e.insiders);
    outln!("ROC AUC            {:.4}", e.auc);
    outln!("average precision  {:.4}", e.average_precision);
    for (k, recall) in &e.recall_at_k {
        outln!("recall at top {k:<4} {recall:.3}");
    }
    outln!(
        "departing insiders alerted ≥ 7 days before their last day: {} of {}",
        e.departing_alerted_7d,
        e.departing_lead_days.len()
    );
    outln!(
        "departing insiders in the daily top {} ≥ 7 days before their last day: {} of {}",
        ScoringConfig::default().top_k,
        e.departing_top_7d,
        e.departing_top_lead_days.len()
    );
    for ((user, lead), (_, top)) in e.departing_lead_days.iter().zip(&e.departing_top_lead_days) {
        let alerted = match lead {
            Some(days) => format!("first alerted {days} days before last day"),
            None => "not alerted before last day".to_string(),
        };
        let listed = match top {
            Some(days) => format!("first in the top list {days} days before"),
            None => "never in the top list before leaving".to_string(),
        };
        outln!("  {user:<12} {alerted}, {listed}");
    }
    outln!(
        "benign departing alert rate: {:.3} ({} of {})",
        e.benign_departing_alert_rate(),
        e.benign_departing_alerted,
        e.benign_departing
    );
    Ok(())
}

fn generate(dir: &Path, scale: Scale, seed: u64) -> anyhow::Result<()> {
    let started = Instant::now();
    let summary =
        risk::generate(&scale.config(seed), dir).with_context(|| format!("generating into {}", dir.display()))?;
    let insiders = summary.answers.rows.iter().filter(|a| a.is_insider()).count();
    outln!(
        "Wrote {} activity rows to {} in {:.1} s; {insiders} insiders and {} other labelled people in {}",
        summary.events,
        dir.display(),
        started.elapsed().as_secs_f64(),
        summary.answers.rows.len() - insiders,
        dir.join("answers.csv").display()
    );
    Ok(())
}

fn ingest(ctx: &Context, file: &Path) -> anyhow::Result<()> {
    let store = open_store(ctx)?;
    let mut agg = load_state_or_empty(ctx, store.as_ref())?;
    let rejected_before = agg.rejected_events();
    let report = if file == Path::new("-") {
        risk::read_json_lines(std::io::stdin().lock(), |e| agg.add_event(&e))
    } else {
        let f = File::open(file).with_context(|| format!("opening {}", file.display()))?;
        risk::read_json_lines(BufReader::new(f), |e| agg.add_event(&e))
    }
    .with_context(|| format!("reading {}", file.display()))?;
    let out_of_range = agg.rejected_events() - rejected_before;
    outln!(
        "Accepted {} events, rejected {} lines",
        report.accepted,
        report.rejected_count
    );
    for (line, reason) in report.rejected.iter().take(SHOWN_ERRORS) {
        outln!("  line {line}: {reason}");
    }
    if report.rejected_count > SHOWN_ERRORS as u64 {
        outln!("  … and {} more", report.rejected_count - SHOWN_ERRORS as u64);
    }
    if out_of_range > 0 {
        outln!("  {out_of_range} events ignored: dated before 1900 or after 2200");
    }
    let size = save_state(store.as_ref(), &agg)?;
    outln!(
        "Saved {} people, {} events ({size} bytes) to the store ({})",
        agg.user_count(),
        agg.event_count(),
        risk::STATE_BLOB
    );
    Ok(())
}

/// This machine's name for syslog's HOSTNAME field.
pub fn hostname() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "custodia".to_string())
}

impl ForwardArgs {
    /// The forwarding configuration, or `None` when no target is given.
    pub fn config(&self) -> anyhow::Result<Option<risk::ForwardConfig>> {
        let syslog = self.syslog.as_deref().map(risk::SyslogTarget::parse).transpose()?;
        let webhook = self.webhook.as_deref().map(risk::WebhookTarget::parse).transpose()?;
        if syslog.is_none() && webhook.is_none() {
            return Ok(None);
        }
        if self.attempts == 0 {
            bail!("--attempts must be at least 1");
        }
        let hostname = self.hostname.clone().unwrap_or_else(hostname);
        let mut config = risk::ForwardConfig::new(syslog, webhook, &hostname);
        config.retry.attempts = self.attempts;
        Ok(Some(config))
    }
}

fn forward(ctx: &Context, args: &ForwardArgs) -> anyhow::Result<()> {
    let Some(config) = args.config()? else {
        bail!("nothing to forward to; give --syslog udp://HOST:PORT (or tcp://), --webhook http://HOST:PORT/PATH, or both");
    };
    let store = open_store(ctx)?;
    let report = followed_scores(ctx, &store)?;
    let mut log = match store.get_blob(risk::FORWARDED_BLOB)? {
        Some(bytes) => risk::ForwardLog::from_bytes(&bytes)?,
        None => risk::ForwardLog::default(),
    };
    let mut next_log = log.clone();
    let fresh: Vec<risk::Alert> = next_log.take_new(&report.alerts).into_iter().cloned().collect();
    let clock: model::SharedClock = Arc::new(model::SystemClock);
    let forwarder = risk::Forwarder::start(config, clock, Arc::new(risk::WaitSleeper::default()))?;
    for alert in &fresh {
        forwarder.submit(alert.clone());
    }
    let stats = forwarder.finish();
    outln!(
        "Alerts: {} in all, {} new or escalated; syslog sent {}, webhook sent {} in {} requests, {} retries",
        report.alerts.len(),
        fresh.len(),
        stats.syslog_sent,
        stats.webhook_sent,
        stats.webhook_batches,
        stats.retries
    );
    for e in &stats.errors {
        outln!("  {e}");
    }
    if stats.failed > 0 || stats.dropped > 0 {
        // Not marked as forwarded: the next run sends them again.
        bail!(
            "{} alerts could not be delivered ({} dropped); they will be sent again next time",
            stats.failed,
            stats.dropped
        );
    }
    log = next_log;
    store.put_blob(risk::FORWARDED_BLOB, &log.to_bytes())?;
    Ok(())
}

/// `custodia bench risk`: generates (or takes) a CERT data set, then prints rows/s of
/// end-to-end scoring against bare csv parsing, their ratio (goal ≤ 3×) and peak memory.
pub fn bench(args: BenchArgs) -> anyhow::Result<()> {
    let scale = match args.scale.as_str() {
        "tiny" => Some(Scale::Tiny),
        "small" => Some(Scale::Small),
        "r42" => Some(Scale::R42),
        _ => None,
    };
    let generated = match scale {
        Some(scale) => {
            let dir = std::env::temp_dir().join(format!("custodia-risk-bench-{}-{}", std::process::id(), args.scale));
            outln!("bench risk: generating {} data set (seed {})", args.scale, args.seed);
            generate(&dir, scale, args.seed)?;
            Some(dir)
        }
        None => None,
    };
    let dir = generated.clone().unwrap_or_else(|| PathBuf::from(&args.scale));
    if generated.is_none() && !dir.is_dir() {
        bail!(
            "--scale {:?} is neither tiny, small, r42 nor a CERT directory",
            args.scale
        );
    }
    let result = risk::bench_cert_dir(&dir);
    if let Some(dir) = &generated {
        let _ = std::fs::remove_dir_all(dir);
    }
    let report = result.with_context(|| format!("benchmarking {}", dir.display()))?;
    outln!("bench risk: {report}");
    match peak_memory_kib() {
        Some(kib) => outln!("bench risk: peak memory (VmHWM) {:.1} MiB", kib as f64 / 1024.0),
        None => outln!("bench risk: peak memory unavailable (no /proc/self/status)"),
    }
    Ok(())
}

/// Peak resident set size in KiB, from Linux's /proc/self/status.
fn peak_memory_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}
