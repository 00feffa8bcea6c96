//! A client for custodia's HTTP API, used by the server's tests and the CLI.
//!
//! Public API:
//! - [`Client::new`], then [`Client::login`] (keeps the session token from
//!   the `__Host-custodia_session` cookie and sends it with each later request).
//! - One method per route, returning the server's JSON as
//!   [`serde_json::Value`] (or bytes for document content).
//! - [`Client::post_events`] feeds activity events (JSON lines) to the risk engine.
//! - [`Client::login_with_code`] for people with a second factor, then
//!   [`Client::totp_enroll`], [`Client::totp_confirm`], [`Client::step_up`].
//! - [`Client::create_token`], [`Client::tokens`], [`Client::revoke_token`];
//!   [`Client::with_token`] makes a client that sends `Authorization: Bearer`.
//! - [`Client::bootstrap`]: the first security admin's password.
//! - [`Client::export`] requests an export: the file, or [`Export::Queued`]
//!   for one that waits for a manager's approval.
//! - [`Client::raw`] for any request, e.g. to test bad input.
//! - [`ClientError::Api`] carries the server's error shape.
//!
//! The session cookie is `Secure`; this client sends it itself rather than
//! through a cookie jar so that it also works against `http://127.0.0.1`
//! in tests and behind a TLS-terminating proxy.

use reqwest::header::{HeaderValue, AUTHORIZATION, CONTENT_TYPE, COOKIE, SET_COOKIE};
pub use reqwest::Method;
use serde_json::Value;

/// The session cookie's name, as the server sets it.
pub const SESSION_COOKIE: &str = "__Host-custodia_session";

/// What can go wrong talking to the server.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The server answered with its error shape.
    #[error("server refused ({status} {code}): {message}")]
    Api { status: u16, code: String, message: String },
    #[error("cannot reach the custodia server: {0}")]
    Http(#[from] reqwest::Error),
    #[error("the server's answer is not the expected JSON (status {status}): {problem}")]
    Decode { status: u16, problem: String },
    #[error("the server accepted the login but set no session cookie")]
    NoSessionCookie,
}

/// A response as received, for tests of status codes and error shapes.
#[derive(Debug, Clone)]
pub struct RawResponse {
    pub status: u16,
    pub content_type: Option<String>,
    /// Response headers, names in lower case.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl RawResponse {
    /// The body as JSON, if it is JSON.
    pub fn json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }
}

/// What an export request came to.
#[derive(Debug, Clone)]
pub enum Export {
    /// The file, with its headers (content type, disposition).
    File(RawResponse),
    /// Waiting for a manager's approval under this id.
    Queued { id: String },
}

/// A client of one server, holding at most one session.
pub struct Client {
    http: reqwest::Client,
    base: String,
    session: Option<String>,
    /// An API token sent as `Authorization: Bearer` instead of a session.
    bearer: Option<String>,
}

impl std::fmt::Debug for Client {
    // The session token is a credential: never in Debug output.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.base)
            .field("logged_in", &self.session.is_some())
            .field("bearer", &self.bearer.is_some())
            .finish()
    }
}

fn query_string(pairs: &[(&str, Option<String>)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| ((*k).to_owned(), v.clone())))
        .collect()
}

impl Client {
    /// A client of the server at `base_url`, e.g. `http://127.0.0.1:8443`.
    pub fn new(base_url: &str) -> Result<Client, ClientError> {
        let http = reqwest::Client::builder().use_rustls_tls().build()?;
        Ok(Client {
            http,
            base: base_url.trim_end_matches('/').to_owned(),
            session: None,
            bearer: None,
        })
    }

    /// A client of a server whose certificate is `ca_pem` or is issued by it
    /// (e.g. the one `custodia serve --tls-self-signed` wrote).
    pub fn with_root_certificate(base_url: &str, ca_pem: &[u8]) -> Result<Client, ClientError> {
        let ca = reqwest::Certificate::from_pem(ca_pem)?;
        let http = reqwest::Client::builder()
            .use_rustls_tls()
            .add_root_certificate(ca)
            .build()?;
        Ok(Client {
            http,
            base: base_url.trim_end_matches('/').to_owned(),
            session: None,
            bearer: None,
        })
    }

    /// A client that authenticates with a personal API token.
    pub fn with_token(base_url: &str, token: &str) -> Result<Client, ClientError> {
        let mut c = Client::new(base_url)?;
        c.bearer = Some(token.to_owned());
        Ok(c)
    }

    /// Whether a session token is held.
    pub fn is_logged_in(&self) -> bool {
        self.session.is_some()
    }

    /// Forgets the session token without telling the server.
    pub fn forget_session(&mut self) {
        self.session = None;
    }

    fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        let mut rb = self.http.request(method, format!("{}{}", self.base, path));
        if let Some(token) = &self.session {
            if let Ok(v) = HeaderValue::from_str(&format!("{SESSION_COOKIE}={token}")) {
                rb = rb.header(COOKIE, v);
            }
        }
        if let Some(token) = &self.bearer {
            if let Ok(v) = HeaderValue::from_str(&format!("Bearer {token}")) {
                rb = rb.header(AUTHORIZATION, v);
            }
        }
        rb
    }

    async fn json(rb: reqwest::RequestBuilder) -> Result<Value, ClientError> {
        let response = rb.send().await?;
        let status = response.status().as_u16();
        let bytes = response.bytes().await?;
        let value: Value = serde_json::from_slice(&bytes).map_err(|e| ClientError::Decode {
            status,
            problem: e.to_string(),
        })?;
        if (200..300).contains(&status) {
            return Ok(value);
        }
        Err(api_error(status, &value))
    }

    /// Logs in and keeps the session token.
    pub async fn login(&mut self, person: &str, password: &str) -> Result<Value, ClientError> {
        self.login_body(serde_json::json!({"person": person, "password": password}))
            .await
    }

    /// Logs in with a second factor: a TOTP code, or else a recovery code.
    pub async fn login_with_code(
        &mut self,
        person: &str,
        password: &str,
        totp: Option<&str>,
        recovery_code: Option<&str>,
    ) -> Result<Value, ClientError> {
        let mut body = serde_json::json!({"person": person, "password": password});
        if let Some(code) = totp {
            body["totp"] = code.into();
        }
        if let Some(code) = recovery_code {
            body["recovery_code"] = code.into();
        }
        self.login_body(body).await
    }

    async fn login_body(&mut self, body: Value) -> Result<Value, ClientError> {
        let response = self.request(Method::POST, "/v1/auth/login").json(&body).send().await?;
        let status = response.status().as_u16();
        let token = response
            .headers()
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .filter_map(|v| v.split(';').next())
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(name, _)| *name == SESSION_COOKIE)
            .map(|(_, value)| value.to_owned());
        let bytes = response.bytes().await?;
        let value: Value = serde_json::from_slice(&bytes).map_err(|e| ClientError::Decode {
            status,
            problem: e.to_string(),
        })?;
        if !(200..300).contains(&status) {
            return Err(api_error(status, &value));
        }
        self.session = Some(token.filter(|t| !t.is_empty()).ok_or(ClientError::NoSessionCookie)?);
        Ok(value)
    }

    /// Ends the session on the server and forgets it here.
    pub async fn logout(&mut self) -> Result<Value, ClientError> {
        let out = Self::json(self.request(Method::POST, "/v1/auth/logout")).await;
        self.session = None;
        out
    }

    /// Starts TOTP enrollment: the answer holds `otpauth_uri`, `secret` and `qr_svg`.
    pub async fn totp_enroll(&self) -> Result<Value, ClientError> {
        Self::json(
            self.request(Method::POST, "/v1/auth/totp/enroll")
                .json(&serde_json::json!({})),
        )
        .await
    }

    /// Confirms enrollment with a code; the answer holds the `recovery_codes`.
    pub async fn totp_confirm(&self, code: &str) -> Result<Value, ClientError> {
        Self::json(
            self.request(Method::POST, "/v1/auth/totp/confirm")
                .json(&serde_json::json!({"code": code})),
        )
        .await
    }

    /// Completes a second factor inside the session (step-up), with a TOTP
    /// code or else a recovery code.
    pub async fn step_up(&self, code: Option<&str>, recovery_code: Option<&str>) -> Result<Value, ClientError> {
        let mut body = serde_json::json!({});
        if let Some(code) = code {
            body["code"] = code.into();
        }
        if let Some(code) = recovery_code {
            body["recovery_code"] = code.into();
        }
        Self::json(self.request(Method::POST, "/v1/auth/mfa").json(&body)).await
    }

    /// Creates a personal API token; the answer's `token` is shown this once.
    pub async fn create_token(&self, name: &str, scopes: &[&str], expires_in_days: u32) -> Result<Value, ClientError> {
        Self::json(self.request(Method::POST, "/v1/auth/tokens").json(&serde_json::json!({
            "name": name,
            "scopes": scopes,
            "expires_in_days": expires_in_days,
        })))
        .await
    }

    /// The caller's own API tokens (without the tokens themselves).
    pub async fn tokens(&self) -> Result<Value, ClientError> {
        Self::json(self.request(Method::GET, "/v1/auth/tokens")).await
    }

    pub async fn revoke_token(&self, id: &str) -> Result<Value, ClientError> {
        Self::json(self.request(Method::DELETE, &format!("/v1/auth/tokens/{id}"))).await
    }

    /// Sets the first security admin's password with the one-time bootstrap code.
    pub async fn bootstrap(&self, code: &str, person: &str, password: &str) -> Result<Value, ClientError> {
        Self::json(self.request(Method::POST, "/v1/bootstrap").json(&serde_json::json!({
            "code": code,
            "person": person,
            "password": password,
        })))
        .await
    }

    pub async fn health(&self) -> Result<Value, ClientError> {
        Self::json(self.request(Method::GET, "/health")).await
    }

    pub async fn ready(&self) -> Result<Value, ClientError> {
        Self::json(self.request(Method::GET, "/ready")).await
    }

    /// The caller's own live sessions.
    pub async fn sessions(&self) -> Result<Value, ClientError> {
        Self::json(self.request(Method::GET, "/v1/auth/sessions")).await
    }

    pub async fn revoke_session(&self, id: &str) -> Result<Value, ClientError> {
        Self::json(self.request(Method::DELETE, &format!("/v1/auth/sessions/{id}"))).await
    }

    /// Changes the caller's own password; their other sessions and all their API tokens end.
    pub async fn change_password(&self, person: &str, current: &str, new: &str) -> Result<Value, ClientError> {
        Self::json(
            self.request(Method::POST, &format!("/v1/people/{person}/password"))
                .json(&serde_json::json!({"current_password": current, "new_password": new})),
        )
        .await
    }

    pub async fn customers(&self, owner: Option<&str>, limit: Option<usize>) -> Result<Value, ClientError> {
        let q = query_string(&[
            ("owner", owner.map(str::to_owned)),
            ("limit", limit.map(|l| l.to_string())),
        ]);
        Self::json(self.request(Method::GET, "/v1/customers").query(&q)).await
    }

    pub async fn customer(&self, id: &str) -> Result<Value, ClientError> {
        Self::json(self.request(Method::GET, &format!("/v1/customers/{id}"))).await
    }

    pub async fn search_customers(&self, q: &str, limit: Option<usize>) -> Result<Value, ClientError> {
        let q = query_string(&[("q", Some(q.to_owned())), ("limit", limit.map(|l| l.to_string()))]);
        Self::json(self.request(Method::GET, "/v1/customers/search").query(&q)).await
    }

    pub async fn documents(&self) -> Result<Value, ClientError> {
        Self::json(self.request(Method::GET, "/v1/documents")).await
    }

    pub async fn document(&self, id: &str) -> Result<Value, ClientError> {
        Self::json(self.request(Method::GET, &format!("/v1/documents/{id}"))).await
    }

    /// A document's body.
    pub async fn document_content(&self, id: &str) -> Result<Vec<u8>, ClientError> {
        let raw = self
            .raw(Method::GET, &format!("/v1/documents/{id}/content"), None, Vec::new())
            .await?;
        if (200..300).contains(&raw.status) {
            return Ok(raw.body);
        }
        let value = raw.json().unwrap_or(Value::Null);
        Err(api_error(raw.status, &value))
    }

    pub async fn audit(
        &self,
        person: Option<&str>,
        action: Option<&str>,
        decision: Option<&str>,
        limit: Option<usize>,
    ) -> Result<Value, ClientError> {
        let q = query_string(&[
            ("person", person.map(str::to_owned)),
            ("action", action.map(str::to_owned)),
            ("decision", decision.map(str::to_owned)),
            ("limit", limit.map(|l| l.to_string())),
        ]);
        Self::json(self.request(Method::GET, "/v1/audit").query(&q)).await
    }

    /// Sends activity events for the risk engine (`POST /v1/events`): `json_lines` holds
    /// one JSON event per line. The answer counts accepted and rejected lines and gives
    /// each rejected line's number and reason.
    pub async fn post_events(&self, json_lines: impl Into<Vec<u8>>) -> Result<Value, ClientError> {
        Self::json(
            self.request(Method::POST, "/v1/events")
                .header(CONTENT_TYPE, "application/x-ndjson")
                .body(json_lines.into()),
        )
        .await
    }

    async fn send_json(&self, method: Method, path: &str, body: &Value) -> Result<Value, ClientError> {
        Self::json(self.request(method, path).json(body)).await
    }

    /// The OpenAPI 3 document (`GET /openapi.json`).
    pub async fn openapi(&self) -> Result<Value, ClientError> {
        Self::json(self.request(Method::GET, "/openapi.json")).await
    }

    /// Creates a customer from a JSON body such as `{"name": "...", "owner": "..."}`.
    pub async fn create_customer(&self, body: &Value) -> Result<Value, ClientError> {
        self.send_json(Method::POST, "/v1/customers", body).await
    }

    /// Changes the fields given in `body` (e.g. `{"notes": "..."}`).
    pub async fn update_customer(&self, id: &str, body: &Value) -> Result<Value, ClientError> {
        self.send_json(Method::PATCH, &format!("/v1/customers/{id}"), body)
            .await
    }

    /// Erases a customer; the justification is recorded in the ledger.
    pub async fn erase_customer(&self, id: &str, justification: Option<&str>) -> Result<Value, ClientError> {
        let q = query_string(&[("justification", justification.map(str::to_owned))]);
        Self::json(self.request(Method::DELETE, &format!("/v1/customers/{id}")).query(&q)).await
    }

    /// Uploads a document from a JSON body (`title`, `file_name`, `body_base64`…).
    pub async fn upload_document(&self, body: &Value) -> Result<Value, ClientError> {
        self.send_json(Method::POST, "/v1/documents", body).await
    }

    /// Uploads a document's raw bytes under a file name.
    pub async fn upload_document_bytes(&self, name: &str, bytes: Vec<u8>) -> Result<Value, ClientError> {
        Self::json(
            self.request(Method::POST, "/v1/documents")
                .query(&[("name", name)])
                .header(CONTENT_TYPE, "application/octet-stream")
                .body(bytes),
        )
        .await
    }

    pub async fn people(&self) -> Result<Value, ClientError> {
        Self::json(self.request(Method::GET, "/v1/people")).await
    }

    pub async fn person(&self, id: &str) -> Result<Value, ClientError> {
        Self::json(self.request(Method::GET, &format!("/v1/people/{id}"))).await
    }

    /// Sets a person's employment status (`active`, `departing`, `departed`).
    pub async fn set_person_status(&self, id: &str, status: &str) -> Result<Value, ClientError> {
        let body = serde_json::json!({ "status": status });
        self.send_json(Method::POST, &format!("/v1/people/{id}/status"), &body)
            .await
    }

    /// Ends every session and API token of a person (an admin's action).
    pub async fn revoke_person_sessions(&self, id: &str) -> Result<Value, ClientError> {
        Self::json(self.request(Method::DELETE, &format!("/v1/people/{id}/sessions"))).await
    }

    pub async fn policy(&self) -> Result<Value, ClientError> {
        Self::json(self.request(Method::GET, "/v1/policy")).await
    }

    pub async fn replace_policy(&self, text: &str) -> Result<Value, ClientError> {
        self.send_json(Method::PUT, "/v1/policy", &serde_json::json!({ "text": text }))
            .await
    }

    pub async fn validate_policy(&self, text: &str) -> Result<Value, ClientError> {
        self.send_json(
            Method::POST,
            "/v1/policy/validate",
            &serde_json::json!({ "text": text }),
        )
        .await
    }

    pub async fn explain(&self, person: &str, action: &str, resource: &str) -> Result<Value, ClientError> {
        let body = serde_json::json!({ "person": person, "action": action, "resource": resource });
        self.send_json(Method::POST, "/v1/policy/explain", &body).await
    }

    pub async fn who_can(&self, resource: &str) -> Result<Value, ClientError> {
        Self::json(self.request(Method::GET, &format!("/v1/access/who-can/{resource}"))).await
    }

    pub async fn what_can(&self, person: &str) -> Result<Value, ClientError> {
        Self::json(self.request(Method::GET, &format!("/v1/access/what-can/{person}"))).await
    }

    pub async fn unused_access(&self, days: Option<u32>) -> Result<Value, ClientError> {
        let q = query_string(&[("days", days.map(|d| d.to_string()))]);
        Self::json(self.request(Method::GET, "/v1/access/unused").query(&q)).await
    }

    /// Recomputes the audit ledger on the server.
    pub async fn verify_audit(&self) -> Result<Value, ClientError> {
        Self::json(self.request(Method::GET, "/v1/audit/verify")).await
    }

    /// An evidence bundle of the entries `body` selects (`title`, `person`, `action`…).
    pub async fn audit_evidence(&self, body: &Value) -> Result<Vec<u8>, ClientError> {
        let raw = self
            .raw(
                Method::POST,
                "/v1/audit/evidence",
                Some("application/json"),
                body.to_string().into_bytes(),
            )
            .await?;
        if (200..300).contains(&raw.status) {
            return Ok(raw.body);
        }
        Err(api_error(raw.status, &raw.json().unwrap_or(Value::Null)))
    }

    /// Requests an export (`{"filter", "format", "justification"}`): the file
    /// as [`Export::File`], or [`Export::Queued`] when it waits for approval.
    pub async fn export(&self, body: &Value) -> Result<Export, ClientError> {
        let raw = self
            .raw(
                Method::POST,
                "/v1/exports",
                Some("application/json"),
                body.to_string().into_bytes(),
            )
            .await?;
        match raw.status {
            202 => {
                let v = raw.json().unwrap_or(Value::Null);
                match v["export"]["id"].as_str() {
                    Some(id) => Ok(Export::Queued { id: id.to_owned() }),
                    None => Err(ClientError::Decode {
                        status: 202,
                        problem: "a queued export without an id".into(),
                    }),
                }
            }
            200..=299 => Ok(Export::File(raw)),
            status => Err(api_error(status, &raw.json().unwrap_or(Value::Null))),
        }
    }

    /// The queued exports the caller may decide.
    pub async fn pending_exports(&self) -> Result<Value, ClientError> {
        Self::json(self.request(Method::GET, "/v1/exports/pending")).await
    }

    pub async fn approve_export(&self, id: &str) -> Result<Value, ClientError> {
        Self::json(self.request(Method::POST, &format!("/v1/exports/{id}/approve"))).await
    }

    pub async fn reject_export(&self, id: &str) -> Result<Value, ClientError> {
        Self::json(self.request(Method::POST, &format!("/v1/exports/{id}/reject"))).await
    }

    /// Downloads an approved export (once).
    pub async fn download_export(&self, id: &str) -> Result<RawResponse, ClientError> {
        let raw = self
            .raw(Method::GET, &format!("/v1/exports/{id}/download"), None, Vec::new())
            .await?;
        if (200..300).contains(&raw.status) {
            return Ok(raw);
        }
        Err(api_error(raw.status, &raw.json().unwrap_or(Value::Null)))
    }

    /// Any request, with the session if held; `path` may carry a query.
    pub async fn raw(
        &self,
        method: Method,
        path: &str,
        content_type: Option<&str>,
        body: Vec<u8>,
    ) -> Result<RawResponse, ClientError> {
        let mut rb = self.request(method, path);
        if let Some(ct) = content_type {
            rb = rb.header(CONTENT_TYPE, ct);
        }
        let response = rb.body(body).send().await?;
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let headers = response
            .headers()
            .iter()
            .filter_map(|(k, v)| v.to_str().ok().map(|v| (k.as_str().to_owned(), v.to_owned())))
            .collect();
        let body = response.bytes().await?.to_vec();
        Ok(RawResponse {
            status,
            content_type,
            headers,
            body,
        })
    }
}

fn api_error(status: u16, value: &Value) -> ClientError {
    let error = &value["error"];
    match (error["code"].as_str(), error["message"].as_str()) {
        (Some(code), Some(message)) => ClientError::Api {
            status,
            code: code.to_owned(),
            message: message.to_owned(),
        },
        _ => ClientError::Decode {
            status,
            problem: "an error without the {\"error\":{code,message}} shape".into(),
        },
    }
}
