//! The account: login, private tokens and datasets (the v1 endpoints a new user needs
//! before the first upload; subjects are in `subjects.rs`).

use std::time::Duration;

use serde_json::json;
use uuid::Uuid;

use super::{Endpoint, Pages, decode, endpoint, json};
use crate::builder::SessionBuilder;
use crate::call::CallContext;
use crate::error::{Error, ErrorKind, Result};
use crate::model::{Dataset, LoginAnswer, PrivateToken};
use crate::session::{Session, checked_token};
use crate::transport::{Payload, Transport};
use crate::util::limits::{MAX_ACCOUNT_NAME_CHARS, MAX_TOKEN_LIFETIME, check_name};
use crate::util::redact::REDACTED;

const LOGIN: Endpoint = endpoint!(POST "login", secret);
const CREATE_TOKEN: Endpoint = endpoint!(POST "private token", secret);
const TOKENS: Endpoint = endpoint!(GET "private tokens", secret);
const REVOKE_TOKEN: Endpoint = endpoint!(DELETE "private token");
const CREATE_DATASET: Endpoint = endpoint!(POST "dataset");
const DATASETS: Endpoint = endpoint!(GET "datasets");

impl Session {
    /// Creates a private token (`POST /api/v1/auth/private_tokens/`) named `name` that
    /// lives `lifetime` from now (1 second to
    /// [`MAX_TOKEN_LIFETIME`](crate::config::MAX_TOKEN_LIFETIME), ten years; sent as an
    /// RFC 3339 time in UTC, in the answer's `expiration_time`). Its value is
    /// in [`PrivateToken::data`], only in this answer: store it safely, and give it to a
    /// running session with [`Session::set_token`].
    ///
    /// ```no_run
    /// # let session = hautai::Session::from_env()?;
    /// use std::time::Duration;
    ///
    /// let token = session.create_private_token("intake-server", Duration::from_secs(90 * 24 * 3600))?;
    /// let secret = token.data.expect("the value comes with the creation");
    /// session.set_token(secret.expose())?;
    /// # Ok::<(), hautai::Error>(())
    /// ```
    pub fn create_private_token(&self, name: &str, lifetime: Duration) -> Result<PrivateToken> {
        check_name("the token name", name, MAX_ACCOUNT_NAME_CHARS).map_err(ErrorKind::InvalidArgument)?;
        if lifetime < Duration::from_secs(1) || lifetime > MAX_TOKEN_LIFETIME {
            return Err(ErrorKind::InvalidArgument(format!(
                "a private token lives from 1 second to {} days; {lifetime:?} was given",
                MAX_TOKEN_LIFETIME.as_secs() / 86_400
            ))
            .into());
        }
        let expiration_time = crate::util::civil::rfc3339(self.clock().wall() + lifetime);
        let body = json!({ "name": name, "expiration_time": expiration_time });
        let path = "/api/v1/auth/private_tokens/".to_owned();
        let reply = self.post_json(&CREATE_TOKEN, path, &body, &CallContext::plain())?;
        decode(&CREATE_TOKEN, &reply.body)
    }

    /// Every private token of the account, page after page (without their values).
    pub fn private_tokens(&self) -> Pages<PrivateToken> {
        Pages::new(self.clone(), &TOKENS, "/api/v1/auth/private_tokens/".into(), Ok(String::new()))
    }

    /// Revokes the private token `id` (`DELETE /api/v1/auth/private_tokens/{id}/`).
    pub fn revoke_private_token(&self, id: i64) -> Result<()> {
        let path = format!("/api/v1/auth/private_tokens/{id}/");
        self.call(&REVOKE_TOKEN, path, String::new(), Payload::None, &CallContext::plain())?;
        Ok(())
    }

    /// Creates a dataset (`POST /api/v1/companies/{company_id}/datasets/`). Datasets are
    /// meant to last: create one per study or site, not one per analysis.
    ///
    /// ```no_run
    /// use hautai::model::NewSubject;
    /// # let session = hautai::Session::from_env()?;
    /// let dataset = session.create_dataset("intake 2026")?;
    /// let subject = session.create_subject(dataset.id, &NewSubject::new("patient-0042"))?;
    /// let session = session.with_subject(subject.id);
    /// # Ok::<(), hautai::Error>(())
    /// ```
    pub fn create_dataset(&self, name: &str) -> Result<Dataset> {
        check_name("the dataset name", name, MAX_ACCOUNT_NAME_CHARS).map_err(ErrorKind::InvalidArgument)?;
        let body = json!({ "name": name, "image_type_id": null });
        let reply =
            self.post_json(&CREATE_DATASET, self.v1_company_path("/datasets/"), &body, &CallContext::plain())?;
        decode(&CREATE_DATASET, &reply.body)
    }

    /// The dataset named exactly `name`, or `None`; two or more of that name:
    /// [`ErrorKind::Ambiguous`] naming every id (see [`Session::find_subject`]).
    ///
    /// ```no_run
    /// # let session = hautai::Session::from_env()?;
    /// let dataset = match session.find_dataset("intake 2026")? {
    ///     Some(dataset) => dataset,
    ///     None => session.create_dataset("intake 2026")?,
    /// };
    /// # Ok::<(), hautai::Error>(())
    /// ```
    pub fn find_dataset(&self, name: &str) -> Result<Option<Dataset>> {
        let named = self.datasets().filter(|d| d.as_ref().map_or(true, |d| d.name.as_deref() == Some(name)));
        super::subjects::only_one(named, "dataset", name, None, |d| d.id)
    }

    /// Every dataset of the company, page after page.
    pub fn datasets(&self) -> Pages<Dataset> {
        Pages::new(self.clone(), &DATASETS, self.v1_company_path("/datasets/"), Ok(String::new()))
    }
}

impl Session {
    /// Logs in with an email and a password (`POST /api/v1/auth/login/`) and returns a
    /// session holding the access token and the company of the answer, with the default
    /// settings; use [`SessionBuilder::login`] to change them.
    ///
    /// Login tokens live about an hour and logins are rate limited: a server should log
    /// in once and create a [private token](Session::create_private_token) instead of
    /// logging in per run. Wrong credentials give [`ErrorKind::LoginRejected`]; a refused
    /// login (invalid request, or an account with multi-factor authentication) gives
    /// [`ErrorKind::LoginRefused`]. The password never appears in any error or `Debug`.
    ///
    /// ```no_run
    /// let session = hautai::Session::login("me@clinic.example", "correct horse battery staple")?;
    /// println!("logged in for company {}", session.company_id());
    /// # Ok::<(), hautai::Error>(())
    /// ```
    pub fn login(email: &str, password: &str) -> Result<Session> {
        SessionBuilder::default().login(email, password)
    }
}

impl SessionBuilder {
    /// Logs in with an email and a password and returns a session holding the access
    /// token and the company of the answer, with this builder's other settings (its token
    /// and company are ignored). See [`Session::login`].
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// let session = hautai::SessionBuilder::default()
    ///     .base_url("https://saas.haut.ai")
    ///     .deadline(Duration::from_secs(600))
    ///     .login("me@clinic.example", "correct horse battery staple")?;
    /// # Ok::<(), hautai::Error>(())
    /// ```
    pub fn login(self, email: &str, password: &str) -> Result<Session> {
        let subject_id = self.subject_id;
        let shared = self.shared()?;
        let (company_id, token) = log_in(&shared.transport, email, password)?;
        Ok(Session::new(shared, checked_token(token)?, company_id, subject_id))
    }
}

/// Logs in on `transport` (no token yet) and returns the company and the access token of
/// the answer; see [`SessionBuilder::login`].
fn log_in(transport: &Transport, email: &str, password: &str) -> Result<(Uuid, String)> {
    if email.trim().is_empty() || password.is_empty() {
        return Err(ErrorKind::InvalidArgument("login needs an email and a password".into()).into());
    }
    let body = json(&LOGIN, &json!({ "username": email, "password": password }))?;
    let path = "/api/v1/auth/login/".to_owned();
    let reply = transport
        .send(&LOGIN.request(path, String::new(), None, body), &CallContext::plain())
        .map_err(|e| login_error(e, password))?;
    let answer: LoginAnswer = decode(&LOGIN, &reply.body)?;
    let token = answer.access_token.or(answer.token_access).ok_or_else(|| ErrorKind::Decode {
        endpoint: LOGIN.label,
        reason: "the answer has no access_token".into(),
        excerpt: String::new(),
    })?;
    Ok((answer.company_id, token))
}

/// Login answers get errors of their own, scrubbed of the password.
fn login_error(error: Error, password: &str) -> Error {
    let hide = |text: &str| if password.len() >= 3 { text.replace(password, REDACTED) } else { text.to_owned() };
    match error.into_kind() {
        ErrorKind::Api(mut api) => {
            api.message = api.message.as_deref().map(hide);
            api.body_excerpt = hide(&api.body_excerpt);
            match api.status {
                401 | 403 => ErrorKind::LoginRejected { status: api.status, message: api.message }.into(),
                400 => ErrorKind::LoginRefused { status: api.status, message: api.message }.into(),
                _ => ErrorKind::Api(api).into(),
            }
        }
        other => other.into(),
    }
}
