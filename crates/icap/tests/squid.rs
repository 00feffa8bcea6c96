//! End-to-end test with a real Squid: curl -> squid -> (ICAP REQMOD to this crate) -> target.
//!
//! Needs the `squid` and `curl` binaries (Debian: `apt-get install -y squid curl`). Skips,
//! with a printed message, only when squid is absent. Everything listens on 127.0.0.1,
//! every wait is bounded, and squid is killed when the test ends.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{dlp_engine_and_export, start_inspector, start_server, MARKER};
use icap::ServerConfig;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the upload target received: (method, path, body length).
type Received = Arc<Mutex<Vec<(String, String, usize)>>>;

fn find_squid() -> Option<PathBuf> {
    let from_path = std::env::var_os("PATH").into_iter().flat_map(|p| {
        std::env::split_paths(&p)
            .map(|dir| dir.join("squid"))
            .collect::<Vec<_>>()
    });
    from_path
        .chain([PathBuf::from("/usr/sbin/squid"), PathBuf::from("/usr/local/sbin/squid")])
        .find(|candidate| candidate.is_file())
}

/// Squid's helper that checks users against a password file (Debian's squid package
/// ships it).
fn find_ncsa_auth() -> PathBuf {
    ["/usr/lib/squid", "/usr/lib64/squid", "/usr/libexec/squid"]
        .iter()
        .map(|dir| Path::new(dir).join("basic_ncsa_auth"))
        .find(|candidate| candidate.is_file())
        .expect("squid is installed but its basic_ncsa_auth helper was not found")
}

/// The proxy's users, as (name, password): a departing salesperson and a colleague.
const PROXY_USERS: &[(&str, &str)] = &[("lan.tran", "lan-secret"), ("binh.le", "binh-secret")];

/// A password file as basic_ncsa_auth reads it, passwords hashed by crypt(3) SHA-512.
fn password_file() -> String {
    let params = sha_crypt::Sha512Params::new(5_000).unwrap();
    PROXY_USERS
        .iter()
        .map(|(user, password)| format!("{user}:{}\n", sha_crypt::sha512_simple(password, &params).unwrap()))
        .collect()
}

/// Kills squid when dropped, so a failing assertion never leaves it running.
struct SquidGuard {
    child: Child,
    dir: PathBuf,
}

impl Drop for SquidGuard {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl SquidGuard {
    fn cache_log(&self) -> String {
        std::fs::read_to_string(self.dir.join("cache.log")).unwrap_or_default()
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
        .unwrap_or(false)
}

/// The squid.conf used (also printed by the test for the report).
fn squid_conf(
    dir: &Path,
    http_port: u16,
    icap: SocketAddr,
    small_icap: SocketAddr,
    dead_icap_port: u16,
    dlp_icap: SocketAddr,
) -> String {
    let ncsa_auth = find_ncsa_auth();
    let ncsa_auth = ncsa_auth.display();
    let dir = dir.display();
    // As root squid must drop privileges; Debian's package creates the `proxy` user.
    let user = if is_root() { "cache_effective_user proxy\n" } else { "" };
    format!(
        "http_port 127.0.0.1:{http_port}
{user}pid_filename {dir}/squid.pid
cache_log {dir}/cache.log
access_log stdio:{dir}/access.log
cache_store_log none
netdb_filename none
coredump_dir {dir}
cache deny all
cache_mem 8 MB
pinger_enable off
shutdown_lifetime 0 seconds
visible_hostname custodia-icap-test
forwarded_for delete
auth_param basic program {ncsa_auth} {dir}/passwd
auth_param basic children 2
auth_param basic realm custodia-test
acl authenticated proxy_auth REQUIRED
acl to_who urlpath_regex ^/dlp/who
http_access deny to_who !authenticated
http_access allow localhost
http_access deny all
icap_enable on
adaptation_send_username on
icap_client_username_encode on
icap_preview_enable on
icap_service svc reqmod_precache icap://{icap}/reqmod bypass=0
icap_service svc_dead reqmod_precache icap://127.0.0.1:{dead_icap_port}/reqmod bypass=0
icap_service svc_small reqmod_precache icap://{small_icap}/reqmod bypass=0
icap_service svc_dlp reqmod_precache icap://{dlp_icap}/reqmod bypass=0
acl to_dead_icap urlpath_regex ^/dead
acl to_small_icap urlpath_regex ^/limited
acl to_dlp_icap urlpath_regex ^/dlp
adaptation_access svc_dlp allow to_dlp_icap
adaptation_access svc_dlp deny all
adaptation_access svc_dead allow to_dead_icap
adaptation_access svc_dead deny all
adaptation_access svc_small allow to_small_icap
adaptation_access svc_small deny all
adaptation_access svc allow all
"
    )
}

async fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap().port()
}

/// Waits (bounded) until something accepts on `port`.
async fn wait_for_port(port: u16, squid: &mut SquidGuard) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while Instant::now() < deadline {
        if TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            return;
        }
        if let Ok(Some(status)) = squid.child.try_wait() {
            panic!("squid exited early ({status}); cache.log:\n{}", squid.cache_log());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "squid did not listen on {port} within 15 s; cache.log:\n{}",
        squid.cache_log()
    );
}

/// A tiny HTTP/1.1 origin that accepts POST/PUT, records them, and answers 200.
async fn start_target(received: Received) -> (SocketAddr, tokio::task::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let received = Arc::clone(&received);
            tokio::spawn(async move {
                let _ = tokio::time::timeout(Duration::from_secs(10), serve_target(stream, received)).await;
            });
        }
    });
    (addr, task)
}

async fn serve_target(mut stream: TcpStream, received: Received) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    let (method, path, head_len, content_length, chunked) = loop {
        let n = stream.read(&mut chunk).await.unwrap_or(0);
        if n == 0 || buf.len() > 64 * 1024 {
            return;
        }
        buf.extend_from_slice(&chunk[..n]);
        let mut headers = [httparse::EMPTY_HEADER; 64];
        let mut request = httparse::Request::new(&mut headers);
        if let Ok(httparse::Status::Complete(len)) = request.parse(&buf) {
            let header = |name: &str| {
                request
                    .headers
                    .iter()
                    .find(|h| h.name.eq_ignore_ascii_case(name))
                    .map(|h| String::from_utf8_lossy(h.value).to_lowercase())
            };
            let content_length: Option<usize> = header("content-length").and_then(|v| v.trim().parse().ok());
            let chunked = header("transfer-encoding").is_some_and(|v| v.contains("chunked"));
            break (
                request.method.unwrap_or_default().to_string(),
                request.path.unwrap_or_default().to_string(),
                len,
                content_length,
                chunked,
            );
        }
    };
    let body_done = |buf: &[u8]| match (content_length, chunked) {
        (Some(len), _) => buf.len() >= head_len + len,
        (None, true) => buf.ends_with(b"0\r\n\r\n"),
        (None, false) => true,
    };
    while !body_done(&buf) && buf.len() < 8 * 1024 * 1024 {
        let n = stream.read(&mut chunk).await.unwrap_or(0);
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    received.lock().unwrap().push((method, path, buf.len() - head_len));
    let _ = stream
        .write_all(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 6\r\nConnection: close\r\n\r\nstored",
        )
        .await;
    let _ = stream.shutdown().await;
}

/// Runs curl through the proxy; returns (HTTP status, response body).
async fn curl(proxy_port: u16, url: &str, args: &[&str]) -> (u16, String) {
    let out = tokio::time::timeout(
        Duration::from_secs(15),
        tokio::process::Command::new("curl")
            .args([
                "-sS",
                "--max-time",
                "10",
                "-H",
                "Expect:",
                "-o",
                "-",
                "-w",
                "\n%{http_code}",
            ])
            .args(["-x", &format!("http://127.0.0.1:{proxy_port}")])
            .args(args)
            .arg(url)
            .kill_on_drop(true)
            .output(),
    )
    .await
    .expect("curl did not finish within 15 s")
    .expect("curl is needed for this test: apt-get install -y curl");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, code) = text.rsplit_once('\n').unwrap_or(("", &text));
    (code.trim().parse().unwrap_or(0), body.to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn squid_blocks_customer_data_uploads() {
    let Some(squid_bin) = find_squid() else {
        println!(
            "SKIP squid_blocks_customer_data_uploads: no squid binary found (install it: apt-get install -y squid)"
        );
        return;
    };
    let icap_server = start_server(ServerConfig {
        preview_bytes: 1024,
        ..ServerConfig::default()
    })
    .await;
    // A second server with a 64 KiB body limit, for the oversized-upload paths.
    let small_icap_server = start_server(ServerConfig {
        preview_bytes: 1024,
        max_body_bytes: 64 * 1024,
        ..ServerConfig::default()
    })
    .await;
    // The real DLP engine behind a third service, for paths under /dlp.
    let (dlp_inspector, dlp_verdicts, customer_export) = dlp_engine_and_export();
    let (dlp_icap, dlp_task) = start_inspector(
        Arc::new(dlp_inspector),
        ServerConfig {
            preview_bytes: 1024,
            username_base64: true,
            ..ServerConfig::default()
        },
    )
    .await;
    let received: Received = Arc::default();
    let (target, target_task) = start_target(Arc::clone(&received)).await;
    let dead_icap_port = free_port().await;
    let http_port = free_port().await;

    let dir = tempfile::tempdir().unwrap();
    // Squid drops to the `proxy` user when run as root and must still write its logs here.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    }
    std::fs::write(dir.path().join("passwd"), password_file()).unwrap();
    let conf_path = dir.path().join("squid.conf");
    let conf = squid_conf(
        dir.path(),
        http_port,
        icap_server.addr,
        small_icap_server.addr,
        dead_icap_port,
        dlp_icap,
    );
    std::fs::write(&conf_path, &conf).unwrap();
    println!("squid.conf:\n{conf}");
    let child = Command::new(&squid_bin)
        .args(["-N", "-f"])
        .arg(&conf_path)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut squid = SquidGuard {
        child,
        dir: dir.path().to_path_buf(),
    };
    wait_for_port(http_port, &mut squid).await;

    let files = dir.path();
    let clean = files.join("notes.txt");
    std::fs::write(&clean, b"meeting notes: order more coffee\n".repeat(10)).unwrap();
    let dirty = files.join("export.csv");
    let mut rows = b"id,name\n".to_vec();
    rows.extend_from_slice(MARKER);
    rows.extend_from_slice(b"\n1,Alice\n");
    std::fs::write(&dirty, &rows).unwrap();
    let big_clean = files.join("big.bin");
    std::fs::write(&big_clean, vec![b'x'; 300 * 1024]).unwrap();
    let clean_100k = files.join("100k.bin");
    std::fs::write(&clean_100k, vec![b'y'; 100 * 1024]).unwrap();
    let big_dirty = files.join("big-dirty.bin");
    let mut big = vec![b'x'; 200 * 1024];
    big.extend_from_slice(MARKER);
    std::fs::write(&big_dirty, &big).unwrap();
    let at = |p: &Path| format!("@{}", p.display());
    let url = |path: &str| format!("http://{target}{path}");

    let (code, body) = curl(http_port, &url("/clean"), &["--data-binary", &at(&clean)]).await;
    assert_eq!(
        (code, body.as_str()),
        (200, "stored"),
        "clean upload; cache.log:\n{}",
        squid.cache_log()
    );
    let (code, _) = curl(http_port, &url("/big-clean"), &["--data-binary", &at(&big_clean)]).await;
    assert_eq!(code, 200, "clean upload past the preview");

    let (code, body) = curl(http_port, &url("/dirty"), &["--data-binary", &at(&dirty)]).await;
    assert_eq!(code, 403, "dirty upload: {body}");
    assert!(body.contains("Upload blocked"), "block page: {body}");
    assert!(
        body.contains("customer records found in &lt;the request body&gt;"),
        "{body}"
    );
    let (code, body) = curl(http_port, &url("/big-dirty"), &["--data-binary", &at(&big_dirty)]).await;
    assert_eq!(code, 403, "marker after the preview: {body}");
    let (code, _) = curl(http_port, &url("/put-dirty"), &["-T", &dirty.display().to_string()]).await;
    assert_eq!(code, 403, "dirty PUT");

    let file_field = |p: &Path| format!("file=@{};type=text/csv", p.display());
    let (code, _) = curl(
        http_port,
        &url("/form-clean"),
        &["-F", "note=hello", "-F", &file_field(&clean)],
    )
    .await;
    assert_eq!(code, 200, "clean multipart form");
    let (code, body) = curl(
        http_port,
        &url("/form-dirty"),
        &["-F", "note=hello", "-F", &file_field(&dirty)],
    )
    .await;
    assert_eq!(code, 403, "dirty multipart form: {body}");
    assert!(body.contains("customer records found in &lt;export.csv&gt;"), "{body}");

    // Over the 64 KiB limit: read and discarded (100 KiB), or cut short (300 KiB > 4x limit).
    let (code, body) = curl(http_port, &url("/limited-over"), &["--data-binary", &at(&clean_100k)]).await;
    assert_eq!(code, 403, "oversized upload: {body}");
    assert!(body.contains("larger than 65536 bytes"), "{body}");
    let (code, body) = curl(
        http_port,
        &url("/limited-far-over"),
        &["--data-binary", &at(&big_clean)],
    )
    .await;
    assert_eq!(code, 403, "far oversized upload: {body}");
    assert!(body.contains("larger than 65536 bytes"), "{body}");
    let (code, _) = curl(http_port, &url("/limited-small"), &["--data-binary", &at(&clean)]).await;
    assert_eq!(code, 200, "small upload through the limited service");

    // The DLP engine: the customer export is stopped with counts (never
    // values) on the block page, a meeting note passes; both are recorded.
    let export = files.join("accounts.csv");
    std::fs::write(&export, &customer_export).unwrap();
    let (code, body) = curl(http_port, &url("/dlp/form-export"), &["-F", &file_field(&export)]).await;
    assert_eq!(code, 403, "customer export through the DLP engine: {body}");
    assert!(
        body.contains("6 customer records from the company&#39;s vault"),
        "{body}"
    );
    assert!(
        !body.contains("example-customer.vn"),
        "the block page must not echo customer data: {body}"
    );
    let (code, _) = curl(http_port, &url("/dlp/notes"), &["--data-binary", &at(&clean)]).await;
    assert_eq!(code, 200, "clean upload through the DLP engine");
    // The same rows pasted into a web form's text box, and posted by a web app as a
    // file in JSON, are read decoded.
    let (code, body) = curl(
        http_port,
        &url("/dlp/form-paste"),
        &[
            "--data-urlencode",
            "subject=handover",
            "--data-urlencode",
            &format!("body@{}", export.display()),
        ],
    )
    .await;
    assert_eq!(code, 403, "customer rows pasted into a form: {body}");
    assert!(body.contains("6 customer records"), "{body}");
    let json_upload = files.join("upload.json");
    let encoded = {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(&customer_export)
    };
    std::fs::write(
        &json_upload,
        format!(r#"{{"name":"accounts.csv","content":"data:text/csv;base64,{encoded}"}}"#),
    )
    .unwrap();
    let (code, body) = curl(
        http_port,
        &url("/dlp/json-upload"),
        &[
            "-H",
            "Content-Type: application/json",
            "--data-binary",
            &at(&json_upload),
        ],
    )
    .await;
    assert_eq!(code, 403, "customer export posted as base64 in JSON: {body}");
    assert!(body.contains("6 customer records"), "{body}");
    // The same rows where form parsers and body scanners do not look: after the
    // closing multipart delimiter, in the query string, in a header, and compressed
    // with a Content-Encoding.
    let epilogue = files.join("epilogue.bin");
    let mut form = b"--XyZ\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhello\r\n--XyZ--\r\n".to_vec();
    form.extend_from_slice(&customer_export);
    std::fs::write(&epilogue, &form).unwrap();
    let rows = String::from_utf8_lossy(&customer_export)
        .lines()
        .skip(1)
        .collect::<Vec<_>>()
        .join("; ");
    let deflated = files.join("rows.zlib");
    {
        use std::io::Write;
        let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(&customer_export).unwrap();
        std::fs::write(&deflated, encoder.finish().unwrap()).unwrap();
    }
    let hidden: [(&str, Vec<String>); 4] = [
        (
            "/dlp/epilogue",
            vec![
                "-H".into(),
                "Content-Type: multipart/form-data; boundary=XyZ".into(),
                "--data-binary".into(),
                at(&epilogue),
            ],
        ),
        (
            "/dlp/query",
            vec![
                "-G".into(),
                "--data-urlencode".into(),
                format!("d@{}", export.display()),
            ],
        ),
        ("/dlp/header", vec!["-H".into(), format!("X-Note: {rows}")]),
        (
            "/dlp/deflate",
            vec![
                "-H".into(),
                "Content-Encoding: deflate".into(),
                "-H".into(),
                "Content-Type: text/csv".into(),
                "--data-binary".into(),
                at(&deflated),
            ],
        ),
    ];
    for (path, args) in &hidden {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (code, body) = curl(http_port, &url(path), &args).await;
        assert_eq!(code, 403, "{path}: {body}");
        assert!(body.contains("6 customer records"), "{path}: {body}");
    }
    let verdicts: Vec<dlp::Verdict> = dlp_verdicts.lock().unwrap().iter().map(|(_, v, _, _)| *v).collect();
    assert_eq!(
        verdicts,
        vec![
            dlp::Verdict::Block,
            dlp::Verdict::Allow,
            dlp::Verdict::Block,
            dlp::Verdict::Block,
            dlp::Verdict::Block,
            dlp::Verdict::Block,
            dlp::Verdict::Block,
            dlp::Verdict::Block
        ],
        "every DLP verdict is recorded"
    );

    // Who sends it: squid authenticates its users and passes their names to the ICAP
    // service (base64); a departing person's one customer record is blocked outright,
    // a colleague's needs a justification, which a web upload cannot carry.
    let one_row = files.join("one-row.csv");
    let row = String::from_utf8_lossy(&customer_export)
        .lines()
        .nth(1)
        .unwrap()
        .to_owned();
    std::fs::write(&one_row, row).unwrap();
    let before = dlp_verdicts.lock().unwrap().len();
    let as_user = |user: &str, password: &str| {
        vec![
            "-U".to_string(),
            format!("{user}:{password}"),
            "--data-binary".to_string(),
            at(&one_row),
        ]
    };
    let args = as_user("lan.tran", "lan-secret");
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, body) = curl(http_port, &url("/dlp/who/lan"), &args).await;
    assert_eq!(
        code,
        403,
        "a departing person's upload; cache.log:\n{}",
        squid.cache_log()
    );
    assert!(
        body.contains("1 customer record ") && !body.contains("justification"),
        "{body}"
    );
    let args = as_user("binh.le", "binh-secret");
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, body) = curl(http_port, &url("/dlp/who/binh"), &args).await;
    assert_eq!(code, 403, "a colleague's upload: {body}");
    assert!(body.contains("justification"), "{body}");
    let args = as_user("lan.tran", "wrong");
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, _) = curl(http_port, &url("/dlp/who/guess"), &args).await;
    assert_eq!(code, 407, "a wrong password is refused by the proxy itself");
    let senders: Vec<(dlp::Verdict, Option<String>)> = dlp_verdicts.lock().unwrap()[before..]
        .iter()
        .map(|(_, verdict, _, person)| (*verdict, person.clone()))
        .collect();
    assert_eq!(
        senders,
        vec![
            (dlp::Verdict::Block, Some("p-lan".to_string())),
            (dlp::Verdict::RequireJustification, Some("p-binh".to_string()))
        ]
    );

    // The ICAP service for /dead is down: with bypass=0 squid must refuse, not forward.
    let (code, _) = curl(http_port, &url("/dead"), &["--data-binary", &at(&clean)]).await;
    assert!((500..600).contains(&code), "icap down must fail closed, got {code}");

    let seen_paths: Vec<(String, String, usize)> = received.lock().unwrap().clone();
    let paths: Vec<&str> = seen_paths.iter().map(|(_, p, _)| p.as_str()).collect();
    for blocked in [
        "/dirty",
        "/big-dirty",
        "/put-dirty",
        "/form-dirty",
        "/limited-over",
        "/limited-far-over",
        "/dead",
        "/dlp/form-export",
        "/dlp/form-paste",
        "/dlp/json-upload",
        "/dlp/epilogue",
        "/dlp/query",
        "/dlp/header",
        "/dlp/deflate",
    ] {
        assert!(
            !paths.iter().any(|path| path.split('?').next() == Some(blocked)),
            "{blocked} reached the target: {paths:?}"
        );
    }
    let clean_seen = seen_paths
        .iter()
        .find(|(_, p, _)| p == "/clean")
        .expect("clean upload reached target");
    assert_eq!((clean_seen.0.as_str(), clean_seen.2), ("POST", 330));
    assert!(seen_paths
        .iter()
        .any(|(_, p, len)| p == "/big-clean" && *len == 300 * 1024));
    assert!(paths.contains(&"/form-clean"));
    assert!(paths.contains(&"/dlp/notes"));

    let inspected = icap_server.inspector.seen.lock().unwrap().clone();
    let form = inspected
        .iter()
        .find(|u| u.url.ends_with("/form-clean"))
        .expect("the multipart upload was inspected");
    let filenames: Vec<Option<&str>> = form.fields().iter().map(|p| p.filename.as_deref()).collect();
    assert_eq!(
        filenames,
        vec![None, Some("notes.txt")],
        "multipart parts seen by the inspector"
    );
    let access_log = std::fs::read_to_string(dir.path().join("access.log")).unwrap_or_default();
    println!("squid access.log:\n{access_log}");
    assert!(access_log.contains("/form-dirty"), "squid logged the uploads");
    target_task.abort();
    dlp_task.abort();
    drop(squid);
}
