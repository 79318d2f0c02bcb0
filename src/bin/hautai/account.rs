//! `hautai setup`: from an email and a password to the settings the other commands read.

use hautai::emulator::{Emulator, EmulatorConfig};
use hautai::model::NewSubject;
use hautai::{Session, SessionBuilder};

use crate::out::note;
use crate::{Failure, Outcome};

/// The longest lifetime asked of a private token: ten years.
const MAX_DAYS: u64 = 3650;

/// Log in and print the `export HAUTAI_...` lines the other commands read.
///
/// Logs in with HAUTAI_EMAIL and HAUTAI_PASSWORD (against HAUTAI_BASE_URL, default
/// https://saas.haut.ai), reuses or creates the dataset and subject of the given names,
/// and optionally creates a private token (recommended for servers: a login token lives
/// about an hour). With --emulator, logs in to the emulator's demo user.
#[derive(clap::Args)]
pub struct SetupArgs {
    /// The dataset to reuse or create.
    #[arg(long, default_value = "hautai")]
    dataset: String,
    /// The subject to reuse or create.
    #[arg(long, default_value = "subject-1")]
    subject: String,
    /// Create a private token of this name (instead of printing the login token).
    #[arg(long, value_name = "NAME")]
    private_token: Option<String>,
    /// How long the private token lives, in days.
    #[arg(long, default_value_t = 90, requires = "private_token", value_parser = clap::value_parser!(u64).range(1..=MAX_DAYS))]
    days: u64,
}

pub fn setup(args: &SetupArgs, emulator: bool) -> Outcome {
    let mut started = None;
    let (builder, email, password) = if emulator {
        let running = Emulator::start(EmulatorConfig::new())
            .map_err(|e| Failure::failed(format!("cannot start the emulator: {e}")))?;
        note!("using the offline emulator at {}: its account is invented", running.base_url());
        let (email, password) = running.user();
        let builder = SessionBuilder::default().base_url(running.base_url());
        started = Some(running);
        (builder, email, password)
    } else {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let (Some(email), Some(password)) = (var("HAUTAI_EMAIL"), var("HAUTAI_PASSWORD")) else {
            return Err(Failure::usage(
                "set HAUTAI_EMAIL and HAUTAI_PASSWORD to log in (or add --emulator to try it offline)",
            ));
        };
        let builder =
            var("HAUTAI_BASE_URL").map_or_else(SessionBuilder::default, |url| SessionBuilder::default().base_url(url));
        (builder, email, password)
    };
    let session: Session = builder.login(&email, &password)?;
    note!("logged in to company {}", session.company_id());
    let mut lines = exports(&session, args)?;
    if started.is_some() {
        // On stdout too, where `eval "$(hautai --emulator setup)"` reads: a comment to the shell.
        lines.push("# the emulator stopped with this command: these values only show the shape".to_owned());
        note!("(the emulator stops with this command: these values only show the shape)");
    }
    crate::out::emit(&lines)?;
    Ok(())
}

fn exports(session: &Session, args: &SetupArgs) -> Result<Vec<String>, Failure> {
    // Found by name, or made; two of one name are for a person to sort out (never guessed).
    let dataset = match session.find_dataset(&args.dataset)? {
        Some(found) => found,
        None => session.create_dataset(&args.dataset)?,
    };
    note!("dataset {:?}: {}", args.dataset, dataset.id);
    let subject = match session.find_subject(dataset.id, &args.subject)? {
        Some(found) => found,
        None => session.create_subject(dataset.id, &NewSubject::new(&args.subject))?,
    };
    note!("subject {:?}: {}", args.subject, subject.id);
    let token = match &args.private_token {
        Some(name) => {
            let expires = days_from_now(args.days);
            let created = session.create_private_token(name, &expires)?;
            note!("created private token {name:?} (id {}), valid until {expires}", created.id);
            created.data.map(|d| d.expose().to_owned()).unwrap_or_default()
        }
        None => {
            note!(
                "note: HAUTAI_TOKEN below is a login token (about an hour); --private-token NAME makes a lasting one"
            );
            session.token_secret().expose().to_owned()
        }
    };
    // The library's rule for a token: quoted, any other would reach the shell intact, and
    // every later command would refuse it.
    if token.is_empty() || !token.chars().all(|c| c.is_ascii_graphic()) {
        return Err(Failure::failed(
            "the service answered with a token that is empty or holds spaces, line breaks or characters beyond \
             ASCII: no command could use it; run hautai setup again (behind a proxy, check what it rewrites)",
        ));
    }
    let mut exports = Vec::new();
    if session.base_url() != hautai::config::DEFAULT_BASE_URL {
        exports.push(export("HAUTAI_BASE_URL", session.base_url()));
    }
    exports.push(export("HAUTAI_COMPANY_ID", &session.company_id().to_string()));
    exports.push(export("HAUTAI_SUBJECT_ID", &subject.id.to_string()));
    exports.push(export("HAUTAI_TOKEN", &token));
    Ok(exports)
}

/// `export NAME='value'`, for `eval "$(hautai setup)"`: the value in single quotes (a quote
/// in it as `'\''`), so that whatever the service answered, the shell takes it as text
/// and never runs any of it (`$(...)`, backticks, `;`).
pub fn export(name: &str, value: &str) -> String {
    format!("export {name}='{}'", value.replace('\'', r"'\''"))
}

/// `value` as one word of a shell command, whatever it holds: in single quotes (a quote in
/// it as `'\''`) unless it is plain (letters, digits and `-_./:=@%+,`).
pub fn quoted(value: &str) -> String {
    let plain = !value.is_empty() && value.chars().all(|c| c.is_ascii_alphanumeric() || "-_./:=@%+,".contains(c));
    match plain {
        true => value.to_owned(),
        false => format!("'{}'", value.replace('\'', r"'\''")),
    }
}

/// `now + days` as an RFC 3339 UTC time (midnight), computed without a date crate.
fn days_from_now(days: u64) -> String {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    midnight_of((now / 86_400 + days) as i64)
}

/// The RFC 3339 midnight (UTC) of the day `days` after 1970-01-01 (Howard Hinnant's
/// civil-from-days).
fn midnight_of(days: i64) -> String {
    let z = days + 719_468;
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

    #[test]
    fn dates_match_a_day_by_day_count_for_sixty_years() {
        let leap = |y: i64| (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
        let (mut year, mut month, mut day) = (1970, 1, 1);
        for days in 0..365 * 60 + 15 {
            assert_eq!(midnight_of(days), format!("{year:04}-{month:02}-{day:02}T00:00:00Z"), "{days}");
            let length = match month {
                2 if leap(year) => 29,
                2 => 28,
                4 | 6 | 9 | 11 => 30,
                _ => 31,
            };
            (day, month, year) = match (day == length, month == 12) {
                (false, _) => (day + 1, month, year),
                (true, false) => (1, month + 1, year),
                (true, true) => (1, 1, year + 1),
            };
        }
        assert!(days_from_now(MAX_DAYS) > days_from_now(1), "later is later");
    }
}
