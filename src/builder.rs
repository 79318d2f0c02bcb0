//! [`SessionBuilder`]: every setting of a session, checked once in
//! [`build`](SessionBuilder::build), and the environment variables of
//! [`from_env`](SessionBuilder::from_env).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use uuid::Uuid;

use crate::clock::{Clock, SystemClock};
use crate::destination::Downloads;
use crate::error::{Error, ErrorKind, Result};
use crate::learned::Readiness;
use crate::poll::PollSchedule;
use crate::retry::RetryPolicy;
use crate::session::KeepAlive;
use crate::session::{Session, Shared, checked_token};
use crate::transport::{Pressure, Transport, build_agent};
use crate::util::limits;
use crate::util::url::BaseUrl;

/// The default API host.
pub const DEFAULT_BASE_URL: &str = "https://saas.haut.ai";

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
}

/// Configures and builds a [`Session`].
///
/// ```
/// use std::time::Duration;
/// use hautai::Session;
/// use hautai::config::RetryPolicy;
///
/// let session = Session::builder("token", hautai::Uuid::nil())
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
    pub(crate) subject_id: Option<Uuid>,
    base_url: String,
    allow_insecure_http: bool,
    download_from_any_host: bool,
    /// Something the session keeps alive (the emulator it talks to).
    keep_alive: Option<KeepAlive>,
    user_agent: String,
    retry: RetryPolicy,
    connect_timeout: Duration,
    request_timeout: Duration,
    io_timeout: Duration,
    max_response_bytes: u64,
    poll: PollSchedule,
    deadline: Duration,
    clock: Arc<dyn Clock>,
    rate_limit: Option<f64>,
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
            download_from_any_host: false,
            keep_alive: None,
            user_agent: concat!("hautai/", env!("CARGO_PKG_VERSION")).to_owned(),
            retry: RetryPolicy::default(),
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(60),
            io_timeout: Duration::from_secs(30),
            max_response_bytes: 64 << 20,
            poll: PollSchedule::default(),
            deadline: Duration::from_secs(300),
            clock: Arc::new(SystemClock),
            rate_limit: None,
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
        let env = |var: &'static str, problem: String| Error::from(ErrorKind::Env { var, problem });
        let token =
            read("HAUTAI_TOKEN").ok_or_else(|| env("HAUTAI_TOKEN", "is not set: give it your Haut.ai token".into()))?;
        let uuid_var = |name: &'static str| -> Result<Option<Uuid>> {
            read(name)
                .map(|v| Uuid::parse_str(v.trim()).map_err(|_| env(name, format!("is not a uuid: {:?}", v.trim()))))
                .transpose()
        };
        let company_id = uuid_var("HAUTAI_COMPANY_ID")?
            .ok_or_else(|| env("HAUTAI_COMPANY_ID", "is not set: give it your company's uuid".into()))?;
        let mut builder = SessionBuilder::new(token.trim(), company_id);
        builder.subject_id = uuid_var("HAUTAI_SUBJECT_ID")?;
        if let Some(url) = read("HAUTAI_BASE_URL") {
            BaseUrl::parse(url.trim(), false)
                .map_err(|problem| env("HAUTAI_BASE_URL", format!("is invalid: {problem}")))?;
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

    /// Allows [`Session::download`](crate::Session::download) from any `http(s)` URL the
    /// results hold. By default a download goes over https to public addresses only (never
    /// loopback, private or link-local ones such as the cloud metadata service at
    /// 169.254.169.254), unless the API itself is on a loopback or private address (the
    /// emulator, a test rig). Turn this on only for storage you know is on such an address.
    pub fn download_from_any_host(mut self, allow: bool) -> Self {
        self.download_from_any_host = allow;
        self
    }

    /// Keeps `guard` alive as long as any clone of the session (the emulator a session
    /// talks to, so that it cannot stop under it).
    #[cfg_attr(not(feature = "emulator"), allow(dead_code))]
    pub(crate) fn keep_alive(mut self, guard: KeepAlive) -> Self {
        self.keep_alive = Some(guard);
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
    /// clamped to [`MAX_DURATION`](crate::config::MAX_DURATION) (a day).
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
    /// at most [`MAX_DURATION`](crate::config::MAX_DURATION)).
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.deadline = deadline;
        self
    }

    /// The clock used for waits and the deadline (tests give a `clock::VirtualClock`,
    /// feature `test-util`).
    #[cfg(feature = "test-util")]
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Limits API requests to `per_second` across every clone and thread of the session,
    /// for a quota you know. Without it the session still limits itself once the service
    /// says "too many requests": a 429 cuts the rate to 70% of what the service showed it
    /// takes, which grows back along a cubic curve (CUBIC, as the AWS SDKs' adaptive mode);
    /// this setting is where that starts and a ceiling it never passes. Uploads to storage are
    /// not limited. Values that are not positive and finite are refused by
    /// [`build`](Self::build).
    pub fn rate_limit(mut self, per_second: f64) -> Self {
        self.rate_limit = Some(per_second);
        self
    }

    /// Checks the settings and builds the session.
    pub fn build(self) -> Result<Session> {
        let token = checked_token(self.token.clone())?;
        let (company_id, subject_id) = (self.company_id, self.subject_id);
        Ok(Session::new(self.shared()?, token, company_id, subject_id))
    }

    /// The checked settings every clone of the session will share.
    pub(crate) fn shared(self) -> Result<Shared> {
        let base = BaseUrl::parse(&self.base_url, self.allow_insecure_http).map_err(ErrorKind::Config)?;
        if self.user_agent.chars().any(char::is_control) {
            Err(ErrorKind::Config("the user agent contains control characters".into()))?;
        }
        let connect_timeout = limits::positive("SessionBuilder::connect_timeout", self.connect_timeout)?;
        let request_timeout = limits::positive("SessionBuilder::request_timeout", self.request_timeout)?;
        let io_timeout = limits::positive("SessionBuilder::io_timeout", self.io_timeout)?;
        let deadline = limits::positive("SessionBuilder::deadline", self.deadline)?;
        if self.rate_limit.is_some_and(|rate| !(rate.is_finite() && rate > 0.0)) {
            Err(ErrorKind::Config("SessionBuilder::rate_limit must be a positive number of requests".into()))?;
        }
        let transport = Transport {
            agent: build_agent(&self.user_agent, base.loopback),
            api_host: crate::util::url::authority_of(&base.url),
            base_url: base.url,
            retry: self.retry,
            connect_timeout,
            request_timeout,
            io_timeout,
            max_response_bytes: self.max_response_bytes,
            clock: self.clock,
            pressure: Pressure::new(self.retry.budget(), self.rate_limit),
        };
        let downloads = Downloads::for_base_url(&transport.base_url, self.download_from_any_host);
        Ok(Shared {
            transport,
            poll: self.poll,
            deadline,
            readiness: Readiness::default(),
            downloads,
            _keep_alive: self.keep_alive,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_errors_name_the_variable() {
        fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
            let owned: Vec<(String, String)> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
            move |name: &str| owned.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
        }
        let var_of = |r: Result<SessionBuilder>| match r.map_err(Error::into_kind) {
            Err(ErrorKind::Env { var, .. }) => var,
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
