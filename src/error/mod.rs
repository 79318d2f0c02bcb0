//! The crate's one error type: what went wrong ([`ErrorKind`]), and where.
//!
//! Every message is one lower-case line that says what happened and, where the caller can
//! act, what to do. No message or `Debug` output contains the token or a URL signature:
//! URLs and body excerpts are scrubbed before they are stored here.

mod details;
mod kind;
mod parts;

use std::fmt;

use uuid::Uuid;

pub use details::{ApiError, DetectionError, StorageError};
pub use kind::ErrorKind;
pub use parts::{Request, Step, TransportKind};

/// Everything that can go wrong, from configuration to a finished analysis.
///
/// Match on [`kind`](Error::kind), which is the same whichever call failed; ask
/// [`step`](Error::step) and [`batch_id`](Error::batch_id) where it happened. Like
/// [`std::io::Error`], this is one struct, so no caller can match the wrong layer:
///
/// ```no_run
/// use hautai::error::ErrorKind;
/// # fn run(session: &hautai::Session) {
/// match session.run_full_analysis("front.jpg", "left.jpg", "right.jpg") {
///     Ok(results) => println!("batch {}", results.batch_id()),
///     Err(e) => match e.kind() {
///         ErrorKind::Api(api) if api.status == 401 => eprintln!("log in again: {e}"),
///         ErrorKind::Detection(d) => eprintln!("use other photos: {d}"),
///         ErrorKind::Deadline { .. } => eprintln!("not ready yet (batch {:?}): {e}", e.batch_id()),
///         _ => eprintln!("{e}"),
///     },
/// }
/// # }
/// ```
pub struct Error {
    inner: Box<Inner>,
}

#[derive(Debug)]
struct Inner {
    kind: ErrorKind,
    /// Set by the pipeline: the step a request failed in, the batch, and advice.
    context: Option<Context>,
    /// The operating system's error behind a file or folder problem, kept whole.
    io: Option<std::io::Error>,
    /// What the caller's side adds: what became of earlier results, say.
    note: Option<String>,
}

#[derive(Debug)]
struct Context {
    step: Step,
    batch_id: Option<Uuid>,
    hint: Option<&'static str>,
}

impl Error {
    /// What went wrong: the part to match.
    pub fn kind(&self) -> &ErrorKind {
        &self.inner.kind
    }

    /// What went wrong, owned (to keep a [`DetectionError`]'s partial results, say).
    pub fn into_kind(self) -> ErrorKind {
        self.inner.kind
    }

    /// The pipeline step the error happened in, for errors of
    /// [`run_full_analysis`](crate::Session::run_full_analysis) and
    /// [`wait_for_results`](crate::Session::wait_for_results); a photo that cannot be
    /// used is [`Step::Validate`] wherever it was checked (`upload_image` too).
    pub fn step(&self) -> Option<Step> {
        if let Some(context) = &self.inner.context {
            return Some(context.step);
        }
        match &self.inner.kind {
            ErrorKind::Deadline { step, .. } | ErrorKind::Cancelled { step, .. } => Some(*step),
            ErrorKind::Detection(_) => Some(Step::Results),
            ErrorKind::InvalidImage { .. } => Some(Step::Validate),
            _ => None,
        }
    }

    /// The batch the error concerns, once one exists.
    pub fn batch_id(&self) -> Option<Uuid> {
        if let Some(batch_id) = self.inner.context.as_ref().and_then(|c| c.batch_id) {
            return Some(batch_id);
        }
        match &self.inner.kind {
            ErrorKind::Deadline { batch_id, .. } | ErrorKind::Cancelled { batch_id, .. } => *batch_id,
            ErrorKind::Detection(e) => Some(e.batch_id),
            ErrorKind::ComputeUnconfirmed { batch_id, .. } => Some(*batch_id),
            _ => None,
        }
    }

    /// The operating system's error behind this one, when a file or folder could not be
    /// read or written ([`ErrorKind::Io`], [`ErrorKind::Journal`], [`ErrorKind::Save`]):
    /// tell a full disk from a permission denied with its
    /// [`kind`](std::io::Error::kind).
    ///
    /// ```
    /// # fn check(error: &hautai::Error) {
    /// if error.io_error().is_some_and(|io| io.kind() == std::io::ErrorKind::PermissionDenied) {
    ///     eprintln!("give this program access to the folder: {error}");
    /// }
    /// # }
    /// ```
    pub fn io_error(&self) -> Option<&std::io::Error> {
        self.inner.io.as_ref()
    }

    /// The operating system's error behind this one, owned (see [`io_error`](Error::io_error)).
    pub fn into_io_error(self) -> Option<std::io::Error> {
        self.inner.io
    }

    /// What the caller can do, where there is something specific: resume with
    /// `wait_for_results` after a deadline once compute was sent, run the analysis again
    /// before that, log in again after a 401, try again later after a 503. The message
    /// says it too, at its end.
    ///
    /// ```no_run
    /// # fn report(error: &hautai::Error) {
    /// eprintln!("error: {error}");
    /// if let Some(hint) = error.hint() {
    ///     eprintln!("what to do: {hint}");
    /// }
    /// # }
    /// ```
    pub fn hint(&self) -> Option<&'static str> {
        if let Some(hint) = self.inner.context.as_ref().and_then(|c| c.hint) {
            return Some(hint);
        }
        match &self.inner.kind {
            ErrorKind::Deadline { batch_id, compute_sent, .. } => Some(kind::deadline_advice(batch_id, *compute_sent)),
            ErrorKind::Api(api) => api.advice(),
            _ => None,
        }
    }

    /// The HTTP status of an API or storage error.
    pub fn status(&self) -> Option<u16> {
        match &self.inner.kind {
            ErrorKind::Api(e) => Some(e.status),
            ErrorKind::Storage(e) => Some(e.status),
            ErrorKind::Redirect { status, .. }
            | ErrorKind::RetryAfterTooLong { status, .. }
            | ErrorKind::LoginRejected { status, .. }
            | ErrorKind::LoginRefused { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The request the error concerns (its method and path), when one was sent.
    pub fn request(&self) -> Option<&Request> {
        match &self.inner.kind {
            ErrorKind::Api(e) => Some(&e.request),
            ErrorKind::Redirect { request, .. }
            | ErrorKind::Transport { request, .. }
            | ErrorKind::RequestTimeout { request, .. }
            | ErrorKind::ResponseTooLarge { request, .. }
            | ErrorKind::RetryAfterTooLong { request, .. } => Some(request),
            _ => None,
        }
    }

    /// Whether the same call may succeed if tried again later: connection failures,
    /// timeouts and the statuses 408, 429, 500, 502, 503 and 504.
    pub fn is_retryable(&self) -> bool {
        match &self.inner.kind {
            ErrorKind::Api(e) => is_transient_status(e.status),
            ErrorKind::Storage(e) => is_transient_status(e.status) && !e.url_unusable(),
            ErrorKind::Transport { kind, .. } => !matches!(kind, TransportKind::Request | TransportKind::Certificate),
            ErrorKind::RequestTimeout { .. } | ErrorKind::RetryAfterTooLong { .. } => true,
            _ => false,
        }
    }
}

impl Error {
    /// An error of `kind` caused by the operating system's `io` error, kept as the source.
    pub(crate) fn with_io(kind: ErrorKind, io: std::io::Error) -> Error {
        Error { inner: Box::new(Inner { kind, context: None, io: Some(io), note: None }) }
    }

    /// A file or folder problem: `what` could not be done to `path` ("cannot read"), with
    /// `io` as the cause.
    pub(crate) fn io(path: &std::path::Path, what: &str, io: std::io::Error) -> Error {
        let problem = format!("{what} {}: {io}", path.display());
        Error::with_io(ErrorKind::Io { path: path.to_path_buf(), problem }, io)
    }

    /// This error with `note` at the end of its message (what became of earlier results,
    /// say); its kind stays.
    #[cfg(feature = "folder")]
    pub(crate) fn noted(mut self, note: impl fmt::Display) -> Error {
        let note = match self.inner.note.take() {
            Some(earlier) => format!("{earlier}; {note}"),
            None => note.to_string(),
        };
        self.inner.note = Some(note);
        self
    }

    /// This error as a failure of the pipeline's `step`, with advice. The first step given
    /// is kept: it is where the request failed.
    pub(crate) fn in_step(mut self, step: Step, batch_id: Option<Uuid>, hint: Option<&'static str>) -> Error {
        self.inner.context.get_or_insert(Context { step, batch_id, hint });
        self
    }

    /// The step this error was given by [`in_step`](Error::in_step), if any.
    pub(crate) fn failed_step(&self) -> Option<Step> {
        self.inner.context.as_ref().map(|c| c.step)
    }

    /// This error, noting that its request was sent `attempts` times.
    pub(crate) fn after_attempts(mut self, attempts: u32) -> Error {
        match &mut self.inner.kind {
            ErrorKind::Api(e) => e.attempts = attempts,
            ErrorKind::Storage(e) => e.attempts = attempts,
            _ => {}
        }
        self
    }
}

/// A setting given zero where it cannot work: a configuration error.
impl From<crate::util::limits::Zero> for Error {
    fn from(zero: crate::util::limits::Zero) -> Error {
        ErrorKind::Config(zero.to_string()).into()
    }
}

impl From<ErrorKind> for Error {
    fn from(kind: ErrorKind) -> Error {
        Error { inner: Box::new(Inner { kind, context: None, io: None, note: None }) }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.inner.context {
            None => self.inner.kind.fmt(f)?,
            Some(context) => {
                write!(f, "{} failed{}: {}", context.step, kind::batch_suffix(&context.batch_id), self.inner.kind)?;
                if let Some(hint) = context.hint {
                    write!(f, "; {hint}")?;
                }
            }
        }
        match &self.inner.note {
            Some(note) => write!(f, "; {note}"),
            None => Ok(()),
        }
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut debug = f.debug_struct("Error");
        debug.field("kind", &self.inner.kind);
        if let Some(context) = &self.inner.context {
            debug.field("step", &context.step).field("batch_id", &context.batch_id).field("hint", &context.hint);
        }
        if let Some(io) = &self.inner.io {
            debug.field("io", io);
        }
        if let Some(note) = &self.inner.note {
            debug.field("note", note);
        }
        debug.finish()
    }
}

/// A file or folder problem has the operating system's error as its source; a failure in
/// a pipeline step has what went wrong (its kind), so that a reporter walking the chain
/// finds it (the message already ends with the same text, so a reporter that prints every
/// link shows it twice). Other errors have no source: their message is whole.
impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        if let Some(io) = &self.inner.io {
            return Some(io);
        }
        self.inner.context.as_ref().map(|_| &self.inner.kind as _)
    }
}

/// Statuses that say "try again": the server or a proxy was momentarily unable.
pub(crate) fn is_transient_status(status: u16) -> bool {
    matches!(status, 408 | 429 | 500 | 502 | 503 | 504)
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests;
