//! The errors with more to say than a variant's fields: an API answer, a storage refusal,
//! a photo the service could not use.

use std::fmt;
use std::time::Duration;

use uuid::Uuid;

use super::{Request, is_transient_status};
use crate::model::{BatchResults, Side};

/// An error status from the API, with what the server said.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ApiError {
    /// The request that was answered.
    pub request: Request,
    /// The HTTP status.
    pub status: u16,
    /// The server's message: DRF's `detail`, or its field errors as `field: message; ...`.
    pub message: Option<String>,
    /// The start of the body (one line, scrubbed of secrets).
    pub body_excerpt: String,
    /// The wait the server asked for with `Retry-After`, if any.
    pub retry_after: Option<Duration>,
    /// How many times the request was sent (1 when it was not retried).
    pub attempts: u32,
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} answered {}", self.request, self.status)?;
        // Server messages end with a period; ours follow after a semicolon.
        match (&self.message, self.body_excerpt.is_empty()) {
            (Some(message), _) => write!(f, ": {}", message.trim_end_matches('.'))?,
            (None, false) => write!(f, ": {}", self.body_excerpt)?,
            (None, true) => {}
        }
        match self.status {
            401 => write!(f, "; the token is invalid or expired: {}", self.advice().unwrap_or_default()),
            403 => f.write_str("; the token has no access to this company or resource"),
            404 => write!(f, "; {}", self.advice().unwrap_or_default()),
            status if is_transient_status(status) => give_up_advice(f, self.attempts),
            _ => Ok(()),
        }
    }
}

impl ApiError {
    /// What the caller can do about this status, where there is something to do.
    pub(crate) fn advice(&self) -> Option<&'static str> {
        match self.status {
            401 => Some("log in again or use a valid private token"),
            403 => Some("use a token with access to this company"),
            404 => Some("check the ids in the request (company, subject or batch)"),
            status if is_transient_status(status) => Some("try again later"),
            _ => None,
        }
    }
}

/// What to say when a transient failure outlasted the retries.
fn give_up_advice(f: &mut fmt::Formatter<'_>, attempts: u32) -> fmt::Result {
    match attempts {
        0 | 1 => f.write_str("; the service is busy or unavailable: try again later"),
        n => write!(f, "; still failing after {n} tries: the service is busy or unavailable, try again later"),
    }
}

impl std::error::Error for ApiError {}

#[cfg(test)]
impl ApiError {
    /// `request` answered `status` with an empty body, on the first try: for unit tests.
    pub(crate) fn answered(request: Request, status: u16) -> ApiError {
        ApiError { request, status, message: None, body_excerpt: String::new(), retry_after: None, attempts: 1 }
    }
}

/// An upload refused by the signed-URL storage.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct StorageError {
    /// The side being uploaded, when known.
    pub side: Option<Side>,
    /// The path of the asset being downloaded (never its query), for a download.
    pub asset: Option<String>,
    /// The HTTP status.
    pub status: u16,
    /// The storage error code from the XML body, e.g. `SignatureDoesNotMatch`.
    pub code: Option<String>,
    /// The storage's message, scrubbed of secrets.
    pub message: Option<String>,
    /// How many times the upload was sent (1 when it was not retried).
    pub attempts: u32,
}

impl StorageError {
    /// Whether the code says the signed URL itself is unusable: a retry cannot help,
    /// only a new batch with fresh URLs.
    pub fn url_unusable(&self) -> bool {
        matches!(
            self.code.as_deref(),
            Some("SignatureDoesNotMatch" | "ExpiredToken" | "AccessDenied" | "InvalidToken" | "AuthenticationRequired")
        )
    }
}

impl fmt::Display for StorageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.asset, self.side) {
            (Some(asset), _) => write!(f, "download of {asset} was refused by storage with {}", self.status)?,
            (None, Some(side)) => write!(f, "upload of the {side} image was refused by storage with {}", self.status)?,
            (None, None) => write!(f, "upload was refused by storage with {}", self.status)?,
        }
        if let Some(code) = &self.code {
            write!(f, " {code}")?;
        }
        if let Some(message) = &self.message {
            write!(f, ": {message}")?;
        }
        match self.code.as_deref() {
            Some("SignatureDoesNotMatch" | "ExpiredToken") if self.asset.is_some() => {
                f.write_str("; the signed url was rejected or has expired: fetch the results again for fresh urls")
            }
            Some("SignatureDoesNotMatch") => f.write_str(
                "; the signed url was rejected (headers or body differ from what was signed): start a new batch",
            ),
            Some("ExpiredToken") => f.write_str("; the signed url has expired: start a new batch"),
            _ if is_transient_status(self.status) => give_up_advice(f, self.attempts),
            _ => Ok(()),
        }
    }
}

impl std::error::Error for StorageError {}

/// Detection errors: the service could not use some photos. Keeps the partial results.
#[derive(Clone)]
#[non_exhaustive]
pub struct DetectionError {
    /// The batch.
    pub batch_id: Uuid,
    /// Side name → the service's explanation.
    pub sides: Vec<(String, String)>,
    /// What the service returned, complete or not.
    pub results: BatchResults,
}

impl fmt::Display for DetectionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the service could not use the photo of batch {}: ", self.batch_id)?;
        for (i, (side, why)) in self.sides.iter().enumerate() {
            let sep = if i == 0 { "" } else { "; " };
            write!(f, "{sep}{side}: {why}")?;
        }
        Ok(())
    }
}

impl std::error::Error for DetectionError {}

/// The batch and the sides, and only the size of the results: a `Debug` of the whole
/// results (every mask's URL) would bury the reason in kilobytes.
impl fmt::Debug for DetectionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parameters = self.results.parameters().len();
        f.debug_struct("DetectionError")
            .field("batch_id", &self.batch_id)
            .field("sides", &self.sides)
            .field("results", &format_args!("{parameters} parameters, complete: {}", self.results.is_complete()))
            .finish()
    }
}
