//! Shared test helpers: a marker-based inspector, a server on loopback, a raw ICAP client
//! and a strict parser of ICAP responses.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, dead_code)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use icap::{InspectionOutcome, Inspector, ServerConfig, Upload};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The string whose presence in any body part blocks an upload.
pub const MARKER: &[u8] = b"customer rows";
/// A part containing this makes the inspector panic (fail-closed check).
pub const PANIC_TRIGGER: &[u8] = b"make the inspector panic";

/// Blocks uploads whose parts contain [`MARKER`]; records what it saw (without bodies).
#[derive(Default)]
pub struct MarkerInspector {
    /// (method, url, [(field name, filename, content type, length)]) per inspected upload.
    pub seen: Mutex<Vec<SeenUpload>>,
}

#[derive(Debug, Clone)]
pub struct SeenUpload {
    pub method: String,
    pub url: String,
    pub header_names: Vec<String>,
    pub parts: Vec<SeenPart>,
    pub unreadable: Option<icap::Unreadable>,
}

impl SeenUpload {
    /// The parts that were multipart fields.
    pub fn fields(&self) -> Vec<&SeenPart> {
        self.parts
            .iter()
            .filter(|part| part.origin == icap::PartOrigin::Field)
            .collect()
    }
}

/// Metadata of one inspected part (no bytes kept).
#[derive(Debug, Clone)]
pub struct SeenPart {
    pub origin: icap::PartOrigin,
    pub field_name: Option<String>,
    pub filename: Option<String>,
    pub content_type: Option<String>,
    pub len: usize,
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

impl Inspector for MarkerInspector {
    fn inspect(&self, upload: &Upload) -> InspectionOutcome {
        self.seen.lock().unwrap().push(SeenUpload {
            method: upload.method.clone(),
            url: upload.url.clone(),
            header_names: upload.headers.iter().map(|(n, _)| n.to_lowercase()).collect(),
            parts: upload
                .parts
                .iter()
                .map(|p| SeenPart {
                    origin: p.origin,
                    field_name: p.field_name.clone(),
                    filename: p.filename.clone(),
                    content_type: p.content_type.clone(),
                    len: p.data.len(),
                })
                .collect(),
            unreadable: upload.unreadable.clone(),
        });
        if upload.parts.iter().any(|p| contains(&p.data, PANIC_TRIGGER)) {
            panic!("test inspector asked to panic");
        }
        match upload.parts.iter().find(|p| contains(&p.data, MARKER)) {
            Some(part) => InspectionOutcome::Block {
                reason: format!(
                    "customer records found in <{}>",
                    part.filename.as_deref().unwrap_or("the request body")
                ),
            },
            None => InspectionOutcome::Allow,
        }
    }
}

/// A server running on a loopback port; aborted when dropped.
pub struct TestServer {
    pub addr: SocketAddr,
    pub inspector: Arc<MarkerInspector>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub async fn start_server(config: ServerConfig) -> TestServer {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let inspector = Arc::new(MarkerInspector::default());
    let shared: Arc<dyn Inspector> = inspector.clone();
    let task = tokio::spawn(async move {
        icap::serve(listener, shared, config).await.unwrap();
    });
    TestServer { addr, inspector, task }
}

/// Serves `inspector` on a loopback port until the returned task is aborted.
pub async fn start_inspector(
    inspector: Arc<dyn Inspector>,
    config: ServerConfig,
) -> (SocketAddr, tokio::task::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        icap::serve(listener, inspector, config).await.unwrap();
    });
    (addr, task)
}

/// One recorded DLP verdict: the request's method, the verdict, what was done, and
/// the sender's person id when the proxy named a known person.
pub type Recorded = (String, dlp::Verdict, dlp::Enforcement, Option<String>);

/// The people [`dlp_engine_and_export`]'s inspector knows by their proxy user names:
/// (name, person id, employment).
pub const PEOPLE: &[(&str, &str, dlp::Employment)] = &[
    ("lan.tran", "p-lan", dlp::Employment::Departing),
    ("binh.le", "p-binh", dlp::Employment::Active),
];

/// The real DLP engine over six customers, and the CSV export of them that
/// it must stop (five or more customer records leaving is a block).
pub fn dlp_engine_and_export() -> (icap::DlpInspector, Arc<Mutex<Vec<Recorded>>>, Vec<u8>) {
    let mut edm = dlp::EdmIndex::new(&dlp::EdmKey::from_bytes([7; 32]), dlp::EdmConfig::default());
    let mut csv = b"name,email,phone\n".to_vec();
    for i in 0..6 {
        let name = format!("Nguyen Van Khach{i}");
        let email = format!("khach{i}.nguyen@example-customer.vn");
        let phone = format!("+84 90 555 01{i:02}");
        edm.add(
            format!("C-{i}"),
            &[
                (dlp::FieldKind::Name, name.as_str()),
                (dlp::FieldKind::Email, email.as_str()),
                (dlp::FieldKind::Phone, phone.as_str()),
            ],
            Some("VN"),
        );
        csv.extend_from_slice(format!("{name},{email},{phone}\n").as_bytes());
    }
    let engine = dlp::Inspector::new(
        edm,
        dlp::FingerprintIndex::new(
            &dlp::FingerprintKey::from_bytes([2; 32]),
            dlp::FingerprintConfig::default(),
        ),
        dlp::Policy::default(),
        dlp::Limits::default(),
    )
    .unwrap();
    let recorded: Arc<Mutex<Vec<Recorded>>> = Arc::default();
    let sink = Arc::clone(&recorded);
    let inspector = icap::DlpInspector::new(Arc::new(engine), move |upload, sender, result, enforcement| {
        sink.lock().unwrap().push((
            upload.method.clone(),
            result.verdict,
            enforcement,
            sender.person.clone(),
        ));
        Ok(())
    })
    .identifying(|upload| {
        let known = match &upload.user {
            icap::ProxyUser::Named(name) => PEOPLE.iter().find(|(user, _, _)| user == name),
            _ => None,
        };
        Ok(match known {
            Some((_, person, employment)) => icap::Sender {
                person: Some((*person).to_string()),
                employment: *employment,
                note: None,
            },
            None => icap::Sender::unidentified(),
        })
    });
    (inspector, recorded, csv)
}

/// Sends `request`, half-closes, and reads everything until the server closes (bounded).
pub async fn exchange(addr: SocketAddr, request: &[u8]) -> Vec<u8> {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    // The server may answer and close before reading everything: ignore write errors.
    let _ = stream.write_all(request).await;
    let _ = stream.shutdown().await;
    let mut out = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut out)).await;
    assert!(read.is_ok(), "server did not close the connection in time");
    out
}

/// One parsed ICAP response.
#[derive(Debug, Clone)]
pub struct IcapResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    /// Encapsulated header sections (HTTP heads), as sent.
    pub sections: Vec<u8>,
    /// De-chunked encapsulated body, if the response had one.
    pub body: Option<Vec<u8>>,
}

impl IcapResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Parses a byte stream as a sequence of complete, well-formed ICAP responses.
pub fn parse_responses(mut bytes: &[u8]) -> Result<Vec<IcapResponse>, String> {
    let mut responses = Vec::new();
    while !bytes.is_empty() {
        let (response, used) = parse_response(bytes)?;
        responses.push(response);
        bytes = &bytes[used..];
    }
    Ok(responses)
}

fn parse_response(bytes: &[u8]) -> Result<(IcapResponse, usize), String> {
    let line_end = find(bytes, b"\r\n").ok_or("no status line")?;
    let line = std::str::from_utf8(&bytes[..line_end]).map_err(|_| "status line not utf-8")?;
    let rest = line
        .strip_prefix("ICAP/1.0 ")
        .ok_or(format!("bad status line {line:?}"))?;
    let status: u16 = rest
        .get(..3)
        .and_then(|s| s.parse().ok())
        .ok_or(format!("bad status code in {line:?}"))?;
    let mut storage = [httparse::EMPTY_HEADER; 64];
    let after_line = &bytes[line_end + 2..];
    let (head_len, headers) = match httparse::parse_headers(after_line, &mut storage) {
        Ok(httparse::Status::Complete((n, h))) => (n, h),
        other => return Err(format!("bad headers: {other:?}")),
    };
    let headers: Vec<(String, String)> = headers
        .iter()
        .map(|h| (h.name.to_string(), String::from_utf8_lossy(h.value).into_owned()))
        .collect();
    let mut used = line_end + 2 + head_len;
    let mut response = IcapResponse {
        status,
        headers,
        sections: Vec::new(),
        body: None,
    };
    if status == 100 {
        return Ok((response, used));
    }
    let encapsulated = response
        .header("encapsulated")
        .ok_or("response without Encapsulated")?
        .to_string();
    let last = encapsulated.split(',').next_back().ok_or("empty Encapsulated")?;
    let (name, offset) = last.trim().split_once('=').ok_or("bad Encapsulated")?;
    let offset: usize = offset.parse().map_err(|_| "bad Encapsulated offset")?;
    let sections = bytes.get(used..used + offset).ok_or("truncated header sections")?;
    response.sections = sections.to_vec();
    used += offset;
    if name != "null-body" {
        let mut body = Vec::new();
        loop {
            let rest = &bytes[used..];
            let end = find(rest, b"\r\n").ok_or("truncated chunk size")?;
            let size = usize::from_str_radix(std::str::from_utf8(&rest[..end]).map_err(|_| "chunk")?, 16)
                .map_err(|_| "bad chunk size in response")?;
            used += end + 2;
            let data = bytes.get(used..used + size).ok_or("truncated chunk")?;
            body.extend_from_slice(data);
            used += size;
            if bytes.get(used..used + 2) != Some(b"\r\n") {
                return Err("chunk not followed by CRLF".into());
            }
            used += 2;
            if size == 0 {
                break;
            }
        }
        response.body = Some(body);
    }
    Ok((response, used))
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// HTTP request head for an upload to a loopback target.
pub fn http_post(content_type: &str, body_len: usize) -> String {
    format!(
        "POST http://127.0.0.1:9/upload HTTP/1.1\r\nHost: 127.0.0.1:9\r\nContent-Type: {content_type}\r\nContent-Length: {body_len}\r\nCookie: session=abc\r\n\r\n"
    )
}

/// Builds a REQMOD request. With `preview`, the first `preview` bytes go first, ending
/// with `ieof` when they are the whole body; the rest follows as if after `100 Continue`.
pub fn reqmod(http_head: &str, body: &[u8], preview: Option<usize>, allow_204: bool) -> Vec<u8> {
    let mut out = format!(
        "REQMOD icap://127.0.0.1/reqmod ICAP/1.0\r\nHost: 127.0.0.1\r\nEncapsulated: req-hdr=0, req-body={}\r\n",
        http_head.len()
    );
    if allow_204 {
        out.push_str("Allow: 204\r\n");
    }
    if let Some(preview) = preview {
        out.push_str(&format!("Preview: {preview}\r\n"));
    }
    out.push_str("\r\n");
    out.push_str(http_head);
    let mut out = out.into_bytes();
    match preview {
        Some(preview) if body.len() <= preview => {
            push_chunk(&mut out, body);
            out.extend_from_slice(b"0; ieof\r\n\r\n");
        }
        Some(preview) => {
            push_chunk(&mut out, &body[..preview]);
            out.extend_from_slice(b"0\r\n\r\n");
            push_chunk(&mut out, &body[preview..]);
            out.extend_from_slice(b"0\r\n\r\n");
        }
        None => {
            push_chunk(&mut out, body);
            out.extend_from_slice(b"0\r\n\r\n");
        }
    }
    out
}

fn push_chunk(out: &mut Vec<u8>, data: &[u8]) {
    if !data.is_empty() {
        out.extend_from_slice(format!("{:x}\r\n", data.len()).as_bytes());
        out.extend_from_slice(data);
        out.extend_from_slice(b"\r\n");
    }
}

/// A multipart/form-data body with one text field and one file.
pub fn multipart(boundary: &str, filename: &str, file: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nquarterly export\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\nContent-Type: text/csv\r\n\r\n"
    )
    .into_bytes();
    out.extend_from_slice(file);
    out.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    out
}
