//! `custodia policy` and `custodia access`: the policy set and access reviews.

use std::path::PathBuf;

use anyhow::{bail, Context as _};
use clap::Subcommand;
use gateway::Gateway;
use model::PersonId;

use crate::install::Context;
use crate::output;

#[derive(Subcommand)]
pub enum PolicyCmd {
    /// Print the policy set in force.
    Show,
    /// Check a policy file against the schema (nothing changes).
    Validate { file: PathBuf },
    /// Run a file of cases (`expect allow|deny …` lines) against the set in force.
    Test { cases: PathBuf },
    /// Put a policy file in force (refused if invalid or if it would lock out every security admin).
    Replace { file: PathBuf },
    /// Explain a decision in words: use the global --as for the person.
    Explain {
        #[arg(long)]
        action: String,
        #[arg(long)]
        resource: String,
    },
}

#[derive(Subcommand)]
pub enum AccessCmd {
    /// Everyone who may act on a customer, document or `system`, and how.
    WhoCan { resource: String },
    /// What a person may do across the vault.
    WhatCan { person: String },
    /// Permissions people hold but have not used recently.
    Unused {
        #[arg(long, default_value_t = 90)]
        days: u32,
    },
}

fn read(path: &PathBuf) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
}

pub fn policy(ctx: &Context, cmd: PolicyCmd) -> anyhow::Result<()> {
    if let PolicyCmd::Validate { file } = &cmd {
        let n = Gateway::validate_policy(&read(file)?)?;
        if ctx.json {
            return output::json(&serde_json::json!({"valid": true, "policies": n}));
        }
        outln!("{}: valid, {n} policies", file.display());
        return Ok(());
    }
    // Explain's subject is --as; the operator performs the review.
    let inst = ctx.open()?;
    let gw = &inst.gateway;
    let access = ctx.access();
    let operator = ctx.operator();
    match cmd {
        PolicyCmd::Validate { .. } => {}
        PolicyCmd::Show => {
            let (text, version) = gw.policy_text(&ctx.actor(), &access)?;
            if ctx.json {
                return output::json(&serde_json::json!({"version": version, "text": text}));
            }
            match version {
                Some(v) => outln!("// policy version {v}"),
                None => outln!("// the default policy set"),
            }
            out!("{text}");
        }
        PolicyCmd::Test { cases } => {
            let report = gw.test_policy(&read(&cases)?)?;
            outln!("{report}");
            if !report.passed() {
                bail!("{} of {} policy cases failed", report.failures.len(), report.total);
            }
        }
        PolicyCmd::Replace { file } => {
            let version = gw.replace_policy(&ctx.actor(), &access, &read(&file)?)?;
            if ctx.json {
                return output::json(&serde_json::json!({"version": version}));
            }
            outln!("Policy version {version} is in force.");
        }
        PolicyCmd::Explain { action, resource } => {
            let Some(person) = &ctx.as_person else {
                bail!("name the person to explain with --as PERSON");
            };
            let e = gw.explain(&operator, &access, &PersonId(person.clone()), &action, &resource)?;
            if ctx.json {
                return output::json(&e);
            }
            outln!("{}", e.text);
        }
    }
    Ok(())
}

pub fn access(ctx: &Context, cmd: AccessCmd) -> anyhow::Result<()> {
    let inst = ctx.open()?;
    let gw = &inst.gateway;
    let (actor, access) = (ctx.actor(), ctx.access());
    match cmd {
        AccessCmd::WhoCan { resource } => {
            let who = gw.who_can(&actor, &access, &resource)?;
            if ctx.json {
                return output::json(&who);
            }
            let rows: Vec<Vec<String>> = who
                .iter()
                .map(|w| {
                    vec![
                        w.person.to_string(),
                        w.name.clone(),
                        w.role.to_string(),
                        w.status.to_string(),
                        w.actions.join(", "),
                    ]
                })
                .collect();
            output::table(&["PERSON", "NAME", "ROLE", "STATUS", "MAY"], &rows)?;
        }
        AccessCmd::WhatCan { person } => {
            let w = gw.what_can(&actor, &access, &PersonId(person))?;
            if ctx.json {
                return output::json(&w);
            }
            outln!("{} ({})", w.person, w.status);
            outln!(
                "  on the installation: {}",
                if w.system.is_empty() {
                    "nothing".into()
                } else {
                    w.system.join(", ")
                }
            );
            if w.customers.is_empty() {
                outln!("  customers: none of {}", w.customers_total);
            }
            for (action, n) in &w.customers {
                outln!("  {action:<20} {n} of {} customers", w.customers_total);
            }
            for (doc, actions) in &w.documents {
                outln!("  document {doc}: {}", actions.join(", "));
            }
        }
        AccessCmd::Unused { days } => {
            let unused = gw.unused_access(&actor, &access, days)?;
            if ctx.json {
                return output::json(&unused);
            }
            let rows: Vec<Vec<String>> = unused.iter().map(|(p, a)| vec![p.to_string(), a.join(", ")]).collect();
            output::table(&["PERSON", &format!("HELD BUT NOT USED IN {days} DAYS")], &rows)?;
        }
    }
    Ok(())
}
