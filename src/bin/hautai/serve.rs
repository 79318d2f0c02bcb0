//! `hautai emulator`: the offline emulator served until Ctrl-C, for other programs.

use hautai::emulator::{Emulator, EmulatorConfig};

use crate::out::note;
use crate::{Failure, Outcome};

/// Serve the offline emulator until Ctrl-C (for shell scripts, curl, other languages).
///
/// Prints the `export HAUTAI_...` lines that point a client at it.
#[derive(clap::Args)]
pub struct EmulatorArgs {
    /// The port (default: any free one).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Answer with parameters named as a hostile service might (markup, quotes, ../).
    #[arg(long)]
    hostile_names: bool,
}

pub fn emulator(args: &EmulatorArgs) -> Outcome {
    let emulator = Emulator::start(EmulatorConfig::new().port(args.port))
        .map_err(|e| Failure::failed(format!("cannot start the emulator: {e}")))?;
    emulator.hostile_names(args.hostile_names);
    let exports = [
        ("HAUTAI_BASE_URL", emulator.base_url().to_owned()),
        ("HAUTAI_TOKEN", emulator.token()),
        ("HAUTAI_COMPANY_ID", emulator.company_id().to_string()),
        ("HAUTAI_SUBJECT_ID", emulator.subject_id().to_string()),
    ];
    crate::out::emit(exports.iter().map(|(name, value)| crate::account::export(name, value)))?;
    note!("the Haut.ai emulator serves at {} until Ctrl-C; its values are invented", emulator.base_url());
    // Ctrl-C ends the process, and the emulator with it: nothing is kept on disk.
    loop {
        std::thread::park();
    }
}
