//! `custodia scan` over real files, against the vault's own customers.

use super::*;

fn leak_csv(env: &Env, n: usize) -> String {
    let list = env
        .run(&["customers", "list", "--json", "--limit", &n.to_string()])
        .ok()
        .json();
    let mut csv = String::from("Name,Email,Phone\n");
    for r in list["records"].as_array().unwrap() {
        csv.push_str(&format!(
            "{},{},{}\n",
            r["fields"]["name"].as_str().unwrap(),
            r["fields"]["emails"][0].as_str().unwrap(),
            r["fields"]["phones"][0].as_str().unwrap()
        ));
    }
    csv
}

#[test]
fn scan_blocks_customer_lists_and_classified_documents_and_records_each_verdict() {
    let env = Env::with_people();
    env.run(&["customers", "import", env.file("c.csv", GOOD_CSV).to_str().unwrap()])
        .ok();
    let design = "Project Lotus enclosure: a two-part magnesium shell with the antenna printed on the inner wall to save four millimetres of height; the power budget is 180 mW while sampling. ".repeat(5);
    let doc = env.file("design.txt", &design);
    env.run(&[
        "documents",
        "add",
        doc.to_str().unwrap(),
        "--title",
        "Lotus",
        "--custodian",
        "p-1",
        "--classification",
        "secret",
    ])
    .ok();
    let dir = env.root.join("outgoing");
    std::fs::create_dir_all(dir.join("nested")).unwrap();
    std::fs::write(dir.join("accounts.csv"), leak_csv(&env, 3)).unwrap();
    std::fs::write(dir.join("nested/notes.txt"), "Lunch on Friday? Nothing else to report.").unwrap();
    std::fs::write(dir.join("copy-of-design.txt"), format!("FYI\n{design}")).unwrap();
    // The copy of the secret design needs a justification: exit status 3.
    let out = env.run(&["scan", dir.to_str().unwrap(), "--json"]).exits_with(3);
    let lines: Vec<serde_json::Value> = out.stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 3, "one JSON object per file: {}", out.stdout);
    let by_name = |name: &str| {
        lines
            .iter()
            .find(|l| l["path"].as_str().unwrap().ends_with(name))
            .unwrap()
            .clone()
    };
    let accounts = by_name("accounts.csv");
    assert_eq!(accounts["customer_records"], 3, "{accounts}");
    assert_ne!(accounts["verdict"], "allow");
    let notes = by_name("notes.txt");
    assert_eq!(
        (notes["verdict"].as_str(), notes["customer_records"].as_u64()),
        (Some("allow"), Some(0))
    );
    let copy = by_name("copy-of-design.txt");
    assert_eq!(copy["fingerprint_hits"][0]["doc_id"], "D-00001", "{copy}");
    assert!(out.stderr.contains("scanned 3 files"), "{}", out.stderr);
    // Every verdict is in the ledger, with ids and counts but no values.
    let recorded = env
        .run(&["audit", "search", "--action", "dlp.scan.file", "--json"])
        .ok()
        .json();
    assert_eq!(recorded.as_array().unwrap().len(), 3);
    let text = recorded.to_string();
    assert!(
        !text.contains("an.nguyen@saomai.example") && !text.contains("Nguyễn"),
        "plaintext in the ledger: {text}"
    );
    // A departing person copying to USB is treated more strictly.
    env.run(&["people", "set-status", "p-2", "--status", "departing"]).ok();
    let one = env.root.join("one.csv");
    std::fs::write(&one, leak_csv(&env, 2)).unwrap();
    let active = env
        .run(&[
            "--as",
            "p-1",
            "scan",
            one.to_str().unwrap(),
            "--channel",
            "usb",
            "--json",
        ])
        .exits_with(3)
        .json();
    assert_eq!(active["verdict"], "require_justification", "{active}");
    // A file the policy blocks gives exit status 3, so a script can gate on the scan.
    let departing = env
        .run(&[
            "--as",
            "p-2",
            "scan",
            one.to_str().unwrap(),
            "--channel",
            "usb",
            "--json",
        ])
        .exits_with(3)
        .json();
    assert_eq!(departing["verdict"], "block", "{departing}");
    assert_ne!(active["verdict"], departing["verdict"], "{active} vs {departing}");
    let bad = env
        .run(&["scan", one.to_str().unwrap(), "--channel", "pigeon"])
        .exits_with(1);
    assert!(
        bad.stderr.contains("expected file, upload, email, usb, print or chat"),
        "{}",
        bad.stderr
    );
    // Content that could not be inspected gives 2: the policy only alerts on it.
    let broken = env.root.join("broken.gz");
    std::fs::write(&broken, [0x1f, 0x8b, 8, 0, 1, 2, 3]).unwrap();
    let uninspected = env.run(&["scan", broken.to_str().unwrap()]).exits_with(2);
    assert!(uninspected.stdout.starts_with("alert"), "{}", uninspected.stdout);
    // A path that is not scanned gives 2 and is named; a blocked file still gives 3.
    let missing = env.root.join("missing.csv");
    let partial = env
        .run(&["scan", dir.join("nested").to_str().unwrap(), missing.to_str().unwrap()])
        .exits_with(2);
    assert!(
        partial.stdout.contains("missing.csv: No such file"),
        "{}",
        partial.stdout
    );
    assert!(
        partial.stderr.contains("scanned 1 file:") && partial.stderr.contains("1 not scanned"),
        "{}",
        partial.stderr
    );
    env.run(&[
        "--as",
        "p-2",
        "scan",
        one.to_str().unwrap(),
        missing.to_str().unwrap(),
        "--channel",
        "usb",
    ])
    .exits_with(3);
    // What each person sent reaches risk analytics from the ledger, with no server
    // running; the operator's own scans are nobody's activity.
    let scores = env.run(&["risk", "scores", "--format", "json"]).ok().json();
    let mut users: Vec<&str> = scores
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["user"].as_str().unwrap())
        .collect();
    users.sort_unstable();
    assert_eq!(users, ["p-1", "p-2"], "{scores}");
}

/// One ICAP REQMOD of a text upload, as a proxy sends it (whole body, no preview).
fn icap_reqmod(port: u16, body: &str) -> Vec<u8> {
    icap_reqmod_with(port, "", body)
}

/// [`icap_reqmod`] with more ICAP headers (`Name: value\r\n` each).
fn icap_reqmod_with(port: u16, icap_headers: &str, body: &str) -> Vec<u8> {
    let http = format!(
        "POST http://files.example/upload HTTP/1.1\r\nHost: files.example\r\nContent-Type: text/csv\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    let mut request = format!(
        "REQMOD icap://127.0.0.1:{port}/reqmod ICAP/1.0\r\nHost: 127.0.0.1\r\nConnection: close\r\n{icap_headers}Encapsulated: req-hdr=0, req-body={}\r\n\r\n{http}{:x}\r\n",
        http.len(),
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(body.as_bytes());
    request.extend_from_slice(b"\r\n0\r\n\r\n");
    request
}

/// `custodia serve` with `extra` arguments, killed when dropped, the port its ICAP
/// service listens on, and what it logs (standard error, read on in a thread).
fn serve_icap(env: &Env, extra: &[&str]) -> (KillOnDrop, u16, ServerLog) {
    use std::io::BufRead;
    let mut args = vec!["serve", "--listen", "127.0.0.1:0", "--icap", "127.0.0.1:0"];
    args.extend_from_slice(extra);
    let mut server = env.command(&args).stderr(std::process::Stdio::piped()).spawn().unwrap();
    let stderr = server.stderr.take().unwrap();
    let server = KillOnDrop(server);
    let mut lines = std::io::BufReader::new(stderr).lines();
    let port: u16 = loop {
        let line = lines.next().expect("serve exited before listening for ICAP").unwrap();
        if let Some(rest) = line.split("icap://").nth(1) {
            break rest.split(['/', ':']).nth(1).unwrap().parse().unwrap();
        }
    };
    let log = ServerLog::default();
    let kept = log.clone();
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            let (text, grew) = &*kept.0;
            let mut text = text.lock().unwrap();
            text.push_str(&line);
            text.push('\n');
            grew.notify_all();
        }
    });
    (server, port, log)
}

/// What a spawned server has written to standard error so far.
#[derive(Clone, Default)]
struct ServerLog(std::sync::Arc<(std::sync::Mutex<String>, std::sync::Condvar)>);

impl ServerLog {
    /// The log once it holds `wanted` (or as it is after 10 s).
    fn once_it_holds(&self, wanted: &str) -> String {
        let (text, grew) = &*self.0;
        let text = text.lock().unwrap();
        let (text, _) = grew
            .wait_timeout_while(text, std::time::Duration::from_secs(10), |text| !text.contains(wanted))
            .unwrap();
        text.clone()
    }
}

/// The ledger's `dlp.scan.upload` entries, newest first, and the whole search's output.
fn upload_scans(env: &Env) -> (Vec<serde_json::Value>, String) {
    let audit = env.run(&["audit", "search", "--json"]).ok();
    let scans = audit
        .json()
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "dlp.scan.upload")
        .cloned()
        .collect();
    (scans, audit.stdout)
}

struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Sends one ICAP request and reads the answer until the server closes.
fn icap_exchange(port: u16, request: &[u8]) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(20)))
        .unwrap();
    stream.write_all(request).unwrap();
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response);
    String::from_utf8_lossy(&response).into_owned()
}

#[test]
fn serve_icap_stops_an_upload_of_the_vaults_customers_and_records_why() {
    use std::io::{Read, Write};
    let env = Env::with_people();
    let mut csv = String::from("Customer ID,Full Name,Company,E-mail,Phone,Country,Owner,Classification\n");
    let mut leak = String::from("name,email,phone\n");
    for i in 0..6 {
        let (name, email, phone) = (
            format!("Phạm Thị Khách{i}"),
            format!("khach{i}@dong-a.example"),
            format!("0913 555 10{i}"),
        );
        csv.push_str(&format!("C-{i},{name},Dong A,{email},{phone},VN,p-2,internal\n"));
        leak.push_str(&format!("{name},{email},{phone}\n"));
    }
    env.run(&["customers", "import", env.file("c.csv", &csv).to_str().unwrap()])
        .ok();

    let (server, port, _log) = serve_icap(&env, &[]);
    let exchange = |body: &str| icap_exchange(port, &icap_reqmod(port, body));
    let blocked = exchange(&leak);
    assert!(blocked.starts_with("ICAP/1.0 200"), "{blocked}");
    assert!(blocked.contains("HTTP/1.1 403"), "{blocked}");
    assert!(blocked.contains("6 customer records"), "{blocked}");
    assert!(
        !blocked.contains("dong-a.example"),
        "no customer data on the block page: {blocked}"
    );
    let passed = exchange("Agenda: quarterly planning, nothing attached.\n");
    assert!(passed.starts_with("ICAP/1.0 20"), "{passed}");
    assert!(!passed.contains("HTTP/1.1 403"), "{passed}");
    // Two customers: the policy asks a justification, which a web upload cannot
    // carry, so the proxy stops it.
    let two: String = leak.lines().take(3).map(|line| format!("{line}\n")).collect();
    let justify = exchange(&two);
    assert!(justify.contains("HTTP/1.1 403"), "{justify}");
    // An HTTPS upload without TLS interception: only the tunnel is seen.
    let connect = "CONNECT files.example:443 HTTP/1.1\r\nHost: files.example:443\r\n\r\n";
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(20)))
        .unwrap();
    let request = format!(
        "REQMOD icap://127.0.0.1:{port}/reqmod ICAP/1.0\r\nHost: 127.0.0.1\r\nAllow: 204\r\nConnection: close\r\nEncapsulated: req-hdr=0, null-body={}\r\n\r\n{connect}",
        connect.len()
    );
    stream.write_all(request.as_bytes()).unwrap();
    let mut tunnel = Vec::new();
    let _ = stream.read_to_end(&mut tunnel);
    assert!(
        tunnel.starts_with(b"ICAP/1.0 204"),
        "{}",
        String::from_utf8_lossy(&tunnel)
    );
    drop(server);

    // Both verdicts are in the ledger, with ids and counts but no values.
    let (scans, audit) = upload_scans(&env);
    assert_eq!(scans.len(), 4, "{audit}");
    // Newest first: the CONNECT came last, the blocked customer rows first.
    let reasons = scans[0]["policies"].to_string();
    assert_eq!(scans[0]["decision"], "allow", "{}", scans[0]);
    assert!(reasons.contains("tunnel:files.example:443"), "{reasons}");
    assert!(reasons.contains("not-inspected:tls-tunnel"), "{reasons}");
    // What the proxy stopped is a deny, whatever the verdict's name.
    assert_eq!(scans[1]["decision"], "deny", "{}", scans[1]);
    assert_eq!(scans[1]["policies"][0], "verdict:require_justification", "{}", scans[1]);
    assert_eq!(scans[2]["decision"], "allow", "{}", scans[2]);
    assert_eq!(scans[3]["decision"], "deny", "{}", scans[3]);
    assert!(!audit.contains("dong-a.example"));
}

#[test]
fn serve_icap_judges_and_records_an_upload_as_the_person_the_proxy_names() {
    use base64::Engine as _;
    let env = Env::with_people();
    let csv = "Customer ID,Full Name,Company,E-mail,Phone,Country,Owner,Classification\n\
               C-1,Phạm Thị Khách,Dong A,khach@dong-a.example,0913 555 101,VN,p-2,internal\n";
    env.run(&["customers", "import", env.file("c.csv", csv).to_str().unwrap()])
        .ok();
    env.run(&["people", "set-status", "p-2", "--status", "departing"]).ok();
    let bad = env
        .run(&[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--icap",
            "127.0.0.1:0",
            "--icap-allow",
            "proxy",
        ])
        .fails();
    assert!(bad.stderr.contains("no address or network"), "{}", bad.stderr);
    let (server, port, _log) = serve_icap(&env, &["--icap-username-base64", "--icap-allow", "127.0.0.1"]);
    let row = "name,email,phone\nPhạm Thị Khách,khach@dong-a.example,0913 555 101\n";
    let upload_as = |user: &str| {
        let name = base64::engine::general_purpose::STANDARD.encode(user);
        let headers = format!("X-Client-Username: {name}\r\nX-Client-IP: 10.20.30.40\r\n");
        icap_exchange(port, &icap_reqmod_with(port, &headers, row))
    };
    // Hùng is leaving, and named by his email's user part; Mai by her Windows login.
    for user in ["hung", "CORP\\mai", "nobody"] {
        let response = upload_as(user);
        assert!(response.contains("HTTP/1.1 403"), "{user}: {response}");
    }
    drop(server);

    let (scans, audit) = upload_scans(&env);
    assert_eq!(scans.len(), 3, "{audit}");
    // Newest first.
    let (nobody, mai, hung) = (&scans[0], &scans[1], &scans[2]);
    assert_eq!(hung["actor"], "person:p-2", "{hung}");
    assert_eq!(
        hung["policies"][0], "verdict:block",
        "a departing person's record: {hung}"
    );
    assert_eq!(mai["actor"], "person:p-1", "{mai}");
    assert_eq!(mai["policies"][0], "verdict:require_justification", "{mai}");
    assert_eq!(nobody["actor"], "operator:icap", "{nobody}");
    assert!(
        nobody["policies"].to_string().contains("sender:unknown-name"),
        "{nobody}"
    );
    for scan in &scans {
        assert_eq!(scan["client"]["address"], "10.20.30.40", "{scan}");
        assert_eq!(scan["decision"], "deny", "{scan}");
    }
}

#[test]
fn serve_icap_records_an_upload_stopped_because_the_people_could_not_be_read() {
    use base64::Engine as _;
    let env = Env::with_people();
    let (server, port, log) = serve_icap(&env, &["--icap-username-base64"]);
    // The directory breaks under the running server: its people table is gone.
    let vault = rusqlite::Connection::open(env.data.join(store::DB_FILE)).unwrap();
    vault.busy_timeout(std::time::Duration::from_secs(10)).unwrap();
    vault.execute_batch("ALTER TABLE people RENAME TO people_away").unwrap();
    let name = base64::engine::general_purpose::STANDARD.encode("hung");
    let headers = format!("X-Client-Username: {name}\r\nX-Client-IP: 10.20.30.40\r\n");
    let response = icap_exchange(port, &icap_reqmod_with(port, &headers, "lunch menu\n"));
    assert!(response.contains("HTTP/1.1 403"), "stopped: {response}");
    assert!(response.contains("who is sending"), "{response}");
    assert!(
        !response.contains("people"),
        "nothing of what failed inside: {response}"
    );
    // A tunnel stopped uninspected: its host, which could be made of customer data,
    // is not written.
    let connect = "CONNECT an-tran.0901234567.example:443 HTTP/1.1\r\nHost: an-tran.0901234567.example:443\r\n\r\n";
    let tunnel = icap_exchange(
        port,
        format!(
            "REQMOD icap://127.0.0.1:{port}/reqmod ICAP/1.0\r\nHost: 127.0.0.1\r\nAllow: 204\r\n{headers}Connection: close\r\nEncapsulated: req-hdr=0, null-body={}\r\n\r\n{connect}",
            connect.len()
        )
        .as_bytes(),
    );
    assert!(tunnel.contains("HTTP/1.1 403"), "stopped: {tunnel}");
    // The server's log says why, and names no one.
    let why = "upload stopped: the directory of people could not be read";
    let logged = log.once_it_holds(why);
    assert!(logged.contains(why) && logged.contains("WARN"), "{logged}");
    assert!(!logged.contains("hung"), "{logged}");
    drop(server);
    vault.execute_batch("ALTER TABLE people_away RENAME TO people").unwrap();

    let (scans, audit) = upload_scans(&env);
    assert_eq!(scans.len(), 2, "the stops are in the ledger: {audit}");
    assert!(!audit.contains("0901234567"), "{audit}");
    assert!(
        scans[0]["policies"].to_string().contains("tunnel:withheld"),
        "{}",
        scans[0]
    );
    let stop = &scans[1];
    assert_eq!(stop["decision"], "deny", "{stop}");
    assert_eq!(stop["actor"], "operator:icap", "{stop}");
    assert_eq!(stop["client"]["address"], "10.20.30.40", "{stop}");
    assert!(
        stop["policies"].to_string().contains("sender:directory-unreadable"),
        "{stop}"
    );
    assert!(!audit.contains("hung") && !audit.contains("lunch"), "{audit}");
}

/// A list of customers' email addresses alone holds no record, but a departing
/// person copying a dozen of them is stopped, and the ledger counts them.
#[test]
fn a_departing_persons_list_of_customer_emails_is_blocked_as_contacts() {
    let env = Env::with_people();
    let mut customers = String::from("Customer ID,Full Name,E-mail,Phone,Country,Owner\n");
    let mut emails = String::new();
    for i in 0..12 {
        customers.push_str(&format!(
            "C-{i},Customer{i} Example,buyer{i}@client{i}.example,+44 20 7946 {:04},GB,p-2\n",
            1000 + i
        ));
        emails.push_str(&format!("buyer{i}@client{i}.example\n"));
    }
    env.run(&["customers", "import", env.file("c.csv", &customers).to_str().unwrap()])
        .ok();
    env.run(&["people", "set-status", "p-2", "--status", "departing"]).ok();
    let list = env.file("mailing.txt", &emails);
    let args = ["--as", "p-2", "scan", list.to_str().unwrap(), "--channel", "usb"];
    let json = env.run(&[&args[..], &["--json"]].concat()).exits_with(3).json();
    assert_eq!(
        (&json["verdict"], &json["customer_records"], &json["customer_contacts"]),
        (&"block".into(), &0.into(), &12.into()),
        "{json}"
    );
    let text = env.run(&args).exits_with(3);
    assert!(
        text.stdout.starts_with("block") && text.stdout.contains("customer contacts×12"),
        "{}",
        text.stdout
    );
    let recorded = env
        .run(&["audit", "search", "--action", "dlp.scan.usb", "--json"])
        .ok()
        .json();
    let recorded = recorded.to_string();
    assert!(recorded.contains("customer_contacts:12"), "{recorded}");
    assert!(
        !recorded.contains("client0.example"),
        "plaintext in the ledger: {recorded}"
    );
}

/// A file named after a customer's record is counted whatever it holds, and its name
/// goes neither into the ledger nor into an error.
#[test]
fn scan_reads_a_record_in_the_file_name() {
    let env = Env::with_people();
    env.run(&["customers", "import", env.file("c.csv", GOOD_CSV).to_str().unwrap()])
        .ok();
    let dir = env.root.join("outgoing");
    std::fs::create_dir_all(&dir).unwrap();
    let named = dir.join("José García jose@rhine.example.txt");
    std::fs::write(&named, "call back").unwrap();
    let plain = dir.join("report-2024-Q3.txt");
    std::fs::write(&plain, "call back").unwrap();
    let out = env
        .run(&["scan", named.to_str().unwrap(), "--channel", "usb", "--json"])
        .json();
    assert_eq!(out["customer_records"], 1, "{out}");
    let out = env
        .run(&["scan", plain.to_str().unwrap(), "--channel", "usb", "--json"])
        .ok()
        .json();
    assert_eq!(
        (out["verdict"].as_str(), out["customer_records"].as_u64()),
        (Some("allow"), Some(0))
    );
    let recorded = env
        .run(&["audit", "search", "--action", "dlp.scan.file", "--json"])
        .ok()
        .stdout;
    assert!(
        !recorded.contains("rhine") && !recorded.contains("García"),
        "{recorded}"
    );
}

/// A document without text is stored, with a warning that its copies cannot be
/// recognised; one with text is added without it.
#[test]
fn a_document_without_text_to_fingerprint_is_added_with_a_warning() {
    let env = Env::with_people();
    let add = |name: &str, content: &str| {
        let file = env.file(name, content);
        env.run(&[
            "documents",
            "add",
            file.to_str().unwrap(),
            "--title",
            name,
            "--custodian",
            "p-1",
        ])
        .ok()
    };
    let empty = add("empty.txt", "");
    assert!(
        empty.stderr.contains("holds no text the DLP engine can fingerprint"),
        "{}",
        empty.stderr
    );
    let design = add(
        "design.txt",
        &"The enclosure is a two-part magnesium shell with the antenna printed inside. ".repeat(4),
    );
    assert!(!design.stderr.contains("warning"), "{}", design.stderr);
    let listed = env.run(&["documents", "list", "--json"]).ok().json();
    assert_eq!(listed["records"].as_array().map(Vec::len), Some(2), "{listed}");
}
