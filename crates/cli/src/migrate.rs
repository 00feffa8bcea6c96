//! `custodia migrate --from DATA_DIR --to postgres://…`: moves an
//! installation's store from its SQLite file to an empty PostgreSQL
//! database without losing an entry. The ledger is verified before and
//! after, and the root hash over all entries must be the same. Keys stay
//! where they are (the data directory's key files or CUSTODIA_KEYRING).

use std::path::PathBuf;

use anyhow::{bail, Context as _};
use clap::Args;
use ledger::VerifyingKey;
use store::{SqliteStore, Store};

use crate::install::{connect_postgres, Context};

#[derive(Args)]
pub struct MigrateArgs {
    /// Data directory whose SQLite database is moved (stop its servers first).
    #[arg(long, value_name = "DATA_DIR")]
    from: PathBuf,
    /// Target PostgreSQL database (postgres://USER:PASSWORD@HOST:PORT/DATABASE); it must hold no custodia data.
    #[arg(long, value_name = "URL", env = "CUSTODIA_DATABASE", hide_env_values = true)]
    to: String,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn run(ctx: &Context, args: MigrateArgs) -> anyhow::Result<()> {
    let vkey_path = args.from.join("ledger.pub");
    let vkey_text = std::fs::read_to_string(&vkey_path).with_context(|| {
        format!(
            "cannot read the ledger public key {}; is {} a custodia data directory?",
            vkey_path.display(),
            args.from.display()
        )
    })?;
    let key = VerifyingKey::from_vkey(vkey_text.trim())?;
    let source = SqliteStore::open(&args.from)?;
    let before = ledger::verify(&source, &key, None);
    if !before.is_ok() {
        bail!(
            "the ledger in {} does not verify (first bad entry: {:?}); run `custodia audit verify` and repair it before migrating",
            args.from.display(),
            before.first_bad_entry()
        );
    }
    let target = connect_postgres(&args.to)?;
    let shown = target.target().to_owned();
    let report = store::copy_sqlite_to_postgres(&source, &target)?;
    let after = ledger::verify(&target, &key, None);
    if !after.is_ok() || after.root != before.root || after.entries_checked != before.entries_checked {
        bail!(
            "the copy in {shown} does not match the source ledger ({} entries, root {} before; {} entries, root {}, {} findings after); \
             drop that database before retrying",
            before.entries_checked,
            hex(&before.root),
            after.entries_checked,
            hex(&after.root),
            after.findings.len()
        );
    }
    if target.count_customers()? != source.count_customers()? {
        bail!("the copy in {shown} holds a different number of customers than the source; drop that database before retrying");
    }
    let root = hex(&after.root);
    if ctx.json {
        let tables: serde_json::Map<String, serde_json::Value> = report
            .tables
            .iter()
            .map(|(t, n)| ((*t).to_owned(), serde_json::json!(n)))
            .collect();
        outln!(
            "{}",
            serde_json::json!({
                "from": args.from,
                "to": shown,
                "tables": tables,
                "ledger_entries": after.entries_checked,
                "root_before": hex(&before.root),
                "root_after": root,
            })
        );
    } else {
        outln!("Migrated {} to {shown}", args.from.display());
        for (table, rows) in &report.tables {
            outln!("  {table:<20} {rows:>10} rows");
        }
        outln!(
            "Ledger verified before and after: {} entries, root {root}",
            after.entries_checked
        );
        outln!(
            "Serve it with: custodia --data-dir {} --database '{shown}' serve (add the password to the URL, or use CUSTODIA_DATABASE)",
            args.from.display()
        );
    }
    Ok(())
}
