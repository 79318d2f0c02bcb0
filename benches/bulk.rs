//! Many analyses against the emulator: `cargo bench --bench bulk` (about three minutes).
//! Prints one table and a `BENCH name=value` line per figure; each side of a row runs on
//! an emulator of its own, in the same run.
//!
//! a. 200 visits, 16 at a time, against an API limited to `RATE` requests per second:
//!    accepted requests per second as a fraction of the limit, and the share of requests
//!    answered 429; the bulk runner on one session against 16 threads that each call
//!    `run_full_analysis` on a session of their own.
//! b. 100 analyses, 20 at a time, with readiness around 12 s: poll requests per analysis
//!    and the delay from readiness to return, learned polling against the plain schedule.
//! c. 200 analyses, 16 at a time, against a service that answers 503 to everything:
//!    requests sent, with the retry budget and without it.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use hautai::bulk::{Bulk, Job, Outcome};
use hautai::emulator::{Emulator, EmulatorConfig, Fault, Maturity, Route};
use hautai::{Images, PollSchedule, RetryPolicy, Session, SessionBuilder};

/// The API's rate limit in figure a, requests per second.
const RATE: u32 = 20;

fn main() {
    // `cargo bench --bench bulk -- a` runs figure a alone (likewise b, c).
    let only: Vec<String> = std::env::args().skip(1).filter(|a| ["a", "b", "c"].contains(&a.as_str())).collect();
    let run = |figure: &str| only.is_empty() || only.iter().any(|o| o == figure);
    let nothing = (f64::NAN, f64::NAN, f64::NAN);
    let (ours_a, naive_a, holds_a) = if !run("a") {
        (nothing, nothing, nothing)
    } else {
        std::thread::scope(|s| {
            let ours = s.spawn(|| rate_limited(Client::Bulk { rate_limit: true }));
            let naive = s.spawn(|| rate_limited(Client::Naive));
            let holds = s.spawn(|| rate_limited(Client::Bulk { rate_limit: false }));
            (ours.join().unwrap(), naive.join().unwrap(), holds.join().unwrap())
        })
    };
    let (learned, plain) = if !run("b") {
        ((f64::NAN, f64::NAN), (f64::NAN, f64::NAN))
    } else {
        std::thread::scope(|s| {
            let learned = s.spawn(|| readiness(true));
            let plain = s.spawn(|| readiness(false));
            (learned.join().unwrap(), plain.join().unwrap())
        })
    };
    let (budget, unbounded) = if !run("c") {
        (f64::NAN, f64::NAN)
    } else {
        std::thread::scope(|s| {
            let budget = s.spawn(|| outage(Some(500)));
            let unbounded = s.spawn(|| outage(None));
            (budget.join().unwrap(), unbounded.join().unwrap())
        })
    };

    let rows = [
        ("a. accepted requests / rate limit", ours_a.0, naive_a.0, "rate_use"),
        ("a. share of requests answered 429", ours_a.1, naive_a.1, "throttled_share"),
        ("a. analyses per minute", ours_a.2, naive_a.2, "analyses_per_minute"),
        ("a'. accepted / limit, bulk without rate_limit", holds_a.0, naive_a.0, "rate_use_holds_only"),
        ("a'. share answered 429, bulk without rate_limit", holds_a.1, naive_a.1, "throttled_share_holds_only"),
        ("b. poll requests per analysis", learned.0, plain.0, "polls_per_analysis"),
        ("b. delay from readiness to return (s)", learned.1, plain.1, "readiness_delay_s"),
        ("c. requests sent during the outage", budget, unbounded, "outage_requests"),
    ];
    println!("\n{:<42} {:>12} {:>12}", "figure", "ours", "other");
    println!("{:-<42} {:->12} {:->12}", "", "", "");
    for (name, ours, other, _) in rows {
        println!("{name:<42} {ours:>12.3} {other:>12.3}");
    }
    println!(
        "(ours: a the bulk runner with rate_limit({RATE}), a' without; other: a 16 naive threads, b the plain \
         schedule, c no retry budget)\n"
    );
    for (_, ours, other, key) in rows {
        println!("BENCH {key}_ours={ours:.4}");
        println!("BENCH {key}_other={other:.4}");
    }
}

/// A small photo, different for each visit.
fn photo(visit: usize) -> Vec<u8> {
    (0..20_000).map(|b| (b as u8) ^ (visit as u8)).collect()
}

/// `count` jobs of three small photos each.
fn jobs(count: usize) -> Vec<Job<'static>> {
    (0..count)
        .map(|i| Job::new(format!("visit-{i}"), Images::new().front(photo(i)).left(photo(i)).right(photo(i))))
        .collect()
}

fn start(config: EmulatorConfig) -> Emulator {
    Emulator::start(config.latency(Duration::from_millis(5))).expect("the emulator starts")
}

/// A session on `emulator` with a generous deadline.
fn session(emulator: &Emulator) -> SessionBuilder {
    emulator.session_builder().deadline(Duration::from_secs(300))
}

/// The clients of figure a.
#[derive(Clone, Copy)]
enum Client {
    /// The bulk runner on one session, with the service's rate as its client-side limit
    /// or with the shared `Retry-After` holds alone.
    Bulk { rate_limit: bool },
    /// 16 threads, each calling `run_full_analysis` on a session of its own.
    Naive,
}

/// Figure a: (accepted API requests per second / RATE, share answered 429, analyses/min).
fn rate_limited(client: Client) -> (f64, f64, f64) {
    let readiness = Maturity::Around { mean: Duration::from_secs(2), spread: Duration::from_millis(500) };
    // Each side has an emulator of its own (the limit is per emulator).
    let emulator = start(EmulatorConfig::new().maturity(readiness).rate_limit(RATE));
    let started = Instant::now();
    if let Client::Bulk { rate_limit } = client {
        let builder = session(&emulator);
        let shared = if rate_limit { builder.rate_limit(f64::from(RATE)) } else { builder }.build().unwrap();
        let summary = Bulk::new(&shared).concurrency(16).run(jobs(200), |_| Ok(()));
        assert_eq!(summary.done, 200, "{summary:?}");
    } else {
        // What a loop written by hand does: 16 threads, each with a session of its own,
        // each retrying on its own.
        let next = std::sync::atomic::AtomicUsize::new(0);
        std::thread::scope(|s| {
            for _ in 0..16 {
                s.spawn(|| {
                    let own = session(&emulator).build().unwrap();
                    loop {
                        let visit = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        if visit >= 200 {
                            break;
                        }
                        let photo = photo(visit);
                        let _ = own.run_full_analysis(&photo, &photo, &photo);
                    }
                });
            }
        });
    }
    let elapsed = started.elapsed().as_secs_f64();
    let api: Vec<u16> = emulator.requests().iter().filter(|r| !r.storage).map(|r| r.status).collect();
    let throttled = api.iter().filter(|s| **s == 429).count() as f64;
    let accepted = api.len() as f64 - throttled;
    let computed = emulator.requests().iter().filter(|r| r.route == Route::Compute && r.status < 300).count() as f64;
    (accepted / elapsed / f64::from(RATE), throttled / api.len() as f64, computed / elapsed * 60.0)
}

/// Figure b: (poll requests per analysis, mean delay from readiness to return in s).
fn readiness(learned: bool) -> (f64, f64) {
    let around = Maturity::Around { mean: Duration::from_secs(12), spread: Duration::from_millis(500) };
    let emulator = start(EmulatorConfig::new().maturity(around));
    let schedule = PollSchedule::default().learning(learned);
    let shared = session(&emulator).poll_schedule(schedule).build().unwrap();
    let returned = Mutex::new(Vec::new());
    let summary = Bulk::new(&shared).concurrency(20).run(jobs(100), |outcome| {
        if let Outcome::Done { batch_id, .. } = outcome {
            returned.lock().unwrap().push((*batch_id, Instant::now()));
        }
        Ok(())
    });
    assert_eq!(summary.done, 100, "{summary:?}");
    // Polls ask without masks; the final fetch with the default options is not a poll.
    let polls = emulator.requests().iter().filter(|r| r.route == Route::Results).count() - 100;
    let returned = returned.into_inner().unwrap();
    let delay: f64 = returned
        .iter()
        .map(|(batch, at)| at.saturating_duration_since(emulator.ready_at(*batch).unwrap()).as_secs_f64())
        .sum();
    (polls as f64 / 100.0, delay / 100.0)
}

/// Figure c: requests sent while every answer is 503.
fn outage(budget: Option<u32>) -> f64 {
    let emulator = start(EmulatorConfig::new().maturity(Maturity::Polls(1)));
    for route in [Route::Initiate, Route::Upload, Route::Compute, Route::Results] {
        emulator.fail_every(route, 1, Fault::status(503));
    }
    let policy = RetryPolicy::default().initial_backoff(Duration::from_millis(50)).retry_budget(budget);
    let session: Session = session(&emulator).retry(policy).build().unwrap();
    let summary = Bulk::new(&session).concurrency(16).run(jobs(200), |_| Ok(()));
    assert_eq!(summary.failed.len(), 200, "{summary:?}");
    emulator.requests().len() as f64
}
