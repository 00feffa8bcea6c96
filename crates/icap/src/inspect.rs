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
    /// Request target as the proxy sent it, usually an absolute URL.
    pub url: String,
    /// Request headers without credentials (see [`CREDENTIAL_HEADERS`]).
    pub headers: Vec<(String, String)>,
    /// Body parts: one per multipart field, or a single part for any other non-empty body.
    pub parts: Vec<UploadPart>,
}

/// One piece of an upload body.
#[derive(Clone)]
pub struct UploadPart {
    /// Multipart field name, if any.
    pub field_name: Option<String>,
    /// File name the client gave, if any.
    pub filename: Option<String>,
    /// Content type of the part (or of the whole body when not multipart).
    pub content_type: Option<String>,
    /// The bytes themselves.
    pub data: Bytes,
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
            .finish()
    }
}

impl fmt::Debug for UploadPart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UploadPart")
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

/// Splits a body into parts: multipart bodies per field, anything else as one part.
///
/// Returns `Err(reason)` when a multipart body cannot be parsed: such an upload cannot be
/// inspected and is blocked.
pub(crate) async fn split_body(
    content_type: Option<&str>,
    body: Bytes,
    max_body_bytes: usize,
) -> Result<Vec<UploadPart>, String> {
    if body.is_empty() {
        return Ok(Vec::new());
    }
    let is_multipart = content_type
        .map(|ct| ct.trim_start().to_ascii_lowercase().starts_with("multipart/"))
        .unwrap_or(false);
    let Some(content_type) = content_type.filter(|_| is_multipart) else {
        return Ok(vec![UploadPart {
            field_name: None,
            filename: None,
            content_type: content_type.map(str::to_string),
            data: body,
        }]);
    };
    let unparseable = |_| "the multipart upload is malformed, so it cannot be inspected".to_string();
    let boundary = multer::parse_boundary(content_type).map_err(unparseable)?;
    let stream = futures_util::stream::once(async move { Ok::<Bytes, std::convert::Infallible>(body) });
    let constraints =
        multer::Constraints::new().size_limit(multer::SizeLimit::new().whole_stream(max_body_bytes as u64));
    let mut multipart = multer::Multipart::with_constraints(stream, boundary, constraints);
    let mut parts = Vec::new();
    while let Some(field) = multipart.next_field().await.map_err(unparseable)? {
        let field_name = field.name().map(str::to_string);
        let filename = field.file_name().map(str::to_string);
        let content_type = field.content_type().map(|mime| mime.to_string());
        let data = field.bytes().await.map_err(unparseable)?;
        parts.push(UploadPart {
            field_name,
            filename,
            content_type,
            data,
        });
    }
    Ok(parts)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[tokio::test]
    async fn multipart_fields_become_parts() {
        let body = b"--XyZ\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhello\r\n--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"rows.csv\"\r\nContent-Type: text/csv\r\n\r\na,b\r\n1,2\r\n--XyZ--\r\n";
        let parts = split_body(
            Some("multipart/form-data; boundary=XyZ"),
            Bytes::from_static(body),
            1 << 20,
        )
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
    async fn malformed_multipart_is_an_error_and_plain_body_is_one_part() {
        let broken = split_body(
            Some("multipart/form-data; boundary=XyZ"),
            Bytes::from_static(b"--XyZ\r\nno end"),
            1 << 20,
        )
        .await;
        assert!(broken.is_err());
        let plain = split_body(Some("text/plain"), Bytes::from_static(b"abc"), 1 << 20)
            .await
            .unwrap();
        assert_eq!(plain.len(), 1);
        assert_eq!(&plain[0].data[..], b"abc");
        assert!(split_body(None, Bytes::new(), 10).await.unwrap().is_empty());
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
                field_name: None,
                filename: None,
                content_type: None,
                data: Bytes::from_static(b"secret customer row"),
            }],
        };
        let shown = format!("{upload:?}");
        assert!(!shown.contains("secret"), "{shown}");
        assert!(!shown.contains("6789"), "{shown}");
        assert!(shown.contains("19 bytes redacted"), "{shown}");
    }
}
