//! Many analyses against the emulator: `cargo bench --bench bulk` (about four minutes).
//! Prints one table and a `BENCH name=value` line per figure; each side of a row runs on
//! an emulator of its own, in the same run.
//!
//! a. Visits, 16 at a time, against an API limited to 8 and to 20 requests per second
//!    that the client is not told: accepted requests per second as a fraction of the
//!    limit, and the share of requests answered 429; the bulk runner on one session
//!    (its adaptive rate limit) against 16 threads that each call `run_full_analysis` on
//!    a session of their own. a' is the bulk runner told the limit (`rate_limit`).
//! b. 100 analyses, 20 at a time, with readiness around 12 s: poll requests per analysis
//!    and the delay from readiness to return, learned polling against the plain schedule.
//! c. 200 analyses, 16 at a time, against a service that answers 503 to everything:
//!    requests sent, with the retry budget and without it.
//! d. Learned polling on a history with outliers (usual readiness 18 to 27 s, one batch
//!    at 2 s and one at 1200 s), computed from `PollSchedule::waits_after`: polls and
//!    delay for usual batches and for a batch ready at 600 s, against the plain schedule.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use hautai::bulk::{Bulk, Job, Outcome};
use hautai::config::{PollSchedule, RetryPolicy};
use hautai::emulator::{Emulator, EmulatorConfig, Fault, Maturity, Route};
use hautai::{Images, Session, SessionBuilder};

fn main() {
    // `cargo bench --bench bulk -- a` runs figure a alone (likewise b, c, d).
    let only: Vec<String> = std::env::args().skip(1).filter(|a| ["a", "b", "c", "d"].contains(&a.as_str())).collect();
    let run = |figure: &str| only.is_empty() || only.iter().any(|o| o == figure);
    let nothing = (f64::NAN, f64::NAN, f64::NAN);
    let [(ours8, naive8, told8), (ours20, naive20, told20)] = if !run("a") {
        [(nothing, nothing, nothing); 2]
    } else {
        [(8, 100), (20, 200)].map(|(rate, visits)| {
            std::thread::scope(|s| {
                let ours = s.spawn(|| rate_limited(Client::Bulk { told: false }, rate, visits));
                let naive = s.spawn(|| rate_limited(Client::Naive, rate, visits));
                let told = s.spawn(|| rate_limited(Client::Bulk { told: true }, rate, visits));
                (ours.join().unwrap(), naive.join().unwrap(), told.join().unwrap())
            })
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
    let outliers = if run("d") { outliers() } else { [[f64::NAN; 2]; 4] };

    let rows = [
        ("a. 8/s: accepted requests / limit", ours8.0, naive8.0, "rate_use_8"),
        ("a. 8/s: share answered 429", ours8.1, naive8.1, "throttled_share_8"),
        ("a. 8/s: analyses per minute", ours8.2, naive8.2, "analyses_per_minute_8"),
        ("a. 20/s: accepted requests / limit", ours20.0, naive20.0, "rate_use_20"),
        ("a. 20/s: share answered 429", ours20.1, naive20.1, "throttled_share_20"),
        ("a. 20/s: analyses per minute", ours20.2, naive20.2, "analyses_per_minute_20"),
        ("a'. 8/s, limit told: accepted / limit", told8.0, naive8.0, "rate_use_told_8"),
        ("a'. 8/s, limit told: share answered 429", told8.1, naive8.1, "throttled_share_told_8"),
        ("a'. 20/s, limit told: accepted / limit", told20.0, naive20.0, "rate_use_told_20"),
        ("a'. 20/s, limit told: share answered 429", told20.1, naive20.1, "throttled_share_told_20"),
        ("b. poll requests per analysis", learned.0, plain.0, "polls_per_analysis"),
        ("b. delay from readiness to return (s)", learned.1, plain.1, "readiness_delay_s"),
        ("c. requests sent during the outage", budget, unbounded, "outage_requests"),
        ("d. usual batch: polls", outliers[0][0], outliers[0][1], "outliers_usual_polls"),
        ("d. usual batch: delay (s)", outliers[1][0], outliers[1][1], "outliers_usual_delay_s"),
        ("d. batch ready at 600 s: polls", outliers[2][0], outliers[2][1], "outliers_slow_polls"),
        ("d. batch ready at 600 s: delay (s)", outliers[3][0], outliers[3][1], "outliers_slow_delay_s"),
    ];
    println!("\n{:<44} {:>12} {:>12}", "figure", "ours", "other");
    println!("{:-<44} {:->12} {:->12}", "", "", "");
    for (name, ours, other, _) in rows {
        println!("{name:<44} {ours:>12.3} {other:>12.3}");
    }
    println!(
        "(ours: a the bulk runner not told the limit, a' told it; other: a and a' 16 naive threads, b and d \
         the plain schedule, c no retry budget)\n"
    );
    for (_, ours, other, key) in rows {
        println!("BENCH {key}_ours={ours:.4}");
        println!("BENCH {key}_other={other:.4}");
    }
}

/// A small photo, different for each visit (a JPEG's first bytes, then noise).
fn photo(visit: usize) -> Vec<u8> {
    [0xFF, 0xD8, 0xFF].into_iter().chain((3..20_000).map(|b| (b as u8) ^ (visit as u8))).collect()
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
    /// The bulk runner on one session, not told the service's limit (its adaptive rate
    /// limit finds it) or told it (`rate_limit`).
    Bulk { told: bool },
    /// 16 threads, each calling `run_full_analysis` on a session of its own.
    Naive,
}

/// Figure a: (accepted API requests per second / `rate`, share answered 429, analyses/min).
fn rate_limited(client: Client, rate: u32, visits: usize) -> (f64, f64, f64) {
    let readiness = Maturity::Around { mean: Duration::from_secs(2), spread: Duration::from_millis(500) };
    // Each side has an emulator of its own (the limit is per emulator).
    let emulator = start(EmulatorConfig::new().maturity(readiness).rate_limit(rate));
    let started = Instant::now();
    if let Client::Bulk { told } = client {
        let builder = session(&emulator);
        let shared = if told { builder.rate_limit(f64::from(rate)) } else { builder }.build().unwrap();
        let summary = Bulk::new(&shared).concurrency(16).run(jobs(visits), |_| Ok(()));
        assert_eq!(summary.done, visits, "{summary:?}");
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
                        if visit >= visits {
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
    (accepted / elapsed / f64::from(rate), throttled / api.len() as f64, computed / elapsed * 60.0)
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

/// Figure d: `[[learned, plain]; 4]`: polls and delay for usual batches, then for a batch
/// ready at 600 s, after a history with an outlier on each side.
fn outliers() -> [[f64; 2]; 4] {
    let mut history: Vec<Duration> = (18..=27).map(Duration::from_secs).collect();
    history.extend([Duration::from_secs(2), Duration::from_secs(1200)]);
    let schedule = PollSchedule::default();
    let find = |learned: bool, ready: f64| {
        let waits: Box<dyn Iterator<Item = Duration>> = Box::new(schedule.learning(learned).waits_after(&history));
        let mut t = 0.0;
        for (polls, wait) in waits.enumerate() {
            t += wait.as_secs_f64();
            if t >= ready {
                return (polls as f64 + 1.0, t - ready);
            }
        }
        unreachable!("the waits never end")
    };
    let usual = |learned: bool| {
        let readies: Vec<f64> = (0..900).map(|i| 18.0 + f64::from(i) / 100.0).collect();
        let found: Vec<(f64, f64)> = readies.iter().map(|r| find(learned, *r)).collect();
        let n = found.len() as f64;
        (found.iter().map(|f| f.0).sum::<f64>() / n, found.iter().map(|f| f.1).sum::<f64>() / n)
    };
    let (learned_usual, plain_usual) = (usual(true), usual(false));
    let (learned_slow, plain_slow) = (find(true, 600.0), find(false, 600.0));
    [
        [learned_usual.0, plain_usual.0],
        [learned_usual.1, plain_usual.1],
        [learned_slow.0, plain_slow.0],
        [learned_slow.1, plain_slow.1],
    ]
}
