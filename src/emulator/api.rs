//! The v3 endpoints of the emulated API, with the documented rules: bearer auth, UUID
//! path ids, side names of 1..=255 characters, compute only after every upload, DRF-style
//! errors, page-number pagination with absolute `next` links.

use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::data::{self, ResultsOptions, detail};
use super::drf::{field_errors, paginate, parse_json};
use super::http::Reply;
use super::{Incoming, Inner};
use crate::model::Side;

/// The longest side name accepted, in characters.
const MAX_IMAGE_NAME_CHARS: usize = 255;
/// Upload targets say this: 1 byte to 30 MiB.
pub(crate) const CONTENT_LENGTH_RANGE: &str = "1,31457280";

pub(super) fn initiate(inner: &Inner, subject_id: Uuid, body: &[u8]) -> Reply {
    let request = match parse_json(body) {
        Ok(Value::Object(map)) => map,
        Ok(_) => return Reply::json(400, &json!({"non_field_errors": ["Invalid data. Expected a dictionary."]})),
        Err(reply) => return reply,
    };
    let mut errors = Map::new();
    let mut names = Vec::new();
    for side in Side::ALL {
        match request.get(side.as_str()) {
            None | Some(Value::Null) => {}
            Some(Value::String(name)) if name.is_empty() => {
                errors.insert(side.to_string(), json!(["This field may not be blank."]));
            }
            Some(Value::String(name)) if name.chars().count() > MAX_IMAGE_NAME_CHARS => {
                errors.insert(side.to_string(), json!(["Ensure this field has no more than 255 characters."]));
            }
            Some(Value::String(name)) => names.push((side, name.clone())),
            Some(_) => {
                errors.insert(side.to_string(), json!(["Not a valid string."]));
            }
        }
    }
    let creation_time = match request.get("creation_time") {
        None | Some(Value::Null) => None,
        Some(Value::String(time)) => Some(time.clone()),
        Some(_) => {
            errors.insert("creation_time".into(), json!(["Datetime has wrong format."]));
            None
        }
    };
    if !errors.is_empty() {
        return field_errors(errors);
    }
    if names.is_empty() {
        return Reply::json(400, &json!({"non_field_errors": ["At least one of front, left, right is required."]}));
    }
    let mut state = inner.lock();
    if state.subject(subject_id).is_none() {
        return Reply::json(404, &detail("Not found."));
    }
    let meta = request.get("meta").cloned().unwrap_or(Value::Null);
    let batch = state.create_batch(subject_id, names, meta, creation_time);
    let mut answer = Map::new();
    for (side, image) in &batch.images {
        let url = format!(
            "{}/hautai-uploads/{}?X-Goog-Algorithm=GOOG4-RSA-SHA256\
             &X-Goog-Credential=emulator%40hautai.iam.gserviceaccount.com%2F20261128%2Fauto%2Fstorage%2Fgoog4_request\
             &X-Goog-Date=20261128T080000Z&X-Goog-Expires=3600\
             &X-Goog-SignedHeaders=content-type%3Bhost%3Bx-goog-content-length-range&X-Goog-Signature={}",
            inner.storage_url, image.key, image.signature
        );
        answer.insert(
            side.to_string(),
            json!({
                "url": url,
                "method": "PUT",
                "headers": {
                    "Content-Type": "application/octet-stream",
                    "X-Goog-Content-Length-Range": CONTENT_LENGTH_RANGE,
                    "Host": inner.storage_host,
                },
                "content_type": "application/octet-stream",
                "id": image.id,
            }),
        );
    }
    answer.insert("image_batch_id".into(), json!(batch.id));
    Reply::json(200, &Value::Object(answer))
}

pub(super) fn compute(inner: &Inner, batch_id: Uuid, body: &[u8]) -> Reply {
    if let Err(reply) = parse_json(body) {
        return reply;
    }
    let mut state = inner.lock();
    let Some(batch) = state.batch_mut(batch_id) else { return Reply::json(404, &detail("Not found.")) };
    let missing: Vec<String> =
        batch.images.iter().filter(|(_, image)| image.stored.is_none()).map(|(side, _)| side.to_string()).collect();
    if !missing.is_empty() {
        let message = format!("Upload every image of the batch before compute; missing: {}.", missing.join(", "));
        return Reply::json(400, &detail(&message));
    }
    batch.computes += 1;
    if batch.computed.is_none() {
        batch.computed = Some(std::time::Instant::now());
    }
    state.computes_taken += 1;
    Reply::empty(200)
}

/// Reads `expiration_seconds`, `with_masks` and `svg_masks` (defaults 3600, true, true).
fn results_options(incoming: &Incoming) -> Result<ResultsOptions, Reply> {
    let mut options = ResultsOptions { expiration_seconds: 3600, with_masks: true, svg_masks: true };
    let mut errors = Map::new();
    for (key, value) in incoming.query_pairs() {
        let flag = || match value.to_ascii_lowercase().as_str() {
            "true" | "1" => Some(true),
            "false" | "0" => Some(false),
            _ => None,
        };
        match key.as_str() {
            "expiration_seconds" => match value.parse() {
                Ok(seconds) => options.expiration_seconds = seconds,
                Err(_) => {
                    errors.insert(key, json!(["A valid integer is required."]));
                }
            },
            "with_masks" | "svg_masks" => match flag() {
                Some(on) if key == "with_masks" => options.with_masks = on,
                Some(on) => options.svg_masks = on,
                None => {
                    errors.insert(key, json!(["Must be a valid boolean."]));
                }
            },
            _ => {}
        }
    }
    if errors.is_empty() { Ok(options) } else { Err(field_errors(errors)) }
}

pub(super) fn results(inner: &Inner, incoming: &Incoming, batch_id: Uuid) -> Reply {
    let options = match results_options(incoming) {
        Ok(options) => options,
        Err(reply) => return reply,
    };
    let mut state = inner.lock();
    let Some(batch) = state.batch_mut(batch_id) else { return Reply::json(404, &detail("Not found.")) };
    if batch.computed.is_some() {
        batch.polls += 1;
    }
    let Some(batch) = state.batch(batch_id) else { return Reply::json(404, &detail("Not found.")) };
    Reply::json(200, &data::results(&state, batch, &inner.storage_url, options))
}

pub(super) fn subject_parameters(inner: &Inner, incoming: &Incoming, subject_id: Uuid) -> Reply {
    let options = match results_options(incoming) {
        Ok(options) => options,
        Err(reply) => return reply,
    };
    let state = inner.lock();
    if state.subject(subject_id).is_none() {
        return Reply::json(404, &detail("Not found."));
    }
    let history: Vec<Value> = state
        .batches
        .iter()
        .filter(|b| b.subject_id == subject_id && b.computed.is_some())
        .map(|b| {
            let done = state.progress(b) == super::state::Progress::Done;
            data::analysis(&state, b, &inner.storage_url, options, done)
        })
        .collect();
    Reply::json(200, &Value::Array(history))
}

pub(super) fn batch_info(inner: &Inner, batch_id: Uuid) -> Reply {
    let state = inner.lock();
    match state.batch(batch_id) {
        Some(batch) => Reply::json(200, &data::batch_info(&state, batch)),
        None => Reply::json(404, &detail("Not found.")),
    }
}

pub(super) fn batch_list(inner: &Inner, incoming: &Incoming) -> Reply {
    let mut errors = Map::new();
    let (mut dataset, mut subject, mut q, mut newest_first) = (None, None, None, true);
    for (key, value) in incoming.query_pairs() {
        match key.as_str() {
            "dataset_id" | "subject_id" => match Uuid::parse_str(&value) {
                Ok(id) if key == "dataset_id" => dataset = Some(id),
                Ok(id) => subject = Some(id),
                Err(_) => {
                    errors.insert(key, json!(["Must be a valid UUID."]));
                }
            },
            "ordering" => newest_first = !matches!(value.as_str(), "creation_time" | "created_at"),
            "q" => q = Some(value.to_lowercase()),
            _ => {}
        }
    }
    if !errors.is_empty() {
        return field_errors(errors);
    }
    let state = inner.lock();
    let mut matching: Vec<Value> = state
        .batches
        .iter()
        .filter(|b| dataset.is_none_or(|d| b.dataset_id == d))
        .filter(|b| subject.is_none_or(|s| b.subject_id == s))
        .filter(|b| {
            q.as_deref().is_none_or(|q| {
                b.id.to_string().contains(q) || b.images.values().any(|i| i.name.to_lowercase().contains(q))
            })
        })
        .map(data::batch_item)
        .collect();
    if newest_first {
        matching.reverse();
    }
    paginate(inner, incoming, matching)
}
