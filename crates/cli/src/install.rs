//! Finding, creating and opening an installation: data directory, key file
//! and the gateway over them.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use anyhow::{bail, Context as _};
use gateway::{AccessContext, Actor, AuditRecord, Gateway, Keyring, RecordError, Recorder, KEYRING_ENV};
use model::{PersonId, SystemClock};
use store::{SqliteStore, Store};

use crate::Cli;

/// What every command needs to find its installation.
pub struct Context {
    pub data_dir: PathBuf,
    key_file: Option<PathBuf>,
    pub as_person: Option<String>,
    pub json: bool,
}

impl Context {
    pub fn new(cli: &Cli) -> Context {
        Context { data_dir: cli.data_dir.clone(), key_file: cli.key_file.clone(), as_person: cli.as_person.clone(), json: cli.json }
    }

    /// The same options pointed at a demo directory with its own key file.
    pub fn for_demo(&self, dir: &Path) -> Context {
        Context { data_dir: dir.to_path_buf(), key_file: None, as_person: None, json: self.json }
    }

    pub fn key_file(&self) -> PathBuf {
        self.key_file.clone().unwrap_or_else(|| self.data_dir.join("custodia.key"))
    }

    /// The keyring from the environment, if set there.
    fn keyring_from_env() -> anyhow::Result<Option<Keyring>> {
        match std::env::var(KEYRING_ENV) {
            Ok(text) if !text.trim().is_empty() => Ok(Some(Keyring::from_text(&text, &format!("the {KEYRING_ENV} variable"))?)),
            _ => Ok(None),
        }
    }

    fn load_keyring(&self) -> anyhow::Result<Keyring> {
        if let Some(ring) = Self::keyring_from_env()? {
            return Ok(ring);
        }
        let path = self.key_file();
        warn_if_readable_by_others(&path);
        Ok(Keyring::load(&path)?)
    }

    /// Who is acting: the local operator, or `--as PERSON`.
    pub fn actor(&self) -> Actor {
        match &self.as_person {
            Some(p) => Actor::Person(PersonId(p.clone())),
            None => Actor::Operator { name: std::env::var("USER").unwrap_or_else(|_| "local".into()) },
        }
    }

    pub fn access(&self) -> AccessContext {
        AccessContext { device: Some("cli".into()), trusted_network: true, ..Default::default() }
    }

    /// Opens the installation's gateway.
    pub fn open(&self) -> anyhow::Result<Installation> {
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&self.data_dir)?);
        let keys = self.load_keyring()?;
        let recorder = Arc::new(InterimRecorder::open(&self.data_dir)?);
        let gateway = Gateway::open(store, keys, Arc::new(SystemClock), recorder)?;
        Ok(Installation { gateway })
    }

    /// Writes the key file after a rotation.
    pub fn persist_keyring(&self, keys: &Keyring) -> Result<(), gateway::CryptoError> {
        keys.save_replace(&self.key_file())
    }
}

fn warn_if_readable_by_others(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(path) {
            if meta.permissions().mode() & 0o077 != 0 {
                eprintln!("warning: key file {} can be read by other users; run `chmod 600 {}`", path.display(), path.display());
            }
        }
    }
}

/// An open installation.
pub struct Installation {
    pub gateway: Gateway,
}

/// Records decisions as JSON lines with an fsync each, until the
/// tamper-evident ledger is wired in.
struct InterimRecorder {
    file: Mutex<std::fs::File>,
}

impl InterimRecorder {
    fn open(dir: &Path) -> anyhow::Result<InterimRecorder> {
        let path = dir.join("audit.jsonl");
        let file = std::fs::OpenOptions::new().create(true).append(true).open(&path).with_context(|| format!("opening {}", path.display()))?;
        Ok(InterimRecorder { file: Mutex::new(file) })
    }
}

impl Recorder for InterimRecorder {
    fn record(&self, record: &AuditRecord) -> Result<(), RecordError> {
        let line = serde_json::to_string(record).map_err(|e| RecordError(e.to_string()))?;
        let mut f = self.file.lock().map_err(|_| RecordError("audit file lock poisoned".into()))?;
        writeln!(f, "{line}").and_then(|_| f.sync_data()).map_err(|e| RecordError(e.to_string()))
    }
}

/// `custodia init`: a new data directory with its keyring.
pub fn init(ctx: &Context) -> anyhow::Result<()> {
    let (installation, key_place) = init_quiet(ctx)?;
    let dir = &ctx.data_dir;
    if ctx.json {
        println!("{}", serde_json::json!({"data_dir": dir, "installation": installation, "key": key_place}));
    } else {
        println!("Initialized custodia in {}", dir.display());
        println!("  installation: {installation}");
        println!("  key:          {key_place}");
        println!("Keep the key apart from backups of the data directory: a copy of the database alone reveals nothing.");
    }
    Ok(())
}

/// Creates the installation; returns its id and where its key is.
pub fn init_quiet(ctx: &Context) -> anyhow::Result<(String, String)> {
    let dir = &ctx.data_dir;
    if dir.join(store::DB_FILE).exists() {
        bail!("{} already holds a custodia installation; choose another --data-dir", dir.display());
    }
    let created_dir = !dir.exists();
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create data directory {}", dir.display()))?;
    let result = init_inner(ctx);
    if result.is_err() {
        // Leave nothing half-made behind.
        let _ = std::fs::remove_file(dir.join(store::DB_FILE));
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
    let store = SqliteStore::create(&ctx.data_dir)?;
    Gateway::initialize(&store, &keys)?;
    Ok((keys.installation().to_owned(), key_place))
}

fn new_installation_id() -> anyhow::Result<String> {
    let ring = Keyring::generate("probe")?;
    // The check value of a fresh random keyring is a fine random id.
    Ok(format!("inst-{}", &ring.check_value()[..12]))
}
