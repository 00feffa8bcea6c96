//! Test support (feature `testing`): a real PostgreSQL for the store's and
//! the server's tests.
//!
//! [`postgres_server`] gives the URL of a server: `CUSTODIA_TEST_POSTGRES`
//! when set (e.g. `postgres://custodia:pw@127.0.0.1:5432/postgres`; the
//! server must ask for passwords on TCP, scram or md5), otherwise a
//! throwaway cluster started once per test binary (initdb + postgres in a
//! temporary directory, on a free loopback port; as the `postgres` user when
//! running as root, since initdb refuses root). The cluster stops and its
//! directory is removed when the test process exits. [`fresh_database`]
//! creates an empty database per test so tests run in parallel.
//!
//! Without PostgreSQL installed these functions panic with a message saying
//! to run `cargo xtask test`, which installs it: the PostgreSQL tests fail,
//! they are never silently skipped.
#![allow(clippy::panic, clippy::expect_used, clippy::unwrap_used)]

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use postgres::{Client, NoTls};

/// Environment variable naming an existing server to test against.
pub const ENV: &str = "CUSTODIA_TEST_POSTGRES";

/// The user the throwaway cluster's superuser is called.
pub const USER: &str = "custodia";
/// Its password (the cluster asks for passwords on TCP, as production does,
/// so that tests of wrong credentials are real). Not a secret: the cluster
/// listens on loopback only and lives as long as one test process.
pub const PASSWORD: &str = "custodia-test";

struct Cluster {
    url: String,
    /// The shell that owns the server; it stops the server and removes the
    /// directory when its stdin (held here) closes, i.e. when we exit.
    _keeper: Mutex<Child>,
}

static SERVER: OnceLock<Cluster> = OnceLock::new();

/// URL of the server to test against (see the module docs).
pub fn postgres_server() -> String {
    if let Ok(url) = std::env::var(ENV) {
        if !url.trim().is_empty() {
            return url;
        }
    }
    SERVER.get_or_init(start_cluster).url.clone()
}

/// Where the PostgreSQL server binaries are: on PATH, or Debian's
/// `/usr/lib/postgresql/NN/bin` (newest first).
pub fn find_bin_dir() -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    dirs.push("/usr/local/bin".into());
    if let Ok(read) = std::fs::read_dir("/usr/lib/postgresql") {
        let mut versions: Vec<(u32, PathBuf)> = read
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                let v = e.file_name().to_string_lossy().parse::<u32>().ok()?;
                Some((v, e.path().join("bin")))
            })
            .collect();
        versions.sort_by_key(|v| std::cmp::Reverse(v.0));
        dirs.extend(versions.into_iter().map(|(_, d)| d));
    }
    dirs.into_iter()
        .find(|d| d.join("initdb").is_file() && d.join("postgres").is_file())
}

fn running_as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout.starts_with(b"0\n"))
        .unwrap_or(false)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("no free loopback port")
}

/// Script run by the keeper shell: creates the cluster, runs the server
/// until stdin closes, then stops it and removes everything.
const KEEPER: &str = r#"
set -u
dir=$(mktemp -d "${TMPDIR:-/tmp}/custodia-pg-XXXXXX") || exit 1
cleanup() { rm -rf "$dir"; }
trap cleanup EXIT
printf '%s\n' "$PGPASS_WORD" >"$dir/pw"
if ! "$PGBIN/initdb" -D "$dir/data" -U "$PGUSER_NAME" --pwfile="$dir/pw" --auth-local=trust --auth-host=scram-sha-256 \
    -E UTF8 --no-sync >"$dir/initdb.log" 2>&1; then
  echo "initdb failed:" >&2; cat "$dir/initdb.log" >&2; exit 1
fi
"$PGBIN/postgres" -D "$dir/data" -k "$dir" -p "$PGPORT_NUM" -c listen_addresses=127.0.0.1 \
  -c max_connections=400 -c fsync=off -c synchronous_commit=off -c full_page_writes=off \
  -c shared_buffers=128MB >"$dir/server.log" 2>&1 &
pid=$!
echo "started $dir"
read -r _ignored || true
kill -INT "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
"#;

fn start_cluster() -> Cluster {
    let Some(bin) = find_bin_dir() else {
        panic!(
            "PostgreSQL is not installed (no initdb/postgres on PATH or in /usr/lib/postgresql/*/bin): \
             run `cargo xtask test`, which installs Debian's postgresql package, or set {ENV} to a server URL"
        );
    };
    let mut last_error = String::new();
    for _ in 0..3 {
        let port = free_port();
        let mut cmd = if running_as_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--", "sh", "-c", KEEPER]);
            c
        } else {
            let mut c = Command::new("sh");
            c.args(["-c", KEEPER]);
            c
        };
        cmd.env("PGBIN", &bin)
            .env("PGPORT_NUM", port.to_string())
            .env("PGUSER_NAME", USER)
            .env("PGPASS_WORD", PASSWORD)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        let child = cmd.spawn().unwrap_or_else(|e| {
            panic!("cannot start the PostgreSQL test cluster ({e}); as root it runs via runuser -u postgres")
        });
        let url = format!("postgres://{USER}:{PASSWORD}@127.0.0.1:{port}/postgres");
        match wait_ready(&url, Duration::from_secs(60)) {
            Ok(()) => {
                return Cluster {
                    url,
                    _keeper: Mutex::new(child),
                }
            }
            Err(e) => {
                last_error = e;
                stop(child);
            }
        }
    }
    panic!("the PostgreSQL test cluster did not start: {last_error}");
}

fn stop(mut child: Child) {
    drop(child.stdin.take());
    let _ = child.wait();
}

#[allow(
    clippy::disallowed_methods,
    reason = "polling a server that starts in another process"
)]
fn wait_ready(url: &str, limit: Duration) -> Result<(), String> {
    let start = Instant::now();
    loop {
        match Client::connect(url, NoTls) {
            Ok(_) => return Ok(()),
            Err(e) if start.elapsed() > limit => return Err(format!("no connection within {limit:?}: {e}")),
            Err(_) => std::thread::sleep(Duration::from_millis(100)),
        }
    }
}

/// A database created for one test; dropped (with any connections still
/// open to it) when this guard goes.
pub struct TestDatabase {
    server: String,
    name: String,
    url: String,
}

impl TestDatabase {
    /// URL of the database.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Name of the database.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Ok(mut c) = Client::connect(&self.server, NoTls) {
            let _ = c.batch_execute(&format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name));
        }
    }
}

/// Creates an empty database on the test server.
pub fn fresh_database() -> TestDatabase {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let server = postgres_server();
    let name = format!(
        "custodia_test_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    let mut admin =
        Client::connect(&server, NoTls).unwrap_or_else(|e| panic!("cannot connect to the test server: {e}"));
    admin
        .batch_execute(&format!("CREATE DATABASE \"{name}\""))
        .unwrap_or_else(|e| panic!("cannot create test database {name}: {e:?}"));
    let url = with_database(&server, &name);
    TestDatabase { server, name, url }
}

/// `url` with its database replaced by `name`.
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let path_start = base[scheme_end..].find('/').map_or(base.len(), |i| scheme_end + i);
    let mut out = format!("{}/{name}", &base[..path_start]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

/// Runs SQL as the server's superuser on database `name` (to play an
/// attacker or an operator in tests).
pub fn admin_execute(name: &str, sql: &str) {
    let url = with_database(&postgres_server(), name);
    let mut c = Client::connect(&url, NoTls).unwrap_or_else(|e| panic!("cannot connect to {name}: {e}"));
    c.batch_execute(sql).unwrap_or_else(|e| panic!("{sql}: {e:?}"));
}
