//! The downloadable assets of a batch's results, found by walking them for signed URLs:
//! whatever shape the service gives its masks, every URL is found.

use serde::Serialize;
use serde_json::Value;

use super::asset_names::Names;
use super::{BatchResults, Side, debug_scrubbed};

/// One downloadable asset of the results: a predicted image or a mask, where it sits in
/// the results, the file name to save it under, and its signed URL (a bearer credential:
/// `Debug` hides its signature).
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
    file_name: String,
}

debug_scrubbed!(Asset);

impl Asset {
    /// The file name to save the asset under, made of its place, e.g.
    /// `redness-front-masks-original.svg` or `front-predicted_images-original.png`.
    ///
    /// Safe whatever the answer holds: only ASCII letters, digits, `-`, `_` and one `.`
    /// before an extension that is a picture's (`png`, `jpg`, `jpeg`, `svg`, `webp`, `gif`;
    /// `bin` for anything else), at most 80 characters before it (a longer place is cut and
    /// ends with a hash of the whole), never a name Windows reserves (`CON`, `NUL`, ...), and
    /// unique among the assets of one [`BatchResults::assets`] call, even compared without
    /// case: a name taken already ends with `-` and eight hex digits of a hash of the
    /// asset's place, the same on every run.
    ///
    /// ```
    /// # let results: hautai::BatchResults = serde_json::from_value(serde_json::json!({
    /// #     "face_skin_metrics_3": {"image_batch_id": "5243ab6a-bd30-4932-b98c-45e43edfdc36",
    /// #         "parameters": {"redness": {"masks": {"front": {"original": "https://s/r.svg?sig=1"}}}}}
    /// # }))?;
    /// let asset = &results.assets()[0];
    /// assert_eq!(asset.file_name(), "redness-front-masks-original.svg");
    /// # Ok::<(), serde_json::Error>(())
    /// ```
    pub fn file_name(&self) -> &str {
        &self.file_name
    }
}

impl BatchResults {
    /// Every signed URL in the results (predicted images, masks, and any other the service
    /// adds), with its place: found by walking the results, so a shape the documentation
    /// does not show is covered too. Which masks come, and as SVG or PNG, is the
    /// [`ResultsQuery`](crate::model::ResultsQuery)'s choice.
    pub fn assets(&self) -> Vec<Asset> {
        let mut assets = Vec::new();
        let mut names = Names::default();
        for (application, analysis) in self.applications() {
            let json = serde_json::to_value(analysis).unwrap_or_default();
            walk(&json, &mut Vec::new(), &mut |place, url| assets.push(asset(application, place, url, &mut names)));
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

/// The asset at `place` (keys from the application's analysis down to the URL), named by `names`.
fn asset(application: &str, place: &[String], url: &str, names: &mut Names) -> Asset {
    let whole = format!("{application}/{}", place.join("/"));
    let mut rest: Vec<&str> = place.iter().map(String::as_str).collect();
    let mut parameter = None;
    if rest.first() == Some(&"parameters") && rest.len() >= 2 {
        parameter = Some(rest[1].to_owned());
        rest.drain(..2);
    }
    let side = rest.iter().position(|p| p.parse::<Side>().is_ok()).map(|at| rest.remove(at).parse::<Side>().ok());
    let (side, kind) = (side.flatten(), rest.join("/"));
    let mut parts: Vec<&str> = Vec::new();
    if application != super::FACE_SKIN_METRICS_3 {
        parts.push(application);
    }
    parts.extend(parameter.as_deref());
    parts.extend(side.map(Side::as_str));
    parts.push(&kind);
    let file_name = names.name(&parts, &whole, &crate::util::url::path_of(url));
    Asset { application: application.to_owned(), parameter, side, kind, url: url.to_owned(), file_name }
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
        let found: Vec<(Option<&str>, Option<Side>, &str, String)> = assets
            .iter()
            .map(|a| (a.parameter.as_deref(), a.side, a.kind.as_str(), a.file_name().to_owned()))
            .collect();
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

    use proptest::prelude::*;

    /// Keys as a hostile or careless answer might name them: case and punctuation
    /// variants of one name, markup, paths, device names, long and non-ASCII keys.
    fn key() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("parameters".to_owned()),
            Just("front".to_owned()),
            Just("masks".to_owned()),
            prop::sample::select(vec![
                "Pores", "pores", "PORES", "a.b", "a_b", "a-b", "a b", "CON", "nul", "..", "/", "-x"
            ])
            .prop_map(str::to_owned),
            "[a-zA-Z0-9._/<>\"' -]{0,12}",
            "[é<>&\\\\]{1,4}",
            "x{150,300}",
        ]
    }

    fn shape() -> impl Strategy<Value = Vec<(bool, Vec<String>, String)>> {
        let extension = prop::sample::select(vec!["svg", "PNG", "html", "exe", "", "json.png", "jpeg"]);
        prop::collection::vec(
            (any::<bool>(), prop::collection::vec(key(), 1..5), extension.prop_map(str::to_owned)),
            1..40,
        )
    }

    /// Puts `url` at `keys` under `node`, unless a leaf is in the way.
    fn insert(node: &mut serde_json::Value, keys: &[String], url: String) {
        let Some(map) = node.as_object_mut() else { return };
        match keys {
            [last] => {
                map.insert(last.clone(), url.into());
            }
            [first, rest @ ..] => insert(map.entry(first.clone()).or_insert_with(|| serde_json::json!({})), rest, url),
            [] => {}
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        #[test]
        fn asset_file_names_are_unique_short_and_plain_whatever_the_shape(shape in shape()) {
            let mut apps = serde_json::Map::new();
            for (i, (other_app, keys, extension)) in shape.iter().enumerate() {
                let app = if *other_app { "Other_App" } else { "face_skin_metrics_3" };
                let root = apps.entry(app).or_insert_with(|| serde_json::json!({"image_batch_id": "5243ab6a-bd30-4932-b98c-45e43edfdc36"}));
                insert(root, keys, format!("https://s/{i}/m.{extension}?X-Goog-Signature=s"));
            }
            // A URL where the model wants a map (`parameters` itself) is another test's matter.
            let results = serde_json::from_value::<BatchResults>(serde_json::Value::Object(apps));
            prop_assume!(results.is_ok());
            let results = results.unwrap();
            let assets = results.assets();
            let mut seen = std::collections::HashSet::new();
            for asset in &assets {
                let name = asset.file_name();
                prop_assert!(seen.insert(name.to_ascii_lowercase()), "{name} twice (case aside)");
                let (stem, extension) = name.rsplit_once('.').unwrap();
                prop_assert!(!stem.is_empty() && stem.len() <= 80 && !stem.starts_with('-'), "{name}");
                prop_assert!(stem.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'), "{name}");
                prop_assert!(["png", "jpg", "jpeg", "svg", "webp", "gif", "bin"].contains(&extension), "{name}");
                let reserved = ["con", "prn", "aux", "nul"].contains(&stem.to_ascii_lowercase().as_str())
                    || (stem.len() == 4 && (stem[..3].eq_ignore_ascii_case("com") || stem[..3].eq_ignore_ascii_case("lpt")) && stem.as_bytes()[3].is_ascii_digit());
                prop_assert!(!reserved, "{name}");
            }
            // The same answer gives the same names.
            let again: Vec<String> = results.assets().iter().map(|a| a.file_name().to_owned()).collect();
            prop_assert_eq!(again, assets.iter().map(|a| a.file_name().to_owned()).collect::<Vec<_>>());
        }
    }
}
