//! Request and response types of the API, as serde structs.
//!
//! Decoding is lenient, because the service adds fields without notice: unknown fields are
//! ignored (or kept in an `extra` map where they may matter), a field documented as
//! nullable may be `null` or absent, and lists and maps that arrive as `null` decode as
//! empty. Every type implements `Deserialize`, so tests can build them from JSON.

mod account;
mod asset_names;
mod assets;
mod batch;
mod page;
mod parameters;
mod query;
mod results;
mod side;
mod upload;

pub(crate) use account::LoginAnswer;
pub use account::{Dataset, NewSubject, PrivateToken, Secret, Subject};
pub use assets::Asset;
pub use batch::{BatchImage, BatchImageSummary, BatchInfo, BatchSummary, Lookup, NamedRef};
pub use page::Page;
pub use query::{BatchQuery, ResultsQuery};
#[cfg(feature = "emulator")]
pub(crate) use results::EMULATOR_MARK;
pub use results::{
    Analysis, BatchResults, CATEGORIES, FACE_SKIN_METRICS_3, Parameter, Parameters, PredictedImages, SurveyResult,
};
pub(crate) use side::BySide;
pub use side::Side;
pub use upload::{InitiateUpload, UploadTarget, UploadTargets};

pub use crate::api::Pages;

/// serde helpers for leniency.
pub(crate) mod lenient {
    use std::collections::BTreeMap;
    use std::fmt;

    use serde::de::{IgnoredAny, MapAccess, SeqAccess, Visitor};
    use serde::{Deserialize, Deserializer};
    use serde_json::Value;
    use uuid::Uuid;

    use super::Analysis;

    /// The results object: application tech name → analysis. `null` and an empty list
    /// (both seen for "not started") decode as no application.
    pub(crate) fn applications<'de, D>(deserializer: D) -> Result<BTreeMap<String, Analysis>, D::Error>
    where
        D: Deserializer<'de>,
    {
        struct Applications;
        impl<'de> Visitor<'de> for Applications {
            type Value = BTreeMap<String, Analysis>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object of analyses by application, null or an empty list")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut out = BTreeMap::new();
                while let Some((name, analysis)) = map.next_entry::<String, Option<Analysis>>()? {
                    out.extend(analysis.map(|a| (name, a)));
                }
                Ok(out)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                match seq.next_element::<IgnoredAny>()? {
                    None => Ok(BTreeMap::new()),
                    Some(_) => {
                        Err(serde::de::Error::custom("a non-empty list where the analyses by application belong"))
                    }
                }
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(BTreeMap::new())
            }
            fn visit_none<E>(self) -> Result<Self::Value, E> {
                Ok(BTreeMap::new())
            }
            fn visit_some<D2: Deserializer<'de>>(self, d: D2) -> Result<Self::Value, D2::Error> {
                d.deserialize_any(self)
            }
        }
        deserializer.deserialize_any(Applications)
    }

    /// A map whose entries may be `null` (a side without images, say): those are left out.
    pub(crate) fn map_without_nulls<'de, D, T>(deserializer: D) -> Result<BTreeMap<String, T>, D::Error>
    where
        D: Deserializer<'de>,
        T: Deserialize<'de>,
    {
        let raw = Option::<BTreeMap<String, Option<T>>>::deserialize(deserializer)?.unwrap_or_default();
        Ok(raw.into_iter().filter_map(|(key, value)| value.map(|v| (key, v))).collect())
    }

    /// A field the API types as "text" that may come as a number or a boolean: written out
    /// as text; `null` is `None`.
    pub(crate) fn text<'de, D>(deserializer: D) -> Result<Option<String>, D::Error>
    where
        D: Deserializer<'de>,
    {
        Ok(match Option::<Value>::deserialize(deserializer)? {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s),
            Some(other) => Some(other.to_string()),
        })
    }

    /// An optional id: a UUID, or `None` for anything else (an id in another format
    /// must not fail a whole answer).
    pub(crate) fn uuid_or_none<'de, D>(deserializer: D) -> Result<Option<Uuid>, D::Error>
    where
        D: Deserializer<'de>,
    {
        let value = Option::<Value>::deserialize(deserializer)?;
        Ok(value.as_ref().and_then(Value::as_str).and_then(|s| Uuid::parse_str(s).ok()))
    }

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
                write!(f, "{} {}", stringify!($ty), crate::util::redact::scrub(&json.unwrap_or_default()))
            }
        }
    )+};
}
pub(crate) use debug_scrubbed;
