//! One attempt: build the request, run it on the agent with this attempt's timeouts, read
//! the answer with the read limit.

use std::io::{self, Read};
use std::time::Duration;

use ureq::http;

use crate::call::CallContext;
use crate::error::{Error, ErrorKind, TransportKind};
use crate::util::redact;

use super::failure::Failure;
use super::retry_after::parse_retry_after;
use super::{Dest, Outgoing, Payload, Reply, Sink, Timeouts, Transport};

/// How much of an error body is read (the rest is not needed for a message).
const ERROR_BODY_LIMIT: u64 = 64 * 1024;

impl Transport {
    /// One try: build, send, read.
    pub(super) fn attempt(&self, call: &Outgoing<'_>, ctx: &CallContext<'_>) -> Result<Reply, Failure> {
        let left = ctx.remaining(&*self.clock);
        if left.is_some_and(|l| l.is_zero()) {
            let error = ErrorKind::RequestTimeout { request: call.request(), after: Duration::ZERO, connecting: true };
            return Err(Failure::fatal(error.into()));
        }
        let timeouts = self.timeouts(call, left);
        let mut builder = request_head(&self.base_url, call);
        let request_error = |e: http::Error| call.request_error(call.scrubbed(&e.to_string()));
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

    /// The timeouts of one attempt with `left` before the deadline.
    fn timeouts(&self, call: &Outgoing<'_>, left: Option<Duration>) -> Timeouts {
        let cap = |d: Duration| left.map_or(d, |l| d.min(l));
        let api = matches!(call.dest, Dest::Api { .. });
        // API exchanges are bounded phase by phase; an upload's duration grows with its
        // size, so it is bounded by the stall timeout instead. A deadline caps it all.
        Timeouts {
            total: left.map(|l| if api { l.min(self.request_timeout) } else { l }),
            phase: api.then(|| cap(self.request_timeout)),
            connect: cap(self.connect_timeout),
            io: cap(self.io_timeout),
        }
    }

    /// Runs one request on the shared agent with this attempt's timeouts.
    fn run(
        &self,
        request: http::Request<impl ureq::AsSendBody>,
        timeouts: &Timeouts,
    ) -> Result<http::Response<ureq::Body>, ureq::Error> {
        let mut config = self
            .agent
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
        self.agent.run(config.build())
    }

    /// Reads a 2xx body with the read limit, or turns any other status into a failure.
    fn read_answer(
        &self,
        call: &Outgoing<'_>,
        mut response: http::Response<ureq::Body>,
        timeouts: &Timeouts,
    ) -> Result<Reply, Failure> {
        let status = response.status().as_u16();
        match status {
            200..=299 if let Some(sink) = call.sink => {
                self.stream_answer(call, sink, response.body_mut(), timeouts)?;
                Ok(Reply { status, body: Vec::new() })
            }
            200..=299 => {
                let limit = self.max_response_bytes;
                let body = response.body_mut().with_config().limit(limit).read_to_vec().map_err(|e| match e {
                    ureq::Error::BodyExceedsLimit(_) => {
                        Failure::fatal(ErrorKind::ResponseTooLarge { request: call.request(), limit }.into())
                    }
                    other => self.transport_failure(call, other, timeouts),
                })?;
                Ok(Reply { status, body: without_token(body, call.token()) })
            }
            300..=399 => {
                let location = header(&response, "location").map(|l| call.scrubbed(&l)).unwrap_or_default();
                Err(Failure::fatal(ErrorKind::Redirect { request: call.request(), status, location }.into()))
            }
            _ => {
                let retry_after =
                    header(&response, "retry-after").and_then(|v| parse_retry_after(&v, self.clock.wall()));
                let mut raw = Vec::new();
                // A broken error body still leaves a status worth reporting.
                let _ = response.body_mut().as_reader().take(ERROR_BODY_LIMIT).read_to_end(&mut raw);
                Err(call.status_failure(status, &String::from_utf8_lossy(&raw), retry_after))
            }
        }
    }
}

impl Transport {
    /// Streams a 2xx body into the call's sink with the read limit. A failure before the
    /// first byte may be retried; after it, a retry would write the start again: final.
    fn stream_answer(
        &self,
        call: &Outgoing<'_>,
        sink: &Sink<'_>,
        body: &mut ureq::Body,
        timeouts: &Timeouts,
    ) -> Result<(), Failure> {
        let limit = self.max_response_bytes;
        let mut reader = body.with_config().limit(limit).reader();
        let mut buffer = vec![0; 64 * 1024];
        let mut written = 0u64;
        loop {
            let n = match reader.read(&mut buffer) {
                Ok(0) => return Ok(()),
                Ok(n) => n,
                Err(e) => {
                    let failure = match e.get_ref().and_then(|inner| inner.downcast_ref::<ureq::Error>()) {
                        Some(ureq::Error::BodyExceedsLimit(_)) => {
                            Failure::fatal(ErrorKind::ResponseTooLarge { request: call.request(), limit }.into())
                        }
                        _ => self.transport_failure(call, ureq::Error::Io(e), timeouts),
                    };
                    return Err(if written == 0 { failure } else { Failure::fatal(failure.error) });
                }
            };
            sink(&buffer[..n]).map_err(|e| {
                let target = call.request().path;
                Failure::fatal(Error::with_io(ErrorKind::Save { target, reason: e.to_string() }, e))
            })?;
            written += n as u64;
        }
    }
}

impl Outgoing<'_> {
    /// The request could not be built or its body not read: final.
    fn request_error(&self, detail: String) -> Failure {
        Failure::fatal(ErrorKind::Transport { request: self.request(), kind: TransportKind::Request, detail }.into())
    }
}

/// A header's value, when it is text.
fn header<B>(response: &http::Response<B>, name: &str) -> Option<String> {
    response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned)
}

/// Method, URL and headers: the token for the API, the signed headers for storage.
fn request_head(base_url: &str, call: &Outgoing<'_>) -> http::request::Builder {
    let builder = http::Request::builder().method(call.method);
    match &call.dest {
        Dest::Api { path, query, .. } => {
            let sep = if query.is_empty() { "" } else { "?" };
            let builder = builder.uri(format!("{base_url}{path}{sep}{query}")).header("accept", "application/json");
            match &call.token {
                Some(token) => builder.header("authorization", format!("Bearer {}", &**token)),
                None => builder,
            }
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

/// An answer's body with every echo of the call's token replaced (byte for byte, so a
/// body that is not UTF-8 is covered too): a server that echoes credentials never puts
/// them into the models (and their `Debug`) or the errors we return.
fn without_token(body: Vec<u8>, token: &str) -> Vec<u8> {
    let token = token.as_bytes();
    // A token this short would match ordinary text; tokens are never this short.
    if token.len() < 4 || !body.windows(token.len()).any(|w| w == token) {
        return body;
    }
    let mut out = Vec::with_capacity(body.len());
    let mut rest = body.as_slice();
    while !rest.is_empty() {
        if rest.starts_with(token) {
            out.extend_from_slice(redact::REDACTED.as_bytes());
            rest = &rest[token.len()..];
        } else {
            out.push(rest[0]);
            rest = &rest[1..];
        }
    }
    out
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

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn echoed_tokens_are_replaced_in_answers() {
        let body = br#"{"token": "tok-12345", "n": 1}"#.to_vec();
        assert_eq!(without_token(body.clone(), "tok-12345"), br#"{"token": "<redacted>", "n": 1}"#.to_vec());
        assert_eq!(without_token(body.clone(), ""), body, "no token, nothing to replace");
        let binary = b"\xff\xfetok-12345\xff".to_vec();
        assert_eq!(without_token(binary, "tok-12345"), b"\xff\xfe<redacted>\xff".to_vec());
    }
}
