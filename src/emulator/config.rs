//! What an emulator is started with, and the faults it can be told to inject.

use std::time::Duration;

/// The routes of the emulated service, for faults and the request record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Route {
    /// `POST .../subjects/{id}/upload/`
    Initiate,
    /// `PUT` of an image to its signed URL (the storage host).
    Upload,
    /// `GET` of a mask or a predicted image from its signed URL (the storage host).
    Asset,
    /// `POST .../batches/{id}/compute/`
    Compute,
    /// `GET .../batches/{id}/results/`
    Results,
    /// `GET .../subjects/{id}/parameters/`
    SubjectParameters,
    /// `GET .../batches/{id}/`
    BatchInfo,
    /// `GET .../batches/`
    BatchList,
    /// `POST /api/v1/auth/login/`
    Login,
    /// `/api/v1/auth/private_tokens/` (create, list, revoke).
    PrivateTokens,
    /// `/api/v1/companies/{id}/datasets/` (create, list).
    Datasets,
    /// `/api/v1/companies/{id}/datasets/{id}/subjects/` (create, list).
    Subjects,
    /// Anything else (an unknown path).
    Other,
}

/// An answer the emulator gives instead of the real one.
///
/// ```
/// use hautai::emulator::Fault;
/// let busy = Fault::status(503).retry_after("1");
/// let rejected = Fault::status(403).storage_code("SignatureDoesNotMatch");
/// let moved = Fault::status(302).location("https://elsewhere.example/");
/// let broken = Fault::status(200).body("<html>maintenance</html>");
/// # let _ = (busy, rejected, moved, broken);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    pub(crate) status: u16,
    pub(crate) retry_after: Option<String>,
    pub(crate) storage_code: Option<String>,
    pub(crate) location: Option<String>,
    pub(crate) body: Option<String>,
    pub(crate) carried_out: bool,
}

impl Fault {
    /// Answers `status`, with a DRF-style JSON body (or a storage XML body on uploads).
    pub fn status(status: u16) -> Self {
        Fault { status, retry_after: None, storage_code: None, location: None, body: None, carried_out: false }
    }
    /// Adds `Retry-After: value` (seconds or an HTTP date).
    pub fn retry_after(mut self, value: impl Into<String>) -> Self {
        self.retry_after = Some(value.into());
        self
    }
    /// On uploads: the storage error code in the XML body, e.g. `SignatureDoesNotMatch`.
    pub fn storage_code(mut self, code: impl Into<String>) -> Self {
        self.storage_code = Some(code.into());
        self
    }
    /// Adds a `Location` header (for 3xx faults).
    pub fn location(mut self, url: impl Into<String>) -> Self {
        self.location = Some(url.into());
        self
    }
    /// Answers exactly this body (HTML, truncated JSON, ...).
    pub fn body(mut self, body: impl Into<String>) -> Self {
        self.body = Some(body.into());
        self
    }
    /// Carries the request out as usual, then answers with this fault instead of its
    /// answer: a gateway that lost the service's answer (a batch created, or a compute
    /// taken, that the client never hears of). On API routes.
    ///
    /// ```
    /// use hautai::emulator::Fault;
    /// let lost = Fault::status(504).carried_out();
    /// # let _ = lost;
    /// ```
    pub fn carried_out(mut self) -> Self {
        self.carried_out = true;
        self
    }
}

/// When computed results become final.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Maturity {
    /// This long after compute.
    After(Duration),
    /// After this many result requests following compute.
    Polls(u32),
    /// Each batch after its own delay, drawn evenly (and deterministically, from its id)
    /// between `mean - spread` and `mean + spread`: a service whose timing varies.
    Around {
        /// The mean delay after compute.
        mean: Duration,
        /// How far a batch's delay may be from the mean, either way.
        spread: Duration,
    },
}

impl Maturity {
    /// The delay after compute of `batch_id`'s results (`None` for [`Maturity::Polls`]).
    pub fn delay_of(&self, batch_id: uuid::Uuid) -> Option<Duration> {
        match *self {
            Maturity::After(delay) => Some(delay),
            Maturity::Polls(_) => None,
            Maturity::Around { mean, spread } => {
                let low = mean.saturating_sub(spread);
                let width = (mean + spread).saturating_sub(low).as_nanos().max(1);
                let offset = u128::from(crate::util::fnv::fnv1a(batch_id.as_bytes())) % width;
                Some(low + Duration::from_nanos(u64::try_from(offset).unwrap_or(u64::MAX)))
            }
        }
    }
}

/// Settings of an [`Emulator`](super::Emulator), given to [`Emulator::start`](super::Emulator::start).
///
/// ```
/// use std::time::Duration;
/// use hautai::emulator::{EmulatorConfig, Maturity};
///
/// let config = EmulatorConfig::new()
///     .latency(Duration::from_millis(50))
///     .upload_bandwidth(10_000_000)
///     .maturity(Maturity::Polls(2));
/// # let _ = config;
/// ```
#[derive(Debug, Clone)]
pub struct EmulatorConfig {
    pub(crate) latency: Duration,
    pub(crate) upload_bandwidth: Option<u64>,
    pub(crate) maturity: Maturity,
    pub(crate) page_size: usize,
    pub(crate) user: (String, String),
    pub(crate) mfa: bool,
    pub(crate) seed: Option<u64>,
    pub(crate) rate_limit: Option<u32>,
    pub(crate) port: u16,
    pub(crate) keep_state: Option<std::path::PathBuf>,
}

impl Default for EmulatorConfig {
    /// No latency, unlimited bandwidth, results final 2 s after compute, 20 batches a page.
    fn default() -> Self {
        EmulatorConfig {
            latency: Duration::ZERO,
            upload_bandwidth: None,
            maturity: Maturity::After(Duration::from_secs(2)),
            page_size: 20,
            user: ("demo@hautai.example".into(), "demo-password".into()),
            mfa: false,
            seed: None,
            rate_limit: None,
            port: 0,
            keep_state: None,
        }
    }
}

impl EmulatorConfig {
    /// The defaults: any free port, no latency, unlimited upload bandwidth, no rate limit, results final
    /// 2 s after compute ([`Maturity::After`]), 20 items a page, the user
    /// `demo@hautai.example` / `demo-password` without multi-factor authentication, and a
    /// seed drawn per emulator.
    pub fn new() -> Self {
        Self::default()
    }
    /// Waits this long before answering each request (API and storage).
    pub fn latency(mut self, latency: Duration) -> Self {
        self.latency = latency;
        self
    }
    /// Limits all uploads together to this many bytes per second.
    pub fn upload_bandwidth(mut self, bytes_per_second: u64) -> Self {
        self.upload_bandwidth = Some(bytes_per_second.max(1));
        self
    }
    /// When computed results become final.
    pub fn maturity(mut self, maturity: Maturity) -> Self {
        self.maturity = maturity;
        self
    }
    /// The user whose login succeeds (default `demo@hautai.example` / `demo-password`).
    pub fn user(mut self, email: impl Into<String>, password: impl Into<String>) -> Self {
        self.user = (email.into(), password.into());
        self
    }
    /// Makes the user's login fail as for an account with multi-factor authentication.
    pub fn mfa(mut self, on: bool) -> Self {
        self.mfa = on;
        self
    }
    /// Fixes the seed of ids and tokens, for runs that must be identical (snapshot tests).
    /// By default each emulator draws its own. Parameter values depend only on the
    /// uploaded photos, seed or not.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }
    /// Answers API requests beyond `per_second` (with a burst of as many) with 429 and a
    /// `Retry-After` in whole seconds, as a rate-limited service does. Storage is not
    /// limited.
    pub fn rate_limit(mut self, per_second: u32) -> Self {
        self.rate_limit = Some(per_second.max(1));
        self
    }
    /// Serves the API on this loopback port (default 0: any free port). Storage always
    /// takes a free port; its URLs come in the results.
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }
    /// Keeps the service's data (company, token, subjects, batches with their photos and
    /// results) in the file `path`, written whole after every request, and starts from it
    /// when it is there: on the ports it was on, so that a program killed in the middle of
    /// its work and run again finds the service it paid, as it would a real one. Knobs,
    /// faults and maturity are this start's. A file that is not an emulator's fails the
    /// start; a port taken since fails it too.
    ///
    /// ```
    /// use hautai::emulator::{Emulator, EmulatorConfig};
    /// let path = std::env::temp_dir().join(format!("emulator-doc-{}.json", std::process::id()));
    /// let first = Emulator::start(EmulatorConfig::new().keep_state(&path))?;
    /// let (company, url) = (first.company_id(), first.base_url().to_owned());
    /// drop(first);
    /// let again = Emulator::start(EmulatorConfig::new().keep_state(&path))?;
    /// assert_eq!((again.company_id(), again.base_url()), (company, url.as_str()));
    /// # drop(again);
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn keep_state(mut self, path: impl Into<std::path::PathBuf>) -> Self {
        self.keep_state = Some(path.into());
        self
    }
    /// The default page size of lists.
    pub fn page_size(mut self, size: usize) -> Self {
        self.page_size = size.max(1);
        self
    }
}
