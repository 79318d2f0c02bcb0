//! The endpoints, one file per resource. Each method builds a [`Call`] and hands it to
//! the one request path in `transport.rs`.

mod account;
mod batches;
mod images;
mod pages;
mod subjects;

pub use batches::BatchQuery;
pub(crate) use images::MAX_NAME_CHARS;
pub use pages::Pages;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{Error, Result};
use crate::observe::CallContext;
use crate::redact;
use crate::session::Session;
use crate::transport::{Call, Dest, Payload, Reply};

impl Session {
    /// GET `path?query` (an encoded query without `?`).
    pub(crate) fn get(&self, path: String, query: String, ctx: &CallContext<'_>) -> Result<Reply> {
        self.send(&Call { method: "GET", dest: Dest::Api { path, query }, payload: Payload::None }, ctx)
    }

    /// DELETE `path`.
    pub(crate) fn delete(&self, path: String, ctx: &CallContext<'_>) -> Result<Reply> {
        let dest = Dest::Api { path, query: String::new() };
        self.send(&Call { method: "DELETE", dest, payload: Payload::None }, ctx)
    }

    /// GET `path?query` and decode the JSON answer.
    pub(crate) fn get_json<T: DeserializeOwned>(
        &self,
        endpoint: &'static str,
        path: String,
        query: String,
        ctx: &CallContext<'_>,
    ) -> Result<T> {
        decode(endpoint, &self.get(path, query, ctx)?.body)
    }

    /// POST `body` as JSON to `path`.
    pub(crate) fn post_json(
        &self,
        endpoint: &'static str,
        path: String,
        body: &impl Serialize,
        ctx: &CallContext<'_>,
    ) -> Result<Reply> {
        let json =
            serde_json::to_vec(body).map_err(|e| Error::InvalidArgument(format!("cannot encode {endpoint}: {e}")))?;
        let dest = Dest::Api { path, query: String::new() };
        self.send(&Call { method: "POST", dest, payload: Payload::Json(json) }, ctx)
    }
}

/// Decodes a JSON answer, naming the endpoint when it does not fit.
pub(crate) fn decode<T: DeserializeOwned>(endpoint: &'static str, body: &[u8]) -> Result<T> {
    serde_json::from_slice(body).map_err(|e| Error::Decode {
        endpoint,
        reason: e.to_string(),
        excerpt: redact::excerpt(&redact::scrub(&String::from_utf8_lossy(&body[..body.len().min(2048)])), 200),
    })
}
