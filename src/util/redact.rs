//! Scrubbing of secrets from anything we print: signed-URL signatures, secret JSON fields
//! and the session's token.
//!
//! Signed storage URLs are bearer credentials, error bodies from storage echo the
//! canonical request (query string included), and a login answer carries tokens. So every
//! text taken from a request or an answer (URLs, body excerpts, serde's explanations,
//! header values) passes through [`scrub`] or [`scrub_with_token`] before it is stored in
//! an error or shown by `Debug`.

/// Query parameters whose values grant access: Google Cloud Storage V4
/// (`X-Goog-Signature`, `X-Goog-Credential`) and V2 (`GoogleAccessId`, `Signature`), and
/// S3 SigV4 (`X-Amz-Signature`, `X-Amz-Credential`, `X-Amz-Security-Token`). Lower case:
/// matching ignores case. `signature=` also covers the longer names ending in it.
const URL_SECRET_KEYS: [&str; 5] =
    ["signature=", "x-goog-credential=", "googleaccessid=", "x-amz-credential=", "x-amz-security-token="];

/// Words that make a JSON field secret when its name contains one (any case):
/// `access_token`, `token_access`, `refresh_token`, `client_secret`, `password`, ...
const SECRET_FIELD_WORDS: [&str; 4] = ["token", "secret", "password", "signature"];

/// What replaces a secret value.
pub(crate) const REDACTED: &str = "<redacted>";

/// Replaces every secret in `text` with `<redacted>`: the values of signed-URL keys
/// (wherever they appear: a URL, an XML error body, a JSON string, serde's message) and
/// the values of JSON fields whose names say token, secret, password or signature.
pub(crate) fn scrub(text: &str) -> String {
    scrub_secret_fields(&scrub_url_secrets(text))
}

/// [`scrub`], and every occurrence of `token` replaced too (servers may echo it).
pub(crate) fn scrub_with_token(text: &str, token: &str) -> String {
    let scrubbed = scrub(text);
    // A token this short would match ordinary text; tokens are never this short.
    if token.len() >= 4 && scrubbed.contains(token) { scrubbed.replace(token, REDACTED) } else { scrubbed }
}

/// The values of [`URL_SECRET_KEYS`], up to the next delimiter.
fn scrub_url_secrets(text: &str) -> String {
    // ASCII lower-casing keeps byte offsets, so positions found in `lower` index `text`.
    let lower = text.to_ascii_lowercase();
    let mut out = String::with_capacity(text.len());
    let mut pos = 0;
    // Each value starts past the last one: the loop cannot turn in place.
    while let Some(value_start) = next_url_secret(&lower, pos).filter(|start| *start > pos) {
        let value_end = text[value_start..]
            .find(|c: char| matches!(c, '&' | '"' | '\'' | '<' | '>' | '#' | '\\' | ',' | ';') || c.is_whitespace())
            .map_or(text.len(), |i| value_start + i);
        out.push_str(&text[pos..value_start]);
        out.push_str(REDACTED);
        // Never backwards: every turn of the loop moves on.
        pos = value_end.max(value_start);
    }
    out.push_str(&text[pos..]);
    out
}

/// Where the value of the first secret URL key at or after `from` starts.
fn next_url_secret(lower: &str, from: usize) -> Option<usize> {
    URL_SECRET_KEYS.iter().filter_map(|key| lower[from..].find(key).map(|i| from + i + key.len())).min()
}

/// The values of JSON fields named like secrets: `"access_token": "..."` keeps its quotes
/// and loses its value. Works on any text, including a truncated or broken body.
fn scrub_secret_fields(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut pos = 0;
    let mut search = 0;
    while let Some((value_start, value_end)) = next_secret_field(text, search).filter(|(start, _)| *start > search) {
        out.push_str(&text[pos..value_start]);
        // A bare scalar becomes a string, so that JSON stays JSON.
        let bare = text.as_bytes()[value_start - 1] != b'"';
        if bare {
            out.push('"');
        }
        out.push_str(REDACTED);
        if bare {
            out.push('"');
        }
        pos = value_end.max(value_start);
        search = pos;
    }
    out.push_str(&text[pos..]);
    out
}

/// The byte range of the next secret field's value at or after `from`: the inside of a
/// string (to its closing quote, or the end of a truncated text), or a bare scalar.
fn next_secret_field(text: &str, from: usize) -> Option<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut at = from;
    loop {
        // A key is a quoted string followed by a colon.
        let open = at + text[at..].find('"')?;
        let close = open + 1 + text[open + 1..].find('"')?;
        let key = text[open + 1..close].to_ascii_lowercase();
        let mut i = skip_spaces(bytes, close + 1);
        if i < bytes.len() && bytes[i] == b':' && SECRET_FIELD_WORDS.iter().any(|w| key.contains(w)) {
            i = skip_spaces(bytes, i + 1);
            match bytes.get(i) {
                Some(b'"') => return Some((i + 1, string_end(bytes, i + 1))),
                Some(b'{' | b'[') | None => {}
                Some(_) => {
                    let end = text[i..].find([',', '}', ']', '\n', ' ']).map_or(text.len(), |e| i + e);
                    if &text[i..end] != "null" {
                        return Some((i, end));
                    }
                }
            }
        }
        // The closing quote may open the next key (`"a","b":`), so look again from it
        // (and never from further back: every turn moves on).
        at = close.max(at + 1);
    }
}

/// The index of the first byte at or after `from` that is not whitespace.
fn skip_spaces(bytes: &[u8], from: usize) -> usize {
    bytes[from.min(bytes.len())..].iter().position(|b| !b.is_ascii_whitespace()).map_or(bytes.len(), |n| from + n)
}

/// The index of the unescaped closing quote of a JSON string whose content starts at
/// `start` (the end of the text when it is cut off).
fn string_end(bytes: &[u8], start: usize) -> usize {
    let mut escaped = false;
    let closing = |b: &u8| {
        let quote = !escaped && *b == b'"';
        escaped = !escaped && *b == b'\\';
        quote
    };
    bytes[start.min(bytes.len())..].iter().position(closing).map_or(bytes.len(), |n| start + n)
}

/// A one-line excerpt of at most `max` characters of `text`, scrubbed. The text is cut
/// generously before scrubbing and exactly after it, so that neither a secret nor the
/// token can be cut in two with one half surviving.
pub(crate) fn scrubbed_excerpt(text: &str, token: &str, max: usize) -> String {
    // Secrets start within the first `max` characters and are shorter than the margin.
    let generous = excerpt(text, max.saturating_mul(4).saturating_add(2048));
    excerpt(&scrub_with_token(&generous, token), max)
}

/// A one-line excerpt of at most `max` characters: whitespace runs folded to one space,
/// and control characters shown as escapes (a service's message cannot act on the terminal
/// that prints it).
pub(crate) fn excerpt(text: &str, max: usize) -> String {
    let mut out = String::new();
    for (count, word) in text.split_whitespace().enumerate() {
        if count > 0 {
            out.push(' ');
        }
        out.push_str(&crate::util::visible::visible(word));
        if out.chars().count() > max {
            let cut: String = out.chars().take(max).collect();
            return cut + "…";
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrubs_signature_and_credential_in_a_url() {
        let url = "https://storage.googleapis.com/b/o?X-Goog-Algorithm=GOOG4&X-Goog-Credential=sa%40p.iam%2F2024&X-Goog-Signature=abcdef0123&X-Goog-SignedHeaders=host";
        let out = scrub(url);
        assert!(!out.contains("abcdef0123"), "{out}");
        assert!(!out.contains("sa%40p"), "{out}");
        assert!(out.contains("X-Goog-Algorithm=GOOG4"));
        assert!(out.ends_with("X-Goog-SignedHeaders=host"));
        assert_eq!(
            scrub("?X-Goog-Credential=c1&X-Goog-Signature=s1"),
            "?X-Goog-Credential=<redacted>&X-Goog-Signature=<redacted>"
        );
    }

    #[test]
    fn scrubs_v2_and_s3_signed_urls() {
        let v2 = "https://storage.googleapis.com/b/o?GoogleAccessId=sa@p.iam&Expires=1&Signature=V2SIG%2Bx";
        assert_eq!(
            scrub(v2),
            "https://storage.googleapis.com/b/o?GoogleAccessId=<redacted>&Expires=1&Signature=<redacted>"
        );
        let s3 = "https://b.s3.amazonaws.com/o?X-Amz-Credential=AKIA/x&X-Amz-Security-Token=STS1&X-Amz-Signature=ab12";
        let out = scrub(s3);
        for secret in ["AKIA", "STS1", "ab12"] {
            assert!(!out.contains(secret), "{out}");
        }
    }

    #[test]
    fn scrubs_any_case_and_inside_xml() {
        let body = "<CanonicalRequest>PUT\n/o\nx-goog-signature=SECRET1&X-GOOG-CREDENTIAL=SECRET2</CanonicalRequest>";
        let out = scrub(body);
        assert!(!out.contains("SECRET1") && !out.contains("SECRET2"), "{out}");
        assert!(out.ends_with("</CanonicalRequest>"), "{out}");
    }

    #[test]
    fn scrubs_json_fields_named_like_secrets() {
        let login = r#"{"id": 1, "company_id": null, "token_access": "T1", "access_token":"T2", "refresh_token" : "T3", "password": 42, "client_secret": "a\"b", "name": "kept"}"#;
        let out = scrub(login);
        for secret in ["T1", "T2", "T3", "42", "a\\\"b"] {
            assert!(!out.contains(secret), "{secret} in {out}");
        }
        assert!(out.contains(r#""access_token":"<redacted>""#), "{out}");
        assert!(out.contains(r#""name": "kept""#) && out.contains(r#""company_id": null"#), "{out}");
        // Still JSON: the message of a scrubbed error body can be parsed.
        assert!(serde_json::from_str::<serde_json::Value>(&out).is_ok(), "{out}");
    }

    #[test]
    fn scrubs_a_secret_field_cut_off_by_truncation() {
        assert_eq!(scrub(r#"{"data": 1, "refresh_token": "abc"#), r#"{"data": 1, "refresh_token": "<redacted>"#);
        assert_eq!(scrub(r#"{"token": null, "x": "token"}"#), r#"{"token": null, "x": "token"}"#);
        assert_eq!(scrub(r#"["token", "plain"]"#), r#"["token", "plain"]"#);
        assert_eq!(scrub(r#"{"a":"b","token":"c"}"#), r#"{"a":"b","token":"<redacted>"}"#);
    }

    #[test]
    fn leaves_text_without_secrets_alone() {
        assert_eq!(scrub("plain text, no keys"), "plain text, no keys");
        assert_eq!(scrub(""), "");
        assert_eq!(scrub(r#"{"tag": "Good", "score": 3}"#), r#"{"tag": "Good", "score": 3}"#);
    }

    #[test]
    fn removes_the_token() {
        assert_eq!(scrub_with_token("bad token tok-123 here", "tok-123"), "bad token <redacted> here");
        assert_eq!(scrub_with_token("abc", "ab"), "abc");
    }

    #[test]
    fn an_excerpt_never_keeps_half_a_secret() {
        let token = "tok_0123456789abcdef";
        let text = format!("{}{token} X-Goog-Signature={}", "x".repeat(190), "s".repeat(900));
        let out = scrubbed_excerpt(&text, token, 200);
        assert!(out.ends_with("<redacted>…"), "{out}");
        assert!(!out.contains("tok_"), "{out}");
        let out = scrubbed_excerpt(&format!("{} X-Goog-Signature={}", "x".repeat(150), "s".repeat(900)), token, 200);
        assert!(!out.contains("sss"), "{out}");
    }

    #[test]
    fn an_excerpt_shows_control_characters_instead_of_sending_them() {
        assert_eq!(excerpt("bad\u{1b}]0;title\u{7} photo", 80), "bad\\u{1b}]0;title\\u{7} photo");
    }

    #[test]
    fn excerpt_is_one_line_and_bounded() {
        assert_eq!(excerpt("a\n\n b\tc", 10), "a b c");
        assert_eq!(excerpt("abcdefghijkl", 5), "abcde…");
        assert_eq!(excerpt("abcde", 5), "abcde");
    }
}
