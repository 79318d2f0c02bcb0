//! The two query types, their builders and their one encoding: unset fields are not sent.

use uuid::Uuid;

use crate::util::url::query_string;

/// Options of the results endpoint. Unset options are not sent, so the server's defaults
/// apply: signed URLs valid 3600 s, masks included, as SVG.
///
/// ```
/// use hautai::model::ResultsQuery;
/// let small = ResultsQuery::new().with_masks(false);
/// let short_lived = ResultsQuery::new().expiration_seconds(600);
/// # let _ = (small, short_lived);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ResultsQuery {
    /// How long signed URLs in the answer stay valid, in seconds.
    pub expiration_seconds: Option<u32>,
    /// Whether masks are included.
    pub with_masks: Option<bool>,
    /// Whether masks come as SVG images.
    pub svg_masks: Option<bool>,
}

impl ResultsQuery {
    /// The server's defaults.
    pub fn new() -> Self {
        Self::default()
    }
    /// Sets how long signed URLs stay valid.
    pub fn expiration_seconds(mut self, seconds: u32) -> Self {
        self.expiration_seconds = Some(seconds);
        self
    }
    /// Includes masks or not.
    pub fn with_masks(mut self, with: bool) -> Self {
        self.with_masks = Some(with);
        self
    }
    /// Returns masks as SVG or not.
    pub fn svg_masks(mut self, svg: bool) -> Self {
        self.svg_masks = Some(svg);
        self
    }

    /// The encoded query (without `?`).
    pub(crate) fn encode(&self) -> String {
        encode([
            ("expiration_seconds", self.expiration_seconds.map(|s| s.to_string())),
            ("with_masks", self.with_masks.map(|m| m.to_string())),
            ("svg_masks", self.svg_masks.map(|s| s.to_string())),
        ])
    }
}

/// Filters, ordering and paging of the batch list. Unset fields are not sent.
///
/// ```
/// use hautai::model::BatchQuery;
/// let query = BatchQuery::new().ordering("-creation_time").page_size(50);
/// # let _ = query;
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct BatchQuery {
    /// The field to order by (prefix `-` for descending).
    pub ordering: Option<String>,
    /// A search term.
    pub q: Option<String>,
    /// The page number (1-based).
    pub page: Option<u32>,
    /// Items per page (at least 1).
    pub page_size: Option<u32>,
    /// Only batches of this dataset.
    pub dataset_id: Option<Uuid>,
    /// Only batches of this subject.
    pub subject_id: Option<Uuid>,
}

impl BatchQuery {
    /// No filter: every batch of the company.
    pub fn new() -> Self {
        Self::default()
    }
    /// Orders by `field` (prefix `-` for descending).
    pub fn ordering(mut self, field: impl Into<String>) -> Self {
        self.ordering = Some(field.into());
        self
    }
    /// Filters by a search term.
    pub fn q(mut self, term: impl Into<String>) -> Self {
        self.q = Some(term.into());
        self
    }
    /// Requests page `page` (1-based).
    pub fn page(mut self, page: u32) -> Self {
        self.page = Some(page);
        self
    }
    /// Requests `size` items per page.
    pub fn page_size(mut self, size: u32) -> Self {
        self.page_size = Some(size);
        self
    }
    /// Only batches of `dataset_id`.
    pub fn dataset_id(mut self, dataset_id: Uuid) -> Self {
        self.dataset_id = Some(dataset_id);
        self
    }
    /// Only batches of `subject_id`.
    pub fn subject_id(mut self, subject_id: Uuid) -> Self {
        self.subject_id = Some(subject_id);
        self
    }

    /// The encoded query (without `?`), or why it cannot be sent: page numbers and sizes
    /// start at 1.
    pub(crate) fn encode(&self) -> Result<String, &'static str> {
        if self.page == Some(0) || self.page_size == Some(0) {
            return Err("page and page_size start at 1");
        }
        Ok(encode([
            ("ordering", self.ordering.clone()),
            ("q", self.q.clone()),
            ("page", self.page.map(|p| p.to_string())),
            ("page_size", self.page_size.map(|p| p.to_string())),
            ("dataset_id", self.dataset_id.map(|d| d.to_string())),
            ("subject_id", self.subject_id.map(|s| s.to_string())),
        ]))
    }
}

/// The pairs that are set, encoded.
fn encode<const N: usize>(pairs: [(&str, Option<String>); N]) -> String {
    let set: Vec<(&str, String)> = pairs.into_iter().filter_map(|(key, value)| Some((key, value?))).collect();
    query_string(&set)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_set_fields_are_sent() {
        assert_eq!(ResultsQuery::new().encode(), "");
        let results = ResultsQuery::new().with_masks(false).expiration_seconds(60).svg_masks(true);
        assert_eq!(results.encode(), "expiration_seconds=60&with_masks=false&svg_masks=true");
        assert_eq!(BatchQuery::new().encode().unwrap(), "");
        assert_eq!(BatchQuery::new().q("a b").page(2).encode().unwrap(), "q=a%20b&page=2");
        assert!(BatchQuery::new().page_size(0).encode().is_err());
    }
}
