//! The `custodia` command, driven as a user drives it: a real binary, a
//! real data directory, real files. One test binary for all of them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod ledger;
mod migrate;
mod policy;
mod scan;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod risk;

pub struct Run {
    status: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn ok(self) -> Run {
        assert_eq!(
            self.status, 0,
            "expected success\nstdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        self
    }
    fn exits_with(self, status: i32) -> Run {
        assert_eq!(
            self.status, status,
            "unexpected exit status\nstdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        self
    }
    fn fails(self) -> Run {
        assert_ne!(
            self.status, 0,
            "expected failure\nstdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        self
    }
    fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.stdout))
    }
}

/// A data directory in a temporary folder and the binary pointed at it.
pub struct Env {
    _tmp: tempfile::TempDir,
    root: PathBuf,
    data: PathBuf,
}

const PEOPLE: &str = "id,name,email,department,role,team,manager,clearance,compartments,status\n\
p-1,Trần Thị Mai,mai@corp.example,Sales,sales_manager,t-north,,confidential,apac,active\n\
p-2,Lê Văn Hùng,hung@corp.example,Sales,sales_rep,t-north,p-1,confidential,,active\n\
p-3,Sam Support,sam@corp.example,Support,support,t-support,,internal,,active\n";

impl Env {
    fn new() -> Env {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().to_path_buf();
        let data = root.join("data");
        Env { _tmp: tmp, root, data }
    }

    /// An initialized data directory with three people.
    fn with_people() -> Env {
        let env = Env::new();
        env.run(&["init"]).ok();
        let people = env.file("people.csv", PEOPLE);
        env.run(&["people", "import", people.to_str().unwrap()]).ok();
        env
    }

    fn file(&self, name: &str, content: &str) -> PathBuf {
        let path = self.root.join(name);
        std::fs::write(&path, content).unwrap();
        path
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_custodia"));
        cmd.arg("--data-dir")
            .arg(&self.data)
            .args(args)
            .env_remove("CUSTODIA_KEYRING")
            .env_remove("CUSTODIA_DATA_DIR")
            .env_remove("CUSTODIA_KEY_FILE");
        cmd
    }

    fn run(&self, args: &[&str]) -> Run {
        to_run(self.command(args).output().unwrap())
    }

    fn count(&self) -> usize {
        self.run(&["customers", "list", "--json", "--limit", "100000"])
            .ok()
            .json()["records"]
            .as_array()
            .unwrap()
            .len()
    }

    /// Every byte under the data directory.
    fn raw_files(&self) -> Vec<(PathBuf, Vec<u8>)> {
        std::fs::read_dir(&self.data)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.is_file())
            .map(|p| (p.clone(), std::fs::read(&p).unwrap()))
            .collect()
    }
}

fn to_run(out: Output) -> Run {
    Run {
        status: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into(),
        stderr: String::from_utf8_lossy(&out.stderr).into(),
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

const GOOD_CSV: &str = "\u{feff}Customer ID,Full Name,Company,E-mail,Phone,Country,Owner,Classification,Notes\n\
C-1,Nguyễn Văn An,\"Công ty Sao Mai, Hà Nội\",an.nguyen@saomai.example,0912 345 678,VN,p-2,internal,\"Says \"\"hi\"\"\"\n\
C-2,王伟,Pacific Holdings,wei.wang@pacific.example,+86 138 1234 5678,CN,p-2,confidential,\n\
C-3,José García,Rhine GmbH,jose@rhine.example,(415) 555-0132,US,p-1,internal,\n";

#[test]
fn init_creates_a_private_key_file_and_refuses_twice() {
    let env = Env::new();
    let out = env.run(&["init"]).ok();
    assert!(out.stdout.contains("Initialized custodia"));
    let key = env.data.join("custodia.key");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&key).unwrap().permissions().mode() & 0o777, 0o600);
    }
    let again = env.run(&["init"]).fails();
    assert!(
        again.stderr.contains("already holds a custodia installation"),
        "{}",
        again.stderr
    );
    // a ledger left without its vault is kept, not replaced by a new installation's
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(env.data.join(format!("custodia.db{suffix}")));
    }
    let ledger = std::fs::read(env.data.join(store::LEDGER_FILE)).unwrap();
    let refused = env.run(&["init"]).fails();
    assert!(refused.stderr.contains("without its vault"), "{}", refused.stderr);
    assert_eq!(std::fs::read(env.data.join(store::LEDGER_FILE)).unwrap(), ledger);
}

#[test]
fn import_reads_bom_quotes_international_names_and_national_phones() {
    let env = Env::with_people();
    let csv = env.file("customers.csv", GOOD_CSV);
    let out = env.run(&["customers", "import", csv.to_str().unwrap()]).ok();
    assert!(out.stdout.contains("Imported 3 customers"), "{}", out.stdout);
    let an = env.run(&["customers", "show", "C-1", "--json"]).ok().json();
    assert_eq!(an["fields"]["name"], "Nguyễn Văn An");
    assert_eq!(an["fields"]["company"], "Công ty Sao Mai, Hà Nội");
    assert_eq!(
        an["fields"]["phones"][0], "+84912345678",
        "national number read in the customer's country"
    );
    assert_eq!(an["fields"]["notes"], "Says \"hi\"");
    assert_eq!(an["owner"], "p-2");
    let jose = env.run(&["customers", "show", "C-3", "--json"]).ok().json();
    assert_eq!(jose["fields"]["phones"][0], "+14155550132");
    // Exact lookups through the blind indexes, in any written form.
    let by_phone = env
        .run(&["customers", "search", "+84 912-345-678", "--json"])
        .ok()
        .json();
    assert_eq!(by_phone["records"][0]["id"], "C-1");
    let by_email = env
        .run(&["customers", "search", "Wei.Wang@Pacific.Example", "--json"])
        .ok()
        .json();
    assert_eq!(by_email["records"][0]["id"], "C-2");
    // Name search folds diacritics.
    let by_name = env.run(&["customers", "search", "nguyen van", "--json"]).ok().json();
    assert_eq!(by_name["records"].as_array().unwrap().len(), 1);
}

#[test]
fn map_option_maps_unrecognised_headers() {
    let env = Env::with_people();
    let csv = env.file("odd.csv", "Kunde,Wer,Telefon,Land\nAnna Schmidt,p-1,030 1234567,DE\n");
    let bad = env.run(&["customers", "import", csv.to_str().unwrap()]).fails();
    assert!(
        bad.stderr.contains("no column holds the customers' names")
            && bad.stderr.contains("its columns are Kunde, Wer, Telefon, Land"),
        "{}",
        bad.stderr
    );
    let csv_arg = csv.to_str().unwrap();
    env.run(&[
        "customers",
        "import",
        csv_arg,
        "--map",
        "name=Kunde",
        "--map",
        "owner=Wer",
        "--map",
        "phone=Telefon",
        "--map",
        "country=Land",
    ])
    .ok();
    let list = env.run(&["customers", "list", "--json"]).ok().json();
    assert_eq!(list["records"][0]["fields"]["phones"][0], "+49301234567");
    let unknown = env.run(&["customers", "import", csv_arg, "--map", "nom=Kunde"]).fails();
    assert!(unknown.stderr.contains("unknown field \"nom\""), "{}", unknown.stderr);
}

/// A CRM export as CRMs write it: the name in first and last name columns, the
/// address in street, city, state and zip columns, two phone columns and two email
/// columns, countries by name, and no owner column (`--owner` gives one). Each part
/// lands in the record, and a scan finds the customer by the second phone column.
#[test]
fn import_joins_split_names_and_addresses_and_reads_every_phone_column() {
    let env = Env::with_people();
    let csv = env.file(
        "crm.csv",
        "First Name,Last Name,Street Address,Address Line 2,City,State,Zip,Mobile,Work Phone,Email,Email 2,Country\n\
         Jane,Doe,12 Main Street,Apt 4,Springfield,IL,62701,(217) 555-0143,217-555-0199,jane.doe@example.com,,United States\n\
         Văn An,Nguyễn,,,,,,0912 345 678,,,an@saomai.example,Viet Nam\n",
    );
    let missing_owner = env.run(&["customers", "import", csv.to_str().unwrap()]).fails();
    assert!(
        missing_owner.stderr.contains("give one with --owner PERSON"),
        "{}",
        missing_owner.stderr
    );
    env.run(&["customers", "import", csv.to_str().unwrap(), "--owner", "p-2"])
        .ok();
    let list = env.run(&["customers", "list", "--json"]).ok().json();
    let records = list["records"].as_array().unwrap();
    let jane = records.iter().find(|r| r["fields"]["name"] == "Jane Doe").unwrap();
    assert_eq!(
        jane["fields"]["addresses"][0], "12 Main Street, Apt 4, Springfield, IL 62701",
        "{jane}"
    );
    assert_eq!(
        jane["fields"]["phones"],
        serde_json::json!(["+12175550143", "+12175550199"]),
        "{jane}"
    );
    assert_eq!(jane["owner"], "p-2");
    let an = records.iter().find(|r| r["fields"]["name"] == "Văn An Nguyễn").unwrap();
    assert_eq!(an["fields"]["phones"][0], "+84912345678", "read in Viet Nam: {an}");
    assert_eq!(an["fields"]["emails"][0], "an@saomai.example", "{an}");
    let leak = env.file("leak.txt", "Jane Doe, direct line 217 555 0199\n");
    let found = env
        .run(&["scan", leak.to_str().unwrap(), "--channel", "usb", "--json"])
        .json();
    assert_eq!(found["customer_records"], 1, "{found}");
    // Salesforce's and HubSpot's headers, with a column no field takes named.
    let salesforce = env.file(
        "sf.csv",
        "First Name,Last Name,Mailing Street,Mailing City,Mailing State/Province,Mailing Zip/Postal Code,\
         Mailing Country,Mobile Phone Number,Contact Owner,Lead Source\n\
         Ana,Rossi,Via Roma 5,Milano,MI,20121,Italy,347 123 4567,p-1,Web\n",
    );
    let out = env.run(&["customers", "import", salesforce.to_str().unwrap()]).ok();
    assert!(
        out.stderr.contains("1 column(s) not read: Lead Source"),
        "{}",
        out.stderr
    );
    let ana = env.run(&["customers", "search", "Ana Rossi", "--json"]).ok().json();
    let ana = &ana["records"][0];
    assert_eq!(ana["fields"]["addresses"][0], "Via Roma 5, Milano, MI 20121", "{ana}");
    assert_eq!(ana["fields"]["phones"][0], "+393471234567", "{ana}");
    assert_eq!(ana["owner"], "p-1", "{ana}");
    // A country that is no country's name or code is a line's problem, named.
    let atlantis = env.file("atlantis.csv", "name,owner,country\nAn,p-1,Atlantis\n");
    let bad = env.run(&["customers", "import", atlantis.to_str().unwrap()]).fails();
    assert!(bad.stderr.contains("line 2: country \"Atlantis\""), "{}", bad.stderr);
}

/// A listing cut at its limit says so on standard error, and only then.
#[test]
fn a_listing_cut_at_its_limit_says_so() {
    let env = Env::with_people();
    let csv = env.file(
        "three.csv",
        "id,name,owner,phone,country\nC-1,An,p-1,47 54 23 73,DK\nC-2,Binh,p-1,0505 844 40 94,TR\nC-3,Chi,p-1,020 7946 0958,UK\n",
    );
    env.run(&["customers", "import", csv.to_str().unwrap()]).ok();
    let cut = env.run(&["customers", "list", "--json", "--limit", "2"]).ok();
    assert_eq!(cut.json()["records"].as_array().unwrap().len(), 2);
    assert!(cut.stderr.contains("stopped at --limit 2"), "{}", cut.stderr);
    let whole = env.run(&["customers", "list", "--limit", "3"]).ok();
    assert!(whole.stderr.contains("stopped at --limit 3"), "{}", whole.stderr);
    let all = env.run(&["customers", "list"]).ok();
    assert!(!all.stderr.contains("stopped"), "{}", all.stderr);
    let help = env.run(&["customers", "import", "--help"]).ok();
    assert!(help.stdout.contains("people import"), "{}", help.stdout);
}

/// A reader that stops early (`custodia customers list | head -1`) ends the command
/// quietly with a shell's status for SIGPIPE, not with a panic and a backtrace, and
/// the command lets go of what it holds as it ends: the store is closed, so its
/// write-ahead log is folded back and removed.
#[test]
fn a_closed_pipe_ends_a_listing_quietly() {
    use std::io::BufRead;
    let env = Env::with_people();
    let mut csv = String::from("id,name,owner,email,country\n");
    // More than a pipe's buffer of output, so the command is still writing when the
    // reader goes.
    for i in 0..2000 {
        csv.push_str(&format!("C-{i},Customer Number {i},p-1,customer.{i}@example.com,DK\n"));
    }
    env.run(&["customers", "import", env.file("many.csv", &csv).to_str().unwrap()])
        .ok();
    let mut child = env
        .command(&["customers", "list", "--json", "--limit", "2000"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(first.starts_with('{'), "{first}");
    // The reader is dropped here, closing the pipe.
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(141), "{stderr}");
    assert!(stderr.is_empty(), "{stderr}");
    assert!(!env.data.join("custodia.db-wal").exists(), "the store was not closed");
}

/// The vault's benchmarks run to their last figure at a small size (the figures are
/// timings, not checked). Found broken: both stopped at their import, which gave
/// customers to the demo's salesperson who has left.
#[test]
fn the_vault_benchmarks_run_to_their_last_figure() {
    let env = Env::new();
    let out = env.run(&["bench", "import", "--rows", "300", "--reads", "20"]).ok();
    for needle in [
        "custodia import",
        "decrypted read by id",
        "DLP index from the vault",
        "ratio vault / in memory",
    ] {
        assert!(out.stdout.contains(needle), "{needle}: {}", out.stdout);
    }
    let out = env
        .run(&["bench", "gateway", "--customers", "300", "--people", "50"])
        .ok();
    assert!(out.stdout.contains("read one customer: full gateway"), "{}", out.stdout);
}

/// A benchmark whose reader is gone before its first line ends with 141 and leaves no
/// temporary directory behind (found in review: its stores were left in /tmp).
#[test]
fn a_benchmark_cut_short_by_a_closed_pipe_removes_its_directory() {
    let env = Env::new();
    let tmp = env.root.join("tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    for args in [
        &["bench", "import", "--rows", "200", "--reads", "20"][..],
        &["bench", "ledger", "--writers", "2", "--per-writer", "5"][..],
    ] {
        let mut child = env
            .command(args)
            .env("TMPDIR", &tmp)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(141), "{args:?}: {stderr}");
        let left: Vec<_> = std::fs::read_dir(&tmp)
            .unwrap()
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert!(left.is_empty(), "{args:?} left {left:?}");
    }
}

/// Each bad input: the command fails with a line naming the problem, and
/// nothing is written.
#[test]
fn bad_csv_imports_nothing_and_names_each_line() {
    let env = Env::with_people();
    let check = |name: &str, content: &str, expected: &[&str]| {
        let path = env.file(name, content);
        let out = env.run(&["customers", "import", path.to_str().unwrap()]).fails();
        for e in expected {
            assert!(out.stderr.contains(e), "{name}: expected {e:?} in:\n{}", out.stderr);
        }
        assert_eq!(env.count(), 0, "{name}: nothing may be written");
    };
    check(
        "ragged.csv",
        "id,name,owner\nC-1,An,p-1\nC-2,Binh,p-1,extra\n",
        &["line 3 has 4 fields where the header has 3"],
    );
    check("truncated.csv", "id,name,owner\nC-1,An,p-1\nC-2,\"Binh", &["line 3"]);
    check(
        "rows.csv",
        "id,name,email,phone,owner,country\nC-1,An,an@x.example,0912345678,p-1,VN\nC-2,Binh,not-an-email,,p-1,VN\nC-3,Chi,,,p-9,VN\nC-4,,,,p-1,VN\nC-5,Dung,,12,p-1,VN\n",
        &["line 3: email #1 is not an email address", "line 4: unknown owner p-9", "line 5: the name is empty", "line 6: phone #1 cannot be read"],
    );
    // Python's csv module and Excel end lines with CRLF: the lines named are the same.
    check(
        "rows-crlf.csv",
        "id,name,email,phone,owner,country\r\nC-1,An,an@x.example,0912345678,p-1,VN\r\nC-2,Binh,not-an-email,,p-1,VN\r\nC-3,Chi,,,p-9,VN\r\n",
        &["line 3: email #1 is not an email address", "line 4: unknown owner p-9"],
    );
    check(
        "dupes.csv",
        "id,name,owner\nC-1,An,p-1\nC-1,An again,p-1\n",
        &["line 3: customer id C-1 appears more than once"],
    );
    check("empty.csv", "", &["empty or has no header"]);
    let latin1 = env.root.join("latin1-bytes.csv");
    std::fs::write(&latin1, b"id,name,owner\nC-1,Jos\xe9,p-1\n").unwrap();
    let out = env.run(&["customers", "import", latin1.to_str().unwrap()]).fails();
    assert!(out.stderr.contains("line 2 is not UTF-8"), "{}", out.stderr);
}

/// An address written over lines in its cell is one address, as on an envelope; `;`
/// and `|` part several. Each line read as an address made a city's line one of its own.
#[test]
fn an_address_over_several_lines_is_one_address() {
    let env = Env::with_people();
    let csv = env.file(
        "lines.csv",
        "id,name,address,email,owner\r\nC-1,Tracy Moore,\"253 Moyer Burg Apt. 372\r\nCohenside, IL 10322\",\"t@x.example\nt2@x.example\",p-1\r\nC-2,Ana Rossi,\"12 Main Street, Springfield; Via Roma 1,\n00184 Roma\",,p-1\r\n",
    );
    env.run(&["customers", "import", csv.to_str().unwrap()]).ok();
    let tracy = env.run(&["customers", "show", "C-1", "--json"]).ok().json();
    assert_eq!(
        tracy["fields"]["addresses"],
        serde_json::json!(["253 Moyer Burg Apt. 372, Cohenside, IL 10322"])
    );
    assert_eq!(
        tracy["fields"]["emails"],
        serde_json::json!(["t@x.example", "t2@x.example"]),
        "emails and phones, one per line, are still several"
    );
    let ana = env.run(&["customers", "show", "C-2", "--json"]).ok().json();
    assert_eq!(
        ana["fields"]["addresses"],
        serde_json::json!(["12 Main Street, Springfield", "Via Roma 1, 00184 Roma"])
    );
}

#[test]
fn skip_invalid_imports_the_good_rows_and_reports_the_rest() {
    let env = Env::with_people();
    let csv = env.file("mixed.csv", "id,name,owner\nC-1,An,p-1\nC-2,Binh,p-404\nC-3,Chi,p-2\n");
    let out = env
        .run(&["customers", "import", csv.to_str().unwrap(), "--skip-invalid"])
        .ok();
    assert!(out.stdout.contains("Imported 2 customers"), "{}", out.stdout);
    assert!(out.stdout.contains("line 3: unknown owner p-404"), "{}", out.stdout);
    assert_eq!(env.count(), 2);
}

#[test]
fn duplicate_of_an_existing_customer_writes_nothing() {
    let env = Env::with_people();
    env.run(&[
        "customers",
        "import",
        env.file("a.csv", "id,name,owner\nC-1,An,p-1\n").to_str().unwrap(),
    ])
    .ok();
    let out = env
        .run(&[
            "customers",
            "import",
            env.file("b.csv", "id,name,owner\nC-2,Binh,p-1\nC-1,An,p-1\n")
                .to_str()
                .unwrap(),
        ])
        .fails();
    assert!(
        out.stderr.contains("customer C-1 already exists; nothing was written"),
        "{}",
        out.stderr
    );
    assert_eq!(env.count(), 1);
}

#[test]
fn wrong_or_missing_keys_are_named() {
    let env = Env::with_people();
    let key = env.data.join("custodia.key");
    let good = std::fs::read_to_string(&key).unwrap();
    // Missing key file.
    std::fs::rename(&key, env.root.join("moved.key")).unwrap();
    let out = env.run(&["customers", "list"]).fails();
    assert!(
        out.stderr.contains("cannot read key file") && out.stderr.contains("--key-file"),
        "{}",
        out.stderr
    );
    // Another installation's key file.
    let other = Env::new();
    other.run(&["init"]).ok();
    let out = env
        .run(&[
            "--key-file",
            other.data.join("custodia.key").to_str().unwrap(),
            "customers",
            "list",
        ])
        .fails();
    assert!(
        out.stderr.contains("the key does not belong to this data directory"),
        "{}",
        out.stderr
    );
    // A wrong keyring in the environment, and one that is not a keyring.
    let other_text = std::fs::read_to_string(other.data.join("custodia.key")).unwrap();
    let out = to_run(
        env.command(&["customers", "list"])
            .env("CUSTODIA_KEYRING", &other_text)
            .output()
            .unwrap(),
    )
    .fails();
    assert!(
        out.stderr.contains("the key does not belong to this data directory"),
        "{}",
        out.stderr
    );
    let out = to_run(
        env.command(&["customers", "list"])
            .env("CUSTODIA_KEYRING", "hunter2-not-a-key")
            .output()
            .unwrap(),
    )
    .fails();
    assert!(
        out.stderr
            .contains("the CUSTODIA_KEYRING variable is not a custodia keyring"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("hunter2"), "the secret must not be echoed");
    // The right keyring from the environment works.
    to_run(
        env.command(&["customers", "list"])
            .env("CUSTODIA_KEYRING", &good)
            .output()
            .unwrap(),
    )
    .ok();
}

#[test]
fn a_data_dir_from_a_newer_version_is_refused() {
    let env = Env::with_people();
    let conn = rusqlite::Connection::open(env.data.join("custodia.db")).unwrap();
    conn.pragma_update(None, "user_version", 42).unwrap();
    drop(conn);
    let out = env.run(&["customers", "list"]).fails();
    assert!(
        out.stderr.contains("created by a newer custodia (schema 42") && out.stderr.contains("upgrade custodia"),
        "{}",
        out.stderr
    );
}

#[test]
fn uninitialized_data_dir_says_run_init() {
    let env = Env::new();
    let out = env.run(&["customers", "list"]).fails();
    assert!(out.stderr.contains("run `custodia init`"), "{}", out.stderr);
}

/// A known customer email and the known key never appear in the raw
/// database files, the audit log, or any output of a failing command.
#[test]
fn planted_email_and_key_appear_nowhere_on_disk_or_in_errors() {
    let env = Env::with_people();
    let email = "planted.secret.customer@leak-canary.example";
    let csv = env.file(
        "c.csv",
        &format!("id,name,email,phone,owner,country\nC-77,Canary Person,{email},+84 987 654 321,p-1,VN\n"),
    );
    env.run(&["customers", "import", csv.to_str().unwrap()]).ok();
    let key_text = std::fs::read_to_string(env.data.join("custodia.key")).unwrap();
    let key_values: Vec<String> = key_text
        .lines()
        .filter(|l| l.contains("\"key\"") || l.contains("blind_index_key"))
        .map(|l| l.split('"').nth(3).unwrap().to_owned())
        .collect();
    assert!(!key_values.is_empty());
    // Provoke errors that handle the record and the key.
    let mut outputs = vec![
        env.run(&[
            "customers",
            "import",
            env.file("dup.csv", &format!("id,name,email,owner\nC-77,X,{email},p-1\n"))
                .to_str()
                .unwrap(),
        ]),
        env.run(&["--as", "p-3", "customers", "show", "C-77"]),
        to_run(
            env.command(&["customers", "list"])
                .env("CUSTODIA_KEYRING", key_text.replace("custodia-keyring/1", "x"))
                .output()
                .unwrap(),
        ),
    ];
    outputs.push(env.run(&["customers", "show", "C-77"]).ok());
    for (path, bytes) in env.raw_files() {
        if path.ends_with("custodia.key") {
            continue;
        }
        assert!(
            !contains(&bytes, email.as_bytes()),
            "{} holds the plaintext email",
            path.display()
        );
        assert!(
            !contains(&bytes, b"Canary Person"),
            "{} holds the plaintext name",
            path.display()
        );
        for k in &key_values {
            assert!(!contains(&bytes, k.as_bytes()), "{} holds key material", path.display());
        }
    }
    for out in &outputs[..3] {
        assert!(
            !out.stderr.contains(email) && !out.stdout.contains(email),
            "an error printed the email: {}",
            out.stderr
        );
        for k in &key_values {
            assert!(!out.stderr.contains(k.as_str()), "an error printed key material");
        }
    }
}

#[test]
fn erase_crypto_shreds_the_customer() {
    let env = Env::with_people();
    env.run(&["customers", "import", env.file("c.csv", GOOD_CSV).to_str().unwrap()])
        .ok();
    let refused = env.run(&["customers", "erase", "C-1"]).fails();
    assert!(refused.stderr.contains("--yes"));
    env.run(&["customers", "erase", "C-1", "--yes"]).ok();
    let out = env.run(&["customers", "show", "C-1"]).fails();
    assert!(out.stderr.contains("customer C-1 not found"), "{}", out.stderr);
    let search = env
        .run(&["customers", "search", "an.nguyen@saomai.example", "--json"])
        .ok()
        .json();
    assert!(
        search["records"].as_array().unwrap().is_empty(),
        "the blind index entry is gone"
    );
    assert_eq!(env.count(), 2);
}

#[test]
fn key_rotation_rewraps_every_data_key_and_retires_the_old_key() {
    let env = Env::with_people();
    env.run(&["customers", "import", env.file("c.csv", GOOD_CSV).to_str().unwrap()])
        .ok();
    let doc = env.file("design.txt", "secret design body");
    env.run(&[
        "documents",
        "add",
        doc.to_str().unwrap(),
        "--title",
        "Design",
        "--custodian",
        "p-1",
        "--kind",
        "design",
    ])
    .ok();
    let old_key = env.root.join("old.key");
    std::fs::copy(env.data.join("custodia.key"), &old_key).unwrap();
    let out = env.run(&["keys", "rotate", "--json"]).ok().json();
    assert_eq!(out["kek_version"], 2);
    assert_eq!(out["rewrapped"], 4);
    let an = env.run(&["customers", "show", "C-1", "--json"]).ok().json();
    assert_eq!(an["fields"]["name"], "Nguyễn Văn An");
    let saved = env.root.join("out.txt");
    env.run(&["documents", "show", "D-00001", "--output", saved.to_str().unwrap()])
        .ok();
    assert_eq!(std::fs::read_to_string(&saved).unwrap(), "secret design body");
    let stale = env
        .run(&["--key-file", old_key.to_str().unwrap(), "customers", "show", "C-1"])
        .fails();
    assert!(
        stale.stderr.contains("key version 2, which this keyring does not hold"),
        "{}",
        stale.stderr
    );
}

#[test]
fn documents_round_trip_and_refuse_bad_input() {
    let env = Env::with_people();
    let body = "Project Lotus: dual-band sensor";
    let file = env.file("lotus.txt", body);
    let added = env
        .run(&[
            "documents",
            "add",
            file.to_str().unwrap(),
            "--title",
            "Lotus",
            "--custodian",
            "p-1",
            "--classification",
            "secret",
            "--compartment",
            "project-lotus",
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(added["size"], body.len());
    assert_eq!(added["classification"], "secret");
    let listed = env.run(&["documents", "list", "--json"]).ok().json();
    assert_eq!(listed["records"][0]["title"], "Lotus");
    for (_, bytes) in env.raw_files() {
        assert!(!contains(&bytes, body.as_bytes()), "document body stored in clear");
    }
    let out = env
        .run(&[
            "documents",
            "add",
            file.to_str().unwrap(),
            "--title",
            "X",
            "--custodian",
            "p-404",
        ])
        .fails();
    assert!(out.stderr.contains("unknown custodian p-404"), "{}", out.stderr);
    let out = env
        .run(&[
            "documents",
            "add",
            file.to_str().unwrap(),
            "--title",
            "X",
            "--custodian",
            "p-1",
            "--classification",
            "top",
        ])
        .fails();
    assert!(
        out.stderr
            .contains("expected one of public, internal, confidential, secret"),
        "{}",
        out.stderr
    );
}

#[test]
fn people_import_rejects_unknown_managers_and_bad_roles() {
    let env = Env::new();
    env.run(&["init"]).ok();
    let out = env
        .run(&[
            "people",
            "import",
            env.file("p.csv", "id,name,role,manager\np-1,A,sales_rep,p-9\n")
                .to_str()
                .unwrap(),
        ])
        .fails();
    assert!(out.stderr.contains("unknown manager p-9"), "{}", out.stderr);
    let out = env
        .run(&[
            "people",
            "import",
            env.file("q.csv", "id,name,role\np-1,A,wizard\n").to_str().unwrap(),
        ])
        .fails();
    assert!(out.stderr.contains("line 2: role: expected one of"), "{}", out.stderr);
    let listed = env.run(&["people", "list", "--json"]).ok().json();
    assert!(listed.as_array().unwrap().is_empty());
    // The roles are in the help, not only in the error (found by a blind test).
    let help = env.run(&["people", "import", "--help"]).ok();
    assert!(help.stdout.contains("security_admin"), "{}", help.stdout);
}

#[test]
fn show_output_is_stable() {
    let env = Env::with_people();
    env.run(&["customers", "import", env.file("c.csv", GOOD_CSV).to_str().unwrap()])
        .ok();
    insta::assert_snapshot!("customer_show", env.run(&["customers", "show", "C-1"]).ok().stdout);
}

/// Mounting a tiny filesystem needs root; where that is not possible the
/// test says so and checks nothing (CI runs as root).
fn mount_tmpfs(dir: &Path, size: &str) -> bool {
    std::fs::create_dir_all(dir).unwrap();
    Command::new("mount")
        .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
        .arg(dir)
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

struct Unmount(PathBuf);
impl Drop for Unmount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

#[test]
fn read_only_and_full_data_dirs_are_reported_and_lose_nothing() {
    let env = Env::new();
    let mnt = env.root.join("mnt");
    if !mount_tmpfs(&mnt, "3m") {
        eprintln!("skipped: cannot mount a tmpfs here (needs root)");
        return;
    }
    let _guard = Unmount(mnt.clone());
    let data = mnt.join("data");
    let run = |args: &[&str]| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_custodia"));
        cmd.arg("--data-dir")
            .arg(&data)
            .args(args)
            .env_remove("CUSTODIA_KEYRING");
        to_run(cmd.output().unwrap())
    };
    run(&["init"]).ok();
    run(&["people", "import", env.file("p.csv", PEOPLE).to_str().unwrap()]).ok();
    run(&["customers", "import", env.file("c.csv", GOOD_CSV).to_str().unwrap()]).ok();
    // Full: a file far larger than what is left.
    let mut big = String::from("id,name,owner,notes\n");
    for i in 0..20_000 {
        big.push_str(&format!("X-{i},Customer {i},p-1,{}\n", "n".repeat(200)));
    }
    let out = run(&["customers", "import", env.file("big.csv", &big).to_str().unwrap()]).fails();
    assert!(out.stderr.contains("is full"), "{}", out.stderr);
    assert!(
        !data.join("custodia.db-wal").exists(),
        "the failed import's write-ahead log still holds the space"
    );
    let listed = run(&["customers", "list", "--json"]).ok().json();
    assert_eq!(
        listed["records"].as_array().unwrap().len(),
        3,
        "the failed import left nothing behind"
    );
    // Read-only.
    assert!(Command::new("mount")
        .args(["-o", "remount,ro"])
        .arg(&mnt)
        .status()
        .unwrap()
        .success());
    let out = run(&[
        "customers",
        "import",
        env.file("one.csv", "id,name,owner\nC-9,Nine,p-1\n").to_str().unwrap(),
    ])
    .fails();
    assert!(out.stderr.contains("read-only"), "{}", out.stderr);
}

#[test]
fn set_password_reads_standard_input_and_refuses_weak_ones() {
    use std::io::Write;
    let env = Env::with_people();
    let set = |pw: &str| {
        let mut child = env
            .command(&["people", "set-password", "p-2"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(format!("{pw}\n").as_bytes())
            .unwrap();
        to_run(child.wait_with_output().unwrap())
    };
    let weak = set("short").fails();
    assert!(
        !weak.stderr.contains("short"),
        "the password must not be echoed: {}",
        weak.stderr
    );
    set("a long enough passphrase").ok();
    let conn = rusqlite::Connection::open(env.data.join("custodia.db")).unwrap();
    let phc: String = conn
        .query_row("SELECT phc FROM credentials WHERE person = 'p-2'", [], |r| r.get(0))
        .unwrap();
    assert!(phc.starts_with("$argon2id$") && !phc.contains("passphrase"));
}

#[test]
fn serve_prints_a_bootstrap_code_and_a_self_signed_fingerprint() {
    use std::io::BufRead;
    let env = Env::with_people();
    let child = env
        .command(&["serve", "--listen", "127.0.0.1:0", "--tls-self-signed"])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    struct KillOnDrop(std::process::Child);
    impl Drop for KillOnDrop {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let mut server = KillOnDrop(child);
    let stderr = server.0.stderr.take().unwrap();
    let mut lines = std::io::BufReader::new(stderr).lines();
    let mut seen = Vec::new();
    while let Some(Ok(line)) = lines.next() {
        seen.push(line);
        let text = seen.join("\n");
        if text.contains("fingerprint") && text.contains("POST /v1/bootstrap") {
            break;
        }
    }
    let text = seen.join("\n");
    assert!(text.contains("on https://127.0.0.1:"), "{text}");
    assert!(text.contains("bootstrap code"), "{text}");
    let fingerprint = text
        .split("fingerprint ")
        .nth(1)
        .and_then(|rest| rest.lines().next())
        .unwrap()
        .trim_end_matches(':');
    assert_eq!(fingerprint.split(':').count(), 32, "{text}");
}

#[test]
fn bootstrap_issues_a_new_code_that_voids_the_last_until_someone_has_a_password() {
    let env = Env::with_people();
    let first = env.run(&["bootstrap"]).ok().stdout.trim().to_owned();
    let second = env.run(&["bootstrap"]).ok().stdout.trim().to_owned();
    assert!(
        first.len() >= 32 && second.len() >= 32 && first != second,
        "{first} {second}"
    );
    let conn = rusqlite::Connection::open(env.data.join("custodia.db")).unwrap();
    let codes: i64 = conn
        .query_row("SELECT COUNT(*) FROM bootstrap_codes", [], |r| r.get(0))
        .unwrap();
    assert_eq!(codes, 1, "one code in force");
    for (path, bytes) in env.raw_files() {
        assert!(!contains(&bytes, second.as_bytes()), "the code is in {path:?} in clear");
    }
    conn.execute(
        "INSERT INTO credentials (person, phc) VALUES ('p-1', '$argon2id$x')",
        [],
    )
    .unwrap();
    let over = env.run(&["bootstrap"]).fails();
    assert!(over.stderr.contains("bootstrap is over"), "{}", over.stderr);
}

#[test]
fn a_log_setting_that_is_no_list_of_levels_is_named_and_the_default_kept() {
    let env = Env::new();
    env.run(&["init"]).ok();
    let out = to_run(
        env.command(&["people", "list"])
            .env("CUSTODIA_LOG", "server=loud")
            .output()
            .unwrap(),
    )
    .ok();
    assert!(
        out.stderr
            .contains("warning: CUSTODIA_LOG=\"server=loud\" is not a list of levels"),
        "{}",
        out.stderr
    );
    let quiet = to_run(
        env.command(&["people", "list"])
            .env("CUSTODIA_LOG", "warn")
            .output()
            .unwrap(),
    )
    .ok();
    assert!(!quiet.stderr.contains("CUSTODIA_LOG"), "{}", quiet.stderr);
}

/// The operator setting a person's password is an authentication event, and every
/// authentication event is in the ledger. Found in a security review: `custodia people set-password` calls `server::set_password`,
/// which writes the hash and ends the person's sessions and tokens, and nothing
/// records it: whoever holds the key file can take over a security admin's account
/// (and end their sessions) with no trace but the logins that follow.
#[test]
fn setting_a_password_from_the_command_line_is_recorded() {
    use std::io::Write;
    let env = Env::with_people();
    let set = |password: &[u8]| {
        let mut child = env
            .command(&["people", "set-password", "p-2"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(password).unwrap();
        to_run(child.wait_with_output().unwrap())
    };
    set(b"a long enough passphrase\n").ok();
    // A password refused for its length changes nothing and is recorded as refused
    // (found in review: it was recorded as set).
    set(b"short\n").fails();
    let found = env.run(&["audit", "search", "--person", "p-2", "--json"]).ok().json();
    let decisions: Vec<(&str, &str)> = found
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"].as_str().is_some_and(|a| a.starts_with("auth.")))
        .map(|e| (e["action"].as_str().unwrap(), e["decision"].as_str().unwrap()))
        .collect();
    assert_eq!(
        decisions,
        [("auth.password_set", "deny"), ("auth.password_set", "allow")],
        "p-2's authentication events, newest first"
    );
}
