//! What Django REST framework answers look like: JSON parse errors, field errors, and
//! page-number pagination with absolute links. Shared by the v1 and v3 handlers.

use serde_json::{Map, Value, json};

use super::data::detail;
use super::http::Reply;
use super::{Incoming, Inner};

pub(crate) fn parse_json(body: &[u8]) -> Result<Value, Reply> {
    serde_json::from_slice(body).map_err(|e| Reply::json(400, &detail(&format!("JSON parse error - {e}"))))
}

pub(crate) fn field_errors(errors: Map<String, Value>) -> Reply {
    Reply::json(400, &Value::Object(errors))
}

/// One page of `items` (DRF's page-number pagination: `page`, `page_size`, absolute
/// `next` and `previous` links, 404 past the end).
pub(crate) fn paginate(inner: &Inner, incoming: &Incoming, items: Vec<Value>) -> Reply {
    let (mut page, mut page_size) = (1usize, inner.config.page_size);
    for (key, value) in incoming.query_pairs() {
        match key.as_str() {
            "page" => match value.parse::<usize>() {
                Ok(n) if n >= 1 => page = n,
                _ => return Reply::json(404, &detail("Invalid page.")),
            },
            "page_size" => match value.parse::<usize>() {
                Ok(n) if n >= 1 => page_size = n.min(100),
                _ => return field_errors(Map::from_iter([(key, json!(["A valid integer is required."]))])),
            },
            _ => {}
        }
    }
    let count = items.len();
    let start = (page - 1).saturating_mul(page_size);
    if start >= count && page > 1 {
        return Reply::json(404, &detail("Invalid page."));
    }
    let results: Vec<Value> = items.into_iter().skip(start).take(page_size).collect();
    let link = |to: usize| {
        let mut pairs: Vec<(String, String)> =
            incoming.query_pairs().into_iter().filter(|(k, _)| k != "page").collect();
        pairs.push(("page".into(), to.to_string()));
        format!("{}{}?{}", inner.api_url, incoming.path, crate::util::url::query_string(&pairs))
    };
    let next = (start + page_size < count).then(|| link(page + 1));
    let previous = (page > 1).then(|| link(page - 1));
    Reply::json(200, &json!({"count": count, "next": next, "previous": previous, "results": results}))
}
