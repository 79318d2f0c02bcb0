//! The emulator's answers, written from the documented shapes with `serde_json::json!`,
//! never with the client's model types: a wrong model cannot pass by agreeing with itself.

use serde_json::{Map, Value, json};

use super::assets::signed_url;
use super::state::{Batch, Progress, State};
use crate::util::fnv::fnv1a;

/// The 27 parameters of Face Skin Analysis 3.0 listed by the seed.
pub const PARAMETERS: [&str; 27] = [
    "puffiness",
    "sagging",
    "nasolabial_wrinkles",
    "jowls",
    "enlarged_pores",
    "melasma",
    "skintone",
    "skin_type",
    "freckles",
    "dark_circles",
    "ita",
    "age",
    "inflammation",
    "moles",
    "pimples",
    "sun_spots",
    "pigmentation",
    "redness",
    "deep_lines",
    "lacrimal_grooves",
    "breakouts",
    "eyes_age",
    "lines",
    "irritation",
    "fine_lines",
    "marionette_lines",
    "pores",
];

/// Parameter names a hostile answer might hold (see
/// [`Emulator::hostile_names`](super::Emulator::hostile_names)); the 300-character one is
/// added to these.
pub const HOSTILE_NAMES: [&str; 11] = [
    "<img src=x onerror=\"document.title='pwned'\">",
    "a\"]b\\c'd",
    "../../outside",
    "Pores",
    "enlarged.pores",
    "=HYPERLINK(\"https://evil.example\",\"open\")",
    "+1+1",
    "-1+1",
    "@SUM(1)",
    "CON",
    "javascript:alert(document.title)",
];

/// The tags of the hostile parameters: markup and a formula, as text.
const HOSTILE_TAGS: [&str; 2] = ["<script>document.title='pwned'</script>", "=1+1"];

/// How many parameters an analysis that is still computing shows.
const PARAMETERS_WHILE_COMPUTING: usize = 9;

/// The options of a results request.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ResultsOptions {
    pub(crate) expiration_seconds: u64,
    pub(crate) with_masks: bool,
    pub(crate) svg_masks: bool,
}

/// A stable timestamp for the `seq`-th object (one minute apart from 2026-11-28 08:00 UTC).
pub(crate) fn timestamp(seq: u64) -> String {
    let minutes = 8 * 60 + seq;
    let (day, hour, minute) = (28 + minutes / (24 * 60), minutes / 60 % 24, minutes % 60);
    format!("2026-11-{day:02}T{hour:02}:{minute:02}:00.000Z")
}

/// How asset URLs are signed.
struct Urls<'a> {
    storage: &'a str,
    expires: u64,
    secret: u64,
}

/// The results endpoint's answer for `batch`.
pub(crate) fn results(state: &State, batch: &Batch, storage: &str, options: ResultsOptions) -> Value {
    let progress = state.progress(batch);
    if progress == Progress::NotStarted {
        return json!({});
    }
    let done = progress == Progress::Done;
    let mut results = json!({ crate::model::FACE_SKIN_METRICS_3: analysis(state, batch, storage, options, done) });
    if state.hostile_names && done {
        // An application named like a parameter, with a mask in the same place.
        let side = batch.images.keys().next().map(ToString::to_string).unwrap_or_else(|| "front".into());
        let object = format!("{}/masks/redness/{side}/original.svg", batch.id);
        let url = signed_url(storage, &object, options.expiration_seconds, state.secret());
        results["redness"] = json!({
            "image_batch_id": batch.id.to_string(),
            "parameters": {},
            "masks": {side: {"original": url}},
            "all_algorithms_calculated": true,
        });
    }
    results
}

/// One application's analysis, the shape of one element of the subject-parameters list.
pub(crate) fn analysis(state: &State, batch: &Batch, storage: &str, options: ResultsOptions, done: bool) -> Value {
    let sides: Vec<String> = batch.images.keys().map(|s| s.to_string()).collect();
    let shown = if done { PARAMETERS.len() } else { PARAMETERS_WHILE_COMPUTING };
    let mut parameters = Map::new();
    let urls = Urls { storage, expires: options.expiration_seconds, secret: state.secret() };
    for name in &PARAMETERS[..shown] {
        parameters.insert((*name).to_owned(), parameter(batch, name, &sides, &urls, options));
    }
    if state.hostile_names && done {
        let long = format!("long_{}", "x".repeat(295));
        for (i, name) in HOSTILE_NAMES.iter().copied().chain([long.as_str()]).enumerate() {
            let mut value = parameter(batch, name, &sides, &urls, options);
            value["tag"] = json!(HOSTILE_TAGS[i % HOSTILE_TAGS.len()]);
            parameters.insert(name.to_owned(), value);
        }
    }
    let mut predicted = Map::new();
    for side in &sides {
        let object = |kind: &str| {
            let object = format!("{}/{side}/{kind}.png", batch.id);
            signed_url(storage, &object, options.expiration_seconds, state.secret())
        };
        predicted.insert(
            side.clone(),
            json!({"original": object("original"), "anonymised": object("anonymised"), "aligned_face": object("aligned_face")}),
        );
    }
    let mut detection_errors = Map::new();
    if let Some((side, message)) = &state.detection_error
        && batch.images.contains_key(side)
    {
        detection_errors.insert(side.to_string(), json!(message));
    }
    json!({
        "image_batch_id": batch.id.to_string(),
        "subject_id": batch.subject_id.to_string(),
        "parameters": parameters,
        "survey_results": [],
        "all_algorithms_calculated": done,
        "sc_app_id": null,
        "can_watch_predicted_images": true,
        "predicted_images": predicted,
        "detection_errors": detection_errors,
        // Invented here: a client can tell (`BatchResults::from_emulator`) and say so.
        crate::model::EMULATOR_MARK: true,
    })
}

/// A plausible, deterministic value for parameter `name` of `batch`.
fn parameter(batch: &Batch, name: &str, sides: &[String], urls: &Urls<'_>, options: ResultsOptions) -> Value {
    // Derived from the uploaded photos and the parameter only: the same photos get the same
    // values in every run, whatever the batch id.
    let uploads = batch
        .images
        .iter()
        .filter_map(|(side, i)| i.stored.map(|(_, hash)| format!("{side}:{hash:x}")))
        .collect::<Vec<_>>()
        .join(",");
    let h = fnv1a(format!("{uploads}/{name}").as_bytes());
    let score = (h % 1000) as f64 / 10.0;
    let tag = match score {
        s if s >= 70.0 => "Good",
        s if s >= 40.0 => "Average",
        _ => "Poor",
    };
    let mut value = json!({ "tag": tag, "score": score, "grade": 1 + (h >> 10) % 5 });
    match name {
        "age" | "eyes_age" => value[name] = json!(20 + (h >> 20) % 40),
        "skintone" => value["tag"] = json!(["Light", "Medium", "Tan", "Dark"][(h >> 20) as usize % 4]),
        "skin_type" => value["tag"] = json!(["Dry", "Normal", "Combination", "Oily"][(h >> 20) as usize % 4]),
        "moles" | "pimples" | "freckles" | "sun_spots" => value["amount"] = json!((h >> 20) % 25),
        "pores" | "enlarged_pores" => value["density"] = json!(((h >> 20) % 100) as f64 / 100.0),
        _ => {}
    }
    if matches!(name, "redness" | "pores" | "lines" | "pigmentation") {
        value["areas"] = json!({
            "forehead": (h >> 24) % 100, "left_cheek": (h >> 32) % 100,
            "right_cheek": (h >> 40) % 100, "chin": (h >> 48) % 100
        });
    }
    if options.with_masks {
        let ext = if options.svg_masks { "svg" } else { "png" };
        let mut masks = Map::new();
        for side in sides {
            // A name that is not plain goes into the object's path as its hash.
            let segment = if name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') && name.len() <= 64 {
                name.to_owned()
            } else {
                format!("h{:016x}", fnv1a(name.as_bytes()))
            };
            let object = |kind: &str| {
                let object = format!("{}/masks/{segment}/{side}/{kind}.{ext}", batch.id);
                signed_url(urls.storage, &object, urls.expires, urls.secret)
            };
            masks.insert(
                side.clone(),
                json!({"original": object("original"), "aligned_face": object("aligned_face"), "anonymised": object("anonymised")}),
            );
        }
        value["masks"] = Value::Object(masks);
    }
    value
}

/// The batch-info endpoint's answer.
pub(crate) fn batch_info(state: &State, batch: &Batch) -> Value {
    let mut images = Map::new();
    for (side, image) in &batch.images {
        images.insert(
            side.to_string(),
            json!({
                "id": image.id, "name": image.name, "created_at": timestamp(batch.seq),
                "signed_url": null, "original_image_id": null, "meta": null
            }),
        );
    }
    let subject = state.subject(batch.subject_id);
    let dataset = state.dataset(batch.dataset_id);
    json!({
        "id": batch.id,
        "images": images,
        "subject": subject.map(|s| json!({"id": s.id, "name": s.name})),
        "dataset": dataset.map(|d| json!({"id": d.id, "name": d.name})),
        "connected_applications": [crate::model::FACE_SKIN_METRICS_3],
        "created_at": batch.creation_time.clone().unwrap_or_else(|| timestamp(batch.seq)),
        "meta": batch.meta,
    })
}

/// One element of the batch list.
pub(crate) fn batch_item(batch: &Batch) -> Value {
    let images: Vec<Value> = batch
        .images
        .iter()
        .enumerate()
        .map(|(i, (side, image))| {
            json!({
                "id": image.id,
                "name": image.name,
                "side": {"id": i + 1, "name": capitalised(side.as_str()), "tech_name": side.as_str()},
                "light": "day",
                "image_type": {"id": 1, "name": "Selfie", "tech_name": "selfie"},
                "side_name": capitalised(side.as_str()),
                "side_tech_name": side.as_str(),
                "light_name": null,
                "light_tech_name": null,
                "image_type_name": "Selfie",
                "image_type_tech_name": "selfie",
                "creation_time": timestamp(batch.seq),
                "quality_score": null,
                "quality_feedback": null,
                "quality_result": null,
                "quality_issues": [],
                "problems": [],
                "stage_step_number": null,
                "stage_number": null,
                "urls": {},
                "signed_url": null,
                "original_image_id": null
            })
        })
        .collect();
    json!({
        "id": batch.id,
        "creation_time": batch.creation_time.clone().unwrap_or_else(|| timestamp(batch.seq)),
        "subject_id": batch.subject_id,
        "images": images,
        "connected_applications": [crate::model::FACE_SKIN_METRICS_3],
        "meta": batch.meta,
    })
}

fn capitalised(s: &str) -> String {
    let mut chars = s.chars();
    chars.next().map(|c| c.to_ascii_uppercase().to_string() + chars.as_str()).unwrap_or_default()
}

/// A DRF error body: `{"detail": message}`.
pub(crate) fn detail(message: &str) -> Value {
    json!({ "detail": message })
}
