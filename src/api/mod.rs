//! The endpoints, one file per resource, as `Session` methods a few lines each. Each names
//! its [`Endpoint`] (a constant beside it) and goes through [`Session::call`], the one way
//! to the one request path in `transport/`.
//!
//! * `uploads.rs`: initiate an upload, upload an image to its signed URL.
//! * `assets.rs`: download a mask or a predicted image from its signed URL.
//! * `batches.rs`: compute, results, batch info, the batch list.
//! * `subjects.rs`: create and list subjects, a subject's parameters.
//! * `account.rs`: login, private tokens, datasets.
//! * `pages.rs`: walking a paginated list.
//!
//! To add an endpoint: declare its `Endpoint` with [`endpoint!`], write a `Session` method
//! in the resource's file that builds the path and calls `get_json`, `post_json` or `call`,
//! document it with an example, and test it against mockito in `tests/it/endpoints.rs`.

mod account;
mod assets;
mod batches;
mod pages;
mod subjects;
mod uploads;

pub use pages::Pages;
pub(crate) use uploads::INITIATE;

use std::sync::Arc;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::call::CallContext;
use crate::error::{ErrorKind, Result};
use crate::session::Session;
use crate::transport::{Dest, Outgoing, Payload, Reply};
use crate::util::redact;

/// An endpoint: its method, and the label errors and events name it by.
pub(crate) struct Endpoint {
    pub(crate) method: &'static str,
    /// `METHOD what`, e.g. `POST compute`.
    pub(crate) label: &'static str,
    /// The answer holds credentials (a login's tokens, a private token's value): no
    /// excerpt of its body ever goes into an error.
    pub(crate) secret_answer: bool,
}

/// `endpoint!(POST "compute")`, or `endpoint!(POST "login", secret)` for an answer that
/// holds credentials.
macro_rules! endpoint {
    ($method:ident $what:literal) => {
        $crate::api::Endpoint {
            method: stringify!($method),
            label: concat!(stringify!($method), " ", $what),
            secret_answer: false,
        }
    };
    ($method:ident $what:literal, secret) => {
        $crate::api::Endpoint {
            method: stringify!($method),
            label: concat!(stringify!($method), " ", $what),
            secret_answer: true,
        }
    };
}
pub(crate) use endpoint;

impl Endpoint {
    /// A request to this endpoint for the transport: `path` below the base URL, `query`
    /// encoded (without `?`), with the bearer `token` when there is one (a login has none).
    fn request<'a>(&self, path: String, query: String, token: Option<Arc<str>>, payload: Payload<'a>) -> Outgoing<'a> {
        let dest = Dest::Api { path, query, secret_answer: self.secret_answer };
        Outgoing { method: self.method, dest, payload, token, sink: None }
    }
}

impl Session {
    /// One request for `endpoint` with this session's token: `path` below the base URL,
    /// `query` encoded (without `?`).
    pub(crate) fn call(
        &self,
        endpoint: &Endpoint,
        path: String,
        query: String,
        payload: Payload<'_>,
        ctx: &CallContext<'_>,
    ) -> Result<Reply> {
        self.shared.transport.send(&endpoint.request(path, query, Some(self.token()), payload), ctx)
    }

    /// GET `path?query` and decode the JSON answer.
    pub(crate) fn get_json<T: DeserializeOwned>(
        &self,
        endpoint: &'static Endpoint,
        path: String,
        query: String,
        ctx: &CallContext<'_>,
    ) -> Result<T> {
        let reply = self.call(endpoint, path, query, Payload::None, ctx)?;
        decode(endpoint, &reply.body)
    }

    /// POST `body` as JSON to `path`.
    pub(crate) fn post_json(
        &self,
        endpoint: &'static Endpoint,
        path: String,
        body: &impl Serialize,
        ctx: &CallContext<'_>,
    ) -> Result<Reply> {
        self.call(endpoint, path, String::new(), json(endpoint, body)?, ctx)
    }
}

/// `body` as a JSON payload.
fn json(endpoint: &'static Endpoint, body: &impl Serialize) -> Result<Payload<'static>> {
    let bytes = serde_json::to_vec(body)
        .map_err(|e| ErrorKind::InvalidArgument(format!("cannot encode {}: {e}", endpoint.label)))?;
    Ok(Payload::Json(bytes))
}

/// Decodes a JSON answer, naming the endpoint when it does not fit. Nothing of the body
/// reaches the error unscrubbed (the transport already replaced an echoed token), and
/// nothing at all of an answer that carries secrets.
pub(crate) fn decode<T: DeserializeOwned>(endpoint: &'static Endpoint, body: &[u8]) -> Result<T> {
    serde_json::from_slice(body).map_err(|e| {
        let label = endpoint.label;
        if endpoint.secret_answer {
            // serde quotes the offending value ("invalid type: string \"...\""): keep
            // only where it went wrong.
            let reason = format!("{} at line {} column {}", what_failed(&e), e.line(), e.column());
            return ErrorKind::Decode { endpoint: label, reason, excerpt: String::new() }.into();
        }
        let head = String::from_utf8_lossy(&body[..body.len().min(16 * 1024)]);
        ErrorKind::Decode {
            endpoint: label,
            reason: redact::scrubbed_excerpt(&e.to_string(), "", 300),
            excerpt: redact::scrubbed_excerpt(&head, "", 200),
        }
        .into()
    })
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
