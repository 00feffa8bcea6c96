//! `custodia demo`: a realistic company in a fresh data directory, with 90 days of
//! activity through the gateway and the risk ranking it leads to.
//!
//! The demo runs on a manual clock that starts 90 days before the demo's "today" and is
//! advanced day by day (never slept on): every vault access is a real gateway call as a
//! person (authorized, recorded in the ledger), and reaches the risk engine from the
//! ledger, which the engine reads ([`server::RiskState::catch_up`]) as in `custodia
//! serve`. HR, endpoint, mail and web events go to the engine directly, as connectors
//! would send them.

use std::sync::Arc;
use std::time::Instant;

use anyhow::{bail, Context as _};
use demo::activity::{self, ActivityPlan, VaultAction};
use gateway::{AccessContext, Actor, Gateway, GatewayError, NewDocument};
use ledger::{Ledger, LedgerConfig};
use model::{DocumentId, EmploymentStatus, ManualClock, PersonId, Role, SharedClock};
use risk::{ScoringConfig, UserScore};
use store::{SqliteStore, Store};

use crate::commands::DemoArgs;
use crate::install::{self, Context, InstallationLedger};

/// Threads making the day's gateway calls (the ledger commits their records together).
const WORKERS: usize = 8;
/// People shown with their reasons at the top of the ranking.
const SHOWN: usize = 5;

/// The demo installation, opened on the demo's clock.
struct DemoInstallation {
    gateway: Arc<Gateway>,
    ledger: Arc<InstallationLedger>,
    risk: server::RiskState,
}

fn open(ctx: &Context, clock: &ManualClock) -> anyhow::Result<DemoInstallation> {
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&ctx.data_dir)?);
    let keys = ctx.load_keyring()?;
    let shared: SharedClock = Arc::new(clock.clone());
    let signing = ctx.signing_key()?;
    let origin = signing.name().to_owned();
    let ledger = Arc::new(Ledger::open(
        Arc::clone(&store),
        signing,
        Arc::clone(&shared),
        LedgerConfig::new(&origin),
        Vec::new(),
    )?);
    let risk = server::RiskState::open(Arc::clone(&store), activity::UTC_OFFSET_MINUTES)?;
    let gateway = Gateway::open(store, keys, shared, ledger.clone())?;
    Ok(DemoInstallation {
        gateway: Arc::new(gateway),
        ledger,
        risk,
    })
}

/// What the 90 days amounted to.
#[derive(Default)]
struct ActivityCounts {
    allowed: u64,
    denied: u64,
}

fn workstation() -> AccessContext {
    AccessContext {
        device: Some("workstation".into()),
        trusted_network: true,
        ..Default::default()
    }
}

/// One vault access as a person; a denial is an outcome, not an error.
fn perform(gw: &Gateway, person: &PersonId, action: &VaultAction) -> anyhow::Result<bool> {
    let actor = Actor::Person(person.clone());
    let ctx = workstation();
    let result = match action {
        VaultAction::Read(id) => gw.read_customer(&actor, &ctx, id).map(|_| ()),
        VaultAction::SearchEmail(email) => gw.search_customers(&actor, &ctx, email, 10).map(|_| ()),
        VaultAction::ListOwn { limit } => gw
            .list_customers(&actor, &ctx, Some(person), (*limit).min(server::MAX_LIMIT))
            .map(|_| ()),
        VaultAction::Download(id) => gw.download_document(&actor, &ctx, id).map(|_| ()),
    };
    match result {
        Ok(()) => Ok(true),
        Err(GatewayError::Denied { .. }) => Ok(false),
        Err(e) => Err(e).with_context(|| format!("demo activity of {person}")),
    }
}

/// Makes one batch of calls on `WORKERS` threads; each person's calls stay in order.
fn perform_all(gw: &Gateway, actions: &[(PersonId, VaultAction)], counts: &mut ActivityCounts) -> anyhow::Result<()> {
    let mut buckets: Vec<Vec<&(PersonId, VaultAction)>> = vec![Vec::new(); WORKERS];
    for a in actions {
        let slot =
            a.0.as_str()
                .bytes()
                .fold(0usize, |h, b| h.wrapping_mul(31).wrapping_add(usize::from(b)));
        if let Some(bucket) = buckets.get_mut(slot % WORKERS) {
            bucket.push(a);
        }
    }
    let results: Vec<anyhow::Result<(u64, u64)>> = std::thread::scope(|scope| {
        let handles: Vec<_> = buckets
            .iter()
            .filter(|b| !b.is_empty())
            .map(|bucket| {
                scope.spawn(move || -> anyhow::Result<(u64, u64)> {
                    let (mut allowed, mut denied) = (0, 0);
                    for (person, action) in bucket {
                        if perform(gw, person, action)? {
                            allowed += 1;
                        } else {
                            denied += 1;
                        }
                    }
                    Ok((allowed, denied))
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(anyhow::anyhow!("a demo worker thread failed")))
            })
            .collect()
    });
    for r in results {
        let (allowed, denied) = r?;
        counts.allowed += allowed;
        counts.denied += denied;
    }
    Ok(())
}

/// A CSV of `owner`'s accounts (name, email, phone), as a salesperson copies them.
fn accounts_csv(customers: &[model::NewCustomer], owner: &PersonId) -> Vec<u8> {
    let mut csv = String::from("name,email,phone\n");
    for c in customers.iter().filter(|c| c.owner.as_ref() == Some(owner)) {
        let first = |values: &[String]| values.first().cloned().unwrap_or_default();
        csv.push_str(&format!(
            "{},{},{}\n",
            c.display_name,
            first(&c.emails),
            first(&c.phones)
        ));
    }
    csv.into_bytes()
}

/// One upload through the proxy and what the proxy did with it.
struct ProxiedUpload {
    person: PersonId,
    file: &'static str,
    outcome: icap::InspectionOutcome,
}

impl ProxiedUpload {
    fn blocked(&self) -> bool {
        matches!(self.outcome, icap::InspectionOutcome::Block { .. })
    }
}

/// The last evening, the two departing salespeople upload a file each to a personal
/// drive through the company's proxy, which names them by their login: the thief's
/// customer list and the other's farewell note go through the ICAP inspector of
/// `custodia serve --icap`, are judged as theirs and recorded as their actions.
fn upload_through_the_proxy(
    inst: &DemoInstallation,
    clock: &ManualClock,
    company: &demo::Company,
    plan: &ActivityPlan,
    thief_file: Vec<u8>,
) -> anyhow::Result<Vec<ProxiedUpload>> {
    clock.set(activity::local_ms(
        activity::last_activity_day(),
        activity::EVENING_MINUTES + 30,
    ));
    let engine = inst.gateway.dlp_engine(
        &Actor::Operator { name: "demo".into() },
        &AccessContext::default(),
        dlp::Policy::default(),
    )?;
    let inspector = crate::serve_cmd::upload_inspector(&inst.gateway, Arc::new(engine));
    let farewell = b"Thanks for four great years on the team. Keep in touch!\n".to_vec();
    let sends = [
        (&plan.cast.thief, "accounts.csv", thief_file),
        (&plan.cast.clean_leaver, "farewell.txt", farewell),
    ];
    let mut uploads = Vec::new();
    for (person, file, data) in sends {
        let login = company
            .people
            .iter()
            .find(|p| &p.id == person)
            .and_then(|p| p.work_email.split('@').next())
            .unwrap_or(person.as_str())
            .to_owned();
        let upload = icap::Upload {
            method: "POST".into(),
            url: "https://drive.personal.example/upload".into(),
            headers: Vec::new(),
            parts: vec![icap::UploadPart {
                origin: icap::PartOrigin::Field,
                field_name: Some("file".into()),
                filename: Some(file.into()),
                content_type: None,
                data: data.into(),
            }],
            unreadable: None,
            user: icap::ProxyUser::Named(login),
            client_ip: None,
        };
        uploads.push(ProxiedUpload {
            person: person.clone(),
            file,
            outcome: inspector.inspect(&upload),
        });
    }
    Ok(uploads)
}

/// Plays the plan: the clock moves day by day; status changes, working-hours accesses,
/// after-hours accesses and the day's other events, in that order.
fn play(
    inst: &DemoInstallation,
    clock: &ManualClock,
    plan: &ActivityPlan,
    operator: &Actor,
) -> anyhow::Result<ActivityCounts> {
    let mut counts = ActivityCounts::default();
    let gw = &inst.gateway;
    for day in &plan.days {
        clock.set(activity::local_ms(day.day, 8 * 60));
        for change in &day.status_changes {
            gw.set_person_status(
                operator,
                &workstation(),
                &change.person,
                change.status,
                change.notice_date.clone(),
                change.last_day.clone(),
            )?;
        }
        clock.set(activity::local_ms(day.day, activity::MORNING_MINUTES));
        perform_all(gw, &day.working_hours, &mut counts)?;
        clock.set(activity::local_ms(day.day, activity::EVENING_MINUTES));
        perform_all(gw, &day.after_hours, &mut counts)?;
        server::log_unreadable(&inst.risk.catch_up()?);
        inst.risk.engine().add_events(&day.events);
    }
    Ok(counts)
}

pub fn run(ctx: &Context, args: DemoArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    if args.dir.exists() {
        if !args.force {
            bail!(
                "{} already exists; pass --force to replace it, or --dir to build the demo elsewhere",
                args.dir.display()
            );
        }
        std::fs::remove_dir_all(&args.dir).with_context(|| format!("cannot remove {}", args.dir.display()))?;
    }
    let demo_ctx = ctx.for_demo(&args.dir);
    install::init_quiet(&demo_ctx)?;
    let clock = ManualClock::new(activity::local_ms(activity::first_activity_day(), 7 * 60));
    let inst = open(&demo_ctx, &clock)?;
    let gw = &inst.gateway;
    let (actor, access) = (demo_ctx.actor(), demo_ctx.access());

    let company = demo::company(args.seed);
    gw.import_people(&actor, &access, &activity::people_at_start(&company), &company.teams)?;
    let customers = demo::customers(args.seed, args.customers, &company);
    let docs = demo::documents(&company, &customers);
    let Some(plan) = activity::activity(args.seed, &company, &customers) else {
        bail!("the demo company has no departing salespeople to play the risk story");
    };
    let bar = indicatif::ProgressBar::new(customers.len() as u64);
    if let Ok(style) = indicatif::ProgressStyle::with_template("sealing customers [{bar:30}] {pos}/{len} ({per_sec})") {
        bar.set_style(style.progress_chars("=> "));
    }
    // The accounts the thief copied before giving notice, as the file they upload.
    let thief_file = accounts_csv(&customers, &plan.cast.thief);
    let report = gw.import_customers(&actor, &access, customers, false, &|n| bar.inc(n))?;
    bar.finish_and_clear();
    for d in &docs {
        gw.add_document(
            &actor,
            &access,
            NewDocument {
                id: Some(DocumentId(d.id.clone())),
                title: d.title.clone(),
                file_name: d.file_name.clone(),
                kind: d.kind,
                custodian: d.custodian.clone(),
                classification: d.classification,
                compartments: d.compartments.clone(),
                body: d.body.clone(),
            },
        )?;
    }

    let activity_started = Instant::now();
    let counts = play(&inst, &clock, &plan, &actor)?;
    let uploads = upload_through_the_proxy(&inst, &clock, &company, &plan, thief_file)?;
    let activity_seconds = activity_started.elapsed().as_secs_f64();
    server::log_unreadable(&inst.risk.catch_up()?);
    inst.risk.save_if_changed()?;
    let scored = inst.risk.engine().score(&ScoringConfig::default())?;
    let ranking = crate::risk_cmd::ranked(scored.users);
    let events = inst.risk.engine().event_count();
    if let Err(e) = inst.ledger.checkpoint_now() {
        eprintln!("warning: could not sign a final ledger checkpoint: {e}");
    }

    let dir = args.dir.display();
    let departing: Vec<_> = company
        .people
        .iter()
        .filter(|p| p.status == EmploymentStatus::Departing)
        .collect();
    let departed: Vec<_> = company
        .people
        .iter()
        .filter(|p| p.status == EmploymentStatus::Departed)
        .collect();
    let rep = company
        .by_role(Role::SalesRep)
        .find(|p| p.status == EmploymentStatus::Active);
    let rank_of = |id: &PersonId| ranking.iter().position(|s| s.user == id.0);
    let score_json = |s: &UserScore| {
        serde_json::json!({
            "user": s.user,
            "score": (f64::from(s.score) * 10.0).round() / 10.0,
            "first_alert": s.first_alert.map(risk::time::iso_date),
            "reasons": s.reasons,
        })
    };
    if ctx.json {
        crate::output::json(&serde_json::json!({
            "data_dir": args.dir,
            "people": company.people.len(),
            "teams": company.teams.len(),
            "customers": report.imported,
            "documents": docs.len(),
            "departing": departing.iter().map(|p| &p.id).collect::<Vec<_>>(),
            "departed": departed.iter().map(|p| &p.id).collect::<Vec<_>>(),
            "activity": {
                "first_day": risk::time::iso_date(activity::first_activity_day()),
                "last_day": risk::time::iso_date(activity::last_activity_day()),
                "vault_allowed": counts.allowed,
                "vault_denied": counts.denied,
                "events": events,
            },
            "uploads": uploads.iter().map(|u| serde_json::json!({
                "person": u.person,
                "file": u.file,
                "blocked": u.blocked(),
            })).collect::<Vec<_>>(),
            "risk": {
                "thief": plan.cast.thief,
                "clean_leaver": plan.cast.clean_leaver,
                "ranking": ranking.iter().take(SHOWN).map(score_json).collect::<Vec<_>>(),
                "clean_leaver_rank": rank_of(&plan.cast.clean_leaver).map(|r| r + 1),
            },
        }))?;
        return Ok(());
    }
    outln!(
        "Built the demo company \"Custodia Demo JSC\" in {dir} ({:.1} s)",
        started.elapsed().as_secs_f64()
    );
    outln!();
    outln!(
        "  {} people in {} teams (sales, support, engineering, finance, HR, security, management)",
        company.people.len(),
        company.teams.len()
    );
    outln!(
        "  {} customers, every sensitive field sealed with its own data key",
        report.imported
    );
    outln!(
        "  {} classified documents in compartments: {}",
        docs.len(),
        demo::COMPARTMENTS
            .iter()
            .map(|(c, _)| *c)
            .collect::<Vec<_>>()
            .join(", ")
    );
    for p in &departing {
        outln!(
            "  departing: {} {} ({}), last day {}",
            p.id,
            p.name,
            p.role,
            p.last_day.as_deref().unwrap_or("?")
        );
    }
    for p in &departed {
        outln!(
            "  departed:  {} {} ({}), left {}",
            p.id,
            p.name,
            p.role,
            p.last_day.as_deref().unwrap_or("?")
        );
    }
    outln!();
    outln!(
        "90 days of activity, {} to {}, the clock advanced day by day ({activity_seconds:.1} s):",
        risk::time::human_date(activity::first_activity_day()),
        risk::time::human_date(activity::last_activity_day())
    );
    outln!(
        "  {} vault accesses through the gateway ({} allowed, {} denied), each in the ledger",
        counts.allowed + counts.denied,
        counts.allowed,
        counts.denied
    );
    outln!(
        "  {} activity events in the risk engine (vault accesses, HR, logons, USB, mail, web)",
        events
    );
    outln!();
    outln!("The last evening, uploads to a personal drive through the company's web proxy (ICAP), each judged as its sender's:");
    for upload in &uploads {
        let what = match &upload.outcome {
            icap::InspectionOutcome::Allow => "let through".to_string(),
            icap::InspectionOutcome::Block { reason } => format!("stopped: {reason}"),
        };
        outln!("  {} uploading {}: {what}", upload.person, upload.file);
    }
    let name_of = |id: &str| {
        company
            .people
            .iter()
            .find(|p| p.id.0 == id)
            .map(|p| format!("{}, {}", p.name, p.role))
            .unwrap_or_default()
    };
    outln!();
    outln!("Insider-risk ranking (`custodia --data-dir {dir} risk scores`):");
    for (i, s) in ranking.iter().take(SHOWN).enumerate() {
        let alert = match s.first_alert {
            Some(day) => format!("alerted {}", risk::time::iso_date(day)),
            None => "not alerted".to_string(),
        };
        outln!(
            "  #{}  {}  score {:.1}  {alert}  ({})",
            i + 1,
            s.user,
            s.score,
            name_of(&s.user)
        );
        for reason in s.reasons.iter().take(if i == 0 { 6 } else { 3 }) {
            outln!("        - {reason}");
        }
    }
    if let Some(r) = rank_of(&plan.cast.clean_leaver) {
        if let Some(s) = ranking.get(r) {
            outln!();
            outln!(
                "  {} ({}) also gave notice but took nothing: rank {} of {}, score {:.1}, {}",
                s.user,
                name_of(&s.user),
                r + 1,
                ranking.len(),
                s.score,
                match s.first_alert {
                    Some(day) => format!("alerted {}", risk::time::iso_date(day)),
                    None => "not alerted".to_string(),
                }
            );
        }
    }
    outln!();
    outln!(
        "The key file is {}/custodia.key; the database alone reveals nothing.",
        dir
    );
    outln!("Look around:");
    outln!("  custodia --data-dir {dir} people list");
    outln!("  custodia --data-dir {dir} customers list --limit 10");
    outln!("  custodia --data-dir {dir} customers search nguyen");
    outln!("  custodia --data-dir {dir} documents list");
    outln!("  custodia --data-dir {dir} risk scores");
    outln!("  custodia --data-dir {dir} audit search --person {}", plan.cast.thief);
    outln!("  custodia --data-dir {dir} audit search --action dlp.scan.upload");
    if let Some(rep) = rep {
        outln!(
            "  custodia --data-dir {dir} --as {} customers list --limit 5    # what a sales rep sees",
            rep.id
        );
    }
    Ok(())
}
