use std::time::Duration;

use super::*;

fn request() -> Request {
    Request { method: "GET", path: "/p".into() }
}

fn api(status: u16) -> Error {
    ErrorKind::Api(ApiError::answered(request(), status)).into()
}

fn storage(status: u16, code: Option<&str>) -> Error {
    let code = code.map(str::to_owned);
    ErrorKind::Storage(StorageError { side: None, asset: None, status, code, message: None, attempts: 1 }).into()
}

#[test]
fn accessors_read_every_kind_that_carries_their_answer() {
    let wait = Duration::from_secs(9);
    let too_long = Error::from(ErrorKind::RetryAfterTooLong { request: request(), status: 429, wait, limit: wait });
    let redirect = Error::from(ErrorKind::Redirect { request: request(), status: 302, location: "/x".into() });
    let rejected = Error::from(ErrorKind::LoginRejected { status: 403, message: None });
    let refused = Error::from(ErrorKind::LoginRefused { status: 400, message: None });
    let statuses: Vec<_> = [&too_long, &redirect, &rejected, &refused, &api(404), &storage(403, None)]
        .iter()
        .map(|e| e.status())
        .collect();
    assert_eq!(statuses, [Some(429), Some(302), Some(403), Some(400), Some(404), Some(403)]);
    assert_eq!(api(404).request(), Some(&request()));
    assert_eq!(too_long.request(), Some(&request()));
    let batch = Uuid::from_u128(7);
    let unconfirmed = Error::from(ErrorKind::ComputeUnconfirmed { batch_id: batch, waited: wait });
    assert_eq!(unconfirmed.batch_id(), Some(batch));
    assert_eq!(api(500).in_step(Step::Compute, Some(batch), None).batch_id(), Some(batch));
}

#[test]
fn retryable_means_a_later_try_may_succeed() {
    let timeout =
        Error::from(ErrorKind::RequestTimeout { request: request(), after: Duration::ZERO, connecting: false });
    let wait = Duration::from_secs(1);
    let too_long = Error::from(ErrorKind::RetryAfterTooLong { request: request(), status: 503, wait, limit: wait });
    assert!(timeout.is_retryable() && too_long.is_retryable() && api(503).is_retryable());
    assert!(storage(503, None).is_retryable());
    assert!(!storage(503, Some("SignatureDoesNotMatch")).is_retryable(), "a new batch is needed");
    assert!(!storage(403, None).is_retryable() && !api(400).is_retryable());
}

#[test]
fn attempts_are_noted_on_api_and_storage_errors() {
    let noted = |e: Error| match e.after_attempts(4).into_kind() {
        ErrorKind::Api(e) => e.attempts,
        ErrorKind::Storage(e) => e.attempts,
        _ => 0,
    };
    assert_eq!((noted(api(503)), noted(storage(503, None))), (4, 4));
}

#[test]
fn debug_shows_the_kind_and_where_it_happened() {
    let debug = format!("{:?}", api(401).in_step(Step::Initiate, None, Some("log in again")));
    assert!(debug.starts_with("Error { kind: Api(") && debug.contains("step: Initiate"), "{debug}");
    assert!(debug.contains("hint: Some(\"log in again\")"), "{debug}");
}

#[test]
fn the_hint_is_what_to_do_where_there_is_something() {
    let deadline = |compute_sent| {
        let d = Duration::from_secs(1);
        let (step, batch_id) = (Step::Results, Some(Uuid::from_u128(1)));
        Error::from(ErrorKind::Deadline { step, batch_id, deadline: d, elapsed: d, polls: 1, compute_sent })
    };
    assert_eq!(deadline(true).hint(), Some("the batch goes on on the server: resume with wait_for_results"));
    assert!(deadline(false).hint().is_some_and(|h| h.starts_with("nothing was computed")));
    assert_eq!(api(401).hint(), Some("log in again or use a valid private token"));
    assert!(api(401).to_string().ends_with(api(401).hint().unwrap()), "the message ends with it");
    assert_eq!(api(503).hint(), Some("try again later"));
    assert_eq!(api(400).hint(), None);
    let stepped = api(500).in_step(Step::Compute, None, Some("check with wait_for_results"));
    assert_eq!(stepped.hint(), Some("check with wait_for_results"), "the pipeline's own comes first");
}
