//! The vault's commands: customers, people, documents, keys, demo.

use std::path::PathBuf;

use anyhow::{bail, Context as _};
use clap::{Args, Subcommand};
use gateway::{GatewayError, NewDocument};
use model::{Classification, CustomerId, DocumentId, DocumentKind, PersonId};

use crate::install::Context;
use crate::{import, output};

#[derive(Subcommand)]
pub enum CustomersCmd {
    /// Import customers from a CSV file (all rows or none).
    ///
    /// The first line names the columns. Recognised headers, in any case and with
    /// diacritics, spaces, dashes and underscores ignored: id, name, company, email,
    /// phone, address, notes, annual value, bank details, country, owner, team,
    /// territory, classification, compartments (and common synonyms such as "full
    /// name", "e-mail", "telephone" or "account manager"). A name may be split into
    /// given name, middle name and family name ("first name", "last name"), and an
    /// address into street, street2 ("address line 2"), city, state and postcode
    /// ("zip"): the parts are joined. Every email and phone column is read ("phone",
    /// "mobile", "work phone"), and every address column ("billing address",
    /// "shipping address"). CRM prefixes ("Mailing Street", "Contact Owner"), either
    /// side of a slash ("State/Province") and a trailing "number" ("Mobile Phone
    /// Number") are understood. Columns not read are named on standard error; read
    /// one with --map FIELD=COLUMN (repeat a field to read several columns).
    ///
    /// Every row needs a name and an owner: the id of a person already imported
    /// (`custodia people import`), from the file or from --owner. Several emails,
    /// phones or addresses in one cell are separated by ';' or '|'. Country is a
    /// two- or three-letter ISO code or an English name (GB, VNM, Viet Nam; UK is read
    /// as GB); phone numbers written in national form are read in it.
    Import {
        file: PathBuf,
        /// Map a field to a column whose header is not recognised: FIELD=COLUMN.
        #[arg(long = "map", value_name = "FIELD=COLUMN")]
        map: Vec<String>,
        /// The owner (a person's id) of rows that name none, or of every row of a
        /// file without an owner column.
        #[arg(long, value_name = "PERSON")]
        owner: Option<String>,
        /// Import the good rows and report the bad ones instead of importing nothing.
        #[arg(long)]
        skip_invalid: bool,
    },
    /// List customers you may see.
    List {
        #[arg(long)]
        owner: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: usize,
    },
    /// Show one customer.
    Show { id: String },
    /// Find customers by exact email or phone, or by part of a name.
    Search {
        query: String,
        #[arg(long, default_value_t = 50)]
        limit: usize,
    },
    /// Erase a customer for good (crypto-shredding its data key).
    Erase {
        id: String,
        /// Confirm the erasure.
        #[arg(long)]
        yes: bool,
    },
}

#[derive(Subcommand)]
pub enum PeopleCmd {
    /// Import people from a CSV file (all rows or none).
    ///
    /// Every row needs an id, a name and a role: sales_rep, sales_manager, support,
    /// finance, engineering, hr, security_admin or executive. Optional columns: email,
    /// department, team, manager (the id of a person in the file or already imported),
    /// clearance (public, internal, confidential or secret; internal when left out),
    /// compartments (separated by ';' or '|'), status (active, departing or departed),
    /// notice_date, last_day, confidentiality_signed, noncompete_signed and
    /// noncompete_ends (dates as YYYY-MM-DD).
    Import { file: PathBuf },
    /// List people.
    List,
    /// Show one person.
    Show { id: String },
    /// Set a person's password for the HTTP API (read from standard input); every
    /// session and API token they held ends.
    SetPassword { id: String },
    /// End every session and API token a person holds (recorded in the ledger).
    /// Setting a person departed does this too.
    RevokeSessions { id: String },
    /// Record an HR signal: a person gave notice (departing) or left (departed).
    SetStatus {
        id: String,
        /// active, departing or departed.
        #[arg(long)]
        status: String,
        #[arg(long)]
        notice_date: Option<String>,
        #[arg(long)]
        last_day: Option<String>,
    },
}

#[derive(Subcommand)]
pub enum DocumentsCmd {
    /// Add a classified document (its body is sealed).
    Add {
        file: PathBuf,
        #[arg(long)]
        title: String,
        #[arg(long, default_value = "other")]
        kind: String,
        #[arg(long, default_value = "confidential")]
        classification: String,
        #[arg(long = "compartment")]
        compartments: Vec<String>,
        #[arg(long)]
        custodian: String,
        #[arg(long)]
        id: Option<String>,
    },
    /// List the documents you may see.
    List,
    /// Show a document's metadata, or save its body with --output.
    Show {
        id: String,
        /// Save the body (a download, recorded as such) to this file.
        #[arg(long)]
        output: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
pub enum KeysCmd {
    /// Rewrap every data key under a new key-encryption key.
    Rotate,
}

#[derive(Args)]
pub struct DemoArgs {
    /// Where to build the demo (must not exist yet, unless --force).
    #[arg(long, default_value = "custodia-demo")]
    pub dir: PathBuf,
    #[arg(long, default_value_t = 20_000)]
    pub customers: usize,
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// Remove an existing demo directory first.
    #[arg(long)]
    pub force: bool,
}

fn progress(len: u64, what: &str) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(len);
    if let Ok(style) = indicatif::ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} ({per_sec}, {eta})") {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(what.to_owned());
    bar
}

pub fn customers(ctx: &Context, cmd: CustomersCmd) -> anyhow::Result<()> {
    let inst = ctx.open()?;
    let gw = &inst.gateway;
    let (actor, access) = (ctx.actor(), ctx.access());
    match cmd {
        CustomersCmd::Import {
            file,
            map,
            owner,
            skip_invalid,
        } => {
            let (rows, mut problems, unread) = import::customers(&file, &map, owner.as_deref())?;
            if !unread.is_empty() {
                // A column of phones or addresses under a header not recognised would
                // otherwise be lost without a word (found by a blind test).
                eprintln!(
                    "note: {} column(s) not read: {}; read one with --map FIELD=COLUMN",
                    unread.len(),
                    unread.join(", ")
                );
            }
            if !problems.is_empty() && !skip_invalid {
                report_problems(ctx, &problems)?;
                bail!(
                    "{}: {} line(s) have problems; nothing was imported (fix them, or pass --skip-invalid)",
                    file.display(),
                    problems.len()
                );
            }
            let lines: Vec<u64> = rows.iter().map(|(l, _)| *l).collect();
            let bar = progress(rows.len() as u64, "sealing");
            let result = gw.import_customers(
                &actor,
                &access,
                rows.into_iter().map(|(_, c)| c).collect(),
                skip_invalid,
                &|n| bar.inc(n),
            );
            bar.finish_and_clear();
            let report = match result {
                Err(GatewayError::InvalidRows(rows)) => {
                    problems.extend(rows.iter().map(|r| import::LineProblem {
                        line: lines.get(r.row).copied().unwrap_or(0),
                        problem: r.problem.clone(),
                    }));
                    problems.sort_by_key(|p| p.line);
                    report_problems(ctx, &problems)?;
                    bail!(
                        "{}: {} line(s) have problems; nothing was imported (fix them, or pass --skip-invalid)",
                        file.display(),
                        problems.len()
                    );
                }
                other => other?,
            };
            problems.extend(report.skipped.iter().map(|r| import::LineProblem {
                line: lines.get(r.row).copied().unwrap_or(0),
                problem: r.problem.clone(),
            }));
            problems.sort_by_key(|p| p.line);
            if ctx.json {
                output::json(&serde_json::json!({"imported": report.imported, "skipped": problems}))?;
            } else {
                outln!("Imported {} customers from {}", report.imported, file.display());
                if !problems.is_empty() {
                    outln!("Skipped {} line(s):", problems.len());
                    for p in &problems {
                        outln!("  line {}: {}", p.line, p.problem);
                    }
                }
            }
        }
        CustomersCmd::List { owner, limit } => {
            let bulk = gw.list_customers(&actor, &access, owner.map(PersonId).as_ref(), limit)?;
            print_bulk(ctx, &bulk)?;
            warn_if_limited(bulk.records.len(), limit);
        }
        CustomersCmd::Show { id } => {
            let view = gw.read_customer(&actor, &access, &CustomerId(id))?;
            if ctx.json {
                output::json(&view)?;
            } else {
                output::customer(&view)?;
            }
        }
        CustomersCmd::Search { query, limit } => {
            let bulk = gw.search_customers(&actor, &access, &query, limit)?;
            print_bulk(ctx, &bulk)?;
            warn_if_limited(bulk.records.len(), limit);
        }
        CustomersCmd::Erase { id, yes } => {
            if !yes {
                bail!("erasing customer {id} cannot be undone; run again with --yes to confirm");
            }
            gw.erase_customer(&actor, &access, &CustomerId(id.clone()))?;
            if ctx.json {
                output::json(&serde_json::json!({"erased": id}))?;
            } else {
                outln!("Erased customer {id}: its data key is destroyed and its rows deleted.");
            }
        }
    }
    Ok(())
}

fn report_problems(ctx: &Context, problems: &[import::LineProblem]) -> anyhow::Result<()> {
    if ctx.json {
        output::json(&serde_json::json!({"imported": 0, "problems": problems}))?;
    } else {
        for p in problems {
            eprintln!("line {}: {}", p.line, p.problem);
        }
    }
    Ok(())
}

/// Says on standard error (standard output may be JSON) that a listing stopped at its
/// limit: a vault of 780 customers listed as 50 looked like a vault of 50.
fn warn_if_limited(shown: usize, limit: usize) {
    if shown >= limit {
        eprintln!("(stopped at --limit {limit}; there may be more: raise --limit to see them)");
    }
}

fn print_bulk(ctx: &Context, bulk: &gateway::Bulk<gateway::CustomerView>) -> anyhow::Result<()> {
    if ctx.json {
        return output::json(bulk);
    }
    let rows: Vec<Vec<String>> = bulk.records.iter().map(output::customer_row).collect();
    output::table(output::CUSTOMER_HEADER, &rows)?;
    if bulk.withheld.count > 0 {
        outln!("({} record(s) withheld by policy)", bulk.withheld.count);
        for (reason, n) in &bulk.withheld.by_reason {
            outln!("  {n}: {reason}");
        }
    }
    Ok(())
}

pub fn people(ctx: &Context, cmd: PeopleCmd) -> anyhow::Result<()> {
    if let PeopleCmd::SetPassword { id } = &cmd {
        return crate::serve_cmd::set_password(ctx, id);
    }
    let inst = ctx.open()?;
    let gw = &inst.gateway;
    let (actor, access) = (ctx.actor(), ctx.access());
    match cmd {
        PeopleCmd::Import { file } => {
            let (people, problems) = import::people(&file)?;
            if !problems.is_empty() {
                report_problems(ctx, &problems)?;
                bail!(
                    "{}: {} line(s) have problems; nothing was imported",
                    file.display(),
                    problems.len()
                );
            }
            gw.import_people(&actor, &access, &people, &[])?;
            if ctx.json {
                output::json(&serde_json::json!({"imported": people.len()}))?;
            } else {
                outln!("Imported {} people from {}", people.len(), file.display());
            }
        }
        PeopleCmd::List => {
            let people = gw.list_people(&actor, &access)?;
            if ctx.json {
                return output::json(&people);
            }
            let rows: Vec<Vec<String>> = people
                .iter()
                .map(|p| {
                    vec![
                        p.id.to_string(),
                        p.name.clone(),
                        p.role.to_string(),
                        p.team.as_ref().map(|t| t.to_string()).unwrap_or_default(),
                        p.clearance.to_string(),
                        status_today(gw, p),
                        p.last_day.clone().unwrap_or_default(),
                    ]
                })
                .collect();
            output::table(
                &["ID", "NAME", "ROLE", "TEAM", "CLEARANCE", "STATUS", "LAST DAY"],
                &rows,
            )?;
        }
        PeopleCmd::SetPassword { .. } => {}
        PeopleCmd::RevokeSessions { id } => {
            let person = PersonId(id);
            gw.authorize_sessions_revoke(&actor, &access, &person)?;
            let now = model::Clock::now_ms(&model::SystemClock);
            server::revoke_person_sessions(ctx.open_store()?.as_ref(), &person, now)?;
            if ctx.json {
                return output::json(&serde_json::json!({"revoked": person.0}));
            }
            outln!("Every session and API token of {person} has ended.");
        }
        PeopleCmd::SetStatus {
            id,
            status,
            notice_date,
            last_day,
        } => {
            let status: model::EmploymentStatus = status.parse()?;
            let p = gw.set_person_status(&actor, &access, &PersonId(id), status, notice_date, last_day)?;
            if ctx.json {
                return output::json(&p);
            }
            outln!("{} {} is now {}.", p.id, p.name, p.status);
        }
        PeopleCmd::Show { id } => {
            let p = gw.person(&actor, &access, &PersonId(id))?;
            if ctx.json {
                return output::json(&p);
            }
            outln!("{} {}", p.id, p.name);
            outln!("  email          {}", p.work_email);
            outln!("  department     {}", p.department);
            outln!("  role           {} ({})", p.role, p.role.description());
            outln!(
                "  team           {}",
                p.team.as_ref().map(|t| t.to_string()).unwrap_or_default()
            );
            outln!(
                "  manager        {}",
                p.manager.as_ref().map(|t| t.to_string()).unwrap_or_default()
            );
            outln!("  clearance      {}", p.clearance);
            outln!(
                "  compartments   {}",
                p.compartments.iter().cloned().collect::<Vec<_>>().join(", ")
            );
            outln!("  status         {}", status_today(gw, &p));
            if let Some(d) = &p.notice_date {
                outln!("  notice given   {d}");
            }
            if let Some(d) = &p.last_day {
                outln!("  last day       {d}");
            }
            for a in &p.agreements {
                let ends = a.ends_on.as_ref().map(|e| format!(", ends {e}")).unwrap_or_default();
                outln!("  agreement      {:?} signed {}{ends}", a.kind, a.signed_on);
            }
        }
    }
    Ok(())
}

/// Whether a document's text yields any fingerprint: the count does not depend on the
/// key, so a throwaway one tells.
fn has_fingerprintable_text(body: &[u8]) -> bool {
    let text = dlp::extract::extract(body, &dlp::Limits::default()).document_text();
    let mut probe = dlp::FingerprintIndex::new(
        &dlp::FingerprintKey::from_bytes([0; 32]),
        dlp::FingerprintConfig::default(),
    );
    probe.add("probe", &text) > 0
}

pub fn documents(ctx: &Context, cmd: DocumentsCmd) -> anyhow::Result<()> {
    let inst = ctx.open()?;
    let gw = &inst.gateway;
    let (actor, access) = (ctx.actor(), ctx.access());
    match cmd {
        DocumentsCmd::Add {
            file,
            title,
            kind,
            classification,
            compartments,
            custodian,
            id,
        } => {
            let body = std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            // A document without text (empty, a picture, a format not read) is kept, but its
            // fingerprint is nothing, so a copy of it leaving is never found: say so (found
            // by a blind test, where such files were accepted without a word).
            if !has_fingerprintable_text(&body) {
                eprintln!(
                    "warning: {} holds no text the DLP engine can fingerprint (empty, a picture, encrypted, or a format it does not read): it is stored, but a copy of it leaving will not be recognised",
                    file.display()
                );
            }
            let file_name = file
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let meta = gw.add_document(
                &actor,
                &access,
                NewDocument {
                    id: id.map(DocumentId),
                    title,
                    file_name,
                    kind: kind.parse::<DocumentKind>()?,
                    custodian: PersonId(custodian),
                    classification: classification.parse::<Classification>()?,
                    compartments: compartments.into_iter().collect(),
                    body,
                },
            )?;
            if ctx.json {
                output::json(&meta)?;
            } else {
                outln!(
                    "Added {} \"{}\" ({} bytes, {})",
                    meta.id,
                    meta.title,
                    meta.size,
                    meta.classification
                );
            }
        }
        DocumentsCmd::List => {
            let bulk = gw.list_documents(&actor, &access)?;
            if ctx.json {
                return output::json(&bulk);
            }
            let rows: Vec<Vec<String>> = bulk
                .records
                .iter()
                .map(|d| {
                    vec![
                        d.id.to_string(),
                        d.title.clone(),
                        d.kind.to_string(),
                        d.classification.to_string(),
                        d.compartments.iter().cloned().collect::<Vec<_>>().join(","),
                        d.custodian.to_string(),
                        d.size.to_string(),
                    ]
                })
                .collect();
            output::table(
                &["ID", "TITLE", "KIND", "CLASS", "COMPARTMENTS", "CUSTODIAN", "BYTES"],
                &rows,
            )?;
            if bulk.withheld.count > 0 {
                outln!("({} document(s) withheld by policy)", bulk.withheld.count);
            }
        }
        DocumentsCmd::Show { id, output: out } => {
            let id = DocumentId(id);
            match out {
                Some(path) => {
                    let (meta, body) = gw.download_document(&actor, &access, &id)?;
                    std::fs::write(&path, &body).with_context(|| format!("cannot write {}", path.display()))?;
                    if ctx.json {
                        output::json(&serde_json::json!({"id": meta.id, "saved_to": path, "bytes": body.len()}))?;
                    } else {
                        outln!("Saved {} ({} bytes) to {}", meta.id, body.len(), path.display());
                    }
                }
                None => {
                    let meta = gw.document(&actor, &access, &id)?;
                    if ctx.json {
                        return output::json(&meta);
                    }
                    outln!("{} {}", meta.id, meta.title);
                    outln!("  file           {}", meta.file_name);
                    outln!("  kind           {}", meta.kind);
                    outln!("  custodian      {}", meta.custodian);
                    outln!("  classification {}", meta.classification);
                    outln!(
                        "  compartments   {}",
                        meta.compartments.iter().cloned().collect::<Vec<_>>().join(", ")
                    );
                    outln!("  size           {} bytes", meta.size);
                    outln!("  sha256         {}", meta.content_sha256);
                }
            }
        }
    }
    Ok(())
}

pub fn keys(ctx: &Context, cmd: KeysCmd) -> anyhow::Result<()> {
    if std::env::var(gateway::KEYRING_ENV).is_ok_and(|v| !v.trim().is_empty()) {
        bail!(
            "keys rotate writes the new keyring to the key file, but this keyring comes from {}; \
             unset it and pass --key-file with a copy of the keyring, rotate, then store the new file in your secrets manager",
            gateway::KEYRING_ENV
        );
    }
    let inst = ctx.open()?;
    match cmd {
        KeysCmd::Rotate => {
            let (version, n) = inst
                .gateway
                .rotate_keys(&ctx.actor(), &ctx.access(), &|k| ctx.persist_keyring(k))?;
            if ctx.json {
                output::json(&serde_json::json!({"kek_version": version, "rewrapped": n}))?;
            } else {
                outln!("Rotated to key version {version}; rewrapped {n} data keys.");
            }
        }
    }
    Ok(())
}

pub fn demo(ctx: &Context, args: DemoArgs) -> anyhow::Result<()> {
    crate::demo_run::run(ctx, args)
}

/// A person's employment status as access control applies it today: the recorded
/// one, or departed once a departing person's last day is over.
fn status_today(gw: &gateway::Gateway, p: &model::Person) -> String {
    let today = gw.employment_status(p);
    if today == p.status {
        p.status.to_string()
    } else {
        format!("{today} (last day over)")
    }
}
