//! What a failed attempt means: the error to report, and whether another try can help.

use std::io;
use std::time::Duration;

use crate::error::{ApiError, Error, ErrorKind, StorageError, TransportKind};
use crate::retry::Attempt;
use crate::util::redact;

use super::error_body::{EXCERPT_CHARS, api_message, xml_element};
use super::{Dest, Outgoing, Timeouts, Transport};

/// A failed attempt: the error to report and what it means for a retry.
pub(super) struct Failure {
    pub(super) error: Error,
    pub(super) attempt: Attempt,
    pub(super) retry_after: Option<Duration>,
}

impl Failure {
    /// A failure that another try cannot fix.
    pub(super) fn fatal(error: Error) -> Failure {
        Failure { error, attempt: Attempt::Final, retry_after: None }
    }
}

impl Outgoing<'_> {
    /// Maps an error status to a failure: an API error or a storage error.
    pub(super) fn status_failure(&self, status: u16, raw: &str, retry_after: Option<Duration>) -> Failure {
        let text = &self.scrubbed(raw);
        match &self.dest {
            Dest::Api { secret_answer, .. } => {
                let body_excerpt = if *secret_answer {
                    String::new()
                } else {
                    redact::scrubbed_excerpt(raw, self.token(), EXCERPT_CHARS)
                };
                let error = ApiError {
                    request: self.request(),
                    status,
                    message: api_message(text),
                    body_excerpt,
                    retry_after,
                    attempts: 1,
                };
                Failure { error: ErrorKind::Api(error).into(), attempt: Attempt::Status(status), retry_after }
            }
            Dest::Storage { side, url, download, .. } => {
                let error = StorageError {
                    side: *side,
                    asset: download.then(|| crate::util::url::path_of(url)),
                    status,
                    code: xml_element(text, "Code").map(|c| redact::excerpt(&c, 64)),
                    message: xml_element(text, "Message").map(|m| redact::excerpt(&m, EXCERPT_CHARS)),
                    attempts: 1,
                };
                let attempt = if error.url_unusable() { Attempt::Final } else { Attempt::Status(status) };
                Failure { error: ErrorKind::Storage(error).into(), attempt, retry_after }
            }
        }
    }
}

impl Transport {
    /// Maps a ureq error (no answer, or a broken one) to a failure.
    pub(super) fn transport_failure(&self, call: &Outgoing<'_>, error: ureq::Error, timeouts: &Timeouts) -> Failure {
        use ureq::Timeout as T;
        let request = call.request();
        let detail = call.scrubbed(&error.to_string());
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
                let error = ErrorKind::RequestTimeout { request, after, connecting };
                return Failure { error: error.into(), attempt, retry_after: None };
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
                    let error = ErrorKind::RequestTimeout { request, after: timeouts.io, connecting: false };
                    return Failure { error: error.into(), attempt: Attempt::Ambiguous, retry_after: None };
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
            // The TLS libraries' own variants exist only with some features; native-tls
            // reports an untrusted certificate through its own.
            #[allow(unreachable_patterns)]
            _ if is_certificate_error(&detail) => (TransportKind::Certificate, Attempt::Final),
            #[allow(unreachable_patterns)]
            _ => (TransportKind::Broken, Attempt::Ambiguous),
        };
        // When nothing could connect, the host says more than the system's error text.
        let detail = match kind {
            TransportKind::Request | TransportKind::Certificate => detail,
            kind if kind.not_sent() => self.host_of(call).into_owned(),
            _ => detail,
        };
        Failure { error: ErrorKind::Transport { request, kind, detail }.into(), attempt, retry_after: None }
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
