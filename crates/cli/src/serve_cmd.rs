//! `custodia serve`: the HTTP API over the installation.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;
use clap::Args;
use gateway::Gateway;
use ledger::{FileWitness, Ledger, LedgerConfig, Witness};
use model::{Clock, EmploymentStatus, PersonId, SharedClock, SystemClock};
use store::Store;

use crate::install::Context;

#[derive(Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Forward risk alerts to a SIEM while serving (as `custodia risk forward` does).
    #[command(flatten)]
    forward: crate::risk_cmd::ForwardArgs,
    /// Seconds between the scoring runs that forward new risk alerts.
    #[arg(long, default_value_t = 300, value_name = "SECONDS")]
    forward_every: u64,
    /// Also serve ICAP (RFC 3507) on this address, so a web proxy such as
    /// Squid hands uploads to the DLP engine (REQMOD service `/reqmod`).
    #[arg(long, value_name = "ADDR")]
    icap: Option<SocketAddr>,
    /// The ICAP header in which the proxy names the user it authenticated, so
    /// uploads are judged and recorded as that person's (Squid:
    /// `adaptation_send_username on` and `icap_client_username_header`).
    #[arg(long, value_name = "HEADER", default_value = "X-Client-Username", requires = "icap")]
    icap_username_header: String,
    /// The proxy sends user names in base64 (Squid: `icap_client_username_encode on`).
    #[arg(long, requires = "icap")]
    icap_username_base64: bool,
    /// The proxy's address or network (CIDR), the only clients ICAP answers, since it
    /// believes the user name a client sends. Repeat for several. Default: loopback.
    #[arg(long = "icap-allow", value_name = "CIDR", requires = "icap", value_parser = proxy_network)]
    icap_allow: Vec<ipnet::IpNet>,
    /// Serve HTTPS with this PEM certificate chain (leaf first); needs --tls-key.
    #[arg(long, value_name = "FILE", requires = "tls_key", conflicts_with = "tls_self_signed")]
    tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Serve HTTPS with a fresh self-signed certificate, for trials; prints
    /// the certificate and its SHA-256 fingerprint for clients to check.
    #[arg(long)]
    tls_self_signed: bool,
    /// A network (CIDR, e.g. 10.20.0.0/16) whose requests policy treats as
    /// coming from a trusted network (the default policy allows customer
    /// exports only from one). Repeat for several. Default: loopback only.
    #[arg(long = "trusted-network", value_name = "CIDR")]
    trusted_networks: Vec<server::TrustedNetwork>,
    /// A reverse proxy (CIDR, e.g. 10.0.0.5/32) in front of this server, such
    /// as nginx or HAProxy: its requests are attributed to the client it names
    /// in X-Forwarded-For, for --trusted-network, login throttling and the
    /// ledger. From anyone else the header is ignored. Repeat for several.
    #[arg(long = "trusted-proxy", value_name = "CIDR")]
    trusted_proxies: Vec<server::TrustedNetwork>,
}

/// An address (`10.0.0.5`) or a network (`10.0.0.0/24`).
fn proxy_network(text: &str) -> Result<ipnet::IpNet, String> {
    text.parse::<ipnet::IpNet>()
        .or_else(|_| text.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
        .map_err(|_| format!("`{text}` is no address or network; write it as 10.0.0.5 or 10.0.0.0/24"))
}

/// The TLS identity the arguments ask for, if any, and the certificate to
/// show when it is self-signed.
fn tls_identity(args: &ServeArgs) -> anyhow::Result<Option<(server::TlsIdentity, Option<String>)>> {
    if let (Some(cert), Some(key)) = (&args.tls_cert, &args.tls_key) {
        return Ok(Some((server::TlsIdentity::from_pem_files(cert, key)?, None)));
    }
    if !args.tls_self_signed {
        return Ok(None);
    }
    let mut names = vec!["localhost".to_owned(), "127.0.0.1".to_owned()];
    if !args.listen.ip().is_unspecified() && !args.listen.ip().is_loopback() {
        names.push(args.listen.ip().to_string());
    }
    let (identity, pem) = server::TlsIdentity::self_signed(&names)?;
    Ok(Some((identity, Some(pem))))
}

pub fn run(ctx: &Context, args: ServeArgs) -> anyhow::Result<()> {
    let auth = ctx.open_store()?;
    let store: Arc<dyn Store> = auth.clone();
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
    // The risk engine reads the ledger: the gateway's decisions reach it once durable,
    // this server's and those of every other process on the store. It does so in the
    // background from the start (a long ledger new to it must not hold up serving).
    let timezone = store
        .get_setting(gateway::TIMEZONE_SETTING)?
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let risk = Arc::new(server::RiskState::open(Arc::clone(&store), timezone)?);
    let recorder: Arc<dyn gateway::Recorder> = ledger;
    // The ledger key, loaded a second time: the gateway signs evidence bundles with it.
    let mut gateway = Gateway::open(store, keys, Arc::clone(&clock), recorder)?.with_audit_key(ctx.signing_key()?);
    if let Some(source) = ctx.keyring_source() {
        gateway = gateway.with_keyring_source(source);
    }
    let gateway = Arc::new(gateway);
    let forwarding = match args.forward.config()? {
        Some(config) => Some(risk::Forwarder::start(
            config,
            Arc::clone(&clock),
            Arc::new(risk::WaitSleeper::default()),
        )?),
        None => None,
    };
    // One DLP engine, built from the vault at start and kept current through the
    // ledger (changes by this server or others on the same database), for
    // `POST /v1/scan` and ICAP.
    let engine = Arc::new(gateway.dlp_engine(
        &gateway::Actor::Operator { name: "serve".into() },
        &gateway::AccessContext::default(),
        dlp::Policy::default(),
    )?);
    let icap = args
        .icap
        .map(|addr| (addr, upload_inspector(&gateway, Arc::clone(&engine))));
    // TOTP secrets an earlier version stored in clear are sealed before any request.
    let sealed = server::seal_stored_totp_secrets(&gateway, auth.as_ref())?;
    if sealed > 0 {
        eprintln!("Sealed the TOTP secrets of {sealed} person(s) that an earlier version stored in clear.");
    }
    // First run: no one can log in yet. The code goes to the operator's
    // terminal only; it is stored hashed and spent by its first use. Servers
    // sharing the database keep the first unexpired code.
    let started_ms = clock.now_ms();
    let bootstrap = server::issue_bootstrap_code(&*auth, started_ms, false)?;
    let trusted = if args.trusted_networks.is_empty() {
        vec!["127.0.0.0/8".parse()?, "::1/128".parse()?]
    } else {
        args.trusted_networks.clone()
    };
    let mut state = server::AppState::new(gateway, auth, clock)
        .with_risk(risk)
        .with_dlp(engine)
        .with_trusted_networks(trusted)
        .with_trusted_proxies(args.trusted_proxies.clone());
    if let Some(forwarder) = forwarding {
        let every = std::time::Duration::from_secs(args.forward_every.max(10));
        state = state.with_alert_forwarding(forwarder, every);
    }
    let tls = tls_identity(&args)?;
    let runtime = server::runtime_builder().build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .with_context(|| format!("cannot listen on {}", args.listen))?;
        let place = match &ctx.database {
            Some(url) => store::redact_url(url),
            None => ctx.data_dir.display().to_string(),
        };
        let scheme = if tls.is_some() { "https" } else { "http" };
        eprintln!("custodia serving {place} on {scheme}://{}", listener.local_addr()?);
        if let Some((identity, Some(pem))) = &tls {
            eprintln!(
                "Self-signed certificate (for trials), SHA-256 fingerprint {}:\n{pem}",
                identity.fingerprint_sha256()
            );
        }
        print_bootstrap(&bootstrap, started_ms);
        if let Some((addr, inspector)) = icap {
            let icap_listener = tokio::net::TcpListener::bind(addr)
                .await
                .with_context(|| format!("cannot listen for ICAP on {addr}"))?;
            eprintln!(
                "custodia inspecting uploads on icap://{}/reqmod",
                icap_listener.local_addr()?
            );
            let config = icap::ServerConfig {
                username_header: args.icap_username_header.clone(),
                username_base64: args.icap_username_base64,
                allowed_clients: if args.icap_allow.is_empty() {
                    icap::ServerConfig::default().allowed_clients
                } else {
                    args.icap_allow.clone()
                },
                ..icap::ServerConfig::default()
            };
            config.validate()?;
            tokio::spawn(icap::serve(icap_listener, inspector, config));
        }
        match tls {
            Some((identity, _)) => server::serve_tls(listener, identity, state).await,
            None => server::serve(listener, state).await,
        }
        .context("the server stopped")
    })
}

/// Tells the operator how the first security admin sets their password.
fn print_bootstrap(bootstrap: &server::BootstrapCode, now_ms: i64) {
    let minutes = |ms: i64| (ms.max(0) + 59_999) / 60_000;
    match bootstrap {
        server::BootstrapCode::Issued { code, expires_ms } => eprintln!(
            "No one has a password yet. One-time bootstrap code for the first security admin, valid for {} \
             minutes:\n  {code}\n\
             Use it once: POST /v1/bootstrap {{\"code\", \"person\", \"password\"}} (the person must be an \
             imported security admin). Other servers on this database accept it too. `custodia bootstrap` \
             issues a new one (voiding this one).",
            minutes(expires_ms - now_ms)
        ),
        server::BootstrapCode::AlreadyIssued { issued_ms, expires_ms } => eprintln!(
            "No one has a password yet. A bootstrap code issued {} minute(s) ago (printed by the server that \
             issued it, sharing this database, or by an earlier start) stays valid for {} more minute(s); \
             no new one is printed. Lost it? `custodia bootstrap` issues a new one (voiding it).",
            (now_ms - issued_ms).max(0) / 60_000,
            minutes(expires_ms - now_ms)
        ),
        server::BootstrapCode::Over => {}
    }
}

/// `custodia bootstrap`: a new one-time code for the first security admin,
/// replacing any earlier one (e.g. printed by a server whose output is lost).
/// Recorded in the ledger, without the code.
pub fn bootstrap(ctx: &Context) -> anyhow::Result<()> {
    // Only whoever holds the installation's key may issue a code.
    let installation = ctx.open()?;
    let store = ctx.open_store()?;
    let now = SystemClock.now_ms();
    match server::issue_bootstrap_code(&*store, now, true)? {
        server::BootstrapCode::Issued { code, expires_ms } => {
            installation.gateway.record_auth_event(
                "bootstrap_code",
                None,
                &gateway::AccessContext {
                    device: Some("cli".into()),
                    ..Default::default()
                },
                true,
                "issued-by-operator",
            )?;
            outln!("{code}");
            eprintln!(
                "One-time bootstrap code for the first security admin, valid for {} minutes; any earlier code \
                 is void. Use it once: POST /v1/bootstrap {{\"code\", \"person\", \"password\"}}.",
                (expires_ms - now) / 60_000
            );
            Ok(())
        }
        server::BootstrapCode::Over => anyhow::bail!(
            "bootstrap is over: a person already has a password; log in as a security admin, or set a \
             password with `custodia people set-password PERSON`"
        ),
        server::BootstrapCode::AlreadyIssued { .. } => {
            anyhow::bail!("another code was issued at the same moment; run `custodia bootstrap` again")
        }
    }
}

/// The live DLP engine, brought up to date before each upload is inspected.
struct LiveScanner {
    gateway: Arc<Gateway>,
    engine: Arc<gateway::DlpEngine>,
}

impl icap::ContentScanner for LiveScanner {
    fn scan(
        &self,
        parts: &[&[u8]],
        credentials: &[&str],
        context: &dlp::ScanContext,
    ) -> Result<dlp::ScanResult, String> {
        self.gateway.refresh_dlp(&self.engine).map_err(|e| e.to_string())?;
        Ok(self.engine.inspect_parts_and_credentials(parts, credentials, context))
    }
}

/// Who sent an upload: the person the proxy's user name belongs to, judged by
/// their employment (departing and departed people by the stricter rules). A
/// name the directory does not know, or knows for several people, is judged as a
/// contractor's, someone the company does not employ; a request without a name
/// as an active employee's, since the proxy then authenticates nobody.
fn upload_sender(gateway: &Gateway, user: &icap::ProxyUser) -> Result<icap::Sender, String> {
    let unmatched = |note| icap::Sender {
        person: None,
        employment: dlp::Employment::Contractor,
        note: Some(note),
    };
    let name = match user {
        icap::ProxyUser::Named(name) => name,
        icap::ProxyUser::Anonymous => {
            return Ok(icap::Sender {
                note: Some("sender:not-named-by-proxy"),
                ..icap::Sender::unidentified()
            })
        }
        icap::ProxyUser::Unreadable => return Ok(unmatched("sender:unreadable-name")),
    };
    Ok(match gateway.person_by_login(name).map_err(|e| e.to_string())? {
        gateway::LoginMatch::Person(person) => icap::Sender {
            employment: match gateway.employment_status(&person) {
                EmploymentStatus::Active => dlp::Employment::Active,
                EmploymentStatus::Departing | EmploymentStatus::Departed => dlp::Employment::Departing,
            },
            person: Some(person.id.0),
            note: None,
        },
        gateway::LoginMatch::Unknown => unmatched("sender:unknown-name"),
        gateway::LoginMatch::Ambiguous => unmatched("sender:ambiguous-name"),
    })
}

/// The DLP engine over the vault, following its changes, recording the
/// verdict on every request the proxy hands over in the ledger, through the
/// gateway, before the proxy releases it: as the sending person's action when
/// the proxy names one, with the client's address, why a body could not be
/// read, and for a `CONNECT` the tunnel's destination, since what passes
/// through a TLS tunnel the proxy does not intercept is never inspected.
pub(crate) fn upload_inspector(gateway: &Arc<Gateway>, engine: Arc<gateway::DlpEngine>) -> Arc<dyn icap::Inspector> {
    let proxy = gateway::Actor::Operator { name: "icap".into() };
    let gw = Arc::clone(gateway);
    let directory = Arc::clone(gateway);
    let scanner = LiveScanner {
        gateway: Arc::clone(gateway),
        engine,
    };
    let inspector = icap::DlpInspector::new(Arc::new(scanner), move |upload, sender, result, enforcement| {
        let actor = match &sender.person {
            Some(id) => gateway::Actor::Person(PersonId(id.clone())),
            None => proxy.clone(),
        };
        let access = gateway::AccessContext {
            client_address: upload.client_ip.map(|ip| ip.to_string()),
            ..gateway::AccessContext::default()
        };
        let mut notes: Vec<String> = upload
            .unreadable
            .iter()
            .map(|unreadable| unreadable.ledger_reason().to_string())
            .chain(sender.note.map(str::to_owned))
            .collect();
        if let Some(destination) = upload.tunnel_destination() {
            notes.push("not-inspected:tls-tunnel".into());
            // A host name can be made of customer data too; the ledger holds none, nor
            // a host nothing inspected (found in review).
            let plain = !sender.stopped_uninspected() && result.customer_records == 0 && result.findings.is_empty();
            notes.push(format!("tunnel:{}", if plain { destination } else { "withheld" }));
        }
        gw.record_scan(&actor, &access, "upload", result, enforcement, &notes)
            .map_err(|e| e.to_string())
    })
    .identifying(move |upload| upload_sender(&directory, &upload.user));
    Arc::new(inspector)
}

/// `custodia people set-password PERSON`: reads the password from standard
/// input (never from the command line, where other users could see it).
pub fn set_password(ctx: &Context, person: &str) -> anyhow::Result<()> {
    // The installation must open with its key before anything is changed.
    let installation = ctx.open()?;
    let store = ctx.open_store()?;
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .context("cannot read the password from standard input")?;
    let password = line.trim_end_matches(['\n', '\r']);
    let id = model::PersonId(person.to_owned());
    let known = store.get_person(&id)?.is_some();
    // Checked first: a password refused (too short or too long) changes nothing and
    // is recorded as refused, not as set (found in review).
    let hash = server::CheckedPassword::of(password);
    // Recorded before the password is installed (and the person's sessions and
    // tokens ended): an operator taking over an account leaves a trace. A name
    // that is no person is recorded as refused, without the name.
    let reason = match (&hash, known) {
        (_, false) => "unknown-person",
        (Err(_), true) => "invalid-password",
        (Ok(_), true) => "set-by-operator",
    };
    installation.gateway.record_auth_event_by(
        &ctx.operator(),
        "password_set",
        known.then_some(&id),
        &ctx.access(),
        known && hash.is_ok(),
        reason,
    )?;
    server::install_checked_password(&*store, &id, &hash?)?;
    outln!("Password set for {person}.");
    Ok(())
}
