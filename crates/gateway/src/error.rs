use model::CustomerId;

/// Why the gateway refused or failed. Messages never contain plaintext
/// field values or key material.
#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    #[error("denied: {action} on {resource}: {reason}")]
    Denied {
        action: String,
        resource: String,
        reason: String,
    },
    #[error("{kind} {id} not found")]
    NotFound { kind: &'static str, id: String },
    #[error("unknown person {0}; import them first with `custodia people import`")]
    UnknownPerson(String),
    #[error("the import was rejected: {} row(s) have problems; nothing was written", .0.len())]
    InvalidRows(Vec<crate::RowProblem>),
    #[error("customer {0} already exists; nothing was written")]
    DuplicateCustomer(CustomerId),
    #[error("the key does not belong to this data directory (wrong key file or {env}); use the key file `custodia init` created for it", env = crypto::KEYRING_ENV)]
    WrongKey,
    #[error("this data directory is not initialized; run `custodia init`")]
    NotInitialized,
    #[error("this data directory is already initialized")]
    AlreadyInitialized,
    #[error("the audit ledger could not record the decision, so the request is denied: {0}")]
    NotRecorded(String),
    #[error(transparent)]
    Policy(policy::PolicyError),
    #[error("invalid input: {0}")]
    Invalid(String),
    #[error(transparent)]
    Crypto(#[from] crypto::CryptoError),
    #[error(transparent)]
    Store(store::StoreError),
    #[error("{0} is not configured on this server")]
    NotConfigured(&'static str),
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<store::StoreError> for GatewayError {
    fn from(e: store::StoreError) -> Self {
        match e {
            store::StoreError::DuplicateCustomer(id) => GatewayError::DuplicateCustomer(id),
            other => GatewayError::Store(other),
        }
    }
}

impl GatewayError {
    /// Whether this is a policy denial (as opposed to a failure).
    pub fn is_denied(&self) -> bool {
        matches!(self, GatewayError::Denied { .. } | GatewayError::NotRecorded(_))
    }
}
