//! Request and response types of the API, as serde structs.
//!
//! Decoding is lenient, because the service adds fields without notice: unknown fields are
//! ignored (or kept in an `extra` map where they may matter), a field documented as
//! nullable may be `null` or absent, and lists and maps that arrive as `null` decode as
//! empty. Every type implements `Deserialize`, so tests can build them from JSON.

mod account;
mod batch;
mod page;
mod results;
mod side;
mod upload;

pub(crate) use account::LoginAnswer;
pub use account::{Dataset, NewSubject, PrivateToken, Secret, Subject};
pub use batch::{BatchImage, BatchImageSummary, BatchInfo, BatchSummary, Lookup, NamedRef};
pub use page::Page;
pub use results::{
    Analysis, BatchResults, FACE_SKIN_METRICS_3, Parameter, Parameters, PredictedImages, ResultsQuery, SurveyResult,
};
pub use side::Side;
pub use upload::{InitiateUpload, UploadTarget, UploadTargets};

/// serde helpers for leniency.
pub(crate) mod lenient {
    use std::collections::BTreeMap;

    use serde::{Deserialize, Deserializer};
    use serde_json::Value;

    /// `null` (or absence, with `#[serde(default)]`) decodes as the type's default.
    pub(crate) fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
    where
        D: Deserializer<'de>,
        T: Deserialize<'de> + Default,
    {
        Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
    }

    /// A map whose values the API types as "text" but may send as any JSON: strings are
    /// kept, numbers and booleans written out, `null`s dropped.
    pub(crate) fn text_map<'de, D>(deserializer: D) -> Result<BTreeMap<String, String>, D::Error>
    where
        D: Deserializer<'de>,
    {
        let raw = Option::<BTreeMap<String, Value>>::deserialize(deserializer)?.unwrap_or_default();
        Ok(raw
            .into_iter()
            .filter_map(|(key, value)| match value {
                Value::Null => None,
                Value::String(s) => Some((key, s)),
                other => Some((key, other.to_string())),
            })
            .collect())
    }
}

/// `Debug` for models that hold signed URLs: the JSON form, scrubbed of signatures.
macro_rules! debug_scrubbed {
    ($($ty:ident),+ $(,)?) => {$(
        impl std::fmt::Debug for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                let json = if f.alternate() { serde_json::to_string_pretty(self) } else { serde_json::to_string(self) };
                write!(f, "{} {}", stringify!($ty), crate::redact::scrub(&json.unwrap_or_default()))
            }
        }
    )+};
}
pub(crate) use debug_scrubbed;
