//! The v1 account endpoints: login, private tokens, datasets and subjects.

use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::config::Route;
use super::data::{detail, timestamp};
use super::drf::{field_errors, paginate, parse_json};
use super::http::Reply;
use super::state::{Dataset, PrivateToken, Subject};
use super::{Incoming, Inner};

/// The longest dataset or subject name, in characters.
const MAX_ACCOUNT_NAME_CHARS: usize = 512;

/// The route of a v1 path, if it is one.
pub(crate) fn route(method: &str, path: &str) -> Option<Route> {
    let rest = path.strip_prefix("/api/v1/")?.strip_suffix('/')?;
    let parts: Vec<&str> = rest.split('/').collect();
    Some(match (method, parts.as_slice()) {
        ("POST", ["auth", "login"]) => Route::Login,
        ("POST" | "GET", ["auth", "private_tokens"]) | ("DELETE", ["auth", "private_tokens", _]) => {
            Route::PrivateTokens
        }
        ("POST" | "GET", ["companies", _, "datasets"]) => Route::Datasets,
        ("POST" | "GET", ["companies", _, "datasets", _, "subjects"]) => Route::Subjects,
        _ => Route::Other,
    })
}

/// `POST /api/v1/auth/login/`: the configured user gets the emulator's token.
pub(crate) fn login(inner: &Inner, body: &[u8]) -> Reply {
    let request = match parse_json(body) {
        Ok(Value::Object(map)) => map,
        Ok(_) => return Reply::json(400, &json!({"non_field_errors": ["Invalid data. Expected a dictionary."]})),
        Err(reply) => return reply,
    };
    let mut errors = Map::new();
    for field in ["username", "password"] {
        if request.get(field).and_then(Value::as_str).is_none_or(str::is_empty) {
            errors.insert(field.into(), json!(["This field is required."]));
        }
    }
    if !errors.is_empty() {
        return field_errors(errors);
    }
    let (email, password) = &inner.config.user;
    let given = (request["username"].as_str(), request["password"].as_str());
    if given != (Some(email.as_str()), Some(password.as_str())) {
        return Reply::json(401, &detail("No active account found with the given credentials"));
    }
    if inner.config.mfa {
        return Reply::json(400, &detail("Multi-factor authentication is enabled for this user."));
    }
    let state = inner.lock();
    Reply::json(
        200,
        &json!({
            "id": 1,
            "email": email,
            "username": email,
            "company_id": state.company_id,
            "token_access": state.token,
            "access_token": state.token,
            "refresh_token": format!("refresh-{}", state.company_id.simple()),
            "is_verified": true,
            "profile": {"first_name": "Demo", "last_name": "User"},
        }),
    )
}

/// `/api/v1/auth/private_tokens/`: create (201, with the value), list (without), revoke (204).
pub(crate) fn private_tokens(inner: &Inner, incoming: &Incoming, body: &[u8]) -> Reply {
    match incoming.method.as_str() {
        "GET" => {
            let state = inner.lock();
            let items = state
                .private_tokens
                .iter()
                .map(|t| json!({"id": t.id, "name": t.name, "expiration_time": t.expiration_time}))
                .collect();
            paginate(inner, incoming, items)
        }
        "DELETE" => {
            let id = incoming.path.trim_end_matches('/').rsplit('/').next().and_then(|id| id.parse::<i64>().ok());
            let mut state = inner.lock();
            let before = state.private_tokens.len();
            state.private_tokens.retain(|t| Some(t.id) != id);
            if state.private_tokens.len() == before {
                Reply::json(404, &detail("Not found."))
            } else {
                Reply::empty(204)
            }
        }
        _ => {
            let request = match parse_json(body) {
                Ok(Value::Object(map)) => map,
                Ok(_) => return Reply::json(400, &json!({"non_field_errors": ["Invalid data."]})),
                Err(reply) => return reply,
            };
            let mut errors = Map::new();
            let name = text_field(&request, "name", &mut errors);
            let expiration_time = text_field(&request, "expiration_time", &mut errors);
            if !errors.is_empty() {
                return field_errors(errors);
            }
            let mut state = inner.lock();
            let id = state.private_tokens.iter().map(|t| t.id).max().unwrap_or(0) + 1;
            let data = format!("pt_{:016x}{:016x}", state.next_u64(), state.next_u64());
            let token = PrivateToken { id, name, expiration_time, data };
            let answer = json!({"id": token.id, "name": token.name, "expiration_time": token.expiration_time, "data": token.data});
            state.private_tokens.push(token);
            Reply::json(201, &answer)
        }
    }
}

/// `/api/v1/companies/{id}/datasets/`: create (201) and list.
pub(crate) fn datasets(inner: &Inner, incoming: &Incoming, body: &[u8]) -> Reply {
    if incoming.method == "GET" {
        let items = inner.lock().datasets.iter().map(|d| json!({"id": d.id, "name": d.name})).collect();
        return paginate(inner, incoming, items);
    }
    let name = match named(body) {
        Ok((name, _)) => name,
        Err(reply) => return reply,
    };
    let mut state = inner.lock();
    let dataset = Dataset { id: state.new_id(), name };
    let answer = json!({"id": dataset.id, "name": dataset.name, "image_type_id": null, "creation_time": timestamp(state.datasets.len() as u64)});
    state.datasets.push(dataset);
    Reply::json(201, &answer)
}

/// `/api/v1/companies/{id}/datasets/{id}/subjects/`: create (201) and list.
pub(crate) fn subjects(inner: &Inner, incoming: &Incoming, dataset_id: Uuid, body: &[u8]) -> Reply {
    if inner.lock().dataset(dataset_id).is_none() {
        return Reply::json(404, &detail("Not found."));
    }
    if incoming.method == "GET" {
        let state = inner.lock();
        let items = state
            .subjects
            .iter()
            .filter(|s| s.dataset_id == dataset_id)
            .map(|s| subject_json(state.company_id, s))
            .collect();
        return paginate(inner, incoming, items);
    }
    let (name, request) = match named(body) {
        Ok(named) => named,
        Err(reply) => return reply,
    };
    let mut state = inner.lock();
    let subject = Subject { id: state.new_id(), name, dataset_id };
    let mut answer = subject_json(state.company_id, &subject);
    for field in ["birth_date", "biological_sex", "meta"] {
        answer[field] = request.get(field).cloned().unwrap_or(Value::Null);
    }
    state.subjects.push(subject);
    Reply::json(201, &answer)
}

fn subject_json(company_id: Uuid, subject: &Subject) -> Value {
    json!({
        "id": subject.id,
        "name": subject.name,
        "creation_time": timestamp(0),
        "company": company_id,
        "dataset": subject.dataset_id,
        "birth_date": null,
        "biological_sex": null,
        "meta": null,
    })
}

/// A create body with a `name` of 1..=512 characters.
fn named(body: &[u8]) -> Result<(String, Map<String, Value>), Reply> {
    let request = match parse_json(body)? {
        Value::Object(map) => map,
        _ => return Err(Reply::json(400, &json!({"non_field_errors": ["Invalid data."]}))),
    };
    let mut errors = Map::new();
    let name = text_field(&request, "name", &mut errors);
    if name.chars().count() > MAX_ACCOUNT_NAME_CHARS {
        errors.insert("name".into(), json!(["Ensure this field has no more than 512 characters."]));
    }
    if errors.is_empty() { Ok((name, request)) } else { Err(field_errors(errors)) }
}

/// A required, non-blank text field; records an error when it is not one.
fn text_field(request: &Map<String, Value>, field: &str, errors: &mut Map<String, Value>) -> String {
    match request.get(field) {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        Some(Value::String(_)) => {
            errors.insert(field.into(), json!(["This field may not be blank."]));
            String::new()
        }
        _ => {
            errors.insert(field.into(), json!(["This field is required."]));
            String::new()
        }
    }
}
