//! `hautai history PATIENT`: a patient's analyses in date order.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use hautai::emulator::Maturity;
use hautai::model::{Analysis, BatchQuery, CATEGORIES};
use hautai::{Session, Uuid};
use serde_json::json;

use crate::connect::Target;
use crate::out::note;
use crate::{Failure, Outcome};

/// A patient's analyses, oldest first: date, batch, age in years and grades.
///
/// PATIENT is a subject's name in the dataset (as `hautai folder` names each patient's
/// subject) or a subject's id; without it, HAUTAI_SUBJECT_ID. Dates are the batches'
/// (`YYYY-MM-DD`), which `hautai folder` sets from the visit folders' names or the photos.
#[derive(clap::Args)]
pub struct HistoryArgs {
    /// The patient: a subject's name or id.
    patient: Option<String>,
    /// The dataset the patient is a subject of.
    #[arg(long, value_name = "NAME", default_value = "hautai")]
    dataset: String,
    /// The parameters whose grades are shown, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "redness,pores,lines,pigmentation")]
    columns: Vec<String>,
    /// Print the analyses as JSON (every parameter's grade, score and years).
    #[arg(long)]
    json: bool,
    /// With --emulator: the emulator that `hautai --emulator folder IN OUT_DIR` kept in OUT_DIR.
    #[arg(long, value_name = "OUT_DIR", requires = "patient")]
    from: Option<PathBuf>,
}

pub fn history(args: &HistoryArgs, emulator: bool) -> Outcome {
    let kept = match (&args.from, emulator) {
        (Some(_), false) => return Err(Failure::usage("--from reads an emulator's folder run: add --emulator")),
        (Some(dir), true) => {
            let kept = dir.join(".hautai/emulator.json");
            if !kept.is_file() {
                return Err(Failure::usage(format!(
                    "{} holds no emulator kept by `hautai --emulator folder`: give the OUT_DIR of such a run",
                    dir.display()
                )));
            }
            Some(kept)
        }
        (None, _) => None,
    };
    let target = Target::connect_keeping(emulator, Maturity::After(Duration::from_secs(1)), kept.as_deref())?;
    let session = &target.session;
    let subject = match &args.patient {
        Some(patient) => subject_of(session, patient, &args.dataset)?,
        None => {
            let subject = session.subject_id().ok_or_else(|| {
                Failure::usage("name a patient: hautai history NAME (or a subject id), or set HAUTAI_SUBJECT_ID")
            })?;
            if target.is_emulator() {
                seed_analyses(session).map_err(|e| Failure::failed(format!("seeding the emulator: {e}")))?;
            }
            subject
        }
    };
    let mut history = dated(session, subject)?;
    history.sort_by(|(a, x), (b, y)| (a, &x.image_batch_id).cmp(&(b, &y.image_batch_id)));
    let invented = history.iter().any(|(_, analysis)| analysis.from_emulator());
    if args.json {
        let rows: Vec<serde_json::Value> = history.iter().map(|(date, analysis)| as_json(date, analysis)).collect();
        let text =
            serde_json::to_string_pretty(&json!({"subject_id": subject, "invented": invented, "analyses": rows}))
                .map_err(|e| Failure::failed(format!("cannot write JSON: {e}")))?;
        return crate::out::emit(crate::out::json_safe(&text).lines());
    }
    let mut lines = Vec::new();
    if invented {
        lines.push("VALUES INVENTED BY THE OFFLINE EMULATOR: not a person's analyses".to_owned());
    }
    let mut header = format!("{:<10}  {:<36}  {:>9}", "date", "batch", "age");
    for name in &args.columns {
        header += &format!("  {:>13}", crate::out::visible(name));
    }
    lines.push(header);
    for (date, analysis) in &history {
        let age = analysis.parameters.get("age").and_then(|p| p.years()).map(|y| format!("{y:.0} years"));
        let batch = analysis.image_batch_id.as_deref().unwrap_or("-");
        let mut line = format!("{:<10}  {batch:<36}  {:>9}", date.as_deref().unwrap_or("-"), age.unwrap_or_default());
        for name in &args.columns {
            let grade = analysis.parameters.get(name).and_then(|p| p.tag()).unwrap_or("-");
            line += &format!("  {:>13}", crate::out::visible(grade));
        }
        lines.push(line);
    }
    crate::out::emit(&lines)?;
    note!("{} analyses of subject {subject}", history.len());
    Ok(())
}

/// The subject `patient` names: an id as it is, a name looked up in the dataset. None, or
/// two of that name, is a usage error naming what was looked for (and both ids).
fn subject_of(session: &Session, patient: &str, dataset: &str) -> Result<Uuid, Failure> {
    if let Ok(id) = patient.parse::<Uuid>() {
        return Ok(id);
    }
    if patient.trim().is_empty() {
        return Err(Failure::usage("the patient's name is empty: give a subject's name or id"));
    }
    // `hautai folder` names subjects in NFC: `Zoë` typed on a Mac finds them too.
    let patient = &unicode_normalization::UnicodeNormalization::nfc(patient).collect::<String>();
    let dataset_id = match session.find_dataset(dataset)? {
        Some(found) => found.id,
        None => return Err(Failure::usage(format!("no dataset is named {dataset:?}: give the one with --dataset"))),
    };
    match session.find_subject(dataset_id, patient) {
        Ok(Some(subject)) => Ok(subject.id),
        Ok(None) => Err(Failure::usage(format!(
            "no subject of the dataset {dataset:?} is named {patient:?} (names count case and spaces)"
        ))),
        Err(e) if matches!(e.kind(), hautai::error::ErrorKind::Ambiguous { .. }) => Err(Failure::usage(e.to_string())),
        Err(e) => Err(e.into()),
    }
}

/// Each analysis of `subject` with its batch's day (`YYYY-MM-DD`), from the batch list.
fn dated(session: &Session, subject: Uuid) -> Result<Vec<(Option<String>, Analysis)>, Failure> {
    let mut days = HashMap::new();
    for batch in session.batches(&BatchQuery::new().subject_id(subject)) {
        let batch = batch?;
        if let Some(time) = batch.creation_time.filter(|t| t.len() >= 10 && t.is_char_boundary(10)) {
            days.insert(batch.id.to_string(), time[..10].to_owned());
        }
    }
    let history = session.subject_parameters(subject)?;
    Ok(history.into_iter().map(|a| (a.image_batch_id.as_ref().and_then(|b| days.get(b).cloned()), a)).collect())
}

fn as_json(date: &Option<String>, analysis: &Analysis) -> serde_json::Value {
    let parameters: serde_json::Map<String, serde_json::Value> = analysis
        .parameters
        .iter()
        .map(|(name, p)| {
            let score = if CATEGORIES.contains(&name) { None } else { p.score() };
            (name.to_owned(), json!({"grade": p.tag(), "score": score, "years": p.years()}))
        })
        .collect();
    json!({
        "date": date,
        "batch_id": analysis.image_batch_id,
        "age_years": analysis.parameters.get("age").and_then(|p| p.years()),
        "parameters": parameters,
    })
}

/// Three analyses of the emulator's subject, at the same time.
fn seed_analyses(session: &Session) -> hautai::Result<()> {
    std::thread::scope(|scope| {
        let runs: Vec<_> = (0..3u8)
            .map(|visit| {
                scope.spawn(move || {
                    let photo = |side: hautai::Side| hautai::emulator::sample_photo(side, 600 + u32::from(visit), 750);
                    session
                        .run_full_analysis(
                            photo(hautai::Side::Front),
                            photo(hautai::Side::Left),
                            photo(hautai::Side::Right),
                        )
                        .map(drop)
                })
            })
            .collect();
        runs.into_iter().try_for_each(|run| run.join().expect("an analysis thread panicked"))
    })
}
