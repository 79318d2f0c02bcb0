//! The service a command talks to: the real one from the environment, or an emulator
//! started here when `--emulator` says so. Never an emulator silently.

use std::time::Duration;

use hautai::Session;
use hautai::emulator::{Emulator, EmulatorConfig, Maturity};

use crate::Failure;
use crate::out::note;

/// A session, and the emulator behind it when there is one.
pub struct Target {
    pub session: Session,
    pub emulator: Option<Emulator>,
}

impl Target {
    /// The service from `HAUTAI_TOKEN` and friends; with `emulator`, an emulator whose
    /// results are ready as `maturity` says.
    pub fn connect(emulator: bool, maturity: Maturity) -> Result<Target, Failure> {
        Self::connect_keeping(emulator, maturity, None)
    }

    /// As [`connect`](Self::connect); an emulator keeps its service in the file `kept`
    /// when one is given, and starts from it when it is there (a rerun resumes).
    pub fn connect_keeping(
        emulator: bool,
        maturity: Maturity,
        kept: Option<&std::path::Path>,
    ) -> Result<Target, Failure> {
        if emulator {
            let mut config = EmulatorConfig::new()
                .latency(Duration::from_millis(20))
                .upload_bandwidth(40_000_000)
                .maturity(maturity);
            let resumed = kept.is_some_and(std::path::Path::exists);
            if let Some(path) = kept {
                config = config.keep_state(path);
            }
            let emulator =
                Emulator::start(config).map_err(|e| Failure::failed(format!("cannot start the emulator: {e}")))?;
            match (kept, resumed) {
                (Some(path), true) => note!(
                    "using the offline emulator at {}, as an earlier run left it in {}: every value is invented",
                    emulator.base_url(),
                    path.display()
                ),
                _ => note!("using the offline emulator at {}: every value is invented", emulator.base_url()),
            }
            // The service's poll schedule, not the emulator session's test one.
            let session = emulator.session_builder().build()?;
            return Ok(Target { session, emulator: Some(emulator) });
        }
        if std::env::var_os("HAUTAI_TOKEN").is_none_or(|t| t.is_empty()) {
            return Err(Failure::usage(
                "HAUTAI_TOKEN is not set: export your Haut.ai token and HAUTAI_COMPANY_ID (`hautai setup` prints \
                 them from an email and a password), or add --emulator to try the command offline with invented values",
            ));
        }
        let session = Session::from_env()?;
        note!("using the service at {}", session.base_url());
        Ok(Target { session, emulator: None })
    }

    pub fn is_emulator(&self) -> bool {
        self.emulator.is_some()
    }
}

/// A directory for sample photos, unique to this process.
pub fn scratch_dir() -> std::path::PathBuf {
    std::env::temp_dir().join(format!("hautai-samples-{}", std::process::id()))
}
