//! The server's message in an error body: DRF's JSON, an HTML page's title, or the flat
//! XML of signed-URL storage.

use crate::util::redact;

/// How much of a body goes into an error message.
pub(super) const EXCERPT_CHARS: usize = 300;

/// The server's message from an error body: DRF's `{"detail": ...}`, its field errors
/// `{"field": ["msg", ...]}`, a list of messages, or an HTML page's title.
pub(super) fn api_message(text: &str) -> Option<String> {
    let message = match serde_json::from_str::<serde_json::Value>(text) {
        Ok(json) => json_message(&json)?,
        Err(_) => xml_element(text, "title").or_else(|| xml_element(text, "TITLE"))?,
    };
    let message = redact::excerpt(&message, EXCERPT_CHARS);
    (!message.is_empty()).then_some(message)
}

fn json_message(json: &serde_json::Value) -> Option<String> {
    use serde_json::Value;
    match json {
        Value::String(s) => Some(s.clone()),
        Value::Array(items) => {
            let parts: Vec<String> = items.iter().filter_map(json_message).collect();
            (!parts.is_empty()).then(|| parts.join(" "))
        }
        Value::Object(map) => {
            if let Some(detail) = map.get("detail").and_then(json_message) {
                return Some(detail);
            }
            let parts: Vec<String> =
                map.iter().filter_map(|(field, v)| json_message(v).map(|m| format!("{field}: {m}"))).collect();
            (!parts.is_empty()).then(|| parts.join("; "))
        }
        _ => None,
    }
}

/// The text of the first `<name>...</name>` element (enough for storage's flat XML).
pub(super) fn xml_element(text: &str, name: &str) -> Option<String> {
    let open = format!("<{name}>");
    let start = text.find(&open)? + open.len();
    let end = start + text[start..].find(&format!("</{name}>"))?;
    let value = text[start..end].trim();
    (!value.is_empty()).then(|| value.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drf_messages() {
        assert_eq!(api_message(r#"{"detail": "Not found."}"#).as_deref(), Some("Not found."));
        assert_eq!(
            api_message(r#"{"front": ["Ensure this field has no more than 255 characters."], "left": "bad"}"#)
                .as_deref(),
            Some("front: Ensure this field has no more than 255 characters.; left: bad")
        );
        assert_eq!(api_message(r#"["one", "two"]"#).as_deref(), Some("one two"));
        assert_eq!(api_message("<html><title>502 Bad Gateway</title></html>").as_deref(), Some("502 Bad Gateway"));
        assert_eq!(api_message("plain"), None);
        assert_eq!(api_message("{}"), None);
    }

    #[test]
    fn storage_codes() {
        let xml = "<?xml version='1.0'?><Error><Code>SignatureDoesNotMatch</Code><Message>No match.</Message></Error>";
        assert_eq!(xml_element(xml, "Code").as_deref(), Some("SignatureDoesNotMatch"));
        assert_eq!(xml_element(xml, "Message").as_deref(), Some("No match."));
        assert_eq!(xml_element(xml, "Details"), None);
    }
}
