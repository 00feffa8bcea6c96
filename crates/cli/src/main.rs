//! `custodia`: the command line for everything custodia does.

// First, so its printing macros are in scope in every module below.
#[macro_use]
mod output;
mod audit;
mod bench;
mod bench_icap;
mod bench_serve;
mod commands;
mod demo_run;
mod import;
mod install;
mod ledger_tools;
mod migrate;
mod policy_cmd;
mod risk_cmd;
mod scan_cmd;
mod serve_cmd;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

// Cedar's evaluation allocates heavily; glibc malloc roughly halves decision
// throughput once a large policy set is loaded. Built without transparent huge pages
// (`no_thp`): a DLP scan allocates and frees tens of megabytes per file, and with
// mimalloc's huge-page advice every fresh 2 MiB page was zeroed by the kernel on first
// touch, a fifth of a scan of customer tables (see docs/dlp-performance.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Keep customer data and trade secrets from leaving with insiders and
/// departing employees.
#[derive(Parser)]
#[command(name = "custodia", version, about, propagate_version = true)]
pub struct Cli {
    /// Data directory (holds the database, and by default the key file).
    #[arg(long, global = true, env = "CUSTODIA_DATA_DIR", default_value = "custodia-data")]
    data_dir: PathBuf,
    /// Database URL (postgres://USER:PASSWORD@HOST:PORT/DATABASE) to keep the
    /// store in PostgreSQL instead of the data directory's SQLite file; keys
    /// stay in the data directory or CUSTODIA_KEYRING.
    #[arg(
        long,
        global = true,
        env = "CUSTODIA_DATABASE",
        hide_env_values = true,
        value_name = "URL"
    )]
    database: Option<String>,
    /// Key file. Default: custodia.key in the data directory. The keyring
    /// can instead be given in the CUSTODIA_KEYRING environment variable.
    #[arg(long, global = true, env = "CUSTODIA_KEY_FILE")]
    key_file: Option<PathBuf>,
    /// Act as this person (policy applies) instead of as the local operator.
    #[arg(long = "as", global = true, value_name = "PERSON")]
    as_person: Option<String>,
    /// Print JSON for machines instead of text for people.
    #[arg(long, global = true)]
    json: bool,
    /// Also append every signed ledger checkpoint to this file (a witness
    /// outside the data directory, e.g. on another machine's mount).
    #[arg(long, global = true, env = "CUSTODIA_WITNESS_FILE")]
    witness_file: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create a data directory, its keys and an empty vault.
    Init {
        /// The company's offset from UTC in minutes, for policies on working hours (e.g. 420 for UTC+7).
        #[arg(long, default_value_t = 0, allow_negative_numbers = true)]
        timezone_offset: i32,
    },
    /// Customers in the vault.
    #[command(subcommand)]
    Customers(commands::CustomersCmd),
    /// People (employees) and teams.
    #[command(subcommand)]
    People(commands::PeopleCmd),
    /// Classified documents.
    #[command(subcommand)]
    Documents(commands::DocumentsCmd),
    /// The policy set: show, validate, test, replace, explain.
    #[command(subcommand)]
    Policy(policy_cmd::PolicyCmd),
    /// Access reviews: who can, what can, unused permissions.
    #[command(subcommand)]
    Access(policy_cmd::AccessCmd),
    /// Inspect files for the company's customer records, sensitive data and classified documents.
    #[command(
        after_help = "Exit status: 0 when every path was scanned and no file is stopped; 3 when the policy blocks a file or asks a justification for it; 2 when some path could not be scanned (unreadable, too large, or not a file: fifos, devices and links to directories outside the scan are reported, not read) or some content could not be inspected (encrypted, malformed, over a limit, or of a kind not read: legacy .doc/.ppt, rar); 1 when the command itself failed."
    )]
    Scan(scan_cmd::ScanArgs),
    /// Serve the HTTP API (sessions, customers, documents, audit).
    Serve(serve_cmd::ServeArgs),
    /// Issue a new one-time code for the first security admin's password
    /// (`POST /v1/bootstrap`), voiding any earlier code; only while no one has a password.
    Bootstrap,
    /// Key management.
    #[command(subcommand)]
    Keys(commands::KeysCmd),
    /// The tamper-evident audit ledger.
    #[command(subcommand)]
    Audit(audit::AuditCmd),
    /// Evidence bundles, verified offline.
    #[command(subcommand)]
    Evidence(audit::EvidenceCmd),
    /// Build a realistic demo company in a fresh data directory.
    Demo(commands::DemoArgs),
    /// Benchmarks (figures printed; not tests).
    #[command(subcommand)]
    Bench(bench::BenchCmd),
    /// Move the store from a data directory's SQLite file to an empty PostgreSQL database.
    Migrate(migrate::MigrateArgs),
    /// Insider-risk scores from activity (CERT r4.2 data, activity events).
    #[command(subcommand)]
    Risk(risk_cmd::RiskCmd),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_log(&cli);
    match run(cli) {
        Ok(status) => status,
        Err(e) if e.is::<output::StdoutClosed>() => ExitCode::from(141),
        Err(e) => {
            eprintln!("error: {e}");
            for cause in e.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            ExitCode::FAILURE
        }
    }
}

/// Where the libraries' log goes: standard error, warnings and errors by default
/// (`serve` also its notes: alerts forwarded, feeds taken), or as `CUSTODIA_LOG` says
/// (`info`, `debug`, `server=debug,warn`). The libraries log no secrets or plaintext
/// fields (ARCHITECTURE.md, invariant 3).
fn init_log(cli: &Cli) {
    let default = match cli.command {
        Command::Serve(_) => "info",
        _ => "warn",
    };
    let filter = match std::env::var("CUSTODIA_LOG") {
        Ok(levels) => tracing_subscriber::EnvFilter::try_new(&levels).unwrap_or_else(|e| {
            eprintln!("warning: CUSTODIA_LOG={levels:?} is not a list of levels ({e}); logging at {default}");
            tracing_subscriber::EnvFilter::new(default)
        }),
        Err(_) => tracing_subscriber::EnvFilter::new(default),
    };
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        // A log line that cannot be written (standard error closed) is dropped: the
        // default reports it with `eprintln!`, which panics then, inside a request.
        .log_internal_errors(false)
        .init();
}

impl Cli {
    fn timezone_offset(&self) -> i32 {
        match self.command {
            Command::Init { timezone_offset } => timezone_offset,
            _ => 0,
        }
    }
}

/// Runs the command; the exit status is 0 unless the command says otherwise (`scan`).
fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let ctx = install::Context::new(&cli);
    let done = match cli.command {
        Command::Init { .. } => install::init(&ctx),
        Command::Customers(cmd) => commands::customers(&ctx, cmd),
        Command::People(cmd) => commands::people(&ctx, cmd),
        Command::Documents(cmd) => commands::documents(&ctx, cmd),
        Command::Policy(cmd) => policy_cmd::policy(&ctx, cmd),
        Command::Access(cmd) => policy_cmd::access(&ctx, cmd),
        Command::Scan(args) => return scan_cmd::run(&ctx, args).map(ExitCode::from),
        Command::Serve(args) => serve_cmd::run(&ctx, args),
        Command::Bootstrap => serve_cmd::bootstrap(&ctx),
        Command::Keys(cmd) => commands::keys(&ctx, cmd),
        Command::Audit(cmd) => audit::run(&ctx, cmd),
        Command::Evidence(cmd) => audit::evidence(&ctx, cmd),
        Command::Demo(args) => commands::demo(&ctx, args),
        Command::Bench(cmd) => bench::run(&ctx, cmd),
        Command::Risk(cmd) => risk_cmd::run(&ctx, cmd),
        Command::Migrate(args) => migrate::run(&ctx, args),
    };
    done.map(|()| ExitCode::SUCCESS)
}
