//! Forwarding alerts to a SIEM: syslog (RFC 5424 over UDP, or over TCP with RFC 6587
//! octet counting) and JSON lines POSTed to an HTTP webhook.
//!
//! A [`Forwarder`] owns a background thread fed by a bounded queue: [`Forwarder::submit`]
//! never waits (a full queue drops the alert and counts it), so scoring is never held up
//! by a slow or absent SIEM. Failed sends are retried with exponential backoff; the waits
//! go through an injected [`Sleeper`], so tests never sleep. [`ForwardLog`] remembers what
//! was sent, so a person's open alert is forwarded once (and again only if it escalates).
//!
//! Only `http://` webhooks are spoken (no TLS in this crate): point the webhook at a
//! collector on the loopback or a trusted network, or at a TLS-terminating relay.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs, UdpSocket};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use model::SharedClock;
use serde::{Deserialize, Serialize};

use crate::alert::{Alert, Severity};
use crate::error::RiskError;

/// How syslog messages travel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyslogTransport {
    /// One message per datagram (RFC 5426).
    Udp,
    /// A stream of octet-counted frames `LEN SP MESSAGE` (RFC 6587 §3.4.1).
    Tcp,
}

/// A syslog collector, from `udp://HOST:PORT` or `tcp://HOST:PORT`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyslogTarget {
    /// Transport.
    pub transport: SyslogTransport,
    /// Collector address.
    pub addr: SocketAddr,
}

fn resolve(authority: &str, default_port: u16, what: &str) -> Result<SocketAddr, RiskError> {
    let with_port = if authority
        .rsplit_once(':')
        .is_some_and(|(_, p)| p.parse::<u16>().is_ok())
    {
        authority.to_string()
    } else {
        format!("{authority}:{default_port}")
    };
    with_port
        .to_socket_addrs()
        .ok()
        .and_then(|mut addrs| addrs.next())
        .ok_or_else(|| {
            RiskError::Config(format!(
                "{what} address {authority:?} does not resolve; expected HOST:PORT"
            ))
        })
}

impl SyslogTarget {
    /// Parses `udp://HOST:PORT` or `tcp://HOST:PORT` (port 514 when omitted).
    pub fn parse(url: &str) -> Result<Self, RiskError> {
        let (transport, rest) = if let Some(rest) = url.strip_prefix("udp://") {
            (SyslogTransport::Udp, rest)
        } else if let Some(rest) = url.strip_prefix("tcp://") {
            (SyslogTransport::Tcp, rest)
        } else {
            return Err(RiskError::Config(format!(
                "syslog target {url:?} must start with udp:// or tcp://, e.g. udp://127.0.0.1:514"
            )));
        };
        let authority = rest.trim_end_matches('/');
        if authority.is_empty() || authority.contains('/') {
            return Err(RiskError::Config(format!(
                "syslog target {url:?} must be udp://HOST:PORT or tcp://HOST:PORT"
            )));
        }
        Ok(Self {
            transport,
            addr: resolve(authority, 514, "syslog")?,
        })
    }
}

/// An HTTP webhook, from `http://HOST[:PORT][/PATH]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookTarget {
    /// Resolved address.
    pub addr: SocketAddr,
    /// `Host` header value (as given).
    pub host: String,
    /// Request path, starting with `/`.
    pub path: String,
}

impl WebhookTarget {
    /// Parses `http://HOST[:PORT][/PATH]`; `https://` is refused with a clear error.
    pub fn parse(url: &str) -> Result<Self, RiskError> {
        if url.starts_with("https://") {
            return Err(RiskError::Config(format!(
                "webhook {url:?}: https is not spoken here; use an http:// collector on the loopback \
                 or a trusted network, or a TLS-terminating relay"
            )));
        }
        let Some(rest) = url.strip_prefix("http://") else {
            return Err(RiskError::Config(format!(
                "webhook {url:?} must start with http://, e.g. http://127.0.0.1:8088/alerts"
            )));
        };
        let (authority, path) = match rest.find('/') {
            Some(i) => (rest.get(..i).unwrap_or_default(), rest.get(i..).unwrap_or("/")),
            None => (rest, "/"),
        };
        if authority.is_empty() || path.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(RiskError::Config(format!(
                "webhook {url:?} must be http://HOST[:PORT][/PATH]"
            )));
        }
        Ok(Self {
            addr: resolve(authority, 80, "webhook")?,
            host: authority.to_string(),
            path: path.to_string(),
        })
    }
}

/// Waits between retries. Injected so tests record the waits instead of sleeping.
pub trait Sleeper: Send + Sync {
    /// Waits for `duration`.
    fn sleep(&self, duration: Duration);
}

/// The real wait: a condition variable's timed wait (nothing ever signals it).
#[derive(Debug, Default)]
pub struct WaitSleeper {
    lock: Mutex<()>,
    cv: Condvar,
}

impl Sleeper for WaitSleeper {
    fn sleep(&self, duration: Duration) {
        let deadline = Instant::now() + duration;
        let mut guard = self.lock.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        loop {
            let now = Instant::now();
            if now >= deadline {
                return;
            }
            guard = match self.cv.wait_timeout(guard, deadline - now) {
                Ok((g, _)) => g,
                Err(poisoned) => poisoned.into_inner().0,
            };
        }
    }
}

/// How failed sends are retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all (the first one included).
    pub attempts: u32,
    /// Wait before the second attempt; doubled each time.
    pub first_backoff: Duration,
    /// Longest wait.
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            attempts: 5,
            first_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// The wait after failed attempt `n` (0-based).
    pub fn backoff(&self, n: u32) -> Duration {
        self.first_backoff
            .saturating_mul(1u32 << n.min(20))
            .min(self.max_backoff)
    }
}

/// Where and how alerts are forwarded.
#[derive(Debug, Clone)]
pub struct ForwardConfig {
    /// Syslog collector, if any.
    pub syslog: Option<SyslogTarget>,
    /// Webhook, if any.
    pub webhook: Option<WebhookTarget>,
    /// HOSTNAME field of syslog messages.
    pub hostname: String,
    /// Retries.
    pub retry: RetryPolicy,
    /// Alerts that may wait in the queue; more are dropped (and counted).
    pub queue_capacity: usize,
    /// Connect, read and write time-out of one attempt.
    pub timeout: Duration,
}

impl ForwardConfig {
    /// Forwarding to these targets with default retries, queue and time-outs.
    pub fn new(syslog: Option<SyslogTarget>, webhook: Option<WebhookTarget>, hostname: &str) -> Self {
        Self {
            syslog,
            webhook,
            hostname: hostname.to_string(),
            retry: RetryPolicy::default(),
            queue_capacity: 10_000,
            timeout: Duration::from_secs(10),
        }
    }
}

/// What a forwarder did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ForwardStats {
    /// Syslog messages delivered (UDP: handed to the network).
    pub syslog_sent: u64,
    /// Alerts delivered to the webhook.
    pub webhook_sent: u64,
    /// Webhook requests that delivered them.
    pub webhook_batches: u64,
    /// Attempts repeated after a failure.
    pub retries: u64,
    /// Alerts a target never received (after all retries).
    pub failed: u64,
    /// Alerts dropped because the queue was full.
    pub dropped: u64,
    /// The last errors seen (at most 20).
    pub errors: Vec<String>,
}

impl ForwardStats {
    fn error(&mut self, e: String) {
        if self.errors.len() < 20 {
            self.errors.push(e);
        }
    }
}

/// Forwards alerts from a background thread.
pub struct Forwarder {
    tx: Option<SyncSender<Alert>>,
    worker: Option<JoinHandle<ForwardStats>>,
    dropped: Arc<AtomicU64>,
}

impl std::fmt::Debug for Forwarder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Forwarder")
            .field("dropped", &self.dropped.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

/// Alerts sent in one webhook request at most.
const WEBHOOK_BATCH: usize = 500;

impl Forwarder {
    /// Starts the forwarding thread. `clock` stamps syslog messages; `sleeper` waits
    /// between retries.
    pub fn start(config: ForwardConfig, clock: SharedClock, sleeper: Arc<dyn Sleeper>) -> Result<Self, RiskError> {
        if config.syslog.is_none() && config.webhook.is_none() {
            return Err(RiskError::Config(
                "nothing to forward to; give a syslog target, a webhook or both".into(),
            ));
        }
        let (tx, rx) = sync_channel(config.queue_capacity.max(1));
        let worker = std::thread::Builder::new()
            .name("risk-forward".into())
            .spawn(move || Worker::new(config, clock, sleeper).run(&rx))
            .map_err(|source| RiskError::Io {
                path: "the alert forwarding thread".into(),
                source,
            })?;
        Ok(Self {
            tx: Some(tx),
            worker: Some(worker),
            dropped: Arc::new(AtomicU64::new(0)),
        })
    }

    /// Queues an alert; never waits. Returns false (and counts a drop) if the queue is
    /// full or the forwarder has stopped.
    pub fn submit(&self, alert: Alert) -> bool {
        let sent = match &self.tx {
            Some(tx) => match tx.try_send(alert) {
                Ok(()) => true,
                Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => false,
            },
            None => false,
        };
        if !sent {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
        sent
    }

    /// Sends what is queued, stops the thread and reports.
    pub fn finish(mut self) -> ForwardStats {
        self.stop()
    }

    fn stop(&mut self) -> ForwardStats {
        drop(self.tx.take());
        let mut stats = match self.worker.take().map(JoinHandle::join) {
            Some(Ok(stats)) => stats,
            Some(Err(_)) => ForwardStats {
                errors: vec!["the forwarding thread stopped unexpectedly".into()],
                ..ForwardStats::default()
            },
            None => ForwardStats::default(),
        };
        stats.dropped += self.dropped.load(Ordering::Relaxed);
        stats
    }
}

impl Drop for Forwarder {
    fn drop(&mut self) {
        let _ = self.stop();
    }
}

/// Outcome of one failed attempt.
enum Failure {
    /// Worth another attempt (network error, 408, 429, 5xx).
    Transient(String),
    /// Not worth one (the collector refused the request).
    Permanent(String),
}

struct Worker {
    config: ForwardConfig,
    clock: SharedClock,
    sleeper: Arc<dyn Sleeper>,
    udp: Option<UdpSocket>,
    tcp: Option<TcpStream>,
    stats: ForwardStats,
}

impl Worker {
    fn new(config: ForwardConfig, clock: SharedClock, sleeper: Arc<dyn Sleeper>) -> Self {
        Self {
            config,
            clock,
            sleeper,
            udp: None,
            tcp: None,
            stats: ForwardStats::default(),
        }
    }

    fn run(mut self, rx: &Receiver<Alert>) -> ForwardStats {
        while let Ok(first) = rx.recv() {
            let mut batch = vec![first];
            while batch.len() < WEBHOOK_BATCH {
                match rx.try_recv() {
                    Ok(alert) => batch.push(alert),
                    Err(_) => break,
                }
            }
            if let Some(target) = self.config.syslog.clone() {
                for alert in &batch {
                    let message = alert.to_syslog(&self.config.hostname, self.clock.now_ms());
                    let result = self.with_retry(|w| w.send_syslog(&target, &message));
                    match result {
                        Ok(()) => self.stats.syslog_sent += 1,
                        Err(e) => {
                            self.stats.failed += 1;
                            self.stats.error(format!("syslog {}: {e}", target.addr));
                        }
                    }
                }
            }
            if let Some(target) = self.config.webhook.clone() {
                let mut body = String::new();
                for alert in &batch {
                    body.push_str(&alert.to_json_line());
                    body.push('\n');
                }
                match self.with_retry(|w| w.post(&target, body.as_bytes())) {
                    Ok(()) => {
                        self.stats.webhook_sent += batch.len() as u64;
                        self.stats.webhook_batches += 1;
                    }
                    Err(e) => {
                        self.stats.failed += batch.len() as u64;
                        self.stats
                            .error(format!("webhook http://{}{}: {e}", target.host, target.path));
                    }
                }
            }
        }
        self.stats
    }

    fn with_retry(&mut self, mut attempt: impl FnMut(&mut Self) -> Result<(), Failure>) -> Result<(), String> {
        let attempts = self.config.retry.attempts.max(1);
        let mut last = String::new();
        for n in 0..attempts {
            if n > 0 {
                self.stats.retries += 1;
                self.sleeper.sleep(self.config.retry.backoff(n - 1));
            }
            match attempt(self) {
                Ok(()) => return Ok(()),
                Err(Failure::Permanent(e)) => return Err(e),
                Err(Failure::Transient(e)) => last = e,
            }
        }
        Err(format!("{last} (gave up after {attempts} attempts)"))
    }

    fn send_syslog(&mut self, target: &SyslogTarget, message: &str) -> Result<(), Failure> {
        let transient = |e: std::io::Error| Failure::Transient(e.to_string());
        match target.transport {
            SyslogTransport::Udp => {
                if self.udp.is_none() {
                    let local = if target.addr.is_ipv4() { "0.0.0.0:0" } else { "[::]:0" };
                    self.udp = Some(UdpSocket::bind(local).map_err(transient)?);
                }
                let socket = self
                    .udp
                    .as_ref()
                    .ok_or_else(|| Failure::Transient("no socket".into()))?;
                socket.send_to(message.as_bytes(), target.addr).map_err(transient)?;
                Ok(())
            }
            SyslogTransport::Tcp => {
                if self.tcp.is_none() {
                    let stream = TcpStream::connect_timeout(&target.addr, self.config.timeout).map_err(transient)?;
                    stream.set_write_timeout(Some(self.config.timeout)).map_err(transient)?;
                    self.tcp = Some(stream);
                }
                let frame = format!("{} {message}", message.len());
                let written = match self.tcp.as_mut() {
                    Some(stream) => stream.write_all(frame.as_bytes()).and_then(|()| stream.flush()),
                    None => Ok(()),
                };
                written.map_err(|e| {
                    // Reconnect on the next attempt.
                    self.tcp = None;
                    transient(e)
                })
            }
        }
    }

    /// One HTTP/1.1 POST of JSON lines; 2xx is success.
    fn post(&mut self, target: &WebhookTarget, body: &[u8]) -> Result<(), Failure> {
        let transient = |e: std::io::Error| Failure::Transient(e.to_string());
        let timeout = self.config.timeout;
        let mut stream = TcpStream::connect_timeout(&target.addr, timeout).map_err(transient)?;
        stream.set_read_timeout(Some(timeout)).map_err(transient)?;
        stream.set_write_timeout(Some(timeout)).map_err(transient)?;
        let head = format!(
            "POST {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: custodia-risk\r\nContent-Type: application/x-ndjson\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n",
            target.path,
            target.host,
            body.len()
        );
        stream.write_all(head.as_bytes()).map_err(transient)?;
        stream.write_all(body).map_err(transient)?;
        stream.flush().map_err(transient)?;
        let mut response = Vec::with_capacity(256);
        let mut chunk = [0u8; 512];
        while !response.windows(2).any(|w| w == b"\r\n") && response.len() < 8192 {
            let n = stream.read(&mut chunk).map_err(transient)?;
            if n == 0 {
                break;
            }
            response.extend_from_slice(chunk.get(..n).unwrap_or_default());
        }
        let status_line = String::from_utf8_lossy(&response);
        let status = status_line
            .strip_prefix("HTTP/1.")
            .and_then(|rest| rest.get(2..5))
            .and_then(|code| code.parse::<u16>().ok());
        match status {
            Some(200..=299) => Ok(()),
            Some(code @ (408 | 429 | 500..=599)) => Err(Failure::Transient(format!("the webhook answered {code}"))),
            Some(code) => Err(Failure::Permanent(format!(
                "the webhook refused the alerts with {code}; check its URL and configuration"
            ))),
            None => Err(Failure::Transient("the webhook sent no HTTP status line".into())),
        }
    }
}

/// Which alerts were already forwarded: (person, day the alert fired) → severity sent.
/// An alert is forwarded once, and again only if its severity rises.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct ForwardLog {
    sent: BTreeMap<String, BTreeMap<i32, Severity>>,
}

impl ForwardLog {
    /// Decodes a log saved with [`ForwardLog::to_bytes`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, RiskError> {
        serde_json::from_slice(bytes).map_err(|e| RiskError::BadState {
            offset: e.column() as u64,
            reason: format!("forwarded-alerts log: {e}"),
        })
    }

    /// Encodes the log (JSON: ids, days and severities only).
    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// The alerts not yet forwarded (or escalated since), marked as forwarded.
    pub fn take_new<'a>(&mut self, alerts: &'a [Alert]) -> Vec<&'a Alert> {
        let mut fresh = Vec::new();
        for alert in alerts {
            let per_user = self.sent.entry(alert.user.clone()).or_default();
            let escalated = per_user.get(&alert.day).is_none_or(|sent| alert.severity > *sent);
            if escalated {
                per_user.insert(alert.day, alert.severity);
                fresh.push(alert);
            }
        }
        fresh
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use crate::time::{days_from_civil, DAY_MS};
    use model::ManualClock;
    use std::io::BufRead;
    use std::net::TcpListener;

    /// Records the waits instead of waiting.
    #[derive(Default)]
    struct Recorded(Mutex<Vec<Duration>>);

    impl Sleeper for Recorded {
        fn sleep(&self, duration: Duration) {
            self.0.lock().unwrap().push(duration);
        }
    }

    fn alert(user: &str, score: f32, reasons: &[&str]) -> Alert {
        Alert {
            user: user.into(),
            day: days_from_civil(2026, 11, 28),
            score,
            severity: Severity::from_score(score),
            reasons: reasons.iter().map(|r| (*r).to_string()).collect(),
        }
    }

    fn clock() -> SharedClock {
        let at = i64::from(days_from_civil(2026, 12, 1)) * DAY_MS + 2 * 3_600_000 + 15 * 60_000 + 42;
        Arc::new(ManualClock::new(at))
    }

    fn config(syslog: Option<SyslogTarget>, webhook: Option<WebhookTarget>) -> ForwardConfig {
        ForwardConfig {
            retry: RetryPolicy {
                attempts: 4,
                first_backoff: Duration::from_millis(100),
                max_backoff: Duration::from_millis(250),
            },
            timeout: Duration::from_secs(5),
            ..ForwardConfig::new(syslog, webhook, "custodia-test")
        }
    }

    #[test]
    fn one_syslog_message_over_udp_has_these_exact_bytes() {
        let listener = UdpSocket::bind("127.0.0.1:0").unwrap();
        listener.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let target = SyslogTarget::parse(&format!("udp://{}", listener.local_addr().unwrap())).unwrap();
        let f = Forwarder::start(config(Some(target), None), clock(), Arc::new(Recorded::default())).unwrap();
        let a = alert(
            "p-0012",
            88.4,
            &[
                "exported 512 records from the vault on 28 Nov 2026, 12× their median",
                "gave notice on 2 Nov 2026",
            ],
        );
        assert!(f.submit(a));
        let mut buf = [0u8; 4096];
        let (n, _) = listener.recv_from(&mut buf).unwrap();
        let stats = f.finish();
        assert_eq!(stats.syslog_sent, 1);
        let text = String::from_utf8(buf[..n].to_vec()).unwrap();
        insta::assert_snapshot!("syslog_udp_message", format!("{text:?}"));
    }

    #[test]
    fn syslog_over_tcp_is_octet_counted_and_escapes_sd_values() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let target = SyslogTarget::parse(&format!("tcp://{}", listener.local_addr().unwrap())).unwrap();
        let f = Forwarder::start(config(Some(target), None), clock(), Arc::new(Recorded::default())).unwrap();
        f.submit(alert("p-1", 72.0, &["odd \"quoted\" ] \\ reason"]));
        f.submit(alert("p-2", 55.0, &["second"]));
        let (mut conn, _) = listener.accept().unwrap();
        let stats = f.finish();
        assert_eq!(stats.syslog_sent, 2, "{stats:?}");
        let mut all = Vec::new();
        conn.read_to_end(&mut all).unwrap();
        let mut rest = &all[..];
        let mut messages = Vec::new();
        while !rest.is_empty() {
            let space = rest.iter().position(|b| *b == b' ').unwrap();
            let len: usize = std::str::from_utf8(&rest[..space]).unwrap().parse().unwrap();
            messages.push(String::from_utf8(rest[space + 1..space + 1 + len].to_vec()).unwrap());
            rest = &rest[space + 1 + len..];
        }
        assert_eq!(messages.len(), 2);
        assert!(messages[0].starts_with("<164>1 2026-12-01T02:15:00.042Z custodia-test custodia-risk - risk-alert "));
        assert!(
            messages[0].contains(r#"reasons="odd \"quoted\" \] \\ reason"]"#),
            "{}",
            messages[0]
        );
        assert!(messages[1].starts_with("<165>1 "), "{}", messages[1]);
    }

    /// Request line and body of each request received.
    type Received = Vec<(String, Vec<u8>)>;

    /// A tiny HTTP server: answers each request with the next status, keeps the bodies.
    fn http_listener(statuses: Vec<u16>) -> (String, std::thread::JoinHandle<Received>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/siem/alerts", listener.local_addr().unwrap());
        let handle = std::thread::spawn(move || {
            let mut got = Vec::new();
            for status in statuses {
                let (conn, _) = listener.accept().unwrap();
                let mut reader = std::io::BufReader::new(conn);
                let mut request_line = String::new();
                reader.read_line(&mut request_line).unwrap();
                let mut length = 0usize;
                loop {
                    let mut line = String::new();
                    reader.read_line(&mut line).unwrap();
                    if line == "\r\n" {
                        break;
                    }
                    if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                        length = v.trim().parse().unwrap();
                    }
                }
                let mut body = vec![0u8; length];
                reader.read_exact(&mut body).unwrap();
                let mut conn = reader.into_inner();
                write!(
                    conn,
                    "HTTP/1.1 {status} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                )
                .unwrap();
                got.push((request_line, body));
            }
            got
        });
        (url, handle)
    }

    #[test]
    fn webhook_gets_json_lines_after_retries_with_backoff() {
        let (url, server) = http_listener(vec![503, 500, 200]);
        let sleeper = Arc::new(Recorded::default());
        let target = WebhookTarget::parse(&url).unwrap();
        let f = Forwarder::start(config(None, Some(target)), clock(), sleeper.clone()).unwrap();
        f.submit(alert("p-7", 91.0, &["exported 700 records"]));
        let stats = f.finish();
        let got = server.join().unwrap();
        assert_eq!(stats.webhook_sent, 1, "{stats:?}");
        assert_eq!(stats.retries, 2);
        assert_eq!(
            *sleeper.0.lock().unwrap(),
            vec![Duration::from_millis(100), Duration::from_millis(200)]
        );
        assert_eq!(got.len(), 3);
        let (request_line, body) = &got[2];
        assert_eq!(request_line, "POST /siem/alerts HTTP/1.1\r\n");
        let body = String::from_utf8(body.clone()).unwrap();
        let lines: Vec<serde_json::Value> = body.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0]["user"], "p-7");
        assert_eq!(lines[0]["severity"], "high");
        assert_eq!(lines[0]["date"], "2026-11-28");
    }

    #[test]
    fn a_refusing_webhook_is_not_retried_and_an_absent_one_gives_up_with_capped_waits() {
        let (url, server) = http_listener(vec![404]);
        let sleeper = Arc::new(Recorded::default());
        let f = Forwarder::start(
            config(None, Some(WebhookTarget::parse(&url).unwrap())),
            clock(),
            sleeper.clone(),
        )
        .unwrap();
        f.submit(alert("p-7", 91.0, &["x"]));
        let stats = f.finish();
        server.join().unwrap();
        assert_eq!((stats.failed, stats.retries), (1, 0), "{stats:?}");
        assert!(stats.errors[0].contains("refused the alerts with 404"), "{stats:?}");

        // Nobody listens on this port once the listener is gone.
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let sleeper = Arc::new(Recorded::default());
        let target = WebhookTarget::parse(&format!("http://127.0.0.1:{port}/")).unwrap();
        let f = Forwarder::start(config(None, Some(target)), clock(), sleeper.clone()).unwrap();
        f.submit(alert("p-7", 91.0, &["x"]));
        let stats = f.finish();
        assert_eq!((stats.failed, stats.retries), (1, 3), "{stats:?}");
        assert!(stats.errors[0].contains("gave up after 4 attempts"), "{stats:?}");
        let waits = sleeper.0.lock().unwrap().clone();
        assert_eq!(
            waits,
            vec![
                Duration::from_millis(100),
                Duration::from_millis(200),
                Duration::from_millis(250)
            ]
        );
    }

    #[test]
    fn submit_never_blocks_a_full_queue_drops_and_counts() {
        // A webhook that accepts the connection but never answers holds the worker.
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let target = WebhookTarget::parse(&format!("http://{}/", listener.local_addr().unwrap())).unwrap();
        let mut cfg = config(None, Some(target));
        cfg.queue_capacity = 2;
        cfg.retry.attempts = 1;
        cfg.timeout = Duration::from_millis(300);
        let f = Forwarder::start(cfg, clock(), Arc::new(Recorded::default())).unwrap();
        // The worker takes what is queued as one batch; once it has connected
        // it holds exactly this first alert, so the queue's capacity alone
        // decides how many of the rest are accepted.
        assert!(f.submit(alert("p-0", 60.0, &["x"])));
        let (_held, _) = listener.accept().unwrap();
        let started = Instant::now();
        let accepted = (1..50)
            .filter(|i| f.submit(alert(&format!("p-{i}"), 60.0, &["x"])))
            .count();
        assert!(started.elapsed() < Duration::from_millis(200), "submit waited");
        assert_eq!(accepted, 2, "the queue holds two");
        let stats = f.finish();
        assert_eq!(stats.dropped, 47);
        drop(listener);
    }

    #[test]
    fn bad_targets_are_refused_clearly() {
        for (url, needle) in [
            ("syslog://127.0.0.1:514", "must start with udp:// or tcp://"),
            ("udp://", "must be udp://HOST:PORT"),
            ("tcp://no.such.host.invalid:514", "does not resolve"),
        ] {
            let e = SyslogTarget::parse(url).unwrap_err().to_string();
            assert!(e.contains(needle), "{url}: {e}");
        }
        for (url, needle) in [
            ("https://siem.example/alerts", "https is not spoken"),
            ("ftp://x", "must start with http://"),
            ("http:///alerts", "must be http://HOST"),
        ] {
            let e = WebhookTarget::parse(url).unwrap_err().to_string();
            assert!(e.contains(needle), "{url}: {e}");
        }
        assert_eq!(
            SyslogTarget::parse("udp://127.0.0.1").unwrap().addr,
            "127.0.0.1:514".parse().unwrap()
        );
        let e = Forwarder::start(config(None, None), clock(), Arc::new(Recorded::default())).unwrap_err();
        assert!(e.to_string().contains("nothing to forward"), "{e}");
    }

    #[test]
    fn the_log_forwards_each_open_alert_once_and_again_when_it_escalates() {
        let mut log = ForwardLog::default();
        let first = vec![alert("p-1", 60.0, &["a"]), alert("p-2", 75.0, &["b"])];
        assert_eq!(log.take_new(&first).len(), 2);
        assert!(log.take_new(&first).is_empty());
        let log = ForwardLog::from_bytes(&log.to_bytes()).unwrap();
        let mut log = log;
        let escalated = vec![alert("p-1", 90.0, &["a"]), alert("p-2", 72.0, &["b"])];
        let fresh = log.take_new(&escalated);
        assert_eq!(fresh.len(), 1);
        assert_eq!(fresh[0].user, "p-1");
        assert!(ForwardLog::from_bytes(b"{not json").is_err());
    }
}
