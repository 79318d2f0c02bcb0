//! A subject's parameters over time: one row per analysis, one column per parameter.
//!
//! ```text
//! cargo run --example subject_history [SUBJECT_ID] [PARAMETER...]
//! ```
//!
//! Without `HAUTAI_TOKEN` it runs against the offline emulator, after three analyses of its
//! subject; with it, against the service `Session::from_env()` configures (the subject is
//! the argument or `HAUTAI_SUBJECT_ID`).

mod support;

use std::process::ExitCode;
use std::time::Duration;

use hautai::{Side, Uuid};
use support::{Target, USAGE};

const DEFAULT_PARAMETERS: [&str; 5] = ["age", "redness", "pores", "lines", "pigmentation"];

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1).peekable();
    let subject_arg = match args.peek().map(|a| a.parse::<Uuid>()) {
        Some(Ok(subject)) => {
            args.next();
            Some(subject)
        }
        _ => None,
    };
    let mut parameters: Vec<String> = args.collect();
    if parameters.iter().any(|p| p.starts_with('-')) {
        eprintln!("usage: subject_history [SUBJECT_ID] [PARAMETER...]");
        return ExitCode::from(USAGE);
    }
    if parameters.is_empty() {
        parameters = DEFAULT_PARAMETERS.iter().map(|p| p.to_string()).collect();
    }
    let target = match Target::connect(Duration::from_secs(1)) {
        Ok(target) => target,
        Err(code) => return code,
    };
    let Some(subject) = subject_arg.or(target.session.subject_id()) else {
        eprintln!("error: name a subject (argument or HAUTAI_SUBJECT_ID)");
        return ExitCode::from(USAGE);
    };
    if target.is_emulator()
        && let Err(e) = seed(&target.session)
    {
        return support::failed(format!("seeding the emulator: {e}"));
    }
    let history = match target.session.subject_parameters(subject) {
        Ok(history) => history,
        Err(e) => return support::failed(e),
    };
    if history.iter().any(hautai::model::Analysis::from_emulator) {
        println!("values invented by the offline emulator: not a person's analyses");
    }
    print!("{:<38}", "batch");
    for name in &parameters {
        print!(" {name:>13}");
    }
    println!();
    for analysis in &history {
        print!("{:<38}", analysis.image_batch_id.as_deref().unwrap_or("-"));
        for name in &parameters {
            // An age reads as years, a category (skin type, tone) as its tag; any other
            // parameter as its tag and 0-100 score.
            let cell = match analysis.parameters.get(name) {
                Some(p) if hautai::model::CATEGORIES.contains(&name.as_str()) => p.tag().unwrap_or("?").to_owned(),
                Some(p) => match (p.years(), p.score()) {
                    (Some(years), _) => format!("{years:.0} years"),
                    (None, score) => {
                        format!("{} {}", p.tag().unwrap_or("?"), score.map_or("".into(), |s| format!("{s:.0}/100")))
                    }
                },
                None => "-".into(),
            };
            print!(" {cell:>13}");
        }
        println!();
    }
    eprintln!("{} analyses", history.len());
    ExitCode::SUCCESS
}

/// Three analyses of the emulator's subject, run at the same time from one session.
fn seed(session: &hautai::Session) -> hautai::Result<()> {
    std::thread::scope(|scope| {
        let runs: Vec<_> = (0..3u8)
            .map(|visit| {
                scope.spawn(move || {
                    let photo = |side| hautai::emulator::sample_photo(side, 600 + u32::from(visit), 750);
                    session.run_full_analysis(photo(Side::Front), photo(Side::Left), photo(Side::Right)).map(drop)
                })
            })
            .collect();
        runs.into_iter().try_for_each(|run| run.join().expect("an analysis thread panicked"))
    })
}
