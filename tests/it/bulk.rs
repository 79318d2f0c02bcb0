//! Bulk runs against the emulator: every job done, reruns that skip, resume or restart as
//! the journal says, never a second compute for a job, and kills at random instants.

use std::sync::Mutex;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use crate::common::files::{TempDir, photo};
use crate::common::{emulator, emulator_with, fast, fast_session};
use hautai::bulk::{Bulk, Compute, Job, Journal, Outcome, Shard, State};
use hautai::emulator::{Emulator, EmulatorConfig, Fault, Maturity, Route};
use hautai::error::ErrorKind;
use hautai::{Images, Session, Side};

/// `n` jobs `visit-0`, `visit-1`, ... with three photos each.
fn jobs(n: usize) -> Vec<Job<'static>> {
    (0..n)
        .map(|i| {
            let images = Images::new().front(photo(i as u8, 3000)).left(photo(i as u8 + 100, 2000));
            Job::new(format!("visit-{i}"), images.right(photo(i as u8 + 200, 1000)))
        })
        .collect()
}

/// Computes the emulator saw, per batch.
fn computes(emulator: &Emulator) -> Vec<u32> {
    emulator.batch_ids().iter().map(|b| emulator.compute_calls(*b)).collect()
}

/// Runs `jobs` with the journal folder `path`, keeping the keys of saved results.
fn run(session: &Session, path: &std::path::Path, jobs: Vec<Job<'static>>) -> (hautai::bulk::Summary, Vec<String>) {
    run_with(Bulk::new(session), &open(session, path), jobs)
}

/// The journal folder `path` for every job of `session`.
fn open(session: &Session, path: &std::path::Path) -> Journal {
    Journal::open(path, session, Shard::ALL).unwrap()
}

/// Runs `jobs` on `bulk` with `journal`, keeping the keys of saved results.
fn run_with(bulk: Bulk<'_>, journal: &Journal, jobs: Vec<Job<'static>>) -> (hautai::bulk::Summary, Vec<String>) {
    let saved = Mutex::new(Vec::new());
    let summary = bulk.concurrency(4).journal(journal).run(jobs, |outcome| {
        if let Outcome::Done { key, results, .. } = outcome {
            assert!(results.is_complete());
            saved.lock().unwrap().push(key.to_string());
        }
        Ok(())
    });
    let mut saved = saved.into_inner().unwrap();
    saved.sort();
    (summary, saved)
}

#[test]
fn every_job_is_done_once_and_a_rerun_skips_them_all() {
    let emulator = emulator();
    let session = fast_session(&emulator);
    let dir = TempDir::new("bulk-all");
    let journal = dir.path().join("journal");
    let (summary, saved) = run(&session, &journal, jobs(10));
    assert_eq!((summary.done, summary.skipped, summary.failed.len()), (10, 0, 0), "{summary:?}");
    assert!(summary.all_done() && !summary.interrupted);
    // Every state change, in order, for each job.
    for i in 0..10 {
        let expected = ["claimed", "created", "uploaded", "compute_sent", "compute_accepted", "saved"];
        assert_eq!(states(&journal, &format!("visit-{i}")), expected, "visit-{i}");
    }
    assert_eq!(saved.len(), 10);
    assert_eq!(computes(&emulator), [1; 10]);

    emulator.clear_requests();
    let (again, saved) = run(&session, &journal, jobs(10));
    assert_eq!((again.done, again.skipped), (0, 10), "{again:?}");
    assert!(saved.is_empty());
    assert!(emulator.requests().is_empty(), "a finished job sends nothing");
    assert_eq!(states(&journal, "visit-0").len(), 6, "and journals nothing");
}

#[test]
fn a_rerun_after_a_kill_at_each_state_never_computes_a_job_twice() {
    let emulator = emulator();
    let session = fast_session(&emulator);
    let dir = TempDir::new("bulk-kill");
    let path = dir.path().join("journal");
    // What a run killed at each state leaves behind, made by hand: the server's side with
    // the endpoint methods, the journal's with its own lines.
    {
        let journal = open(&session, &path);
        let subject = emulator.subject_id();
        let image = photo(1, 3000);
        let names = hautai::model::InitiateUpload::new().name(Side::Front, "front.jpg");
        for (key, state) in [
            ("visit-0", State::Created),
            ("visit-1", State::Uploaded),
            ("visit-2", State::ComputeSent),
            ("visit-3", State::ComputeAccepted),
        ] {
            let targets = session.initiate_upload(subject, &names).unwrap();
            let batch = targets.image_batch_id;
            journal.append(key, State::Created, Some(batch), None).unwrap();
            if state == State::Created {
                continue;
            }
            session.upload_image(Side::Front, targets.get(Side::Front).unwrap(), &image).unwrap();
            journal.append(key, State::Uploaded, None, None).unwrap();
            if state == State::Uploaded {
                continue;
            }
            journal.append(key, State::ComputeSent, None, None).unwrap();
            session.compute(batch, None).unwrap();
            if state == State::ComputeAccepted {
                journal.append(key, State::ComputeAccepted, None, None).unwrap();
            }
        }
    }
    // And a kill in the middle of writing a line about visit-4.
    let file = path.join("journal-all.jsonl");
    let mut text = std::fs::read_to_string(&file).unwrap();
    text.push_str(r#"{"key":"visit-4","state":"crea"#);
    std::fs::write(&file, text).unwrap();

    let batches_before = emulator.batch_ids().len();
    let one_side = |i: usize| Job::new(format!("visit-{i}"), Images::new().front(photo(i as u8, 3000)));
    let (summary, saved) = run(&session, &path, (0..5).map(one_side).collect());
    assert_eq!((summary.done, summary.resumed, summary.failed.len()), (5, 2, 0), "{summary:?}");
    assert_eq!(saved, ["visit-0", "visit-1", "visit-2", "visit-3", "visit-4"]);
    // visit-2 and visit-3 were resumed on their batches; visit-0, 1 and 4 got new ones.
    assert_eq!(emulator.batch_ids().len(), batches_before + 3);
    let computed: u32 = computes(&emulator).iter().sum();
    assert_eq!(computed, 5, "one compute per job, across both runs: {:?}", computes(&emulator));
    assert!(computes(&emulator).iter().all(|c| *c <= 1));
}

/// A batch uploaded on `emulator` whose compute the journal `path` says was sent, though
/// it never left (a kill in the instant between): compute in doubt.
fn in_doubt(emulator: &Emulator, session: &Session, path: &std::path::Path) -> hautai::Uuid {
    let targets = session
        .initiate_upload(emulator.subject_id(), &hautai::model::InitiateUpload::new().name(Side::Front, "front.jpg"))
        .unwrap();
    session.upload_image(Side::Front, targets.get(Side::Front).unwrap(), photo(1, 3000)).unwrap();
    let journal = open(session, path);
    journal.append("visit-0", State::Created, Some(targets.image_batch_id), None).unwrap();
    journal.append("visit-0", State::ComputeSent, None, None).unwrap();
    targets.image_batch_id
}

#[test]
fn a_compute_in_doubt_is_never_sent_again_by_a_rerun_unless_asked() {
    let emulator = emulator();
    // Virtual time: the whole confirmation window passes in a few polls.
    let session = fast(emulator.session_builder())
        .clock(crate::common::clock())
        .poll_schedule(hautai::config::PollSchedule::fixed(Duration::from_secs(5)))
        .deadline(Duration::from_secs(3600))
        .build()
        .unwrap();
    let dir = TempDir::new("bulk-window");
    let path = dir.path().join("journal");
    let batch = in_doubt(&emulator, &session, &path);
    let (summary, _) = run(&session, &path, jobs(1));
    assert_eq!(summary.failed.len(), 1, "{summary:?}");
    assert!(summary.failed[0].reason.contains("no sign of work"), "{summary:?}");
    assert!(summary.failed[0].reason.contains("retry_failed"), "with advice: {summary:?}");
    assert_eq!(computes(&emulator), [0]);
    // A plain rerun waits again and never sends it.
    let (again, _) = run(&session, &path, jobs(1));
    assert_eq!((again.failed.len(), computes(&emulator)), (1, vec![0]));
    // Asked to, the rerun starts the job over: a new batch, computed once.
    let (retried, saved) = run_with(Bulk::new(&session).retry_failed(true), &open(&session, &path), jobs(1));
    assert_eq!((retried.done, saved), (1, vec!["visit-0".to_owned()]), "{retried:?}");
    assert_eq!(emulator.compute_calls(batch), 0);
    assert_eq!(computes(&emulator).iter().sum::<u32>(), 1);
}

#[test]
fn a_resumed_compute_in_doubt_fails_after_the_confirmation_window_not_the_deadline() {
    let emulator = emulator();
    let clock = crate::common::clock();
    let session =
        fast(emulator.session_builder()).clock(clock.clone()).deadline(Duration::from_secs(3600)).build().unwrap();
    let dir = TempDir::new("bulk-confirm");
    let path = dir.path().join("journal");
    in_doubt(&emulator, &session, &path);
    let start = clock.elapsed();
    let (summary, _) = run(&session, &path, jobs(1));
    let waited = clock.elapsed() - start;
    assert_eq!(summary.failed.len(), 1, "{summary:?}");
    assert!(summary.failed[0].reason.contains("no sign of work"), "{summary:?}");
    assert!(
        waited >= hautai::config::COMPUTE_CONFIRMATION && waited < hautai::config::COMPUTE_CONFIRMATION * 2,
        "{waited:?}"
    );
}

#[test]
fn retried_requests_other_than_compute_write_nothing_of_compute() {
    let emulator = emulator();
    let session = fast_session(&emulator);
    let dir = TempDir::new("bulk-other-retries");
    let path = dir.path().join("journal");
    emulator.fail_next(Route::Initiate, 1, Fault::status(503));
    emulator.fail_next(Route::Upload, 1, Fault::status(503));
    let (summary, _) = run(&session, &path, jobs(1));
    assert_eq!(summary.done, 1, "{summary:?}");
    assert_eq!(
        states(&path, "visit-0"),
        ["claimed", "created", "uploaded", "compute_sent", "compute_accepted", "saved"]
    );
}

#[test]
fn a_retried_results_poll_while_a_compute_is_in_doubt_does_not_clear_the_doubt() {
    let emulator = emulator();
    let session = fast(emulator.session_builder()).deadline(Duration::from_millis(600)).build().unwrap();
    let dir = TempDir::new("bulk-doubt-poll");
    let path = dir.path().join("journal");
    in_doubt(&emulator, &session, &path);
    emulator.fail_next(Route::Results, 1, Fault::status(503));
    let (summary, _) = run(&session, &path, jobs(1));
    assert_eq!(summary.failed.len(), 1, "{summary:?}");
    assert!(emulator.requests().iter().any(|r| r.route == Route::Results && r.status == 503), "a poll was retried");
    // Still in doubt: a GET retried is not a compute refused, so no rerun sends compute.
    assert_eq!(open(&session, &path).record("visit-0").compute, Compute::InDoubt);
    assert!(!states(&path, "visit-0").iter().any(|s| s == "compute_refused"), "{:?}", states(&path, "visit-0"));
}

#[test]
fn a_stop_request_ends_the_run_and_the_rerun_finishes_it() {
    let emulator = emulator_with(EmulatorConfig::new().maturity(Maturity::After(Duration::from_millis(300))));
    let session = fast_session(&emulator);
    let dir = TempDir::new("bulk-stop");
    let path = dir.path().join("journal");
    let stop = AtomicBool::new(false);
    let journal = open(&session, &path);
    let summary = Bulk::new(&session).concurrency(2).journal(&journal).stop_when(&stop).run(jobs(8), |outcome| {
        if matches!(outcome, Outcome::Done { .. }) {
            stop.store(true, std::sync::atomic::Ordering::SeqCst);
        }
        Ok(())
    });
    assert!(summary.done >= 1 && summary.done < 8, "{summary:?}");
    assert!(summary.interrupted && !summary.all_done(), "{summary:?}");
    assert!(summary.failed.is_empty(), "a stopped job is not a failed one: {summary:?}");
    // No job starts after the stop: only the one running beside it can have been stopped.
    assert!(summary.stopped <= 1, "{summary:?}");
    drop(journal);
    let (rest, _) = run(&session, &path, jobs(8));
    assert_eq!(rest.done + rest.skipped, 8, "{rest:?}");
    assert_eq!(rest.skipped, summary.done);
    assert!(computes(&emulator).iter().all(|c| *c <= 1), "{:?}", computes(&emulator));
    assert_eq!(computes(&emulator).iter().sum::<u32>(), 8);
}

#[test]
fn a_job_stopped_while_it_waits_is_stopped_not_failed() {
    let emulator = emulator();
    emulator.never_complete(true);
    let session = fast_session(&emulator);
    let stop = AtomicBool::new(false);
    let bulk = Bulk::new(&session).concurrency(1).stop_when(&stop);
    let summary = std::thread::scope(|scope| {
        let running = scope.spawn(|| bulk.run(jobs(1), |_| Ok(())));
        // Once the job waits for its results, ask to stop.
        while !emulator.requests().iter().any(|r| r.route == Route::Results) {
            std::thread::sleep(Duration::from_millis(10));
        }
        stop.store(true, std::sync::atomic::Ordering::SeqCst);
        running.join().unwrap()
    });
    assert_eq!((summary.stopped, summary.done, summary.failed.len()), (1, 0, 0), "{summary:?}");
    assert!(summary.interrupted && !summary.all_done());
}

#[test]
fn shards_split_the_jobs_and_share_one_journal_folder() {
    let emulator = emulator();
    let session = fast_session(&emulator);
    let dir = TempDir::new("bulk-shards");
    let mut seen = Vec::new();
    for index in 0..3 {
        let shard = Shard::new(index, 3).unwrap();
        let journal = Journal::open(dir.path(), &session, shard).unwrap();
        let keys = Mutex::new(Vec::new());
        let summary = Bulk::new(&session).journal(&journal).run(jobs(12), |outcome| {
            if let Outcome::Done { key, .. } = outcome {
                keys.lock().unwrap().push(key.to_string());
            }
            Ok(())
        });
        let keys = keys.into_inner().unwrap();
        assert_eq!(summary.done, keys.len());
        assert!(keys.iter().all(|k| shard.contains(k)));
        seen.extend(keys);
    }
    seen.sort();
    let mut all: Vec<String> = jobs(12).iter().map(|j| j.key().to_owned()).collect();
    all.sort();
    assert_eq!(seen, all, "every job in exactly one shard");
    assert_eq!(emulator.requests().iter().filter(|r| r.route == Route::Compute).count(), 12);
    // Another layout finds every job done, whichever shard did it.
    let (all, saved) = run(&session, dir.path(), jobs(12));
    assert_eq!((all.skipped, saved.len()), (12, 0), "{all:?}");
}

#[test]
fn shards_running_side_by_side_see_each_others_photos_before_they_pay() {
    let emulator = emulator();
    let session = fast_session(&emulator);
    let dir = TempDir::new("bulk-shards-same-photos");
    // Two jobs with the same photos `n`, named `a<n>-…` in shard 0 of 2 and `b<n>-…` in shard 1.
    let name = |prefix: &str, index: u32| {
        let shard = Shard::new(index, 2).unwrap();
        (0..100).map(|k| format!("{prefix}-{k}")).find(|name| shard.contains(name)).unwrap()
    };
    let pair = |n: u8| {
        let photos = || Images::new().front(photo(n, 3000)).left(photo(n + 1, 2000));
        vec![Job::new(name(&format!("a{n}"), 0), photos()), Job::new(name(&format!("b{n}"), 1), photos())]
    };
    // Both shards are open (each read the folder when it opened); shard 0 works first.
    let zero = Journal::open(dir.path(), &session, Shard::new(0, 2).unwrap()).unwrap();
    let one = Journal::open(dir.path(), &session, Shard::new(1, 2).unwrap()).unwrap();
    let (done, _) = run_with(Bulk::new(&session), &zero, pair(9));
    assert_eq!(done.done, 1, "{done:?}");
    // Shard 1 reads what shard 0 wrote since before it decides: the same photos, under a
    // name that still exists, are not paid for twice.
    let (copy, saved) = run_with(Bulk::new(&session), &one, pair(9));
    assert_eq!((copy.failed.len(), saved.len()), (1, 0), "{copy:?}");
    let first = name("a9", 0);
    assert!(copy.failed[0].reason.contains(&format!("are those of {first} too")), "{copy:?}");
    assert_eq!(computes(&emulator), [1]);
    let reason = one.record(&name("b9", 1)).failure.unwrap_or_default();
    assert!(reason.contains(&first), "the failure is journaled with its reason: {reason}");
    // Again, with what shard 0 wrote after shard 1 last looked.
    let (done, _) = run_with(Bulk::new(&session), &zero, pair(20));
    let (copy, _) = run_with(Bulk::new(&session), &one, pair(20));
    assert_eq!((done.done, copy.failed.len()), (1, 1), "{done:?} {copy:?}");
    assert_eq!(computes(&emulator), [1, 1]);
}

#[test]
fn a_failed_save_fails_the_job_and_a_rerun_resumes_its_batch() {
    let emulator = emulator();
    let session = fast_session(&emulator);
    let dir = TempDir::new("bulk-save");
    let path = dir.path().join("journal");
    let summary = Bulk::new(&session).journal(&open(&session, &path)).run(jobs(2), |outcome| match outcome {
        Outcome::Done { key, .. } if *key == "visit-1" => Err("disk full".into()),
        _ => Ok(()),
    });
    assert_eq!(summary.done, 1);
    assert_eq!(summary.failed.len(), 1);
    assert!(summary.failed[0].reason.contains("disk full"), "{summary:?}");
    let (rerun, saved) = run(&session, &path, jobs(2));
    assert_eq!((rerun.skipped, rerun.resumed, saved), (1, 1, vec!["visit-1".to_owned()]));
    assert_eq!(computes(&emulator), [1, 1]);
}

#[test]
fn duplicate_keys_are_refused() {
    let emulator = emulator();
    let session = fast_session(&emulator);
    let twice = vec![jobs(1).remove(0), jobs(1).remove(0)];
    let summary = Bulk::new(&session).concurrency(1).run(twice, |_| Ok(()));
    assert_eq!(summary.done, 1);
    assert_eq!(summary.failed.len(), 1);
    assert!(summary.failed[0].reason.contains("more than one job"), "{summary:?}");
}

/// The bulk run that `kill_9_at_any_instant_then_a_rerun_finishes_every_job` starts as a
/// child process and kills; it does nothing in a normal test run. It saves each job's
/// results as `<key>.json` in the directory `HAUTAI_BULK_CHILD` names, atomically.
#[test]
fn child_process_of_the_kill_test() {
    let Some(dir) = std::env::var_os("HAUTAI_BULK_CHILD").map(std::path::PathBuf::from) else { return };
    let session = fast(hautai::SessionBuilder::from_env().unwrap()).deadline(Duration::from_secs(2)).build().unwrap();
    let journal = open(&session, &dir.join("journal"));
    Bulk::new(&session).concurrency(4).journal(&journal).run(jobs(12), |outcome| {
        if let Outcome::Done { key, batch_id, resumed, .. } = outcome {
            if *resumed {
                use std::io::Write;
                let mut log = std::fs::OpenOptions::new().append(true).create(true).open(dir.join("resumed")).unwrap();
                writeln!(log, "{key}").unwrap();
            }
            let temporary = dir.join(format!("{key}.json.partial"));
            std::fs::write(&temporary, batch_id.to_string()).map_err(|e| e.to_string())?;
            std::fs::rename(&temporary, dir.join(format!("{key}.json"))).map_err(|e| e.to_string())?;
        }
        Ok(())
    });
}

#[test]
fn kill_9_at_any_instant_then_a_rerun_finishes_every_job() {
    // Results ready 600 ms after compute: a whole run takes about two seconds.
    let config = EmulatorConfig::new().maturity(Maturity::After(Duration::from_millis(600)));
    let emulator = emulator_with(config.latency(Duration::from_millis(10)));
    let dir = TempDir::new("bulk-kill-9");
    let exe = std::env::current_exe().unwrap();
    let child = || {
        std::process::Command::new(&exe)
            .args(["--exact", "bulk::child_process_of_the_kill_test", "--nocapture", "--test-threads", "1"])
            .env("HAUTAI_BULK_CHILD", dir.path())
            .env("HAUTAI_BASE_URL", emulator.base_url())
            .env("HAUTAI_TOKEN", emulator.token())
            .env("HAUTAI_COMPANY_ID", emulator.company_id().to_string())
            .env("HAUTAI_SUBJECT_ID", emulator.subject_id().to_string())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap()
    };
    // SIGKILL (what `Child::kill` sends) at instants spread over a run.
    for millis in [250, 700, 450, 900, 350, 650] {
        let mut running = child();
        std::thread::sleep(Duration::from_millis(millis));
        running.kill().unwrap();
        running.wait().unwrap();
    }
    assert!(child().wait().unwrap().success());
    // The kills landed mid-run: jobs were resumed on their batches.
    let resumed = std::fs::read_to_string(dir.path().join("resumed")).unwrap_or_default();
    assert!(resumed.lines().count() >= 2, "resumed: {resumed:?}");

    // Never two computes for one batch, never two computed batches for one job.
    assert!(computes(&emulator).iter().all(|c| *c <= 1), "{:?}", computes(&emulator));
    let journal = open(&emulator.session(), &dir.path().join("journal"));
    let mut unfinished = Vec::new();
    for job in jobs(12) {
        let saved = dir.path().join(format!("{}.json", job.key()));
        if !saved.exists() {
            unfinished.push(job.key().to_owned());
            continue;
        }
        let batch: hautai::Uuid = std::fs::read_to_string(saved).unwrap().parse().unwrap();
        assert_eq!(emulator.compute_calls(batch), 1, "{}", job.key());
    }
    let computed = computes(&emulator).iter().sum::<u32>() as usize;
    assert_eq!(computed, 12 - unfinished.len(), "one computed batch per finished job");
    // A kill between journaling "compute sent" and the request leaving leaves a compute in
    // doubt: the rerun cannot know it never left, waits for a sign of work, and never risks
    // a second bill. The window is the few microseconds from the journal's fsync to the
    // send; six kills hit it rarely, and never twice.
    for key in &unfinished {
        let record = journal.record(key);
        assert_eq!((record.failure.is_some(), record.compute), (true, Compute::InDoubt), "{key}: {record:?}");
        assert_eq!(emulator.compute_calls(record.batch_id.unwrap()), 0, "{key}");
    }
    assert!(unfinished.len() <= 1, "{unfinished:?}");
}

/// The states journaled for `key` in the journal folder `path`, in order.
fn states(path: &std::path::Path, key: &str) -> Vec<String> {
    let text = std::fs::read_to_string(path.join("journal-all.jsonl")).unwrap_or_default();
    text.lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|l| l["key"] == key)
        .map(|l| l["state"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn a_refused_compute_is_journaled_as_not_taken_and_the_rerun_sends_it_once() {
    let emulator = emulator();
    let session = fast_session(&emulator);
    let dir = TempDir::new("bulk-refused");
    let path = dir.path().join("journal");
    emulator.fail_next(Route::Compute, 1, Fault::status(400).body(r#"{"detail":"Not now."}"#));
    let (summary, _) = run(&session, &path, jobs(1));
    assert_eq!(summary.failed.len(), 1, "{summary:?}");
    assert_eq!(
        states(&path, "visit-0"),
        ["claimed", "created", "uploaded", "compute_sent", "compute_refused", "failed"]
    );
    assert_eq!(open(&session, &path).record("visit-0").compute, Compute::NotSent);
    let (rerun, saved) = run(&session, &path, jobs(1));
    assert_eq!((rerun.done, saved.len()), (1, 1), "{rerun:?}");
    assert_eq!(computes(&emulator).iter().sum::<u32>(), 1, "{:?}", computes(&emulator));
}

/// Runs one job on `bulk` in a thread and asks it to stop once the journal `path` shows
/// `state` for it; returns the summary.
fn stop_at(bulk: Bulk<'_>, journal: &Journal, path: &std::path::Path, state: &str) -> hautai::bulk::Summary {
    let stop = AtomicBool::new(false);
    std::thread::scope(|scope| {
        let running = scope.spawn(|| bulk.concurrency(1).journal(journal).stop_when(&stop).run(jobs(1), |_| Ok(())));
        let start = std::time::Instant::now();
        while !states(path, "visit-0").iter().any(|s| s == state) {
            assert!(start.elapsed() < Duration::from_secs(10), "never journaled {state}");
            std::thread::sleep(Duration::from_millis(5));
        }
        stop.store(true, std::sync::atomic::Ordering::SeqCst);
        running.join().unwrap()
    })
}

#[test]
fn a_stop_while_compute_waits_for_its_turn_leaves_it_not_sent() {
    // A rate limit of one request every 2 s: compute waits for its turn after initiate.
    let emulator = emulator();
    let slow = fast(emulator.session_builder()).rate_limit(0.5).deadline(Duration::from_secs(30)).build().unwrap();
    let dir = TempDir::new("bulk-stop-turn");
    let path = dir.path().join("journal");
    let journal = open(&slow, &path);
    let summary = stop_at(Bulk::new(&slow), &journal, &path, "uploaded");
    drop(journal);
    assert_eq!((summary.stopped, summary.failed.len()), (1, 0), "{summary:?}");
    assert_eq!(states(&path, "visit-0"), ["claimed", "created", "uploaded"], "compute never left");
    // The same session (its rate limit spaces the rerun's requests too).
    let (rerun, _) = run(&slow, &path, jobs(1));
    assert_eq!(rerun.done, 1, "{rerun:?}");
    assert_eq!(computes(&emulator).iter().sum::<u32>(), 1);
}

#[test]
fn a_stop_while_compute_waits_out_a_retry_after_leaves_it_refused() {
    let emulator = emulator();
    let session = fast(emulator.session_builder()).deadline(Duration::from_secs(30)).build().unwrap();
    let dir = TempDir::new("bulk-stop-retry");
    let path = dir.path().join("journal");
    emulator.fail_next(Route::Compute, 1, Fault::status(429).retry_after("3"));
    let journal = open(&session, &path);
    let summary = stop_at(Bulk::new(&session), &journal, &path, "compute_refused");
    drop(journal);
    assert_eq!((summary.stopped, summary.failed.len()), (1, 0), "{summary:?}");
    assert_eq!(states(&path, "visit-0"), ["claimed", "created", "uploaded", "compute_sent", "compute_refused"]);
    let (rerun, _) = run(&session, &path, jobs(1));
    assert_eq!(rerun.done, 1, "{rerun:?}");
    assert_eq!(computes(&emulator).iter().sum::<u32>(), 1);
}

#[test]
fn a_journal_folder_belongs_to_one_service_and_one_run_at_a_time() {
    let (one, other) = (emulator(), emulator());
    let dir = TempDir::new("bulk-bound");
    let journal = Journal::open(dir.path(), &one.session(), Shard::ALL).unwrap();
    let busy = Journal::open(dir.path(), &one.session(), Shard::new(0, 2).unwrap()).unwrap_err();
    let ErrorKind::Busy { holder, .. } = busy.kind() else { panic!("{busy:?}") };
    assert!(holder.starts_with("another run of this process (process") && holder.ends_with(')'), "{holder}");
    assert!(busy.to_string().contains("wait for it to end"), "with what to do: {busy}");
    assert!(busy.to_string().contains(&format!("process {}", std::process::id())), "{busy}");
    drop(journal);
    let elsewhere = Journal::open(dir.path(), &other.session(), Shard::ALL).unwrap_err();
    assert!(matches!(elsewhere.kind(), ErrorKind::Journal { .. }), "{elsewhere}");
    assert!(elsewhere.to_string().contains(one.base_url()), "{elsewhere}");
    // The same service for another company: its batches are not this company's either.
    let company = Session::builder(one.token(), hautai::Uuid::from_u128(7)).base_url(one.base_url()).build().unwrap();
    let other_company = Journal::open(dir.path(), &company, Shard::ALL).unwrap_err();
    assert!(matches!(other_company.kind(), ErrorKind::Journal { .. }), "{other_company}");
    assert!(Journal::open(dir.path(), &one.session(), Shard::new(1, 2).unwrap()).is_ok());
    // Each run is numbered after the last: the order a job's lines are folded in.
    let text = std::fs::read_to_string(dir.path().join("journal-all.jsonl")).unwrap();
    let second = std::fs::read_to_string(dir.path().join("journal-1-of-2.jsonl")).unwrap();
    assert!(text.starts_with("{\"run\":1,") && second.starts_with("{\"run\":2,"), "{text}\n{second}");
}

#[test]
fn a_batch_the_service_does_not_know_after_its_compute_was_taken_is_paid_again_only_when_asked() {
    let emulator = emulator();
    let session = fast_session(&emulator);
    let dir = TempDir::new("bulk-lost");
    let path = dir.path().join("journal");
    let lost = hautai::Uuid::from_u128(0x1234);
    {
        let journal = open(&session, &path);
        journal.append("visit-0", State::Created, Some(lost), None).unwrap();
        journal.append("visit-0", State::ComputeAccepted, None, None).unwrap();
        journal.append("visit-9", State::Failed, None, Some("by hand")).unwrap();
        assert_eq!(journal.record("visit-9").failure.as_deref(), Some("by hand"));
    }
    let (summary, saved) = run(&session, &path, jobs(1));
    assert_eq!((summary.done, summary.failed.len(), saved.len()), (0, 1, 0), "{summary:?}");
    let reason = &summary.failed[0].reason;
    assert!(
        reason.contains(&lost.to_string()) && reason.contains("--retry-failed") && reason.contains("pays again"),
        "{reason}"
    );
    assert!(computes(&emulator).is_empty(), "nothing created, nothing computed");
    assert_eq!(states(&path, "visit-0")[2..], ["lost", "failed"]);
    // A rerun asks the service again (one 404 is no verdict), and never computes.
    emulator.clear_requests();
    let (again, _) = run(&session, &path, jobs(1));
    assert_eq!(again.failed.len(), 1, "{again:?}");
    assert!(emulator.requests().iter().all(|r| r.method == "GET"), "{:?}", emulator.requests());
    // Asked to: a new batch, computed once.
    let (retried, saved) = run_with(Bulk::new(&session).retry_failed(true), &open(&session, &path), jobs(1));
    assert_eq!((retried.done, saved.len()), (1, 1), "{retried:?}");
    assert_eq!(computes(&emulator), [1]);
}

#[test]
fn a_detection_error_is_retried_only_when_asked() {
    let emulator = emulator();
    let session = fast_session(&emulator);
    let dir = TempDir::new("bulk-detection");
    let path = dir.path().join("journal");
    emulator.detection_error(Some((Side::Front, "No face found.")));
    let (summary, _) = run(&session, &path, jobs(1));
    assert_eq!(summary.failed.len(), 1, "{summary:?}");
    // The batch ended for good; a plain rerun only looks at it again (no new compute).
    let (again, _) = run(&session, &path, jobs(1));
    assert_eq!((again.failed.len(), computes(&emulator).iter().sum::<u32>()), (1, 1), "{again:?}");
    // The photo replaced (here: the emulator told to find the face), asked to retry: a new batch.
    emulator.detection_error(None);
    let (retried, saved) = run_with(Bulk::new(&session).retry_failed(true), &open(&session, &path), jobs(1));
    assert_eq!((retried.done, saved.len()), (1, 1), "{retried:?}");
    assert_eq!(computes(&emulator), [1, 1], "a new batch, computed once");
}

#[test]
fn a_compute_in_doubt_cut_short_by_the_deadline_is_not_retried_even_when_asked() {
    // 0.5 s of the 60 s confirmation window prove nothing: the batch may still start.
    let emulator = emulator();
    let session = fast(emulator.session_builder()).deadline(Duration::from_millis(500)).build().unwrap();
    let dir = TempDir::new("bulk-short");
    let path = dir.path().join("journal");
    let batch = in_doubt(&emulator, &session, &path);
    let (summary, _) = run_with(Bulk::new(&session).retry_failed(true), &open(&session, &path), jobs(1));
    assert_eq!(summary.failed.len(), 1, "{summary:?}");
    let (again, _) = run_with(Bulk::new(&session).retry_failed(true), &open(&session, &path), jobs(1));
    assert_eq!(again.failed.len(), 1, "{again:?}");
    assert_eq!((emulator.compute_calls(batch), emulator.batch_ids().len()), (0, 1), "never started over");
}

#[test]
fn a_second_run_with_the_same_journal_skips_what_the_first_did() {
    let emulator = emulator();
    let session = fast_session(&emulator);
    let dir = TempDir::new("bulk-reuse");
    let journal = open(&session, &dir.path().join("journal"));
    let (first, _) = run_with(Bulk::new(&session), &journal, jobs(3));
    let (second, saved) = run_with(Bulk::new(&session), &journal, jobs(3));
    assert_eq!((first.done, second.skipped, saved.len()), (3, 3, 0), "{second:?}");
    assert_eq!(computes(&emulator), [1, 1, 1]);
}

/// `visit-0` with other photos than `jobs` gives it (another patient's, or retaken).
fn other_photos() -> Vec<Job<'static>> {
    vec![Job::new("visit-0", Images::new().front(photo(77, 3000)).left(photo(78, 2000)).right(photo(79, 1000)))]
}

#[test]
fn photos_that_are_not_the_ones_analysed_are_never_given_that_batch_unless_asked() {
    let emulator = emulator();
    let session = fast_session(&emulator);
    let dir = TempDir::new("bulk-photos");
    let path = dir.path().join("journal");
    let (first, _) = run(&session, &path, jobs(1));
    assert_eq!(first.done, 1, "{first:?}");
    emulator.clear_requests();
    // Saved for other photos: not skipped as done, not analysed, and said why.
    let (changed, saved) = run(&session, &path, other_photos());
    assert_eq!((changed.done, changed.skipped, saved.len()), (0, 0, 0), "{changed:?}");
    assert!(changed.failed[0].reason.contains("not the ones the journal analysed"), "{changed:?}");
    assert!(changed.failed[0].reason.contains("--retry-failed"), "with advice: {changed:?}");
    assert!(emulator.requests().is_empty(), "nothing sent for photos it was not asked to analyse");
    let record = open(&session, &path).record("visit-0");
    assert!(!record.saved && record.failure.is_some(), "the saved results are no longer the job's: {record:?}");
    // The same again, and with the first photos back the job is... still failed: its
    // results were disowned, and its batch is resumed (not computed again) when asked.
    let (again, _) = run(&session, &path, other_photos());
    assert_eq!(again.failed.len(), 1, "{again:?}");
    let (original, saved) = run(&session, &path, jobs(1));
    assert_eq!((original.done, original.resumed, saved.len()), (1, 1, 1), "{original:?}");
    assert_eq!(computes(&emulator), [1]);
    // Asked to, the new photos are analysed: a new batch, and its photos journaled.
    let (retried, saved) = run_with(Bulk::new(&session).retry_failed(true), &open(&session, &path), other_photos());
    assert_eq!((retried.done, saved.len()), (1, 1), "{retried:?}");
    assert_eq!(computes(&emulator), [1, 1]);
    let (then, _) = run(&session, &path, other_photos());
    assert_eq!(then.skipped, 1, "{then:?}");
}

#[test]
fn a_batch_left_for_other_photos_is_not_resumed_for_these() {
    let emulator = emulator();
    let session = fast_session(&emulator);
    let dir = TempDir::new("bulk-photos-resume");
    let path = dir.path().join("journal");
    // Computed, then not saved: a rerun would resume the batch.
    let unsaved = Bulk::new(&session).journal(&open(&session, &path)).run(jobs(1), |_| Err("disk full".into()));
    assert_eq!(unsaved.failed.len(), 1, "{unsaved:?}");
    let (changed, saved) = run(&session, &path, other_photos());
    assert_eq!((changed.failed.len(), saved.len()), (1, 0), "{changed:?}");
    assert!(changed.failed[0].reason.contains("not the ones the journal analysed"), "{changed:?}");
}

#[test]
fn photos_that_cannot_be_read_are_not_taken_for_the_ones_analysed_and_never_hang_the_run() {
    let emulator = emulator();
    let session = fast_session(&emulator);
    let dir = TempDir::new("bulk-unreadable");
    let path = dir.path().join("journal");
    let front = dir.path().join("front.png");
    std::fs::write(&front, photo(5, 3000)).unwrap();
    let job = || vec![Job::new("visit-0", Images::new().front(front.clone()))];
    let (first, _) = run(&session, &path, job());
    assert_eq!(first.done, 1, "{first:?}");
    // A FIFO in the photo's place: reading it would block for ever.
    std::fs::remove_file(&front).unwrap();
    let made = std::process::Command::new("mkfifo").arg(&front).status().unwrap();
    assert!(made.success());
    let (changed, _) = run(&session, &path, job());
    assert_eq!((changed.skipped, changed.failed.len()), (0, 1), "{changed:?}");
    let reason = &changed.failed[0].reason;
    assert!(reason.starts_with("not a regular file (front photo front.png)"), "{changed:?}");
    assert!(reason.contains("nothing was sent for visit-0"), "{changed:?}");
    // Unreadable is not changed: what was saved stays the job's.
    let record = open(&session, &path).record("visit-0");
    assert!(record.saved && record.failure.is_some(), "{record:?}");
    // The photo back as it was: done earlier, nothing sent.
    std::fs::remove_file(&front).unwrap();
    std::fs::write(&front, photo(5, 3000)).unwrap();
    emulator.clear_requests();
    let (back, saved) = run(&session, &path, job());
    assert_eq!((back.skipped, back.failed.len(), saved.len()), (1, 0, 0), "{back:?}");
    assert!(emulator.requests().is_empty());
    assert_eq!(computes(&emulator), [1]);
    let record = open(&session, &path).record("visit-0");
    assert!(record.saved && record.failure.is_none(), "the failure is over: {record:?}");
}

#[test]
fn results_saved_earlier_and_gone_since_are_fetched_again_never_computed_again() {
    let emulator = emulator();
    let session = fast_session(&emulator);
    let dir = TempDir::new("bulk-gone");
    let journal = open(&session, &dir.path().join("journal"));
    let (first, _) = run_with(Bulk::new(&session), &journal, jobs(2));
    assert_eq!(first.done, 2);
    // The handler says visit-1's saved results are gone.
    let fetched = Mutex::new(Vec::new());
    let again = Bulk::new(&session).journal(&journal).run(jobs(2), |outcome| match outcome {
        Outcome::Skipped { key: "visit-1", .. } => Err("deleted".into()),
        Outcome::Done { key, resumed, .. } => {
            fetched.lock().unwrap().push((key.to_string(), *resumed));
            Ok(())
        }
        _ => Ok(()),
    });
    assert_eq!((again.done, again.resumed, again.skipped), (1, 1, 1), "{again:?}");
    assert_eq!(fetched.into_inner().unwrap(), [("visit-1".to_owned(), true)]);
    assert_eq!(computes(&emulator), [1, 1], "fetched, not paid again");
    // A fetch that fails (the service down) does not disown what was saved: the job is
    // still done, and its results can be fetched again later.
    emulator.fail_every(Route::Results, 1, Fault::status(500));
    let failed = Bulk::new(&session).journal(&journal).run(jobs(2), |outcome| match outcome {
        Outcome::Skipped { key: "visit-1", .. } => Err("deleted".into()),
        _ => Ok(()),
    });
    assert_eq!((failed.failed.len(), failed.skipped), (1, 1), "{failed:?}");
    let record = journal.record("visit-1");
    assert!(record.saved && record.failure.is_some(), "{record:?}");
    // Gone from the service too: the job is no longer done (its save is gone), and it is
    // not computed again unless asked.
    emulator.clear_faults();
    emulator.forget_batches();
    let gone = Bulk::new(&session).journal(&journal).run(jobs(2), |outcome| match outcome {
        Outcome::Skipped { key: "visit-1", .. } => Err("deleted".into()),
        _ => Ok(()),
    });
    assert_eq!(gone.failed.len(), 1, "{gone:?}");
    assert!(!journal.record("visit-1").saved, "{:?}", journal.record("visit-1"));
    assert_eq!(emulator.computes(), 2);
}
