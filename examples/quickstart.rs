//! `cargo run --example quickstart [FRONT LEFT RIGHT]`: offline on the emulator, or the service with HAUTAI_TOKEN.
use hautai::emulator::{Emulator, EmulatorConfig, sample_photo};
use hautai::{Image, Session, Side, model::CATEGORIES};
use std::process::ExitCode;

fn main() -> ExitCode {
    run().inspect_err(|e| eprintln!("error: {e}")).map_or(ExitCode::FAILURE, |()| ExitCode::SUCCESS) // one line
}
fn run() -> Result<(), Box<dyn std::error::Error>> {
    let mut photos: Vec<Image> = std::env::args().skip(1).map(Image::from).collect(); // streamed from disk
    let online = std::env::var_os("HAUTAI_TOKEN").is_some();
    let session = if online { Session::from_env()? } else { Emulator::start(EmulatorConfig::new())?.session() };
    if photos.is_empty() && !online {
        photos = Side::ALL.map(|side| Image::from(sample_photo(side, 600, 750))).to_vec(); // drawn faces
    }
    let [front, left, right] = <[Image; 3]>::try_from(photos).map_err(|_| "give three photos")?;
    let results = session.run_full_analysis(front, left, right)?;
    println!("batch {}{}", results.batch_id(), if results.from_emulator() { " (invented values)" } else { "" });
    for (name, p) in results.parameters() {
        let score = p.score().filter(|_| !CATEGORIES.contains(&name.as_str())).map(|s| format!("{s:.1}"));
        let years = p.years().map(|y| format!("{y:.0} years")).unwrap_or_default();
        println!("{name:20} {:12} {:>5} {years}", p.tag().unwrap_or("-"), score.unwrap_or_default());
    }
    Ok(())
}
