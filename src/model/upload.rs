use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use super::lenient::{text_map, uuid_or_none};
use super::side::BySide;
use super::{Side, debug_scrubbed};

/// The body of "initiate upload": a name per side to upload, plus optional metadata.
///
/// ```
/// use hautai::Side;
/// use hautai::model::InitiateUpload;
///
/// let request = InitiateUpload::new()
///     .name(Side::Front, "front.jpg")
///     .meta(hautai::json!({"visit": 3}));
/// assert_eq!(request.sides(), vec![Side::Front]);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct InitiateUpload {
    /// The name of each image (1..=255 characters): `front`, `left`, `right` in JSON.
    #[serde(flatten)]
    names: BySide<String>,
    /// Any JSON to store with the batch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub meta: Option<Value>,
    /// When the photos were taken (an ISO 8601 date-time).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub creation_time: Option<String>,
}

impl InitiateUpload {
    /// A request with no side yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Requests an upload target for `side`, naming the image `name`.
    pub fn name(mut self, side: Side, name: impl Into<String>) -> Self {
        self.names.set(side, name.into());
        self
    }

    /// Stores `meta` with the batch.
    pub fn meta(mut self, meta: Value) -> Self {
        self.meta = Some(meta);
        self
    }

    /// Records when the photos were taken (ISO 8601, e.g. `2026-11-28T10:00:00Z`).
    pub fn creation_time(mut self, time: impl Into<String>) -> Self {
        self.creation_time = Some(time.into());
        self
    }

    /// The sides requested, in API order.
    pub fn sides(&self) -> Vec<Side> {
        self.names.iter().map(|(side, _)| side).collect()
    }

    /// The name given for `side`.
    pub fn get(&self, side: Side) -> Option<&str> {
        self.names.get(side).map(String::as_str)
    }
}

/// The answer of "initiate upload": a signed upload target per requested side and the id
/// of the new batch.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct UploadTargets {
    /// The target of each requested side: `front`, `left`, `right` in JSON.
    #[serde(flatten)]
    targets: BySide<UploadTarget>,
    /// The batch the images belong to: keep it to fetch results later.
    pub image_batch_id: Uuid,
}

impl UploadTargets {
    /// The target for `side`, if it was requested.
    pub fn get(&self, side: Side) -> Option<&UploadTarget> {
        self.targets.get(side)
    }

    /// The targets present, in API order.
    pub fn iter(&self) -> impl Iterator<Item = (Side, &UploadTarget)> {
        self.targets.iter()
    }
}

/// Where and how to upload one image: a signed URL, its method and the headers that were
/// signed with it. Give it to [`Session::upload_image`](crate::Session::upload_image).
///
/// The URL is a bearer credential: `Debug` hides its signature and credential values.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct UploadTarget {
    /// The signed URL.
    pub url: String,
    /// The HTTP method, `PUT` (also when the answer leaves it out or `null`).
    #[serde(default = "put", deserialize_with = "method_or_put")]
    pub method: String,
    /// The headers to send with exactly these values (the signature covers them).
    #[serde(default, deserialize_with = "text_map")]
    pub headers: BTreeMap<String, String>,
    /// The content type the upload must declare.
    pub content_type: Option<String>,
    /// The id of the image this upload creates (`None` when absent or not a UUID).
    #[serde(default, deserialize_with = "uuid_or_none")]
    pub id: Option<Uuid>,
}

fn put() -> String {
    "PUT".to_owned()
}

fn method_or_put<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    Ok(Option::<String>::deserialize(deserializer)?.unwrap_or_else(put))
}

impl UploadTarget {
    /// The header `name` (any letter case), if the target lists it.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The byte range storage accepts, from `X-Goog-Content-Length-Range: min,max`.
    pub fn content_length_range(&self) -> Option<(u64, u64)> {
        let (min, max) = self.header("x-goog-content-length-range")?.split_once(',')?;
        Some((min.trim().parse().ok()?, max.trim().parse().ok()?))
    }
}

debug_scrubbed!(UploadTargets, UploadTarget);
