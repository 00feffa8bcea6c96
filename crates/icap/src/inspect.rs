//! What the inspector sees (an [`Upload`]) and what it decides ([`InspectionOutcome`]).

use std::fmt;

use bytes::Bytes;

/// Decides whether an upload may leave.
///
/// Called on a blocking-capable thread (`tokio::task::spawn_blocking`), so a CPU-heavy
/// scan does not stall other connections. A panic inside `inspect` blocks the upload
/// (fail closed).
pub trait Inspector: Send + Sync {
    /// Inspects one upload and returns whether it may pass.
    fn inspect(&self, upload: &Upload) -> InspectionOutcome;
}

/// Verdict on one upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InspectionOutcome {
    /// Let the upload through unchanged.
    Allow,
    /// Stop the upload and show the user a block page.
    Block {
        /// Plain words shown to the user (HTML-escaped); never plaintext customer data.
        reason: String,
    },
}

/// An HTTP request seen by the proxy, with its body split into parts.
#[derive(Clone)]
pub struct Upload {
    /// HTTP method, e.g. `POST`.
    pub method: String,
    /// Request target as the proxy sent it, usually an absolute URL (`host:port` for
    /// `CONNECT`).
    pub url: String,
    /// Request headers without credentials (see [`CREDENTIAL_HEADERS`]).
    pub headers: Vec<(String, String)>,
    /// What the request carries, every piece inspected together: one part per multipart
    /// field, or a single part for any other non-empty body, any text before or after
    /// the multipart delimiters, and last the request head's own text
    /// ([`PartOrigin::RequestHead`]), present on every request.
    pub parts: Vec<UploadPart>,
    /// Why the server could not read the body as the recipient will; such an upload is
    /// blocked whatever the inspector decides, and reaches it only to be recorded.
    pub unreadable: Option<Unreadable>,
    /// Who the proxy says sent it ([`crate::ServerConfig::username_header`]).
    pub user: ProxyUser,
    /// The client's address as the proxy gave it (`X-Client-IP`, Squid's
    /// `adaptation_send_client_ip on`), when it is an IP address.
    pub client_ip: Option<std::net::IpAddr>,
}

/// The name of the person the proxy authenticated for a request, as its ICAP
/// request carried it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProxyUser {
    /// No name was sent: the proxy does not authenticate its users, or is not set to
    /// pass their names on (Squid: `adaptation_send_username on`).
    Anonymous,
    /// The name, decoded, as the proxy authenticated it (`lan.tran`,
    /// `CORP\lan.tran`, `lan.tran@corp.example`).
    Named(String),
    /// A name was sent but cannot be read: sent twice, not the configured encoding, not
    /// UTF-8, holding control characters, or longer than [`MAX_USER_NAME_BYTES`].
    Unreadable,
}

/// The longest user name read from the proxy.
pub const MAX_USER_NAME_BYTES: usize = 256;

impl ProxyUser {
    /// Reads the header's value: base64 first when the proxy encodes names (Squid:
    /// `icap_client_username_encode on`).
    pub(crate) fn from_header(value: Option<&[u8]>, base64_encoded: bool) -> ProxyUser {
        use base64::Engine as _;
        let Some(value) = value.map(<[u8]>::trim_ascii) else {
            return ProxyUser::Anonymous;
        };
        let decoded = if base64_encoded {
            match base64::engine::general_purpose::STANDARD.decode(value) {
                Ok(decoded) => decoded,
                Err(_) => return ProxyUser::Unreadable,
            }
        } else {
            value.to_vec()
        };
        match String::from_utf8(decoded) {
            Ok(name) if name.trim().is_empty() => ProxyUser::Anonymous,
            Ok(name) if name.len() <= MAX_USER_NAME_BYTES && !name.chars().any(char::is_control) => {
                ProxyUser::Named(name.trim().to_owned())
            }
            _ => ProxyUser::Unreadable,
        }
    }
}

impl Upload {
    /// Where a `CONNECT` opens a tunnel (`host:port`): what passes through it is
    /// encrypted and is not inspected.
    pub fn tunnel_destination(&self) -> Option<&str> {
        self.method.eq_ignore_ascii_case("CONNECT").then_some(self.url.as_str())
    }
}

/// One piece of an upload.
#[derive(Clone)]
pub struct UploadPart {
    /// Where in the request the bytes were found.
    pub origin: PartOrigin,
    /// Multipart field name, if any.
    pub field_name: Option<String>,
    /// File name the client gave, if any.
    pub filename: Option<String>,
    /// Content type of the part (or of the whole body when not multipart).
    pub content_type: Option<String>,
    /// The bytes themselves.
    pub data: Bytes,
}

/// Where in the request an [`UploadPart`] was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartOrigin {
    /// The whole body, content codings undone, when it is not multipart (or could not
    /// be split).
    Body,
    /// One field of a multipart body.
    Field,
    /// Text before a multipart body's first delimiter, which form parsers pass over
    /// but the recipient receives.
    Preamble,
    /// Text after a multipart body's closing delimiter.
    Epilogue,
    /// The request head's text, one item a line: the percent-decoded path, the
    /// form-decoded query's names and values, the values of the headers that are not
    /// HTTP's own framing, the proxy's or credentials, and the multipart field names
    /// and file names.
    RequestHead,
    /// The values of the [`CREDENTIAL_HEADERS`], one a line, cookies split into
    /// percent-decoded names and values: a token is what such a header is for, so the
    /// DLP engine reads these for customer records only (see
    /// `dlp::Inspector::inspect_parts_and_credentials`). Never shown or recorded.
    Credentials,
}

/// Why the body of an [`Upload`] could not be read as its recipient will read it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unreadable {
    /// The body is over [`crate::ServerConfig::max_body_bytes`]; it is not passed on.
    #[error("the upload is larger than {limit} bytes, the most this proxy can inspect")]
    TooLarge {
        /// The configured limit.
        limit: usize,
    },
    /// The body says it is multipart but does not parse as such; it is passed whole.
    #[error("the multipart upload is malformed, so it cannot be inspected")]
    MalformedMultipart,
    /// `Content-Encoding` names a coding that could not be undone (unknown, malformed,
    /// or expanding past the bounds); the body is passed as sent.
    #[error("the upload is compressed in a way this proxy cannot undo ({0}), so it cannot be inspected")]
    ContentEncoding(dlp::UninspectableReason),
}

impl Unreadable {
    /// A short fixed name for the ledger (no input text).
    pub fn ledger_reason(&self) -> &'static str {
        match self {
            Unreadable::TooLarge { .. } => "unreadable:too_large",
            Unreadable::MalformedMultipart => "unreadable:malformed_multipart",
            Unreadable::ContentEncoding(_) => "unreadable:content_encoding",
        }
    }
}

/// Header names (lowercase) removed before an [`Upload`] reaches the inspector.
pub const CREDENTIAL_HEADERS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "cookie",
    "x-api-key",
    "x-auth-token",
];

// Debug never prints body bytes or the query string: both may hold customer data.
impl fmt::Debug for Upload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let url_without_query = self.url.split('?').next().unwrap_or_default();
        f.debug_struct("Upload")
            .field("method", &self.method)
            .field("url", &url_without_query)
            .field("headers", &self.headers.len())
            .field("parts", &self.parts)
            .field("unreadable", &self.unreadable)
            .field("user", &self.user)
            .field("client_ip", &self.client_ip)
            .finish()
    }
}

impl fmt::Debug for UploadPart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UploadPart")
            .field("origin", &self.origin)
            .field("field_name", &self.field_name)
            .field("filename", &self.filename)
            .field("content_type", &self.content_type)
            .field("data", &format_args!("<{} bytes redacted>", self.data.len()))
            .finish()
    }
}

/// Headers with credentials dropped and control characters removed from values.
pub(crate) fn sanitize_headers(headers: Vec<(String, String)>) -> Vec<(String, String)> {
    headers
        .into_iter()
        .filter(|(name, _)| {
            !CREDENTIAL_HEADERS
                .iter()
                .any(|credential| name.eq_ignore_ascii_case(credential))
        })
        .map(|(name, value)| {
            let value = value.chars().filter(|c| !c.is_control()).collect();
            (name, value)
        })
        .collect()
}

/// Headers whose values are HTTP's own framing or were added by the proxy, left out of
/// the [`PartOrigin::RequestHead`] text: a sender cannot put free text there unnoticed
/// (Squid adds `Via` and `X-Forwarded-For` to every request), and their numbers
/// would only be noise for the detectors.
const FRAMING_HEADERS: &[&str] = &[
    "host",
    "content-length",
    "content-encoding",
    "transfer-encoding",
    "connection",
    "proxy-connection",
    "keep-alive",
    "te",
    "upgrade",
    "expect",
    "via",
    "x-forwarded-for",
    "surrogate-capability",
];

/// The request head's text as one part (see [`PartOrigin::RequestHead`]): a customer
/// list fits in a query string, a header or a field name as well as in a body.
pub(crate) fn request_head_part(target: &str, headers: &[(String, String)], fields: &[UploadPart]) -> UploadPart {
    let mut text = String::new();
    let mut line = |item: &str| {
        if !item.trim().is_empty() {
            text.push_str(item);
            text.push('\n');
        }
    };
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    line(&percent_encoding::percent_decode_str(path).decode_utf8_lossy());
    for (name, value) in form_urlencoded::parse(query.as_bytes()) {
        line(&name);
        line(&value);
    }
    for (name, value) in headers {
        let skipped = FRAMING_HEADERS.iter().chain(CREDENTIAL_HEADERS);
        if !skipped.clone().any(|skip| name.eq_ignore_ascii_case(skip)) {
            line(value);
        }
    }
    for field in fields {
        line(field.field_name.as_deref().unwrap_or_default());
        // As a scanned file's name is read: its extension apart, so an email that ends
        // the name's stem is found (`ana@x.de.csv`).
        let filename = field.filename.as_deref().and_then(dlp::extract::file_name_text);
        line(filename.as_deref().unwrap_or_default());
    }
    UploadPart {
        origin: PartOrigin::RequestHead,
        field_name: None,
        filename: None,
        content_type: Some("text/plain; charset=utf-8".into()),
        data: Bytes::from(text),
    }
}

/// The credential headers' values as one part (see [`PartOrigin::Credentials`]);
/// `None` when the request carries none.
pub(crate) fn credentials_part(headers: &[(String, String)]) -> Option<UploadPart> {
    let mut text = String::new();
    let mut line = |item: &str| {
        if !item.trim().is_empty() {
            text.push_str(item);
            text.push('\n');
        }
    };
    for (name, value) in headers {
        if name.eq_ignore_ascii_case("cookie") {
            for pair in value.split(';') {
                let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
                line(&percent_encoding::percent_decode_str(name.trim()).decode_utf8_lossy());
                line(&percent_encoding::percent_decode_str(value.trim()).decode_utf8_lossy());
            }
        } else if CREDENTIAL_HEADERS
            .iter()
            .any(|credential| name.eq_ignore_ascii_case(credential))
        {
            line(value);
        }
    }
    (!text.is_empty()).then(|| UploadPart {
        origin: PartOrigin::Credentials,
        field_name: None,
        filename: None,
        content_type: Some("text/plain; charset=utf-8".into()),
        data: Bytes::from(text),
    })
}

/// The whole body as one part.
pub(crate) fn whole_body(content_type: Option<&str>, body: Bytes) -> UploadPart {
    UploadPart {
        origin: PartOrigin::Body,
        field_name: None,
        filename: None,
        content_type: content_type.map(str::to_string),
        data: body,
    }
}

/// Splits a body (content codings already undone) into parts: multipart bodies per
/// field, with any text around the delimiters, anything else as one part.
///
/// A multipart body that does not parse is [`Unreadable::MalformedMultipart`]; one
/// without fields is read whole, so bytes that form parsers pass over are still seen.
pub(crate) async fn split_body(content_type: Option<&str>, body: Bytes) -> Result<Vec<UploadPart>, Unreadable> {
    if body.is_empty() {
        return Ok(Vec::new());
    }
    let is_multipart = content_type
        .map(|ct| ct.trim_start().to_ascii_lowercase().starts_with("multipart/"))
        .unwrap_or(false);
    let Some(content_type) = content_type.filter(|_| is_multipart) else {
        return Ok(vec![whole_body(content_type, body)]);
    };
    let boundary = multer::parse_boundary(content_type).map_err(|_| Unreadable::MalformedMultipart)?;
    let (preamble, epilogue) = outside_delimiters(&body, &boundary);
    let whole = body.clone();
    let stream = futures_util::stream::once(async move { Ok::<Bytes, std::convert::Infallible>(whole) });
    let mut multipart = multer::Multipart::new(stream, boundary);
    let mut parts = Vec::new();
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|_| Unreadable::MalformedMultipart)?
    {
        let field_name = field.name().map(str::to_string);
        let filename = field.file_name().map(str::to_string);
        let content_type = field.content_type().map(|mime| mime.to_string());
        let data = field.bytes().await.map_err(|_| Unreadable::MalformedMultipart)?;
        parts.push(UploadPart {
            origin: PartOrigin::Field,
            field_name,
            filename,
            content_type,
            data,
        });
    }
    if parts.is_empty() {
        return Ok(vec![whole_body(Some(content_type), body)]);
    }
    for (origin, range) in [(PartOrigin::Preamble, preamble), (PartOrigin::Epilogue, epilogue)] {
        let text = body.slice(range);
        if !text.trim_ascii().is_empty() {
            parts.push(UploadPart {
                origin,
                field_name: None,
                filename: None,
                content_type: None,
                data: text,
            });
        }
    }
    Ok(parts)
}

/// Where the text before the first delimiter and after the closing one lies, found
/// as multer finds the delimiters (which it does not hand over): the first `--boundary`
/// anywhere opens, each field ends at the next CRLF `--boundary`, and one followed by
/// `--` closes.
fn outside_delimiters(body: &[u8], boundary: &str) -> (std::ops::Range<usize>, std::ops::Range<usize>) {
    let dash_boundary = format!("--{boundary}");
    let delimiter = format!("\r\n{dash_boundary}");
    let find = |from: usize, needle: &str| {
        body.get(from..)
            .and_then(|rest| rest.windows(needle.len()).position(|w| w == needle.as_bytes()))
            .map(|at| from + at)
    };
    let Some(first) = find(0, &dash_boundary) else {
        return (0..body.len(), body.len()..body.len());
    };
    let mut after = first + dash_boundary.len();
    loop {
        if body.get(after..after + 2) == Some(b"--") {
            return (0..first, (after + 2).min(body.len())..body.len());
        }
        match find(after, &delimiter) {
            Some(next) => after = next + delimiter.len(),
            None => return (0..first, body.len()..body.len()),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[tokio::test]
    async fn multipart_fields_become_parts() {
        let body = b"--XyZ\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhello\r\n--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"rows.csv\"\r\nContent-Type: text/csv\r\n\r\na,b\r\n1,2\r\n--XyZ--\r\n";
        let parts = split_body(Some("multipart/form-data; boundary=XyZ"), Bytes::from_static(body))
            .await
            .unwrap();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].field_name.as_deref(), Some("note"));
        assert_eq!(&parts[0].data[..], b"hello");
        assert_eq!(parts[1].filename.as_deref(), Some("rows.csv"));
        assert_eq!(parts[1].content_type.as_deref(), Some("text/csv"));
        assert_eq!(&parts[1].data[..], b"a,b\r\n1,2");
    }

    #[tokio::test]
    async fn text_outside_the_multipart_delimiters_is_a_part() {
        let split = |body: &'static [u8]| async move {
            let parts = split_body(Some("multipart/form-data; boundary=XyZ"), Bytes::from_static(body))
                .await
                .unwrap();
            parts
                .into_iter()
                .map(|part| (part.origin, String::from_utf8_lossy(&part.data).into_owned()))
                .collect::<Vec<_>>()
        };
        let field = b"--XyZ\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhello\r\n--XyZ--";
        let around = [b"rows before\r\n".as_slice(), field, b"\r\nrows after\r\n"].concat();
        assert_eq!(
            split(around.leak()).await,
            vec![
                (PartOrigin::Field, "hello".to_string()),
                (PartOrigin::Preamble, "rows before\r\n".to_string()),
                (PartOrigin::Epilogue, "\r\nrows after\r\n".to_string()),
            ]
        );
        // Whitespace around the delimiters is no part.
        let padded = [b"\r\n".as_slice(), field, b"\r\n"].concat();
        assert_eq!(
            split(padded.leak()).await,
            vec![(PartOrigin::Field, "hello".to_string())]
        );
        // Only a closing delimiter: no field, so the body is read whole.
        let no_fields = b"rows that a form parser would pass over\r\n--XyZ--\r\n";
        assert_eq!(
            split(no_fields).await,
            vec![(PartOrigin::Body, String::from_utf8_lossy(no_fields).into_owned())]
        );
    }

    #[tokio::test]
    async fn malformed_multipart_is_unreadable_and_plain_body_is_one_part() {
        let broken = split_body(
            Some("multipart/form-data; boundary=XyZ"),
            Bytes::from_static(b"--XyZ\r\nno end"),
        )
        .await;
        assert_eq!(broken.err(), Some(Unreadable::MalformedMultipart));
        let plain = split_body(Some("text/plain"), Bytes::from_static(b"abc"))
            .await
            .unwrap();
        assert_eq!(plain.len(), 1);
        assert_eq!(plain[0].origin, PartOrigin::Body);
        assert_eq!(&plain[0].data[..], b"abc");
        assert!(split_body(None, Bytes::new()).await.unwrap().is_empty());
    }

    #[test]
    fn proxy_user_names_are_read_as_the_proxy_encodes_them() {
        let check = |value: Option<&[u8]>, base64: bool, expected: ProxyUser| {
            assert_eq!(
                ProxyUser::from_header(value, base64),
                expected,
                "{value:?} base64={base64}"
            );
        };
        let named = |name: &str| ProxyUser::Named(name.into());
        check(None, false, ProxyUser::Anonymous);
        check(None, true, ProxyUser::Anonymous);
        check(Some(b"  "), false, ProxyUser::Anonymous);
        check(Some(b" lan.tran "), false, named("lan.tran"));
        check(Some(b"CORP\\lan.tran"), false, named("CORP\\lan.tran"));
        check(Some("nguyễn.an".as_bytes()), false, named("nguyễn.an"));
        // Squid's `icap_client_username_encode on`: standard base64 with padding.
        check(Some(b"bGFuLnRyYW4="), true, named("lan.tran"));
        check(Some(b"bGFuLnRyYW4="), false, named("bGFuLnRyYW4="));
        check(Some(b"lan.tran"), true, ProxyUser::Unreadable);
        check(Some(b"/w=="), true, ProxyUser::Unreadable);
        check(Some(b"\xff\xfe"), false, ProxyUser::Unreadable);
        check(Some(b"lan\ttran"), false, ProxyUser::Unreadable);
        check(
            Some("a".repeat(MAX_USER_NAME_BYTES).as_bytes()),
            false,
            named(&"a".repeat(256)),
        );
        check(
            Some("a".repeat(MAX_USER_NAME_BYTES + 1).as_bytes()),
            false,
            ProxyUser::Unreadable,
        );
    }

    #[test]
    fn the_request_head_is_text_to_inspect() {
        let headers: Vec<(String, String)> = [
            ("Host", "up.example"),
            ("Content-Length", "12"),
            ("Via", "1.1 squid"),
            ("X-Note", "An Tran, an.tran@khach.vn"),
            ("Cookie", "sid=An%20Tran; theme=dark"),
            ("Authorization", "Bearer secret-token"),
        ]
        .iter()
        .map(|(name, value)| (name.to_string(), value.to_string()))
        .collect();
        let field = UploadPart {
            origin: PartOrigin::Field,
            field_name: Some("an.tran@khach.vn".into()),
            filename: Some("Binh Le binh.le@khach.vn.csv".into()),
            content_type: None,
            data: Bytes::new(),
        };
        let head = request_head_part(
            "http://up.example/c/An%20Tran?d=an.tran%40khach.vn%0A%2B84+90&x",
            &headers,
            &[field],
        );
        assert_eq!(head.origin, PartOrigin::RequestHead);
        assert_eq!(
            String::from_utf8_lossy(&head.data),
            "http://up.example/c/An Tran\nd\nan.tran@khach.vn\n+84 90\nx\nAn Tran, an.tran@khach.vn\nan.tran@khach.vn\nBinh Le binh.le@khach.vn csv\n"
        );
        let credentials = credentials_part(&headers).unwrap();
        assert_eq!(credentials.origin, PartOrigin::Credentials);
        assert_eq!(
            String::from_utf8_lossy(&credentials.data),
            "sid\nAn Tran\ntheme\ndark\nBearer secret-token\n"
        );
        assert!(credentials_part(&headers[..4]).is_none());
    }

    #[test]
    fn credentials_removed_and_debug_redacts() {
        let headers = sanitize_headers(vec![
            ("Cookie".into(), "session=1".into()),
            ("Authorization".into(), "Bearer x".into()),
            ("Host".into(), "example\r\n.test".into()),
        ]);
        assert_eq!(headers, vec![("Host".to_string(), "example.test".to_string())]);
        let upload = Upload {
            method: "POST".into(),
            url: "http://h/p?ssn=123-45-6789".into(),
            headers,
            parts: vec![UploadPart {
                origin: PartOrigin::Body,
                field_name: None,
                filename: None,
                content_type: None,
                data: Bytes::from_static(b"secret customer row"),
            }],
            unreadable: None,
            user: ProxyUser::Named("lan.tran".into()),
            client_ip: None,
        };
        let shown = format!("{upload:?}");
        assert!(!shown.contains("secret"), "{shown}");
        assert!(!shown.contains("6789"), "{shown}");
        assert!(shown.contains("19 bytes redacted"), "{shown}");
    }
}
