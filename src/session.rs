//! The `Session`: credentials, configuration and one connection pool.

use std::fmt;
use std::net::IpAddr;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use uuid::Uuid;

use crate::clock::{Clock, SystemClock};
use crate::error::{Error, Result};
use crate::limits;
use crate::poll::PollSchedule;
use crate::retry::RetryPolicy;

/// The default API host.
pub const DEFAULT_BASE_URL: &str = "https://saas.haut.ai";

/// A client of the Haut.ai SaaS API: one company's credentials and one connection pool.
///
/// Cheap to clone (clones share the pool, the settings and the token), `Send + Sync`:
/// build one and share it between threads. Its blocking methods mirror the API's
/// endpoints one to one, and [`run_full_analysis`](Session::run_full_analysis) chains
/// them into a whole analysis.
///
/// ```no_run
/// use hautai::Session;
///
/// let session = Session::builder("my-private-token", "3fa85f64-5717-4562-b3fc-2c963f66afa6".parse()?)
///     .subject_id("5243ab6a-bd30-4932-b98c-45e43edfdc36".parse()?)
///     .build()?;
/// let results = session.run_full_analysis("front.jpg", "left.jpg", "right.jpg")?;
/// println!("{:?}", results.parameter("age").and_then(|p| p.score()));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Session {
    pub(crate) shared: Arc<Shared>,
    /// Empty only inside [`SessionBuilder::login`], before the login answered.
    token: Arc<RwLock<Arc<str>>>,
    company_id: Uuid,
    subject_id: Option<Uuid>,
}

/// What every clone of a session shares.
pub(crate) struct Shared {
    pub(crate) agent: ureq::Agent,
    pub(crate) base_url: String,
    pub(crate) retry: RetryPolicy,
    pub(crate) connect_timeout: Duration,
    pub(crate) request_timeout: Duration,
    pub(crate) io_timeout: Duration,
    pub(crate) max_response_bytes: u64,
    pub(crate) poll: PollSchedule,
    pub(crate) deadline: Duration,
    pub(crate) clock: Arc<dyn Clock>,
}

impl Session {
    /// Starts a [`SessionBuilder`] for the company `company_id`, authenticating with `token`
    /// (a private token, or the access token of a login).
    pub fn builder(token: impl Into<String>, company_id: Uuid) -> SessionBuilder {
        SessionBuilder::new(token, company_id)
    }

    /// A session configured from the environment: `HAUTAI_TOKEN`, `HAUTAI_COMPANY_ID`,
    /// optional `HAUTAI_SUBJECT_ID` and `HAUTAI_BASE_URL` (default `https://saas.haut.ai`).
    ///
    /// The error names the variable that is missing or malformed. Use
    /// [`SessionBuilder::from_env`] to change other settings before building.
    pub fn from_env() -> Result<Session> {
        SessionBuilder::from_env()?.build()
    }

    /// The company every call is made for.
    pub fn company_id(&self) -> Uuid {
        self.company_id
    }

    /// The default subject for uploads, if one was set.
    pub fn subject_id(&self) -> Option<Uuid> {
        self.subject_id
    }

    /// The base URL, without a trailing slash.
    pub fn base_url(&self) -> &str {
        &self.shared.base_url
    }

    /// A clone of this session whose default subject is `subject_id`.
    pub fn with_subject(&self, subject_id: Uuid) -> Session {
        Session { subject_id: Some(subject_id), ..self.clone() }
    }

    /// Replaces the token of this session and of every clone sharing it (a login token
    /// lives about an hour; hand in the new one without losing the connection pool).
    /// Calls already running finish with the token they started with.
    pub fn set_token(&self, token: impl Into<String>) -> Result<()> {
        let token = checked_token(token.into())?;
        *self.token.write().unwrap_or_else(PoisonError::into_inner) = token;
        Ok(())
    }

    /// A session with its own token that shares this one's connection pool and settings.
    /// Changing its token later does not affect this session.
    pub fn with_token(&self, token: impl Into<String>) -> Result<Session> {
        let token = checked_token(token.into())?;
        Ok(Session { token: Arc::new(RwLock::new(token)), ..self.clone() })
    }

    /// The current token, to hand to another process (after a login, say). `Debug` of
    /// the [`Secret`](crate::Secret) shows `<redacted>`; keep its value out of logs.
    pub fn token_secret(&self) -> crate::Secret {
        crate::Secret::new(self.token().to_string())
    }

    /// The current token (never printed by this crate).
    pub(crate) fn token(&self) -> Arc<str> {
        self.token.read().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// `/api/v3/companies/{company_id}` followed by `rest`.
    pub(crate) fn company_path(&self, rest: &str) -> String {
        format!("/api/v3/companies/{}{rest}", self.company_id)
    }

    /// `/api/v1/companies/{company_id}` followed by `rest` (datasets and subjects).
    pub(crate) fn v1_company_path(&self, rest: &str) -> String {
        format!("/api/v1/companies/{}{rest}", self.company_id)
    }

    /// This session, now authenticated as `company_id` with `token` (after a login).
    pub(crate) fn logged_in(self, company_id: Uuid, token: String) -> Result<Session> {
        let token = checked_token(token)?;
        Ok(Session { token: Arc::new(RwLock::new(token)), company_id, ..self })
    }
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("base_url", &self.shared.base_url)
            .field("company_id", &self.company_id)
            .field("subject_id", &self.subject_id)
            .field("token", &"<redacted>")
            .field("retry", &self.shared.retry)
            .field("deadline", &self.shared.deadline)
            .finish_non_exhaustive()
    }
}

/// Configures and builds a [`Session`].
///
/// ```
/// use std::time::Duration;
/// use hautai::{RetryPolicy, Session};
///
/// let session = Session::builder("token", uuid::Uuid::nil())
///     .base_url("https://saas.haut.ai/")
///     .request_timeout(Duration::from_secs(20))
///     .retry(RetryPolicy::default().max_retries(5))
///     .deadline(Duration::from_secs(600))
///     .build()?;
/// assert_eq!(session.base_url(), "https://saas.haut.ai");
/// # Ok::<(), hautai::Error>(())
/// ```
#[must_use]
pub struct SessionBuilder {
    token: String,
    company_id: Uuid,
    subject_id: Option<Uuid>,
    base_url: String,
    allow_insecure_http: bool,
    user_agent: String,
    retry: RetryPolicy,
    connect_timeout: Duration,
    request_timeout: Duration,
    io_timeout: Duration,
    max_response_bytes: u64,
    poll: PollSchedule,
    deadline: Duration,
    clock: Arc<dyn Clock>,
}

impl fmt::Debug for SessionBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionBuilder")
            .field("base_url", &self.base_url)
            .field("company_id", &self.company_id)
            .field("token", &"<redacted>")
            .finish_non_exhaustive()
    }
}

impl Default for SessionBuilder {
    /// A builder without credentials, for [`login`](SessionBuilder::login).
    fn default() -> Self {
        SessionBuilder::new(String::new(), Uuid::nil())
    }
}

impl SessionBuilder {
    /// A builder with the defaults: `https://saas.haut.ai`, connect timeout 10 s, request
    /// timeout 60 s, I/O stall timeout 30 s, [`RetryPolicy::default`],
    /// [`PollSchedule::default`], a 5-minute pipeline deadline, a 64 MiB read limit.
    pub fn new(token: impl Into<String>, company_id: Uuid) -> Self {
        SessionBuilder {
            token: token.into(),
            company_id,
            subject_id: None,
            base_url: DEFAULT_BASE_URL.to_owned(),
            allow_insecure_http: false,
            user_agent: concat!("hautai/", env!("CARGO_PKG_VERSION")).to_owned(),
            retry: RetryPolicy::default(),
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(60),
            io_timeout: Duration::from_secs(30),
            max_response_bytes: 64 << 20,
            poll: PollSchedule::default(),
            deadline: Duration::from_secs(300),
            clock: Arc::new(SystemClock),
        }
    }

    /// A builder from `HAUTAI_TOKEN`, `HAUTAI_COMPANY_ID`, optional `HAUTAI_SUBJECT_ID`
    /// and `HAUTAI_BASE_URL`; the error names the variable that is missing or malformed.
    pub fn from_env() -> Result<Self> {
        Self::from_vars(|name| std::env::var(name).ok())
    }

    /// [`from_env`](Self::from_env) over any source of variables (testable).
    pub(crate) fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Self> {
        let read = |name: &'static str| var(name).filter(|v| !v.trim().is_empty());
        let token = read("HAUTAI_TOKEN")
            .ok_or(Error::Env { var: "HAUTAI_TOKEN", problem: "is not set: give it your Haut.ai token".into() })?;
        let uuid_var = |name: &'static str| -> Result<Option<Uuid>> {
            read(name)
                .map(|v| {
                    Uuid::parse_str(v.trim())
                        .map_err(|_| Error::Env { var: name, problem: format!("is not a uuid: {:?}", v.trim()) })
                })
                .transpose()
        };
        let company_id = uuid_var("HAUTAI_COMPANY_ID")?.ok_or(Error::Env {
            var: "HAUTAI_COMPANY_ID",
            problem: "is not set: give it your company's uuid".into(),
        })?;
        let mut builder = SessionBuilder::new(token.trim(), company_id);
        builder.subject_id = uuid_var("HAUTAI_SUBJECT_ID")?;
        if let Some(url) = read("HAUTAI_BASE_URL") {
            parse_base_url(url.trim(), false)
                .map_err(|problem| Error::Env { var: "HAUTAI_BASE_URL", problem: format!("is invalid: {problem}") })?;
            builder.base_url = url.trim().to_owned();
        }
        Ok(builder)
    }

    /// The subject uploads go to when a call names none.
    pub fn subject_id(mut self, subject_id: Uuid) -> Self {
        self.subject_id = Some(subject_id);
        self
    }

    /// The API's base URL (default `https://saas.haut.ai`). A trailing slash is ignored and
    /// a path prefix is kept. Plain `http://` is refused unless the host is loopback or
    /// [`allow_insecure_http`](Self::allow_insecure_http) is set.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into();
        self
    }

    /// Allows a plain `http://` base URL to a non-loopback host (the token then travels
    /// in clear text; meant for test rigs behind a trusted network).
    pub fn allow_insecure_http(mut self, allow: bool) -> Self {
        self.allow_insecure_http = allow;
        self
    }

    /// The `User-Agent` header (default `hautai/<version>`).
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    /// How failed requests are retried.
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// The longest wait for a connection to open (default 10 s). Every duration setting
    /// must be longer than zero ([`build`](Self::build) names the one that is not) and is
    /// clamped to [`MAX_DURATION`](crate::MAX_DURATION) (a day).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// The longest each phase of an API request may take: sending it, waiting for the
    /// answer, reading the answer (default 60 s). Uploads are bounded by
    /// [`io_timeout`](Self::io_timeout) and the deadline instead, since their duration
    /// grows with the image size. Under a pipeline's deadline, the time left also caps each
    /// whole request.
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// The longest a connection may stall, sending or receiving (default 30 s).
    pub fn io_timeout(mut self, timeout: Duration) -> Self {
        self.io_timeout = timeout;
        self
    }

    /// The largest answer read (default 64 MiB; results with masks can be large).
    pub fn max_response_bytes(mut self, limit: u64) -> Self {
        self.max_response_bytes = limit;
        self
    }

    /// How results are polled (see [`PollSchedule`]).
    pub fn poll_schedule(mut self, schedule: PollSchedule) -> Self {
        self.poll = schedule;
        self
    }

    /// The default time limit of a whole pipeline call (default 5 minutes; longer than zero,
    /// at most [`MAX_DURATION`](crate::MAX_DURATION)).
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.deadline = deadline;
        self
    }

    /// The clock used for waits and the deadline (tests give a
    /// [`VirtualClock`](crate::clock::VirtualClock)).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Checks the settings and builds the session.
    pub fn build(self) -> Result<Session> {
        let token = checked_token(self.token.clone())?;
        self.build_with(token)
    }

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
        self.build_with(Arc::from(""))?.log_in(email, password)
    }

    fn build_with(self, token: Arc<str>) -> Result<Session> {
        let base = parse_base_url(&self.base_url, self.allow_insecure_http).map_err(Error::Config)?;
        if self.user_agent.chars().any(char::is_control) {
            return Err(Error::Config("the user agent contains control characters".into()));
        }
        let connect_timeout = limits::positive("SessionBuilder::connect_timeout", self.connect_timeout)?;
        let request_timeout = limits::positive("SessionBuilder::request_timeout", self.request_timeout)?;
        let io_timeout = limits::positive("SessionBuilder::io_timeout", self.io_timeout)?;
        let deadline = limits::positive("SessionBuilder::deadline", self.deadline)?;
        let agent = build_agent(&self.user_agent, base.loopback);
        let shared = Shared {
            agent,
            base_url: base.url,
            retry: self.retry,
            connect_timeout,
            request_timeout,
            io_timeout,
            max_response_bytes: self.max_response_bytes,
            poll: self.poll,
            deadline,
            clock: self.clock,
        };
        Ok(Session {
            shared: Arc::new(shared),
            token: Arc::new(RwLock::new(token)),
            company_id: self.company_id,
            subject_id: self.subject_id,
        })
    }
}

/// One agent (one connection pool) per session family.
fn build_agent(user_agent: &str, loopback: bool) -> ureq::Agent {
    let mut config = ureq::Agent::config_builder()
        // Error statuses are answers we read (the server's message), not ureq errors.
        .http_status_as_error(false)
        // A followed redirect turns a POST/PUT into a bodiless GET and drops auth: never.
        .max_redirects(0)
        .user_agent(user_agent);
    config = with_tls(config);
    if loopback {
        // Proxies cannot reach the caller's loopback; ignore HTTP(S)_PROXY for it.
        config = config.proxy(None);
    }
    config.build().into()
}

type AgentConfig = ureq::config::ConfigBuilder<ureq::typestate::AgentScope>;

#[cfg(feature = "native-tls")]
fn with_tls(config: AgentConfig) -> AgentConfig {
    // The platform's TLS library with its root store: what TLS-inspecting proxies need.
    config.tls_config(
        ureq::tls::TlsConfig::builder()
            .provider(ureq::tls::TlsProvider::NativeTls)
            .root_certs(ureq::tls::RootCerts::PlatformVerifier)
            .build(),
    )
}

#[cfg(all(feature = "platform-verifier", not(feature = "native-tls")))]
fn with_tls(config: AgentConfig) -> AgentConfig {
    config.tls_config(ureq::tls::TlsConfig::builder().root_certs(ureq::tls::RootCerts::PlatformVerifier).build())
}

/// rustls with Mozilla's roots (ureq's default), or no TLS at all without a TLS feature
/// (plain http to loopback only: the emulator).
#[cfg(not(any(feature = "native-tls", feature = "platform-verifier")))]
fn with_tls(config: AgentConfig) -> AgentConfig {
    config
}

/// A token must be a valid header value: visible ASCII, no spaces, no line breaks.
fn checked_token(token: String) -> Result<Arc<str>> {
    if token.is_empty() {
        return Err(Error::Config("the token is empty".into()));
    }
    if !token.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(Error::Config(
            "the token contains spaces, line breaks or non-ascii characters (check how it was copied)".into(),
        ));
    }
    Ok(token.into())
}

/// A checked base URL.
#[derive(Debug, PartialEq)]
pub(crate) struct BaseUrl {
    /// Scheme, authority and path prefix, without a trailing slash.
    pub(crate) url: String,
    /// Whether the host is a loopback address.
    pub(crate) loopback: bool,
}

/// Checks `raw` as a base URL: `http(s)://host[:port][/prefix]`, nothing else.
pub(crate) fn parse_base_url(raw: &str, allow_insecure_http: bool) -> Result<BaseUrl, String> {
    // Checked first, so that no message below repeats a URL holding a password.
    if raw.contains('@') {
        return Err("the base url must not contain credentials (user:password@)".into());
    }
    let (scheme, rest) = raw.split_once("://").ok_or_else(|| format!("{raw:?} is not an absolute url"))?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return Err(format!("{raw:?} does not start with https:// or http://"));
    }
    if rest.contains(['?', '#']) || rest.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!("{raw:?} must not contain a query, a fragment or spaces"));
    }
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let host = host_of(authority).ok_or_else(|| format!("{raw:?} has no host"))?;
    let loopback = host.eq_ignore_ascii_case("localhost") || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback());
    if scheme == "http" && !loopback && !allow_insecure_http {
        return Err(format!(
            "{raw:?} uses plain http to a non-loopback host: the token would travel unencrypted \
             (use https, or allow_insecure_http(true) if you really mean it)"
        ));
    }
    let path = path.trim_end_matches('/');
    Ok(BaseUrl { url: format!("{scheme}://{authority}{path}"), loopback })
}

/// The host of an authority (`host`, `host:port`, `[v6]:port`), without brackets.
fn host_of(authority: &str) -> Option<&str> {
    let host =
        if let Some(v6) = authority.strip_prefix('[') { v6.split_once(']')?.0 } else { authority.split(':').next()? };
    (!host.is_empty()).then_some(host)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_keep_their_prefix_and_lose_trailing_slashes() {
        let b = parse_base_url("https://saas.haut.ai/", false).unwrap();
        assert_eq!(b, BaseUrl { url: "https://saas.haut.ai".into(), loopback: false });
        let b = parse_base_url("HTTP://127.0.0.1:8080/proxy/haut//", false).unwrap();
        assert_eq!(b, BaseUrl { url: "http://127.0.0.1:8080/proxy/haut".into(), loopback: true });
        assert!(parse_base_url("http://[::1]:9000", false).unwrap().loopback);
        assert!(parse_base_url("http://localhost:9000", false).unwrap().loopback);
    }

    #[test]
    fn plain_http_elsewhere_needs_an_opt_in() {
        let err = parse_base_url("http://example.com", false).unwrap_err();
        assert!(err.contains("unencrypted"), "{err}");
        assert!(parse_base_url("http://example.com", true).is_ok());
    }

    #[test]
    fn malformed_base_urls_are_refused() {
        for bad in ["saas.haut.ai", "ftp://x", "https://", "https://u:p@host", "https://h/?q=1", "https://h /x"] {
            assert!(parse_base_url(bad, false).is_err(), "{bad}");
        }
        let err = parse_base_url("ftp://user:hunter2@host", false).unwrap_err();
        assert!(!err.contains("hunter2"), "{err}");
    }

    #[test]
    fn tokens_must_be_header_safe() {
        assert!(checked_token("abc.DEF-123_=".into()).is_ok());
        for bad in ["", "with space", "line\nbreak", "tab\t", "é"] {
            assert!(checked_token(bad.into()).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn env_errors_name_the_variable() {
        fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
            let owned: Vec<(String, String)> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
            move |name: &str| owned.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
        }
        let var_of = |r: Result<SessionBuilder>| match r {
            Err(Error::Env { var, .. }) => var,
            other => panic!("expected an env error, got {other:?}"),
        };
        assert_eq!(var_of(SessionBuilder::from_vars(vars(&[]))), "HAUTAI_TOKEN");
        assert_eq!(var_of(SessionBuilder::from_vars(vars(&[("HAUTAI_TOKEN", "t")]))), "HAUTAI_COMPANY_ID");
        let bad_company = &[("HAUTAI_TOKEN", "t"), ("HAUTAI_COMPANY_ID", "nope")];
        assert_eq!(var_of(SessionBuilder::from_vars(vars(bad_company))), "HAUTAI_COMPANY_ID");
        let company = "3fa85f64-5717-4562-b3fc-2c963f66afa6";
        let bad_subject = &[("HAUTAI_TOKEN", "t"), ("HAUTAI_COMPANY_ID", company), ("HAUTAI_SUBJECT_ID", "x")];
        assert_eq!(var_of(SessionBuilder::from_vars(vars(bad_subject))), "HAUTAI_SUBJECT_ID");
        let bad_url =
            &[("HAUTAI_TOKEN", "t"), ("HAUTAI_COMPANY_ID", company), ("HAUTAI_BASE_URL", "http://evil.example")];
        assert_eq!(var_of(SessionBuilder::from_vars(vars(bad_url))), "HAUTAI_BASE_URL");
        let good = &[
            ("HAUTAI_TOKEN", "t"),
            ("HAUTAI_COMPANY_ID", company),
            ("HAUTAI_SUBJECT_ID", company),
            ("HAUTAI_BASE_URL", "http://127.0.0.1:1/"),
        ];
        let session = SessionBuilder::from_vars(vars(good)).unwrap().build().unwrap();
        assert_eq!(session.base_url(), "http://127.0.0.1:1");
        assert_eq!(session.subject_id(), Some(company.parse().unwrap()));
    }
}
