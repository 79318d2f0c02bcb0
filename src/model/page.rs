use serde::{Deserialize, Serialize};

use super::lenient::null_as_default;

/// One page of a paginated list (Django REST framework's page-number pagination).
///
/// To walk every page, use the iterators such as
/// [`Session::batches`](crate::Session::batches), which follow `next` safely.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound(deserialize = "T: Deserialize<'de>"))]
#[non_exhaustive]
pub struct Page<T> {
    /// How many items the whole list has.
    #[serde(default, deserialize_with = "null_as_default")]
    pub count: u64,
    /// The absolute URL of the next page, `None` on the last page.
    #[serde(default)]
    pub next: Option<String>,
    /// The absolute URL of the previous page.
    #[serde(default)]
    pub previous: Option<String>,
    /// The items of this page.
    #[serde(default = "Vec::new", deserialize_with = "null_as_default")]
    pub results: Vec<T>,
}
