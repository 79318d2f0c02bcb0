//! Benchmarks against the emulator: `cargo bench --bench pipeline` (about four minutes;
//! `-- --quick` for a smaller, rougher run). Prints one table and a `BENCH name=value`
//! line per figure. Every figure is a first run of a fresh `Session`.
//!
//! 1. The full pipeline against its critical-path lower bound, ours and a naive flow.
//! 2. Polling over readiness times spread from 2 s to 60 s: requests and delay.
//! 3. Peak resident memory of a client process uploading three 30 MiB files.
//! 4. Per-call cost of a `Session` GET against a raw ureq GET.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use hautai::emulator::{Emulator, EmulatorConfig, Maturity, Route};
use hautai::model::{BatchInfo, InitiateUpload, ResultsQuery};
use hautai::{Session, Side, Uuid};

const LATENCY: Duration = Duration::from_millis(50);
const BANDWIDTH: u64 = 10_000_000;
const IMAGE_BYTES: usize = 3_000_000;
const WORKERS: usize = 12;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(at) = args.iter().position(|a| a == "--memory-client") {
        return memory_client(&args[at + 1..]);
    }
    let quick = args.iter().any(|a| a == "--quick");
    println!("machine: {} cores, {}", cores(), cpu_model());
    let dir = std::env::temp_dir().join(format!("hautai-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a scratch directory");

    let (pipeline, polling) = flows(&dir, quick);
    let memory = memory(&dir);
    let overhead = overhead(if quick { 500 } else { 3000 });
    let _ = std::fs::remove_dir_all(&dir);

    // (row of the table, unit, ours, the other, machine-readable names of both)
    let figures = [
        (
            "1. pipeline wall time / lower bound (mean)",
            "",
            pipeline.ours_ratio,
            pipeline.naive_ratio,
            ["pipeline_ratio_ours", "pipeline_ratio_naive"],
        ),
        (
            "1. pipeline poll requests (mean)",
            "",
            pipeline.ours_polls,
            pipeline.naive_polls,
            ["pipeline_polls_ours", "pipeline_polls_naive"],
        ),
        (
            "2. polling requests, readiness 2..60 s (mean)",
            "",
            polling.ours_polls,
            polling.naive_polls,
            ["polling_requests_ours", "polling_requests_fixed2s"],
        ),
        (
            "2. delay from readiness to return (mean)",
            " s",
            polling.ours_delay,
            polling.naive_delay,
            ["polling_delay_ours_s", "polling_delay_fixed2s_s"],
        ),
        (
            "3. peak RSS, three 30 MiB uploads / idle (MiB)",
            "",
            memory.busy_mib,
            memory.idle_mib,
            ["memory_peak_busy_mib", "memory_peak_idle_mib"],
        ),
        (
            "4. batch-info GETs per second, Session / raw ureq",
            "",
            overhead.session_rps,
            overhead.raw_rps,
            ["overhead_session_rps", "overhead_raw_rps"],
        ),
    ];
    println!();
    println!("{:<58} {:>10} {:>10}", "figure", "ours", "naive/raw");
    println!("{:-<58} {:->10} {:->10}", "", "", "");
    for (row, unit, ours, other, _) in &figures {
        println!("{row:<58} {:>10} {:>10}", format!("{ours:.3}{unit}"), format!("{other:.3}{unit}"));
    }
    println!();
    for (_, _, ours, other, [ours_name, other_name]) in &figures {
        println!("BENCH {ours_name}={ours:.4}");
        println!("BENCH {other_name}={other:.4}");
    }
    println!("BENCH overhead_ratio={:.4}", overhead.session_rps / overhead.raw_rps);
}

// ---------------------------------------------------------------------------------------
// Figures 1 and 2: the flows, each run on an emulator of its own.

#[derive(Clone, Copy, PartialEq)]
enum Flow {
    Ours,
    Naive,
}

#[derive(Clone, Copy)]
struct Job {
    figure: u8,
    flow: Flow,
    delay: Duration,
}

struct Outcome {
    job: Job,
    wall: Duration,
    polls: usize,
    /// Return time minus readiness time.
    late: Duration,
    lower_bound: Duration,
}

struct PipelineFigure {
    ours_ratio: f64,
    naive_ratio: f64,
    ours_polls: f64,
    naive_polls: f64,
}

struct PollingFigure {
    ours_polls: f64,
    naive_polls: f64,
    ours_delay: f64,
    naive_delay: f64,
}

/// Readiness delays for figure 1: seeded draws from [5 s, 40 s] (no multiple of 2 s).
fn pipeline_delays(count: usize) -> Vec<Duration> {
    let mut state = 0x9E37_79B9_7F4A_7C15_u64;
    (0..count)
        .map(|_| {
            state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            let unit = (state >> 11) as f64 / (1u64 << 53) as f64;
            let ms = 5000.0 + unit * 35_000.0;
            let ms = if (ms as u64).is_multiple_of(2000) { ms + 137.0 } else { ms };
            Duration::from_millis(ms as u64)
        })
        .collect()
}

/// Readiness delays for figure 2: spread evenly over [2 s, 60 s].
fn polling_delays(count: usize) -> Vec<Duration> {
    (0..count).map(|i| Duration::from_secs_f64(2.0 + 58.0 * (i as f64 + 0.5) / count as f64)).collect()
}

fn flows(dir: &Path, quick: bool) -> (PipelineFigure, PollingFigure) {
    let photos = write_photos(dir, IMAGE_BYTES, "3mb");
    let tiny = write_photos(dir, 20_000, "tiny");
    let mut jobs = Vec::new();
    for delay in pipeline_delays(if quick { 4 } else { 20 }) {
        jobs.extend([Flow::Ours, Flow::Naive].map(|flow| Job { figure: 1, flow, delay }));
    }
    for delay in polling_delays(if quick { 4 } else { 12 }) {
        jobs.extend([Flow::Ours, Flow::Naive].map(|flow| Job { figure: 2, flow, delay }));
    }
    // Longest first, so the pool ends together.
    jobs.sort_by_key(|j| std::cmp::Reverse(j.delay));
    let total = jobs.len();
    eprintln!("running {total} flows on {WORKERS} workers (the longest waits 60 s)...");
    let queue = Mutex::new(VecDeque::from(jobs));
    let outcomes = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..WORKERS {
            scope.spawn(|| {
                loop {
                    // Take the job and let go of the queue before running it.
                    let next = queue.lock().unwrap().pop_front();
                    let Some(job) = next else { break };
                    let files = if job.figure == 1 { &photos } else { &tiny };
                    let outcome = run_flow(job, files);
                    let mut done = outcomes.lock().unwrap();
                    done.push(outcome);
                    eprintln!("  {}/{total} done", done.len());
                }
            });
        }
    });
    let outcomes = outcomes.into_inner().unwrap();
    let mean = |figure: u8, flow: Flow, f: &dyn Fn(&Outcome) -> f64| {
        let picked: Vec<f64> =
            outcomes.iter().filter(|o| o.job.figure == figure && o.job.flow == flow).map(f).collect();
        picked.iter().sum::<f64>() / picked.len().max(1) as f64
    };
    let ratio = |o: &Outcome| o.wall.as_secs_f64() / o.lower_bound.as_secs_f64();
    let polls = |o: &Outcome| o.polls as f64;
    let late = |o: &Outcome| o.late.as_secs_f64();
    (
        PipelineFigure {
            ours_ratio: mean(1, Flow::Ours, &ratio),
            naive_ratio: mean(1, Flow::Naive, &ratio),
            ours_polls: mean(1, Flow::Ours, &polls),
            naive_polls: mean(1, Flow::Naive, &polls),
        },
        PollingFigure {
            ours_polls: mean(2, Flow::Ours, &polls),
            naive_polls: mean(2, Flow::Naive, &polls),
            ours_delay: mean(2, Flow::Ours, &late),
            naive_delay: mean(2, Flow::Naive, &late),
        },
    )
}

fn run_flow(job: Job, files: &[PathBuf; 3]) -> Outcome {
    let config =
        EmulatorConfig::new().latency(LATENCY).upload_bandwidth(BANDWIDTH).maturity(Maturity::After(job.delay));
    let emulator = Emulator::start(config).expect("an emulator");
    let session = emulator.session_builder().deadline(Duration::from_secs(300)).build().expect("a session");
    let started = Instant::now();
    let batch = match job.flow {
        Flow::Ours => session.run_full_analysis(&files[0], &files[1], &files[2]).expect("our flow").batch_id(),
        Flow::Naive => naive_flow(&session, emulator.subject_id(), files),
    };
    let returned = Instant::now();
    let polls = emulator.requests().iter().filter(|r| r.route == Route::Results).count();
    let ready = emulator.ready_at(batch).expect("a computed batch");
    let bytes: u64 = files.iter().map(|f| std::fs::metadata(f).map_or(0, |m| m.len())).sum();
    // initiate + (uploads under the shared bandwidth + one latency) + compute + readiness + one poll
    let lower_bound = LATENCY * 4 + Duration::from_secs_f64(bytes as f64 / BANDWIDTH as f64) + job.delay;
    Outcome { job, wall: returned - started, polls, late: returned.saturating_duration_since(ready), lower_bound }
}

/// What public code does today: the single-endpoint calls in a row, uploads one after
/// another, and a poll every 2 s with the default options.
fn naive_flow(session: &Session, subject: Uuid, files: &[PathBuf; 3]) -> Uuid {
    let request = InitiateUpload::new()
        .name(Side::Front, "front.jpg")
        .name(Side::Left, "left.jpg")
        .name(Side::Right, "right.jpg");
    let targets = session.initiate_upload(subject, &request).expect("initiate");
    for (side, file) in Side::ALL.into_iter().zip(files) {
        session.upload_image(side, targets.get(side).expect("a target"), file).expect("upload");
    }
    let batch = targets.image_batch_id;
    session.compute(batch, None).expect("compute");
    while !session.results(batch, &ResultsQuery::new()).expect("results").is_complete() {
        std::thread::sleep(Duration::from_secs(2));
    }
    batch
}

fn write_photos(dir: &Path, len: usize, tag: &str) -> [PathBuf; 3] {
    [0u8, 1, 2].map(|side| {
        let path = dir.join(format!("{tag}-{side}.jpg"));
        // A JPEG's first bytes (the client refuses what begins as no photo), then noise.
        let noise = (3..len).map(|i| (i as u8).wrapping_mul(31).wrapping_add(side));
        let bytes: Vec<u8> = [0xFF, 0xD8, 0xFF].into_iter().chain(noise).collect();
        std::fs::write(&path, bytes).expect("a photo");
        path
    })
}

// ---------------------------------------------------------------------------------------
// Figure 3: peak memory of a client process (this binary, re-run as a child).

struct MemoryFigure {
    busy_mib: f64,
    idle_mib: f64,
}

fn memory(dir: &Path) -> MemoryFigure {
    eprintln!("measuring the peak memory of a client uploading three 30 MiB files...");
    let files: Vec<PathBuf> = (0..3)
        .map(|i| {
            let path = dir.join(format!("30mib-{i}.jpg"));
            let mut file = std::fs::File::create(&path).expect("a file");
            std::io::Write::write_all(&mut file, &[0xFF, 0xD8, 0xFF]).expect("a JPEG's first bytes");
            file.set_len(hautai::config::MAX_IMAGE_BYTES).expect("30 MiB");
            path
        })
        .collect();
    // The emulator runs here; it hashes upload bodies as they stream and keeps none.
    let emulator = Emulator::start(EmulatorConfig::new().maturity(Maturity::Polls(1))).expect("an emulator");
    let child = |mode: &str| -> f64 {
        let out = Command::new(std::env::current_exe().expect("this binary"))
            .arg("--memory-client")
            .arg(mode)
            .arg(emulator.base_url())
            .arg(emulator.token())
            .arg(emulator.company_id().to_string())
            .arg(emulator.subject_id().to_string())
            .args(&files)
            .output()
            .expect("the client process");
        let text = String::from_utf8_lossy(&out.stdout);
        let kib: f64 = text.trim().parse().unwrap_or_else(|_| panic!("the client said {text:?}"));
        kib / 1024.0
    };
    let idle_mib = child("idle");
    let busy_mib = child("busy");
    MemoryFigure { busy_mib, idle_mib }
}

/// The child: builds a session, runs the analysis (or not), prints `VmHWM` in KiB.
fn memory_client(args: &[String]) {
    let [mode, url, token, company, subject, files @ ..] = args else { panic!("usage: --memory-client MODE URL ...") };
    let session = Session::builder(token.as_str(), company.parse().expect("a company"))
        .base_url(url.as_str())
        .subject_id(subject.parse().expect("a subject"))
        .build()
        .expect("a session");
    if mode == "busy" {
        session.run_full_analysis(&files[0], &files[1], &files[2]).expect("the analysis");
    }
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).expect("VmHWM");
    println!("{}", line.split_whitespace().nth(1).expect("a value"));
}

// ---------------------------------------------------------------------------------------
// Figure 4: the request path's cost per call.

struct OverheadFigure {
    session_rps: f64,
    raw_rps: f64,
}

fn overhead(calls: usize) -> OverheadFigure {
    eprintln!("measuring {calls} batch-info GETs each way...");
    let emulator = Emulator::start(EmulatorConfig::new()).expect("an emulator");
    let session = emulator.session();
    let targets = session
        .initiate_upload(emulator.subject_id(), &InitiateUpload::new().name(Side::Front, "f.jpg"))
        .expect("a batch");
    let batch = targets.image_batch_id;
    // The same agent settings as a session's: statuses as answers, no redirects.
    let raw = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .user_agent("raw")
        .proxy(None)
        .build()
        .new_agent();
    let url = format!("{}/api/v3/companies/{}/batches/{batch}/", emulator.base_url(), emulator.company_id());
    let bearer = format!("Bearer {}", emulator.token());
    let raw_call = || {
        let mut answer =
            raw.get(&url).header("authorization", &bearer).header("accept", "application/json").call().expect("raw");
        let body = answer.body_mut().with_config().limit(64 << 20).read_to_vec().expect("a body");
        let _: BatchInfo = serde_json::from_slice(&body).expect("batch info");
    };
    let session_call = || {
        session.batch(batch).expect("session");
    };
    // Warm both pools, then alternate blocks so drift hits both alike.
    for _ in 0..100 {
        raw_call();
        session_call();
    }
    let (mut session_time, mut raw_time) = (Duration::ZERO, Duration::ZERO);
    for _ in 0..10 {
        let t = Instant::now();
        (0..calls / 10).for_each(|_| session_call());
        session_time += t.elapsed();
        let t = Instant::now();
        (0..calls / 10).for_each(|_| raw_call());
        raw_time += t.elapsed();
    }
    OverheadFigure {
        session_rps: calls as f64 / session_time.as_secs_f64(),
        raw_rps: calls as f64 / raw_time.as_secs_f64(),
    }
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines().find(|l| l.starts_with("model name")).map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_else(|| "unknown cpu".into())
}
