use serde::{Deserialize, Serialize};

use super::lenient::null_as_default;

/// One page of a paginated list (Django REST framework's page-number pagination).
///
/// To walk every page, use the iterators such as
/// [`Session::batches`](crate::Session::batches), which follow `next` safely.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound(deserialize = "T: Deserialize<'de>"))]
#[non_exhaustive]
pub struct Page<T> {
    /// How many items the whole list has.
    #[serde(default, deserialize_with = "null_as_default")]
    pub count: u64,
    /// The absolute URL of the next page, `None` on the last page.
    pub next: Option<String>,
    /// The absolute URL of the previous page.
    pub previous: Option<String>,
    /// The items of this page.
    #[serde(default = "Vec::new", deserialize_with = "null_as_default")]
    pub results: Vec<T>,
}

impl<T: std::fmt::Debug> std::fmt::Debug for Page<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Links may carry signed queries.
        f.debug_struct("Page")
            .field("count", &self.count)
            .field("next", &self.next.as_deref().map(crate::util::redact::scrub))
            .field("previous", &self.previous.as_deref().map(crate::util::redact::scrub))
            .field("results", &self.results)
            .finish()
    }
}
