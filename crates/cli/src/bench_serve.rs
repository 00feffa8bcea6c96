//! `custodia bench serve`: authenticated, authorized, audited, durable
//! customer reads over HTTP against the same server's health route, both
//! driven through the `client` crate over many keep-alive connections.

use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Args;
use gateway::{AccessContext, Actor, Gateway, Keyring};
use ledger::{Ledger, LedgerConfig, SigningKey};
use model::{NewCustomer, PersonId, Role, SharedClock, SystemClock};
use store::{SqliteStore, Store};

#[derive(Args)]
pub struct ServeBenchArgs {
    /// Concurrent keep-alive connections, one logged-in sales rep each.
    #[arg(long, default_value_t = 64)]
    connections: usize,
    /// Seconds each of the two phases runs.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Customers in the vault (owned round robin by the reps).
    #[arg(long, default_value_t = 10_000)]
    customers: usize,
}

const PASSWORD: &str = "bench passphrase, long enough";

/// Latencies of one phase, and how many requests did not get a 200.
struct Phase {
    latencies: Vec<Duration>,
    failures: u64,
    elapsed: Duration,
}

impl Phase {
    fn rate(&self) -> f64 {
        self.latencies.len() as f64 / self.elapsed.as_secs_f64()
    }

    fn percentile(&self, p: f64) -> Duration {
        let i = ((self.latencies.len() as f64 * p) as usize).min(self.latencies.len().saturating_sub(1));
        self.latencies.get(i).copied().unwrap_or_default()
    }

    fn print(&self, label: &str) {
        println!(
            "  {label:<44} {:>8.0} req/s   p50 {:>6.2} ms   p99 {:>6.2} ms   ({} non-200)",
            self.rate(),
            self.percentile(0.5).as_secs_f64() * 1e3,
            self.percentile(0.99).as_secs_f64() * 1e3,
            self.failures
        );
    }
}

pub fn run(args: ServeBenchArgs) -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!("custodia-bench-serve-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let result = bench(&dir, &args);
    std::fs::remove_dir_all(&dir).ok();
    result
}

fn bench(dir: &std::path::Path, args: &ServeBenchArgs) -> anyhow::Result<()> {
    let connections = args.connections.max(1);
    println!(
        "bench serve: {connections} connections, {} s per phase, {} customers, SQLite (synchronous=FULL), \
         every read authorized, recorded in the ledger (group commit) and masked",
        args.seconds, args.customers
    );
    // The installation `custodia serve` would run: ledger, risk engine, gateway.
    let sqlite = Arc::new(SqliteStore::create(dir)?);
    let store: Arc<dyn Store> = sqlite.clone();
    let keys = Keyring::generate("bench")?;
    Gateway::initialize(store.as_ref(), &keys, 0)?;
    let clock: SharedClock = Arc::new(SystemClock);
    let ledger = Arc::new(Ledger::open(
        Arc::clone(&store),
        SigningKey::generate("custodia/bench")?,
        Arc::clone(&clock),
        LedgerConfig::new("custodia/bench"),
        Vec::new(),
    )?);
    let risk = Arc::new(server::RiskState::open(Arc::clone(&store), 0)?);
    let recorder = Arc::new(server::RiskRecorder::new(
        ledger,
        risk.engine().clone(),
        Arc::clone(&store),
    ));
    let gateway = Arc::new(Gateway::open(Arc::clone(&store), keys, Arc::clone(&clock), recorder)?);
    let operator = Actor::Operator { name: "bench".into() };
    let ctx = AccessContext::default();
    let company = demo::company(1);
    let template = company
        .people
        .iter()
        .find(|p| p.role == Role::SalesRep)
        .ok_or_else(|| anyhow::anyhow!("the demo company has no sales rep"))?;
    let reps: Vec<model::Person> = (0..connections)
        .map(|i| {
            let mut p = template.clone();
            p.id = PersonId(format!("rep-{i:03}"));
            p.manager = None;
            p.team = None;
            p.status = model::EmploymentStatus::Active;
            p
        })
        .collect();
    gateway.import_people(&operator, &ctx, &reps, &[])?;
    let rows: Vec<NewCustomer> = demo::customers(1, args.customers.max(connections), &company)
        .into_iter()
        .enumerate()
        .map(|(i, mut c)| {
            c.id = Some(model::CustomerId(format!("B-{i:06}")));
            c.owner = Some(PersonId(format!("rep-{:03}", i % connections)));
            c.team = None;
            c.compartments = Default::default();
            c.classification = Some(model::Classification::Internal);
            c
        })
        .collect();
    let customers = rows.len();
    gateway.import_customers(&operator, &ctx, rows, false, &|_| {})?;
    for p in &reps {
        server::set_password(sqlite.as_ref(), &p.id, PASSWORD)?;
    }
    let state = server::AppState::new(gateway, sqlite, clock);

    // The server on its own runtime, as in `custodia serve`; the load on another.
    let server_runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let listener = server_runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
    let base = format!("http://{}", listener.local_addr()?);
    server_runtime.spawn(server::serve(listener, state));
    let load = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    load.block_on(async {
        let mut clients = Vec::with_capacity(connections);
        for i in 0..connections {
            let mut c = client::Client::new(&base)?;
            c.login(&format!("rep-{i:03}"), PASSWORD).await?;
            clients.push(Arc::new(c));
        }
        let seconds = Duration::from_secs(args.seconds.max(1));
        // Each rep reads their own accounts: rep i owns B-i, B-(i+n), ...
        let reads = drive(&clients, seconds, move |i, n| {
            let owned = (customers - i).div_ceil(connections).max(1) as u64;
            let k = (n * 7919) % owned;
            format!("/v1/customers/B-{:06}", i as u64 + k * connections as u64)
        })
        .await;
        let health = drive(&clients, seconds, |_, _| "/health".to_owned()).await;
        reads.print("customer read (session, policy, ledger, mask)");
        health.print("health (no session, nothing recorded)");
        println!(
            "  ratio reads / health:  {:.2} (goal >= 0.3)   goal for reads: >= 10,000 req/s, p99 <= 20 ms",
            reads.rate() / health.rate().max(f64::MIN_POSITIVE)
        );
        anyhow::Ok(())
    })?;
    drop(load);
    server_runtime.shutdown_timeout(Duration::from_secs(5));
    Ok(())
}

/// Runs every client in a loop for `for_how_long`, the n-th request of
/// client i going to `path(i, n)`.
async fn drive(
    clients: &[Arc<client::Client>],
    for_how_long: Duration,
    path: impl Fn(usize, u64) -> String + Send + Sync + Copy + 'static,
) -> Phase {
    let start = Instant::now();
    let mut tasks = Vec::with_capacity(clients.len());
    for (i, c) in clients.iter().enumerate() {
        let c = Arc::clone(c);
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(4096);
            let mut failures = 0u64;
            let mut n = 0u64;
            while start.elapsed() < for_how_long {
                let t = Instant::now();
                match c.raw(client::Method::GET, &path(i, n), None, Vec::new()).await {
                    Ok(r) if r.status == 200 => latencies.push(t.elapsed()),
                    _ => failures += 1,
                }
                n += 1;
            }
            (latencies, failures)
        }));
    }
    let mut phase = Phase {
        latencies: Vec::new(),
        failures: 0,
        elapsed: Duration::ZERO,
    };
    for task in tasks {
        if let Ok((latencies, failures)) = task.await {
            phase.latencies.extend(latencies);
            phase.failures += failures;
        }
    }
    phase.elapsed = start.elapsed();
    phase.latencies.sort();
    phase
}
