//! The pipeline: initiate → uploads → compute → results, under one deadline.
//!
//! Read [`Session::run_analysis`] top to bottom: it is the API's four steps in order.

mod upload;
mod wait;

use std::time::{Duration, Instant};

use serde_json::Value;
use uuid::Uuid;

use crate::error::{Error, Result, Step, TransportKind};
use crate::image::{Image, Images};
use crate::model::{BatchResults, InitiateUpload, ResultsQuery, Side};
use crate::observe::{CallContext, Event, Observer};
use crate::session::Session;

/// Options of a pipeline call. The defaults: the session's subject and deadline, the
/// server's default result options, `front.jpg`-style names, no metadata, no observer.
///
/// ```
/// use std::time::Duration;
/// use hautai::{AnalysisOptions, Control, Event, ResultsQuery};
///
/// let progress = |event: &Event| { eprintln!("{event}"); Control::Continue };
/// let options = AnalysisOptions::new()
///     .deadline(Duration::from_secs(120))
///     .results(ResultsQuery::new().with_masks(false))
///     .meta(serde_json::json!({"visit": 3}))
///     .observer(&progress);
/// # let _ = options;
/// ```
#[derive(Clone, Default)]
pub struct AnalysisOptions<'a> {
    subject_id: Option<Uuid>,
    deadline: Option<Duration>,
    results: ResultsQuery,
    real_file_names: bool,
    meta: Option<Value>,
    creation_time: Option<String>,
    app_args: Option<Value>,
    observer: Option<&'a dyn Observer>,
}

impl std::fmt::Debug for AnalysisOptions<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AnalysisOptions")
            .field("subject_id", &self.subject_id)
            .field("deadline", &self.deadline)
            .field("results", &self.results)
            .field("real_file_names", &self.real_file_names)
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
    /// Metadata stored with the batch.
    pub fn meta(mut self, meta: Value) -> Self {
        self.meta = Some(meta);
        self
    }
    /// When the photos were taken (ISO 8601).
    pub fn creation_time(mut self, time: impl Into<String>) -> Self {
        self.creation_time = Some(time.into());
        self
    }
    /// The `app_args` sent to compute (default `{}`).
    pub fn app_args(mut self, app_args: Value) -> Self {
        self.app_args = Some(app_args);
        self
    }
    /// Reports progress to `observer`, which may cancel the call.
    pub fn observer(mut self, observer: &'a dyn Observer) -> Self {
        self.observer = Some(observer);
        self
    }
}

/// One side, checked and ready to upload.
pub(crate) struct Prepared<'i> {
    pub(crate) side: Side,
    pub(crate) image: &'i Image<'i>,
    pub(crate) len: u64,
}

/// The clock readings of one pipeline call, to name a deadline error.
#[derive(Clone, Copy)]
pub(crate) struct Span {
    pub(crate) start: Instant,
    pub(crate) deadline: Instant,
}

impl Session {
    /// Analyses three photos: initiate → three concurrent uploads → compute → wait for
    /// results, under the session's deadline. Each argument is a path (streamed from disk)
    /// or bytes in memory; every input is checked before anything is created on the server.
    ///
    /// ```no_run
    /// let session = hautai::Session::from_env()?;
    /// let results = session.run_full_analysis("front.jpg", "left.jpg", "right.jpg")?;
    /// for (name, p) in results.parameters().into_iter().flatten() {
    ///     println!("{name:20} {:10} {:?}", p.tag().unwrap_or("-"), p.score());
    /// }
    /// # Ok::<(), hautai::Error>(())
    /// ```
    ///
    /// See [`run_analysis`](Self::run_analysis) for any subset of sides, options and
    /// progress, and [`Error`] for what can go wrong (every error past initiate carries the
    /// batch id).
    pub fn run_full_analysis<'i>(
        &self,
        front: impl Into<Image<'i>>,
        left: impl Into<Image<'i>>,
        right: impl Into<Image<'i>>,
    ) -> Result<BatchResults> {
        self.run_analysis(&Images::new().front(front).left(left).right(right), &AnalysisOptions::new())
    }

    /// Analyses any non-empty subset of sides with options: the general form of
    /// [`run_full_analysis`](Self::run_full_analysis).
    ///
    /// 1. **Validate** every image (a readable regular file or bytes, 1 byte to 30 MiB) and
    ///    name; a bad input fails here and creates nothing.
    /// 2. **Initiate**: create the batch and its signed upload targets.
    /// 3. **Upload** all sides at the same time, streaming; if a side fails for good, its
    ///    error names it and the batch, and compute is not called.
    /// 4. **Compute**, once.
    /// 5. **Wait** for the results (see [`wait_for_results`](Self::wait_for_results)).
    ///
    /// One deadline covers all of it. The observer sees each step and may cancel.
    ///
    /// ```no_run
    /// use hautai::{AnalysisOptions, Images};
    /// # let session = hautai::Session::from_env()?;
    /// let photo = std::fs::read("front.jpg").unwrap();
    /// let results = session.run_analysis(&Images::new().front(&photo), &AnalysisOptions::new())?;
    /// # let _ = results;
    /// # Ok::<(), hautai::Error>(())
    /// ```
    pub fn run_analysis(&self, images: &Images<'_>, options: &AnalysisOptions<'_>) -> Result<BatchResults> {
        let span = self.span(options);
        let ctx = CallContext::new(Some(span.deadline), options.observer);

        // 1. Validate: nothing is sent before every input passed.
        let subject_id = options.subject_id.or(self.subject_id()).ok_or_else(|| {
            Error::Config("no subject: set one with SessionBuilder::subject_id or AnalysisOptions::subject_id".into())
        })?;
        let (prepared, request) = prepare(images, options)?;
        let sizes: Vec<(Side, u64)> = prepared.iter().map(|p| (p.side, p.len)).collect();
        self.step(Step::Validate, None, span, 0, ctx.emit(Event::Validated { sides: &sizes }).map_err(Error::from))?;

        // 2. Initiate: from here on the batch exists, and every error names it.
        let targets = self.step(Step::Initiate, None, span, 0, self.initiate_upload_in(subject_id, &request, &ctx))?;
        let batch_id = targets.image_batch_id;
        let created = ctx.emit(Event::BatchCreated { batch_id }).map_err(Error::from);
        self.step(Step::Initiate, Some(batch_id), span, 0, created)?;

        // 3. Upload every side at once.
        self.step(Step::Upload, Some(batch_id), span, 0, self.upload_all(&prepared, &targets, &ctx))?;

        // 4. Compute, once.
        let computing = ctx.emit(Event::Computing { batch_id }).map_err(Error::from);
        self.step(Step::Compute, Some(batch_id), span, 0, computing)?;
        self.step(Step::Compute, Some(batch_id), span, 0, self.compute_in(batch_id, options.app_args.clone(), &ctx))?;

        // 5. Wait for the results.
        let first = self.shared.poll.waits().next().unwrap_or_default();
        self.wait(batch_id, options, &ctx, span, first)
    }

    /// Waits for the results of a batch started earlier (by this process or another, or
    /// by a call whose deadline ran out), with the session's deadline.
    ///
    /// Polls at once, then per the session's [`PollSchedule`](crate::PollSchedule), asking
    /// without masks; when every application reports `all_algorithms_calculated`, fetches
    /// the results once more with the server's default options (masks included). Detection
    /// errors end the wait with [`Error::Detection`], which keeps the partial results.
    ///
    /// ```no_run
    /// # let session = hautai::Session::from_env()?;
    /// # let batch_id = uuid::Uuid::nil();
    /// match session.wait_for_results(batch_id) {
    ///     Ok(results) => println!("{:?}", results.parameter("age")),
    ///     Err(hautai::Error::Deadline { polls, .. }) => eprintln!("not ready after {polls} polls; try later"),
    ///     Err(other) => return Err(other),
    /// }
    /// # Ok::<(), hautai::Error>(())
    /// ```
    pub fn wait_for_results(&self, batch_id: Uuid) -> Result<BatchResults> {
        self.wait_for_results_with(batch_id, &AnalysisOptions::new())
    }

    /// [`wait_for_results`](Self::wait_for_results) with options: the deadline, the final
    /// fetch's [`ResultsQuery`], and an observer.
    pub fn wait_for_results_with(&self, batch_id: Uuid, options: &AnalysisOptions<'_>) -> Result<BatchResults> {
        let span = self.span(options);
        let ctx = CallContext::new(Some(span.deadline), options.observer);
        self.wait(batch_id, options, &ctx, span, Duration::ZERO)
    }

    fn span(&self, options: &AnalysisOptions<'_>) -> Span {
        let start = self.shared.clock.now();
        Span { start, deadline: start + options.deadline.unwrap_or(self.shared.deadline) }
    }

    /// Gives a step's failure its context: the step and batch, or the deadline, or the
    /// cancellation.
    pub(crate) fn step<T>(
        &self,
        step: Step,
        batch_id: Option<Uuid>,
        span: Span,
        polls: u32,
        r: Result<T>,
    ) -> Result<T> {
        r.map_err(|error| {
            let now = self.shared.clock.now();
            match error {
                Error::Cancelled { .. } => Error::Cancelled { step, batch_id },
                // These say everything already (a bad input before any batch exists).
                Error::Detection(_) => error,
                Error::InvalidImage { .. } if batch_id.is_none() => error,
                _ if now >= span.deadline => Error::Deadline {
                    step,
                    batch_id,
                    deadline: span.deadline - span.start,
                    elapsed: now - span.start,
                    polls,
                },
                error => {
                    let hint = hint(step, &error);
                    Error::Step { step, batch_id, error: Box::new(error), hint }
                }
            }
        })
    }
}

/// Checks every image and builds the initiate request; nothing is sent.
fn prepare<'i>(images: &'i Images<'i>, options: &AnalysisOptions<'_>) -> Result<(Vec<Prepared<'i>>, InitiateUpload)> {
    let mut request = InitiateUpload::new();
    request.meta = options.meta.clone();
    request.creation_time = options.creation_time.clone();
    let mut prepared = Vec::new();
    for (side, image) in images.sides() {
        let len = image.check(side)?;
        let name = image.upload_name(side, options.real_file_names);
        let chars = name.chars().count();
        if !(1..=crate::api::MAX_NAME_CHARS).contains(&chars) {
            let path = image.path().map(Into::into);
            let reason = format!("its file name has {chars} characters; the api accepts 1 to 255");
            return Err(Error::InvalidImage { side, path, reason });
        }
        request = request.name(side, name);
        prepared.push(Prepared { side, image, len });
    }
    if prepared.is_empty() {
        return Err(Error::InvalidArgument("an analysis needs at least one of front, left, right".into()));
    }
    Ok((prepared, request))
}

/// What to tell the caller when a step failed in a way that leaves the batch in doubt.
fn hint(step: Step, error: &Error) -> Option<&'static str> {
    let ambiguous = match error.innermost() {
        Error::Transport { kind, .. } => !kind.not_sent() && *kind != TransportKind::Request,
        Error::Timeout { connecting, .. } => !connecting,
        Error::Api(api) => api.status >= 500 && api.status != 503,
        _ => false,
    };
    match step {
        Step::Initiate if ambiguous => Some("a batch may have been created anyway; it is harmless if unused"),
        Step::Compute if ambiguous => {
            Some("the server may have started computing: check with wait_for_results before calling compute again")
        }
        // The server said it did not take the request (429, 503, refused): try again later.
        Step::Compute if error.is_retryable() => {
            Some("the images are uploaded: call compute for this batch again later, then wait_for_results")
        }
        Step::Results => Some("the batch goes on on the server: resume with wait_for_results"),
        _ => None,
    }
}
