//! What went wrong, as callers match it.

use std::path::PathBuf;
use std::time::Duration;

use uuid::Uuid;

use super::{ApiError, DetectionError, Request, Step, StorageError, TransportKind};
use crate::model::Side;

/// What went wrong: the part of an [`Error`](crate::Error) that callers match, got with
/// [`Error::kind`](crate::Error::kind).
///
/// The kind is the same whichever call failed: a 401 is `ErrorKind::Api` with status 401
/// from [`compute`](crate::Session::compute) and from
/// [`run_full_analysis`](crate::Session::run_full_analysis) alike. The pipeline step and the
/// batch are on the [`Error`](crate::Error) itself.
///
#[doc = include_str!("../../docs/error-kinds.md")]
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorKind {
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

    /// More than one dataset or subject has the name asked for
    /// ([`Session::find_subject`](crate::Session::find_subject),
    /// [`Session::find_dataset`](crate::Session::find_dataset)): which one is meant is for a
    /// person to say, never guessed. Merge or rename them on the service, or use an id.
    #[error("{} {what}s are named {name:?}{}: {}; rename or merge them on the service so that one has the name, or give the id of the one meant", ids.len(), within.map(|d| format!(" in dataset {d}")).unwrap_or_default(), ids.iter().map(Uuid::to_string).collect::<Vec<_>>().join(" and "))]
    Ambiguous {
        /// `subject` or `dataset`.
        what: &'static str,
        /// The name.
        name: String,
        /// The dataset searched, for subjects.
        within: Option<Uuid>,
        /// The ids of every one of that name.
        ids: Vec<Uuid>,
    },

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
    Api(ApiError),

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
    Storage(StorageError),

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

    /// One request took longer than its timeout (or than the time left before the
    /// deadline). The whole analysis running out of time is [`Deadline`](Self::Deadline):
    /// match both to catch every "took too long".
    #[error("{request} timed out after {}", secs(*after))]
    RequestTimeout {
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

    /// The whole analysis took longer than its deadline
    /// ([`AnalysisOptions::deadline`](crate::AnalysisOptions::deadline)): not one request
    /// (that is [`RequestTimeout`](Self::RequestTimeout)) but the sum of the steps. When compute was sent (`compute_sent`), the batch When compute was sent (`compute_sent`), the batch
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
    Detection(DetectionError),

    /// A run would not send anything for a job without a person's decision: its photos
    /// were analysed under another name that still exists, the same photos are in two
    /// visits, the service lost a batch that was paid for, and the like. Nothing was paid;
    /// the message says what to check, and
    /// [`Bulk::retry_failed`](crate::bulk::Bulk::retry_failed) (`--retry-failed`) is the
    /// decision "analyse them as this job's".
    #[error("{0}")]
    Refused(String),

    /// A journal folder (the ledger of a bulk or folder run, `OUT/.hautai/`) cannot be
    /// used: it cannot be read or written ([`Error::io_error`](crate::Error::io_error) has
    /// the cause), it holds the journal of another service or company, or results lie in
    /// an output folder without one. Nothing was sent.
    #[error("cannot use the journal {}: {problem}", folder.display())]
    Journal {
        /// The journal folder.
        folder: PathBuf,
        /// What is wrong, and what to do.
        problem: String,
    },

    /// Another run that is still alive holds this folder's jobs (two runs never work one
    /// visit at once). Wait for it to end, or give this run another shard or folder.
    #[error("{} is in use by {holder}, which could work the same jobs: wait for it to end or stop it (shards of one layout, I/N with the same N, run side by side)", folder.display())]
    Busy {
        /// The journal folder.
        folder: PathBuf,
        /// Who holds it: `another run (process 4242, shard 0/2, started 2026-12-07 06:20:31
        /// UTC)`, as far as known.
        holder: String,
    },

    /// A file or folder of yours could not be read or written: a folder run's input or
    /// output, say. [`Error::io_error`](crate::Error::io_error) has the cause (a full
    /// disk, a permission denied).
    #[error("{problem}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// What could not be done to which path, and the cause.
        problem: String,
    },

    /// The observer asked to stop.
    #[error("cancelled during {step}{}", batch_suffix(batch_id))]
    Cancelled {
        /// The step that was running.
        step: Step,
        /// The batch, once it exists.
        batch_id: Option<Uuid>,
    },
}

/// What to do after a deadline: resume only a batch whose compute was sent.
pub(super) fn deadline_advice(batch_id: &Option<Uuid>, compute_sent: bool) -> &'static str {
    match (batch_id, compute_sent) {
        (Some(_), true) => "the batch goes on on the server: resume with wait_for_results",
        (Some(_), false) => "nothing was computed: run the analysis again (the unused batch costs nothing)",
        (None, _) => "nothing was created: run the analysis again",
    }
}

pub(super) fn batch_suffix(batch_id: &Option<Uuid>) -> String {
    batch_id.map(|id| format!(" for batch {id}")).unwrap_or_default()
}

fn secs(d: Duration) -> String {
    format!("{:.1}s", d.as_secs_f64())
}
