//! HTTP plumbing of the emulator: answers, bodies read in bounded chunks, waits that end
//! at shutdown, and the shared upload bandwidth.

use std::io::Read;
use std::sync::{Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::util::fnv;

/// How much is read at a time: bodies are never buffered whole unless they are small JSON.
pub(crate) const CHUNK: usize = 64 * 1024;

/// An answer, before it is written.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) body: Vec<u8>,
    pub(crate) content_type: Option<&'static str>,
    pub(crate) headers: Vec<(&'static str, String)>,
}

impl Reply {
    pub(crate) fn json(status: u16, value: &Value) -> Reply {
        Reply { status, body: value.to_string().into_bytes(), content_type: Some("application/json"), headers: vec![] }
    }
    pub(crate) fn xml(status: u16, body: String) -> Reply {
        Reply { status, body: body.into_bytes(), content_type: Some("application/xml; charset=UTF-8"), headers: vec![] }
    }
    pub(crate) fn empty(status: u16) -> Reply {
        Reply { status, body: Vec::new(), content_type: None, headers: vec![] }
    }
    pub(crate) fn raw(status: u16, body: String) -> Reply {
        Reply { status, body: body.into_bytes(), content_type: Some("text/html; charset=utf-8"), headers: vec![] }
    }
    pub(crate) fn file(body: Vec<u8>, content_type: &'static str) -> Reply {
        Reply { status: 200, body, content_type: Some(content_type), headers: vec![] }
    }
    pub(crate) fn with_header(mut self, name: &'static str, value: String) -> Reply {
        self.headers.push((name, value));
        self
    }
}

/// Closed at shutdown: every wait on it ends at once.
#[derive(Debug, Default)]
pub(crate) struct Gate {
    closed: Mutex<bool>,
    changed: Condvar,
}

impl Gate {
    /// Waits `duration`; `false` if the gate closed meanwhile.
    pub(crate) fn sleep(&self, duration: Duration) -> bool {
        self.sleep_until(Instant::now() + duration)
    }

    /// Waits until `deadline`; `false` if the gate closed meanwhile.
    pub(crate) fn sleep_until(&self, deadline: Instant) -> bool {
        let mut closed = self.closed.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            if *closed {
                return false;
            }
            let now = Instant::now();
            if now >= deadline {
                return true;
            }
            closed = self.changed.wait_timeout(closed, deadline - now).unwrap_or_else(PoisonError::into_inner).0;
        }
    }

    pub(crate) fn close(&self) {
        *self.closed.lock().unwrap_or_else(PoisonError::into_inner) = true;
        self.changed.notify_all();
    }

    pub(crate) fn is_closed(&self) -> bool {
        *self.closed.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// One bandwidth shared by every upload: each chunk books its transfer time on a common
/// timeline and waits for its slot.
#[derive(Debug)]
pub(crate) struct Throttle {
    bytes_per_second: u64,
    next_free: Mutex<Instant>,
}

impl Throttle {
    pub(crate) fn new(bytes_per_second: u64) -> Throttle {
        Throttle { bytes_per_second, next_free: Mutex::new(Instant::now()) }
    }

    /// Waits until `bytes` more may pass; `false` at shutdown.
    pub(crate) fn pass(&self, bytes: usize, gate: &Gate) -> bool {
        let cost = Duration::from_secs_f64(bytes as f64 / self.bytes_per_second as f64);
        let done = {
            let mut next_free = self.next_free.lock().unwrap_or_else(PoisonError::into_inner);
            let start = (*next_free).max(Instant::now());
            *next_free = start + cost;
            *next_free
        };
        gate.sleep_until(done)
    }
}

/// What was read of a body.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct BodyStats {
    pub(crate) size: u64,
    pub(crate) hash: u64,
    /// Whether the body ended normally (not cut or failed).
    pub(crate) complete: bool,
}

/// Reads a body to its end in bounded chunks, hashing it, keeping at most `keep` bytes,
/// and passing each chunk through `throttle` if given.
pub(crate) fn read_body(
    reader: &mut dyn Read,
    keep: usize,
    throttle: Option<&Throttle>,
    gate: &Gate,
) -> (Vec<u8>, BodyStats) {
    let mut kept = Vec::new();
    let mut stats = BodyStats { size: 0, hash: fnv::START, complete: false };
    let mut buf = vec![0u8; CHUNK];
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => {
                stats.complete = true;
                return (kept, stats);
            }
            Ok(n) => n,
            Err(_) => return (kept, stats),
        };
        if let Some(throttle) = throttle
            && !throttle.pass(n, gate)
        {
            return (kept, stats);
        }
        stats.size += n as u64;
        stats.hash = fnv::update(stats.hash, &buf[..n]);
        if kept.len() < keep {
            let room = (keep - kept.len()).min(n);
            kept.extend_from_slice(&buf[..room]);
        }
    }
}

/// A token bucket of API requests: `per_second` tokens a second, as many at most.
pub(crate) struct RateLimit {
    per_second: f64,
    bucket: Mutex<(f64, Instant)>,
}

impl RateLimit {
    pub(crate) fn new(per_second: u32) -> RateLimit {
        let per_second = f64::from(per_second);
        RateLimit { per_second, bucket: Mutex::new((per_second, Instant::now())) }
    }

    /// Takes a token, or says in how many whole seconds one will be there.
    pub(crate) fn refuse(&self) -> Option<u64> {
        let mut bucket = self.bucket.lock().unwrap_or_else(PoisonError::into_inner);
        let (tokens, since) = *bucket;
        let now = Instant::now();
        let tokens = (tokens + now.duration_since(since).as_secs_f64() * self.per_second).min(self.per_second);
        if tokens >= 1.0 {
            *bucket = (tokens - 1.0, now);
            None
        } else {
            *bucket = (tokens, now);
            // Retry-After is in whole seconds: round up, at least one.
            Some((((1.0 - tokens) / self.per_second).ceil() as u64).max(1))
        }
    }
}

/// A storage error body.
pub(crate) fn storage_error(code: &str, message: &str) -> String {
    format!("<?xml version='1.0' encoding='UTF-8'?><Error><Code>{code}</Code><Message>{message}</Message></Error>")
}
