//! Accept loop, per-connection request loop and ICAP responses.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio::time::timeout;

use crate::budget::{units, Budget, Reservation};
use crate::error::{ConfigError, RequestError, ServeError};
use crate::inspect::{
    credentials_part, request_head_part, sanitize_headers, split_body, whole_body, InspectionOutcome, Inspector,
    ProxyUser, Unreadable, Upload,
};
use crate::wire::{
    check_http_response, parse_http_request, BodyKind, BodySink, Encapsulated, IcapHead, Method, WireReader,
};

/// A body may be read (and thrown away) up to this many times `max_body_bytes` so that an
/// oversized upload still gets its block page on a connection that stays in sync.
const DISCARD_FACTOR: u64 = 4;
/// Pause after a failed `accept` (e.g. out of file descriptors) before trying again.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);
/// Longest wait (capped by the idle timeout) for unread input after the last response, so
/// closing does not reset the connection before the peer reads the response.
const DRAIN_TIME: Duration = Duration::from_secs(1);
/// Most unread input thrown away while closing.
const DRAIN_LIMIT: usize = 1 << 20;
/// Read buffer per connection.
const READ_BUFFER_BYTES: usize = 64 * 1024;
/// Output a content coding may always expand to, whatever the ratio (as `dlp` bounds it).
const DECODE_RATIO_FLOOR_BYTES: u64 = 1 << 20;

/// Settings of the ICAP server. [`ServerConfig::default`] suits a Squid on the same host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerConfig {
    /// ISTag sent (quoted) on every response; change it when the inspection rules change so
    /// caches drop adapted content. 1 to 30 of `[A-Za-z0-9._-]`.
    pub istag: String,
    /// Service name (URI path) offering REQMOD, e.g. `reqmod` for `icap://host:1344/reqmod`.
    pub reqmod_service: String,
    /// Service name offering RESPMOD (responses pass through unchanged).
    pub respmod_service: String,
    /// Preview size advertised in OPTIONS.
    pub preview_bytes: usize,
    /// Limit on the ICAP head and, separately, on the encapsulated HTTP header sections.
    pub max_header_bytes: usize,
    /// Largest body inspected; a larger upload is blocked (fail closed).
    pub max_body_bytes: usize,
    /// Bounds on undoing a body's `Content-Encoding`; a body that would expand past
    /// them is blocked.
    pub decoding_limits: dlp::Limits,
    /// A connection with no incoming data for this long is closed (408 mid-request);
    /// this alone bounds the wait for the next request on a kept-alive connection.
    pub idle_timeout: Duration,
    /// A request whose head and body (from its first byte to its last chunk) take longer
    /// than this to arrive gets 408 and the connection closes, however steadily the bytes
    /// trickle in. Squid sends an upload's body as the user's browser sends it, so this
    /// also bounds how slow a link may upload `max_body_bytes`. At least `idle_timeout`.
    pub request_timeout: Duration,
    /// Connections served at once (advertised as Max-Connections); more get 503.
    pub max_connections: usize,
    /// Bytes that all requests together may buffer: each request reserves its kept body
    /// as it arrives, and before undoing its `Content-Encoding` the most that may expand
    /// to, and gives them back when it is answered. At least `max_body_bytes` plus
    /// `decoding_limits.max_expanded_bytes`, so that one request alone always fits.
    pub max_buffered_bytes: usize,
    /// How long a request waits for others to give back buffer budget before it gets
    /// `503` and its connection closes (fail closed: the upload is stopped, not passed).
    /// Zero refuses at once when the budget is spent.
    pub buffer_wait: Duration,
    /// How long clients may cache the OPTIONS answer (Options-TTL, whole seconds).
    pub options_ttl: Duration,
    /// The ICAP header that names the user the proxy authenticated (Squid:
    /// `icap_client_username_header`, whose default this is).
    pub username_header: String,
    /// Whether the proxy sends that name in base64 (Squid:
    /// `icap_client_username_encode on`).
    pub username_base64: bool,
    /// The networks whose clients may connect: the proxy's. The service believes the
    /// user name a client sends, so anyone else could have uploads recorded, and
    /// risk raised, as someone else. Others are disconnected unanswered. Default:
    /// loopback only.
    pub allowed_clients: Vec<ipnet::IpNet>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            istag: "custodia-1".to_string(),
            reqmod_service: "reqmod".to_string(),
            respmod_service: "respmod".to_string(),
            preview_bytes: 4096,
            max_header_bytes: 64 * 1024,
            max_body_bytes: 32 * 1024 * 1024,
            decoding_limits: dlp::Limits::default(),
            idle_timeout: Duration::from_secs(30),
            // 32 MiB (max_body_bytes) at about 1 Mbit/s: a slow uplink still uploads.
            request_timeout: Duration::from_secs(300),
            max_connections: 256,
            // 16 bodies of max_body_bytes, or one of them with a 256 MiB expansion and
            // more besides: far under the 8 GiB that 256 full connections could hold.
            max_buffered_bytes: 512 * 1024 * 1024,
            // Inspecting a full body takes about a second; ten lets a burst drain.
            buffer_wait: Duration::from_secs(10),
            options_ttl: Duration::from_secs(3600),
            username_header: "X-Client-Username".to_string(),
            username_base64: false,
            allowed_clients: loopback(),
        }
    }
}

/// 127.0.0.0/8 and ::1.
fn loopback() -> Vec<ipnet::IpNet> {
    let v4 = ipnet::Ipv4Net::new(std::net::Ipv4Addr::LOCALHOST, 8).map(|net| ipnet::IpNet::V4(net.trunc()));
    let v6 = ipnet::Ipv6Net::new(std::net::Ipv6Addr::LOCALHOST, 128).map(ipnet::IpNet::V6);
    [v4.ok(), v6.ok()].into_iter().flatten().collect()
}

impl ServerConfig {
    /// Whether a client at `ip` may connect ([`ServerConfig::allowed_clients`]); an
    /// IPv4 client seen through an IPv6 socket counts by its IPv4 address.
    pub fn allows(&self, ip: std::net::IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.allowed_clients.iter().any(|net| net.contains(&ip))
    }

    /// Checks the config; [`serve`] and [`serve_connection`] call this first.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let istag_ok = (1..=30).contains(&self.istag.len())
            && self
                .istag
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._".contains(&b));
        if !istag_ok {
            return Err(ConfigError::BadIstag {
                found: self.istag.clone(),
            });
        }
        for name in [&self.reqmod_service, &self.respmod_service] {
            let ok =
                (1..=64).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_".contains(&b));
            if !ok {
                return Err(ConfigError::BadServiceName { found: name.clone() });
            }
        }
        let header_ok = (1..=64).contains(&self.username_header.len())
            && self
                .username_header
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-');
        if !header_ok {
            return Err(ConfigError::BadHeaderName {
                found: self.username_header.clone(),
            });
        }
        if self.reqmod_service == self.respmod_service {
            return Err(ConfigError::BadLimit {
                what: "different reqmod and respmod service names",
            });
        }
        let one_request = units(self.max_body_bytes).saturating_add(units(
            usize::try_from(self.decoding_limits.max_expanded_bytes).unwrap_or(usize::MAX),
        ));
        let checks: [(bool, &'static str); 8] = [
            (self.max_header_bytes >= 256, "max_header_bytes of at least 256"),
            (self.max_body_bytes >= 1, "max_body_bytes of at least 1"),
            (
                self.preview_bytes <= self.max_body_bytes,
                "preview_bytes no larger than max_body_bytes",
            ),
            (!self.idle_timeout.is_zero(), "a non-zero idle_timeout"),
            (
                self.request_timeout >= self.idle_timeout,
                "a request_timeout at least as long as idle_timeout",
            ),
            (self.max_connections >= 1, "max_connections of at least 1"),
            (
                !self.allowed_clients.is_empty(),
                "at least one network in allowed_clients",
            ),
            (
                one_request <= self.max_buffered_bytes / crate::budget::UNIT_BYTES,
                "max_buffered_bytes of at least max_body_bytes plus decoding_limits.max_expanded_bytes",
            ),
        ];
        match checks.iter().find(|(ok, _)| !ok) {
            Some((_, what)) => Err(ConfigError::BadLimit { what }),
            None => Ok(()),
        }
    }
}

/// Serves ICAP on `listener` until the task is dropped; see [`serve_until`].
pub async fn serve(
    listener: TcpListener,
    inspector: Arc<dyn Inspector>,
    config: ServerConfig,
) -> Result<(), ServeError> {
    serve_until(listener, inspector, config, std::future::pending()).await
}

/// Serves ICAP on `listener` until `shutdown` completes, then drops open connections.
///
/// Each connection runs in its own task; at most `max_connections` are served at once
/// and the others get `503`. Failed accepts are retried after a short pause.
pub async fn serve_until(
    listener: TcpListener,
    inspector: Arc<dyn Inspector>,
    config: ServerConfig,
    shutdown: impl Future<Output = ()>,
) -> Result<(), ServeError> {
    config.validate()?;
    let config = Arc::new(config);
    let slots = Arc::new(Semaphore::new(config.max_connections));
    let budget = Budget::new(config.max_buffered_bytes, config.buffer_wait);
    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => return Ok(()),
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            accepted = listener.accept() => match accepted {
                // Disconnected unanswered: an answer would tell a scanner what listens.
                Ok((_, peer)) if !config.allows(peer.ip()) => {}
                Ok((stream, _peer)) => {
                    // Nagle would delay small responses like 100 Continue and 204.
                    let _ = stream.set_nodelay(true);
                    let config = Arc::clone(&config);
                    match Arc::clone(&slots).try_acquire_owned() {
                        Ok(slot) => {
                            let inspector = Arc::clone(&inspector);
                            let budget = budget.clone();
                            connections.spawn(async move {
                                run_connection(stream, &inspector, &config, &budget).await;
                                drop(slot);
                            });
                        }
                        Err(_) => {
                            connections.spawn(async move { reject_overloaded(stream, &config).await });
                        }
                    }
                }
                Err(_) => tokio::time::sleep(ACCEPT_BACKOFF).await,
            },
        }
    }
}

/// Serves ICAP requests on one already-accepted stream until it closes.
///
/// Useful for transports other than plain TCP (e.g. TLS) and for in-memory tests.
/// Each call has a `max_buffered_bytes` budget of its own and counts toward no
/// `max_connections`: a caller serving many streams this way must bound them itself.
pub async fn serve_connection<S>(
    stream: S,
    inspector: Arc<dyn Inspector>,
    config: &ServerConfig,
) -> Result<(), ConfigError>
where
    S: AsyncRead + AsyncWrite + Unpin + Send,
{
    config.validate()?;
    let budget = Budget::new(config.max_buffered_bytes, config.buffer_wait);
    run_connection(stream, &inspector, config, &budget).await;
    Ok(())
}

/// What to do with the connection after a response.
enum After {
    KeepOpen,
    Close,
    /// The peer closed or idled between requests: nothing left to answer.
    Gone,
}

async fn run_connection<S>(stream: S, inspector: &Arc<dyn Inspector>, config: &ServerConfig, budget: &Budget)
where
    S: AsyncRead + AsyncWrite + Unpin + Send,
{
    let mut conn = BufReader::with_capacity(READ_BUFFER_BYTES, stream);
    loop {
        match handle_request(&mut conn, inspector, config, budget).await {
            Ok(After::KeepOpen) => {}
            Ok(After::Gone) => return,
            Ok(After::Close) => return close_gracefully(&mut conn, config).await,
            Err(error) => {
                if let Some((code, reason)) = error.status() {
                    let response = error_response(config, code, reason, &error.to_string());
                    if send(&mut conn, &response, config).await.is_ok() {
                        close_gracefully(&mut conn, config).await;
                    }
                }
                return;
            }
        }
    }
}

async fn reject_overloaded(mut stream: tokio::net::TcpStream, config: &ServerConfig) {
    let response = error_response(config, 503, "Service overloaded", "too many connections; retry later");
    let _ = timeout(DRAIN_TIME, stream.write_all(&response)).await;
    let _ = timeout(DRAIN_TIME, stream.shutdown()).await;
}

/// Reads and answers one request.
async fn handle_request<S>(
    conn: &mut BufReader<S>,
    inspector: &Arc<dyn Inspector>,
    config: &ServerConfig,
    budget: &Budget,
) -> Result<After, RequestError>
where
    S: AsyncRead + AsyncWrite + Unpin + Send,
{
    // Held until the response is sent (an echo copies the body), given back on any exit.
    let mut reservation = budget.reservation();
    let mut reader = WireReader::new(conn, config.idle_timeout, config.request_timeout);
    let Some(head) = reader.read_head(config.max_header_bytes).await? else {
        return Ok(After::Gone);
    };
    let service = if head.service == config.reqmod_service {
        Method::Reqmod
    } else if head.service == config.respmod_service {
        Method::Respmod
    } else {
        return Err(RequestError::ServiceNotFound);
    };
    let close_requested = head.lists("connection", "close");
    let (response, must_close) = match head.method {
        Method::Options => {
            if let Some(value) = head.single("encapsulated")? {
                let encapsulated = Encapsulated::parse(value, config.max_header_bytes)?;
                if encapsulated.body != BodyKind::Null {
                    return Err(RequestError::Bad(
                        "expected OPTIONS without a body (Encapsulated: null-body=0)".into(),
                    ));
                }
            }
            (options_response(config, service), false)
        }
        method if method != service => return Err(RequestError::MethodNotAllowed),
        method => modify(&mut reader, &head, method, inspector, config, &mut reservation).await?,
    };
    if must_close || close_requested {
        send(conn, &with_connection_close(response), config).await?;
        Ok(After::Close)
    } else {
        send(conn, &response, config).await?;
        Ok(After::KeepOpen)
    }
}

/// Adds `Connection: close` after the status line of one of our own responses.
fn with_connection_close(response: Vec<u8>) -> Vec<u8> {
    let icap_head_end = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or(response.len(), |end| end + 4);
    let marked = response
        .get(..icap_head_end)
        .unwrap_or_default()
        .windows(21)
        .any(|w| w == b"\r\nConnection: close\r\n");
    if marked {
        return response;
    }
    let Some(line_end) = response.windows(2).position(|w| w == b"\r\n") else {
        return response;
    };
    let (status_line, rest) = response.split_at(line_end + 2);
    [status_line, b"Connection: close\r\n", rest].concat()
}

/// Handles REQMOD/RESPMOD: returns the response and whether the connection must close.
async fn modify<S>(
    reader: &mut WireReader<'_, BufReader<S>>,
    head: &IcapHead,
    method: Method,
    inspector: &Arc<dyn Inspector>,
    config: &ServerConfig,
    reservation: &mut Reservation,
) -> Result<(Vec<u8>, bool), RequestError>
where
    S: AsyncRead + AsyncWrite + Unpin + Send,
{
    let value = head
        .single("encapsulated")?
        .ok_or_else(|| RequestError::Bad("expected an Encapsulated header on REQMOD and RESPMOD".into()))?;
    let encapsulated = Encapsulated::parse(value, config.max_header_bytes)?;
    let shape_ok = match method {
        Method::Reqmod => {
            encapsulated.req_hdr.is_some()
                && encapsulated.res_hdr.is_none()
                && matches!(encapsulated.body, BodyKind::Request | BodyKind::Null)
        }
        _ => encapsulated.res_hdr.is_some() && matches!(encapsulated.body, BodyKind::Response | BodyKind::Null),
    };
    if !shape_ok {
        return Err(RequestError::Bad(
            "expected REQMOD with req-hdr and req-body/null-body, or RESPMOD with res-hdr and res-body/null-body"
                .into(),
        ));
    }
    let sections = reader.read_exact(encapsulated.body_offset).await?;
    let section = |range: Option<(usize, usize)>| range.and_then(|(a, b)| sections.get(a..b));
    let http_request = section(encapsulated.req_hdr).map(parse_http_request).transpose()?;
    if let Some(response_head) = section(encapsulated.res_hdr) {
        check_http_response(response_head)?;
    }
    let preview = head.single("preview")?.map(parse_preview).transpose()?;
    // A name sent twice is unreadable rather than a bad request, so the upload is
    // still inspected and recorded, as an unknown sender's.
    let sender = match head.single(&config.username_header.to_ascii_lowercase()) {
        Ok(value) => ProxyUser::from_header(value, config.username_base64),
        Err(_) => ProxyUser::Unreadable,
    };
    let client_ip = head
        .single("x-client-ip")
        .ok()
        .flatten()
        .and_then(|value| std::str::from_utf8(value).ok())
        .and_then(|value| value.trim().parse().ok());
    let allow_204 = head.lists("allow", "204");

    let mut sink = BodySink::default();
    let discard_limit = (config.max_body_bytes as u64).saturating_mul(DISCARD_FACTOR);
    let mut read_to_end = true;
    if encapsulated.body != BodyKind::Null {
        let outcome = async {
            // Without a preview the whole body follows at once.
            let mut complete = false;
            if let Some(preview_len) = preview {
                let end = reader
                    .read_chunked(&mut sink, reservation, config.max_body_bytes, discard_limit)
                    .await?;
                if sink.total > preview_len as u64 {
                    return Err(RequestError::Bad(
                        "expected at most Preview bytes before the preview's last chunk".into(),
                    ));
                }
                complete = end.ieof;
                if !complete && method == Method::Respmod {
                    // Responses are not inspected: let the client send the original.
                    return Ok(false);
                }
                if !complete {
                    send(reader.inner, &continue_response(config), config).await?;
                }
            }
            if !complete {
                reader
                    .read_chunked(&mut sink, reservation, config.max_body_bytes, discard_limit)
                    .await?;
            }
            Ok(true)
        }
        .await;
        match outcome {
            Ok(true) => {}
            Ok(false) => return Ok((no_content_response(config), false)),
            Err(RequestError::BodyTooLarge) => read_to_end = false,
            Err(e) => return Err(e),
        }
    }
    let too_large = !read_to_end || sink.overflowed(config.max_body_bytes);

    if method == Method::Respmod {
        return Ok(if allow_204 || preview.is_some() {
            (no_content_response(config), !read_to_end)
        } else if too_large {
            let response = error_response(
                config,
                500,
                "Server error",
                "the response body is over max_body_bytes and cannot be echoed; send Allow: 204",
            );
            (response, true)
        } else {
            (
                echo_response(config, &encapsulated, &sections, Bytes::from(sink.kept)),
                false,
            )
        });
    }

    let body = Bytes::from(std::mem::take(&mut sink.kept));
    let outcome = match http_request {
        Some(request) => {
            // What was kept of an oversized body is not what leaves, so it is not read.
            let read = if too_large {
                Err(Unreadable::TooLarge {
                    limit: config.max_body_bytes,
                })
            } else {
                Ok(body.clone())
            };
            inspect(request, read, (sender, client_ip), inspector, config, reservation).await?
        }
        None => InspectionOutcome::Block {
            reason: "the upload has no request head, so it cannot be inspected".into(),
        },
    };
    Ok(match outcome {
        InspectionOutcome::Block { reason } => (block_response(config, &reason), !read_to_end),
        InspectionOutcome::Allow if allow_204 => (no_content_response(config), false),
        InspectionOutcome::Allow => (echo_response(config, &encapsulated, &sections, body), false),
    })
}

/// Builds the [`Upload`] and runs the inspector off the async threads; fails closed.
///
/// Every request reaches the inspector, a body that cannot be read too (so that its
/// verdict is recorded), but the server blocks that one whatever the answer. Fails
/// only when the buffer budget has no room to undo the body's content codings.
async fn inspect(
    request: crate::wire::HttpRequestHead,
    body: Result<Bytes, Unreadable>,
    (user, client_ip): (ProxyUser, Option<std::net::IpAddr>),
    inspector: &Arc<dyn Inspector>,
    config: &ServerConfig,
    reservation: &mut Reservation,
) -> Result<InspectionOutcome, RequestError> {
    let header = |wanted: &str| {
        request
            .headers
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(wanted))
            .map(|(_, value)| value.clone())
    };
    let content_type = header("content-type");
    let (mut parts, unreadable) = match body {
        Err(unreadable) => (Vec::new(), Some(unreadable)),
        Ok(body) => match decode(body, header("content-encoding"), config, reservation).await? {
            Err((raw, unreadable)) => (vec![whole_body(content_type.as_deref(), raw)], Some(unreadable)),
            Ok(body) => match split_body(content_type.as_deref(), body.clone()).await {
                Ok(parts) => (parts, None),
                Err(unreadable) => (vec![whole_body(content_type.as_deref(), body)], Some(unreadable)),
            },
        },
    };
    parts.push(request_head_part(&request.target, &request.headers, &parts));
    parts.extend(credentials_part(&request.headers));
    let upload = Upload {
        method: request.method,
        url: request.target,
        headers: sanitize_headers(request.headers),
        parts,
        unreadable,
        user,
        client_ip,
    };
    let inspector = Arc::clone(inspector);
    let (outcome, unreadable) = tokio::task::spawn_blocking(move || (inspector.inspect(&upload), upload.unreadable))
        .await
        .unwrap_or_else(|_| {
            let reason = "the upload could not be inspected, so it was stopped".to_string();
            (InspectionOutcome::Block { reason }, None)
        });
    Ok(match (outcome, unreadable) {
        (InspectionOutcome::Allow, Some(unreadable)) => InspectionOutcome::Block {
            reason: unreadable.to_string(),
        },
        (outcome, _) => outcome,
    })
}

/// The body with the codings its `Content-Encoding` names undone (on a blocking
/// thread: it may expand to the limits' bounds), or the body as sent and why not.
///
/// The most the decoder may produce is reserved first and what it did produce is held
/// until the request ends; [`RequestError::OverBudget`] when there is no room for it.
async fn decode(
    body: Bytes,
    content_encoding: Option<String>,
    config: &ServerConfig,
    reservation: &mut Reservation,
) -> Result<Result<Bytes, (Bytes, Unreadable)>, RequestError> {
    let Some(content_encoding) = content_encoding.filter(|_| !body.is_empty()) else {
        return Ok(Ok(body));
    };
    let limits = config.decoding_limits;
    // One coding expands to at most max_ratio times the body once past 1 MiB; stacked
    // codings ratio per layer, so only the total bound holds for them.
    let bound = if content_encoding.contains(',') {
        limits.max_expanded_bytes
    } else {
        (body.len() as u64)
            .saturating_mul(limits.max_ratio)
            .max(DECODE_RATIO_FLOOR_BYTES)
            .min(limits.max_expanded_bytes)
    };
    let held = reservation.bytes();
    reservation
        .cover(held.saturating_add(usize::try_from(bound).unwrap_or(usize::MAX)))
        .await?;
    let raw = body.clone();
    let decoded = tokio::task::spawn_blocking(move || dlp::decode_content_encoding(&body, &content_encoding, &limits))
        .await
        .unwrap_or_else(|_| {
            Err(dlp::UninspectableReason::Malformed {
                format: "content coding".into(),
                detail: "the decoder failed".into(),
            })
        });
    reservation.shrink_to(held.saturating_add(decoded.as_ref().map_or(0, Vec::len)));
    Ok(decoded
        .map(Bytes::from)
        .map_err(|reason| (raw, Unreadable::ContentEncoding(reason))))
}

fn parse_preview(value: &[u8]) -> Result<usize, RequestError> {
    let text = value.trim_ascii();
    if text.is_empty() || text.len() > 9 || !text.iter().all(u8::is_ascii_digit) {
        return Err(RequestError::Bad(
            "expected Preview to be a decimal byte count of at most 9 digits".into(),
        ));
    }
    Ok(text.iter().fold(0usize, |acc, b| acc * 10 + usize::from(b - b'0')))
}

/// Writes a whole response, bounded by the idle timeout.
async fn send<S>(conn: &mut BufReader<S>, bytes: &[u8], config: &ServerConfig) -> Result<(), RequestError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let write = async {
        conn.write_all(bytes).await?;
        conn.flush().await
    };
    match timeout(config.idle_timeout, write).await {
        Ok(result) => result.map_err(RequestError::Io),
        Err(_) => Err(RequestError::Stalled(config.idle_timeout)),
    }
}

/// Half-closes, then reads a little unread input so the kernel does not reset the
/// connection and destroy the response before the peer reads it.
async fn close_gracefully<S>(conn: &mut BufReader<S>, config: &ServerConfig)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let drain_time = DRAIN_TIME.min(config.idle_timeout);
    let _ = timeout(drain_time, conn.shutdown()).await;
    let drain = async {
        let mut drained = 0usize;
        while drained < DRAIN_LIMIT {
            let Ok(available) = conn.fill_buf().await else {
                return;
            };
            if available.is_empty() {
                return;
            }
            let len = available.len();
            conn.consume(len);
            drained += len;
        }
    };
    let _ = timeout(drain_time, drain).await;
}

fn status_line(config: &ServerConfig, code: u16, reason: &str) -> String {
    format!("ICAP/1.0 {code} {reason}\r\nISTag: \"{}\"\r\n", config.istag)
}

fn options_response(config: &ServerConfig, service: Method) -> Vec<u8> {
    let methods = if service == Method::Reqmod { "REQMOD" } else { "RESPMOD" };
    format!(
        "{}Methods: {methods}\r\nService: custodia icap\r\nMax-Connections: {}\r\nOptions-TTL: {}\r\nAllow: 204\r\nPreview: {}\r\nTransfer-Preview: *\r\nEncapsulated: null-body=0\r\n\r\n",
        status_line(config, 200, "OK"),
        config.max_connections,
        config.options_ttl.as_secs(),
        config.preview_bytes,
    )
    .into_bytes()
}

fn continue_response(config: &ServerConfig) -> Vec<u8> {
    format!("{}\r\n", status_line(config, 100, "Continue")).into_bytes()
}

fn no_content_response(config: &ServerConfig) -> Vec<u8> {
    format!(
        "{}Encapsulated: null-body=0\r\n\r\n",
        status_line(config, 204, "No Content")
    )
    .into_bytes()
}

/// Error answer; `detail` is one of this crate's own messages, never input bytes.
fn error_response(config: &ServerConfig, code: u16, reason: &str, detail: &str) -> Vec<u8> {
    let detail: String = detail
        .chars()
        .map(|c| if c.is_ascii_graphic() { c } else { ' ' })
        .collect();
    format!(
        "{}X-Icap-Error: {detail}\r\nEncapsulated: null-body=0\r\nConnection: close\r\n\r\n",
        status_line(config, code, reason)
    )
    .into_bytes()
}

fn chunked(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + 32);
    if !body.is_empty() {
        out.extend_from_slice(format!("{:x}\r\n", body.len()).as_bytes());
        out.extend_from_slice(body);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"0\r\n\r\n");
    out
}

/// Sends the original message back unchanged (for clients without `Allow: 204`).
fn echo_response(config: &ServerConfig, encapsulated: &Encapsulated, sections: &[u8], body: Bytes) -> Vec<u8> {
    let mut entries = Vec::new();
    if let Some((start, _)) = encapsulated.req_hdr {
        entries.push(format!("req-hdr={start}"));
    }
    if let Some((start, _)) = encapsulated.res_hdr {
        entries.push(format!("res-hdr={start}"));
    }
    let body_name = match encapsulated.body {
        BodyKind::Request => "req-body",
        BodyKind::Response => "res-body",
        BodyKind::Options => "opt-body",
        BodyKind::Null => "null-body",
    };
    entries.push(format!("{body_name}={}", encapsulated.body_offset));
    let mut out = format!(
        "{}Encapsulated: {}\r\n\r\n",
        status_line(config, 200, "OK"),
        entries.join(", ")
    )
    .into_bytes();
    out.extend_from_slice(sections);
    if encapsulated.body != BodyKind::Null {
        out.extend_from_slice(&chunked(&body));
    }
    out
}

/// ICAP 200 carrying an HTTP 403 with a small HTML page that says why.
fn block_response(config: &ServerConfig, reason: &str) -> Vec<u8> {
    let page = block_page(reason);
    let http_head = format!(
        "HTTP/1.1 403 Forbidden\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nCache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n\r\n",
        page.len()
    );
    let mut out = format!(
        "{}Encapsulated: res-hdr=0, res-body={}\r\n\r\n",
        status_line(config, 200, "OK"),
        http_head.len()
    )
    .into_bytes();
    out.extend_from_slice(http_head.as_bytes());
    out.extend_from_slice(&chunked(page.as_bytes()));
    out
}

fn block_page(reason: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Upload blocked</title></head>\n<body><h1>Upload blocked</h1>\n<p>This upload was stopped because it may contain protected company or customer data.</p>\n<p>Reason: {}</p>\n<p>If you think this is a mistake, contact your security team.</p></body></html>\n",
        html_escape(reason)
    )
}

fn html_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn block_page_escapes_reason() {
        let page = block_page("<script>alert('x')</script> & \"more\"");
        assert!(!page.contains("<script>"));
        assert!(page.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;more&quot;"));
    }

    #[test]
    fn connection_close_added_once_to_the_icap_head() {
        let config = ServerConfig::default();
        let marked = with_connection_close(no_content_response(&config));
        assert!(String::from_utf8_lossy(&marked).starts_with("ICAP/1.0 204 No Content\r\nConnection: close\r\n"));
        let error = error_response(&config, 500, "Server error", "x");
        assert_eq!(with_connection_close(error.clone()), error);
        // A header inside the encapsulated HTTP message does not count.
        let encapsulated = Encapsulated::parse(b"res-hdr=0, null-body=38", 1000).unwrap();
        let echo = echo_response(
            &config,
            &encapsulated,
            b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n",
            Bytes::new(),
        );
        let marked = String::from_utf8_lossy(&with_connection_close(echo)).into_owned();
        assert_eq!(marked.matches("Connection: close").count(), 2, "{marked}");
    }

    #[test]
    fn config_validation() {
        assert!(ServerConfig::default().validate().is_ok());
        let bad = [
            ServerConfig {
                istag: "has space".into(),
                ..ServerConfig::default()
            },
            ServerConfig {
                istag: "x".repeat(31),
                ..ServerConfig::default()
            },
            ServerConfig {
                reqmod_service: "a/b".into(),
                ..ServerConfig::default()
            },
            ServerConfig {
                respmod_service: "reqmod".into(),
                ..ServerConfig::default()
            },
            ServerConfig {
                preview_bytes: 10,
                max_body_bytes: 5,
                ..ServerConfig::default()
            },
            ServerConfig {
                idle_timeout: Duration::ZERO,
                ..ServerConfig::default()
            },
            ServerConfig {
                idle_timeout: Duration::ZERO,
                request_timeout: Duration::ZERO,
                ..ServerConfig::default()
            },
            ServerConfig {
                idle_timeout: Duration::from_secs(30),
                request_timeout: Duration::from_secs(29),
                ..ServerConfig::default()
            },
        ];
        for config in bad {
            assert!(config.validate().is_err(), "accepted {config:?}");
        }
    }
}
