//! Policy through the real binary: who sees what, masking, departures,
//! policy changes and access reviews.

use super::*;

const STAFF: &str = "id,name,email,department,role,team,manager,clearance,compartments,status\n\
m-1,Mai Manager,m1@corp.example,Sales,sales_manager,t-north,,confidential,,active\n\
r-1,Rep One,r1@corp.example,Sales,sales_rep,t-north,m-1,confidential,,active\n\
r-2,Rep Two,r2@corp.example,Sales,sales_rep,t-south,m-1,confidential,,active\n\
s-1,Sam Support,s1@corp.example,Support,support,t-support,,confidential,,active\n\
f-1,Fay Finance,f1@corp.example,Finance,finance,t-fin,,confidential,,active\n\
a-1,Ada Admin,a1@corp.example,Security,security_admin,t-sec,,secret,,active\n";

const ACCOUNTS: &str = "id,name,email,phone,country,owner,team,classification,bank_details,compartments\n\
C-1,Nguyễn Văn An,an@x.example,+84 912 345 123,VN,r-1,t-north,internal,Vietcombank 0123456789,\n\
C-2,Trần Thị Bình,binh@y.example,+84 913 000 456,VN,r-2,t-south,internal,,\n\
C-3,Secret Account,sa@z.example,+84 914 000 789,VN,r-1,t-north,secret,,\n\
C-4,Tagged Account,ta@z.example,+84 915 000 111,VN,r-1,t-north,internal,,enterprise\n";

fn company() -> Env {
    let env = Env::new();
    env.run(&["init"]).ok();
    env.run(&["people", "import", env.file("staff.csv", STAFF).to_str().unwrap()])
        .ok();
    env.run(&[
        "customers",
        "import",
        env.file("accounts.csv", ACCOUNTS).to_str().unwrap(),
    ])
    .ok();
    env
}

fn visible(env: &Env, person: &str) -> Vec<String> {
    let out = env.run(&["--as", person, "customers", "list", "--json"]).ok().json();
    out["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn each_role_sees_what_its_job_needs() {
    let env = company();
    // Reps: their own accounts, not above their clearance, not outside their compartments.
    assert_eq!(visible(&env, "r-1"), ["C-1"]);
    assert_eq!(visible(&env, "r-2"), ["C-2"]);
    // The manager: the team's accounts (t-north), within clearance and compartments.
    assert_eq!(visible(&env, "m-1"), ["C-1"]);
    let withheld = env.run(&["--as", "r-1", "customers", "list", "--json"]).ok().json();
    assert_eq!(withheld["withheld"]["count"], 3);
}

#[test]
fn fields_are_masked_by_role() {
    let env = company();
    let support = env
        .run(&["--as", "s-1", "customers", "show", "C-1", "--json"])
        .ok()
        .json();
    assert_eq!(support["fields"]["phones"][0], "+84 •••• ••• 123", "{support}");
    assert!(support["masked"].as_array().unwrap().iter().any(|f| f == "phones"));
    let finance = env
        .run(&["--as", "f-1", "customers", "show", "C-1", "--json"])
        .ok()
        .json();
    assert_eq!(finance["fields"]["bank_details"], "Vietcombank 0123456789");
    let rep = env
        .run(&["--as", "r-1", "customers", "show", "C-1", "--json"])
        .ok()
        .json();
    assert_eq!(rep["fields"]["phones"][0], "+84912345123");
    assert!(
        rep["fields"].get("bank_details").is_none(),
        "sales never sees bank details: {rep}"
    );
    assert!(rep["hidden"].as_array().unwrap().iter().any(|f| f == "bank_details"));
}

#[test]
fn a_departure_takes_effect_at_the_next_request() {
    let env = company();
    env.run(&["--as", "r-1", "customers", "search", "nguyen"]).ok();
    env.run(&[
        "people",
        "set-status",
        "r-1",
        "--status",
        "departing",
        "--last-day",
        "2099-12-31",
    ])
    .ok();
    // Still reads their own account, but no bulk search.
    env.run(&["--as", "r-1", "customers", "show", "C-1"]).ok();
    let out = env
        .run(&["--as", "r-1", "customers", "search", "nguyen", "--json"])
        .ok()
        .json();
    assert!(out["records"].as_array().unwrap().is_empty());
    assert!(
        out["withheld"]["by_reason"]
            .as_object()
            .unwrap()
            .keys()
            .any(|k| k.contains("departing-no-bulk")),
        "{out}"
    );
    env.run(&["people", "set-status", "r-1", "--status", "departed"]).ok();
    let out = env.run(&["--as", "r-1", "customers", "show", "C-1"]).fails();
    assert!(out.stderr.contains("departed-gets-nothing"), "{}", out.stderr);
    // The change is in the ledger.
    let changes = env
        .run(&[
            "audit",
            "search",
            "--person",
            "r-1",
            "--action",
            "person.update_status",
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(changes.as_array().unwrap().len(), 2);
}

#[test]
fn explain_and_reviews_name_the_policies() {
    let env = company();
    let out = env
        .run(&[
            "--as",
            "r-1",
            "policy",
            "explain",
            "--action",
            "customer.read",
            "--resource",
            "C-2",
        ])
        .ok();
    assert!(out.stdout.contains("denied"), "{}", out.stdout);
    let out = env
        .run(&[
            "--as",
            "r-1",
            "policy",
            "explain",
            "--action",
            "customer.read",
            "--resource",
            "C-1",
        ])
        .ok();
    assert!(out.stdout.contains("rep-own-accounts"), "{}", out.stdout);
    let who = env.run(&["access", "who-can", "C-1", "--json"]).ok().json();
    let people: Vec<&str> = who
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["person"].as_str().unwrap())
        .collect();
    assert!(people.contains(&"r-1") && !people.contains(&"r-2"), "{people:?}");
    let what = env.run(&["access", "what-can", "r-2", "--json"]).ok().json();
    assert_eq!(what["customers"]["customer.read"], 1);
    let unknown = env
        .run(&[
            "--as",
            "r-1",
            "policy",
            "explain",
            "--action",
            "customer.fly",
            "--resource",
            "C-1",
        ])
        .fails();
    assert!(unknown.stderr.contains("unknown action"), "{}", unknown.stderr);
}

#[test]
fn bad_policies_are_refused_and_the_set_in_force_stays() {
    let env = company();
    let before = env.run(&["policy", "show"]).ok().stdout;
    let syntax = env.file(
        "syntax.cedar",
        "@id(\"x\")\npermit (principal, action, resource)\nwhen { principal.role == };\n",
    );
    let out = env.run(&["policy", "validate", syntax.to_str().unwrap()]).fails();
    assert!(out.stderr.contains("line 3"), "{}", out.stderr);
    let out = env.run(&["policy", "replace", syntax.to_str().unwrap()]).fails();
    assert!(out.stderr.contains("syntax error"), "{}", out.stderr);
    let lockout = env.file("lockout.cedar", "@id(\"read-only\")\n@description(\"reps read\")\npermit (principal, action == Action::\"customer.read\", resource);\n");
    let out = env.run(&["policy", "replace", lockout.to_str().unwrap()]).fails();
    assert!(out.stderr.contains("lock out every security admin"), "{}", out.stderr);
    assert_eq!(
        env.run(&["policy", "show"]).ok().stdout,
        before,
        "the set in force is unchanged"
    );
    assert_eq!(visible(&env, "r-1"), ["C-1"]);
}

#[test]
fn a_replaced_policy_is_in_force_and_recorded() {
    let env = company();
    let (text, _) = (env.run(&["policy", "show"]).ok().stdout, ());
    // Remove the rule that lets reps read their own accounts.
    let mut kept = String::new();
    let mut skip = false;
    for line in text.lines().filter(|l| !l.starts_with("// ")) {
        if line.starts_with("@id(\"rep-own-accounts\")") {
            skip = true;
        }
        if !skip {
            kept.push_str(line);
            kept.push('\n');
        }
        if skip && line.trim_end().ends_with(';') {
            skip = false;
        }
    }
    let file = env.file("new.cedar", &kept);
    env.run(&["policy", "replace", file.to_str().unwrap()]).ok();
    assert!(visible(&env, "r-1").is_empty());
    let changes = env
        .run(&["audit", "search", "--action", "policy.replace", "--json"])
        .ok()
        .json();
    assert_eq!(changes.as_array().unwrap().len(), 1);
}

#[test]
fn policy_test_runs_a_cases_file() {
    let env = company();
    let cases = Path::new(env!("CARGO_MANIFEST_DIR")).join("../policy/tests/default_cases.txt");
    let out = env.run(&["policy", "test", cases.to_str().unwrap()]).ok();
    assert!(out.stdout.contains(" passed, 0 failed"), "{}", out.stdout);
    // Flip the expectation of the first allow case (a line, not a comment).
    let text = std::fs::read_to_string(&cases).unwrap();
    let flipped: Vec<String> = {
        let mut done = false;
        text.lines()
            .map(|l| {
                if !done && l.trim_start().starts_with("allow") {
                    done = true;
                    l.replacen("allow", "deny", 1)
                } else {
                    l.to_owned()
                }
            })
            .collect()
    };
    let wrong = env.file("wrong.txt", &(flipped.join("\n") + "\n"));
    let out = env.run(&["policy", "test", wrong.to_str().unwrap()]).fails();
    assert!(
        out.stderr.contains("1 of") && out.stderr.contains("policy cases failed"),
        "{}",
        out.stderr
    );
}

#[test]
fn unused_access_lists_what_each_person_holds_but_has_not_used() {
    let env = Env::with_people();
    env.run(&["customers", "import", env.file("c.csv", GOOD_CSV).to_str().unwrap()])
        .ok();
    let unused_of = |person: &str| -> Vec<String> {
        let list = env.run(&["access", "unused", "--days", "30", "--json"]).ok().json();
        list.as_array()
            .unwrap()
            .iter()
            .find(|entry| entry[0] == person)
            .map(|entry| {
                entry[1]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|a| a.as_str().unwrap().to_owned())
                    .collect()
            })
            .unwrap_or_default()
    };
    let before = unused_of("p-2");
    assert!(before.contains(&"customer.read".to_string()), "{before:?}");
    let mai_before = unused_of("p-1");
    env.run(&["--as", "p-2", "customers", "show", "C-1"]).ok();
    let after = unused_of("p-2");
    assert!(!after.contains(&"customer.read".to_string()), "{after:?}");
    // Only the read was used; p-1 used nothing.
    assert_eq!(after.len() + 1, before.len(), "{before:?} {after:?}");
    assert_eq!(unused_of("p-1"), mai_before);
    let table = env.run(&["access", "unused", "--days", "30"]).ok();
    assert!(
        table.stdout.contains("HELD BUT NOT USED IN 30 DAYS"),
        "{}",
        table.stdout
    );
}
