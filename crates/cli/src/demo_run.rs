//! `custodia demo`: a realistic company in a fresh data directory.

use std::time::Instant;

use anyhow::{bail, Context as _};
use gateway::NewDocument;
use model::{DocumentId, EmploymentStatus, Role};

use crate::commands::DemoArgs;
use crate::install::{self, Context};

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
    let inst = demo_ctx.open()?;
    let gw = &inst.gateway;
    let (actor, access) = (demo_ctx.actor(), demo_ctx.access());

    let company = demo::company(args.seed);
    gw.import_people(&actor, &access, &company.people, &company.teams)?;
    let customers = demo::customers(args.seed, args.customers, &company);
    let docs = demo::documents(&company, &customers);
    let bar = indicatif::ProgressBar::new(customers.len() as u64);
    if let Ok(style) = indicatif::ProgressStyle::with_template("sealing customers [{bar:30}] {pos}/{len} ({per_sec})") {
        bar.set_style(style.progress_chars("=> "));
    }
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
    if ctx.json {
        crate::output::json(&serde_json::json!({
            "data_dir": args.dir,
            "people": company.people.len(),
            "teams": company.teams.len(),
            "customers": report.imported,
            "documents": docs.len(),
            "departing": departing.iter().map(|p| &p.id).collect::<Vec<_>>(),
            "departed": departed.iter().map(|p| &p.id).collect::<Vec<_>>(),
        }))?;
        return Ok(());
    }
    println!(
        "Built the demo company \"Custodia Demo JSC\" in {dir} ({:.1} s)",
        started.elapsed().as_secs_f64()
    );
    println!();
    println!(
        "  {} people in {} teams (sales, support, engineering, finance, HR, security, management)",
        company.people.len(),
        company.teams.len()
    );
    println!(
        "  {} customers, every sensitive field sealed with its own data key",
        report.imported
    );
    println!(
        "  {} classified documents in compartments: {}",
        docs.len(),
        demo::COMPARTMENTS
            .iter()
            .map(|(c, _)| *c)
            .collect::<Vec<_>>()
            .join(", ")
    );
    for p in &departing {
        println!(
            "  departing: {} {} ({}), last day {}",
            p.id,
            p.name,
            p.role,
            p.last_day.as_deref().unwrap_or("?")
        );
    }
    for p in &departed {
        println!(
            "  departed:  {} {} ({}), left {}",
            p.id,
            p.name,
            p.role,
            p.last_day.as_deref().unwrap_or("?")
        );
    }
    println!();
    println!(
        "The key file is {}/custodia.key; the database alone reveals nothing.",
        dir
    );
    println!("Look around:");
    println!("  custodia --data-dir {dir} people list");
    println!("  custodia --data-dir {dir} customers list --limit 10");
    println!("  custodia --data-dir {dir} customers search nguyen");
    println!("  custodia --data-dir {dir} documents list");
    if let Some(rep) = rep {
        println!(
            "  custodia --data-dir {dir} --as {} customers list --limit 5    # what a sales rep sees",
            rep.id
        );
    }
    Ok(())
}
