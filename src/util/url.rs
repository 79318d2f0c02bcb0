//! Every URL and query operation: base URLs, hosts and paths for messages, query strings
//! both ways. Parsing is `http::Uri`'s (through ureq) and encoding is the
//! `percent-encoding` crate's (also ureq's), so none of it is hand-written splitting.
//! The emulator uses this module too.

use std::net::IpAddr;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use ureq::http::Uri;

/// Everything but RFC 3986's unreserved characters is encoded.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

/// A checked base URL.
#[derive(Debug, PartialEq)]
pub(crate) struct BaseUrl {
    /// Scheme, authority and path prefix, without a trailing slash.
    pub(crate) url: String,
    /// Whether the host is a loopback address.
    pub(crate) loopback: bool,
}

impl BaseUrl {
    /// Checks `raw` as a base URL: `http(s)://host[:port][/prefix]`, nothing else. Plain
    /// http is refused unless the host is loopback or `allow_insecure_http` is set.
    pub(crate) fn parse(raw: &str, allow_insecure_http: bool) -> Result<BaseUrl, String> {
        // Checked first, so that no message below repeats a URL holding a password.
        if raw.contains('@') {
            return Err("the base url must not contain credentials (user:password@)".into());
        }
        let uri: Uri = raw.parse().map_err(|_| format!("{raw:?} is not a valid url"))?;
        let (Some(scheme), Some(authority)) = (uri.scheme_str(), uri.authority()) else {
            return Err(format!("{raw:?} is not an absolute url"));
        };
        if scheme != "http" && scheme != "https" {
            return Err(format!("{raw:?} does not start with https:// or http://"));
        }
        if uri.query().is_some() || raw.contains('#') {
            return Err(format!("{raw:?} must not contain a query or a fragment"));
        }
        if authority.as_str().len() > authority.host().len() && authority.port_u16().is_none() {
            return Err(format!("{raw:?} has an invalid port"));
        }
        let host = authority.host().trim_start_matches('[').trim_end_matches(']');
        let loopback =
            host.eq_ignore_ascii_case("localhost") || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback());
        if scheme == "http" && !loopback && !allow_insecure_http {
            return Err(format!(
                "{raw:?} uses plain http to a non-loopback host: the token would travel unencrypted \
                 (use https, or allow_insecure_http(true) if you really mean it)"
            ));
        }
        let prefix = uri.path().trim_end_matches('/');
        // One spelling per service (host in lower case, no default port): the journal of
        // bulk runs is bound to it, and `HTTPS://SaaS.Haut.ai:443` is the same service.
        let default_port = if scheme == "https" { 443 } else { 80 };
        let port = authority.port_u16().filter(|p| *p != default_port).map(|p| format!(":{p}")).unwrap_or_default();
        let host = authority.host().to_ascii_lowercase();
        Ok(BaseUrl { url: format!("{scheme}://{host}{port}{prefix}"), loopback })
    }
}

/// `host:port` of an absolute URL, for messages (never a path, a query or credentials).
pub(crate) fn authority_of(url: &str) -> String {
    let uri = url.parse::<Uri>().ok();
    let authority = uri.as_ref().and_then(Uri::authority);
    authority.map_or_else(String::new, |a| a.as_str().rsplit('@').next().unwrap_or_default().to_owned())
}

/// The path of a URL, for messages: no scheme, host, query or fragment (a signed URL's
/// signature lives in its query).
pub(crate) fn path_of(url: &str) -> String {
    url.parse::<Uri>().map_or_else(|_| "/".to_owned(), |uri| uri.path().to_owned())
}

/// The query of a link (without `?` or fragment), if it has a non-empty, valid one.
pub(crate) fn query_of(link: &str) -> Option<String> {
    let uri: Uri = link.parse().ok()?;
    uri.query().filter(|q| !q.is_empty()).map(str::to_owned)
}

/// `k=v&...`, every key and value percent-encoded; empty when there are no pairs.
pub(crate) fn query_string<K: AsRef<str>, V: AsRef<str>>(pairs: &[(K, V)]) -> String {
    let encoded: Vec<String> = pairs
        .iter()
        .map(|(k, v)| {
            format!("{}={}", utf8_percent_encode(k.as_ref(), COMPONENT), utf8_percent_encode(v.as_ref(), COMPONENT))
        })
        .collect();
    encoded.join("&")
}

/// The pairs of a query string, percent-decoded (`+` is a space, as forms send it).
#[cfg(any(test, feature = "emulator"))]
pub(crate) fn query_pairs(query: &str) -> Vec<(String, String)> {
    let decode = |s: &str| percent_encoding::percent_decode_str(&s.replace('+', " ")).decode_utf8_lossy().into_owned();
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(key), decode(value))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_keep_their_prefix_and_lose_trailing_slashes() {
        let b = BaseUrl::parse("https://saas.haut.ai/", false).unwrap();
        assert_eq!(b, BaseUrl { url: "https://saas.haut.ai".into(), loopback: false });
        let b = BaseUrl::parse("HTTP://127.0.0.1:8080/proxy/haut//", false).unwrap();
        assert_eq!(b, BaseUrl { url: "http://127.0.0.1:8080/proxy/haut".into(), loopback: true });
        let b = BaseUrl::parse("HTTPS://SaaS.Haut.AI:443/", false).unwrap();
        assert_eq!(b.url, "https://saas.haut.ai", "one spelling per service");
        assert_eq!(BaseUrl::parse("http://LocalHost:80/x", false).unwrap().url, "http://localhost/x");
        assert_eq!(BaseUrl::parse("https://h.example:8443", false).unwrap().url, "https://h.example:8443");
        assert_eq!(BaseUrl::parse("http://[::1]:9000", false).unwrap().url, "http://[::1]:9000");
        assert!(BaseUrl::parse("http://[::1]:9000", false).unwrap().loopback);
        assert!(BaseUrl::parse("http://localhost:9000", false).unwrap().loopback);
    }

    #[test]
    fn plain_http_elsewhere_needs_an_opt_in() {
        let err = BaseUrl::parse("http://example.com", false).unwrap_err();
        assert!(err.contains("unencrypted"), "{err}");
        assert!(BaseUrl::parse("http://example.com", true).is_ok());
    }

    #[test]
    fn malformed_base_urls_are_refused() {
        let bad = [
            "saas.haut.ai",
            "ftp://x",
            "https://",
            "https://u:p@host",
            "https://h/?q=1",
            "https://h/#top",
            "https://h /x",
            "https://h:99999",
            "https://h:port",
        ];
        for bad in bad {
            assert!(BaseUrl::parse(bad, false).is_err(), "{bad}");
        }
        let err = BaseUrl::parse("ftp://user:hunter2@host", false).unwrap_err();
        assert!(!err.contains("hunter2"), "{err}");
    }

    #[test]
    fn messages_get_hosts_and_paths_without_queries() {
        assert_eq!(path_of("https://h.example/bucket/obj?X-Goog-Signature=s"), "/bucket/obj");
        assert_eq!(path_of("https://h.example"), "/");
        assert_eq!(authority_of("https://h.example:8443/bucket/obj?X-Goog-Signature=s"), "h.example:8443");
        assert_eq!(authority_of("https://user:pw@h.example/x"), "h.example");
    }

    #[test]
    fn next_links_give_only_their_query() {
        assert_eq!(query_of("http://api.example.org/accounts/?page=4").as_deref(), Some("page=4"));
        assert_eq!(query_of("https://evil.example/x?page=2&page_size=5#frag").as_deref(), Some("page=2&page_size=5"));
        assert_eq!(query_of("https://evil.example/x"), None);
        assert_eq!(query_of("https://evil.example/x?"), None);
        assert_eq!(query_of("https://h/x?page=2 3"), None);
    }

    #[test]
    fn queries_are_encoded_and_decoded() {
        assert_eq!(query_string(&[("q", "a b&c"), ("page", "2")]), "q=a%20b%26c&page=2");
        assert_eq!(query_string::<&str, &str>(&[]), "");
        assert_eq!(query_string(&[("name", "Zoë~x")]), "name=Zo%C3%AB~x");
        let pairs = query_pairs("q=a%20b%26c&page=2&flag&plus=a+b&&");
        let expected = [("q", "a b&c"), ("page", "2"), ("flag", ""), ("plus", "a b")];
        assert_eq!(pairs, expected.map(|(k, v)| (k.to_owned(), v.to_owned())));
    }
}
