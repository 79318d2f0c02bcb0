//! Scrubbing of secrets from anything we print: signed-URL signatures and bearer tokens.
//!
//! Signed storage URLs are bearer credentials, and error bodies from storage echo the
//! canonical request (query string included), so every URL and every body excerpt passes
//! through [`scrub`] before it is stored in an error or shown by `Debug`.

/// Query parameters of a Google Cloud Storage V4 signed URL that grant access.
const SECRET_KEYS: [&str; 2] = ["x-goog-signature=", "x-goog-credential="];

/// What replaces a secret value.
pub(crate) const REDACTED: &str = "<redacted>";

/// Replaces the values of `X-Goog-Signature` and `X-Goog-Credential` (in any letter case,
/// wherever they appear: a URL, an XML error body, a JSON string) with `<redacted>`.
pub(crate) fn scrub(text: &str) -> String {
    // ASCII lower-casing keeps byte offsets, so positions found in `lower` index `text`.
    let lower = text.to_ascii_lowercase();
    let mut out = String::with_capacity(text.len());
    let mut pos = 0;
    while let Some((start, key_len)) = next_key(&lower, pos) {
        let value_start = start + key_len;
        let value_end = text[value_start..]
            .find(|c: char| matches!(c, '&' | '"' | '\'' | '<' | '>' | '#' | '\\') || c.is_whitespace())
            .map_or(text.len(), |i| value_start + i);
        out.push_str(&text[pos..value_start]);
        out.push_str(REDACTED);
        pos = value_end;
    }
    out.push_str(&text[pos..]);
    out
}

fn next_key(lower: &str, from: usize) -> Option<(usize, usize)> {
    SECRET_KEYS.iter().filter_map(|key| lower[from..].find(key).map(|i| (from + i, key.len()))).min()
}

/// [`scrub`], and every occurrence of `token` replaced too (servers may echo it).
pub(crate) fn scrub_with_token(text: &str, token: &str) -> String {
    let scrubbed = scrub(text);
    if token.len() >= 4 && scrubbed.contains(token) { scrubbed.replace(token, REDACTED) } else { scrubbed }
}

/// A one-line excerpt of at most `max` characters: whitespace runs folded to one space.
pub(crate) fn excerpt(text: &str, max: usize) -> String {
    let mut out = String::new();
    for (count, word) in text.split_whitespace().enumerate() {
        if count > 0 {
            out.push(' ');
        }
        out.push_str(word);
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
    }

    #[test]
    fn scrubs_any_case_and_inside_xml() {
        let body = "<CanonicalRequest>PUT\n/o\nx-goog-signature=SECRET1&X-GOOG-CREDENTIAL=SECRET2</CanonicalRequest>";
        let out = scrub(body);
        assert!(!out.contains("SECRET1") && !out.contains("SECRET2"), "{out}");
    }

    #[test]
    fn leaves_text_without_secrets_alone() {
        assert_eq!(scrub("plain text, no keys"), "plain text, no keys");
        assert_eq!(scrub(""), "");
    }

    #[test]
    fn removes_the_token() {
        assert_eq!(scrub_with_token("bad token tok-123 here", "tok-123"), "bad token <redacted> here");
    }

    #[test]
    fn excerpt_is_one_line_and_bounded() {
        assert_eq!(excerpt("a\n\n b\tc", 10), "a b c");
        assert_eq!(excerpt("abcdefghijkl", 5), "abcde…");
    }
}
