//! The emulator as a standalone server, as stripe-mock is used: for shell scripts, curl
//! and clients in other languages.
//!
//! ```text
//! cargo run --example emulator [-- --port N] [--hostile-names]
//! ```
//!
//! `--hostile-names` answers with parameters named as a hostile service might
//! (`Emulator::hostile_names`): markup, quotes, `../`, formulas, clashing names.
//!
//! Prints the `export HAUTAI_...=...` lines that point a client at it (base URL, token,
//! company, subject) and serves until Ctrl-C. For example, in another shell:
//!
//! ```text
//! curl -s -H "Authorization: Bearer $HAUTAI_TOKEN" "$HAUTAI_BASE_URL/api/v3/companies/$HAUTAI_COMPANY_ID/batches/"
//! ```

use std::process::ExitCode;

use hautai::emulator::{Emulator, EmulatorConfig};

const USAGE_TEXT: &str = "usage: emulator [--port N] [--hostile-names]";

/// The command line, without the program name: the port (0: any free one), and whether
/// to answer with hostile names.
fn parse_args(mut args: impl Iterator<Item = String>) -> Result<(u16, bool), String> {
    let (mut port, mut hostile) = (0, false);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--port" => {
                let value = args.next().ok_or("--port needs a number")?;
                port = value.parse().map_err(|_| format!("--port {value:?}: give a port from 1 to 65535"))?;
            }
            "--hostile-names" => hostile = true,
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok((port, hostile))
}

fn main() -> ExitCode {
    let (port, hostile) = match parse_args(std::env::args().skip(1)) {
        Ok(parsed) => parsed,
        Err(message) => {
            if !message.is_empty() {
                eprintln!("error: {message}");
            }
            eprintln!("{USAGE_TEXT}");
            return ExitCode::from(2);
        }
    };
    let emulator = match Emulator::start(EmulatorConfig::new().port(port)) {
        Ok(emulator) => emulator,
        Err(e) => {
            eprintln!("error: cannot start the emulator: {e}");
            return ExitCode::from(1);
        }
    };
    emulator.hostile_names(hostile);
    println!("export HAUTAI_BASE_URL='{}'", emulator.base_url());
    println!("export HAUTAI_TOKEN='{}'", emulator.token());
    println!("export HAUTAI_COMPANY_ID='{}'", emulator.company_id());
    println!("export HAUTAI_SUBJECT_ID='{}'", emulator.subject_id());
    eprintln!("the Haut.ai emulator serves at {} until Ctrl-C", emulator.base_url());
    // Ctrl-C ends the process, and the emulator with it: nothing is kept on disk.
    loop {
        std::thread::park();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments() {
        let parse = |args: &[&str]| parse_args(args.iter().map(|a| a.to_string()));
        assert_eq!(parse(&[]), Ok((0, false)));
        assert_eq!(parse(&["--port", "8080", "--hostile-names"]), Ok((8080, true)));
        for bad in [&["--port"][..], &["--port", "x"], &["--port", "70000"], &["serve"]] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
    }
}
