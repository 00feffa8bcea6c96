//! `custodia serve`: the HTTP API over the installation.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context as _;
use clap::Args;
use gateway::Gateway;
use ledger::{FileWitness, Ledger, LedgerConfig, Witness};
use model::{SharedClock, SystemClock};
use store::{SqliteStore, Store};

use crate::install::Context;

#[derive(Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
}

pub fn run(ctx: &Context, args: ServeArgs) -> anyhow::Result<()> {
    let sqlite = Arc::new(SqliteStore::open(&ctx.data_dir)?);
    let store: Arc<dyn Store> = sqlite.clone();
    let auth: Arc<dyn server::AuthBackend> = sqlite;
    let keys = ctx.load_keyring()?;
    let clock: SharedClock = Arc::new(SystemClock);
    let signing = ctx.signing_key()?;
    let origin = signing.name().to_owned();
    let mut witnesses: Vec<Box<dyn Witness>> = Vec::new();
    if let Some(path) = ctx.witness_file() {
        witnesses.push(Box::new(FileWitness::new(path)));
    }
    // The committer signs a checkpoint every second while entries arrive
    // and signs any unsigned tail when idle.
    let ledger = Arc::new(Ledger::open(
        Arc::clone(&store),
        signing,
        Arc::clone(&clock),
        LedgerConfig::new(&origin),
        witnesses,
    )?);
    let gateway = Arc::new(Gateway::open(store, keys, Arc::clone(&clock), ledger)?);
    let state = server::AppState::new(gateway, auth, clock);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .with_context(|| format!("cannot listen on {}", args.listen))?;
        eprintln!(
            "custodia serving {} on http://{}",
            ctx.data_dir.display(),
            listener.local_addr()?
        );
        server::serve(listener, state).await.context("the server stopped")
    })
}

/// `custodia people set-password PERSON`: reads the password from standard
/// input (never from the command line, where other users could see it).
pub fn set_password(ctx: &Context, person: &str) -> anyhow::Result<()> {
    // The installation must open with its key before anything is changed.
    drop(ctx.open()?);
    let sqlite = SqliteStore::open(&ctx.data_dir)?;
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .context("cannot read the password from standard input")?;
    let password = line.trim_end_matches(['\n', '\r']);
    server::set_password(&sqlite, &model::PersonId(person.to_owned()), password)?;
    println!("Password set for {person}.");
    Ok(())
}
