//! `hautai batches`: the company's batches, newest first, page after page.

use std::time::Duration;

use hautai::emulator::Maturity;
use hautai::model::{BatchQuery, InitiateUpload};
use hautai::{Session, Side, Uuid};

use crate::connect::Target;
use crate::out::note;
use crate::{Failure, Outcome};

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
