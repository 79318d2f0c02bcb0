//! The emulator's dispatcher: each request of a server on a thread of its own, answered
//! by the API or the storage host, with the faults, latency and bandwidth configured, and
//! recorded.

use std::io;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::Instant;

use super::config::{EmulatorConfig, Fault, Route};
use super::http::{Gate, RateLimit, Reply, Throttle, read_body};
use super::record::RecordedRequest;
use super::state::State;
use super::{assets, data, http, kept, routes, storage};

/// The largest API request body read (JSON bodies are small).
const API_BODY_LIMIT: usize = 1 << 20;

/// What every handler shares.
pub(crate) struct Inner {
    pub(super) state: Mutex<State>,
    pub(super) records: Mutex<Vec<RecordedRequest>>,
    pub(super) handlers: Mutex<Vec<JoinHandle<()>>>,
    pub(super) config: EmulatorConfig,
    pub(super) gate: Gate,
    pub(super) throttle: Option<Throttle>,
    /// The API's rate limit, if one was set.
    pub(super) rate: Option<RateLimit>,
    /// The ports of the API and storage relays (kept with the state, when it is kept).
    pub(super) ports: (u16, u16),
    /// `http://127.0.0.1:PORT` of the API and storage relays.
    pub(super) api_url: String,
    pub(super) storage_url: String,
    /// `127.0.0.1:PORT` of the storage relay, the `Host` its URLs sign.
    pub(super) storage_host: String,
}

impl Inner {
    pub(super) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Receives requests of one server and answers each on a thread of its own.
pub(super) fn spawn_dispatcher(
    inner: &Arc<Inner>,
    server: Arc<tiny_http::Server>,
    storage: bool,
) -> io::Result<JoinHandle<()>> {
    let inner = inner.clone();
    std::thread::Builder::new().name("hautai-emulator".into()).spawn(move || {
        while let Ok(request) = server.recv() {
            if inner.gate.is_closed() {
                break;
            }
            let handler_inner = inner.clone();
            let spawned = std::thread::Builder::new()
                .name("hautai-emulator-handler".into())
                .spawn(move || answer(&handler_inner, request, storage));
            let mut handlers = inner.handlers.lock().unwrap_or_else(PoisonError::into_inner);
            handlers.retain(|h| !h.is_finished());
            if let Ok(handle) = spawned {
                handlers.push(handle);
            }
        }
    })
}

/// What a handler needs of a request besides its body.
pub(crate) struct Incoming {
    pub(super) method: String,
    pub(super) path: String,
    pub(super) query: String,
    /// Names lower-cased.
    pub(super) headers: Vec<(String, String)>,
}

impl Incoming {
    pub(super) fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    pub(super) fn content_length(&self) -> Option<u64> {
        self.header("content-length").and_then(|v| v.trim().parse().ok())
    }

    pub(super) fn chunked(&self) -> bool {
        self.header("transfer-encoding").is_some_and(|v| v.to_ascii_lowercase().contains("chunked"))
    }

    /// The query's pairs, percent-decoded.
    pub(super) fn query_pairs(&self) -> Vec<(String, String)> {
        crate::util::url::query_pairs(&self.query)
    }
}

/// Answers one request and records it.
fn answer(inner: &Inner, mut request: tiny_http::Request, storage: bool) {
    let time_in = Instant::now();
    let url = request.url().to_owned();
    let (path, query) = url.split_once('?').unwrap_or((&url, ""));
    let incoming = Incoming {
        method: request.method().as_str().to_owned(),
        path: path.to_owned(),
        query: query.to_owned(),
        headers: request
            .headers()
            .iter()
            .map(|h| (h.field.as_str().as_str().to_ascii_lowercase(), h.value.as_str().to_owned()))
            .collect(),
    };
    let route = match (storage, incoming.method.as_str()) {
        (true, "GET") => Route::Asset,
        (true, _) => Route::Upload,
        (false, _) => routes::route(&incoming.method, &incoming.path),
    };
    if !inner.config.latency.is_zero() && !inner.gate.sleep(inner.config.latency) {
        return;
    }
    // A rate-limited API answers before anything else, as a gateway in front would.
    let throttled = if storage { None } else { inner.rate.as_ref().and_then(RateLimit::refuse) };
    let fault = if throttled.is_some() { None } else { inner.lock().take_fault(route) };
    let (reply, stats) = if route == Route::Asset {
        let reply = fault.map_or_else(|| assets::serve(&incoming, inner.lock().secret()), |f| fault_reply(&f, None));
        (reply, Default::default())
    } else if storage {
        storage::handle(inner, &incoming, request.as_reader(), fault)
    } else {
        let (body, stats) = read_body(request.as_reader(), API_BODY_LIMIT + 1, None, &inner.gate);
        let reply = match fault {
            _ if let Some(wait) = throttled => {
                let detail = data::detail(&format!("Request was throttled. Expected available in {wait} seconds."));
                Reply::json(429, &detail).with_header("Retry-After", wait.to_string())
            }
            Some(fault) if fault.carried_out => {
                routes::handle(inner, &incoming, route, &body);
                fault_reply(&fault, None)
            }
            Some(fault) => fault_reply(&fault, None),
            None if body.len() > API_BODY_LIMIT => Reply::json(413, &data::detail("Request body too large.")),
            None => routes::handle(inner, &incoming, route, &body),
        };
        (reply, stats)
    };
    let status = reply.status;
    let mut response = tiny_http::Response::from_data(reply.body).with_status_code(reply.status);
    let headers = reply.content_type.map(|t| ("Content-Type", t.to_owned())).into_iter().chain(reply.headers);
    for (name, value) in headers {
        if let Ok(header) = tiny_http::Header::from_bytes(name.as_bytes(), value.as_bytes()) {
            response.add_header(header);
        }
    }
    // Recorded before the answer leaves: a client that has its answer finds its request
    // in the record.
    let record = RecordedRequest {
        route,
        method: incoming.method.clone(),
        path: incoming.path.clone(),
        storage,
        authorization: incoming.header("authorization").is_some(),
        content_length: incoming.content_length(),
        chunked: incoming.chunked(),
        content_type: incoming.header("content-type").map(str::to_owned),
        body_size: stats.size,
        body_hash: stats.hash,
        status,
        time_in,
        time_out: Instant::now(),
    };
    inner.records.lock().unwrap_or_else(PoisonError::into_inner).push(record);
    // A kept service has written down what this request changed before its answer
    // leaves: a client that was answered finds it after a restart.
    if let Some(path) = &inner.config.keep_state
        && route != Route::Asset
    {
        let state = inner.lock();
        let _ = kept::save(path, &state, inner.ports);
    }
    let _ = request.respond(response);
}

/// The answer of an armed fault; `upload` is the storage request it answers, if any.
pub(crate) fn fault_reply(fault: &Fault, upload: Option<&Incoming>) -> Reply {
    let mut reply = match (&fault.body, upload) {
        (Some(body), _) => Reply::raw(fault.status, body.clone()),
        (None, Some(incoming)) => {
            // Echoes the canonical request, signed query included, as Cloud Storage does.
            let code = fault.storage_code.as_deref().unwrap_or("InternalError");
            let canonical =
                format!("<CanonicalRequest>PUT\n{}\n{}</CanonicalRequest></Error>", incoming.path, incoming.query);
            Reply::xml(
                fault.status,
                http::storage_error(code, "Injected by the emulator.").replace("</Error>", &canonical),
            )
        }
        (None, None) if (300..400).contains(&fault.status) => Reply::empty(fault.status),
        (None, None) => Reply::json(fault.status, &data::detail("Injected by the emulator.")),
    };
    if let Some(wait) = &fault.retry_after {
        reply = reply.with_header("Retry-After", wait.clone());
    }
    if let Some(location) = &fault.location {
        reply = reply.with_header("Location", location.clone());
    }
    reply
}
