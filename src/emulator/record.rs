//! What the emulator saw: one record per request, for tests to assert on.

use std::time::Instant;

use super::Route;

/// One request as the emulator saw it.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RecordedRequest {
    /// The route it matched.
    pub route: Route,
    /// The HTTP method.
    pub method: String,
    /// The path, without the query (signatures live there).
    pub path: String,
    /// Whether it went to the storage host (an upload) rather than the API.
    pub storage: bool,
    /// Whether an `Authorization` header came with it.
    pub authorization: bool,
    /// The `Content-Length` header, if any.
    pub content_length: Option<u64>,
    /// Whether it came with `Transfer-Encoding: chunked`.
    pub chunked: bool,
    /// The `Content-Type` header, if any.
    pub content_type: Option<String>,
    /// The bytes of body received.
    pub body_size: u64,
    /// The 64-bit FNV-1a hash of the body received (offset basis `0xcbf29ce484222325`,
    /// prime `0x100000001b3`).
    pub body_hash: u64,
    /// The status answered.
    pub status: u16,
    /// When the request's headers arrived.
    pub time_in: Instant,
    /// When the answer was ready to send (the request is recorded then, before the answer
    /// leaves, so a client that has its answer finds its request here).
    pub time_out: Instant,
}

impl RecordedRequest {
    /// Whether this request and `other` were in the emulator at the same time.
    pub fn overlaps(&self, other: &RecordedRequest) -> bool {
        self.time_in < other.time_out && other.time_in < self.time_out
    }
}
