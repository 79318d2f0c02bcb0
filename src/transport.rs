//! The one request path. Every API call and every upload goes through [`Session::send`]:
//! it adds auth (API only), applies timeouts and the deadline, never follows redirects,
//! retries per the [`RetryPolicy`](crate::RetryPolicy), reads bodies with a limit, and
//! maps every failure to [`Error`].

use std::collections::BTreeMap;
use std::io::{self, Read};
use std::time::Duration;

use ureq::http;

use crate::error::{ApiError, Error, Result, StorageError, TransportKind};
use crate::model::Side;
use crate::observe::{CallContext, Event};
use crate::redact;
use crate::retry::{Attempt, Idempotency, jitter_unit, parse_retry_after, should_retry};
use crate::session::Session;

/// How much of an error body is read (the rest is not needed for a message).
const ERROR_BODY_LIMIT: u64 = 64 * 1024;
/// How much of a body goes into an error message.
const EXCERPT_CHARS: usize = 300;

/// Where a request goes.
pub(crate) enum Dest<'a> {
    /// The API: a path below the base URL and an encoded query (without `?`); carries the
    /// bearer token. `secret_answer`: the answer holds credentials, so no excerpt of its
    /// body goes into an error.
    Api { path: String, query: String, secret_answer: bool },
    /// A signed storage URL with the headers that were signed; never carries the token.
    Storage { url: &'a str, headers: &'a BTreeMap<String, String>, side: Option<Side> },
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
pub(crate) struct Call<'a> {
    pub(crate) method: &'static str,
    pub(crate) dest: Dest<'a>,
    pub(crate) payload: Payload<'a>,
}

impl Call<'_> {
    fn idempotency(&self) -> Idempotency {
        if self.method == "POST" { Idempotency::NotIdempotent } else { Idempotency::Idempotent }
    }

    /// The request could not be built or its body not read: final.
    fn request_error(&self, detail: String) -> Failure {
        let kind = TransportKind::Request;
        Failure::fatal(Error::Transport { method: self.method, path: self.shown_path(), kind, detail })
    }

    /// The path shown in errors and events: never a query (signatures live there).
    fn shown_path(&self) -> String {
        match &self.dest {
            Dest::Api { path, .. } => path.clone(),
            Dest::Storage { url, .. } => storage_path(url),
        }
    }
}

/// A successful (2xx) answer.
pub(crate) struct Reply {
    pub(crate) body: Vec<u8>,
}

/// A failed attempt: the error to report and what it means for a retry.
struct Failure {
    error: Error,
    attempt: Attempt,
    retry_after: Option<Duration>,
}

impl Failure {
    /// A failure that another try cannot fix.
    fn fatal(error: Error) -> Failure {
        Failure { error, attempt: Attempt::Final, retry_after: None }
    }
}

impl Session {
    /// Sends `call`, retrying per the session's policy within `ctx`'s deadline.
    pub(crate) fn send(&self, call: &Call<'_>, ctx: &CallContext<'_>) -> Result<Reply> {
        let policy = self.shared.retry;
        let clock = &*self.shared.clock;
        let mut retry = 0;
        loop {
            ctx.check().map_err(Error::from)?;
            let failure = match self.attempt(call, ctx) {
                Ok(reply) => return Ok(reply),
                Err(failure) => failure,
            };
            // A stop request may be why the attempt failed (an upload aborts its read).
            ctx.check().map_err(Error::from)?;
            let attempts = retry + 1;
            if retry >= policy.retries() || !should_retry(failure.attempt, call.idempotency()) {
                return Err(failure.error.after_attempts(attempts));
            }
            let mut delay = policy.backoff(retry, jitter_unit());
            if let Some(wait) = failure.retry_after {
                let limit = ctx.remaining(clock).map_or(policy.retry_after_cap(), |r| r.min(policy.retry_after_cap()));
                if wait > limit {
                    let status = failure.error.status().unwrap_or_default();
                    return Err(Error::RetryAfterTooLong {
                        method: call.method,
                        path: call.shown_path(),
                        status,
                        wait,
                        limit,
                    });
                }
                delay = delay.max(wait);
            }
            if ctx.remaining(clock).is_some_and(|left| delay >= left) {
                // Waiting would run past the deadline: the failure is the answer.
                return Err(failure.error.after_attempts(attempts));
            }
            retry += 1;
            let what = format!("{} {}", call.method, call.shown_path());
            let event = Event::Retrying { what: &what, cause: &failure.error, retry, delay };
            ctx.emit(event).map_err(Error::from)?;
            ctx.sleep(clock, delay).map_err(Error::from)?;
        }
    }

    /// One try: build, send, read.
    fn attempt(&self, call: &Call<'_>, ctx: &CallContext<'_>) -> Result<Reply, Failure> {
        let left = ctx.remaining(&*self.shared.clock);
        if left.is_some_and(|l| l.is_zero()) {
            let error = Error::Timeout {
                method: call.method,
                path: call.shown_path(),
                after: Duration::ZERO,
                connecting: true,
            };
            return Err(Failure::fatal(error));
        }
        let timeouts = self.timeouts(call, left);
        let mut builder = self.request_head(call);
        let request_error = |e: http::Error| call.request_error(self.scrubbed(&e.to_string()));
        let sent = match &call.payload {
            Payload::None => self.run(builder.body(()).map_err(request_error)?, &timeouts),
            Payload::Json(bytes) => {
                builder = builder.header("content-type", "application/json").header("content-length", bytes.len());
                let mut reader = io::Cursor::new(bytes.as_slice());
                let body = ureq::SendBody::from_reader(&mut reader);
                self.run(builder.body(body).map_err(request_error)?, &timeouts)
            }
            Payload::Stream { len, open } => {
                // An explicit length: signed uploads must not be chunked.
                builder = builder.header("content-length", *len);
                let source = open().map_err(|e| call.request_error(format!("cannot read the image: {e}")))?;
                let mut reader = ExactLength { inner: source, left: *len };
                let body = ureq::SendBody::from_reader(&mut reader);
                self.run(builder.body(body).map_err(request_error)?, &timeouts)
            }
        };
        let response = sent.map_err(|e| self.transport_failure(call, e, &timeouts))?;
        self.read_answer(call, response, &timeouts)
    }

    /// Method, URL and headers: the token for the API, the signed headers for storage.
    fn request_head(&self, call: &Call<'_>) -> http::request::Builder {
        let builder = http::Request::builder().method(call.method);
        match &call.dest {
            Dest::Api { path, query, .. } => {
                let sep = if query.is_empty() { "" } else { "?" };
                let mut builder = builder
                    .uri(format!("{}{path}{sep}{query}", self.shared.base_url))
                    .header("accept", "application/json");
                // Only a session that is logging in has no token yet.
                let token = self.token();
                if !token.is_empty() {
                    builder = builder.header("authorization", format!("Bearer {token}"));
                }
                builder
            }
            Dest::Storage { url, headers, .. } => {
                // The URL fixes the host; every other signed header goes out verbatim.
                headers
                    .iter()
                    .filter(|(name, _)| !name.eq_ignore_ascii_case("host"))
                    .fold(builder.uri(*url), |b, (name, value)| b.header(name.as_str(), value.as_str()))
            }
        }
    }

    /// The timeouts of one attempt with `left` before the deadline.
    fn timeouts(&self, call: &Call<'_>, left: Option<Duration>) -> Timeouts {
        let shared = &*self.shared;
        let cap = |d: Duration| left.map_or(d, |l| d.min(l));
        let api = matches!(call.dest, Dest::Api { .. });
        // API exchanges are bounded phase by phase; an upload's duration grows with its
        // size, so it is bounded by the stall timeout instead. A deadline caps it all.
        Timeouts {
            total: left.map(|l| if api { l.min(shared.request_timeout) } else { l }),
            phase: api.then(|| cap(shared.request_timeout)),
            connect: cap(shared.connect_timeout),
            io: cap(shared.io_timeout),
        }
    }

    /// Reads a 2xx body with the read limit, or turns any other status into a failure.
    fn read_answer(
        &self,
        call: &Call<'_>,
        mut response: http::Response<ureq::Body>,
        timeouts: &Timeouts,
    ) -> Result<Reply, Failure> {
        let status = response.status().as_u16();
        match status {
            200..=299 => {
                let limit = self.shared.max_response_bytes;
                let body = response.body_mut().with_config().limit(limit).read_to_vec().map_err(|e| match e {
                    ureq::Error::BodyExceedsLimit(_) => {
                        Failure::fatal(Error::ResponseTooLarge { method: call.method, path: call.shown_path(), limit })
                    }
                    other => self.transport_failure(call, other, timeouts),
                })?;
                Ok(Reply { body: self.without_token(body) })
            }
            300..=399 => {
                let location = header(&response, "location").map(|l| self.scrubbed(&l)).unwrap_or_default();
                Err(Failure::fatal(Error::Redirect { method: call.method, path: call.shown_path(), status, location }))
            }
            _ => {
                let retry_after =
                    header(&response, "retry-after").and_then(|v| parse_retry_after(&v, self.shared.clock.wall()));
                let mut raw = Vec::new();
                // A broken error body still leaves a status worth reporting.
                let _ = response.body_mut().as_reader().take(ERROR_BODY_LIMIT).read_to_end(&mut raw);
                Err(self.status_failure(call, status, &String::from_utf8_lossy(&raw), retry_after))
            }
        }
    }

    /// Runs one request on the shared agent with this attempt's timeouts.
    fn run(
        &self,
        request: http::Request<impl ureq::AsSendBody>,
        timeouts: &Timeouts,
    ) -> Result<http::Response<ureq::Body>, ureq::Error> {
        let agent = &self.shared.agent;
        let mut config = agent
            .configure_request(request)
            .timeout_connect(Some(timeouts.connect))
            .timeout_per_read(Some(timeouts.io))
            .timeout_per_write(Some(timeouts.io));
        if let Some(total) = timeouts.total {
            config = config.timeout_global(Some(total));
        }
        if let Some(phase) = timeouts.phase {
            config = config
                .timeout_send_request(Some(phase))
                .timeout_send_body(Some(phase))
                .timeout_recv_response(Some(phase))
                .timeout_recv_body(Some(phase));
        }
        agent.run(config.build())
    }

    /// Maps an error status to a failure: an API error or a storage error.
    fn status_failure(&self, call: &Call<'_>, status: u16, raw: &str, retry_after: Option<Duration>) -> Failure {
        let text = &self.scrubbed(raw);
        match &call.dest {
            Dest::Api { secret_answer, .. } => {
                let error = ApiError {
                    method: call.method,
                    path: call.shown_path(),
                    status,
                    message: api_message(text),
                    body_excerpt: if *secret_answer {
                        String::new()
                    } else {
                        redact::scrubbed_excerpt(raw, &self.token(), EXCERPT_CHARS)
                    },
                    retry_after,
                    attempts: 1,
                };
                Failure { error: Error::Api(Box::new(error)), attempt: Attempt::Status(status), retry_after }
            }
            Dest::Storage { side, .. } => {
                let error = StorageError {
                    side: *side,
                    status,
                    code: xml_element(text, "Code").map(|c| redact::excerpt(&c, 64)),
                    message: xml_element(text, "Message").map(|m| redact::excerpt(&m, EXCERPT_CHARS)),
                    attempts: 1,
                };
                let attempt = if error.url_unusable() { Attempt::Final } else { Attempt::Status(status) };
                Failure { error: Error::Storage(Box::new(error)), attempt, retry_after }
            }
        }
    }

    /// Maps a ureq error (no answer, or a broken one) to a failure.
    fn transport_failure(&self, call: &Call<'_>, error: ureq::Error, timeouts: &Timeouts) -> Failure {
        use ureq::Timeout as T;
        let method = call.method;
        let path = call.shown_path();
        let detail = self.scrubbed(&error.to_string());
        let (kind, attempt) = match error {
            ureq::Error::Timeout(which) => {
                let connecting = matches!(which, T::Resolve | T::Connect);
                let after = match which {
                    T::Resolve | T::Connect => timeouts.connect,
                    T::PerRead | T::PerWrite => timeouts.io,
                    T::Global | T::PerCall => timeouts.total.unwrap_or(timeouts.io),
                    _ => timeouts.phase.or(timeouts.total).unwrap_or(timeouts.io),
                };
                let attempt = if connecting { Attempt::NotSent } else { Attempt::Ambiguous };
                return Failure {
                    error: Error::Timeout { method, path, after, connecting },
                    attempt,
                    retry_after: None,
                };
            }
            // rustls reports an untrusted certificate as an I/O error: it is final.
            ureq::Error::Io(ref e) if is_certificate_error(&e.to_string()) => {
                (TransportKind::Certificate, Attempt::Final)
            }
            ureq::Error::Tls(e) if is_certificate_error(e) => (TransportKind::Certificate, Attempt::Final),
            ureq::Error::Io(e) => match e.kind() {
                io::ErrorKind::ConnectionRefused => (TransportKind::ConnectionRefused, Attempt::NotSent),
                io::ErrorKind::AddrNotAvailable
                | io::ErrorKind::NetworkUnreachable
                | io::ErrorKind::HostUnreachable => (TransportKind::Connect, Attempt::NotSent),
                io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => {
                    let after = timeouts.io;
                    let error = Error::Timeout { method, path, after, connecting: false };
                    return Failure { error, attempt: Attempt::Ambiguous, retry_after: None };
                }
                _ => (TransportKind::Broken, Attempt::Ambiguous),
            },
            ureq::Error::HostNotFound => (TransportKind::HostNotFound, Attempt::NotSent),
            ureq::Error::ConnectionFailed => (TransportKind::Connect, Attempt::NotSent),
            // Some protocol errors come from building our own request: another try
            // would build the same one.
            ureq::Error::Protocol(ref p) if is_request_side(&format!("{p:?}")) => {
                (TransportKind::Request, Attempt::Final)
            }
            ureq::Error::Protocol(_) => (TransportKind::Protocol, Attempt::Ambiguous),
            ureq::Error::Tls(_) => (TransportKind::Connect, Attempt::Final),
            ureq::Error::Http(_) | ureq::Error::BadUri(_) => (TransportKind::Request, Attempt::Final),
            #[allow(unreachable_patterns)] // TLS variants exist only with some features.
            _ => (TransportKind::Broken, Attempt::Ambiguous),
        };
        // When nothing could connect, the host says more than the system's error text.
        let detail = match kind {
            TransportKind::Request | TransportKind::Certificate => detail,
            kind if kind.not_sent() => self.host_of(call),
            _ => detail,
        };
        Failure { error: Error::Transport { method, path, kind, detail }, attempt, retry_after: None }
    }

    /// An answer's body with every echo of the session's token replaced: a server that
    /// echoes credentials never puts them into the models (and their `Debug`) we return.
    fn without_token(&self, body: Vec<u8>) -> Vec<u8> {
        let token = self.token();
        match std::str::from_utf8(&body) {
            Ok(text) if token.len() >= 4 && text.contains(&*token) => {
                text.replace(&*token, redact::REDACTED).into_bytes()
            }
            _ => body,
        }
    }

    /// `text` without any secret: signatures, secret fields, this session's token.
    pub(crate) fn scrubbed(&self, text: &str) -> String {
        redact::scrub_with_token(text, &self.token())
    }

    /// `host:port` a call goes to (never a path or query).
    fn host_of(&self, call: &Call<'_>) -> String {
        let url = match &call.dest {
            Dest::Api { .. } => self.shared.base_url.as_str(),
            Dest::Storage { url, .. } => url,
        };
        let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
        rest.split(['/', '?', '#']).next().unwrap_or_default().to_owned()
    }
}

/// Timeouts of one attempt, after capping by the deadline.
struct Timeouts {
    /// A hard cap on the whole attempt, set only under a deadline: ureq enforces a
    /// whole-request timeout by resolving the host on a thread of its own, a cost (tens of
    /// microseconds a call) worth paying for a deadline but not for every plain call.
    total: Option<Duration>,
    /// The bound of each phase of an API exchange: sending, awaiting and reading the answer.
    phase: Option<Duration>,
    connect: Duration,
    io: Duration,
}

/// A reader that yields exactly `left` bytes: a source that ends early is an error at once
/// (ureq would otherwise wait for bytes that never come), and extra bytes are not sent.
struct ExactLength<R> {
    inner: R,
    left: u64,
}

impl<R: Read> Read for ExactLength<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.left == 0 {
            return Ok(0);
        }
        let max = buf.len().min(usize::try_from(self.left).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..max])?;
        if n == 0 {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "the image became shorter while it was sent"));
        }
        self.left -= n as u64;
        Ok(n)
    }
}

/// Whether a TLS failure says the server's certificate was not trusted.
fn is_certificate_error(text: &str) -> bool {
    let text = text.to_ascii_lowercase();
    text.contains("certificate") || text.contains("unknownissuer") || text.contains("self-signed")
}

/// Whether a ureq protocol error (by its `Debug` name: ureq does not export the type) is
/// about the request we were building rather than the server's answer.
fn is_request_side(debug: &str) -> bool {
    const REQUEST_SIDE: [&str; 11] = [
        "BadHeader",
        "UnsupportedVersion",
        "MethodVersionMismatch",
        "TooManyHostHeaders",
        "TooManyContentLengthHeaders",
        "BadHostHeader",
        "BadAuthorizationHeader",
        "BadContentLengthHeader",
        "ConflictingBodyHeaders",
        "BodyNotAllowed",
        "OutputOverflow",
    ];
    REQUEST_SIDE.iter().any(|name| debug.starts_with(name))
}

fn header<B>(response: &http::Response<B>, name: &str) -> Option<String> {
    response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned)
}

/// `k=v&...`, percent-encoded; empty when there are no pairs.
pub(crate) fn query_string(pairs: &[(&str, String)]) -> String {
    let mut out = String::new();
    for (i, (key, value)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(&percent_encode(key));
        out.push('=');
        out.push_str(&percent_encode(value));
    }
    out
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
pub(crate) fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The path of a storage URL, without scheme, host or query.
fn storage_path(url: &str) -> String {
    let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    let path = after_scheme.find('/').map_or("/", |i| &after_scheme[i..]);
    path.split(['?', '#']).next().unwrap_or("/").to_owned()
}

/// The server's message from an error body: DRF's `{"detail": ...}`, its field errors
/// `{"field": ["msg", ...]}`, a list of messages, or an HTML page's title.
fn api_message(text: &str) -> Option<String> {
    let message = match serde_json::from_str::<serde_json::Value>(text) {
        Ok(json) => json_message(&json)?,
        Err(_) => xml_element(text, "title").or_else(|| xml_element(text, "TITLE"))?,
    };
    let message = redact::excerpt(&message, EXCERPT_CHARS);
    (!message.is_empty()).then_some(message)
}

fn json_message(json: &serde_json::Value) -> Option<String> {
    use serde_json::Value;
    match json {
        Value::String(s) => Some(s.clone()),
        Value::Array(items) => {
            let parts: Vec<String> = items.iter().filter_map(json_message).collect();
            (!parts.is_empty()).then(|| parts.join(" "))
        }
        Value::Object(map) => {
            if let Some(detail) = map.get("detail").and_then(json_message) {
                return Some(detail);
            }
            let parts: Vec<String> =
                map.iter().filter_map(|(field, v)| json_message(v).map(|m| format!("{field}: {m}"))).collect();
            (!parts.is_empty()).then(|| parts.join("; "))
        }
        _ => None,
    }
}

/// The text of the first `<name>...</name>` element (enough for storage's flat XML).
fn xml_element(text: &str, name: &str) -> Option<String> {
    let open = format!("<{name}>");
    let start = text.find(&open)? + open.len();
    let end = start + text[start..].find(&format!("</{name}>"))?;
    let value = text[start..end].trim();
    (!value.is_empty()).then(|| value.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drf_messages() {
        assert_eq!(api_message(r#"{"detail": "Not found."}"#).as_deref(), Some("Not found."));
        assert_eq!(
            api_message(r#"{"front": ["Ensure this field has no more than 255 characters."], "left": "bad"}"#)
                .as_deref(),
            Some("front: Ensure this field has no more than 255 characters.; left: bad")
        );
        assert_eq!(api_message(r#"["one", "two"]"#).as_deref(), Some("one two"));
        assert_eq!(api_message("<html><title>502 Bad Gateway</title></html>").as_deref(), Some("502 Bad Gateway"));
        assert_eq!(api_message("plain"), None);
        assert_eq!(api_message("{}"), None);
    }

    #[test]
    fn storage_codes() {
        let xml = "<?xml version='1.0'?><Error><Code>SignatureDoesNotMatch</Code><Message>No match.</Message></Error>";
        assert_eq!(xml_element(xml, "Code").as_deref(), Some("SignatureDoesNotMatch"));
        assert_eq!(xml_element(xml, "Message").as_deref(), Some("No match."));
        assert_eq!(xml_element(xml, "Details"), None);
    }

    #[test]
    fn queries_are_encoded_and_paths_lose_their_query() {
        assert_eq!(query_string(&[("q", "a b&c".into()), ("page", "2".into())]), "q=a%20b%26c&page=2");
        assert_eq!(query_string(&[]), "");
        assert_eq!(storage_path("https://h.example/bucket/obj?X-Goog-Signature=s"), "/bucket/obj");
        assert_eq!(storage_path("https://h.example"), "/");
    }

    #[test]
    fn exact_length_reader_fails_fast_on_a_short_source_and_stops_at_the_length() {
        let mut short = ExactLength { inner: &b"abc"[..], left: 5 };
        let mut out = Vec::new();
        let err = short.read_to_end(&mut out).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
        let mut long = ExactLength { inner: &b"abcdef"[..], left: 4 };
        let mut out = Vec::new();
        long.read_to_end(&mut out).unwrap();
        assert_eq!(out, b"abcd");
    }
}
