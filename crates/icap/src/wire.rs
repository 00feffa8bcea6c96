//! Bounded reading of ICAP messages: request head, `Encapsulated` offsets, chunked bodies.
//!
//! Every read waits at most the idle timeout, a whole request (head to last chunk) at
//! most the request timeout, and every buffer has a limit, so a slow, truncated or
//! hostile peer ends in a [`RequestError`], never a hang or unbounded memory.

use std::time::Duration;

use tokio::io::{AsyncBufRead, AsyncBufReadExt};
use tokio::time::{timeout_at, Instant};

use crate::budget::Reservation;
use crate::error::RequestError;

/// Longest chunk-size line accepted (size, extensions, CRLF).
const MAX_CHUNK_LINE_BYTES: usize = 1024;
/// Most headers in one ICAP head or encapsulated HTTP head.
const MAX_HEADERS: usize = 100;
/// Smallest and largest step by which a kept body's buffer grows.
const KEEP_GROWTH_MIN: usize = 8 * 1024;
const KEEP_GROWTH_MAX: usize = 4 * 1024 * 1024;
/// Most bytes of trailer fields accepted after a last chunk (all lines together).
const MAX_TRAILER_BYTES: usize = 4096;
/// Empty lines tolerated before a request line (RFC 7230 3.5 robustness).
const MAX_LEADING_EMPTY_LINES: usize = 4;

/// ICAP methods this server knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Method {
    Options,
    Reqmod,
    Respmod,
}

/// A parsed ICAP request head.
#[derive(Debug)]
pub(crate) struct IcapHead {
    pub method: Method,
    /// Service name: the URI path without its leading slash and query.
    pub service: String,
    /// Header names lowercased, values raw.
    pub headers: Vec<(String, Vec<u8>)>,
}

impl IcapHead {
    /// The only value of header `name` (lowercase); a repeated header is an error.
    pub fn single(&self, name: &str) -> Result<Option<&[u8]>, RequestError> {
        let mut found = None;
        for (key, value) in &self.headers {
            if key == name {
                if found.is_some() {
                    return Err(RequestError::Bad(format!(
                        "expected one {name} header, found several; send it once"
                    )));
                }
                found = Some(value.as_slice());
            }
        }
        Ok(found)
    }

    /// Whether a comma-separated header `name` lists `token` (case-insensitive).
    pub fn lists(&self, name: &str, token: &str) -> bool {
        self.headers
            .iter()
            .filter(|(key, _)| key == name)
            .flat_map(|(_, value)| value.split(|&b| b == b','))
            .any(|item| item.trim_ascii().eq_ignore_ascii_case(token.as_bytes()))
    }
}

/// Kind of the body section named last in `Encapsulated`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyKind {
    Request,
    Response,
    Options,
    Null,
}

/// Byte ranges of the encapsulated header sections and the kind of body that follows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Encapsulated {
    pub req_hdr: Option<(usize, usize)>,
    pub res_hdr: Option<(usize, usize)>,
    pub body: BodyKind,
    /// Offset of the body: the total length of the header sections.
    pub body_offset: usize,
}

impl Encapsulated {
    /// Parses `req-hdr=0, req-body=412` style values (RFC 3507 4.4.1).
    ///
    /// Header sections must come first, in order req-hdr then res-hdr, start at 0 and have
    /// strictly increasing offsets; exactly one body entry ends the list.
    pub fn parse(value: &[u8], max_header_bytes: usize) -> Result<Self, RequestError> {
        let text = std::str::from_utf8(value)
            .map_err(|_| RequestError::Bad("expected an ASCII Encapsulated header, found other bytes".into()))?;
        let mut entries: Vec<(&str, usize)> = Vec::new();
        for item in text.split(',') {
            let (name, offset) = item.trim().split_once('=').ok_or_else(|| {
                RequestError::Bad("expected Encapsulated entries like req-hdr=0, found an entry without '='".into())
            })?;
            let offset = offset.trim();
            if offset.is_empty() || offset.len() > 9 || !offset.bytes().all(|b| b.is_ascii_digit()) {
                return Err(RequestError::Bad(
                    "expected a decimal Encapsulated offset of at most 9 digits".into(),
                ));
            }
            let offset: usize = offset
                .parse()
                .map_err(|_| RequestError::Bad("expected a decimal Encapsulated offset".into()))?;
            entries.push((name.trim(), offset));
        }
        let Some(((body_name, body_offset), sections)) = entries.split_last() else {
            return Err(RequestError::Bad("expected Encapsulated entries, found none".into()));
        };
        let body = match *body_name {
            "req-body" => BodyKind::Request,
            "res-body" => BodyKind::Response,
            "opt-body" => BodyKind::Options,
            "null-body" => BodyKind::Null,
            _ => {
                return Err(RequestError::Bad(
                    "expected the last Encapsulated entry to be req-body, res-body, opt-body or null-body".into(),
                ))
            }
        };
        if *body_offset > max_header_bytes {
            return Err(RequestError::HeadTooLarge {
                limit: max_header_bytes,
            });
        }
        let mut parsed = Encapsulated {
            req_hdr: None,
            res_hdr: None,
            body,
            body_offset: *body_offset,
        };
        let mut expected_start = 0usize;
        for (index, (name, start)) in sections.iter().enumerate() {
            if *start != expected_start {
                return Err(RequestError::Bad(
                    "expected Encapsulated sections to start at 0 and follow each other".into(),
                ));
            }
            let end = entries.get(index + 1).map(|(_, next)| *next).unwrap_or(*body_offset);
            if end <= *start {
                return Err(RequestError::Bad(
                    "expected strictly increasing Encapsulated offsets".into(),
                ));
            }
            match *name {
                "req-hdr" if parsed.req_hdr.is_none() && parsed.res_hdr.is_none() => {
                    parsed.req_hdr = Some((*start, end));
                }
                "res-hdr" if parsed.res_hdr.is_none() => parsed.res_hdr = Some((*start, end)),
                _ => {
                    return Err(RequestError::Bad(
                        "expected Encapsulated header sections req-hdr then res-hdr, each once, before the body entry"
                            .into(),
                    ))
                }
            }
            expected_start = end;
        }
        if sections.is_empty() && *body_offset != 0 {
            return Err(RequestError::Bad(
                "expected a body-only Encapsulated header to have offset 0".into(),
            ));
        }
        Ok(parsed)
    }
}

/// How a chunked body ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ChunkedEnd {
    /// The last chunk carried the `ieof` extension: the preview was the whole body.
    pub ieof: bool,
}

/// Collects body bytes up to a limit and counts the rest without keeping it.
#[derive(Debug, Default)]
pub(crate) struct BodySink {
    pub kept: Vec<u8>,
    pub total: u64,
}

impl BodySink {
    /// Whether more bytes arrived than `limit`.
    pub fn overflowed(&self, limit: usize) -> bool {
        self.total > limit as u64
    }
}

/// Reader of one ICAP request with a per-read idle timeout and a whole-request deadline.
pub(crate) struct WireReader<'a, R> {
    pub inner: &'a mut R,
    idle: Duration,
    request_timeout: Duration,
    /// When the request must be read by; set by the first byte of its head.
    deadline: Option<Instant>,
}

impl<'a, R: AsyncBufRead + Unpin> WireReader<'a, R> {
    /// A reader for the next request on `inner`; its deadline starts with its first byte,
    /// so waiting for that byte is bounded by `idle` alone.
    pub fn new(inner: &'a mut R, idle: Duration, request_timeout: Duration) -> Self {
        WireReader {
            inner,
            idle,
            request_timeout,
            deadline: None,
        }
    }

    /// Waits for buffered bytes; an empty slice means end of stream.
    ///
    /// Each wait is bounded by the idle timeout, and by the request's deadline: one
    /// byte per idle timeout must not hold a connection (and its slot) forever.
    async fn fill(&mut self) -> Result<&[u8], RequestError> {
        let idle_end = Instant::now() + self.idle;
        let (end, deadline_first) = match self.deadline {
            Some(deadline) if deadline <= idle_end => (deadline, true),
            _ => (idle_end, false),
        };
        match timeout_at(end, self.inner.fill_buf()).await {
            Err(_) if deadline_first => Err(RequestError::TooSlow(self.request_timeout)),
            Err(_) => Err(RequestError::Stalled(self.idle)),
            Ok(Err(e)) => Err(RequestError::Io(e)),
            Ok(Ok(buf)) => Ok(buf),
        }
    }

    /// Reads one line including its `\n`, at most `max` bytes.
    async fn read_line(&mut self, max: usize) -> Result<Vec<u8>, RequestError> {
        let mut line = Vec::new();
        loop {
            let available = self.fill().await?;
            if available.is_empty() {
                return Err(RequestError::Truncated);
            }
            let (take, done) = match available.iter().position(|&b| b == b'\n') {
                Some(pos) => (pos + 1, true),
                None => (available.len(), false),
            };
            if line.len() + take > max {
                return Err(RequestError::HeadTooLarge { limit: max });
            }
            line.extend_from_slice(available.get(..take).unwrap_or_default());
            self.inner.consume(take);
            if done {
                return Ok(line);
            }
        }
    }

    /// Reads exactly `len` bytes, handing them to `sink` piece by piece.
    async fn read_exact_into(&mut self, mut len: u64, mut sink: impl FnMut(&[u8])) -> Result<(), RequestError> {
        while len > 0 {
            let available = self.fill().await?;
            if available.is_empty() {
                return Err(RequestError::Truncated);
            }
            let take = usize::try_from(len).unwrap_or(usize::MAX).min(available.len());
            sink(available.get(..take).unwrap_or_default());
            self.inner.consume(take);
            len -= take as u64;
        }
        Ok(())
    }

    /// Reads `len` bytes into a new buffer (`len` already bounded by the caller).
    pub async fn read_exact(&mut self, len: usize) -> Result<Vec<u8>, RequestError> {
        let mut out = Vec::with_capacity(len);
        self.read_exact_into(len as u64, |piece| out.extend_from_slice(piece))
            .await?;
        Ok(out)
    }

    /// Reads an ICAP request head. `Ok(None)` means the peer closed or idled between requests.
    pub async fn read_head(&mut self, max_header_bytes: usize) -> Result<Option<IcapHead>, RequestError> {
        let mut head = Vec::new();
        let mut leading_empty = 0;
        loop {
            match self.fill().await {
                Ok([]) if head.is_empty() => return Ok(None),
                Err(RequestError::Stalled(_)) if head.is_empty() => return Ok(None),
                Err(e) => return Err(e),
                Ok(_) => {}
            }
            if self.deadline.is_none() {
                self.deadline = Some(Instant::now() + self.request_timeout);
            }
            let remaining = max_header_bytes.saturating_sub(head.len());
            let line = self.read_line(remaining).await.map_err(|e| match e {
                RequestError::HeadTooLarge { .. } => RequestError::HeadTooLarge {
                    limit: max_header_bytes,
                },
                other => other,
            })?;
            let empty = line == b"\r\n" || line == b"\n";
            if empty && head.is_empty() {
                leading_empty += 1;
                if leading_empty > MAX_LEADING_EMPTY_LINES {
                    return Err(RequestError::Bad(
                        "expected an ICAP request line, found only empty lines".into(),
                    ));
                }
                continue;
            }
            head.extend_from_slice(&line);
            if empty {
                return parse_head(&head).map(Some);
            }
        }
    }

    /// Reads a chunked ICAP body into `sink` until its last chunk, keeping at most
    /// `keep_limit` bytes, each covered by `reservation` before it is buffered.
    ///
    /// Stops with [`RequestError::BodyTooLarge`] once more than `discard_limit` bytes came
    /// in, and with [`RequestError::OverBudget`] when the shared budget stays exhausted.
    pub async fn read_chunked(
        &mut self,
        sink: &mut BodySink,
        reservation: &mut Reservation,
        keep_limit: usize,
        discard_limit: u64,
    ) -> Result<ChunkedEnd, RequestError> {
        loop {
            let line = self.read_line(MAX_CHUNK_LINE_BYTES).await.map_err(|e| match e {
                RequestError::HeadTooLarge { .. } => RequestError::Bad(format!(
                    "expected a chunk-size line of at most {MAX_CHUNK_LINE_BYTES} bytes, found a longer one"
                )),
                other => other,
            })?;
            let (size, ieof) = parse_chunk_line(&line)?;
            if size == 0 {
                self.skip_trailers().await?;
                return Ok(ChunkedEnd { ieof });
            }
            sink.total = sink.total.saturating_add(size);
            if sink.total > discard_limit {
                return Err(RequestError::BodyTooLarge);
            }
            self.read_chunk_data(size, sink, keep_limit, reservation).await?;
            let crlf = self.read_exact(2).await?;
            if crlf != b"\r\n" {
                return Err(RequestError::Bad(
                    "expected CRLF after chunk data, found other bytes; check the chunk size".into(),
                ));
            }
        }
    }

    /// Reads the trailer section after a last chunk, up to its empty line, and drops
    /// it: HTTP/1.1 chunked coding, which ICAP uses (RFC 3507 4.4.1), allows header
    /// fields there, and none of them bears on what the body holds. Each line must be a
    /// header field, and all of them together at most [`MAX_TRAILER_BYTES`].
    async fn skip_trailers(&mut self) -> Result<(), RequestError> {
        let mut read = 0usize;
        loop {
            let line = self
                .read_line(MAX_TRAILER_BYTES.saturating_sub(read))
                .await
                .map_err(|e| match e {
                    RequestError::HeadTooLarge { .. } => RequestError::Bad(format!(
                        "expected at most {MAX_TRAILER_BYTES} bytes of trailers after the last chunk"
                    )),
                    other => other,
                })?;
            if line == b"\r\n" {
                return Ok(());
            }
            read += line.len();
            let field = line.strip_suffix(b"\r\n").unwrap_or_default();
            let named = field.iter().position(|&b| b == b':').is_some_and(|colon| {
                colon > 0 && field.get(..colon).is_some_and(|n| n.iter().all(u8::is_ascii_graphic))
            });
            if !named {
                return Err(RequestError::Bad(
                    "expected CRLF or a trailer field (NAME: value CRLF) after the last chunk".into(),
                ));
            }
        }
    }

    /// Reads `len` bytes of chunk data, keeping what fits under `keep_limit` in `sink`.
    ///
    /// The kept buffer grows in steps, each reserved before it is allocated, so the
    /// reservation covers the buffer's capacity, and only as the bytes arrive: a peer
    /// that declares a huge chunk and sends nothing holds nothing.
    async fn read_chunk_data(
        &mut self,
        mut len: u64,
        sink: &mut BodySink,
        keep_limit: usize,
        reservation: &mut Reservation,
    ) -> Result<(), RequestError> {
        while len > 0 {
            let available = self.fill().await?.len();
            if available == 0 {
                return Err(RequestError::Truncated);
            }
            let take = usize::try_from(len).unwrap_or(usize::MAX).min(available);
            let kept = &mut sink.kept;
            let keep = take.min(keep_limit.saturating_sub(kept.len()));
            let needed = kept.len() + keep;
            if needed > kept.capacity() {
                // Doubling, up to a step, keeps copies few without reserving far ahead.
                let step = kept.capacity().clamp(KEEP_GROWTH_MIN, KEEP_GROWTH_MAX);
                let target = needed.max(kept.capacity().saturating_add(step).min(keep_limit));
                reservation.cover(target).await?;
                kept.reserve_exact(target - kept.len());
            }
            // The bytes are still buffered: this returns at once.
            let piece = self.fill().await?.get(..take).unwrap_or_default();
            sink.kept.extend_from_slice(piece.get(..keep).unwrap_or_default());
            self.inner.consume(take);
            len -= take as u64;
        }
        Ok(())
    }
}

/// Parses `HEX[;ext...]\r\n`; returns the size and whether `ieof` was present.
// Hand-written because httparse::parse_chunk_size drops extensions and ICAP needs `ieof`.
pub(crate) fn parse_chunk_line(line: &[u8]) -> Result<(u64, bool), RequestError> {
    let body = line
        .strip_suffix(b"\r\n")
        .ok_or_else(|| RequestError::Bad("expected a chunk-size line ending in CRLF".into()))?;
    let mut pieces = body.split(|&b| b == b';');
    let size_text = pieces.next().unwrap_or_default().trim_ascii_end();
    if size_text.is_empty() || size_text.len() > 15 || !size_text.iter().all(|b| b.is_ascii_hexdigit()) {
        return Err(RequestError::Bad("expected a chunk size of 1 to 15 hex digits".into()));
    }
    let size = size_text
        .iter()
        .try_fold(0u64, |acc, &b| {
            let digit = char::from(b).to_digit(16)?;
            acc.checked_mul(16)?.checked_add(u64::from(digit))
        })
        .ok_or_else(|| RequestError::Bad("expected a chunk size that fits in 64 bits".into()))?;
    let mut ieof = false;
    for extension in pieces {
        let extension = extension.trim_ascii();
        if extension.is_empty()
            || !extension
                .iter()
                .all(|b| b.is_ascii_graphic() || *b == b' ' || *b == b'\t')
        {
            return Err(RequestError::Bad(
                "expected chunk extensions of visible characters".into(),
            ));
        }
        if extension.eq_ignore_ascii_case(b"ieof") {
            ieof = true;
        }
    }
    if ieof && size != 0 {
        return Err(RequestError::Bad(
            "expected ieof only on the zero-size last chunk".into(),
        ));
    }
    Ok((size, ieof))
}

/// Parses the request line and headers of a complete ICAP head (ending in an empty line).
fn parse_head(head: &[u8]) -> Result<IcapHead, RequestError> {
    let line_end = head
        .iter()
        .position(|&b| b == b'\n')
        .ok_or_else(|| RequestError::Bad("expected an ICAP request line".into()))?;
    let request_line = head
        .get(..line_end)
        .and_then(|l| l.strip_suffix(b"\r"))
        .ok_or_else(|| RequestError::Bad("expected the request line to end in CRLF".into()))?;
    let request_line = std::str::from_utf8(request_line)
        .map_err(|_| RequestError::Bad("expected an ASCII ICAP request line".into()))?;
    let mut words = request_line.split(' ');
    let (Some(method), Some(uri), Some(version), None) = (words.next(), words.next(), words.next(), words.next())
    else {
        return Err(RequestError::Bad(
            "expected 'METHOD icap://host/service ICAP/1.0' as the request line".into(),
        ));
    };
    if version != "ICAP/1.0" {
        return Err(if version.starts_with("ICAP/") {
            RequestError::VersionNotSupported
        } else {
            RequestError::Bad("expected ICAP/1.0 at the end of the request line".into())
        });
    }
    let method = match method {
        "OPTIONS" => Method::Options,
        "REQMOD" => Method::Reqmod,
        "RESPMOD" => Method::Respmod,
        _ => return Err(RequestError::MethodNotImplemented),
    };
    let service = service_of(uri)?;
    let mut storage = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let rest = head.get(line_end + 1..).unwrap_or_default();
    let headers = match httparse::parse_headers(rest, &mut storage) {
        Ok(httparse::Status::Complete((used, headers))) if used == rest.len() => headers,
        Ok(_) => {
            return Err(RequestError::Bad(
                "expected ICAP headers to end with an empty line".into(),
            ))
        }
        Err(e) => {
            return Err(RequestError::Bad(format!(
                "expected valid ICAP headers, found a malformed one ({e})"
            )))
        }
    };
    Ok(IcapHead {
        method,
        service,
        headers: headers
            .iter()
            .map(|h| (h.name.to_ascii_lowercase(), h.value.to_vec()))
            .collect(),
    })
}

/// Extracts the service name from `icap://host[:port]/service[?query]` or `/service`.
fn service_of(uri: &str) -> Result<String, RequestError> {
    let path = if let Some(rest) = uri.strip_prefix("icap://") {
        rest.find('/').and_then(|slash| rest.get(slash..)).unwrap_or("/")
    } else if uri.starts_with('/') {
        uri
    } else {
        return Err(RequestError::Bad(
            "expected an icap:// URI or an absolute path in the request line".into(),
        ));
    };
    let path = path.split('?').next().unwrap_or_default();
    Ok(path.trim_start_matches('/').to_string())
}

/// A parsed encapsulated HTTP request head.
pub(crate) struct HttpRequestHead {
    pub method: String,
    pub target: String,
    pub headers: Vec<(String, String)>,
}

/// Parses an encapsulated HTTP request head that must fill `section` exactly.
pub(crate) fn parse_http_request(section: &[u8]) -> Result<HttpRequestHead, RequestError> {
    let mut storage = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut request = httparse::Request::new(&mut storage);
    match request.parse(section) {
        Ok(httparse::Status::Complete(used)) if used == section.len() => {}
        Ok(_) => {
            return Err(RequestError::Bad(
                "expected the req-hdr section to hold exactly one complete HTTP request head; check the Encapsulated offsets"
                    .into(),
            ))
        }
        Err(e) => {
            return Err(RequestError::Bad(format!(
                "expected a valid encapsulated HTTP request head, found a malformed one ({e})"
            )))
        }
    }
    Ok(HttpRequestHead {
        method: request.method.unwrap_or_default().to_string(),
        target: request.path.unwrap_or_default().to_string(),
        headers: request
            .headers
            .iter()
            .map(|h| (h.name.to_string(), String::from_utf8_lossy(h.value).into_owned()))
            .collect(),
    })
}

/// Checks that an encapsulated HTTP response head fills `section` exactly.
pub(crate) fn check_http_response(section: &[u8]) -> Result<(), RequestError> {
    let mut storage = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut response = httparse::Response::new(&mut storage);
    match response.parse(section) {
        Ok(httparse::Status::Complete(used)) if used == section.len() => Ok(()),
        Ok(_) => Err(RequestError::Bad(
            "expected the res-hdr section to hold exactly one complete HTTP response head; check the Encapsulated offsets"
                .into(),
        )),
        Err(e) => Err(RequestError::Bad(format!(
            "expected a valid encapsulated HTTP response head, found a malformed one ({e})"
        ))),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn enc(value: &str) -> Result<Encapsulated, String> {
        Encapsulated::parse(value.as_bytes(), 1000).map_err(|e| e.to_string())
    }

    #[test]
    fn encapsulated_offsets() {
        let parsed = enc("req-hdr=0, req-body=412").unwrap();
        assert_eq!(parsed.req_hdr, Some((0, 412)));
        assert_eq!(parsed.body, BodyKind::Request);
        let parsed = enc("req-hdr=0, res-hdr=100, res-body=250").unwrap();
        assert_eq!(parsed.res_hdr, Some((100, 250)));
        assert_eq!(parsed.body_offset, 250);
        assert_eq!(enc("null-body=0").unwrap().body, BodyKind::Null);
        for bad in [
            "",
            "req-body=5",
            "req-hdr=3, req-body=10",
            "req-hdr=0, req-body=0",
            "req-body=0, req-hdr=0",
            "res-hdr=0, req-hdr=10, null-body=20",
            "req-hdr=0, req-hdr=5, null-body=9",
            "req-hdr=0, req-body=x",
            "req-hdr=0, req-body=-1",
            "req-hdr=0, req-body=1001",
            "req-hdr=0, foo-body=10",
            "req-hdr=0; req-body=10",
        ] {
            assert!(enc(bad).is_err(), "accepted {bad:?}");
        }
    }

    #[test]
    fn chunk_lines() {
        assert_eq!(parse_chunk_line(b"1a\r\n").unwrap(), (26, false));
        assert_eq!(parse_chunk_line(b"0; ieof\r\n").unwrap(), (0, true));
        assert_eq!(parse_chunk_line(b"10;name=x\r\n").unwrap(), (16, false));
        for bad in [
            &b"\r\n"[..],
            b"zz\r\n",
            b"1a\n",
            b"-1\r\n",
            b" 1\r\n",
            b"5; ieof\r\n",
            b"0;\r\n",
            b"fffffffffffffffff\r\n",
        ] {
            assert!(parse_chunk_line(bad).is_err(), "accepted {bad:?}");
        }
    }

    #[test]
    fn service_names() {
        assert_eq!(service_of("icap://127.0.0.1:1344/reqmod").unwrap(), "reqmod");
        assert_eq!(service_of("icap://host/reqmod?x=1").unwrap(), "reqmod");
        assert_eq!(service_of("icap://host").unwrap(), "");
        assert_eq!(service_of("/respmod").unwrap(), "respmod");
        assert!(service_of("http://host/reqmod").is_err());
    }
}
