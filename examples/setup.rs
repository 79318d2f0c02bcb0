//! From an email and a password to the settings `full_analysis` reads.
//!
//! ```text
//! cargo run --example setup [--dataset NAME] [--subject NAME] [--private-token NAME [--days N]]
//! ```
//!
//! Logs in with `HAUTAI_EMAIL` and `HAUTAI_PASSWORD` (against `HAUTAI_BASE_URL`, default
//! `https://saas.haut.ai`); without them, against the offline emulator and its demo user.
//! Reuses the dataset and the subject of the given names, or creates them; optionally
//! creates a private token (recommended for servers: login tokens live about an hour).
//! Prints the `export HAUTAI_...=...` lines that `full_analysis` reads. Exit codes: 0
//! success, 1 a call failed, 2 bad usage or configuration.

mod support;

use std::process::ExitCode;

use hautai::emulator::{Emulator, EmulatorConfig};
use hautai::model::NewSubject;
use hautai::{Session, SessionBuilder};
use support::{FAILED, USAGE};

const USAGE_TEXT: &str = "usage: setup [--dataset NAME] [--subject NAME] [--private-token NAME [--days N]]";

struct Args {
    dataset: String,
    subject: String,
    private_token: Option<String>,
    days: u64,
}

/// The command line, without the program name.
fn parse_args(mut it: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut args = Args { dataset: "hautai".into(), subject: "subject-1".into(), private_token: None, days: 90 };
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--dataset" => args.dataset = value()?,
            "--subject" => args.subject = value()?,
            "--private-token" => args.private_token = Some(value()?),
            "--days" => {
                args.days = value()?
                    .parse()
                    .ok()
                    .filter(|d| (1..=MAX_DAYS).contains(d))
                    .ok_or(format!("--days needs a whole number from 1 to {MAX_DAYS}"))?
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(args)
}

fn main() -> ExitCode {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(message) => {
            eprintln!("error: {message}\n{USAGE_TEXT}");
            return ExitCode::from(USAGE);
        }
    };
    // The real service when credentials are given, else the emulator and its demo user.
    let mut emulator = None;
    let (builder, email, password) = match (std::env::var("HAUTAI_EMAIL"), std::env::var("HAUTAI_PASSWORD")) {
        (Ok(email), Ok(password)) => {
            let mut builder = SessionBuilder::default();
            if let Ok(url) = std::env::var("HAUTAI_BASE_URL") {
                builder = builder.base_url(url);
            }
            (builder, email, password)
        }
        (Ok(_), Err(_)) | (Err(_), Ok(_)) => {
            eprintln!("error: set both HAUTAI_EMAIL and HAUTAI_PASSWORD (or neither, for the emulator)");
            return ExitCode::from(USAGE);
        }
        (Err(_), Err(_)) => match Emulator::start(EmulatorConfig::new()) {
            Ok(started) => {
                eprintln!("HAUTAI_EMAIL is not set: using the offline emulator at {}", started.base_url());
                let (email, password) = started.user();
                let builder = SessionBuilder::default().base_url(started.base_url());
                emulator = Some(started);
                (builder, email, password)
            }
            Err(e) => {
                eprintln!("error: cannot start the emulator: {e}");
                return ExitCode::from(FAILED);
            }
        },
    };
    match run(builder, &email, &password, &args) {
        Ok(exports) => {
            for line in exports {
                println!("{line}");
            }
            if emulator.is_some() {
                eprintln!("(the emulator stops with this example: these values only show the shape)");
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            let usage =
                matches!(e.kind(), hautai::error::ErrorKind::Config(_) | hautai::error::ErrorKind::InvalidArgument(_));
            ExitCode::from(if usage { USAGE } else { FAILED })
        }
    }
}

fn run(builder: SessionBuilder, email: &str, password: &str, args: &Args) -> hautai::Result<Vec<String>> {
    let session: Session = builder.login(email, password)?;
    eprintln!("logged in to company {}", session.company_id());

    let existing = session.datasets().find(|d| d.as_ref().is_ok_and(|d| d.name.as_deref() == Some(&args.dataset)));
    let dataset = match existing.transpose()? {
        Some(dataset) => {
            eprintln!("reusing dataset {:?} ({})", args.dataset, dataset.id);
            dataset
        }
        None => {
            let dataset = session.create_dataset(&args.dataset)?;
            eprintln!("created dataset {:?} ({})", args.dataset, dataset.id);
            dataset
        }
    };
    let existing =
        session.subjects(dataset.id).find(|s| s.as_ref().is_ok_and(|s| s.name.as_deref() == Some(&args.subject)));
    let subject = match existing.transpose()? {
        Some(subject) => {
            eprintln!("reusing subject {:?} ({})", args.subject, subject.id);
            subject
        }
        None => {
            let subject = session.create_subject(dataset.id, &NewSubject::new(&args.subject))?;
            eprintln!("created subject {:?} ({})", args.subject, subject.id);
            subject
        }
    };
    let token = match &args.private_token {
        Some(name) => {
            let expires = rfc3339_days_from_now(args.days);
            let created = session.create_private_token(name, &expires)?;
            eprintln!("created private token {name:?} (id {}), valid until {expires}", created.id);
            created.data.map(|d| d.expose().to_owned()).unwrap_or_default()
        }
        None => {
            eprintln!(
                "note: HAUTAI_TOKEN below is a login token (about an hour); --private-token NAME makes a lasting one"
            );
            session.token_secret().expose().to_owned()
        }
    };
    let mut exports = Vec::new();
    if session.base_url() != hautai::config::DEFAULT_BASE_URL {
        exports.push(format!("export HAUTAI_BASE_URL={}", session.base_url()));
    }
    exports.push(format!("export HAUTAI_COMPANY_ID={}", session.company_id()));
    exports.push(format!("export HAUTAI_SUBJECT_ID={}", subject.id));
    exports.push(format!("export HAUTAI_TOKEN={token}"));
    Ok(exports)
}

/// The longest lifetime asked of a private token: ten years.
const MAX_DAYS: u64 = 3650;

/// `now + days` as an RFC 3339 UTC time (midnight), computed without a date crate.
fn rfc3339_days_from_now(days: u64) -> String {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let z = (now / 86_400 + days) as i64 + 719_468;
    let (era, doe) = (z.div_euclid(146_097), z.rem_euclid(146_097));
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let (day, month) = (doy - (153 * mp + 2) / 5 + 1, if mp < 10 { mp + 3 } else { mp - 9 });
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T00:00:00Z")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(line: &str) -> Result<Args, String> {
        parse_args(line.split_whitespace().map(str::to_owned))
    }

    #[test]
    fn days_are_bounded_and_never_overflow_the_date() {
        for bad in ["0", "3651", "18446744073709551615", "-1", "x"] {
            let err = parse(&format!("--private-token t --days {bad}")).err().unwrap();
            assert!(err.contains("1 to 3650"), "{bad}: {err}");
        }
        assert_eq!(parse("--private-token t --days 3650").unwrap().days, 3650);
        let latest = rfc3339_days_from_now(MAX_DAYS);
        assert!(latest.ends_with("T00:00:00Z") && latest.len() == 20, "{latest}");
    }
}
