//! A realistic demo company, generated from a seed: teams, people in every
//! role and employment status, international customers, and classified
//! documents in several compartments. Deterministic for a given seed so
//! that tests and later demo stages (activity, departures, alerts) can build
//! on the same company.

pub mod activity;
mod names;

use std::collections::BTreeSet;

use model::{
    Agreement, AgreementKind, Classification, DocumentKind, EmploymentStatus, NewCustomer, Person, PersonId, Role,
    Team, TeamId,
};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

pub use names::fold_ascii;

/// The demo company's compartments (need-to-know tags).
pub const COMPARTMENTS: &[(&str, &str)] = &[
    ("enterprise", "key enterprise accounts"),
    ("apac", "Asia-Pacific accounts"),
    ("project-lotus", "the next product's designs"),
    ("pricing", "price lists and discount rules"),
];

/// The people and teams of the demo company.
pub struct Company {
    pub teams: Vec<Team>,
    pub people: Vec<Person>,
}

impl Company {
    /// Sales reps and managers, who own customer accounts.
    pub fn account_owners(&self) -> Vec<&Person> {
        self.people
            .iter()
            .filter(|p| matches!(p.role, Role::SalesRep | Role::SalesManager))
            .collect()
    }

    pub fn by_role(&self, role: Role) -> impl Iterator<Item = &Person> {
        self.people.iter().filter(move |p| p.role == role)
    }
}

/// A classified document of the demo, with its body.
pub struct DemoDocument {
    pub id: String,
    pub title: String,
    pub file_name: String,
    pub kind: DocumentKind,
    pub custodian: PersonId,
    pub classification: Classification,
    pub compartments: BTreeSet<String>,
    pub body: Vec<u8>,
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

struct Unit {
    team: &'static str,
    name: &'static str,
    department: &'static str,
    territory: Option<&'static str>,
    lead_role: Role,
    member_role: Role,
    members: usize,
    compartments: &'static [&'static str],
}

const UNITS: &[Unit] = &[
    Unit {
        team: "t-exec",
        name: "Management",
        department: "Management",
        territory: None,
        lead_role: Role::Executive,
        member_role: Role::Executive,
        members: 2,
        compartments: &["enterprise", "apac", "pricing"],
    },
    Unit {
        team: "t-sales-north",
        name: "Sales North",
        department: "Sales",
        territory: Some("VN-North"),
        lead_role: Role::SalesManager,
        member_role: Role::SalesRep,
        members: 7,
        compartments: &[],
    },
    Unit {
        team: "t-sales-south",
        name: "Sales South",
        department: "Sales",
        territory: Some("VN-South"),
        lead_role: Role::SalesManager,
        member_role: Role::SalesRep,
        members: 7,
        compartments: &[],
    },
    Unit {
        team: "t-sales-intl",
        name: "Sales International",
        department: "Sales",
        territory: Some("International"),
        lead_role: Role::SalesManager,
        member_role: Role::SalesRep,
        members: 6,
        compartments: &["apac"],
    },
    Unit {
        team: "t-key-accounts",
        name: "Key Accounts",
        department: "Sales",
        territory: Some("Enterprise"),
        lead_role: Role::SalesManager,
        member_role: Role::SalesRep,
        members: 3,
        compartments: &["enterprise"],
    },
    Unit {
        team: "t-support",
        name: "Customer Support",
        department: "Support",
        territory: None,
        lead_role: Role::Support,
        member_role: Role::Support,
        members: 7,
        compartments: &[],
    },
    Unit {
        team: "t-eng",
        name: "Engineering",
        department: "Engineering",
        territory: None,
        lead_role: Role::Engineering,
        member_role: Role::Engineering,
        members: 9,
        compartments: &[],
    },
    Unit {
        team: "t-finance",
        name: "Finance",
        department: "Finance",
        territory: None,
        lead_role: Role::Finance,
        member_role: Role::Finance,
        members: 3,
        compartments: &["pricing"],
    },
    Unit {
        team: "t-hr",
        name: "People & HR",
        department: "HR",
        territory: None,
        lead_role: Role::Hr,
        member_role: Role::Hr,
        members: 2,
        compartments: &[],
    },
    Unit {
        team: "t-security",
        name: "Security",
        department: "Security",
        territory: None,
        lead_role: Role::SecurityAdmin,
        member_role: Role::SecurityAdmin,
        members: 1,
        compartments: &[],
    },
];

/// Builds the company: about 60 people in ten teams. The same seed gives
/// the same company.
pub fn company(seed: u64) -> Company {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut teams = Vec::new();
    let mut people: Vec<Person> = Vec::new();
    let mut used_emails = BTreeSet::new();
    let mut n = 0usize;
    let ceo = PersonId("p-0001".into());
    for unit in UNITS {
        let mut lead_id = None;
        for i in 0..=unit.members {
            n += 1;
            let id = PersonId(format!("p-{n:04}"));
            let name = names::person_name(&mut rng);
            let email = names::unique_email(&name, "custodia-demo.example", &mut used_emails);
            let is_lead = i == 0;
            let role = if is_lead { unit.lead_role } else { unit.member_role };
            let manager = if is_lead {
                (id != ceo).then(|| ceo.clone())
            } else {
                lead_id.clone()
            };
            let clearance = match role {
                Role::Executive | Role::SecurityAdmin => Classification::Secret,
                Role::SalesManager | Role::Finance | Role::Hr => Classification::Confidential,
                Role::Engineering if unit.team == "t-eng" && i < 4 => Classification::Secret,
                Role::SalesRep if unit.team == "t-key-accounts" => Classification::Secret,
                _ => Classification::Confidential,
            };
            let mut compartments = set(unit.compartments);
            if unit.team == "t-eng" && i < 4 {
                compartments.insert("project-lotus".into());
            }
            if role == Role::SalesManager {
                compartments.insert("pricing".into());
            }
            let hired = format!(
                "20{:02}-{:02}-{:02}",
                rng.gen_range(15..25),
                rng.gen_range(1..13),
                rng.gen_range(1..29)
            );
            let mut agreements = vec![Agreement {
                kind: AgreementKind::Confidentiality,
                signed_on: hired.clone(),
                ends_on: None,
            }];
            if unit.department == "Sales" || unit.department == "Engineering" {
                agreements.push(Agreement {
                    kind: AgreementKind::NonCompete,
                    signed_on: hired,
                    ends_on: Some("2027-12-31".into()),
                });
            }
            if is_lead {
                lead_id = Some(id.clone());
            }
            people.push(Person {
                id,
                name,
                work_email: email,
                department: unit.department.into(),
                role,
                team: Some(TeamId(unit.team.into())),
                manager,
                clearance,
                compartments,
                status: EmploymentStatus::Active,
                notice_date: None,
                last_day: None,
                agreements,
            });
        }
        teams.push(Team {
            id: TeamId(unit.team.into()),
            name: unit.name.into(),
            department: unit.department.into(),
            territory: unit.territory.map(str::to_owned),
            lead: lead_id,
        });
    }
    // One salesperson has given notice and one has left: the people the
    // product exists for. Picked by position so later stages can find them.
    let reps: Vec<usize> = people
        .iter()
        .enumerate()
        .filter(|(_, p)| p.role == Role::SalesRep)
        .map(|(i, _)| i)
        .collect();
    if let (Some(&departing), Some(&departed), Some(&leaving_clean)) = (reps.get(2), reps.get(9), reps.get(15)) {
        for (i, notice, last, status) in [
            (departing, "2026-11-02", "2026-12-04", EmploymentStatus::Departing),
            (leaving_clean, "2026-11-09", "2026-12-11", EmploymentStatus::Departing),
            (departed, "2026-09-15", "2026-10-16", EmploymentStatus::Departed),
        ] {
            if let Some(p) = people.get_mut(i) {
                p.status = status;
                p.notice_date = Some(notice.into());
                p.last_day = Some(last.into());
            }
        }
    }
    Company { teams, people }
}

/// Generates `count` customers owned by the company's sales people, with
/// international names, unique emails and E.164 phones.
pub fn customers(seed: u64, count: usize, company: &Company) -> Vec<NewCustomer> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5eed_c057);
    let owners = company.account_owners();
    let mut used_emails = BTreeSet::new();
    let mut out = Vec::with_capacity(count);
    for i in 0..count {
        let Some(owner) = owners.choose(&mut rng) else {
            break;
        };
        let team = owner.team.clone();
        let team_id = team.as_ref().map_or("", |t| t.as_str());
        let country = match team_id {
            "t-sales-intl" => *["CN", "SG", "JP", "US", "DE", "FR", "GB", "AU"]
                .choose(&mut rng)
                .unwrap_or(&"SG"),
            "t-key-accounts" => *["VN", "VN", "US", "CN"].choose(&mut rng).unwrap_or(&"VN"),
            _ => "VN",
        };
        let name = names::customer_name(country, &mut rng);
        let company_name = names::company_name(country, &mut rng);
        let domain = names::domain_for(&company_name);
        let email = names::unique_email(&name, &domain, &mut used_emails);
        let phone = names::phone(country, &mut rng);
        let (classification, compartments) = match team_id {
            "t-key-accounts" => (Classification::Secret, set(&["enterprise"])),
            "t-sales-intl" => (Classification::Confidential, set(&["apac"])),
            _ if rng.gen_bool(0.15) => (Classification::Confidential, BTreeSet::new()),
            _ => (Classification::Internal, BTreeSet::new()),
        };
        let territory = company
            .teams
            .iter()
            .find(|t| Some(&t.id) == team.as_ref())
            .and_then(|t| t.territory.clone());
        out.push(NewCustomer {
            id: Some(model::CustomerId(format!("C-{:06}", i + 1))),
            display_name: name,
            company: company_name,
            emails: vec![email],
            phones: vec![phone],
            addresses: vec![names::address(country, &mut rng)],
            notes: names::note(&mut rng),
            annual_value: Some(rng.gen_range(5..2_000) * 1_000),
            bank_details: rng.gen_bool(0.4).then(|| names::bank_account(country, &mut rng)),
            country: Some(country.into()),
            owner: Some(owner.id.clone()),
            team,
            territory,
            classification: Some(classification),
            compartments,
        });
    }
    out
}

/// The classified documents: customer lists, designs, contracts, source
/// code and price lists across compartments.
pub fn documents(company: &Company, customers: &[NewCustomer]) -> Vec<DemoDocument> {
    let first = |role: Role| {
        company
            .by_role(role)
            .next()
            .map(|p| p.id.clone())
            .unwrap_or_else(|| PersonId("p-0001".into()))
    };
    let sales_lead = first(Role::SalesManager);
    let engineer = company
        .people
        .iter()
        .find(|p| p.compartments.contains("project-lotus"))
        .map(|p| p.id.clone())
        .unwrap_or_else(|| first(Role::Engineering));
    let finance = first(Role::Finance);
    let exec = first(Role::Executive);
    let mut list = String::from("id,name,company,email,phone\n");
    for c in customers.iter().take(200) {
        list.push_str(&format!(
            "{},{},{},{},{}\n",
            c.id.as_ref().map_or("", |i| i.as_str()),
            c.display_name,
            c.company.replace(',', " "),
            c.emails.join(";"),
            c.phones.join(";")
        ));
    }
    let design = "Project Lotus: dual-band sensor module. The enclosure uses a two-part magnesium shell; \
        the antenna is printed on the inner wall to save 4 mm of height. Power budget 180 mW in sampling mode. \
        Bill of materials target 23 USD at 50k units. Tooling with the Bac Ninh supplier starts in March."
        .repeat(6);
    let prices = "sku,product,list_price,floor_price,max_discount\nLT-100,Lotus sensor,129,88,22%\nLT-200,Lotus gateway,349,241,18%\nSV-1,Support plan,1200,900,25%\n";
    let contract = "MASTER SERVICES AGREEMENT between Custodia Demo JSC and the Customer. Term 36 months, \
        renewal automatic, liability capped at fees paid in the prior 12 months, governing law Vietnam."
        .repeat(4);
    let source = "fn calibrate(raw: &[u16]) -> Vec<f32> {\n    // proprietary drift compensation\n    raw.iter().map(|r| (*r as f32) * 0.981 - 3.2).collect()\n}\n".repeat(10);
    let doc = |id: &str, title: &str, file: &str, kind, custodian: &PersonId, class, comps: &[&str], body: String| {
        DemoDocument {
            id: id.into(),
            title: title.into(),
            file_name: file.into(),
            kind,
            custodian: custodian.clone(),
            classification: class,
            compartments: set(comps),
            body: body.into_bytes(),
        }
    };
    vec![
        doc(
            "D-00001",
            "Top customer list (export)",
            "top-customers.csv",
            DocumentKind::CustomerList,
            &sales_lead,
            Classification::Confidential,
            &[],
            list,
        ),
        doc(
            "D-00002",
            "Project Lotus enclosure design",
            "lotus-enclosure.txt",
            DocumentKind::Design,
            &engineer,
            Classification::Secret,
            &["project-lotus"],
            design,
        ),
        doc(
            "D-00003",
            "Price list and discount floors 2027",
            "prices-2027.csv",
            DocumentKind::PriceList,
            &finance,
            Classification::Confidential,
            &["pricing"],
            prices.into(),
        ),
        doc(
            "D-00004",
            "Master services agreement template",
            "msa-template.txt",
            DocumentKind::Contract,
            &exec,
            Classification::Internal,
            &[],
            contract,
        ),
        doc(
            "D-00005",
            "Sensor calibration source",
            "calibrate.rs",
            DocumentKind::SourceCode,
            &engineer,
            Classification::Secret,
            &["project-lotus"],
            source,
        ),
        doc(
            "D-00006",
            "Enterprise accounts plan",
            "enterprise-plan.txt",
            DocumentKind::Other,
            &exec,
            Classification::Secret,
            &["enterprise", "pricing"],
            "Renewal strategy for the five largest enterprise accounts, with discount ceilings per account.".repeat(5),
        ),
    ]
}
