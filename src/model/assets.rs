//! The downloadable assets of a batch's results, found by walking them for signed URLs:
//! whatever shape the service gives its masks, every URL is found.

use serde::Serialize;
use serde_json::Value;

use super::{BatchResults, Side, debug_scrubbed};

/// One downloadable asset of the results: a predicted image or a mask, where it sits in
/// the results, and its signed URL (a bearer credential: `Debug` hides its signature).
#[derive(Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Asset {
    /// The application's tech name, e.g. `face_skin_metrics_3`.
    pub application: String,
    /// The parameter the asset belongs to (masks), if any.
    pub parameter: Option<String>,
    /// The side of the face, if the place names one.
    pub side: Option<Side>,
    /// What it is: the rest of its place, e.g. `predicted_images/original` or
    /// `masks/aligned_face`.
    pub kind: String,
    /// The signed URL: give it to [`Session::download`](crate::Session::download).
    pub url: String,
}

debug_scrubbed!(Asset);

impl Asset {
    /// A file name made of its place, e.g. `redness-front-masks-aligned_face.svg` or
    /// `front-predicted_images-original.png`: unique within one batch's results.
    pub fn file_name(&self) -> String {
        let extension = crate::url::path_of(&self.url)
            .rsplit_once('.')
            .map(|(_, e)| e.to_ascii_lowercase())
            .filter(|e| (1..=5).contains(&e.len()) && e.chars().all(|c| c.is_ascii_alphanumeric()))
            .unwrap_or_else(|| "bin".to_owned());
        let mut parts: Vec<String> = Vec::new();
        if self.application != super::FACE_SKIN_METRICS_3 {
            parts.push(self.application.clone());
        }
        parts.extend(self.parameter.clone());
        parts.extend(self.side.map(|s| s.to_string()));
        parts.push(self.kind.replace('/', "-"));
        let name: String = parts
            .join("-")
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '-' | '_') { c } else { '_' })
            .collect();
        format!("{name}.{extension}")
    }
}

impl BatchResults {
    /// Every signed URL in the results (predicted images, masks, and any other the service
    /// adds), with its place: found by walking the results, so a shape the documentation
    /// does not show is covered too. Which masks come, and as SVG or PNG, is the
    /// [`ResultsQuery`](crate::ResultsQuery)'s choice.
    pub fn assets(&self) -> Vec<Asset> {
        let mut assets = Vec::new();
        for (application, analysis) in self.applications() {
            let json = serde_json::to_value(analysis).unwrap_or_default();
            walk(&json, &mut Vec::new(), &mut |place, url| assets.push(asset(application, place, url)));
        }
        assets
    }
}

/// Calls `found` with the place and value of every `http(s)://` string under `value`.
fn walk(value: &Value, place: &mut Vec<String>, found: &mut dyn FnMut(&[String], &str)) {
    match value {
        Value::String(s) if s.starts_with("https://") || s.starts_with("http://") => found(place, s),
        Value::Object(map) => {
            for (key, value) in map {
                place.push(key.clone());
                walk(value, place, found);
                place.pop();
            }
        }
        Value::Array(items) => {
            for (i, value) in items.iter().enumerate() {
                place.push(i.to_string());
                walk(value, place, found);
                place.pop();
            }
        }
        _ => {}
    }
}

/// The asset at `place` (keys from the application's analysis down to the URL).
fn asset(application: &str, place: &[String], url: &str) -> Asset {
    let mut rest: Vec<&str> = place.iter().map(String::as_str).collect();
    let mut parameter = None;
    if rest.first() == Some(&"parameters") && rest.len() >= 2 {
        parameter = Some(rest[1].to_owned());
        rest.drain(..2);
    }
    let side = rest.iter().position(|p| p.parse::<Side>().is_ok()).map(|at| rest.remove(at).parse::<Side>().ok());
    Asset {
        application: application.to_owned(),
        parameter,
        side: side.flatten(),
        kind: rest.join("/"),
        url: url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_url_is_found_with_its_place_in_any_shape() {
        let results: BatchResults = serde_json::from_value(serde_json::json!({
            "face_skin_metrics_3": {
                "image_batch_id": "5243ab6a-bd30-4932-b98c-45e43edfdc36",
                "all_algorithms_calculated": true,
                "predicted_images": {"front": {"original": "https://s/o/front.jpg?X-Goog-Signature=a", "aligned_face": null}},
                "parameters": {
                    "redness": {"tag": "Good", "masks": {"left": {"aligned_face": "https://s/m/r.svg?X-Goog-Signature=b"}}},
                    "pores": {"tag": "Poor", "heatmaps": [{"url": "http://s/h/p.PNG"}], "note": "see https://"},
                    "age": {"tag": "Good", "age": 33}
                }
            },
            "other_app": {"image_batch_id": "5243ab6a-bd30-4932-b98c-45e43edfdc36", "extra": {"right": "https://s/x"}}
        }))
        .unwrap();
        let assets = results.assets();
        let found: Vec<(Option<&str>, Option<Side>, &str, String)> =
            assets.iter().map(|a| (a.parameter.as_deref(), a.side, a.kind.as_str(), a.file_name())).collect();
        assert_eq!(
            found,
            [
                (Some("pores"), None, "heatmaps/0/url", "pores-heatmaps-0-url.png".to_owned()),
                (
                    Some("redness"),
                    Some(Side::Left),
                    "masks/aligned_face",
                    "redness-left-masks-aligned_face.svg".to_owned()
                ),
                (
                    None,
                    Some(Side::Front),
                    "predicted_images/original",
                    "front-predicted_images-original.jpg".to_owned()
                ),
                (None, Some(Side::Right), "extra", "other_app-right-extra.bin".to_owned()),
            ]
        );
        assert!(!format!("{:?}", assets[1]).contains("X-Goog-Signature=b"));
    }
}
