//! Batches: compute, results, info, and the paginated list.

use std::collections::BTreeMap;

use serde_json::Value;
use uuid::Uuid;

use super::Pages;
use crate::error::{Error, Result};
use crate::model::{BatchInfo, BatchResults, BatchSummary, Page, ResultsQuery};
use crate::observe::CallContext;
use crate::session::Session;
use crate::transport::query_string;

impl Session {
    /// Starts the computation of a batch whose images are all uploaded
    /// (`POST /api/v3/companies/{company_id}/batches/{batch_id}/compute/`).
    ///
    /// The body is `{"app_args": <app_args>}`, with `{}` when `None` (some accounts reject
    /// `null`). Any 2xx answer is success. Compute is never retried after an ambiguous
    /// failure (it could bill twice): see [`RetryPolicy`](crate::RetryPolicy).
    ///
    /// ```no_run
    /// # let session = hautai::Session::from_env()?;
    /// # let batch_id = uuid::Uuid::nil();
    /// session.compute(batch_id, None)?;
    /// # Ok::<(), hautai::Error>(())
    /// ```
    pub fn compute(&self, batch_id: Uuid, app_args: Option<Value>) -> Result<()> {
        self.compute_in(batch_id, app_args, &CallContext::plain())
    }

    pub(crate) fn compute_in(&self, batch_id: Uuid, app_args: Option<Value>, ctx: &CallContext<'_>) -> Result<()> {
        let body = serde_json::json!({ "app_args": app_args.unwrap_or_else(|| serde_json::json!({})) });
        let path = self.company_path(&format!("/batches/{batch_id}/compute/"));
        self.post_json("POST compute", path, &body, ctx)?;
        Ok(())
    }

    /// The results of a batch, complete or not
    /// (`GET /api/v3/companies/{company_id}/batches/{batch_id}/results/`).
    ///
    /// An empty answer means the work has not started; check
    /// [`BatchResults::is_complete`]. To wait for completion use
    /// [`wait_for_results`](Session::wait_for_results).
    ///
    /// ```no_run
    /// use hautai::ResultsQuery;
    /// # let session = hautai::Session::from_env()?;
    /// # let batch_id = uuid::Uuid::nil();
    /// let results = session.results(batch_id, &ResultsQuery::new().with_masks(false))?;
    /// if results.is_complete() {
    ///     println!("{:?}", results.parameter("redness").and_then(|p| p.tag()));
    /// }
    /// # Ok::<(), hautai::Error>(())
    /// ```
    pub fn results(&self, batch_id: Uuid, query: &ResultsQuery) -> Result<BatchResults> {
        self.results_in(batch_id, query, &CallContext::plain())
    }

    pub(crate) fn results_in(
        &self,
        batch_id: Uuid,
        query: &ResultsQuery,
        ctx: &CallContext<'_>,
    ) -> Result<BatchResults> {
        let path = self.company_path(&format!("/batches/{batch_id}/results/"));
        let mut pairs = Vec::new();
        if let Some(seconds) = query.expiration_seconds {
            pairs.push(("expiration_seconds", seconds.to_string()));
        }
        if let Some(masks) = query.with_masks {
            pairs.push(("with_masks", masks.to_string()));
        }
        if let Some(svg) = query.svg_masks {
            pairs.push(("svg_masks", svg.to_string()));
        }
        let reply = self.get("GET batch results", path, query_string(&pairs), ctx)?;
        // The seed documents the answer as possibly empty: that means "not started".
        if reply.body.iter().all(u8::is_ascii_whitespace) {
            return Ok(BatchResults::new(batch_id, BTreeMap::new()));
        }
        let results: BatchResults = self.decode("GET batch results", &reply.body)?;
        Ok(results.for_batch(batch_id))
    }

    /// A batch's images, subject and dataset
    /// (`GET /api/v3/companies/{company_id}/batches/{batch_id}/`).
    pub fn batch(&self, batch_id: Uuid) -> Result<BatchInfo> {
        let path = self.company_path(&format!("/batches/{batch_id}/"));
        self.get_json("GET batch info", path, String::new(), &CallContext::plain())
    }

    /// One page of the company's batches, filtered and ordered by `query`
    /// (`GET /api/v3/companies/{company_id}/batches/`). To walk every page, use
    /// [`batches`](Session::batches).
    pub fn list_batches(&self, query: &BatchQuery) -> Result<Page<BatchSummary>> {
        let path = self.company_path("/batches/");
        self.get_json("GET batch list", path, query.encode()?, &CallContext::plain())
    }

    /// Every batch matching `query`, page after page, as an iterator of items.
    ///
    /// Each `next` link's query is requested on this session's base URL (the token never
    /// goes to the host a link names). The iteration stops after the last page or at an
    /// empty page; an error is yielded once and ends it.
    ///
    /// ```no_run
    /// use hautai::BatchQuery;
    /// # let session = hautai::Session::from_env()?;
    /// # let subject_id = uuid::Uuid::nil();
    /// for batch in session.batches(&BatchQuery::new().subject_id(subject_id).page_size(100)) {
    ///     let batch = batch?;
    ///     println!("{} {:?}", batch.id, batch.creation_time);
    /// }
    /// # Ok::<(), hautai::Error>(())
    /// ```
    pub fn batches(&self, query: &BatchQuery) -> Pages<BatchSummary> {
        Pages::new(self.clone(), "GET batch list", self.company_path("/batches/"), query.encode())
    }
}

/// Filters, ordering and paging of the batch list. Unset fields are not sent.
///
/// ```
/// use hautai::BatchQuery;
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

    fn encode(&self) -> Result<String> {
        if self.page == Some(0) || self.page_size == Some(0) {
            return Err(Error::InvalidArgument("page and page_size start at 1".into()));
        }
        let mut pairs = Vec::new();
        let mut push = |key: &'static str, value: Option<String>| {
            if let Some(v) = value {
                pairs.push((key, v));
            }
        };
        push("ordering", self.ordering.clone());
        push("q", self.q.clone());
        push("page", self.page.map(|p| p.to_string()));
        push("page_size", self.page_size.map(|p| p.to_string()));
        push("dataset_id", self.dataset_id.map(|d| d.to_string()));
        push("subject_id", self.subject_id.map(|s| s.to_string()));
        Ok(query_string(&pairs))
    }
}
