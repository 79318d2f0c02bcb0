//! Which handler answers an API request: routing by method and path, authentication,
//! the ids in the path, then the v3 handlers (`api.rs`) or the v1 ones (`account.rs`).

use uuid::Uuid;

use super::config::Route;
use super::data::detail;
use super::http::Reply;
use super::{Incoming, Inner, account, api};

/// The route of an API path (trailing slash included).
pub(crate) fn route(method: &str, path: &str) -> Route {
    if let Some(route) = account::route(method, path) {
        return route;
    }
    let Some(rest) = path.strip_prefix("/api/v3/companies/").and_then(|r| r.strip_suffix('/')) else {
        return Route::Other;
    };
    let parts: Vec<&str> = rest.split('/').collect();
    match (method, parts.as_slice()) {
        ("POST", [_, "subjects", _, "upload"]) => Route::Initiate,
        ("GET", [_, "subjects", _, "parameters"]) => Route::SubjectParameters,
        ("GET", [_, "batches"]) => Route::BatchList,
        ("GET", [_, "batches", _]) => Route::BatchInfo,
        ("POST", [_, "batches", _, "compute"]) => Route::Compute,
        ("GET", [_, "batches", _, "results"]) => Route::Results,
        _ => Route::Other,
    }
}

/// Answers an API request whose body was read into `body`.
pub(crate) fn handle(inner: &Inner, incoming: &Incoming, route: Route, body: &[u8]) -> Reply {
    match route {
        Route::Other => return Reply::json(404, &detail("Not found.")),
        Route::Login => return account::login(inner, body),
        _ => {}
    }
    let given = incoming.header("authorization").map(|v| v.strip_prefix("Bearer ").unwrap_or(""));
    match given {
        None => return Reply::json(401, &detail("Authentication credentials were not provided.")),
        Some(token) if inner.lock().accepts(token) => {}
        Some(_) => return Reply::json(401, &detail("Invalid token.")),
    }
    if matches!(route, Route::PrivateTokens) {
        return account::private_tokens(inner, incoming, body);
    }
    // Path ids are UUIDs (Django's uuid converter: anything else does not match: 404).
    let Some(rest) = incoming.path.split_once("/companies/").map(|(_, rest)| rest.trim_end_matches('/')) else {
        return Reply::json(404, &detail("Not found."));
    };
    let parts: Vec<&str> = rest.split('/').collect();
    let ids: Option<Vec<Uuid>> = parts.iter().step_by(2).map(|p| Uuid::parse_str(p).ok()).collect();
    let Some(ids) = ids else { return Reply::json(404, &detail("Not found.")) };
    if ids[0] != inner.lock().company_id {
        return Reply::json(403, &detail("You do not have permission to perform this action."));
    }
    let id = ids.get(1).copied().unwrap_or_default();
    match route {
        Route::Datasets => account::datasets(inner, incoming, body),
        Route::Subjects => account::subjects(inner, incoming, id, body),
        Route::Initiate => api::initiate(inner, id, body),
        Route::Compute => api::compute(inner, id, body),
        Route::Results => api::results(inner, incoming, id),
        Route::SubjectParameters => api::subject_parameters(inner, incoming, id),
        Route::BatchInfo => api::batch_info(inner, id),
        Route::BatchList => api::batch_list(inner, incoming),
        _ => Reply::json(404, &detail("Not found.")),
    }
}
