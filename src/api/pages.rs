//! Walking a paginated list safely.

use std::collections::HashSet;

use serde::de::DeserializeOwned;

use super::Endpoint;
use crate::call::CallContext;
use crate::error::Result;
use crate::model::Page;
use crate::session::Session;
use crate::util::url::query_of;

/// An iterator over every item of a paginated list, fetching pages as it goes.
///
/// Each page's `next` link contributes only its query: the request goes to the same path
/// on the session's own base URL, so the token is never sent to a host that a link names.
/// The walk ends after a page without `next`, at an empty page, at a `next` that was
/// already visited, or after yielding an error.
#[must_use = "iterators do nothing unless consumed"]
pub struct Pages<T> {
    session: Session,
    endpoint: &'static Endpoint,
    path: String,
    /// The query of the next page to fetch; `None` when the walk is over.
    next: Option<Result<String>>,
    visited: HashSet<String>,
    items: std::vec::IntoIter<T>,
}

impl<T> Pages<T> {
    pub(crate) fn new(session: Session, endpoint: &'static Endpoint, path: String, first: Result<String>) -> Self {
        Pages { session, endpoint, path, next: Some(first), visited: HashSet::new(), items: Vec::new().into_iter() }
    }
}

impl<T> std::fmt::Debug for Pages<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pages").field("path", &self.path).field("done", &self.next.is_none()).finish()
    }
}

impl<T: DeserializeOwned> Iterator for Pages<T> {
    type Item = Result<T>;

    fn next(&mut self) -> Option<Result<T>> {
        loop {
            if let Some(item) = self.items.next() {
                return Some(Ok(item));
            }
            let query = match self.next.take()? {
                Ok(query) => query,
                Err(error) => return Some(Err(error)),
            };
            self.visited.insert(query.clone());
            let page: Page<T> =
                match self.session.get_json(self.endpoint, self.path.clone(), query, &CallContext::plain()) {
                    Ok(page) => page,
                    Err(error) => return Some(Err(error)),
                };
            if page.results.is_empty() {
                return None;
            }
            self.next = page.next.as_deref().and_then(query_of).filter(|q| !self.visited.contains(q)).map(Ok);
            self.items = page.results.into_iter();
        }
    }
}
