//! The whole job in a few lines: `cargo run --example quickstart [FRONT LEFT RIGHT]`.
//! Offline against the built-in emulator, or the real service when HAUTAI_TOKEN is set.
use hautai::emulator::{Emulator, EmulatorConfig, sample_photo};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut photos: Vec<Vec<u8>> = std::env::args().skip(1).map(std::fs::read).collect::<Result<_, _>>()?;
    let session = if std::env::var_os("HAUTAI_TOKEN").is_some() {
        hautai::Session::from_env()?
    } else {
        photos = hautai::Side::ALL.map(|side| sample_photo(side, 600, 750)).to_vec();
        Emulator::start(EmulatorConfig::new())?.session() // the session keeps the emulator running
    };
    let [front, left, right] = <[Vec<u8>; 3]>::try_from(photos).map_err(|_| "give three photos")?;
    let results = session.run_full_analysis(&front, &left, &right)?;
    let invented = if results.from_emulator() { " (invented by the emulator)" } else { "" };
    println!("batch {}{invented}", results.batch_id());
    for (name, p) in results.parameters().into_iter().flatten() {
        let years = p.years().map(|y| format!("{y:.0} years")).unwrap_or_default();
        println!("{name:20} {:12} {:>5.1} {years}", p.tag().unwrap_or("-"), p.score().unwrap_or(f64::NAN));
    }
    Ok(())
}
