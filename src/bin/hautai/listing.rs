//! `hautai emulator` and `hautai batches`: the small commands.

use std::time::Duration;

use hautai::emulator::{Emulator, EmulatorConfig, Maturity};
use hautai::model::{BatchQuery, InitiateUpload};
use hautai::{Session, Side, Uuid};

use crate::connect::Target;
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

/// List the company's batches, newest first, page after page.
#[derive(clap::Args)]
pub struct BatchesArgs {
    /// Only this subject's batches.
    #[arg(long)]
    subject: Option<Uuid>,
    /// Batches per page asked of the service.
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=1000))]
    page_size: u32,
}

pub fn batches(args: &BatchesArgs, emulator: bool) -> Outcome {
    let target = Target::connect(emulator, Maturity::After(Duration::from_secs(1)))?;
    if target.is_emulator() {
        seed_uploads(&target.session).map_err(|e| Failure::failed(format!("seeding the emulator: {e}")))?;
    }
    let mut query = BatchQuery::new().ordering("-creation_time").page_size(args.page_size);
    if let Some(subject) = args.subject {
        query = query.subject_id(subject);
    }
    // Fixed widths, so that rows printed page by page line up with the header: an id is
    // 36 characters, a time 19 (`2026-11-28 08:06:00`, in the zone the service gives).
    crate::out::emit([format!("{:<36}  {:<19}  sides", "batch", "created")])?;
    let mut count = 0;
    for batch in target.session.batches(&query) {
        let batch = batch?;
        count += 1;
        let sides: Vec<&str> = batch.images.iter().filter_map(|i| i.side_tech_name.as_deref()).collect();
        let created =
            crate::out::visible(&batch.creation_time.as_deref().map_or_else(|| "-".to_owned(), to_the_second));
        crate::out::emit([format!("{:<36}  {created:<19}  {}", batch.id.to_string(), sides.join(","))])?;
    }
    note!("{count} batches");
    Ok(())
}

/// `2026-11-28T08:06:00.000Z` as `2026-11-28 08:06:00`; a time of another shape as it is.
fn to_the_second(time: &str) -> String {
    let shaped = time.len() >= 19 && time.as_bytes()[10] == b'T' && time.is_char_boundary(19);
    match shaped {
        true => time[..19].replacen('T', " ", 1),
        false => time.to_owned(),
    }
}

/// Seven batches with an uploaded front photo, for the emulator to list.
fn seed_uploads(session: &Session) -> hautai::Result<()> {
    let subject = session.subject_id().expect("the emulator's session has a subject");
    for visit in 1..=7 {
        let request = InitiateUpload::new().name(Side::Front, "front.jpg").meta(hautai::json!({ "visit": visit }));
        let targets = session.initiate_upload(subject, &request)?;
        let target = targets.get(Side::Front).expect("a target for the side requested");
        session.upload_image(Side::Front, target, vec![0xFF_u8; 2048])?;
    }
    Ok(())
}

/// Three analyses of the emulator's subject, at the same time.
pub(crate) fn seed_analyses(session: &Session) -> hautai::Result<()> {
    std::thread::scope(|scope| {
        let runs: Vec<_> = (0..3u8)
            .map(|visit| {
                scope.spawn(move || {
                    let photo = |side: Side| hautai::emulator::sample_photo(side, 600 + u32::from(visit), 750);
                    session.run_full_analysis(photo(Side::Front), photo(Side::Left), photo(Side::Right)).map(drop)
                })
            })
            .collect();
        runs.into_iter().try_for_each(|run| run.join().expect("an analysis thread panicked"))
    })
}
