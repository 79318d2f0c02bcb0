//! Where downloads may go. An asset's URL comes from the service's answer, which is
//! trusted to analyse photos, not to point the client at the user's own network: by
//! default a download goes only over https, and only to public addresses, so that a
//! compromised or buggy answer cannot fetch the cloud metadata service
//! (169.254.169.254), a router's page or a local admin port into a report that people
//! share. An API that is itself on a loopback or private address (the emulator, a test
//! rig, an on-premises proxy) has its storage there too, and is allowed it.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, ToSocketAddrs};

use ureq::http::Uri;

use crate::error::{ErrorKind, Result};

/// The download policy of a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Downloads {
    /// Any http(s) URL ([`SessionBuilder::download_from_any_host`](crate::SessionBuilder::download_from_any_host)).
    pub(crate) any_host: bool,
    /// The API is on a loopback or private address: so may its storage be.
    pub(crate) local_api: bool,
}

impl Downloads {
    /// The policy for an API at `api_host` (a host or IP literal, without port).
    pub(crate) fn for_api(api_host: &str, any_host: bool) -> Downloads {
        Downloads { any_host, local_api: !is_public_host(api_host) }
    }

    /// The policy for an API at the base URL `url`.
    pub(crate) fn for_base_url(url: &str, any_host: bool) -> Downloads {
        let host = url.parse::<Uri>().ok().and_then(|uri| uri.host().map(str::to_owned)).unwrap_or_default();
        Self::for_api(&host, any_host)
    }

    /// Checks that `url` may be downloaded. Errors name the host, never the signature.
    pub(crate) fn check(&self, url: &str) -> Result<()> {
        let uri: Option<Uri> = url.parse().ok();
        let (scheme, host) = match &uri {
            Some(uri) => (uri.scheme_str().unwrap_or_default(), uri.host().unwrap_or_default()),
            None => ("", ""),
        };
        if !matches!(scheme, "http" | "https") || host.is_empty() {
            return Err(ErrorKind::InvalidArgument(format!(
                "{:?} is not a signed http(s) url",
                crate::util::redact::excerpt(&crate::util::url::path_of(url), 80)
            ))
            .into());
        }
        if self.any_host || self.local_api {
            return Ok(());
        }
        let refuse = |why: &str| {
            Err(ErrorKind::InvalidArgument(format!(
                "refused to download from {host}: {why}. An asset url in the results should point to the \
                 service's storage; if yours really is there, allow it with SessionBuilder::download_from_any_host(true)"
            ))
            .into())
        };
        if scheme != "https" {
            return refuse("plain http (downloads go over https only)");
        }
        if !is_public_host(host) {
            return refuse("a loopback, private or link-local address");
        }
        // A name that resolves to such an address is refused too. (The connection resolves
        // again: a name that changes its answer in between is not caught here.)
        let port = uri.as_ref().and_then(Uri::port_u16).unwrap_or(443);
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        if let Ok(addresses) = (bare, port).to_socket_addrs()
            && let Some(address) = addresses.map(|a| a.ip()).find(|ip| !is_public(*ip))
        {
            return refuse(&format!("it resolves to {address}, a loopback, private or link-local address"));
        }
        Ok(())
    }
}

/// Whether `host` (a name or an IP literal) is not obviously local: `localhost` and
/// non-public IP literals are local; other names are judged when resolved.
fn is_public_host(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']').trim_end_matches('.');
    if bare.eq_ignore_ascii_case("localhost") || bare.to_ascii_lowercase().ends_with(".localhost") {
        return false;
    }
    bare.parse::<IpAddr>().is_ok_and(is_public) || bare.parse::<IpAddr>().is_err()
}

/// Whether `ip` is a public unicast address.
fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => match embedded_v4(v6) {
            Some(v4) => is_public_v4(v4),
            None => is_public_v6(v6),
        },
    }
}

/// The IPv4 address an IPv6 one carries and reaches: mapped (`::ffff:a.b.c.d`),
/// translated (`::ffff:0:a.b.c.d`), compatible (`::a.b.c.d`), NAT64 (`64:ff9b::a.b.c.d`,
/// and local-use `64:ff9b:1::/48`) or 6to4 (`2002:aabb:ccdd::`).
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let v4 = |hi: u16, lo: u16| Ipv4Addr::new((hi >> 8) as u8, hi as u8, (lo >> 8) as u8, lo as u8);
    match s {
        [0, 0, 0, 0, 0, 0xffff, hi, lo] | [0, 0, 0, 0, 0xffff, 0, hi, lo] | [0x64, 0xff9b, 0, 0, 0, 0, hi, lo] => {
            Some(v4(hi, lo))
        }
        // Local-use NAT64 (64:ff9b:1::/48): the IPv4 address in its last 32 bits.
        [0x64, 0xff9b, 1, ..] => Some(v4(s[6], s[7])),
        // (`::` and `::1` read as 0.0.0.0 and 0.0.0.1: not public either way.)
        [0, 0, 0, 0, 0, 0, hi, lo] => Some(v4(hi, lo)),
        [0x2002, hi, lo, ..] => Some(v4(hi, lo)),
        _ => None,
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_documentation()
        || ip.is_multicast()
        || a == 0
        // Carrier-grade NAT (100.64.0.0/10), IETF protocol assignments (192.0.0.0/24) and
        // benchmarking (198.18.0.0/15).
        || (a == 100 && (64..128).contains(&b))
        || (a == 192 && b == 0 && ip.octets()[2] == 0)
        || (a == 198 && (18..20).contains(&b))
        || a >= 240)
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        // Unique local (fc00::/7), link-local (fe80::/10) and the old site-local (fec0::/10).
        || (first & 0xfe00) == 0xfc00
        || (first & 0xffc0) == 0xfe80
        || (first & 0xffc0) == 0xfec0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn public() -> Downloads {
        Downloads::for_api("saas.haut.ai", false)
    }

    #[test]
    fn only_https_to_public_addresses_by_default() {
        for refused in [
            "https://169.254.169.254/latest/meta-data/?X-Goog-Signature=secret",
            "https://127.0.0.1:8080/x",
            "https://localhost/x",
            "https://api.localhost/x",
            "https://10.1.2.3/x",
            "https://172.16.0.1/x",
            "https://192.168.1.1/x",
            "https://100.64.0.1/x",
            "https://0.0.0.0/x",
            "https://[::1]/x",
            "https://[fe80::1]/x",
            "https://[fd00::1]/x",
            "https://[::ffff:127.0.0.1]/x",
            "https://[64:ff9b::a9fe:a9fe]/x",
            "https://[::a9fe:a9fe]/x",
            "https://[2002:a9fe:a9fe::]/x",
            "https://[64:ff9b:1::a9fe:a9fe]/x",
            "https://[::ffff:0:a9fe:a9fe]/x",
            "https://[fec0::1]/x",
            "https://192.0.0.192/x",
            "http://storage.googleapis.com/x",
        ] {
            let error = public().check(refused).unwrap_err().to_string();
            assert!(error.contains("refused to download from"), "{refused}: {error}");
            assert!(!error.contains("secret") && !error.contains("meta-data"), "{error}");
        }
        for allowed in [
            "https://storage.googleapis.com/b/x.png?sig=1",
            "https://8.8.8.8/x",
            "https://[2001:4860::1]/x",
            "https://[64:ff9b::808:808]/x",
            "https://[2002:808:808::1]/x",
        ] {
            assert!(public().check(allowed).is_ok(), "{allowed}");
        }
        assert!(public().check("ftp://storage.googleapis.com/x").unwrap_err().to_string().contains("not a signed"));
    }

    #[test]
    fn every_non_public_ipv4_range_is_told_from_its_public_neighbours() {
        let local = [
            "10.0.0.1",
            "172.31.0.1",
            "192.168.0.1",
            "127.0.0.2",
            "169.254.0.1",
            "255.255.255.255",
            "192.0.2.1",
            "224.0.0.1",
            "0.1.2.3",
            "100.64.0.1",
            "100.127.255.254",
            "192.0.0.8",
            "198.18.0.1",
            "198.19.255.1",
            "240.0.0.1",
        ];
        for ip in local {
            assert!(!is_public(ip.parse().unwrap()), "{ip} is not public");
        }
        let public = ["8.8.8.8", "100.63.255.254", "100.128.0.1", "192.0.1.1", "198.17.0.1", "198.20.0.1", "223.1.1.1"];
        for ip in public {
            assert!(is_public(ip.parse().unwrap()), "{ip} is public");
        }
        // An IPv6 form that carries a public IPv4 address is public.
        for ip in ["::ffff:8.8.8.8", "::ffff:192.0.1.1", "64:ff9b::808:808", "2002:808:808::1", "::8.8.8.8"] {
            assert!(is_public(ip.parse().unwrap()), "{ip} is public");
        }
    }

    #[test]
    fn a_local_api_or_the_setting_allows_local_storage() {
        for api in ["127.0.0.1", "localhost", "[::1]", "10.0.0.5"] {
            assert!(Downloads::for_api(api, false).check("http://127.0.0.1:9000/x").is_ok(), "{api}");
        }
        assert!(Downloads::for_api("saas.haut.ai", true).check("http://169.254.169.254/x").is_ok());
    }
}
