use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

pub use super::parameters::{CATEGORIES, Parameter, Parameters};
use uuid::Uuid;

use super::debug_scrubbed;
use super::lenient::{applications, map_without_nulls, null_as_default, text, text_map};

/// The tech name of Face Skin Analysis 3.0, the application whose parameters most callers want.
pub const FACE_SKIN_METRICS_3: &str = "face_skin_metrics_3";

/// The results of one batch: every application's analysis keyed by its tech name.
///
/// It serializes as the API's object (`{"face_skin_metrics_3": {...}, ...}`) and
/// deserializes from it, so tests can build one from JSON:
///
/// ```
/// let results: hautai::BatchResults = serde_json::from_str(r#"{
///     "face_skin_metrics_3": {
///         "image_batch_id": "5243ab6a-bd30-4932-b98c-45e43edfdc36",
///         "all_algorithms_calculated": true,
///         "parameters": {"age": {"tag": "Good", "score": 31}}
///     }
/// }"#)?;
/// assert!(results.is_complete());
/// assert_eq!(results.parameter("age").and_then(|p| p.score()), Some(31.0));
/// assert_eq!(results.batch_id().to_string(), "5243ab6a-bd30-4932-b98c-45e43edfdc36");
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Clone, PartialEq, Default)]
pub struct BatchResults {
    batch_id: Uuid,
    applications: BTreeMap<String, Analysis>,
}

impl BatchResults {
    /// Results of `batch_id` made of these analyses.
    pub fn new(batch_id: Uuid, applications: BTreeMap<String, Analysis>) -> Self {
        BatchResults { batch_id, applications }
    }

    /// These results, for `batch_id` (the id of the request, which an empty answer lacks).
    pub(crate) fn for_batch(self, batch_id: Uuid) -> Self {
        BatchResults { batch_id, ..self }
    }

    /// The batch these results belong to.
    pub fn batch_id(&self) -> Uuid {
        self.batch_id
    }

    /// Every application's analysis, keyed by tech name.
    pub fn applications(&self) -> &BTreeMap<String, Analysis> {
        &self.applications
    }

    /// The analysis of the application `tech_name`.
    pub fn application(&self, tech_name: &str) -> Option<&Analysis> {
        self.applications.get(tech_name)
    }

    /// The Face Skin Analysis 3.0 entry ([`FACE_SKIN_METRICS_3`]).
    pub fn face_skin_metrics(&self) -> Option<&Analysis> {
        self.application(FACE_SKIN_METRICS_3)
    }

    /// The parameters of Face Skin Analysis 3.0: none when the analysis is absent (ask
    /// [`face_skin_metrics`](Self::face_skin_metrics)`().is_none()` to tell).
    ///
    /// ```no_run
    /// # let results: hautai::BatchResults = unimplemented!();
    /// for (name, parameter) in results.parameters().iter() {
    ///     println!("{name}: {}", parameter.tag().unwrap_or("-"));
    /// }
    /// ```
    pub fn parameters(&self) -> &Parameters {
        self.face_skin_metrics().map_or(&super::parameters::NONE, |a| &a.parameters)
    }

    /// One parameter of Face Skin Analysis 3.0, e.g. `"age"` or `"redness"`.
    pub fn parameter(&self, name: &str) -> Option<&Parameter> {
        self.parameters().get(name)
    }

    /// Whether no application has reported anything yet (work has not started).
    pub fn is_empty(&self) -> bool {
        self.applications.is_empty()
    }

    /// Whether the results are final: at least one application, and every application
    /// reports `all_algorithms_calculated`.
    pub fn is_complete(&self) -> bool {
        !self.applications.is_empty() && self.applications.values().all(|a| a.all_algorithms_calculated)
    }

    /// Whether these results were invented by the crate's emulator (feature `emulator`)
    /// rather than computed by Haut.ai from the photos. Its analyses carry
    /// `"hautai_emulator": true` (kept in a saved `results.json`), so a program can say so
    /// wherever a person reads them: invented values must never pass for a patient's.
    ///
    /// ```
    /// let results: hautai::BatchResults = serde_json::from_value(serde_json::json!({
    ///     "face_skin_metrics_3": {"image_batch_id": "5243ab6a-bd30-4932-b98c-45e43edfdc36", "hautai_emulator": true}
    /// }))?;
    /// assert!(results.from_emulator());
    /// # Ok::<(), serde_json::Error>(())
    /// ```
    pub fn from_emulator(&self) -> bool {
        self.applications.values().any(Analysis::from_emulator)
    }

    /// The results as the API sent them, as indented JSON (read it back with
    /// `serde_json::from_str::<BatchResults>`). It holds the pictures' signed URLs, which
    /// let anyone who reads it fetch the face pictures until they expire: the `folder`
    /// feature's saves keep each URL without its query (the signature).
    pub fn to_json(&self) -> String {
        // Only string keys and JSON values: serializing cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Detection errors of every application, as `(side, message)` pairs.
    pub fn detection_errors(&self) -> Vec<(String, String)> {
        let mut all: Vec<(String, String)> = self
            .applications
            .values()
            .flat_map(|a| a.detection_errors.iter().map(|(k, v)| (k.clone(), v.clone())))
            .collect();
        all.sort();
        all.dedup();
        all
    }
}

/// The field the emulator adds to each analysis it invents.
pub(crate) const EMULATOR_MARK: &str = "hautai_emulator";

impl Serialize for BatchResults {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.applications.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for BatchResults {
    /// Reads the API's object; the batch id is taken from the analyses' `image_batch_id`.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let applications = applications(deserializer)?;
        let batch_id = applications
            .values()
            .find_map(|a| a.image_batch_id.as_deref().and_then(|id| Uuid::parse_str(id).ok()))
            .unwrap_or_default();
        Ok(BatchResults { batch_id, applications })
    }
}

/// One application's analysis of a batch (also one element of a subject's history).
#[derive(Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Analysis {
    /// The batch (typed "text" by the API; see [`Analysis::batch_uuid`]).
    #[serde(default, deserialize_with = "text")]
    pub image_batch_id: Option<String>,
    /// The subject (typed "text" by the API).
    #[serde(default, deserialize_with = "text")]
    pub subject_id: Option<String>,
    /// The computed parameters, by name.
    #[serde(default, deserialize_with = "null_as_default")]
    pub parameters: Parameters,
    /// Answers to the survey attached to the batch, if any.
    #[serde(default, deserialize_with = "null_as_default")]
    pub survey_results: Vec<SurveyResult>,
    /// Whether every algorithm of the application has finished.
    #[serde(default, deserialize_with = "null_as_default")]
    pub all_algorithms_calculated: bool,
    /// The application's id.
    #[serde(default, deserialize_with = "text")]
    pub sc_app_id: Option<String>,
    /// Whether predicted images may be shown.
    #[serde(default, deserialize_with = "null_as_default")]
    pub can_watch_predicted_images: bool,
    /// Processed photos per side (signed URLs that expire).
    #[serde(default, deserialize_with = "map_without_nulls")]
    pub predicted_images: BTreeMap<String, PredictedImages>,
    /// Photos the service could not use: side → explanation. Empty when all were usable.
    #[serde(default, deserialize_with = "text_map")]
    pub detection_errors: BTreeMap<String, String>,
    /// Fields this version of the crate does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Analysis {
    /// [`image_batch_id`](Self::image_batch_id) as a UUID, when it is one.
    pub fn batch_uuid(&self) -> Option<Uuid> {
        self.image_batch_id.as_deref().and_then(|id| Uuid::parse_str(id).ok())
    }

    /// Whether the emulator (feature `emulator`) invented this analysis (see
    /// [`BatchResults::from_emulator`]).
    pub fn from_emulator(&self) -> bool {
        self.extra.get(EMULATOR_MARK) == Some(&Value::Bool(true))
    }

    /// [`subject_id`](Self::subject_id) as a UUID, when it is one.
    pub fn subject_uuid(&self) -> Option<Uuid> {
        self.subject_id.as_deref().and_then(|id| Uuid::parse_str(id).ok())
    }
}

/// One answer of a survey.
#[derive(Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SurveyResult {
    /// The question.
    pub question: Option<String>,
    /// The answer.
    pub answer: Option<String>,
    /// When it was answered (ISO 8601).
    pub created_at: Option<String>,
}

/// Processed versions of one side's photo (signed URLs that expire; fetch results again for
/// fresh ones).
#[derive(Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PredictedImages {
    /// The photo as uploaded.
    pub original: Option<String>,
    /// The photo with the face anonymised.
    pub anonymised: Option<String>,
    /// The face cropped and aligned.
    pub aligned_face: Option<String>,
    /// Other versions this crate does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

debug_scrubbed!(BatchResults, Analysis, PredictedImages, SurveyResult);
