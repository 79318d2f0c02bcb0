//! Backpressure shared by every clone and thread of a session: a `Retry-After` holds all
//! new requests to its host, a retry budget bounds what retries add against a dead
//! service, and the optional rate limit spaces requests and slows down when throttled.
//! Waits run on a virtual clock and are recorded.

use std::time::Duration;

use crate::common::*;
use hautai::config::RetryPolicy;

fn info_path() -> String {
    path(&format!("/batches/{BATCH}/"))
}

#[test]
fn a_retry_after_seen_by_one_thread_holds_every_thread_of_the_session() {
    let mut server = mockito::Server::new();
    let throttled =
        server.mock("GET", info_path().as_str()).with_status(429).with_header("retry-after", "30").expect(1).create();
    let ok = server.mock("GET", info_path().as_str()).with_body(fixture("batch_info.json")).expect(2).create();
    let clock = clock();
    let session = builder(&server.url(), &clock).retry(RetryPolicy::none()).build().unwrap();
    assert_eq!(session.batch(batch()).unwrap_err().status(), Some(429));
    assert!(clock.sleeps().is_empty(), "no retries: the error comes back at once");

    // Another clone, on another thread: it waits out the hold before sending anything.
    let clone = session.clone();
    std::thread::spawn(move || clone.batch(batch()).unwrap()).join().unwrap();
    assert_eq!(clock.sleeps(), [Duration::from_secs(30)]);
    // Once the hold has passed, requests go at once.
    session.batch(batch()).unwrap();
    assert_eq!(clock.sleeps().len(), 1);
    throttled.assert();
    ok.assert();

    // The hold is the host's: a session on another host does not wait.
    let mut other = mockito::Server::new();
    other.mock("GET", info_path().as_str()).with_status(429).with_header("retry-after", "30").create();
    let other_session = builder(&other.url(), &clock).retry(RetryPolicy::none()).build().unwrap();
    other_session.batch(batch()).unwrap_err();
    assert_eq!(clock.sleeps().len(), 1);
}

#[test]
fn the_retry_budget_bounds_the_requests_sent_to_a_dead_service() {
    let sent = |budget: Option<u32>| {
        let mut server = mockito::Server::new();
        let dead = server.mock("GET", info_path().as_str()).with_status(503).expect_at_least(1).create();
        let clock = clock();
        let policy = RetryPolicy::default().initial_backoff(Duration::from_millis(10)).retry_budget(budget);
        let session = builder(&server.url(), &clock).retry(policy).build().unwrap();
        for _ in 0..10 {
            assert_eq!(session.batch(batch()).unwrap_err().status(), Some(503));
        }
        dead.assert();
        clock.sleeps().len() + 10
    };
    // 20 tokens pay for four retries (5 each): 10 calls, 4 retries, then none.
    assert_eq!(sent(Some(20)), 14);
    // Without a budget every call retries three times.
    assert_eq!(sent(None), 40);
}

#[test]
fn successes_refill_the_retry_budget() {
    let mut server = mockito::Server::new();
    let path = info_path();
    // Fail, succeed, fail, succeed...: each retry is paid back by its success.
    let flaky = server.mock("GET", path.as_str()).with_status(503).expect(1).create();
    let ok = server.mock("GET", path.as_str()).with_body(fixture("batch_info.json")).expect(1).create();
    let clock = clock();
    let policy = RetryPolicy::default().initial_backoff(Duration::from_millis(10)).retry_budget(Some(5));
    let session = builder(&server.url(), &clock).retry(policy).build().unwrap();
    session.batch(batch()).unwrap();
    flaky.assert();
    ok.assert();
    let flaky = server.mock("GET", path.as_str()).with_status(503).expect(1).create();
    let ok = server.mock("GET", path.as_str()).with_body(fixture("batch_info.json")).expect(1).create();
    session.batch(batch()).unwrap();
    flaky.assert();
    ok.assert();
    assert_eq!(clock.sleeps().len(), 2, "the second call could retry: the first one's success refunded it");
}

#[test]
fn the_rate_limit_spaces_api_requests_and_slows_down_when_throttled() {
    let mut server = mockito::Server::new();
    let path = info_path();
    let clock = clock();
    let session = builder(&server.url(), &clock).retry(RetryPolicy::none()).rate_limit(10.0).build().unwrap();
    let ok = server.mock("GET", path.as_str()).with_body(fixture("batch_info.json")).expect(10).create();
    for _ in 0..10 {
        session.batch(batch()).unwrap();
    }
    ok.assert();
    assert_eq!(clock.sleeps(), [Duration::from_millis(100); 9], "10 per second: one every 100 ms");
    let throttled = server.mock("GET", path.as_str()).with_status(429).expect(1).create();
    session.batch(batch()).unwrap_err();
    throttled.assert();
    server.mock("GET", path.as_str()).with_body(fixture("batch_info.json")).create();
    session.batch(batch()).unwrap();
    let sleeps = clock.sleeps();
    let last = sleeps[sleeps.len() - 1];
    // Cut to 70% of the 10 per second it was sending: one every 143 ms.
    assert!((Duration::from_micros(142_800)..=Duration::from_micros(142_900)).contains(&last), "{sleeps:?}");
}

/// A session without a configured rate, after five successes 100 ms apart, answered
/// `status` once (without `Retry-After`) and then two successes: the waits it made.
fn waits_after_a_run_of_successes_then(status: usize) -> Vec<Duration> {
    let mut server = mockito::Server::new();
    let path = info_path();
    let clock = clock();
    let session = builder(&server.url(), &clock).retry(RetryPolicy::none()).build().unwrap();
    let ok = server.mock("GET", path.as_str()).with_body(fixture("batch_info.json")).expect(5).create();
    for _ in 0..5 {
        session.batch(batch()).unwrap();
        clock.advance(Duration::from_millis(100));
    }
    ok.assert();
    assert!(clock.sleeps().is_empty(), "no limit before the service throttles");
    let throttled = server.mock("GET", path.as_str()).with_status(status).expect(1).create();
    session.batch(batch()).unwrap_err();
    throttled.assert();
    server.mock("GET", path.as_str()).with_body(fixture("batch_info.json")).create();
    session.batch(batch()).unwrap();
    session.batch(batch()).unwrap();
    clock.sleeps()
}

#[test]
fn without_a_configured_rate_a_429_after_a_run_of_successes_limits_the_session() {
    let waits = waits_after_a_run_of_successes_then(429);
    assert!(!waits.is_empty(), "requests are spaced now: {waits:?}");
}

#[test]
fn a_503_is_an_outage_not_too_many_requests_and_sets_no_limit() {
    let waits = waits_after_a_run_of_successes_then(503);
    assert!(waits.is_empty(), "a 503 without Retry-After slows nothing: {waits:?}");
}
