//! `hautai`: the Haut.ai skin analysis from a shell. Analyse three photos or a folder of
//! visits, set up an account, list batches, follow a subject, or serve the offline
//! emulator. `hautai --help` lists the commands; `hautai <command> --help` explains one.
//!
//! Exit codes: 0 success, 1 an analysis or a call failed, 2 bad usage or configuration
//! (including a folder in use by another run).

mod account;
mod analyze;
mod batches;
mod connect;
mod folder;
mod history;
mod out;
mod photos;
// The library's one rule for files of patient data (0600/0700), compiled here too.
#[path = "../../util/private.rs"]
mod private;
mod progress;
mod remembered;
mod save_dir;
mod serve;

use std::process::ExitCode;

use crate::out::note;
use clap::{Parser, Subcommand};

/// Exit code for a failed analysis or call.
const FAILED: u8 = 1;
/// Exit code for bad usage or configuration.
const USAGE: u8 = 2;

/// The Haut.ai skin analysis from a shell.
///
/// Talks to the service configured by HAUTAI_TOKEN and HAUTAI_COMPANY_ID (and
/// HAUTAI_SUBJECT_ID, HAUTAI_BASE_URL); `hautai setup` prints them. With --emulator, talks
/// to an offline emulator instead, whose values are invented.
#[derive(Parser)]
#[command(name = "hautai", version, propagate_version = true, max_term_width = 100)]
struct Cli {
    /// Use the offline emulator instead of the service: nothing is sent anywhere, and
    /// every value is invented (every output says so).
    #[arg(long, global = true)]
    emulator: bool,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    Analyze(analyze::Args),
    Folder(folder::Args),
    Setup(account::SetupArgs),
    Emulator(serve::EmulatorArgs),
    Batches(batches::BatchesArgs),
    History(history::HistoryArgs),
    /// Print shell completions: `hautai completions bash > /etc/bash_completion.d/hautai`.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Analyze(args) => analyze::run(&args, cli.emulator),
        Command::Folder(args) => folder::run(&args, cli.emulator),
        Command::Setup(args) => account::setup(&args, cli.emulator),
        Command::Emulator(args) => serve::emulator(&args),
        Command::Batches(args) => batches::batches(&args, cli.emulator),
        Command::History(args) => history::history(&args, cli.emulator),
        Command::Completions { shell } => {
            let (mut command, mut script) = (<Cli as clap::CommandFactory>::command(), Vec::new());
            clap_complete::generate(shell, &mut command, "hautai", &mut script);
            out::emit(String::from_utf8_lossy(&script).lines())
        }
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            if !failure.message.is_empty() {
                note!("error: {}", failure.message);
            }
            ExitCode::from(failure.code)
        }
    }
}

/// How a command ended badly: what to print, and the exit code.
struct Failure {
    message: String,
    code: u8,
}

impl Failure {
    /// A call or an analysis failed (exit 1).
    fn failed(message: impl std::fmt::Display) -> Failure {
        Failure { message: message.to_string(), code: FAILED }
    }

    /// Bad usage or configuration (exit 2).
    fn usage(message: impl std::fmt::Display) -> Failure {
        Failure { message: message.to_string(), code: USAGE }
    }

    /// Already reported: only the exit code is left.
    fn quiet(code: u8) -> Failure {
        Failure { message: String::new(), code }
    }
}

/// A library error: usage when the caller can fix the input or the settings.
impl From<hautai::Error> for Failure {
    fn from(error: hautai::Error) -> Failure {
        use hautai::error::ErrorKind;
        let usage = matches!(
            error.kind(),
            ErrorKind::Config(_)
                | ErrorKind::Env { .. }
                | ErrorKind::InvalidImage { .. }
                | ErrorKind::InvalidArgument(_)
                // A folder in use, a journal of another service, a folder that cannot be read.
                | ErrorKind::Busy { .. }
                | ErrorKind::Journal { .. }
                | ErrorKind::Io { .. }
        );
        Failure { message: for_the_command(&error), code: if usage { USAGE } else { FAILED } }
    }
}

/// The library's advice (call `wait_for_results`, call compute again) as what a user of the
/// command does: `hautai analyze --batch ID` fetches a batch's results without paying again.
fn for_the_command(error: &hautai::Error) -> String {
    let text = error.to_string();
    let Some(batch) = error.batch_id() else { return text };
    let fetch = format!("`hautai analyze --batch {batch}`");
    [
        (
            "call compute for this batch again later, then wait_for_results",
            "nothing was computed: analyse the photos again later".to_owned(),
        ),
        (
            "check with wait_for_results before calling compute again",
            format!("fetch its results with {fetch} rather than analysing the photos again"),
        ),
        ("resume with wait_for_results later", format!("fetch its results later with {fetch}")),
        ("resume with wait_for_results", format!("fetch its results later with {fetch}")),
        ("wait_for_results", fetch.clone()),
    ]
    .iter()
    .fold(text, |text, (library, command)| text.replace(library, command))
}

type Outcome = Result<(), Failure>;

/// `--deadline SECONDS`: above zero; huge values mean "no practical limit" (the library
/// clamps them to a day).
fn parse_deadline(value: &str) -> Result<std::time::Duration, String> {
    let seconds: f64 = value.parse().map_err(|_| format!("{value:?} is not a number of seconds"))?;
    if seconds.is_nan() || seconds <= 0.0 {
        return Err(format!("{value} must be a number of seconds above zero"));
    }
    Ok(std::time::Duration::try_from_secs_f64(seconds).unwrap_or(std::time::Duration::MAX))
}
