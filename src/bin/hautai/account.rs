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
            let lifetime = std::time::Duration::from_secs(args.days * 24 * 60 * 60);
            let created = session.create_private_token(name, lifetime)?;
            let expires = created.expiration_time.as_deref().unwrap_or("(the service did not say)");
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
