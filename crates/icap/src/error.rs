//! Errors: public configuration/serve errors and the internal per-request error.

use std::time::Duration;

/// A [`crate::ServerConfig`] value that cannot be served.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    /// The ISTag must be 1 to 30 characters of letters, digits, `-`, `.` or `_`.
    #[error("expected an istag of 1 to 30 letters, digits, '-', '.' or '_', found {found:?}; pick a short plain tag")]
    BadIstag {
        /// The rejected tag.
        found: String,
    },
    /// A service name must be 1 to 64 characters of letters, digits, `-` or `_`.
    #[error("expected a service name of 1 to 64 letters, digits, '-' or '_', found {found:?}")]
    BadServiceName {
        /// The rejected name.
        found: String,
    },
    /// The user name header must be 1 to 64 letters, digits or `-`.
    #[error("expected a user name header of 1 to 64 letters, digits or '-', found {found:?}")]
    BadHeaderName {
        /// The rejected name.
        found: String,
    },
    /// A limit is zero or the limits contradict each other.
    #[error("expected {what}; fix the server config")]
    BadLimit {
        /// Which limit and what it must satisfy.
        what: &'static str,
    },
}

/// Why [`crate::serve`] stopped.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The configuration was rejected before accepting any connection.
    #[error(transparent)]
    Config(#[from] ConfigError),
}

/// Why one ICAP request could not be answered normally.
#[derive(Debug, thiserror::Error)]
pub(crate) enum RequestError {
    #[error("the stream ended in the middle of a request; send the whole request")]
    Truncated,
    #[error("no data arrived for {0:?} in the middle of a request; send data faster")]
    Stalled(Duration),
    #[error("the request took longer than {0:?} to arrive, head to last chunk; send it faster")]
    TooSlow(Duration),
    #[error("{0}")]
    Bad(String),
    #[error("expected a head of at most {limit} bytes, found a longer one; send smaller headers")]
    HeadTooLarge { limit: usize },
    #[error("the encapsulated body is far over the size limit; it was not read to its end")]
    BodyTooLarge,
    #[error("the server is buffering all the request bodies that max_buffered_bytes allows and none was done within {0:?}; retry later")]
    OverBudget(Duration),
    #[error("expected a service this server offers, found another; check the icap:// URI path")]
    ServiceNotFound,
    #[error("expected the method this service offers (see OPTIONS Methods), found another")]
    MethodNotAllowed,
    #[error("expected OPTIONS, REQMOD or RESPMOD, found another method")]
    MethodNotImplemented,
    #[error("expected ICAP/1.0, found another ICAP version")]
    VersionNotSupported,
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
}

impl RequestError {
    /// ICAP status and reason phrase to answer with; `None` when nothing can be sent.
    pub fn status(&self) -> Option<(u16, &'static str)> {
        match self {
            RequestError::Truncated | RequestError::Bad(_) | RequestError::HeadTooLarge { .. } => {
                Some((400, "Bad Request"))
            }
            RequestError::Stalled(_) | RequestError::TooSlow(_) => Some((408, "Request timeout")),
            RequestError::OverBudget(_) => Some((503, "Service overloaded")),
            RequestError::ServiceNotFound => Some((404, "ICAP Service not found")),
            RequestError::MethodNotAllowed => Some((405, "Method not allowed for service")),
            RequestError::MethodNotImplemented => Some((501, "Method not implemented")),
            RequestError::VersionNotSupported => Some((505, "ICAP version not supported")),
            // Oversized bodies get a block page instead of an error status.
            RequestError::BodyTooLarge | RequestError::Io(_) => None,
        }
    }
}
