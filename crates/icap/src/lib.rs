//! ICAP server (RFC 3507) that lets a Squid proxy hand uploads to an [`Inspector`] and
//! blocks the ones that carry customer data, answering the user with a block page.
//!
//! Public API:
//! - [`serve`] / [`serve_until`]: accept loop on a `tokio::net::TcpListener`.
//! - [`serve_connection`]: one already-accepted stream (TLS, in-memory tests).
//! - [`ServerConfig`]: ISTag, service names, preview size, header/body limits, bounds on
//!   undoing content codings, idle and whole-request timeouts, connection limit, the
//!   buffer budget shared by all connections, Options-TTL.
//! - [`Inspector`], [`Upload`], [`UploadPart`], [`PartOrigin`], [`Unreadable`],
//!   [`InspectionOutcome`]: the callback seam where custodia's DLP engine plugs in.
//! - [`DlpInspector`]: that seam filled by the DLP engine, recording each verdict
//!   before the upload is released.
//!
//! Behaviour:
//! - Only clients in `allowed_clients` (the proxy; loopback by default) are served; any
//!   other connection is closed unanswered, since the server believes the user name
//!   (`X-Client-Username`) a client sends.
//! - `OPTIONS` advertises Methods, ISTag, Preview, `Transfer-Preview: *`, `Allow: 204`,
//!   Max-Connections and Options-TTL.
//! - `REQMOD` reads the preview, answers `100 Continue` (or decides at once when the
//!   preview ended with `ieof`), reads the whole body up to `max_body_bytes`, undoes its
//!   `Content-Encoding`, splits `multipart/*` bodies into parts (multer, plus any text
//!   outside the delimiters), adds the request head's text and credentials as parts, and
//!   asks the inspector, for every request, with a body or without. Allowed uploads get
//!   `204` (with `Allow: 204`) or the unchanged message echoed back; blocked ones get an
//!   ICAP `200` carrying an HTTP `403 Forbidden` HTML page. Oversized bodies, malformed
//!   multipart bodies, codings that cannot be undone ([`Unreadable`]) and inspector
//!   panics are blocked (fail closed).
//! - `RESPMOD` passes responses through unchanged (`204`, or echo without `Allow: 204`).
//! - Malformed heads, `Encapsulated` values or chunking get ICAP `400` and the connection
//!   closes; unknown services get `404`; every response carries ISTag.
//! - A request gets `408` and its connection closes when no byte arrives for
//!   `idle_timeout` or when its head and body, from the first byte to the last chunk,
//!   take longer than `request_timeout` (a peer trickling bytes cannot hold a connection
//!   slot for ever). Waiting for the next request on a kept-alive connection is bounded
//!   by `idle_timeout` alone, and a peer idle there is closed without an answer.
//! - All connections of [`serve`] share a buffer budget of `max_buffered_bytes`: a
//!   request reserves its kept body as it arrives (in KiB, covering the buffer's
//!   capacity) and, before undoing its `Content-Encoding`, the most that may expand to
//!   (shrunk to what it did), and gives it all back when it is answered or dropped. A
//!   request that finds no room within `buffer_wait` gets `503` and its connection
//!   closes, so the upload is stopped, never passed uninspected. Not counted: heads
//!   (bounded by `max_header_bytes`), read buffers, and the copies that splitting
//!   multipart bodies and the inspector itself make.

mod budget;
mod dlp_bridge;
mod error;
mod inspect;
mod server;
mod wire;

pub use dlp_bridge::{ContentScanner, DlpInspector, IdentifySender, RecordVerdict, Sender};
pub use error::{ConfigError, ServeError};
pub use inspect::{
    InspectionOutcome, Inspector, PartOrigin, ProxyUser, Unreadable, Upload, UploadPart, CREDENTIAL_HEADERS,
    MAX_USER_NAME_BYTES,
};
pub use server::{serve, serve_connection, serve_until, ServerConfig};
