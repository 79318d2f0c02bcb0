//! The small values errors are made of: the request, the pipeline step, the kind of
//! connection failure.

use std::fmt;

/// The request an error is about: its method and path, never its query (signed URLs
/// carry their signature there). Shared by every error that concerns one request.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Request {
    /// The method, e.g. `GET`.
    pub method: &'static str,
    /// The path, e.g. `/api/v3/companies/{id}/batches/`.
    pub path: String,
}

impl fmt::Display for Request {
    /// `METHOD /path`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.method, self.path)
    }
}

/// The steps of the pipeline, as named in errors and progress events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Step {
    /// Checking the inputs (nothing sent yet).
    Validate,
    /// Creating the batch and its upload targets.
    Initiate,
    /// Uploading the images to their signed URLs.
    Upload,
    /// Starting the computation.
    Compute,
    /// Waiting for (polling) the results.
    Results,
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Step::Validate => "validation",
            Step::Initiate => "initiate upload",
            Step::Upload => "upload",
            Step::Compute => "compute",
            Step::Results => "polling for results",
        })
    }
}

/// Kinds of connection failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TransportKind {
    /// Nothing listens at the address (the request was not sent).
    ConnectionRefused,
    /// The host name did not resolve (the request was not sent).
    HostNotFound,
    /// Another failure while connecting, TLS included (the request was not sent).
    Connect,
    /// The connection broke after the request was (perhaps partly) sent.
    Broken,
    /// The server spoke something that is not HTTP/1.1.
    Protocol,
    /// The request could not be built (a bad header value, say).
    Request,
    /// The server's TLS certificate was not trusted (the request was not sent).
    Certificate,
}

impl TransportKind {
    /// Whether the request certainly never reached the server.
    pub fn not_sent(self) -> bool {
        matches!(
            self,
            TransportKind::ConnectionRefused
                | TransportKind::HostNotFound
                | TransportKind::Connect
                | TransportKind::Request
                | TransportKind::Certificate
        )
    }
}

impl fmt::Display for TransportKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TransportKind::ConnectionRefused => "connection refused",
            TransportKind::HostNotFound => "host not found",
            TransportKind::Connect => "cannot connect",
            TransportKind::Broken => "connection broken",
            TransportKind::Protocol => "invalid http answer",
            TransportKind::Request => "cannot build the request",
            TransportKind::Certificate => {
                "the server's tls certificate is not trusted (self-signed, or replaced by a tls-inspecting \
                 proxy: then build hautai with the feature native-tls or platform-verifier to use the \
                 system's root store)"
            }
        })
    }
}
