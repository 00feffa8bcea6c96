//! Raw ICAP against the real server and the real DLP engine: a customer export hidden
//! anywhere in a request (around the multipart delimiters, in the URL, a header, a
//! cookie, field names, file names, or under a content coding) is stopped, and every
//! request is recorded with what was done with it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::Write;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use common::{dlp_engine_and_export, exchange, parse_responses, start_inspector, IcapResponse, Recorded};
use icap::ServerConfig;

struct Fixture {
    addr: SocketAddr,
    recorded: Arc<Mutex<Vec<Recorded>>>,
    export: Vec<u8>,
    _task: tokio::task::JoinHandle<()>,
}

async fn fixture() -> Fixture {
    let (inspector, recorded, export) = dlp_engine_and_export();
    let (addr, task) = start_inspector(Arc::new(inspector), ServerConfig::default()).await;
    Fixture {
        addr,
        recorded,
        export,
        _task: task,
    }
}

impl Fixture {
    /// Sends one REQMOD (`body` None: a null body) and returns its one response.
    async fn reqmod(&self, http_head: &str, body: Option<&[u8]>) -> IcapResponse {
        self.reqmod_with("", http_head, body).await
    }

    /// [`Fixture::reqmod`] with more ICAP headers (`Name: value\r\n` each).
    async fn reqmod_with(&self, icap_headers: &str, http_head: &str, body: Option<&[u8]>) -> IcapResponse {
        let mut request = match body {
            Some(_) => format!(
                "REQMOD icap://127.0.0.1/reqmod ICAP/1.0\r\nHost: 127.0.0.1\r\nAllow: 204\r\n{icap_headers}Encapsulated: req-hdr=0, req-body={}\r\n\r\n{http_head}",
                http_head.len()
            ),
            None => format!(
                "REQMOD icap://127.0.0.1/reqmod ICAP/1.0\r\nHost: 127.0.0.1\r\nAllow: 204\r\n{icap_headers}Encapsulated: req-hdr=0, null-body={}\r\n\r\n{http_head}",
                http_head.len()
            ),
        }
        .into_bytes();
        if let Some(body) = body {
            if !body.is_empty() {
                request.extend_from_slice(format!("{:x}\r\n", body.len()).as_bytes());
                request.extend_from_slice(body);
                request.extend_from_slice(b"\r\n");
            }
            request.extend_from_slice(b"0\r\n\r\n");
        }
        let raw = exchange(self.addr, &request).await;
        let mut responses = parse_responses(&raw).unwrap();
        assert_eq!(responses.len(), 1, "{}", String::from_utf8_lossy(&raw));
        responses.remove(0)
    }

    fn last_recorded(&self) -> Recorded {
        self.recorded
            .lock()
            .unwrap()
            .last()
            .cloned()
            .expect("nothing was recorded")
    }

    fn recorded_count(&self) -> usize {
        self.recorded.lock().unwrap().len()
    }
}

fn blocked(response: &IcapResponse) -> bool {
    response.status == 200 && String::from_utf8_lossy(&response.sections).contains("HTTP/1.1 403")
}

fn page(response: &IcapResponse) -> String {
    String::from_utf8_lossy(response.body.as_deref().unwrap_or_default()).into_owned()
}

fn post(content_type: &str, extra_headers: &str) -> String {
    format!(
        "POST http://up.example/u HTTP/1.1\r\nHost: up.example\r\nContent-Type: {content_type}\r\n{extra_headers}\r\n"
    )
}

fn stopped(method: &str) -> Recorded {
    (method.into(), dlp::Verdict::Block, dlp::Enforcement::Stopped, None)
}

#[tokio::test]
async fn an_export_outside_the_multipart_delimiters_is_stopped() {
    let f = fixture().await;
    let multipart = "multipart/form-data; boundary=XyZ";
    let note = b"--XyZ\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhello\r\n--XyZ--\r\n".to_vec();
    let clean = f.reqmod(&post(multipart, ""), Some(&note)).await;
    assert_eq!(clean.status, 204, "the form alone passes");

    let epilogue = [note.as_slice(), &f.export].concat();
    let preamble_only = [f.export.as_slice(), b"\r\n--XyZ--\r\n"].concat();
    let preamble = [f.export.as_slice(), b"\r\n", &note].concat();
    // One corrupted byte in the opening delimiter: the export becomes preamble.
    let mut corrupted = b"--XyZ\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a.csv\"\r\n\r\n".to_vec();
    corrupted.extend_from_slice(&f.export);
    corrupted.extend_from_slice(b"\r\n--XyZ\r\nContent-Disposition: form-data; name=\"g\"\r\n\r\nx\r\n--XyZ--\r\n");
    corrupted[3] = b'Q';
    for (name, body) in [
        ("epilogue", epilogue),
        ("preamble only", preamble_only),
        ("preamble", preamble),
        ("corrupted opening delimiter", corrupted),
    ] {
        let response = f.reqmod(&post(multipart, ""), Some(&body)).await;
        assert!(blocked(&response), "{name}: {response:?}");
        assert!(
            page(&response).contains("6 customer records"),
            "{name}: {}",
            page(&response)
        );
        assert_eq!(f.last_recorded(), stopped("POST"), "{name}");
    }
}

/// The `Content-Disposition` parameters of a form field that carries `row`.
type Disposition = fn(&str) -> String;

#[tokio::test]
async fn an_export_in_the_request_head_is_stopped() {
    let f = fixture().await;
    let rows: Vec<String> = String::from_utf8_lossy(&f.export)
        .lines()
        .skip(1)
        .map(str::to_string)
        .collect();
    let query: String = form_urlencoded::byte_serialize(&f.export).collect();
    let get = format!("GET http://up.example/c?d={query} HTTP/1.1\r\nHost: up.example\r\n\r\n");
    let response = f.reqmod(&get, None).await;
    assert!(blocked(&response), "rows in the query string: {response:?}");
    assert_eq!(f.last_recorded(), stopped("GET"));

    let header = format!(
        "GET http://up.example/ HTTP/1.1\r\nHost: up.example\r\nX-Note: {}\r\n\r\n",
        rows.join("; ")
    );
    assert!(blocked(&f.reqmod(&header, None).await), "rows in a header");

    let cookie: String = form_urlencoded::byte_serialize(rows.join("\n").as_bytes()).collect();
    let with_cookie = post("text/plain", &format!("Cookie: sid=abc; d={cookie}\r\n"));
    let response = f.reqmod(&with_cookie, Some(b"hello")).await;
    assert!(blocked(&response), "rows in a cookie: {response:?}");
    assert_eq!(f.last_recorded(), stopped("POST"));

    let dispositions: [(&str, Disposition); 2] = [
        ("file names", |row| format!("name=\"f\"; filename=\"{row}\"")),
        ("field names", |row| format!("name=\"{row}\"")),
    ];
    for (name, disposition) in dispositions {
        let mut body = Vec::new();
        for row in &rows {
            body.extend_from_slice(
                format!(
                    "--XyZ\r\nContent-Disposition: form-data; {}\r\n\r\nx\r\n",
                    disposition(row)
                )
                .as_bytes(),
            );
        }
        body.extend_from_slice(b"--XyZ--\r\n");
        let response = f
            .reqmod(&post("multipart/form-data; boundary=XyZ", ""), Some(&body))
            .await;
        assert!(blocked(&response), "rows as {name}: {response:?}");
    }
}

#[tokio::test]
async fn every_request_is_recorded_even_without_a_body() {
    let f = fixture().await;
    let get = "GET http://up.example/news?page=2 HTTP/1.1\r\nHost: up.example\r\nCookie: sid=abc\r\n\r\n";
    assert_eq!(f.reqmod(get, None).await.status, 204);
    assert_eq!(
        f.last_recorded(),
        ("GET".into(), dlp::Verdict::Allow, dlp::Enforcement::Released, None)
    );
    // Without TLS interception the proxy sees only the tunnel being opened.
    let connect = "CONNECT up.example:443 HTTP/1.1\r\nHost: up.example:443\r\n\r\n";
    assert_eq!(f.reqmod(connect, None).await.status, 204);
    assert_eq!(
        f.last_recorded(),
        ("CONNECT".into(), dlp::Verdict::Allow, dlp::Enforcement::Released, None)
    );
    assert_eq!(f.recorded_count(), 2);
}

#[tokio::test]
async fn uploads_are_judged_by_the_user_the_proxy_names() {
    let f = fixture().await;
    let row = String::from_utf8_lossy(&f.export).lines().nth(1).unwrap().to_owned();
    let upload = post("text/csv", "");
    let check = |icap_headers: &'static str, verdict: dlp::Verdict, person: Option<&'static str>| {
        let (f, row, upload) = (&f, row.clone(), upload.clone());
        async move {
            let response = f.reqmod_with(icap_headers, &upload, Some(row.as_bytes())).await;
            // One customer record is stopped on a web upload either way; the verdict
            // and who sent it are what the ledger keeps.
            assert!(blocked(&response), "{icap_headers:?}: {response:?}");
            assert_eq!(
                f.last_recorded(),
                (
                    "POST".into(),
                    verdict,
                    dlp::Enforcement::Stopped,
                    person.map(str::to_owned)
                ),
                "{icap_headers:?}"
            );
        }
    };
    use dlp::Verdict::{Block, RequireJustification};
    check("", RequireJustification, None).await;
    check("X-Client-Username: binh.le\r\n", RequireJustification, Some("p-binh")).await;
    // A departing person's record is blocked outright (Squid's default header, plain).
    check("X-Client-Username: lan.tran\r\n", Block, Some("p-lan")).await;
    check("x-client-username:  lan.tran \r\n", Block, Some("p-lan")).await;
    check("X-Client-Username: someone.else\r\n", RequireJustification, None).await;
    // Named twice, the sender is unknown, yet the upload is still inspected.
    check(
        "X-Client-Username: binh.le\r\nX-Client-Username: lan.tran\r\n",
        RequireJustification,
        None,
    )
    .await;
    // Another header than the configured one is not read.
    check("X-Authenticated-User: lan.tran\r\n", RequireJustification, None).await;
}

fn zlib(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

fn raw_deflate(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

#[tokio::test]
async fn a_content_coding_is_undone_or_the_upload_is_stopped() {
    let f = fixture().await;
    let with_coding = |coding: &str| post("text/csv", &format!("Content-Encoding: {coding}\r\n"));
    for (coding, body) in [
        ("deflate", zlib(&f.export)),
        ("deflate", raw_deflate(&f.export)),
        (
            "zstd",
            ruzstd::encoding::compress_to_vec(f.export.as_slice(), ruzstd::encoding::CompressionLevel::Fastest),
        ),
        ("deflate, deflate", zlib(&zlib(&f.export))),
    ] {
        let response = f.reqmod(&with_coding(coding), Some(&body)).await;
        assert!(blocked(&response), "{coding}: {response:?}");
        assert!(
            page(&response).contains("6 customer records"),
            "{coding}: {}",
            page(&response)
        );
    }
    let notes = b"meeting notes: order more coffee\n".repeat(5);
    assert_eq!(f.reqmod(&with_coding("deflate"), Some(&zlib(&notes))).await.status, 204);

    // A coding that cannot be undone: stopped and recorded as stopped, however clean
    // the bytes look.
    for (coding, body) in [("br", notes.clone()), ("deflate", notes.clone())] {
        let response = f.reqmod(&with_coding(coding), Some(&body)).await;
        assert!(blocked(&response), "{coding}: {response:?}");
        assert!(page(&response).contains("cannot undo"), "{coding}: {}", page(&response));
        assert_eq!(
            f.last_recorded(),
            ("POST".into(), dlp::Verdict::Allow, dlp::Enforcement::Stopped, None),
            "{coding}"
        );
    }
}
