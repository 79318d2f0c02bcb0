//! The pipeline: initiate → uploads → compute → results, under one deadline.
//!
//! Read [`Session::run_analysis`] top to bottom: it is the API's four steps in order.

mod options;
mod run;
mod upload;
mod wait;

use std::time::Duration;

use serde_json::Value;
use uuid::Uuid;

use crate::api::{INITIATE, decode};
use crate::error::{Error, ErrorKind, Result, Step};
use crate::image::{Image, Images};
use crate::model::{BatchResults, InitiateUpload, Side, UploadTargets};
use crate::observe::Event;
use crate::session::Session;
use crate::util::limits::{MAX_IMAGE_NAME_CHARS, check_name};
pub use options::AnalysisOptions;
use run::Run;
pub(crate) use run::compute_not_taken;

/// One side, checked and ready to upload.
pub(crate) struct Prepared<'i> {
    pub(crate) side: Side,
    pub(crate) image: &'i Image<'i>,
    pub(crate) len: u64,
}

impl Session {
    /// Analyses three photos: initiate → three concurrent uploads → compute → wait for
    /// results, under the session's deadline. Each argument is a path (streamed from disk)
    /// or bytes in memory; every input is checked before anything is created on the server.
    ///
    /// ```no_run
    /// let session = hautai::Session::from_env()?;
    /// let results = session.run_full_analysis("front.jpg", "left.jpg", "right.jpg")?;
    /// for (name, p) in results.parameters() {
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
    /// 2. **Initiate**: create the batch and its signed upload targets. When the answer is
    ///    lost (the connection broke or timed out after sending, or a 5xx other than 503),
    ///    initiate is sent once more: a batch made by the lost request stays unused, which
    ///    costs nothing. Not with [`RetryPolicy::none`](crate::config::RetryPolicy::none).
    /// 3. **Upload** all sides at the same time, streaming; if a side fails for good, its
    ///    error names it and the batch, the other uploads stop, and compute is not called.
    /// 4. **Compute**, once, never again: when its answer is lost, the call goes on polling
    ///    and succeeds if the batch shows work within [`COMPUTE_CONFIRMATION`] (60 s, and
    ///    the deadline); otherwise it fails with the compute error and advice.
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
        let mut run = Run::start(self, options)?;

        // 1. Validate: nothing is sent before every input passed.
        let subject_id = options.subject_id.or(self.subject_id()).ok_or_else(|| {
            ErrorKind::Config(
                "no subject: set one with SessionBuilder::subject_id or AnalysisOptions::subject_id".into(),
            )
        })?;
        let (prepared, request) = prepare(images, options)?;
        let sizes: Vec<(Side, u64)> = prepared.iter().map(|p| (p.side, p.len)).collect();
        run.emit(Step::Validate, Event::Validated { sides: &sizes })?;

        // 2. Initiate: from here on the batch exists, and every error names it.
        let targets = run.initiate(subject_id, &request)?;
        run.emit(Step::Initiate, Event::BatchCreated { batch_id: targets.image_batch_id })?;

        // 3. Upload every side at once.
        let uploaded = run.upload_all(&prepared, &targets);
        run.stamp(Step::Upload, uploaded)?;

        // 4. Compute, once. An answer lost on the way is confirmed by polling instead.
        run.emit(Step::Compute, Event::Computing { batch_id: targets.image_batch_id })?;
        let doubt = run.compute(options.app_args.clone())?;
        if doubt.is_none() {
            run.emit(Step::Compute, Event::Computed { batch_id: targets.image_batch_id })?;
        }

        // 5. Wait for the results, around the time recent batches took (unless compute's
        // answer was lost: then the batch must show work soon, so the plain schedule).
        let waits = match doubt {
            None => self.shared.readiness.waits(&self.shared.poll),
            Some(_) => Box::new(self.shared.poll.waits()),
        };
        run.wait(options, waits, doubt)
    }

    /// Waits for the results of a batch started earlier (by this process or another, or
    /// by a call whose deadline ran out), with the session's deadline.
    ///
    /// Polls at once, then per the session's [`PollSchedule`](crate::config::PollSchedule), asking
    /// without masks; when every application reports `all_algorithms_calculated`, fetches
    /// the results once more with the server's default options (masks included). If that
    /// last fetch times out or cannot finish before the deadline, the complete results of
    /// the last poll are returned (without masks) rather than thrown away.
    ///
    /// A detection error (the service could not use a photo) does not end the wait at
    /// once: polling goes on while the results still change, until they are complete or
    /// stay unchanged for [`PollSchedule::detection_grace`](crate::config::PollSchedule::detection_grace);
    /// then [`ErrorKind::Detection`] keeps the most complete results, fetched with your options.
    ///
    /// ```no_run
    /// # let session = hautai::Session::from_env()?;
    /// # let batch_id = hautai::Uuid::nil();
    /// use hautai::error::ErrorKind;
    /// match session.wait_for_results(batch_id) {
    ///     Ok(results) => println!("{:?}", results.parameter("age")),
    ///     Err(e) => match e.kind() {
    ///         ErrorKind::Deadline { polls, .. } => eprintln!("not ready after {polls} polls; try later"),
    ///         _ => return Err(e),
    ///     },
    /// }
    /// # Ok::<(), hautai::Error>(())
    /// ```
    pub fn wait_for_results(&self, batch_id: Uuid) -> Result<BatchResults> {
        self.wait_for_results_with(batch_id, &AnalysisOptions::new())
    }

    /// [`wait_for_results`](Self::wait_for_results) with options: the deadline, the final
    /// fetch's [`ResultsQuery`](crate::model::ResultsQuery), and an observer.
    pub fn wait_for_results_with(&self, batch_id: Uuid, options: &AnalysisOptions<'_>) -> Result<BatchResults> {
        let mut run = Run::start(self, options)?;
        run.batch_id = Some(batch_id);
        run.compute_sent = true;
        // Polls at once, then as the schedule says; the batch's start is unknown, so
        // its readiness teaches nothing.
        run.learns = false;
        let waits = std::iter::once(Duration::ZERO).chain(self.shared.poll.waits().skip(1));
        run.wait(options, Box::new(waits), None)
    }

    /// [`wait_for_results_with`](Self::wait_for_results_with) for a batch whose compute
    /// was sent earlier with its answer lost: the batch must show work within
    /// [`COMPUTE_CONFIRMATION`], or the call fails with [`ErrorKind::ComputeUnconfirmed`]
    /// instead of waiting out the deadline.
    pub(crate) fn resume_unconfirmed(&self, batch_id: Uuid, options: &AnalysisOptions<'_>) -> Result<BatchResults> {
        let mut run = Run::start(self, options)?;
        run.batch_id = Some(batch_id);
        run.compute_sent = true;
        run.learns = false;
        let waits = std::iter::once(Duration::ZERO).chain(self.shared.poll.waits().skip(1));
        let doubt = ErrorKind::ComputeUnconfirmed { batch_id, waited: Duration::ZERO };
        run.wait(options, Box::new(waits), Some(doubt.into()))
    }
}

/// How long polling may show nothing at all after a compute whose answer was lost, before
/// the call gives up with the compute error: 60 seconds (and never past the deadline).
pub const COMPUTE_CONFIRMATION: Duration = Duration::from_secs(60);

impl Run<'_, '_> {
    /// Step 2: initiate, sent once more when its answer was lost. Names the batch even
    /// when the answer does not decode.
    fn initiate(&mut self, subject_id: Uuid, request: &InitiateUpload) -> Result<UploadTargets> {
        let session = self.session;
        let ctx = self.ctx(Step::Initiate);
        let mut reply = session.initiate_reply(subject_id, request, &ctx);
        if let Err(error) = &reply
            && run::in_doubt(error)
            && session.shared.transport.retry.retries() > 0
            && !self.out_of_time()
        {
            let what = INITIATE.label;
            self.emit(Step::Initiate, Event::Retrying { what, cause: error, retry: 1, delay: Duration::ZERO })?;
            reply = session.initiate_reply(subject_id, request, &ctx);
        }
        let reply = self.stamp(Step::Initiate, reply)?;
        let decoded = decode::<UploadTargets>(&INITIATE, &reply.body);
        // An answer that does not fit may still name the batch it created.
        self.batch_id = decoded.as_ref().map(|t| t.image_batch_id).ok().or_else(|| batch_id_in(&reply.body));
        self.stamp(Step::Initiate, decoded)
    }

    /// Step 4: compute, sent once. `Ok(Some(error))`: the answer was lost, so the server
    /// may or may not be computing; the wait confirms it.
    fn compute(&mut self, app_args: Option<serde_json::Value>) -> Result<Option<Error>> {
        let sent = self.session.compute_in(self.batch_id.unwrap_or_default(), app_args, &self.ctx(Step::Compute));
        match sent {
            Ok(()) => {
                self.compute_sent = true;
                Ok(None)
            }
            Err(error) if run::in_doubt(&error) => {
                self.compute_sent = true;
                Ok(Some(error))
            }
            Err(error) => self.stamp(Step::Compute, Err(error)),
        }
    }
}

/// The `image_batch_id` of an initiate answer that did not decode as a whole.
fn batch_id_in(body: &[u8]) -> Option<Uuid> {
    let json: Value = serde_json::from_slice(body).ok()?;
    Uuid::parse_str(json.get("image_batch_id")?.as_str()?).ok()
}

/// Checks every image and builds the initiate request; nothing is sent.
fn prepare<'i>(images: &'i Images<'i>, options: &AnalysisOptions<'_>) -> Result<(Vec<Prepared<'i>>, InitiateUpload)> {
    let mut request = options.upload.clone();
    let mut prepared = Vec::new();
    for (side, image) in images.sides() {
        let len = image.check(side)?;
        let name = image.upload_name(side, options.real_file_names);
        if let Err(reason) = check_name("its file name", &name, MAX_IMAGE_NAME_CHARS) {
            return Err(ErrorKind::InvalidImage { side, path: image.path().map(Into::into), reason }.into());
        }
        request = request.name(side, name);
        prepared.push(Prepared { side, image, len });
    }
    if prepared.is_empty() {
        return Err(ErrorKind::InvalidArgument("an analysis needs at least one of front, left, right".into()).into());
    }
    // Once every photo is there and within the limits, what each one is (this reads it).
    for photo in prepared.iter().filter(|_| !options.any_format) {
        photo.image.check_format(photo.side)?;
    }
    Ok((prepared, request))
}
