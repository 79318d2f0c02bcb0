//! [`AnalysisOptions`]: what a pipeline call may change, beside the session's settings.

use std::time::Duration;

use serde_json::Value;
use uuid::Uuid;

use crate::model::{InitiateUpload, ResultsQuery};
use crate::observe::{Control, Event, Observer};

/// Options of a pipeline call. The defaults: the session's subject and deadline, the
/// server's default result options, `front.jpg`-style names, no metadata, no observer.
///
/// ```
/// use std::time::Duration;
/// use hautai::AnalysisOptions;
/// use hautai::model::ResultsQuery;
/// use hautai::observe::{Control, Event};
///
/// let progress = |event: &Event| { eprintln!("{event}"); Control::Continue };
/// let options = AnalysisOptions::new()
///     .deadline(Duration::from_secs(120))
///     .results(ResultsQuery::new().with_masks(false))
///     .meta(hautai::json!({"visit": 3}))
///     .observer(&progress);
/// # let _ = options;
/// ```
#[derive(Clone, Default)]
pub struct AnalysisOptions<'a> {
    pub(super) subject_id: Option<Uuid>,
    pub(super) deadline: Option<Duration>,
    pub(super) results: ResultsQuery,
    pub(super) real_file_names: bool,
    pub(super) any_format: bool,
    /// Metadata and creation time for initiate (the names are added per call).
    pub(super) upload: InitiateUpload,
    pub(super) app_args: Option<Value>,
    pub(super) observer: Option<&'a dyn Observer>,
}

impl std::fmt::Debug for AnalysisOptions<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AnalysisOptions")
            .field("subject_id", &self.subject_id)
            .field("deadline", &self.deadline)
            .field("results", &self.results)
            .field("real_file_names", &self.real_file_names)
            .field("any_format", &self.any_format)
            .field("observer", &self.observer.is_some())
            .finish_non_exhaustive()
    }
}

impl<'a> AnalysisOptions<'a> {
    /// The defaults.
    pub fn new() -> Self {
        Self::default()
    }
    /// Uploads for this subject instead of the session's default.
    pub fn subject_id(mut self, subject_id: Uuid) -> Self {
        self.subject_id = Some(subject_id);
        self
    }
    /// Bounds the whole call (default: the session's deadline, 5 minutes unless set).
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.deadline = Some(deadline);
        self
    }
    /// The options of the final results fetch (polls never ask for masks).
    pub fn results(mut self, query: ResultsQuery) -> Self {
        self.results = query;
        self
    }
    /// Sends the files' own names at initiate instead of `front.jpg`-style names. Off by
    /// default: file names often name the patient.
    pub fn real_file_names(mut self, real: bool) -> Self {
        self.real_file_names = real;
        self
    }
    /// Uploads photos whatever their first bytes say. Off by default: each photo must begin
    /// as a JPEG, PNG, WebP, HEIC/HEIF, BMP or TIFF does, and anything else (a text file
    /// named `left.jpg`) fails with [`ErrorKind::InvalidImage`](crate::error::ErrorKind)
    /// before anything is created on the server. Turn it on for a format the service
    /// takes that this check does not know.
    ///
    /// ```
    /// let options = hautai::AnalysisOptions::new().any_format(true);
    /// # let _ = options;
    /// ```
    pub fn any_format(mut self, any: bool) -> Self {
        self.any_format = any;
        self
    }
    /// Metadata stored with the batch.
    pub fn meta(mut self, meta: Value) -> Self {
        self.upload = self.upload.meta(meta);
        self
    }
    /// When the photos were taken (ISO 8601).
    pub fn creation_time(mut self, time: impl Into<String>) -> Self {
        self.upload = self.upload.creation_time(time);
        self
    }
    /// The `app_args` sent to compute (default `{}`).
    pub fn app_args(mut self, app_args: Value) -> Self {
        self.app_args = Some(app_args);
        self
    }
    /// Reports progress to `observer`, which may cancel the call. For a closure written in
    /// place, [`on_event`](Self::on_event) spares you the type annotation.
    pub fn observer(mut self, observer: &'a dyn Observer) -> Self {
        self.observer = Some(observer);
        self
    }

    /// Reports progress to the closure `on_event`, which may cancel the call by returning
    /// [`Control::Stop`](crate::observe::Control::Stop):
    ///
    /// ```
    /// use hautai::AnalysisOptions;
    /// use hautai::observe::Control;
    /// let options = AnalysisOptions::new().on_event(&|event| {
    ///     eprintln!("{event}");
    ///     Control::Continue
    /// });
    /// # let _ = options;
    /// ```
    ///
    /// (`observer(&|event| ...)` does not compile: Rust infers a closure's argument types
    /// from a closure bound like this method's, not from a trait object.) A closure that
    /// captures variables lives as long as the statement it is written in: write the
    /// options in the call that uses them, or bind the closure to a variable first.
    pub fn on_event<F>(mut self, on_event: &'a F) -> Self
    where
        F: Fn(&Event<'_>) -> Control + Sync,
    {
        self.observer = Some(on_event);
        self
    }
}
