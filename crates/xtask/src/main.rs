//! Project automation, run as `cargo xtask <task>`.
//!
//! * `cargo xtask test`: installs the system packages the tests drive for
//!   real (Squid, curl, PostgreSQL) when missing and the user may install
//!   them, then runs every test of the workspace. The PostgreSQL tests start
//!   their own throwaway cluster from the installed binaries (see
//!   `store::testing`), or use `CUSTODIA_TEST_POSTGRES` when set.
//! * `cargo xtask ci`: `test`, then `cargo fmt --check` and clippy with
//!   warnings denied: what `.ci/run` runs.
//! * `cargo xtask bench-shared [ARGS]`: starts a throwaway PostgreSQL cluster
//!   with the server's default durability (fsync and synchronous_commit on;
//!   the test cluster turns them off for speed), runs `custodia bench serve
//!   --database URL ARGS` against it (several server instances on the one
//!   database, and SQLite in the same run), then removes the cluster.

use std::process::Command;

use anyhow::{bail, Context};

/// Debian packages the test suite uses, by a binary that shows they are
/// there: a real Squid for the ICAP tests, curl as the client that uploads
/// through it, and PostgreSQL for the store's second backend (Debian keeps
/// `initdb` in /usr/lib/postgresql/NN/bin, off PATH: see [`installed`]).
const TEST_PACKAGES: &[(&str, &str)] = &[("squid", "squid"), ("curl", "curl"), ("initdb", "postgresql")];

fn main() -> anyhow::Result<()> {
    let task = std::env::args().nth(1).unwrap_or_default();
    match task.as_str() {
        "test" => test(),
        "ci" => {
            // A CI build is built once and thrown away: incremental
            // compilation's caches would only take disk (gigabytes of it).
            std::env::set_var("CARGO_INCREMENTAL", "0");
            test()?;
            cargo(&["fmt", "--all", "--check"])?;
            cargo(&["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"])
        }
        "bench-shared" => bench_shared(&std::env::args().skip(2).collect::<Vec<_>>()),
        _ => bail!("usage: cargo xtask test | ci | bench-shared [custodia bench serve arguments]"),
    }
}

fn test() -> anyhow::Result<()> {
    ensure_packages()?;
    cargo(&["test", "--workspace", "--no-fail-fast"])
}

fn cargo(args: &[&str]) -> anyhow::Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    run(Command::new(cargo).args(args))
}

fn run(cmd: &mut Command) -> anyhow::Result<()> {
    let shown = format!("{cmd:?}");
    eprintln!("xtask: {shown}");
    let status = cmd.status().with_context(|| format!("cannot run {shown}"))?;
    if !status.success() {
        bail!("{shown} failed with {status}");
    }
    Ok(())
}

fn on_path(binary: &str) -> bool {
    let candidates = ["/usr/sbin", "/usr/bin", "/sbin", "/bin", "/usr/local/bin"];
    let in_path = std::env::var_os("PATH").is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(binary).is_file()));
    in_path
        || candidates
            .iter()
            .any(|d| std::path::Path::new(d).join(binary).is_file())
}

/// Whether `binary` is installed: on PATH or in the usual directories, or
/// (for PostgreSQL's server binaries) in Debian's versioned directory.
fn installed(binary: &str) -> bool {
    on_path(binary)
        || std::fs::read_dir("/usr/lib/postgresql")
            .map(|dirs| dirs.flatten().any(|d| d.path().join("bin").join(binary).is_file()))
            .unwrap_or(false)
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout.starts_with(b"0\n"))
        .unwrap_or(false)
}

/// Installs missing test packages with apt-get when running as root on a
/// Debian-like system; otherwise says what is missing (the ICAP tests then
/// say they were skipped; the PostgreSQL tests fail, saying to install it).
fn ensure_packages() -> anyhow::Result<()> {
    let missing: Vec<&str> = TEST_PACKAGES
        .iter()
        .filter(|(bin, _)| !installed(bin))
        .map(|(_, pkg)| *pkg)
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    if !is_root() || !on_path("apt-get") {
        eprintln!(
            "xtask: missing {}; install them (apt-get install {}): without them the ICAP tests are skipped and the PostgreSQL tests fail",
            missing.join(", "),
            missing.join(" ")
        );
        return Ok(());
    }
    run(Command::new("apt-get").args(["update", "-q"]))?;
    run(Command::new("apt-get")
        .args(["install", "-y", "-q", "--no-install-recommends"])
        .args(&missing)
        .env("DEBIAN_FRONTEND", "noninteractive"))
}

/// Debian's newest PostgreSQL server binaries (`/usr/lib/postgresql/NN/bin`).
fn postgres_bin_dir() -> anyhow::Result<std::path::PathBuf> {
    let mut dirs: Vec<_> = std::fs::read_dir("/usr/lib/postgresql")
        .context("PostgreSQL is not installed (no /usr/lib/postgresql); run as root to install it")?
        .flatten()
        .map(|d| d.path().join("bin"))
        .filter(|d| d.join("pg_ctl").is_file())
        .collect();
    dirs.sort();
    dirs.pop().context("no pg_ctl under /usr/lib/postgresql/*/bin")
}

/// A PostgreSQL program, as the `postgres` user when we are root (the
/// server refuses to run as root).
fn postgres_command(bin: &std::path::Path, program: &str) -> Command {
    let path = bin.join(program);
    if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(path);
        c
    } else {
        Command::new(path)
    }
}

fn bench_shared(bench_args: &[String]) -> anyhow::Result<()> {
    ensure_packages()?;
    let bin = postgres_bin_dir()?;
    let dir = std::env::temp_dir().join(format!("custodia-bench-pg-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    if is_root() {
        run(Command::new("chown").args(["postgres:postgres"]).arg(&dir))?;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let data = dir.join("data");
    let result = (|| {
        run(postgres_command(&bin, "initdb")
            .args(["-U", "custodia", "--auth=trust", "-E", "UTF8", "-D"])
            .arg(&data))?;
        let options = format!(
            "-c listen_addresses=127.0.0.1 -p {port} -k {} -c max_connections=300 -c shared_buffers=256MB",
            dir.display()
        );
        run(postgres_command(&bin, "pg_ctl")
            .args(["start", "-w", "-t", "60", "-D"])
            .arg(&data)
            .args(["-o", &options, "-l"])
            .arg(dir.join("server.log")))?;
        let url = format!("postgres://custodia@127.0.0.1:{port}/postgres");
        let bench = cargo(
            &[
                "run",
                "--release",
                "--bin",
                "custodia",
                "--",
                "bench",
                "serve",
                "--database",
                &url,
            ]
            .into_iter()
            .chain(bench_args.iter().map(String::as_str))
            .collect::<Vec<_>>(),
        );
        let stop = run(postgres_command(&bin, "pg_ctl")
            .args(["stop", "-m", "fast", "-D"])
            .arg(&data));
        bench.and(stop)
    })();
    std::fs::remove_dir_all(&dir).ok();
    result
}
