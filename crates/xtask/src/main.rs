//! Project automation, run as `cargo xtask <task>`.
//!
//! * `cargo xtask test`: installs the system packages the tests drive for
//!   real (Squid, curl, PostgreSQL) when missing and the user may install
//!   them, then runs every test of the workspace. The PostgreSQL tests start
//!   their own throwaway cluster from the installed binaries (see
//!   `store::testing`), or use `CUSTODIA_TEST_POSTGRES` when set.
//! * `cargo xtask ci`: `test`, then `cargo fmt --check` and clippy with
//!   warnings denied: what `.ci/run` runs.

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
            test()?;
            cargo(&["fmt", "--all", "--check"])?;
            cargo(&["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"])
        }
        _ => bail!("usage: cargo xtask test | ci"),
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
