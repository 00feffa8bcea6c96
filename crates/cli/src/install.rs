//! Finding, creating and opening an installation: data directory, key file
//! and the gateway over them.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{bail, Context as _};
use gateway::{AccessContext, Actor, Gateway, Keyring, KEYRING_ENV};
use ledger::{FileWitness, Ledger, LedgerConfig, SigningKey, VerifyingKey, Witness};
use model::{PersonId, SharedClock, SystemClock};
use store::{SqliteStore, Store};

use crate::Cli;

/// What every command needs to find its installation.
pub struct Context {
    pub data_dir: PathBuf,
    /// PostgreSQL URL when the store is there (`--database`); the password
    /// in it never reaches output.
    pub database: Option<String>,
    key_file: Option<PathBuf>,
    pub as_person: Option<String>,
    pub json: bool,
    witness_file: Option<PathBuf>,
    /// For `init`: the company's UTC offset in minutes.
    pub timezone_offset_minutes: i32,
}

/// The ledger as the CLI runs it: over the installation's store.
pub type InstallationLedger = Ledger<Arc<dyn Store>>;

impl Context {
    pub fn new(cli: &Cli) -> Context {
        Context {
            data_dir: cli.data_dir.clone(),
            database: cli.database.clone().filter(|d| !d.trim().is_empty()),
            key_file: cli.key_file.clone(),
            as_person: cli.as_person.clone(),
            json: cli.json,
            witness_file: cli.witness_file.clone(),
            timezone_offset_minutes: cli.timezone_offset(),
        }
    }

    /// The same options pointed at a demo directory with its own key file.
    pub fn for_demo(&self, dir: &Path) -> Context {
        Context {
            data_dir: dir.to_path_buf(),
            database: None,
            key_file: None,
            as_person: None,
            json: self.json,
            witness_file: None,
            // The demo company works in Vietnam (UTC+7).
            timezone_offset_minutes: 420,
        }
    }

    pub fn key_file(&self) -> PathBuf {
        self.key_file
            .clone()
            .unwrap_or_else(|| self.data_dir.join("custodia.key"))
    }

    /// The keyring from the environment, if set there.
    fn keyring_from_env() -> anyhow::Result<Option<Keyring>> {
        match std::env::var(KEYRING_ENV) {
            Ok(text) if !text.trim().is_empty() => {
                Ok(Some(Keyring::from_text(&text, &format!("the {KEYRING_ENV} variable"))?))
            }
            _ => Ok(None),
        }
    }

    pub fn load_keyring(&self) -> anyhow::Result<Keyring> {
        if let Some(ring) = Self::keyring_from_env()? {
            return Ok(ring);
        }
        let path = self.key_file();
        warn_if_readable_by_others(&path);
        Ok(Keyring::load(&path)?)
    }

    /// Where a server re-reads the keyring after another instance rotated keys:
    /// the key file, unless the keyring comes from the environment (which a
    /// running process cannot see change; restart it instead).
    pub fn keyring_source(&self) -> Option<gateway::KeyringSource> {
        if std::env::var(KEYRING_ENV).is_ok_and(|t| !t.trim().is_empty()) {
            return None;
        }
        let path = self.key_file();
        Some(Box::new(move || Keyring::load(&path)))
    }

    /// Who is acting: the local operator, or `--as PERSON`.
    pub fn actor(&self) -> Actor {
        match &self.as_person {
            Some(p) => Actor::Person(PersonId(p.clone())),
            None => Actor::Operator {
                name: std::env::var("USER").unwrap_or_else(|_| "local".into()),
            },
        }
    }

    /// The local operator, whatever `--as` says (for reviews about a person).
    pub fn operator(&self) -> Actor {
        Actor::Operator {
            name: std::env::var("USER").unwrap_or_else(|_| "local".into()),
        }
    }

    pub fn access(&self) -> AccessContext {
        AccessContext {
            device: Some("cli".into()),
            trusted_network: true,
            ..Default::default()
        }
    }

    pub fn witness_file(&self) -> Option<PathBuf> {
        self.witness_file.clone()
    }

    /// The ledger's signing key file (kept apart from the database).
    pub fn ledger_key_file(&self) -> PathBuf {
        self.data_dir.join("ledger.key")
    }

    /// The ledger's public key in C2SP vkey form, for verifiers.
    pub fn ledger_public_key_file(&self) -> PathBuf {
        self.data_dir.join("ledger.pub")
    }

    pub fn signing_key(&self) -> anyhow::Result<SigningKey> {
        let path = self.ledger_key_file();
        SigningKey::load_file(&path).with_context(|| {
            format!(
                "cannot load the ledger signing key {}; it is created by `custodia init`",
                path.display()
            )
        })
    }

    pub fn verifying_key(&self) -> anyhow::Result<VerifyingKey> {
        let path = self.ledger_public_key_file();
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read the ledger public key {}", path.display()))?;
        Ok(VerifyingKey::from_vkey(text.trim())?)
    }

    /// The installation's store: PostgreSQL when `--database` (or
    /// CUSTODIA_DATABASE) names one, else the data directory's SQLite file.
    pub fn open_store(&self) -> anyhow::Result<Arc<dyn server::AuthBackend>> {
        match &self.database {
            Some(url) => Ok(Arc::new(connect_postgres(url)?)),
            None => Ok(Arc::new(SqliteStore::open(&self.data_dir)?)),
        }
    }

    /// Opens the installation: store, ledger (recording every decision) and gateway.
    pub fn open(&self) -> anyhow::Result<Installation> {
        let store: Arc<dyn Store> = self.open_store()?;
        let keys = self.load_keyring()?;
        let clock: SharedClock = Arc::new(SystemClock);
        let signing = self.signing_key()?;
        let origin = signing.name().to_owned();
        let mut witnesses: Vec<Box<dyn Witness>> = Vec::new();
        if let Some(path) = &self.witness_file {
            witnesses.push(Box::new(FileWitness::new(path.clone())));
        }
        let ledger = Arc::new(Ledger::open(
            Arc::clone(&store),
            signing,
            Arc::clone(&clock),
            LedgerConfig::new(&origin),
            witnesses,
        )?);
        let gateway = Gateway::open(store, keys, clock, ledger.clone())?;
        Ok(Installation { gateway, ledger })
    }

    /// Writes the key file after a rotation.
    pub fn persist_keyring(&self, keys: &Keyring) -> Result<(), gateway::CryptoError> {
        keys.save_replace(&self.key_file())
    }
}

/// Connects to the PostgreSQL store named by `url`.
pub fn connect_postgres(url: &str) -> anyhow::Result<store::PostgresStore> {
    if !store::is_postgres_url(url) {
        bail!("--database must be a postgres:// or postgresql:// URL (without it, the store is the data directory's SQLite file)");
    }
    Ok(store::PostgresStore::connect(url)?)
}

fn warn_if_readable_by_others(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(path) {
            if meta.permissions().mode() & 0o077 != 0 {
                eprintln!(
                    "warning: key file {} can be read by other users; run `chmod 600 {}`",
                    path.display(),
                    path.display()
                );
            }
        }
    }
}

/// An open installation.
pub struct Installation {
    pub gateway: Gateway,
    pub ledger: Arc<InstallationLedger>,
}

impl Drop for Installation {
    // A command is short: sign a checkpoint over what it appended before
    // the process ends, so no entry stays outside a signed tree.
    fn drop(&mut self) {
        if let Err(e) = self.ledger.checkpoint_now() {
            eprintln!("warning: could not sign a final ledger checkpoint: {e}");
        }
    }
}

/// `custodia init`: a new data directory with its keyring.
pub fn init(ctx: &Context) -> anyhow::Result<()> {
    let (installation, key_place) = init_quiet(ctx)?;
    let dir = &ctx.data_dir;
    if ctx.json {
        outln!(
            "{}",
            serde_json::json!({"data_dir": dir, "installation": installation, "key": key_place})
        );
    } else {
        outln!("Initialized custodia in {}", dir.display());
        outln!("  installation: {installation}");
        outln!("  key:          {key_place}");
        outln!("Keep the key apart from backups of the data directory: a copy of the database alone reveals nothing.");
    }
    Ok(())
}

/// Creates the installation; returns its id and where its key is.
pub fn init_quiet(ctx: &Context) -> anyhow::Result<(String, String)> {
    let dir = &ctx.data_dir;
    if ctx.database.is_none() && dir.join(store::DB_FILE).exists() {
        bail!(
            "{} already holds a custodia installation; choose another --data-dir",
            dir.display()
        );
    }
    // checked before anything is made, so the clean-up below never removes
    // an earlier installation's audit ledger
    if ctx.database.is_none() && dir.join(store::LEDGER_FILE).exists() {
        bail!(
            "{} holds an audit ledger ({}) without its vault, perhaps evidence from an earlier \
             installation; move it away or choose another --data-dir",
            dir.display(),
            store::LEDGER_FILE
        );
    }
    let created_dir = !dir.exists();
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create data directory {}", dir.display()))?;
    let result = init_inner(ctx);
    if result.is_err() {
        // Leave nothing half-made behind.
        for file in [store::DB_FILE, store::LEDGER_FILE] {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(dir.join(format!("{file}{suffix}")));
            }
        }
        let _ = std::fs::remove_file(ctx.ledger_key_file());
        if created_dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
    result
}

fn init_inner(ctx: &Context) -> anyhow::Result<(String, String)> {
    let (keys, key_place) = match Context::keyring_from_env()? {
        Some(ring) => (ring, format!("from the {KEYRING_ENV} environment variable")),
        None => {
            let installation = new_installation_id()?;
            let ring = Keyring::generate(&installation)?;
            let path = ctx.key_file();
            ring.save_new(&path)?;
            (ring, format!("{} (mode 0600)", path.display()))
        }
    };
    let store: Arc<dyn Store> = match &ctx.database {
        Some(url) => Arc::new(connect_postgres(url)?),
        None => Arc::new(SqliteStore::create(&ctx.data_dir)?),
    };
    Gateway::initialize(&*store, &keys, ctx.timezone_offset_minutes)?;
    let signing = SigningKey::generate(&format!("custodia/{}", keys.installation()))?;
    signing.write_file(&ctx.ledger_key_file())?;
    std::fs::write(ctx.ledger_public_key_file(), format!("{}\n", signing.verifying_key()))
        .with_context(|| format!("cannot write {}", ctx.ledger_public_key_file().display()))?;
    Ok((keys.installation().to_owned(), key_place))
}

fn new_installation_id() -> anyhow::Result<String> {
    let ring = Keyring::generate("probe")?;
    // The check value of a fresh random keyring is a fine random id.
    Ok(format!("inst-{}", &ring.check_value()[..12]))
}
