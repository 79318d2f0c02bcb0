//! The parameters of an analysis: an open set by name, each an object of any JSON with
//! accessors for what is known of it.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use super::debug_scrubbed;

/// Parameters whose tag is a category (a skin type, a tone), not a grade: show the tag as
/// text, without the score (a bar or a number would mean nothing).
///
/// ```
/// assert!(hautai::model::CATEGORIES.contains(&"skin_type"));
/// ```
pub const CATEGORIES: [&str; 2] = ["skin_type", "skintone"];

/// The parameters of an analysis by name (`age`, `redness`, `pores`, ...): an open set,
/// since which parameters appear depends on the account.
#[derive(Clone, PartialEq, Default, Serialize)]
#[serde(transparent)]
pub struct Parameters(BTreeMap<String, Parameter>);

/// Each parameter knows its name (so that it can say whether it is a category).
impl<'de> Deserialize<'de> for Parameters {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut parameters = BTreeMap::<String, Parameter>::deserialize(deserializer)?;
        for (name, parameter) in &mut parameters {
            parameter.name.clone_from(name);
        }
        Ok(Parameters(parameters))
    }
}

/// No parameters: what an analysis that is absent has.
pub(crate) static NONE: Parameters = Parameters(BTreeMap::new());

impl Parameters {
    /// The parameter `name`.
    pub fn get(&self, name: &str) -> Option<&Parameter> {
        self.0.get(name)
    }

    /// Every parameter, sorted by name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Parameter)> {
        self.0.iter().map(|(name, p)| (name.as_str(), p))
    }

    /// The names present, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }

    /// How many parameters there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<'a> IntoIterator for &'a Parameters {
    type Item = (&'a String, &'a Parameter);
    type IntoIter = std::collections::btree_map::Iter<'a, String, Parameter>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

/// One computed parameter: an object with at least a `tag` and usually a `score`; other
/// fields depend on the parameter. Any JSON is accepted, so a new shape never fails
/// decoding. As far as the documentation and code that runs against the service show:
///
/// * `tag`: a text grade, e.g. `"Good"`, `"Average"`, `"Poor"`; for `skintone` and
///   `skin_type`, the category itself (`"Medium"`, `"Combination"`).
/// * `score`: a rating from 0 to 100 of the parameter: [`score`](Self::score).
/// * `grade`: a small whole number (1 to 5 in the emulator): `number("grade")`.
/// * `age` and `eyes_age` carry the estimated age **in years** in a field named like the
///   parameter: [`years`](Self::years). Their `score` is a rating, not an age.
/// * `areas` (per facial region), `masks` (per side, signed image URLs), and for some
///   parameters `amount` or `density`: [`field`](Self::field) or [`number`](Self::number).
///
/// ```
/// let p: hautai::Parameter = serde_json::from_str(r#"{"tag": "Good", "score": 87.5, "amount": 3}"#)?;
/// assert_eq!(p.tag(), Some("Good"));
/// assert_eq!(p.score(), Some(87.5));
/// assert_eq!(p.number("amount"), Some(3.0));
/// assert!(p.field("masks").is_none());
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Clone, PartialEq, Default)]
pub struct Parameter {
    /// The name the analysis keys it by; empty for a parameter decoded on its own.
    name: String,
    value: Value,
}

impl Serialize for Parameter {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.value.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Parameter {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Parameter { name: String::new(), value: Value::deserialize(deserializer)? })
    }
}

impl Parameter {
    /// Its name, as the analysis keys it (`"skin_type"`); empty for a parameter decoded
    /// on its own, outside its analysis.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether its tag is a category (a skin type, a tone: [`CATEGORIES`]), not a grade:
    /// show the tag as text, without the score.
    ///
    /// ```
    /// let results: hautai::BatchResults = serde_json::from_str(
    ///     r#"{"face_skin_metrics_3": {"all_algorithms_calculated": true, "parameters": {
    ///         "skin_type": {"tag": "Oily", "score": 40}, "redness": {"tag": "Good", "score": 80}}}}"#,
    /// )?;
    /// let categories: Vec<&str> =
    ///     results.parameters().iter().filter(|(_, p)| p.is_category()).map(|(_, p)| p.tag().unwrap_or("")).collect();
    /// assert_eq!(categories, ["Oily"]);
    /// # Ok::<(), serde_json::Error>(())
    /// ```
    pub fn is_category(&self) -> bool {
        CATEGORIES.contains(&self.name.as_str())
    }

    /// The text grade, e.g. `"Good"`.
    pub fn tag(&self) -> Option<&str> {
        self.field("tag")?.as_str()
    }

    /// The score: a rating from 0 to 100 (for `age`, a rating too: the years are
    /// [`years`](Self::years)).
    pub fn score(&self) -> Option<f64> {
        self.number("score")
    }

    /// The estimated age in years, for the `age` and `eyes_age` parameters (their field
    /// named like them); `None` for the others. Not the [`score`](Self::score), which is a
    /// 0–100 rating for these too.
    ///
    /// ```
    /// let age: hautai::Parameter = serde_json::from_str(r#"{"tag": "Good", "score": 89.3, "age": 59}"#)?;
    /// assert_eq!((age.years(), age.score()), (Some(59.0), Some(89.3)));
    /// # Ok::<(), serde_json::Error>(())
    /// ```
    pub fn years(&self) -> Option<f64> {
        self.number("age").or_else(|| self.number("eyes_age"))
    }

    /// The field `name` as a number (numbers written as strings are read too).
    pub fn number(&self, name: &str) -> Option<f64> {
        match self.field(name)? {
            Value::Number(n) => n.as_f64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    /// The field `name`, any JSON.
    pub fn field(&self, name: &str) -> Option<&Value> {
        self.value.as_object()?.get(name)
    }

    /// The whole parameter as JSON.
    pub fn as_json(&self) -> &Value {
        &self.value
    }
}

debug_scrubbed!(Parameters, Parameter);
