//! The endpoints, one file per resource. Each method builds a [`Call`] and hands it to
//! the one request path in `transport.rs`.

mod account;
mod batches;
mod images;
mod pages;
mod subjects;

pub use batches::BatchQuery;
pub(crate) use images::{INITIATE, MAX_NAME_CHARS};
pub use pages::Pages;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{Error, Result};
use crate::observe::CallContext;
use crate::redact;
use crate::session::Session;
use crate::transport::{Call, Dest, Payload, Reply};

impl Session {
    /// One API request for `endpoint` (its label in errors, which also says whether its
    /// answer carries secrets), through the one request path.
    fn api_call(
        &self,
        method: &'static str,
        endpoint: &str,
        path: String,
        query: String,
        payload: Payload<'_>,
        ctx: &CallContext<'_>,
    ) -> Result<Reply> {
        let dest = Dest::Api { path, query, secret_answer: carries_secrets(endpoint) };
        self.send(&Call { method, dest, payload }, ctx)
    }

    /// GET `path?query` (an encoded query without `?`).
    pub(crate) fn get(&self, endpoint: &str, path: String, query: String, ctx: &CallContext<'_>) -> Result<Reply> {
        self.api_call("GET", endpoint, path, query, Payload::None, ctx)
    }

    /// DELETE `path`.
    pub(crate) fn delete(&self, endpoint: &str, path: String, ctx: &CallContext<'_>) -> Result<Reply> {
        self.api_call("DELETE", endpoint, path, String::new(), Payload::None, ctx)
    }

    /// GET `path?query` and decode the JSON answer.
    pub(crate) fn get_json<T: DeserializeOwned>(
        &self,
        endpoint: &'static str,
        path: String,
        query: String,
        ctx: &CallContext<'_>,
    ) -> Result<T> {
        let reply = self.get(endpoint, path, query, ctx)?;
        self.decode(endpoint, &reply.body)
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
        self.api_call("POST", endpoint, path, String::new(), Payload::Json(json), ctx)
    }

    /// Decodes a JSON answer, naming the endpoint when it does not fit. Nothing of the body
    /// reaches the error unscrubbed, and nothing at all of an answer that carries secrets.
    pub(crate) fn decode<T: DeserializeOwned>(&self, endpoint: &'static str, body: &[u8]) -> Result<T> {
        serde_json::from_slice(body).map_err(|e| {
            if carries_secrets(endpoint) {
                // serde quotes the offending value ("invalid type: string \"...\""): keep
                // only where it went wrong.
                let reason = format!("{} at line {} column {}", what_failed(&e), e.line(), e.column());
                return Error::Decode { endpoint, reason, excerpt: String::new() };
            }
            let token = self.token();
            let head = String::from_utf8_lossy(&body[..body.len().min(16 * 1024)]);
            Error::Decode {
                endpoint,
                reason: redact::scrubbed_excerpt(&e.to_string(), &token, 300),
                excerpt: redact::scrubbed_excerpt(&head, &token, 200),
            }
        })
    }
}

/// The endpoints whose answers hold credentials (the login's tokens, a private token's
/// value): their bodies are never quoted in an error.
pub(crate) fn carries_secrets(endpoint: &str) -> bool {
    matches!(endpoint, "POST login" | "POST private token" | "GET private tokens")
}

/// serde's category of a decoding failure, without the value it quotes.
fn what_failed(error: &serde_json::Error) -> &'static str {
    match error.classify() {
        serde_json::error::Category::Syntax => "the answer is not valid json",
        serde_json::error::Category::Eof => "the answer ends early",
        serde_json::error::Category::Data => "a field has an unexpected type or value",
        serde_json::error::Category::Io => "the answer could not be read",
    }
}
