use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::debug_scrubbed;
use crate::util::redact;

/// A secret (a token's value): `Debug` shows `<redacted>`; read it with
/// [`expose`](Secret::expose) when you mean to.
///
/// ```
/// let secret: hautai::model::Secret = serde_json::from_str(r#""pt_live_abc""#)?;
/// assert_eq!(format!("{secret:?}"), "<redacted>");
/// assert_eq!(secret.expose(), "pt_live_abc");
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub(crate) fn new(value: String) -> Secret {
        Secret(value)
    }

    /// The secret's value. Keep it out of logs.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Secret)
    }
}

impl Serialize for Secret {
    /// Writes the value: serializing is a deliberate act, unlike `Debug`.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

/// A private token: the long-lived credential meant for servers. `Debug` never shows its
/// value.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PrivateToken {
    /// The token's id (to revoke it).
    pub id: i64,
    /// Its name.
    pub name: Option<String>,
    /// When it expires (RFC 3339).
    pub expiration_time: Option<String>,
    /// The token itself: only in the answer of its creation, never in lists.
    pub data: Option<Secret>,
}

/// A dataset: the container of subjects.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Dataset {
    /// The dataset id.
    pub id: Uuid,
    /// Its name.
    pub name: Option<String>,
    /// Fields this version of the crate does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A subject: one real person, whose photos are analysed.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Subject {
    /// The subject id (the `subject_id` of uploads).
    pub id: Uuid,
    /// Its name.
    pub name: Option<String>,
    /// When it was created (ISO 8601).
    pub creation_time: Option<String>,
    /// The company, as the API gives it (an id, or an object with one).
    pub company: Option<Value>,
    /// The dataset, as the API gives it (an id, or an object with one).
    pub dataset: Option<Value>,
    /// The birth date, if recorded (ISO 8601 date).
    pub birth_date: Option<String>,
    /// The biological sex, if recorded.
    pub biological_sex: Option<String>,
    /// Metadata.
    pub meta: Option<Value>,
    /// Fields this version of the crate does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl fmt::Debug for PrivateToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Not the JSON form, which would write the secret's value.
        f.debug_struct("PrivateToken")
            .field("id", &self.id)
            .field("name", &self.name.as_deref().map(redact::scrub))
            .field("expiration_time", &self.expiration_time.as_deref().map(redact::scrub))
            .field("data", &self.data)
            .finish()
    }
}

debug_scrubbed!(Dataset, Subject);

impl Subject {
    /// The dataset's id, whether the API gave an id or an object with one.
    pub fn dataset_id(&self) -> Option<Uuid> {
        let value = self.dataset.as_ref()?;
        let id = value.as_str().or_else(|| value.get("id")?.as_str())?;
        Uuid::parse_str(id).ok()
    }
}

/// A subject to create (see [`Session::create_subject`](crate::Session::create_subject)).
///
/// ```
/// let subject = hautai::model::NewSubject::new("patient-0042").birth_date("1990-04-01").biological_sex("female");
/// # let _ = subject;
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct NewSubject {
    /// Its name (1..=512 characters): prefer a pseudonym to a patient's name.
    pub name: String,
    /// The birth date (ISO 8601 date), or `null`.
    pub birth_date: Option<String>,
    /// The biological sex, or `null`.
    pub biological_sex: Option<String>,
    /// Metadata, or `null`.
    pub meta: Option<Value>,
}

impl NewSubject {
    /// A subject named `name`, nothing else recorded.
    pub fn new(name: impl Into<String>) -> Self {
        NewSubject { name: name.into(), birth_date: None, biological_sex: None, meta: None }
    }
    /// Records the birth date (ISO 8601 date).
    pub fn birth_date(mut self, date: impl Into<String>) -> Self {
        self.birth_date = Some(date.into());
        self
    }
    /// Records the biological sex.
    pub fn biological_sex(mut self, sex: impl Into<String>) -> Self {
        self.biological_sex = Some(sex.into());
        self
    }
    /// Attaches metadata.
    pub fn meta(mut self, meta: Value) -> Self {
        self.meta = Some(meta);
        self
    }
}

/// The answer of a login (kept private to the crate: its tokens must not be printed).
#[derive(Deserialize)]
pub(crate) struct LoginAnswer {
    pub(crate) company_id: Uuid,
    pub(crate) access_token: Option<String>,
    pub(crate) token_access: Option<String>,
}
