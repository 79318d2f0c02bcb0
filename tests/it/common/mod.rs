//! Helpers shared by the integration tests: sessions pointed at a mockito server.
#![allow(dead_code)] // Each test file uses a different part.

pub mod files;
pub mod hostile;
pub mod tls;

use std::sync::Arc;
use std::time::Duration;

use hautai::clock::VirtualClock;
use hautai::config::RetryPolicy;
use hautai::emulator::{Emulator, EmulatorConfig, Maturity};
use hautai::{Session, SessionBuilder, Uuid};

/// The token of every test session; the tokens below replace it where a test needs another.
pub const TOKEN: &str = "tok_secret_1234567890";
/// The token a login answers with.
pub const LOGIN_TOKEN: &str = "tok_login_access_1";
/// A second token, handed to a running session.
pub const FRESH_TOKEN: &str = "tok_fresh_2";
/// A third token, for a session of its own.
pub const OTHER_TOKEN: &str = "tok_other_3";

/// `Bearer {token}`: the `Authorization` header that carries `token`.
pub fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}
pub const COMPANY: &str = "3fa85f64-5717-4562-b3fc-2c963f66afa6";
pub const SUBJECT: &str = "0b5a1c1e-3d55-4c36-8f3b-9b0f0f0a7c11";
pub const BATCH: &str = "5243ab6a-bd30-4932-b98c-45e43edfdc36";

pub fn company() -> Uuid {
    COMPANY.parse().unwrap()
}
pub fn subject() -> Uuid {
    SUBJECT.parse().unwrap()
}
pub fn batch() -> Uuid {
    BATCH.parse().unwrap()
}

/// `/api/v3/companies/{COMPANY}` followed by `rest`.
pub fn path(rest: &str) -> String {
    format!("/api/v3/companies/{COMPANY}{rest}")
}

/// A builder for `url` with a virtual clock (waits take no time), short timeouts and the
/// default retry policy.
pub fn builder(url: &str, clock: &Arc<VirtualClock>) -> SessionBuilder {
    Session::builder(TOKEN, company())
        .base_url(url)
        .subject_id(subject())
        .clock(clock.clone())
        .connect_timeout(Duration::from_secs(2))
        .request_timeout(Duration::from_secs(5))
        .io_timeout(Duration::from_secs(5))
}

/// A virtual clock that fails the test once a wait loop runs away (more than two virtual
/// hours or a thousand waits: no test here waits more than about a hundred times), instead
/// of letting it hang.
pub fn clock() -> Arc<VirtualClock> {
    Arc::new(VirtualClock::with_limit(Duration::from_secs(2 * 3600), 1000))
}

/// A session on `url` with a fresh virtual clock.
pub fn session(url: &str) -> (Session, Arc<VirtualClock>) {
    let clock = clock();
    (builder(url, &clock).build().unwrap(), clock)
}

/// A session on `url` that never retries.
pub fn session_without_retries(url: &str) -> Session {
    let clock = clock();
    builder(url, &clock).retry(RetryPolicy::none()).build().unwrap()
}

/// Settings for sessions against the emulator: polls at the floor (100 ms), quick retries,
/// and a deadline of 3 s, long enough for every analysis here and short enough that a
/// broken pipeline fails its test in seconds.
pub fn fast(builder: SessionBuilder) -> SessionBuilder {
    builder
        .poll_schedule(hautai::config::PollSchedule::fixed(hautai::config::MIN_POLL_INTERVAL))
        .retry(RetryPolicy::default().initial_backoff(Duration::from_millis(10)))
        .deadline(Duration::from_secs(3))
}

/// An emulator started with `config`.
pub fn emulator_with(config: EmulatorConfig) -> Emulator {
    Emulator::start(config).expect("the emulator starts")
}

/// An emulator whose results are ready at the first poll.
pub fn emulator() -> Emulator {
    emulator_with(EmulatorConfig::new().maturity(Maturity::Polls(1)))
}

/// A session on `emulator` with the [`fast`] settings.
pub fn fast_session(emulator: &Emulator) -> Session {
    fast(emulator.session_builder()).build().unwrap()
}

/// A fixture file's text.
pub fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

/// An IMF-fixdate for `at` (`Sun, 06 Nov 1994 08:49:37 GMT`), for `Retry-After` dates.
pub fn http_date(at: std::time::SystemTime) -> String {
    let secs = at.duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (days, rest) = ((secs / 86_400) as i64, secs % 86_400);
    // Days since 1970 to a civil date (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let (era, doe) = (z.div_euclid(146_097), z.rem_euclid(146_097));
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let weekday = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"][days.rem_euclid(7) as usize];
    let month =
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"][month as usize - 1];
    format!("{weekday}, {day:02} {month} {year} {:02}:{:02}:{:02} GMT", rest / 3600, rest % 3600 / 60, rest % 60)
}

#[test]
fn http_dates_are_imf_fixdates() {
    let at = std::time::UNIX_EPOCH + std::time::Duration::from_secs(784_111_777);
    assert_eq!(http_date(at), "Sun, 06 Nov 1994 08:49:37 GMT");
}

/// 64-bit FNV-1a of `bytes`: the hash the emulator records of each body it receives.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3))
}
