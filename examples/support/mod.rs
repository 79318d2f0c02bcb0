//! What the examples share: where the session comes from, sample photos.
#![allow(dead_code)] // Each example uses a different part.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use hautai::Session;
use hautai::emulator::{Emulator, EmulatorConfig, Maturity};

/// Exit code for a failed analysis.
pub const FAILED: u8 = 1;
/// Exit code for bad usage or configuration.
pub const USAGE: u8 = 2;

/// The service an example talks to: the real one when `HAUTAI_TOKEN` is set (configured
/// by `Session::from_env`), else an emulator started here.
pub struct Target {
    pub session: Session,
    /// Kept alive while the example runs; `None` against the real service.
    pub emulator: Option<Emulator>,
}

impl Target {
    /// Connects; an emulator started here makes results final `maturity` after compute.
    pub fn connect(maturity: Duration) -> Result<Target, ExitCode> {
        Self::connect_with(Maturity::After(maturity))
    }

    /// Connects; an emulator started here matures results as `maturity` says.
    pub fn connect_with(maturity: Maturity) -> Result<Target, ExitCode> {
        if std::env::var_os("HAUTAI_TOKEN").is_some() {
            let session = Session::from_env().map_err(|e| {
                eprintln!("error: {e}");
                ExitCode::from(USAGE)
            })?;
            eprintln!("using the service at {}", session.base_url());
            return Ok(Target { session, emulator: None });
        }
        let config =
            EmulatorConfig::new().latency(Duration::from_millis(20)).upload_bandwidth(40_000_000).maturity(maturity);
        let emulator = Emulator::start(config).map_err(|e| {
            eprintln!("error: cannot start the emulator: {e}");
            ExitCode::from(FAILED)
        })?;
        eprintln!("HAUTAI_TOKEN is not set: using the offline emulator at {}", emulator.base_url());
        // The default poll schedule, as against the service (`emulator.session()` polls
        // every 100 ms, for tests).
        let session = emulator.session_builder().build().map_err(|e| {
            eprintln!("error: {e}");
            ExitCode::from(FAILED)
        })?;
        Ok(Target { session, emulator: Some(emulator) })
    }

    pub fn is_emulator(&self) -> bool {
        self.emulator.is_some()
    }
}

/// Writes three sample photos (drawn faces as PNG files of about 1.3 MB: the emulator
/// accepts them, and a report shows them) into `dir` and returns their paths.
pub fn sample_photos(dir: &Path) -> std::io::Result<[PathBuf; 3]> {
    std::fs::create_dir_all(dir)?;
    let mut paths = Vec::new();
    for (i, side) in hautai::Side::ALL.into_iter().enumerate() {
        let path = dir.join(format!("sample-{side}.png"));
        std::fs::write(&path, hautai::emulator::sample_photo(side, 600 + 20 * i as u32, 750))?;
        paths.push(path);
    }
    Ok([paths[0].clone(), paths[1].clone(), paths[2].clone()])
}

/// Writes `count` visits into `dir`: `visit-01/front.png`, `left.png`, `right.png`, ...
/// (small drawn faces, different for each visit; only the emulator accepts them).
pub fn sample_visits(dir: &Path, count: usize) -> std::io::Result<()> {
    for visit in 1..=count {
        let folder = dir.join(format!("visit-{visit:02}"));
        std::fs::create_dir_all(&folder)?;
        for side in hautai::Side::ALL {
            // A little different for each visit, so each gets its own values.
            let photo = hautai::emulator::sample_photo(side, 160 + visit as u32, 200);
            std::fs::write(folder.join(format!("{side}.png")), photo)?;
        }
    }
    Ok(())
}

/// A directory for sample photos, unique to this process.
pub fn scratch_dir() -> PathBuf {
    std::env::temp_dir().join(format!("hautai-samples-{}", std::process::id()))
}

/// Prints `error` and returns the exit code of a failed call.
pub fn failed(error: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {error}");
    ExitCode::from(FAILED)
}
