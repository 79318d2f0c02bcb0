//! The `Session`: credentials, configuration and one connection pool.

use std::fmt;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use uuid::Uuid;

use crate::clock::Clock;
use crate::error::{ErrorKind, Result};
use crate::learned::Readiness;
use crate::poll::PollSchedule;
use crate::transport::Transport;

/// A client of the Haut.ai SaaS API: one company's credentials and one connection pool.
///
/// Cheap to clone (clones share the pool, the settings and the token), `Send + Sync`:
/// build one and share it between threads. Its blocking methods mirror the API's
/// endpoints one to one, and [`run_full_analysis`](Session::run_full_analysis) chains
/// them into a whole analysis.
///
/// ```no_run
/// use hautai::Session;
///
/// let session = Session::builder("my-private-token", "3fa85f64-5717-4562-b3fc-2c963f66afa6".parse()?)
///     .subject_id("5243ab6a-bd30-4932-b98c-45e43edfdc36".parse()?)
///     .build()?;
/// let results = session.run_full_analysis("front.jpg", "left.jpg", "right.jpg")?;
/// // The estimated age in years; `score()` would be the parameter's 0-100 rating.
/// println!("{:?}", results.parameter("age").and_then(|p| p.number("age")));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Session {
    pub(crate) shared: Arc<Shared>,
    token: Arc<RwLock<Arc<str>>>,
    company_id: Uuid,
    subject_id: Option<Uuid>,
}

/// What every clone of a session shares.
pub(crate) struct Shared {
    /// The request path and its connection pool.
    pub(crate) transport: Transport,
    /// How the pipeline polls for results.
    pub(crate) poll: PollSchedule,
    /// The default deadline of a pipeline call.
    pub(crate) deadline: Duration,
    /// How long recent batches took to become ready (learned polling).
    pub(crate) readiness: Readiness,
    /// Where downloads may go.
    pub(crate) downloads: crate::destination::Downloads,
    /// What the session keeps alive, if anything (the emulator it talks to).
    pub(crate) _keep_alive: Option<KeepAlive>,
}

/// Something a session keeps alive while any clone of it lives.
pub(crate) type KeepAlive = Arc<dyn std::any::Any + Send + Sync>;

impl Session {
    /// A session on `shared` authenticated with a checked token.
    pub(crate) fn new(shared: Shared, token: Arc<str>, company_id: Uuid, subject_id: Option<Uuid>) -> Session {
        Session { shared: Arc::new(shared), token: Arc::new(RwLock::new(token)), company_id, subject_id }
    }

    /// The company every call is made for.
    pub fn company_id(&self) -> Uuid {
        self.company_id
    }

    /// The default subject for uploads, if one was set.
    pub fn subject_id(&self) -> Option<Uuid> {
        self.subject_id
    }

    /// The base URL, without a trailing slash.
    pub fn base_url(&self) -> &str {
        &self.shared.transport.base_url
    }

    /// A clone of this session whose default subject is `subject_id`.
    pub fn with_subject(&self, subject_id: Uuid) -> Session {
        Session { subject_id: Some(subject_id), ..self.clone() }
    }

    /// A clone of this session with no default subject: an analysis must name its own.
    #[cfg(feature = "folder")]
    pub(crate) fn without_subject(&self) -> Session {
        Session { subject_id: None, ..self.clone() }
    }

    /// Replaces the token of this session and of every clone sharing it (a login token
    /// lives about an hour; hand in the new one without losing the connection pool).
    /// Calls already running finish with the token they started with.
    pub fn set_token(&self, token: impl Into<String>) -> Result<()> {
        let token = checked_token(token.into())?;
        *self.token.write().unwrap_or_else(PoisonError::into_inner) = token;
        Ok(())
    }

    /// A session with its own token that shares this one's connection pool and settings.
    /// Changing its token later does not affect this session.
    pub fn with_token(&self, token: impl Into<String>) -> Result<Session> {
        let token = checked_token(token.into())?;
        Ok(Session { token: Arc::new(RwLock::new(token)), ..self.clone() })
    }

    /// The current token, to hand to another process (after a login, say). `Debug` of
    /// the [`Secret`](crate::model::Secret) shows `<redacted>`; keep its value out of logs.
    pub fn token_secret(&self) -> crate::model::Secret {
        crate::model::Secret::new(self.token().to_string())
    }

    /// How long this session's recent batches took to become ready (from compute to the
    /// poll that found them complete), oldest first, at most 20: what its polling learns
    /// from (see [`PollSchedule::learning`](crate::config::PollSchedule::learning)). A
    /// program that runs once per analysis keeps it between runs and gives it back with
    /// [`remember_readiness`](Self::remember_readiness), so that its next run polls
    /// around the time this service takes instead of starting from nothing.
    pub fn readiness_history(&self) -> Vec<std::time::Duration> {
        self.shared.readiness.recent()
    }

    /// Adds readiness times kept from earlier runs (oldest first; see
    /// [`readiness_history`](Self::readiness_history)) to what this session learns from.
    /// Only the last 20 count, and learning off
    /// ([`PollSchedule::learning(false)`](crate::config::PollSchedule::learning)) ignores them.
    ///
    /// ```
    /// use std::time::Duration;
    /// # let session = hautai::SessionBuilder::new("token", hautai::Uuid::nil()).build()?;
    /// session.remember_readiness([Duration::from_secs(4)]);
    /// assert_eq!(session.readiness_history(), [Duration::from_secs(4)]);
    /// # Ok::<(), hautai::Error>(())
    /// ```
    pub fn remember_readiness(&self, times: impl IntoIterator<Item = std::time::Duration>) {
        for time in times {
            self.shared.readiness.record(time);
        }
    }

    /// The current token (never printed by this crate).
    pub(crate) fn token(&self) -> Arc<str> {
        self.token.read().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// `/api/v3/companies/{company_id}` followed by `rest`.
    pub(crate) fn company_path(&self, rest: &str) -> String {
        format!("/api/v3/companies/{}{rest}", self.company_id)
    }

    /// `/api/v1/companies/{company_id}` followed by `rest` (datasets and subjects).
    pub(crate) fn v1_company_path(&self, rest: &str) -> String {
        format!("/api/v1/companies/{}{rest}", self.company_id)
    }

    /// The clock of waits and deadlines.
    pub(crate) fn clock(&self) -> &dyn Clock {
        &*self.shared.transport.clock
    }
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("base_url", &self.shared.transport.base_url)
            .field("company_id", &self.company_id)
            .field("subject_id", &self.subject_id)
            .field("token", &"<redacted>")
            .field("retry", &self.shared.transport.retry)
            .field("deadline", &self.shared.deadline)
            .finish_non_exhaustive()
    }
}

/// A token must be a valid header value: visible ASCII, no spaces, no line breaks.
pub(crate) fn checked_token(token: String) -> Result<Arc<str>> {
    if token.is_empty() {
        return Err(ErrorKind::Config("the token is empty".into()).into());
    }
    if !token.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ErrorKind::Config(
            "the token contains spaces, line breaks or non-ascii characters (check how it was copied)".into(),
        )
        .into());
    }
    Ok(token.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_must_be_header_safe() {
        assert!(checked_token("abc.DEF-123_=".into()).is_ok());
        for bad in ["", "with space", "line\nbreak", "tab\t", "é"] {
            assert!(checked_token(bad.into()).is_err(), "{bad:?}");
        }
    }
}
