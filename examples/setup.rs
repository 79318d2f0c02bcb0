//! From an email and a password to the settings the other examples read.
//!
//! ```text
//! cargo run --example setup
//! ```
//!
//! Logs in with `HAUTAI_EMAIL` and `HAUTAI_PASSWORD` (against `HAUTAI_BASE_URL`, default
//! `https://saas.haut.ai`); without them, against the offline emulator and its demo user.
//! Reuses the dataset `hautai` and its subject `subject-1`, or creates them, and prints
//! the `export HAUTAI_...=...` lines that `Session::from_env` reads. The `hautai setup`
//! command also names them and makes lasting private tokens.

use std::process::ExitCode;

use hautai::emulator::{Emulator, EmulatorConfig};
use hautai::model::NewSubject;
use hautai::{Session, SessionBuilder};

fn main() -> ExitCode {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    // The real service when credentials are given, else the emulator and its demo user
    // (kept running until the end of main).
    let mut emulator = None;
    let (builder, email, password) = match (var("HAUTAI_EMAIL"), var("HAUTAI_PASSWORD")) {
        (Some(email), Some(password)) => {
            let builder = var("HAUTAI_BASE_URL")
                .map_or_else(SessionBuilder::default, |url| SessionBuilder::default().base_url(url));
            (builder, email, password)
        }
        (None, None) => match Emulator::start(EmulatorConfig::new()) {
            Ok(started) => {
                eprintln!("HAUTAI_EMAIL is not set: using the offline emulator at {}", started.base_url());
                let (email, password) = started.user();
                let builder = SessionBuilder::default().base_url(started.base_url());
                emulator = Some(started);
                (builder, email, password)
            }
            Err(e) => {
                eprintln!("error: cannot start the emulator: {e}");
                return ExitCode::from(1);
            }
        },
        _ => {
            eprintln!("error: set both HAUTAI_EMAIL and HAUTAI_PASSWORD (or neither, for the emulator)");
            return ExitCode::from(2);
        }
    };
    match exports(builder, &email, &password) {
        Ok(lines) => {
            println!("{}", lines.join("\n"));
            if emulator.is_some() {
                eprintln!("(the emulator stops with this example: these values only show the shape)");
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}

/// Logs in, finds or makes the dataset and the subject, and returns the `export` lines.
fn exports(builder: SessionBuilder, email: &str, password: &str) -> hautai::Result<Vec<String>> {
    let session: Session = builder.login(email, password)?;
    eprintln!("logged in to company {}", session.company_id());
    let named = |name: Option<&str>, wanted: &str| name == Some(wanted);
    let dataset = match session.datasets().find(|d| d.as_ref().is_ok_and(|d| named(d.name.as_deref(), "hautai"))) {
        Some(found) => found?,
        None => session.create_dataset("hautai")?,
    };
    let mut subjects = session.subjects(dataset.id);
    let subject = match subjects.find(|s| s.as_ref().is_ok_and(|s| named(s.name.as_deref(), "subject-1"))) {
        Some(found) => found?,
        None => session.create_subject(dataset.id, &NewSubject::new("subject-1"))?,
    };
    eprintln!("dataset {} and subject {}; the token below is a login token (about an hour)", dataset.id, subject.id);
    let mut lines = Vec::new();
    if session.base_url() != hautai::config::DEFAULT_BASE_URL {
        lines.push(format!("export HAUTAI_BASE_URL={}", session.base_url()));
    }
    lines.push(format!("export HAUTAI_COMPANY_ID={}", session.company_id()));
    lines.push(format!("export HAUTAI_SUBJECT_ID={}", subject.id));
    lines.push(format!("export HAUTAI_TOKEN={}", session.token_secret().expose()));
    Ok(lines)
}
