//! Batches: compute, results, info, and the paginated list.

use std::collections::BTreeMap;

use serde_json::Value;
use uuid::Uuid;

use super::{Endpoint, Pages, decode, endpoint};
use crate::call::CallContext;
use crate::error::{Error, ErrorKind, Result};
use crate::model::{Analysis, BatchInfo, BatchQuery, BatchResults, BatchSummary, Page, ResultsQuery};
use crate::session::Session;
use crate::transport::Payload;

const COMPUTE: Endpoint = endpoint!(POST "compute");
const RESULTS: Endpoint = endpoint!(GET "batch results");
const BATCH_INFO: Endpoint = endpoint!(GET "batch info");
const BATCH_LIST: Endpoint = endpoint!(GET "batch list");

impl Session {
    /// Starts the computation of a batch whose images are all uploaded
    /// (`POST /api/v3/companies/{company_id}/batches/{batch_id}/compute/`).
    ///
    /// The body is `{"app_args": <app_args>}`, with `{}` when `None` (some accounts reject
    /// `null`). Any 2xx answer is success. Compute is never retried after an ambiguous
    /// failure (it could bill twice): see [`RetryPolicy`](crate::config::RetryPolicy).
    ///
    /// ```no_run
    /// # let session = hautai::Session::from_env()?;
    /// # let batch_id = hautai::Uuid::nil();
    /// session.compute(batch_id, None)?;
    /// # Ok::<(), hautai::Error>(())
    /// ```
    pub fn compute(&self, batch_id: Uuid, app_args: Option<Value>) -> Result<()> {
        self.compute_in(batch_id, app_args, &CallContext::plain())
    }

    pub(crate) fn compute_in(&self, batch_id: Uuid, app_args: Option<Value>, ctx: &CallContext<'_>) -> Result<()> {
        let body = serde_json::json!({ "app_args": app_args.unwrap_or_else(|| serde_json::json!({})) });
        let path = self.company_path(&format!("/batches/{batch_id}/compute/"));
        self.post_json(&COMPUTE, path, &body, ctx)?;
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
    /// use hautai::model::ResultsQuery;
    /// # let session = hautai::Session::from_env()?;
    /// # let batch_id = hautai::Uuid::nil();
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
        let reply = self.call(&RESULTS, path, query.encode(), Payload::None, ctx)?;
        // The seed documents the answer as possibly empty: that means "not started".
        if reply.body.iter().all(u8::is_ascii_whitespace) {
            return Ok(BatchResults::new(batch_id, BTreeMap::new()));
        }
        let results: BatchResults = decode(&RESULTS, &reply.body)?;
        // An answer for another batch (a caching proxy, a server bug) must never pass for
        // this one's: one patient's values would be shown as another's.
        let other = results.applications().values().filter_map(Analysis::batch_uuid).find(|id| *id != batch_id);
        if let Some(other) = other {
            return Err(ErrorKind::Decode {
                endpoint: RESULTS.label,
                reason: format!(
                    "the answer is for batch {other}, not batch {batch_id} that was asked for: \
                     refused, so that no batch is given another's results"
                ),
                excerpt: String::new(),
            }
            .into());
        }
        Ok(results.for_batch(batch_id))
    }

    /// A batch's images, subject and dataset
    /// (`GET /api/v3/companies/{company_id}/batches/{batch_id}/`).
    pub fn batch(&self, batch_id: Uuid) -> Result<BatchInfo> {
        let path = self.company_path(&format!("/batches/{batch_id}/"));
        self.get_json(&BATCH_INFO, path, String::new(), &CallContext::plain())
    }

    /// One page of the company's batches, filtered and ordered by `query`
    /// (`GET /api/v3/companies/{company_id}/batches/`). To walk every page, use
    /// [`batches`](Session::batches).
    pub fn list_batches(&self, query: &BatchQuery) -> Result<Page<BatchSummary>> {
        let path = self.company_path("/batches/");
        self.get_json(&BATCH_LIST, path, encoded(query)?, &CallContext::plain())
    }

    /// Every batch matching `query`, page after page, as an iterator of items.
    ///
    /// Each `next` link's query is requested on this session's base URL (the token never
    /// goes to the host a link names). The iteration stops after the last page or at an
    /// empty page; an error is yielded once and ends it.
    ///
    /// ```no_run
    /// use hautai::model::BatchQuery;
    /// # let session = hautai::Session::from_env()?;
    /// # let subject_id = hautai::Uuid::nil();
    /// for batch in session.batches(&BatchQuery::new().subject_id(subject_id).page_size(100)) {
    ///     let batch = batch?;
    ///     println!("{} {:?}", batch.id, batch.creation_time);
    /// }
    /// # Ok::<(), hautai::Error>(())
    /// ```
    pub fn batches(&self, query: &BatchQuery) -> Pages<BatchSummary> {
        Pages::new(self.clone(), &BATCH_LIST, self.company_path("/batches/"), encoded(query))
    }
}

/// The batch list's query, checked.
fn encoded(query: &BatchQuery) -> Result<String> {
    query.encode().map_err(|problem| Error::from(ErrorKind::InvalidArgument(problem.into())))
}
