//! The crate's one error type.
//!
//! Every message is one lower-case line that says what happened and, where the caller can
//! act, what to do. No message or `Debug` output contains the token or a URL signature:
//! URLs and body excerpts are scrubbed before they are stored here.

mod details;
mod kinds;

use std::path::PathBuf;
use std::time::Duration;

use uuid::Uuid;

use crate::model::Side;

pub use details::{ApiError, DetectionError, StorageError};
pub use kinds::{Request, Step, TransportKind};

/// Everything that can go wrong, from configuration to a finished analysis.
///
/// Match on the variants you care about and treat the rest generically; helpers such as
/// [`Error::status`], [`Error::batch_id`] and [`Error::is_retryable`] look through the
/// pipeline's [`Error::Step`] wrapper.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The session or a call was configured with a value that cannot work.
    #[error("invalid configuration: {0}")]
    Config(String),

    /// An environment variable read by [`Session::from_env`](crate::Session::from_env) is
    /// missing or malformed.
    #[error("environment variable {var} {problem}")]
    Env {
        /// The variable's name, e.g. `HAUTAI_TOKEN`.
        var: &'static str,
        /// What is wrong with it.
        problem: String,
    },

    /// The login was rejected (401 or 403): wrong email or password, or an inactive account.
    #[error("login failed: wrong email or password ({status}){}", message.as_ref().map(|m| format!(": {m}")).unwrap_or_default())]
    LoginRejected {
        /// The status, 401 or 403.
        status: u16,
        /// The server's message (never containing the password).
        message: Option<String>,
    },

    /// The login was refused (400): the request was invalid, or the account uses
    /// multi-factor authentication, which the API login does not support.
    #[error("login refused ({status}){}; an account with multi-factor authentication cannot log in through the api: use a private token", message.as_ref().map(|m| format!(": {m}")).unwrap_or_default())]
    LoginRefused {
        /// The status, 400.
        status: u16,
        /// The server's message (never containing the password).
        message: Option<String>,
    },

    /// An argument was rejected before anything was sent.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),

    /// An image given to the pipeline cannot be uploaded; nothing was created on the server.
    #[error("invalid {side} image{}: {reason}", path.as_ref().map(|p| format!(" {}", p.display())).unwrap_or_default())]
    InvalidImage {
        /// The side the image was given for.
        side: Side,
        /// The file, when the image was given as a path.
        path: Option<PathBuf>,
        /// Why it was rejected.
        reason: String,
    },

    /// The API answered with an error status (4xx or 5xx).
    #[error(transparent)]
    Api(Box<ApiError>),

    /// The server answered with a redirect. Redirects are never followed: a followed
    /// redirect turns a POST or PUT into a GET and drops the `Authorization` header.
    #[error(
        "{request} was answered with a redirect ({status}) to {location}; redirects are not followed, check the base url"
    )]
    Redirect {
        /// The request.
        request: Request,
        /// The 3xx status.
        status: u16,
        /// The `Location` header, scrubbed of signatures.
        location: String,
    },

    /// The signed-URL storage refused an upload.
    #[error(transparent)]
    Storage(Box<StorageError>),

    /// The connection failed before an answer arrived.
    #[error("{request} failed: {kind}{}", if detail.is_empty() { String::new() } else { format!(" ({detail})") })]
    Transport {
        /// The request.
        request: Request,
        /// What kind of failure it was.
        kind: TransportKind,
        /// The underlying error's text, scrubbed of secrets.
        detail: String,
    },

    /// A request took longer than its timeout (or the time left before the deadline).
    #[error("{request} timed out after {}", secs(*after))]
    Timeout {
        /// The request.
        request: Request,
        /// The timeout that expired.
        after: Duration,
        /// Whether the timeout hit while connecting (the request was certainly not sent).
        connecting: bool,
    },

    /// A download could not be written where it was going (a full disk, say).
    #[error("cannot save {target}: {reason}")]
    Save {
        /// What was being saved: the asset's path (never its query) or a file.
        target: String,
        /// Why.
        reason: String,
    },

    /// A successful answer could not be decoded.
    #[error("cannot decode the answer of {endpoint}: {reason} (body starts: {excerpt})")]
    Decode {
        /// The endpoint, e.g. `GET batch results`.
        endpoint: &'static str,
        /// serde's explanation.
        reason: String,
        /// The start of the body, scrubbed.
        excerpt: String,
    },

    /// An answer was larger than the configured read limit and was not read further.
    #[error("{request}: the answer exceeds the read limit of {limit} bytes")]
    ResponseTooLarge {
        /// The request.
        request: Request,
        /// The limit in bytes (see [`SessionBuilder::max_response_bytes`](crate::SessionBuilder::max_response_bytes)).
        limit: u64,
    },

    /// The server asked to wait longer than the retry policy's cap or the time left.
    #[error("{request} answered {status} and asked to retry after {}, more than the allowed {}", secs(*wait), secs(*limit))]
    RetryAfterTooLong {
        /// The request.
        request: Request,
        /// The status that came with `Retry-After` (429 or 503, usually).
        status: u16,
        /// The wait the server asked for.
        wait: Duration,
        /// The longest wait allowed (the cap or the time left before the deadline).
        limit: Duration,
    },

    /// A step of the pipeline failed; `error` says how.
    #[error("{step} failed{}: {error}{}", batch_suffix(batch_id), hint.map(|h| format!("; {h}")).unwrap_or_default())]
    Step {
        /// The step that failed.
        step: Step,
        /// The batch, once it exists.
        batch_id: Option<Uuid>,
        /// What went wrong (also the error's [`source`](std::error::Error::source)).
        #[source]
        error: Box<Error>,
        /// What the caller can do about it, when there is something specific.
        hint: Option<&'static str>,
    },

    /// The pipeline's deadline ran out. When compute was sent (`compute_sent`), the batch
    /// goes on on the server: resume with
    /// [`Session::wait_for_results`](crate::Session::wait_for_results). Before that,
    /// nothing was computed: run the analysis again.
    #[error("deadline of {} reached during {step}{} after {} and {polls} poll{}; {}", secs(*deadline), batch_suffix(batch_id), secs(*elapsed), if *polls == 1 { "" } else { "s" }, deadline_advice(batch_id, *compute_sent))]
    #[non_exhaustive]
    Deadline {
        /// The step that was running.
        step: Step,
        /// The batch, once it exists.
        batch_id: Option<Uuid>,
        /// The deadline that was set.
        deadline: Duration,
        /// Time spent in the call.
        elapsed: Duration,
        /// Result polls made.
        polls: u32,
        /// Whether compute was sent (or may have been): only then can
        /// [`wait_for_results`](crate::Session::wait_for_results) resume the batch.
        compute_sent: bool,
    },

    /// Compute was sent for this batch earlier (by another call or run) and its answer was
    /// lost, and the batch showed no sign of work while this call waited (at most
    /// [`COMPUTE_CONFIRMATION`](crate::config::COMPUTE_CONFIRMATION)): the compute most likely
    /// never arrived. Only the caller can decide to send it again, at the risk of paying
    /// twice if it did arrive.
    #[error("batch {batch_id} showed no sign of work for {} after a compute whose answer was lost: the compute most likely never arrived", secs(*waited))]
    ComputeUnconfirmed {
        /// The batch.
        batch_id: Uuid,
        /// How long this call waited for a sign of work.
        waited: Duration,
    },

    /// The service could not use the photo of one or more sides (no face found, say).
    #[error(transparent)]
    Detection(Box<DetectionError>),

    /// The observer asked to stop.
    #[error("cancelled during {step}{}", batch_suffix(batch_id))]
    Cancelled {
        /// The step that was running.
        step: Step,
        /// The batch, once it exists.
        batch_id: Option<Uuid>,
    },
}

impl Error {
    /// The HTTP status of an API or storage error.
    pub fn status(&self) -> Option<u16> {
        match self.innermost() {
            Error::Api(e) => Some(e.status),
            Error::Storage(e) => Some(e.status),
            Error::Redirect { status, .. }
            | Error::RetryAfterTooLong { status, .. }
            | Error::LoginRejected { status, .. }
            | Error::LoginRefused { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The request the error concerns (its method and path), when one was sent.
    pub fn request(&self) -> Option<&Request> {
        match self.innermost() {
            Error::Api(e) => Some(&e.request),
            Error::Redirect { request, .. }
            | Error::Transport { request, .. }
            | Error::Timeout { request, .. }
            | Error::ResponseTooLarge { request, .. }
            | Error::RetryAfterTooLong { request, .. } => Some(request),
            _ => None,
        }
    }

    /// The batch the error concerns, once the pipeline created one.
    pub fn batch_id(&self) -> Option<Uuid> {
        match self {
            Error::Step { batch_id, .. } | Error::Deadline { batch_id, .. } | Error::Cancelled { batch_id, .. } => {
                *batch_id
            }
            Error::Detection(e) => Some(e.batch_id),
            Error::ComputeUnconfirmed { batch_id, .. } => Some(*batch_id),
            _ => None,
        }
    }

    /// The pipeline step the error happened in.
    pub fn step(&self) -> Option<Step> {
        match self {
            Error::Step { step, .. } | Error::Deadline { step, .. } | Error::Cancelled { step, .. } => Some(*step),
            Error::Detection(_) => Some(Step::Results),
            Error::InvalidImage { .. } => Some(Step::Validate),
            _ => None,
        }
    }

    /// The error below the pipeline's [`Error::Step`] wrapper (or `self`).
    pub fn innermost(&self) -> &Error {
        match self {
            Error::Step { error, .. } => error.innermost(),
            other => other,
        }
    }

    /// Whether the same call may succeed if tried again later: connection failures,
    /// timeouts and the statuses 408, 429, 500, 502, 503 and 504.
    pub fn is_retryable(&self) -> bool {
        match self.innermost() {
            Error::Api(e) => is_transient_status(e.status),
            Error::Storage(e) => is_transient_status(e.status) && !e.url_unusable(),
            Error::Transport { kind, .. } => !matches!(kind, TransportKind::Request | TransportKind::Certificate),
            Error::Timeout { .. } | Error::RetryAfterTooLong { .. } => true,
            _ => false,
        }
    }
}

impl Error {
    /// This error, noting that its request was sent `attempts` times.
    pub(crate) fn after_attempts(mut self, attempts: u32) -> Error {
        match &mut self {
            Error::Api(e) => e.attempts = attempts,
            Error::Storage(e) => e.attempts = attempts,
            _ => {}
        }
        self
    }
}

/// Statuses that say "try again": the server or a proxy was momentarily unable.
pub(crate) fn is_transient_status(status: u16) -> bool {
    matches!(status, 408 | 429 | 500 | 502 | 503 | 504)
}

/// What to do after a deadline: resume only a batch whose compute was sent.
fn deadline_advice(batch_id: &Option<Uuid>, compute_sent: bool) -> &'static str {
    match (batch_id, compute_sent) {
        (Some(_), true) => "the batch goes on on the server: resume with wait_for_results",
        (Some(_), false) => "nothing was computed: run the analysis again (the unused batch costs nothing)",
        (None, _) => "nothing was created: run the analysis again",
    }
}

fn batch_suffix(batch_id: &Option<Uuid>) -> String {
    batch_id.map(|id| format!(" for batch {id}")).unwrap_or_default()
}

fn secs(d: Duration) -> String {
    format!("{:.1}s", d.as_secs_f64())
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
