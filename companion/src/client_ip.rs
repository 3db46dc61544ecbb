//! The visitor's IP address for `POST /api/collect`, taken from the connection, never from
//! the request body: the TCP peer, or — only when the peer is a trusted proxy
//! ([`TrustedProxies`]) — the `X-Forwarded-For` header, read the standard way:
//!
//! - the peer is not trusted (or none is configured): the peer, whatever the header says;
//! - otherwise the header's entries (several headers joined in order) are walked from the
//!   right, each trusted entry skipped, and the first untrusted one is the visitor;
//! - an entry that is not a plain IP address (a port, garbage, an empty entry) stops the walk:
//!   the peer is used, since nothing left of it can be believed;
//! - when every entry is trusted, the leftmost one (the visitor is on a trusted network);
//!   without the header, the peer.
//!
//! IPv4-mapped IPv6 addresses (`::ffff:a.b.c.d`) are reported as IPv4.

use std::net::IpAddr;

use axum::http::HeaderValue;

use crate::trusted_proxies::TrustedProxies;

/// The header read from trusted proxies.
pub const X_FORWARDED_FOR: &str = "x-forwarded-for";

/// The visitor's address, given the TCP peer and the request's `X-Forwarded-For` values.
pub fn client_ip<'a>(
    peer: IpAddr,
    forwarded_for: impl IntoIterator<Item = &'a HeaderValue>,
    trusted: &TrustedProxies,
) -> IpAddr {
    let peer = peer.to_canonical();
    if !trusted.contains(peer) {
        return peer;
    }
    let mut entries: Vec<&str> = Vec::new();
    for value in forwarded_for {
        let Ok(text) = value.to_str() else {
            return peer;
        };
        entries.extend(text.split(','));
    }
    let mut leftmost_trusted = None;
    for raw in entries.iter().rev() {
        let Ok(ip) = raw.trim().parse::<IpAddr>() else {
            return peer;
        };
        let ip = ip.to_canonical();
        if !trusted.contains(ip) {
            return ip;
        }
        leftmost_trusted = Some(ip);
    }
    leftmost_trusted.unwrap_or(peer)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn trusted(entries: &[&str]) -> TrustedProxies {
        TrustedProxies::parse(entries).unwrap()
    }

    fn xff(values: &[&str]) -> Vec<HeaderValue> {
        values
            .iter()
            .map(|v| HeaderValue::from_str(v).unwrap())
            .collect()
    }

    fn walk(peer: &str, values: &[&str], proxies: &[&str]) -> String {
        client_ip(ip(peer), &xff(values), &trusted(proxies)).to_string()
    }

    #[test]
    fn without_trusted_proxies_the_peer() {
        assert_eq!(walk("203.0.113.7", &[], &[]), "203.0.113.7");
        assert_eq!(walk("203.0.113.7", &["198.51.100.1"], &[]), "203.0.113.7");
        assert_eq!(walk("127.0.0.1", &["198.51.100.1"], &[]), "127.0.0.1");
    }

    #[test]
    fn a_trusted_peer_gives_the_rightmost_untrusted_entry() {
        let proxies = ["127.0.0.1", "10.0.0.0/8"];
        assert_eq!(
            walk("127.0.0.1", &["198.51.100.1"], &proxies),
            "198.51.100.1"
        );
        // The visitor's own claim (left) is not believed past the first untrusted hop.
        assert_eq!(
            walk(
                "127.0.0.1",
                &["1.2.3.4, 198.51.100.1, 10.0.0.5, 10.9.9.9"],
                &proxies
            ),
            "198.51.100.1"
        );
        // Several headers are one list, in order.
        assert_eq!(
            walk(
                "127.0.0.1",
                &["1.2.3.4, 198.51.100.1", "10.0.0.5"],
                &proxies
            ),
            "198.51.100.1"
        );
        // Spaces around entries are fine.
        assert_eq!(
            walk("10.1.1.1", &["  198.51.100.2 ,10.0.0.5  "], &proxies),
            "198.51.100.2"
        );
        // Every entry trusted: the leftmost; no header: the peer.
        assert_eq!(
            walk("127.0.0.1", &["10.0.0.7, 10.0.0.5"], &proxies),
            "10.0.0.7"
        );
        assert_eq!(walk("127.0.0.1", &[], &proxies), "127.0.0.1");
    }

    #[test]
    fn an_untrusted_peer_is_the_visitor_even_with_the_header() {
        assert_eq!(
            walk("198.51.100.9", &["1.2.3.4"], &["127.0.0.1", "10.0.0.0/8"]),
            "198.51.100.9"
        );
    }

    #[test]
    fn garbage_stops_the_walk_at_the_peer() {
        let proxies = ["127.0.0.1", "10.0.0.0/8"];
        for bad in [
            "unknown",
            "",
            "1.2.3.4,,10.0.0.5",
            "1.2.3.4, 10.0.0.5:8080",
            "1.2.3.4, [2001:db8::1]:443",
            "1.2.3.4, 10.0.0.256",
            "1.2.3.4; 10.0.0.5",
        ] {
            assert_eq!(walk("127.0.0.1", &[bad], &proxies), "127.0.0.1", "{bad:?}");
        }
        // An untrusted entry right of the garbage is found before it.
        assert_eq!(
            walk("127.0.0.1", &["garbage, 198.51.100.1"], &proxies),
            "198.51.100.1"
        );
        // Not UTF-8 text.
        let odd = HeaderValue::from_bytes(b"1.2.3.4, \xff").unwrap();
        assert_eq!(
            client_ip(ip("127.0.0.1"), [&odd], &trusted(&proxies)).to_string(),
            "127.0.0.1"
        );
    }

    #[test]
    fn ipv6() {
        let proxies = ["::1", "fd00::/8"];
        assert_eq!(
            walk("::1", &["2001:db8::1, fd00::5"], &proxies),
            "2001:db8::1"
        );
        assert_eq!(
            walk("::1", &["2001:DB8:0:0::1"], &proxies),
            "2001:db8::1",
            "written canonically"
        );
        assert_eq!(walk("2001:db8::9", &["1.2.3.4"], &proxies), "2001:db8::9");
        // Mixed families, and a dual-stack socket's IPv4-mapped peer and entries.
        let mixed = ["127.0.0.1", "::1"];
        assert_eq!(
            walk("::ffff:127.0.0.1", &["203.0.113.5"], &mixed),
            "203.0.113.5"
        );
        assert_eq!(
            walk("::ffff:198.51.100.3", &["203.0.113.5"], &mixed),
            "198.51.100.3"
        );
        assert_eq!(walk("::1", &["::ffff:203.0.113.5"], &mixed), "203.0.113.5");
        assert_eq!(walk("127.0.0.1", &["2001:db8::2"], &mixed), "2001:db8::2");
    }
}
