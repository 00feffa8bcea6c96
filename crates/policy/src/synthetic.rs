//! Generated policy sets for scale tests and benchmarks.

use std::fmt::Write as _;

/// `count` generated, realistic policies to load on top of the default set: per-person
/// territory grants and export caps, per-team read and document grants, each with an
/// action scope. Persons are `p0..`, teams `team0..team499`, territories `t0..t49`.
pub fn synthetic_policies(count: usize) -> String {
    let mut text = String::with_capacity(count * 220);
    for i in 0..count {
        // Spread evenly: every team gets policies of each kind.
        let team = (i / 4) % 500;
        let territory = i % 50;
        let _ = writeln!(text, "@id(\"generated-{i}\")");
        let _ = match i % 4 {
            0 => writeln!(
                text,
                "@description(\"p{i} may read customers in territory t{territory}\")\n\
                 permit (principal == Person::\"p{i}\", action == Action::\"customer.read\", resource is Customer)\n\
                 when {{ resource.territory == \"t{territory}\" }};"
            ),
            1 => writeln!(
                text,
                "@description(\"team{team} may read and search internal customers in territory t{territory}\")\n\
                 permit (principal in Team::\"team{team}\", action in [Action::\"customer.read\", Action::\"customer.search\"], resource is Customer)\n\
                 when {{ resource.territory == \"t{territory}\" && resource.classification <= 1 }};"
            ),
            2 => writeln!(
                text,
                "@description(\"p{i} may not export more than {} records at once\")\n\
                 forbid (principal == Person::\"p{i}\", action == Action::\"customer.export\", resource)\n\
                 when {{ context.record_count > {} }};",
                100 + i % 900,
                100 + i % 900
            ),
            _ => writeln!(
                text,
                "@description(\"team{team} may view internal documents\")\n\
                 permit (principal in Team::\"team{team}\", action == Action::\"document.view\", resource is Document)\n\
                 when {{ resource.classification <= 1 }};"
            ),
        };
    }
    text
}
