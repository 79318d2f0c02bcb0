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
            let emulator = Emulator::start(config).map_err(|e| match kept {
                // What a person can do about a kept emulator that cannot start again.
                Some(path) if e.kind() == std::io::ErrorKind::AddrInUse => Failure::usage(format!(
                    "cannot start the emulator kept in {} again: {e}; another run into this folder may be going \
                     (let it finish), or another program took its port (stop it and run again)",
                    path.display()
                )),
                Some(path) => Failure::usage(format!(
                    "cannot start the emulator kept in {}: {e}; its batches are lost with it, so give this run a new \
                     output folder",
                    path.display()
                )),
                None => Failure::failed(format!("cannot start the emulator: {e}")),
            })?;
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

/// A new folder for sample photos in the system's temporary folder, this run's own: made
/// here (never one that was there, nor a link another user planted where it would go),
/// readable by its owner only, so that nothing written in it lands anywhere else.
pub fn scratch_dir() -> Result<std::path::PathBuf, Failure> {
    new_folder_in(&std::env::temp_dir())
        .map_err(|e| Failure::failed(format!("cannot make a folder for sample photos: {e}")))
}

fn new_folder_in(parent: &std::path::Path) -> std::io::Result<std::path::PathBuf> {
    let stamp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos();
    for n in 0..100 {
        let dir = parent.join(format!("hautai-samples-{}-{stamp:x}-{n}", std::process::id()));
        match crate::private::create_dir(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(std::io::Error::new(std::io::ErrorKind::AlreadyExists, "every name tried was taken"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn a_scratch_folder_is_new_and_its_owners_only_whatever_stands_in_its_way() {
        use std::os::unix::fs::PermissionsExt as _;
        let parent = std::env::temp_dir().join(format!("hautai-scratch-test-{}", std::process::id()));
        std::fs::create_dir_all(&parent).unwrap();
        let first = new_folder_in(&parent).unwrap();
        let second = new_folder_in(&parent).unwrap();
        assert_ne!(first, second, "never one that was there");
        assert_eq!(std::fs::metadata(&first).unwrap().permissions().mode() & 0o777, 0o700);
        std::fs::remove_dir_all(&parent).unwrap();
    }
}
