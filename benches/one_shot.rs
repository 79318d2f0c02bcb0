//! A one-shot `hautai analyze`, as a process, against its critical-path lower bound:
//! `cargo bench --bench one_shot` (about a minute). The service answers every request
//! 50 ms late and has results 4 s after compute (on the plain schedule's 1 s grid), or
//! 4.5 s (between its polls); the command runs with an empty cache folder first, then
//! again with what the earlier runs remembered. Prints a table and a `BENCH name=value`
//! line per figure.

use std::process::Command;
use std::time::{Duration, Instant};

use hautai::Side;
use hautai::emulator::{Emulator, EmulatorConfig, Maturity};

const LATENCY: Duration = Duration::from_millis(50);
const BANDWIDTH: u64 = 10_000_000;
/// Runs after the first, each with the cache the runs before it left.
const LATER_RUNS: usize = 4;

fn main() {
    println!("{:<58} {:>8}", "figure", "ratio");
    println!("{:-<58} {:->8}", "", "");
    for (ready, name) in [(Duration::from_millis(4000), "4s"), (Duration::from_millis(4500), "4_5s")] {
        figures(ready, name);
    }
}

/// The figures of a service whose results are ready `ready` after compute.
fn figures(ready: Duration, name: &str) {
    let dir = std::env::temp_dir().join(format!("hautai-one-shot-{}-{name}", std::process::id()));
    let cache = dir.join("cache");
    std::fs::create_dir_all(&cache).expect("a scratch folder");
    let photos: Vec<String> = Side::ALL
        .into_iter()
        .map(|side| {
            let path = dir.join(format!("{side}.png"));
            std::fs::write(&path, hautai::emulator::sample_photo(side, 900, 1100)).expect("a photo");
            path.display().to_string()
        })
        .collect();
    let bytes: u64 = photos.iter().map(|p| std::fs::metadata(p).map_or(0, |m| m.len())).sum();
    // initiate + uploads (one latency, the shared bandwidth) + compute + readiness + one poll
    let bound = LATENCY * 4 + Duration::from_secs_f64(bytes as f64 / BANDWIDTH as f64) + ready;
    // One service for every run, at one address: what the cache is keyed by.
    let config = EmulatorConfig::new().latency(LATENCY).upload_bandwidth(BANDWIDTH).maturity(Maturity::After(ready));
    let emulator = Emulator::start(config).expect("an emulator");
    let run = || {
        let started = Instant::now();
        let status = Command::new(env!("CARGO_BIN_EXE_hautai"))
            .arg("analyze")
            .args(&photos)
            .env("HAUTAI_BASE_URL", emulator.base_url())
            .env("HAUTAI_TOKEN", emulator.token())
            .env("HAUTAI_COMPANY_ID", emulator.company_id().to_string())
            .env("HAUTAI_SUBJECT_ID", emulator.subject_id().to_string())
            .env("XDG_CACHE_HOME", &cache)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .expect("hautai runs");
        assert!(status.success(), "hautai analyze failed");
        started.elapsed().as_secs_f64() / bound.as_secs_f64()
    };
    let first = run();
    if std::env::var_os("ONE_SHOT_TRACE").is_some() {
        let requests = emulator.requests();
        let t0 = requests[0].time_in;
        for r in &requests {
            eprintln!(
                "{:>7.3} {:>7.3} {:?} {}",
                (r.time_in - t0).as_secs_f64(),
                (r.time_out - t0).as_secs_f64(),
                r.route,
                r.path.split('?').next().unwrap_or("")
            );
        }
    }
    let later: Vec<f64> = (0..LATER_RUNS).map(|_| run()).collect();
    let worst_later = later.iter().copied().fold(0.0, f64::max);
    let mean_later = later.iter().sum::<f64>() / later.len() as f64;
    let _ = std::fs::remove_dir_all(&dir);
    let secs = ready.as_secs_f64();
    println!(
        "{:<58} {:>8.3}",
        format!("ready {secs} s: wall / bound {:.3} s, first run (no cache)", bound.as_secs_f64()),
        first
    );
    println!("{:<58} {:>8.3}", format!("ready {secs} s: wall / bound, later runs (mean of {LATER_RUNS})"), mean_later);
    println!("{:<58} {:>8.3}", format!("ready {secs} s: wall / bound, later runs (worst)"), worst_later);
    println!("BENCH one_shot_{name}_first_ratio={first:.4}");
    println!("BENCH one_shot_{name}_later_ratio_mean={mean_later:.4}");
    println!("BENCH one_shot_{name}_later_ratio_worst={worst_later:.4}");
}
