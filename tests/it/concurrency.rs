//! One session shared by 16 threads, 25 analyses each, against an emulator that fails
//! every 20th call of every route with 503: all succeed, each gets its own batch.

use std::collections::HashSet;
use std::time::Duration;

use crate::common::fnv1a;
use hautai::Side;
use hautai::config::{PollSchedule, RetryPolicy};
use hautai::emulator::{Fault, Route};

const THREADS: usize = 16;
const RUNS: usize = 25;

/// Photo bytes unique to one analysis and side.
fn photo(thread: usize, run: usize, side: usize) -> Vec<u8> {
    let tag = format!("thread {thread} run {run} side {side}");
    b"\xFF\xD8\xFF".iter().copied().chain(tag.bytes().cycle()).take(2000 + side * 100).collect()
}

#[test]
fn sixteen_threads_share_one_session_through_deterministic_faults() {
    let emulator = crate::common::emulator();
    for route in [Route::Initiate, Route::Upload, Route::Compute, Route::Results] {
        emulator.fail_every(route, 20, Fault::status(503));
    }
    let session = emulator
        .session_builder()
        .poll_schedule(PollSchedule::fixed(Duration::from_millis(5)))
        .retry(RetryPolicy::default().max_retries(5).initial_backoff(Duration::from_millis(5)))
        // A bound of its own: a broken pipeline fails here in seconds, not minutes.
        .deadline(Duration::from_secs(30))
        .build()
        .unwrap();

    let outcomes: Vec<(usize, usize, hautai::Result<hautai::BatchResults>)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..THREADS)
            .map(|thread| {
                let session = &session;
                scope.spawn(move || {
                    (0..RUNS)
                        .map(|run| {
                            let [f, l, r] = [0, 1, 2].map(|side| photo(thread, run, side));
                            (thread, run, session.run_full_analysis(f, l, r))
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers.into_iter().flat_map(|w| w.join().expect("no thread panics")).collect()
    });

    let mut batches = HashSet::new();
    for (thread, run, outcome) in &outcomes {
        let results = outcome.as_ref().unwrap_or_else(|e| panic!("thread {thread} run {run}: {e}"));
        assert!(results.is_complete());
        let batch = results.batch_id();
        assert!(batches.insert(batch), "batch {batch} returned twice");
        // No cross-talk: the batch holds exactly this call's photos.
        for (index, side) in Side::ALL.into_iter().enumerate() {
            let bytes = photo(*thread, *run, index);
            assert_eq!(emulator.stored_image(batch, side), Some((bytes.len() as u64, fnv1a(&bytes))));
        }
        assert_eq!(emulator.compute_calls(batch), 1);
    }
    assert_eq!(outcomes.len(), THREADS * RUNS);
    assert_eq!(emulator.batch_ids().len(), THREADS * RUNS, "exactly one batch per analysis");
    let failed = emulator.requests().iter().filter(|r| r.status == 503).count();
    assert!(failed >= THREADS * RUNS * 6 / 20, "the faults fired: {failed}");
}
