//! Walks every batch of the company, or of one subject, page after page.
//!
//! ```text
//! cargo run --example list_batches [--subject SUBJECT_ID] [--page-size N]
//! ```
//!
//! Without `HAUTAI_TOKEN` it runs against the offline emulator, seeded with a few
//! analyses; with it, against the service `Session::from_env()` configures.

mod support;

use std::process::ExitCode;
use std::time::Duration;

use hautai::model::{BatchQuery, InitiateUpload};
use hautai::{Side, Uuid};
use support::{FAILED, Target, USAGE};

fn main() -> ExitCode {
    let mut query = BatchQuery::new().ordering("-creation_time").page_size(3);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let value = args.next();
        match (arg.as_str(), value.as_deref().map(str::parse::<Uuid>), value.as_deref().map(str::parse::<u32>)) {
            ("--subject", Some(Ok(subject)), _) => query = query.subject_id(subject),
            ("--page-size", _, Some(Ok(size))) if size > 0 => query = query.page_size(size),
            _ => {
                eprintln!("usage: list_batches [--subject SUBJECT_ID] [--page-size N]");
                return ExitCode::from(USAGE);
            }
        }
    }
    let target = match Target::connect(Duration::from_secs(3)) {
        Ok(target) => target,
        Err(code) => return code,
    };
    if target.is_emulator()
        && let Err(e) = seed(&target.session)
    {
        eprintln!("error: seeding the emulator: {e}");
        return ExitCode::from(FAILED);
    }
    println!("{:<38} {:<26} sides", "batch", "created");
    let mut count = 0;
    for batch in target.session.batches(&query) {
        match batch {
            Ok(batch) => {
                count += 1;
                let sides: Vec<&str> = batch.images.iter().filter_map(|i| i.side_tech_name.as_deref()).collect();
                println!("{:<38} {:<26} {}", batch.id, batch.creation_time.as_deref().unwrap_or("-"), sides.join(","));
            }
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(FAILED);
            }
        }
    }
    eprintln!("{count} batches");
    ExitCode::SUCCESS
}

/// Gives the emulator something to list: seven batches, each with an uploaded front photo
/// (initiate and upload only: no analysis needed to be listed).
fn seed(session: &hautai::Session) -> hautai::Result<()> {
    let subject = session.subject_id().expect("the emulator's session has a subject");
    let photo = vec![0xFF_u8; 2048];
    for visit in 1..=7 {
        let request = InitiateUpload::new().name(Side::Front, "front.jpg").meta(serde_json::json!({ "visit": visit }));
        let targets = session.initiate_upload(subject, &request)?;
        let target = targets.get(Side::Front).expect("a target for the side requested");
        session.upload_image(Side::Front, target, &photo)?;
    }
    Ok(())
}
