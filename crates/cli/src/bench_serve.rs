//! `custodia bench serve`: authenticated, authorized, audited, durable
//! customer reads over HTTP against the same server's health route, both
//! driven through the `client` crate over many keep-alive connections;
//! with `--database`, the same reads on PostgreSQL through several server
//! instances sharing the database, and the ratio to SQLite in the same run.

use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Args;
use gateway::{AccessContext, Actor, Gateway, Keyring};
use ledger::{Ledger, LedgerConfig, SigningKey};
use model::{NewCustomer, PersonId, Role, SharedClock, SystemClock};
use store::{PostgresStore, SqliteStore, Store};

#[derive(Args)]
pub struct ServeBenchArgs {
    /// Concurrent keep-alive connections, one logged-in sales rep each.
    #[arg(long, default_value_t = 64)]
    connections: usize,
    /// Seconds each phase runs.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Customers in the vault (owned round robin by the reps).
    #[arg(long, default_value_t = 10_000)]
    customers: usize,
    /// Also run the reads on PostgreSQL: an empty database at this URL, which
    /// the bench fills (`cargo xtask bench-shared` starts a durable throwaway one).
    #[arg(long)]
    database: Option<String>,
    /// Server instances sharing the PostgreSQL database; the connections are
    /// spread over them round robin.
    #[arg(long, default_value_t = 2)]
    instances: usize,
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

    fn print(&self, label: &str) -> anyhow::Result<()> {
        outln!(
            "  {label:<52} {:>8.0} req/s   p50 {:>6.2} ms   p99 {:>6.2} ms   ({} non-200)",
            self.rate(),
            self.percentile(0.5).as_secs_f64() * 1e3,
            self.percentile(0.99).as_secs_f64() * 1e3,
            self.failures
        );
        Ok(())
    }
}

pub fn run(args: ServeBenchArgs) -> anyhow::Result<()> {
    // Removed when dropped, also when the benchmark stops early.
    let dir = tempfile::Builder::new().prefix("custodia-bench-serve-").tempdir()?;
    bench(dir.path(), &args)
}

/// What every instance of one installation shares: the keyring and the
/// ledger's signing key (each instance loads its own copy, as separate
/// processes would from the same mounted files).
struct Installation {
    keys: Keyring,
    signing_key: std::path::PathBuf,
    clock: SharedClock,
}

impl Installation {
    fn create(dir: &std::path::Path) -> anyhow::Result<Installation> {
        let signing_key = dir.join("ledger.key");
        SigningKey::generate("custodia/bench")?.write_file(&signing_key)?;
        Ok(Installation {
            keys: Keyring::generate("bench")?,
            signing_key,
            clock: Arc::new(SystemClock),
        })
    }

    fn keyring(&self) -> anyhow::Result<Keyring> {
        Ok(Keyring::from_text(&self.keys.to_text(), "bench")?)
    }

    /// One server instance over `store`, as `custodia serve` opens it:
    /// ledger, risk engine, gateway.
    fn instance(&self, store: Arc<dyn server::AuthBackend>) -> anyhow::Result<(Arc<Gateway>, server::AppState)> {
        let data: Arc<dyn Store> = store.clone();
        let ledger = Arc::new(Ledger::open(
            Arc::clone(&data),
            SigningKey::load_file(&self.signing_key)?,
            Arc::clone(&self.clock),
            LedgerConfig::new("custodia/bench"),
            Vec::new(),
        )?);
        let risk = Arc::new(server::RiskState::open(Arc::clone(&data), 0)?);
        let gateway = Arc::new(Gateway::open(data, self.keyring()?, Arc::clone(&self.clock), ledger)?);
        Ok((
            Arc::clone(&gateway),
            server::AppState::new(gateway, store, Arc::clone(&self.clock)).with_risk(risk),
        ))
    }
}

/// Fills a fresh store through `gateway`: one sales rep per connection with a
/// password, and `customers` accounts owned round robin by them. Returns the
/// number of customers.
fn fill(
    gateway: &Gateway,
    auth: &dyn server::AuthBackend,
    connections: usize,
    customers: usize,
) -> anyhow::Result<usize> {
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
    let rows: Vec<NewCustomer> = demo::customers(1, customers.max(connections), &company)
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
    let filled = rows.len();
    gateway.import_customers(&operator, &ctx, rows, false, &|_| {})?;
    for p in &reps {
        server::set_password(auth, &p.id, PASSWORD)?;
    }
    Ok(filled)
}

fn bench(dir: &std::path::Path, args: &ServeBenchArgs) -> anyhow::Result<()> {
    let connections = args.connections.max(1);
    outln!(
        "bench serve: {connections} connections, {} s per phase, {} customers, \
         every read authorized, recorded durably in the ledger (group commit) and masked",
        args.seconds,
        args.customers
    );
    let installation = Installation::create(dir)?;
    let data_dir = dir.join("data");
    std::fs::create_dir_all(&data_dir)?;
    let sqlite: Arc<dyn server::AuthBackend> = Arc::new(SqliteStore::create(&data_dir)?);
    Gateway::initialize(sqlite.as_ref(), &installation.keyring()?, 0)?;
    let (gateway, state) = installation.instance(Arc::clone(&sqlite))?;
    let customers = fill(&gateway, sqlite.as_ref(), connections, args.customers)?;
    let sqlite_reads = measure(&[state], connections, customers, args.seconds, true)?;
    let Some(url) = &args.database else {
        return Ok(());
    };
    let instances = args.instances.max(1);
    let stores = (0..instances)
        .map(|_| Ok(Arc::new(PostgresStore::connect(url)?)))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let target = stores.first().map(|s| s.target().to_owned()).unwrap_or_default();
    let mut states = Vec::with_capacity(instances);
    for (i, store) in stores.into_iter().enumerate() {
        let store: Arc<dyn server::AuthBackend> = store;
        if i == 0 {
            Gateway::initialize(store.as_ref(), &installation.keyring()?, 0)?;
        }
        let (gateway, state) = installation.instance(Arc::clone(&store))?;
        if i == 0 {
            fill(&gateway, store.as_ref(), connections, args.customers)?;
        }
        states.push(state);
    }
    outln!("PostgreSQL at {target}, {instances} server instances on the one database:");
    let pg_reads = measure(&states, connections, customers, args.seconds, false)?;
    outln!(
        "  ratio postgres ({instances} instances) / sqlite (one): {:.2}   goal for postgres with 2 instances: >= 5,000 req/s",
        pg_reads / sqlite_reads.max(f64::MIN_POSITIVE)
    );
    Ok(())
}

/// Serves `states` (one server each, on one runtime as separate listeners),
/// logs a rep in on each connection (connection i on instance i mod n), and
/// times customer reads, then the health route when `with_health`. Returns
/// the read rate.
fn measure(
    states: &[server::AppState],
    connections: usize,
    customers: usize,
    seconds: u64,
    with_health: bool,
) -> anyhow::Result<f64> {
    // Named threads, so a profile of the run tells the servers' work from the load's.
    let server_runtime = server::runtime_builder().thread_name("bench-server").build()?;
    let mut bases = Vec::with_capacity(states.len());
    for state in states {
        let listener = server_runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
        bases.push(format!("http://{}", listener.local_addr()?));
        server_runtime.spawn(server::serve(listener, state.clone()));
    }
    let load = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("bench-load")
        .enable_all()
        .build()?;
    let rate = load.block_on(async {
        let mut clients = Vec::with_capacity(connections);
        for i in 0..connections {
            let base = bases.get(i % bases.len()).map_or("", String::as_str);
            let mut c = client::Client::new(base)?;
            c.login(&format!("rep-{i:03}"), PASSWORD).await?;
            clients.push(Arc::new(c));
        }
        let seconds = Duration::from_secs(seconds.max(1));
        // Each rep reads their own accounts: rep i owns B-i, B-(i+n), ...
        let reads = drive(&clients, seconds, move |i, n| {
            let owned = (customers - i).div_ceil(connections).max(1) as u64;
            let k = (n * 7919) % owned;
            format!("/v1/customers/B-{:06}", i as u64 + k * connections as u64)
        })
        .await;
        reads.print("customer read (session, policy, ledger, mask)")?;
        if with_health {
            let health = drive(&clients, seconds, |_, _| "/health".to_owned()).await;
            health.print("health (no session, nothing recorded)")?;
            outln!(
                "  ratio reads / health:  {:.2} (goal >= 0.3)   goal for reads: >= 10,000 req/s, p99 <= 20 ms",
                reads.rate() / health.rate().max(f64::MIN_POSITIVE)
            );
        }
        anyhow::Ok(reads.rate())
    })?;
    drop(load);
    server_runtime.shutdown_timeout(Duration::from_secs(5));
    Ok(rate)
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
