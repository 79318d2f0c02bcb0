//! The one request path. Every API call and every upload is an [`Outgoing`] request handed to
//! [`Transport::send`]: it adds the token (API calls that have one), applies timeouts and
//! the deadline, never follows redirects, retries per the [`RetryPolicy`], reads bodies
//! with a limit, and maps every failure to [`Error`](crate::Error).
//!
//! In the style of ureq's `run()`: the transport owns no user-facing state. The token
//! comes with each call, so a session can change it and a login can run before any exists.
//!
//! * `send.rs`: the retry loop around attempts, within the call's deadline.
//! * `attempt.rs`: one attempt: build the request, run it, read the answer.
//! * `failure.rs`: what a failed attempt means: the error, and whether to retry.
//! * `error_body.rs`: the server's message in a JSON, HTML or XML error body.
//! * `retry_after.rs`: the `Retry-After` header.
//! * `pressure.rs`: backpressure shared by all requests (holds, retry budget, rate limit);
//!   `limiter.rs`: the adaptive rate limit.
//! * `agent.rs`: the ureq agent (one connection pool) and its TLS.

mod agent;
mod attempt;
mod error_body;
mod failure;
mod limiter;
mod pressure;
mod retry_after;
mod send;

use std::collections::BTreeMap;
use std::io::{self, Read};
use std::sync::Arc;
use std::time::Duration;

use crate::clock::Clock;
use crate::model::Side;
use crate::retry::RetryPolicy;
use crate::util::redact;
use crate::util::url;

pub(crate) use agent::build_agent;
pub(crate) use pressure::Pressure;

/// The request path's settings and its connection pool, shared by every clone of a session.
pub(crate) struct Transport {
    pub(crate) agent: ureq::Agent,
    /// Scheme, host and path prefix, without a trailing slash.
    pub(crate) base_url: String,
    /// `host:port` of the base URL, worked out once: holds and messages go by it.
    pub(crate) api_host: String,
    pub(crate) retry: RetryPolicy,
    pub(crate) connect_timeout: Duration,
    pub(crate) request_timeout: Duration,
    pub(crate) io_timeout: Duration,
    pub(crate) max_response_bytes: u64,
    pub(crate) clock: Arc<dyn Clock>,
    /// Holds, the retry budget and the rate limit, shared by every request.
    pub(crate) pressure: Pressure,
}

/// Where a request goes.
pub(crate) enum Dest<'a> {
    /// The API: a path below the base URL and an encoded query (without `?`); carries the
    /// call's token as a bearer. `secret_answer`: the answer holds credentials, so no
    /// excerpt of its body goes into an error.
    Api { path: String, query: String, secret_answer: bool },
    /// A signed storage URL with the headers that were signed; never carries the token.
    /// `side`: the image uploaded; `download`: the request fetches an asset.
    Storage { url: &'a str, headers: &'a BTreeMap<String, String>, side: Option<Side>, download: bool },
}

/// What a request sends.
pub(crate) enum Payload<'a> {
    None,
    Json(Vec<u8>),
    /// `len` bytes from a reader opened anew for every attempt (retries re-send it all).
    Stream {
        len: u64,
        open: &'a (dyn Fn() -> io::Result<Box<dyn Read + Send + 'a>> + Sync),
    },
}

/// One request, as the endpoint methods describe it.
pub(crate) struct Outgoing<'a> {
    pub(crate) method: &'static str,
    pub(crate) dest: Dest<'a>,
    pub(crate) payload: Payload<'a>,
    /// The session's token, when there is one (a login has none yet): sent to the API
    /// only, never to storage, and replaced in every answer and message either way.
    pub(crate) token: Option<Arc<str>>,
    /// Where a successful answer's body goes as it arrives, instead of into memory.
    pub(crate) sink: Option<&'a Sink<'a>>,
}

/// Takes a successful answer's body chunk by chunk.
pub(crate) type Sink<'a> = dyn Fn(&[u8]) -> io::Result<()> + 'a;

impl Outgoing<'_> {
    /// What errors and events name: the method and the path, never a query (signatures
    /// live there).
    fn request(&self) -> crate::error::Request {
        let path = match &self.dest {
            Dest::Api { path, .. } => path.clone(),
            Dest::Storage { url, .. } => url::path_of(url),
        };
        crate::error::Request { method: self.method, path }
    }

    /// The token to hide ("" when there is none).
    fn token(&self) -> &str {
        self.token.as_deref().unwrap_or_default()
    }

    /// `text` without any secret: signatures, secret fields, the call's token.
    fn scrubbed(&self, text: &str) -> String {
        redact::scrub_with_token(text, self.token())
    }
}

/// Timeouts of one attempt, after capping by the deadline.
struct Timeouts {
    /// A hard cap on the whole attempt, set only under a deadline: ureq enforces a
    /// whole-request timeout by resolving the host on a thread of its own, a cost (tens of
    /// microseconds a call) worth paying for a deadline but not for every plain call.
    pub(crate) total: Option<Duration>,
    /// The bound of each phase of an API exchange: sending, awaiting and reading the answer.
    pub(crate) phase: Option<Duration>,
    pub(crate) connect: Duration,
    pub(crate) io: Duration,
}

impl Transport {
    /// `host:port` a call goes to (never a path or a query).
    fn host_of(&self, call: &Outgoing<'_>) -> std::borrow::Cow<'_, str> {
        match &call.dest {
            Dest::Api { .. } => self.api_host.as_str().into(),
            Dest::Storage { url, .. } => url::authority_of(url).into(),
        }
    }
}

/// A successful (2xx) answer.
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) body: Vec<u8>,
}
