//! Which address a request comes from: the socket's peer, or — only when the peer is a proxy the operator
//! trusts (`--trusted-proxy CIDR`) — the nearest untrusted hop of `X-Forwarded-For`.

use std::net::IpAddr;

use axum::http::HeaderMap;
use ipnet::IpNet;

/// Networks of reverse proxies whose `X-Forwarded-For` is believed. Empty (the default): the header is
/// ignored and the socket's peer is the client.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

/// IPv4-mapped IPv6 addresses (`::ffff:a.b.c.d`) as IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// One `X-Forwarded-For` entry: `addr`, `addr:port` or `[v6]:port`.
fn parse_hop(entry: &str) -> Option<IpAddr> {
    let entry = entry.trim();
    entry
        .parse::<IpAddr>()
        .ok()
        .or_else(|| entry.parse::<std::net::SocketAddr>().ok().map(|s| s.ip()))
        .map(canonical)
}

impl TrustedProxies {
    /// Trust these networks.
    pub fn new(networks: Vec<IpNet>) -> Self {
        Self(networks)
    }

    /// Whether `ip` belongs to a trusted proxy.
    pub fn trusts(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// The client of a request whose socket peer is `peer`. Walks `X-Forwarded-For` from the right while the
    /// hop that added the entry is trusted; a malformed entry stops the walk (the last trusted-reported hop
    /// is used). A client cannot spoof its address by sending the header itself: only entries appended by
    /// trusted proxies are read.
    pub fn client_ip(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let mut client = canonical(peer);
        if !self.trusts(client) {
            return client;
        }
        let hops = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .collect::<Vec<_>>();
        for entry in hops.into_iter().rev() {
            if !self.trusts(client) {
                break;
            }
            match parse_hop(entry) {
                Some(ip) => client = ip,
                None => break,
            }
        }
        client
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(xff: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in xff {
            h.append("x-forwarded-for", v.parse().unwrap());
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn untrusted_peers_are_the_client_whatever_they_send() {
        let none = TrustedProxies::default();
        assert_eq!(
            none.client_ip(ip("203.0.113.9"), &headers(&["1.2.3.4"])),
            ip("203.0.113.9")
        );
        let lb = TrustedProxies::new(vec!["10.0.0.0/8".parse().unwrap()]);
        assert_eq!(
            lb.client_ip(ip("203.0.113.9"), &headers(&["1.2.3.4"])),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn trusted_proxies_are_walked_from_the_right() {
        let lb = TrustedProxies::new(vec![
            "10.0.0.0/8".parse().unwrap(),
            "fd00::/8".parse().unwrap(),
        ]);
        // The client forged "6.6.6.6"; the proxy appended the real peer 198.51.100.7.
        let h = headers(&["6.6.6.6, 198.51.100.7"]);
        assert_eq!(lb.client_ip(ip("10.1.2.3"), &h), ip("198.51.100.7"));
        // Two trusted hops, split over two header lines.
        let h = headers(&["198.51.100.7", "10.9.9.9"]);
        assert_eq!(lb.client_ip(ip("10.1.2.3"), &h), ip("198.51.100.7"));
        // Ports and IPv6, IPv4-mapped peers.
        let h = headers(&["[2001:db8::1]:4711"]);
        assert_eq!(lb.client_ip(ip("fd00::1"), &h), ip("2001:db8::1"));
        let h = headers(&["198.51.100.7:1234"]);
        assert_eq!(lb.client_ip(ip("::ffff:10.0.0.1"), &h), ip("198.51.100.7"));
        // Garbage stops the walk at the last trusted hop; no header leaves the proxy as the client.
        let h = headers(&["198.51.100.7, garbage"]);
        assert_eq!(lb.client_ip(ip("10.1.2.3"), &h), ip("10.1.2.3"));
        assert_eq!(
            lb.client_ip(ip("10.1.2.3"), &HeaderMap::new()),
            ip("10.1.2.3")
        );
    }
}
