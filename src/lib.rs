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
//! for (name, parameter) in results.parameters() {
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
//! use hautai::observe::{Control, Event};
//! use hautai::{AnalysisOptions, Images};
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
//! # What is where
//!
//! * At the root: [`Session`] (from [`Session::from_env`] or [`Session::builder`]), the
//!   pipeline's inputs [`Images`], [`Image`] and [`AnalysisOptions`], its results
//!   [`BatchResults`], [`Parameter`] and [`Side`], and [`Error`]. Every endpoint is a
//!   `Session` method: [`compute`](Session::compute), [`results`](Session::results),
//!   [`batches`](Session::batches), [`subject_parameters`](Session::subject_parameters),
//!   [`download`](Session::download), [`save_assets`](Session::save_assets), ...
//! * [`model`]: the API's other types (uploads, batches, subjects, pages, queries such as
//!   [`model::ResultsQuery`]).
//! * [`config`]: settings and limits ([`config::RetryPolicy`], [`config::PollSchedule`]).
//! * [`error`]: what went wrong, to match: `match err.kind()` with
//!   [`error::ErrorKind`] (not `std::io::ErrorKind`), and its details ([`error::ApiError`],
//!   [`error::Step`], ...).
//! * [`observe`]: progress and cancellation ([`observe::Observer`], [`observe::Event`]).
//! * [`bulk`]: many analyses, resumable; [`save`]: assets into a folder, bounded.
//! * `emulator` (feature `emulator`): an offline stand-in for the service; `folder`
//!   (feature `folder`): a folder of visits analysed, with a report per visit, a summary
//!   and an index; `clock` (feature `test-util`): time for tests that should not wait.
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
//! * `test-util`: what tests need and programs should not: `hautai::clock` (time that
//!   tests move by hand, given to `SessionBuilder::clock`), `bulk::Journal::append` and
//!   `bulk::State` (a journal as a crash left it).
//! * `folder`: `hautai::folder`, the folder run and the reports (adds
//!   `unicode-normalization` and `kamadak-exif`).
//! * `cli`: the `hautai` command (`cargo install hautai --locked --features cli`), adding clap,
//!   clap_complete and indicatif to that build only.
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
// On docs.rs, each feature-gated item says which feature it needs.
#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(missing_docs)]

mod api;
mod builder;
pub mod bulk;
mod call;
#[cfg(feature = "test-util")]
pub mod clock;
#[cfg(not(feature = "test-util"))]
mod clock;
pub mod config;
mod destination;
#[cfg(feature = "emulator")]
pub mod emulator;
pub mod error;
#[cfg(feature = "folder")]
pub mod folder;
mod format;
mod image;
mod learned;
pub mod model;
pub mod observe;
mod pipeline;
mod poll;
mod retry;
pub mod save;
mod session;
mod transport;
mod util;

// The main job; everything else lives in the modules above.
#[doc(inline)]
pub use builder::SessionBuilder;
#[doc(inline)]
pub use error::{Error, Result};
#[doc(inline)]
pub use image::{Image, Images};
#[doc(inline)]
pub use model::{BatchResults, Parameter, Side};
#[doc(inline)]
pub use pipeline::AnalysisOptions;
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

/// The guide's examples compile too.
#[cfg(doctest)]
#[doc = include_str!("../docs/guide.md")]
pub struct GuideDoctests;
