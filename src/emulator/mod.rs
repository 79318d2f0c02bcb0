//! An in-process stand-in for the Haut.ai v3 API and its signed-URL storage, on loopback
//! (feature `emulator`).
//!
//! It starts with a company, a dataset, a subject and a token, and hands back a ready
//! [`Session`]. It follows the documented rules (bearer auth, UUID paths, side names of
//! 1..=255 characters, signed headers with exactly their values, 1 byte to 30 MiB with
//! `Content-Length`, no `Authorization` at storage, compute only after every upload,
//! DRF-style errors, XML storage errors, page-number pagination) and answers with
//! deterministic, plausible values for the 27 parameters of Face Skin Analysis 3.0.
//! Knobs set latency, a shared upload bandwidth, when results mature, and faults; a TCP
//! relay in front of each port cuts connections or never answers. Every request is
//! recorded for assertions.
//!
//! Test your own program against it:
//!
//! ```
//! use hautai::emulator::{Emulator, EmulatorConfig, Maturity, Route, Fault};
//!
//! let emulator = Emulator::start(EmulatorConfig::new().maturity(Maturity::Polls(1)))?;
//! let session = emulator.session();
//! // A transient 503 on the first upload: the client retries it.
//! emulator.fail_next(Route::Upload, 1, Fault::status(503));
//! let photo = hautai::emulator::sample_photo(hautai::Side::Front, 64, 80);
//! let results = session.run_full_analysis(&photo, &photo, &photo)?;
//! assert!(results.is_complete());
//! assert_eq!(results.parameters().len(), 27);
//! assert!(emulator.requests().iter().filter(|r| r.storage).all(|r| !r.authorization));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Threads: one per request (and per relayed connection). Stopping the emulator
//! ([`Emulator::stop`], or dropping it and every session made from it) closes
//! every connection, wakes every waiting handler and joins its threads.

mod account;
mod api;
mod assets;
mod config;
mod data;
mod dispatch;
mod drf;
mod http;
mod kept;
mod record;
mod relay;
mod routes;
mod state;
mod storage;
mod wall_clock;

use std::io;
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Instant;

use uuid::Uuid;

pub use config::{EmulatorConfig, Fault, Maturity, Route};
pub use data::HOSTILE_NAMES;
pub use data::PARAMETERS;
pub use record::RecordedRequest;
pub use relay::Relay;

use crate::model::Side;
use crate::{Session, SessionBuilder};
pub use assets::sample_photo;
use dispatch::spawn_dispatcher;
pub(crate) use dispatch::{Incoming, Inner, fault_reply};
use http::{Gate, RateLimit, Throttle};
use state::State;

/// A running emulator. See the [module documentation](self).
///
/// It runs while this handle or any session made from it ([`session`](Self::session),
/// [`session_builder`](Self::session_builder)) lives, so
/// `Emulator::start(config)?.session()` is a working session; [`stop`](Self::stop) ends
/// it at once.
#[must_use = "the emulator stops when it is dropped"]
pub struct Emulator {
    inner: Arc<Inner>,
    running: Arc<Running>,
}

/// The servers and relays of an emulator: they run while the [`Emulator`] or any session
/// made from it (which holds this) lives, and stop when the last of them goes.
struct Running {
    inner: Arc<Inner>,
    api_relay: Relay,
    storage_relay: Relay,
    servers: Mutex<Vec<(Arc<tiny_http::Server>, JoinHandle<()>)>>,
}

impl Emulator {
    /// Starts an emulator on loopback ports with `config`.
    pub fn start(config: EmulatorConfig) -> io::Result<Emulator> {
        let to_io = |e: Box<dyn std::error::Error + Send + Sync>| io::Error::other(e.to_string());
        let api_server = Arc::new(tiny_http::Server::http("127.0.0.1:0").map_err(to_io)?);
        let storage_server = Arc::new(tiny_http::Server::http("127.0.0.1:0").map_err(to_io)?);
        let addr = |s: &tiny_http::Server| s.server_addr().to_ip().ok_or_else(|| io::Error::other("no ip address"));
        let kept = config.keep_state.as_deref().map(kept::load).transpose()?.flatten();
        let (api_port, storage_port) = kept.as_ref().map_or((config.port, 0), |k| (k.api_port, k.storage_port));
        let taken = |e: io::Error| match kept {
            Some(_) => io::Error::new(e.kind(), format!("the kept emulator's port is taken: {e}")),
            None => e,
        };
        let api_relay = Relay::start(addr(&api_server)?, api_port).map_err(taken)?;
        let storage_relay = Relay::start(addr(&storage_server)?, storage_port).map_err(taken)?;
        let seed = config.seed.unwrap_or_else(|| {
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(7, |d| d.as_nanos() as u64)
        });
        let state = match kept {
            Some(kept) => State::from_data(kept.data, config.maturity),
            None => State::new(seed, config.maturity),
        };
        let ports = (api_relay.addr().port(), storage_relay.addr().port());
        if let Some(path) = &config.keep_state {
            kept::save(path, &state, ports)?;
        }
        let inner = Arc::new(Inner {
            state: Mutex::new(state),
            ports,
            records: Mutex::new(Vec::new()),
            handlers: Mutex::new(Vec::new()),
            throttle: config.upload_bandwidth.map(Throttle::new),
            rate: config.rate_limit.map(RateLimit::new),
            config,
            gate: Gate::default(),
            api_url: format!("http://{}", api_relay.addr()),
            storage_url: format!("http://{}", storage_relay.addr()),
            storage_host: storage_relay.addr().to_string(),
        });
        let servers = vec![
            (api_server.clone(), spawn_dispatcher(&inner, api_server, false)?),
            (storage_server.clone(), spawn_dispatcher(&inner, storage_server, true)?),
        ];
        let running =
            Arc::new(Running { inner: inner.clone(), api_relay, storage_relay, servers: Mutex::new(servers) });
        Ok(Emulator { inner, running })
    }

    /// A session for the emulated company, with its token and default subject, made for
    /// tests: it polls every 100 ms (the floor) instead of waiting a second first, so an
    /// analysis takes as long as the emulator's maturity and no longer.
    ///
    /// ```
    /// use hautai::emulator::{Emulator, EmulatorConfig, Maturity};
    ///
    /// let emulator = Emulator::start(EmulatorConfig::new().maturity(Maturity::Polls(1)))?;
    /// let photo = hautai::emulator::sample_photo(hautai::Side::Front, 64, 80);
    /// let results = emulator.session().run_full_analysis(&photo, &photo, &photo)?;
    /// assert!(results.is_complete());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn session(&self) -> Session {
        let fast = crate::config::PollSchedule::fixed(crate::config::MIN_POLL_INTERVAL);
        self.session_builder().poll_schedule(fast).build().expect("the emulator's settings are valid")
    }

    /// Stops the emulator now, even while sessions made from it live (they keep it
    /// running otherwise): requests waiting in it end, and new ones are refused.
    pub fn stop(self) {
        self.running.stop();
    }

    /// A builder preset for the emulator (its URL, token, company and subject) with the
    /// default settings, the default poll schedule included, to change others first.
    pub fn session_builder(&self) -> SessionBuilder {
        let state = self.inner.lock();
        let subject = state.subjects[0].id;
        let builder = Session::builder(state.token.clone(), state.company_id).base_url(self.base_url());
        // A session keeps its emulator running: `Emulator::start(..)?.session()` works.
        builder.subject_id(subject).keep_alive(self.running.clone())
    }

    /// The API's base URL (`http://127.0.0.1:PORT`).
    pub fn base_url(&self) -> &str {
        &self.inner.api_url
    }

    /// The token the emulator accepts.
    pub fn token(&self) -> String {
        self.inner.lock().token.clone()
    }

    /// The emulated company.
    pub fn company_id(&self) -> Uuid {
        self.inner.lock().company_id
    }

    /// The built-in dataset.
    pub fn dataset_id(&self) -> Uuid {
        self.inner.lock().datasets[0].id
    }

    /// The email and password whose login succeeds.
    pub fn user(&self) -> (String, String) {
        self.inner.config.user.clone()
    }

    /// The built-in subject (the session's default).
    pub fn subject_id(&self) -> Uuid {
        self.inner.lock().subjects[0].id
    }

    /// Every request so far, in the order they were answered.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.inner.records.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Forgets the requests recorded so far.
    pub fn clear_requests(&self) {
        self.inner.records.lock().unwrap_or_else(PoisonError::into_inner).clear();
    }

    /// The batches created, oldest first.
    pub fn batch_ids(&self) -> Vec<Uuid> {
        self.inner.lock().batches.iter().map(|b| b.id).collect()
    }

    /// How many times compute was called for `batch_id`.
    pub fn compute_calls(&self, batch_id: Uuid) -> u32 {
        self.inner.lock().batch(batch_id).map_or(0, |b| b.computes)
    }

    /// Every compute the service took, of every batch: those of batches it forgot since
    /// ([`forget_batches`](Self::forget_batches)) included. What a folder of visits cost.
    pub fn computes(&self) -> u32 {
        self.inner.lock().computes_taken
    }

    /// When the results of `batch_id` become final: compute time plus its delay under
    /// [`Maturity::After`] or [`Maturity::Around`] (`None` before compute or with
    /// [`Maturity::Polls`]).
    pub fn ready_at(&self, batch_id: Uuid) -> Option<Instant> {
        let state = self.inner.lock();
        let delay = state.maturity.delay_of(batch_id)?;
        state.batch(batch_id)?.computed.map(|at| at + delay)
    }

    /// The size and FNV-1a hash of the image stored for `side` of `batch_id`.
    pub fn stored_image(&self, batch_id: Uuid, side: Side) -> Option<(u64, u64)> {
        self.inner.lock().batch(batch_id)?.images.get(&side)?.stored
    }

    /// Answers the next `count` calls of `route` with `fault`.
    pub fn fail_next(&self, route: Route, count: u32, fault: Fault) {
        if count > 0 {
            self.inner.lock().faults.entry(route).or_default().next.push_back((count, fault));
        }
    }

    /// Answers every `nth` call of `route` (counting from now) with `fault`.
    pub fn fail_every(&self, route: Route, nth: u32, fault: Fault) {
        let mut state = self.inner.lock();
        let rule = state.faults.entry(route).or_default();
        rule.calls = 0;
        rule.every = (nth > 0).then_some((nth, fault));
    }

    /// Removes every armed fault.
    pub fn clear_faults(&self) {
        self.inner.lock().faults.clear();
    }

    /// While `on`, results stay "computing" forever.
    pub fn never_complete(&self, on: bool) {
        self.inner.lock().never_complete = on;
    }

    /// Forgets every batch, as a service restored from an old backup would: requests for
    /// them answer 404 from now on.
    pub fn forget_batches(&self) {
        self.inner.lock().batches.clear();
    }

    /// Makes the results of every computed batch final now (and lifts `never_complete`).
    pub fn complete_all(&self) {
        let mut state = self.inner.lock();
        state.never_complete = false;
        state.batches.iter_mut().filter(|b| b.computed.is_some()).for_each(|b| b.forced = true);
    }

    /// Reports a detection error for `side` in the results of batches that have it
    /// (`None` clears it).
    pub fn detection_error(&self, error: Option<(Side, &str)>) {
        self.inner.lock().detection_error = error.map(|(side, message)| (side, message.to_owned()));
    }

    /// Answers, from now on, with results a compromised or careless service might send:
    /// besides the usual parameters, ones named (and tagged) with markup, quotes, `../`,
    /// a formula, a Windows device name, 300 characters, and names that differ from
    /// others only in case or punctuation ([`HOSTILE_NAMES`]), each with masks; and a
    /// second application named like a parameter. Nothing a client saves or shows from
    /// them may run, escape its folder, or take another file's place.
    pub fn hostile_names(&self, on: bool) {
        self.inner.lock().hostile_names = on;
    }

    /// The TCP relay in front of the API port (transport faults of API calls).
    pub fn api_relay(&self) -> &Relay {
        &self.running.api_relay
    }

    /// The TCP relay in front of the storage port (transport faults of uploads).
    pub fn storage_relay(&self) -> &Relay {
        &self.running.storage_relay
    }
}

impl std::fmt::Debug for Emulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Emulator")
            .field("api", &self.inner.api_url)
            .field("storage", &self.inner.storage_url)
            .finish_non_exhaustive()
    }
}

impl Running {
    /// Wakes every waiting handler, closes every connection, stops the dispatchers (once).
    fn stop(&self) {
        self.inner.gate.close();
        self.api_relay.shutdown();
        self.storage_relay.shutdown();
        let servers = std::mem::take(&mut *self.servers.lock().unwrap_or_else(PoisonError::into_inner));
        for (server, _) in &servers {
            server.unblock();
        }
        for (_, dispatcher) in servers {
            let _ = dispatcher.join();
        }
        let handlers = std::mem::take(&mut *self.inner.handlers.lock().unwrap_or_else(PoisonError::into_inner));
        for handler in handlers {
            let _ = handler.join();
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop();
    }
}
