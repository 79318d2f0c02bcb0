//! A blocking, tokio-free client for the [Haut.ai](https://haut.ai) SaaS Images API (v3).
//!
//! Haut.ai analyses face photos (front, left, right) and returns skin parameters: age,
//! pores, redness, lines, pigmentation and more. This crate speaks the six v3 endpoints
//! through one [`Session`], with typed and lenient models, one request path that retries
//! politely, and errors that say what happened and what to do.
//!
//! # Quick start
//!
//! ```no_run
//! use hautai::Session;
//!
//! // HAUTAI_TOKEN, HAUTAI_COMPANY_ID, HAUTAI_SUBJECT_ID (and HAUTAI_BASE_URL if not the default).
//! let session = Session::from_env()?;
//! let results = session.run_full_analysis("front.jpg", "left.jpg", "right.jpg")?;
//! for (name, parameter) in results.parameters().into_iter().flatten() {
//!     // The tag is the grade, the score a 0-100 rating (for age too); years only for ages.
//!     println!("{name:20} {:10} {:?} {:?}", parameter.tag().unwrap_or("-"), parameter.score(), parameter.years());
//! }
//! # Ok::<(), hautai::Error>(())
//! ```
//!
//! With progress, any subset of sides and a deadline of its own:
//!
//! ```no_run
//! use std::time::Duration;
//! use hautai::{AnalysisOptions, Control, Event, Images};
//! # let session = hautai::Session::from_env()?;
//!
//! let progress = |event: &Event| {
//!     eprintln!("{event}");
//!     Control::Continue
//! };
//! let options = AnalysisOptions::new().deadline(Duration::from_secs(120)).observer(&progress);
//! let results = session.run_analysis(&Images::new().front("front.jpg"), &options)?;
//! # let _ = results;
//! # Ok::<(), hautai::Error>(())
//! ```
//!
//! # Where things are
//!
//! What you use, and where its code lives:
//!
//! * [`Session`] (`session.rs`): the handle, its token and its shared connection pool.
//!   [`SessionBuilder`], [`Session::builder`] and [`Session::from_env`] (`builder.rs`):
//!   every setting, checked once.
//! * The pipeline (`pipeline/`): [`run_full_analysis`](Session::run_full_analysis),
//!   [`run_analysis`](Session::run_analysis) with [`Images`] (`image.rs`) and
//!   [`AnalysisOptions`], [`wait_for_results`](Session::wait_for_results); progress and
//!   cancellation through an [`Observer`] (`observe.rs`).
//! * The endpoints (`api/`, one file per resource, as `Session` methods):
//!   * `uploads.rs`: [`initiate_upload`](Session::initiate_upload),
//!     [`upload_image`](Session::upload_image);
//!   * `assets.rs`: [`download`](Session::download) and
//!     [`download_to`](Session::download_to) of the masks and predicted images that
//!     [`BatchResults::assets`] lists (`model/assets.rs`, safe file names in
//!     `model/asset_names.rs`), only from where `destination.rs` allows;
//!     [`save_assets`](Session::save_assets) of many, within [`save::Limits`] (`save.rs`);
//!   * `batches.rs`: [`compute`](Session::compute), [`results`](Session::results),
//!     [`batch`](Session::batch), [`list_batches`](Session::list_batches),
//!     [`batches`](Session::batches);
//!   * `subjects.rs`: [`create_subject`](Session::create_subject),
//!     [`subjects`](Session::subjects), [`subject_parameters`](Session::subject_parameters);
//!   * `account.rs`: [`login`](Session::login), [`SessionBuilder::login`],
//!     [`create_private_token`](Session::create_private_token),
//!     [`private_tokens`](Session::private_tokens),
//!     [`revoke_private_token`](Session::revoke_private_token),
//!     [`create_dataset`](Session::create_dataset), [`datasets`](Session::datasets);
//!   * `pages.rs`: [`Pages`], the iterator over a paginated list.
//! * Many analyses (`bulk/`): [`bulk::Bulk`] runs [`bulk::Job`]s a bounded number at a
//!   time, with a [`bulk::Journal`] that makes reruns safe (`journal.rs`, its locks in
//!   `lock.rs`) and
//!   [`bulk::Shard`]s for many machines (`shard.rs`).
//! * The models (`model/`): [`BatchResults`], [`Analysis`], [`Parameter`],
//!   [`UploadTargets`], [`BatchInfo`], ...; the queries [`ResultsQuery`] and [`BatchQuery`]
//!   (`model/query.rs`).
//! * [`Error`] (`error/`): one enum for everything, with the [`Request`] it concerns.
//! * Timing: [`RetryPolicy`] (`retry.rs`, with the retry budget), [`PollSchedule`]
//!   (`poll.rs`; learned polling in `learned.rs`), their bounds
//!   [`MAX_DURATION`] and [`MIN_POLL_INTERVAL`] (`limits.rs`), and [`clock`] for tests
//!   that should not wait.
//! * `emulator` (feature `emulator`, `emulator/`): an offline stand-in for the service, to
//!   try the crate without an account and to test programs that use it.
//!
//! # Architecture
//!
//! Layers, each using only those below it: the caller → `bulk` (composes analyses) →
//! `pipeline` (composes endpoints) → `api` (one method per endpoint) → `transport` (the one
//! request path, with the backpressure every clone and thread shares) → ureq. Under
//! them, small modules with one job each that any layer may use: `model`, `error`, `url`,
//! `redact`, `limits`, `clock`, `civil`, `retry`, `poll`, `learned`, `call`, `observe`,
//! `image`. No module imports one that imports it back. The emulator stands apart: it
//! shares only the models' names, `url`, `civil` and the `Session` it hands back, and
//! writes its JSON by hand, so that a wrong model cannot pass by agreeing with itself.
//!
//! **The path of a request.** An endpoint method builds its path and names its
//! `Endpoint` (a constant: method, label, whether the answer holds secrets), and calls
//! `Session::call` with a `CallContext` (`call.rs`: the deadline, the observer, the
//! step). That makes a `transport::Call` carrying the session's token, and
//! `Transport::send` (`transport/send.rs`) runs attempts (`attempt.rs`: timeouts capped by
//! the deadline, the token only to the API, the read limit), each after the host's
//! `Retry-After` hold and the rate limit (`pressure.rs`), and maps each failure
//! (`failure.rs`) to an [`Error`] and a retry decision (`retry.rs`), waiting per the
//! backoff or `Retry-After` (`retry_after.rs`). Every text that reaches an error is
//! scrubbed (`redact.rs`).
//!
//! **The path of an analysis.** [`run_analysis`](Session::run_analysis) (`pipeline/mod.rs`)
//! reads top to bottom as the API's steps: validate every input, initiate, upload all
//! sides at once (`pipeline/upload.rs`), compute once, wait (`pipeline/wait.rs`). A `Run`
//! (`pipeline/run.rs`) owns the call's deadline, batch id, poll count and whether compute
//! was sent, and gives every error its step, batch and advice in one place.
//!
//! **Adding an endpoint.** Declare its `Endpoint` with `endpoint!` in the resource's file
//! under `api/`, add a `Session` method a few lines long (`get_json`, `post_json` or
//! `call`), its model under `model/` if it returns a new shape, a doc example, a mockito
//! test in `tests/endpoints.rs`, and a route in the emulator (`emulator/routes.rs`).
//!
//! Doc examples use only this crate: ids are [`Uuid`] and JSON is [`json!`] and [`Value`]
//! (re-exported from `uuid` and `serde_json`). Those that decode JSON by hand
//! (`serde_json::from_str`) are for tests of your own, which then need `serde_json` as a
//! dev-dependency.
//!
//! # Features
//!
//! * `rustls` (default): TLS through rustls with Mozilla's roots.
//! * `native-tls`: the platform's TLS library and root store (TLS-inspecting proxies).
//! * `platform-verifier`: rustls with the operating system's certificate verifier.
//! * `emulator`: `hautai::emulator`, adding `tiny_http` (a small synchronous server).
//!
//! # Logs
//!
//! Requests are reported through the `log` facade under the target `hautai`: debug per
//! request (method, path without the query, status, time, attempt), info per retry, warn
//! on giving up; never a token, a signature or a body. Install any logger to see them.
//!
//! # What leaves the machine
//!
//! API requests go to the base URL (default `https://saas.haut.ai`) with the token in an
//! `Authorization` header, and nowhere else: redirects are not followed and pagination
//! links contribute only their query. Photos go, as they are (EXIF metadata included:
//! strip it first if it matters), to the signed storage URLs the API returns, without the
//! token. The names sent at initiate are `front.jpg`-style unless
//! [`AnalysisOptions::real_file_names`] asks for the files' own names, which often name
//! the patient.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod api;
mod builder;
pub mod bulk;
mod call;
mod civil;
pub mod clock;
mod destination;
#[cfg(feature = "emulator")]
pub mod emulator;
mod error;
mod fnv;
mod image;
mod learned;
mod limits;
mod model;
mod observe;
mod pipeline;
mod poll;
mod redact;
mod retry;
pub mod save;
mod session;
mod transport;
mod url;

pub use api::Pages;
pub use builder::{DEFAULT_BASE_URL, SessionBuilder};
pub use error::{ApiError, DetectionError, Error, Request, Result, Step, StorageError, TransportKind};
pub use image::{Image, Images, MAX_IMAGE_BYTES};
pub use limits::{MAX_DURATION, MIN_POLL_INTERVAL};
pub use model::{
    Analysis, Asset, BatchImage, BatchImageSummary, BatchInfo, BatchQuery, BatchResults, BatchSummary, Dataset,
    FACE_SKIN_METRICS_3, InitiateUpload, Lookup, NamedRef, NewSubject, Page, Parameter, Parameters, PredictedImages,
    PrivateToken, ResultsQuery, Secret, Side, Subject, SurveyResult, UploadTarget, UploadTargets,
};
pub use observe::{Control, Event, Observer};
pub use pipeline::{AnalysisOptions, COMPUTE_CONFIRMATION};
pub use poll::PollSchedule;
pub use retry::RetryPolicy;
/// JSON, as the API's free-form fields (`meta`, `app_args`) take it: `hautai::json!` and
/// `hautai::Value` are serde_json's, re-exported so that programs need no extra crate.
pub use serde_json::{Value, json};
pub use session::Session;
pub use uuid::Uuid;

/// A `Session` is shared between threads and its errors cross them.
const _: () = {
    const fn assert_send_sync<T: Send + Sync + 'static>() {}
    assert_send_sync::<Session>();
    assert_send_sync::<Error>();
};

/// The README's examples compile (they run against the network, so they are not run).
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
