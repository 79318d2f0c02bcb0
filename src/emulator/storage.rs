//! The signed-URL storage host: checks an upload the way Google Cloud Storage does with
//! V4 signatures, streams its body through the shared bandwidth while hashing it (never
//! keeping it), and stores only its size and hash.

use super::api::CONTENT_LENGTH_RANGE;
use super::config::Fault;
use super::http::{BodyStats, Reply, read_body, storage_error};
use super::{Incoming, Inner};

/// The largest upload storage accepts (30 MiB).
const MAX_OBJECT: u64 = 31_457_280;

/// Answers one storage request; `body` reads its body. The body is always read to its end
/// in bounded chunks before answering (tiny_http would otherwise buffer it whole).
pub(crate) fn handle(
    inner: &Inner,
    incoming: &Incoming,
    body: &mut dyn std::io::Read,
    fault: Option<Fault>,
) -> (Reply, BodyStats) {
    let verdict = check(inner, incoming);
    // A rejected body is discarded unthrottled; an accepted one crosses the shared bandwidth.
    let throttle = if verdict.is_ok() && fault.is_none() { inner.throttle.as_ref() } else { None };
    let (_, stats) = read_body(body, 0, throttle, &inner.gate);
    if let Some(fault) = fault {
        return (super::fault_reply(&fault, Some(incoming)), stats);
    }
    let key = match verdict {
        Ok(key) => key,
        Err(reply) => return (reply, stats),
    };
    if !stats.complete || Some(stats.size) != incoming.content_length() {
        let reply =
            Reply::xml(400, storage_error("IncompleteBody", "The request body is shorter than Content-Length."));
        return (reply, stats);
    }
    let mut state = inner.lock();
    let slot = state.batches.iter_mut().flat_map(|b| b.images.values_mut()).find(|i| i.key == key);
    match slot {
        Some(slot) => {
            slot.stored = Some((stats.size, stats.hash));
            (Reply::empty(200), stats)
        }
        None => (Reply::xml(404, storage_error("NoSuchKey", "The specified key does not exist.")), stats),
    }
}

/// Everything that can be decided from the headers; `Ok` with the object key.
fn check(inner: &Inner, incoming: &Incoming) -> Result<String, Reply> {
    // Like Cloud Storage, a signature error echoes the canonical request, query included:
    // clients must scrub what they keep of it.
    let denied = |message: &str| {
        let canonical = format!(
            "PUT\n{}\n{}\ncontent-type:{}",
            incoming.path,
            incoming.query,
            incoming.header("content-type").unwrap_or("")
        );
        let body = storage_error("SignatureDoesNotMatch", message)
            .replace("</Error>", &format!("<CanonicalRequest>{canonical}</CanonicalRequest></Error>"));
        Reply::xml(403, body)
    };
    if incoming.method != "PUT" {
        return Err(Reply::xml(405, storage_error("MethodNotAllowed", "The signed url is for PUT.")));
    }
    if incoming.header("authorization").is_some() {
        return Err(Reply::xml(
            400,
            storage_error("InvalidAuthenticationInfo", "An Authorization header is not allowed with a signed url."),
        ));
    }
    let Some(key) = incoming.path.strip_prefix("/hautai-uploads/") else {
        return Err(Reply::xml(404, storage_error("NoSuchBucket", "The specified bucket does not exist.")));
    };
    let signature = incoming.query_pairs().into_iter().find(|(k, _)| k == "X-Goog-Signature").map(|(_, v)| v);
    let expected = {
        let state = inner.lock();
        state.batches.iter().flat_map(|b| b.images.values()).find(|i| i.key == key).map(|i| i.signature.clone())
    };
    match (signature, expected) {
        (_, None) => return Err(denied("The signed url names no object of a batch.")),
        (Some(given), Some(expected)) if given == expected => {}
        _ => return Err(denied("The request signature we calculated does not match the signature you provided.")),
    }
    // The signed headers must come with exactly the signed values.
    for (name, value) in [
        ("content-type", "application/octet-stream"),
        ("x-goog-content-length-range", CONTENT_LENGTH_RANGE),
        ("host", inner.storage_host.as_str()),
    ] {
        if incoming.header(name) != Some(value) {
            return Err(denied(&format!("The signed header {name} is missing or has another value.")));
        }
    }
    if incoming.chunked() {
        return Err(Reply::xml(411, storage_error("MissingContentLength", "Chunked uploads are not supported.")));
    }
    let length = incoming
        .content_length()
        .ok_or_else(|| Reply::xml(411, storage_error("MissingContentLength", "Content-Length is required.")))?;
    if length < 1 {
        return Err(Reply::xml(
            400,
            storage_error("EntityTooSmall", "Your proposed upload is smaller than the minimum."),
        ));
    }
    if length > MAX_OBJECT {
        return Err(Reply::xml(400, storage_error("EntityTooLarge", "Your proposed upload exceeds the maximum.")));
    }
    Ok(key.to_owned())
}
