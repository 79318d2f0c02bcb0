use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::debug_scrubbed;
use super::lenient::{map_without_nulls, null_as_default, text_map, uuid_or_none};

/// The answer of "get batch info": the batch, its images by side, subject and dataset.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct BatchInfo {
    /// The batch id.
    pub id: Uuid,
    /// The images, keyed by side name (`front`, `left`, `right`).
    #[serde(default, deserialize_with = "map_without_nulls")]
    pub images: BTreeMap<String, BatchImage>,
    /// The subject the batch belongs to.
    pub subject: Option<NamedRef>,
    /// The dataset the batch belongs to.
    pub dataset: Option<NamedRef>,
    /// Tech names of the applications that process the batch.
    #[serde(default, deserialize_with = "null_as_default")]
    pub connected_applications: Vec<String>,
    /// When the batch was created (ISO 8601).
    pub created_at: Option<String>,
    /// The metadata given at initiate.
    pub meta: Option<Value>,
    /// Fields this version of the crate does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One image of a batch, as "get batch info" shows it.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct BatchImage {
    /// The image id.
    pub id: Uuid,
    /// The name given at initiate.
    pub name: Option<String>,
    /// When it was created (ISO 8601).
    pub created_at: Option<String>,
    /// A signed URL to download it, when the service provides one.
    pub signed_url: Option<String>,
    /// The original image, for derived images.
    #[serde(default, deserialize_with = "uuid_or_none")]
    pub original_image_id: Option<Uuid>,
    /// Metadata.
    pub meta: Option<Value>,
}

/// A reference to a subject or dataset: its id and name.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct NamedRef {
    /// The id.
    pub id: Uuid,
    /// The name.
    pub name: Option<String>,
}

/// One batch of the batch list.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct BatchSummary {
    /// The batch id.
    pub id: Uuid,
    /// When it was created (ISO 8601).
    pub creation_time: Option<String>,
    /// The subject, if any.
    #[serde(default, deserialize_with = "uuid_or_none")]
    pub subject_id: Option<Uuid>,
    /// Its images.
    #[serde(default, deserialize_with = "null_as_default")]
    pub images: Vec<BatchImageSummary>,
    /// Tech names of the applications that process the batch.
    #[serde(default, deserialize_with = "null_as_default")]
    pub connected_applications: Vec<String>,
    /// The metadata given at initiate.
    pub meta: Option<Value>,
}

/// One image in the batch list.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct BatchImageSummary {
    /// The image id.
    pub id: Uuid,
    /// The name given at initiate.
    pub name: Option<String>,
    /// The side, as a lookup entry.
    pub side: Option<Lookup>,
    /// The light the photo was taken in.
    pub light: Option<String>,
    /// The image type, as a lookup entry.
    pub image_type: Option<Lookup>,
    /// The side's display name.
    pub side_name: Option<String>,
    /// The side's tech name (`front`, `left`, `right`).
    pub side_tech_name: Option<String>,
    /// The light's display name.
    pub light_name: Option<String>,
    /// The light's tech name.
    pub light_tech_name: Option<String>,
    /// The image type's display name.
    pub image_type_name: Option<String>,
    /// The image type's tech name.
    pub image_type_tech_name: Option<String>,
    /// When the image was created (ISO 8601).
    pub creation_time: Option<String>,
    /// The quality score, when assessed.
    pub quality_score: Option<Value>,
    /// Quality feedback, when assessed.
    pub quality_feedback: Option<Value>,
    /// The quality result, when assessed.
    pub quality_result: Option<Value>,
    /// Quality issues found.
    #[serde(default, deserialize_with = "null_as_default")]
    pub quality_issues: Vec<Value>,
    /// Problems found.
    #[serde(default, deserialize_with = "null_as_default")]
    pub problems: Vec<Value>,
    /// The stage step, for staged flows.
    pub stage_step_number: Option<Value>,
    /// The stage, for staged flows.
    pub stage_number: Option<Value>,
    /// Download URLs by kind (signed; they expire).
    #[serde(default, deserialize_with = "text_map")]
    pub urls: BTreeMap<String, String>,
    /// A signed URL to download it, when provided.
    pub signed_url: Option<String>,
    /// The original image, for derived images.
    #[serde(default, deserialize_with = "uuid_or_none")]
    pub original_image_id: Option<Uuid>,
}

/// An entry of one of the service's lookup tables (sides, image types).
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Lookup {
    /// The entry's numeric id.
    pub id: Option<i64>,
    /// The display name.
    pub name: Option<String>,
    /// The tech name.
    pub tech_name: Option<String>,
}

debug_scrubbed!(BatchInfo, BatchImage, BatchSummary, BatchImageSummary, NamedRef, Lookup);
