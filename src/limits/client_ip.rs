//! The client's IP behind trusted reverse proxies (`server.trusted_proxies`):
//! when the TCP peer is one of them, its `X-Forwarded-For` names the client.
//! The list is read from the right (each proxy appends the address it saw),
//! skipping trusted addresses; the first one that is not trusted is the
//! client. A peer that is not trusted, or no list at all, leaves the peer's
//! address. Per-IP session limits and the session log span use the result;
//! per-IP connection limits apply at accept, before any header, to the peer.
use std::net::{IpAddr, SocketAddr};

use http::HeaderMap;

use crate::config::IpNet;

/// The client's address for a request from `peer` with `headers`.
pub fn client_ip(trusted: &[IpNet], peer: IpAddr, headers: &HeaderMap) -> IpAddr {
    let is_trusted = |ip: IpAddr| trusted.iter().any(|net| net.contains(ip));
    let mut client = crate::config::ipnet::canonical(peer);
    if !is_trusted(client) {
        return client;
    }
    let hops: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .collect();
    for hop in hops.iter().rev() {
        // An entry that is not an address ends the chain we can vouch for.
        let Some(ip) = parse_hop(hop) else { break };
        client = ip;
        if !is_trusted(ip) {
            break;
        }
    }
    client
}

/// `203.0.113.7`, `2001:db8::1`, or with a port (`203.0.113.7:5000`,
/// `[2001:db8::1]:5000`), as some load balancers write it.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim();
    let ip = hop
        .parse::<IpAddr>()
        .ok()
        .or_else(|| hop.parse::<SocketAddr>().ok().map(|s| s.ip()))?;
    Some(crate::config::ipnet::canonical(ip))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter().map(|s| s.parse().unwrap()).collect()
    }

    fn xff(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append("x-forwarded-for", v.parse().unwrap());
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn untrusted_peer_or_no_list_keeps_the_peer() {
        let h = xff(&["203.0.113.7"]);
        assert_eq!(client_ip(&[], ip("10.0.0.1"), &h), ip("10.0.0.1"));
        let t = nets(&["10.0.0.0/8"]);
        assert_eq!(client_ip(&t, ip("192.0.2.1"), &h), ip("192.0.2.1"));
    }

    #[test]
    fn the_rightmost_untrusted_hop_is_the_client() {
        let t = nets(&["10.0.0.0/8", "127.0.0.1"]);
        // A client-supplied spoof on the left is ignored.
        let h = xff(&["6.6.6.6, 203.0.113.7, 10.0.0.3"]);
        assert_eq!(client_ip(&t, ip("127.0.0.1"), &h), ip("203.0.113.7"));
        // Several headers are one list, in order.
        let h = xff(&["6.6.6.6", "203.0.113.7", "10.0.0.3"]);
        assert_eq!(client_ip(&t, ip("10.0.0.2"), &h), ip("203.0.113.7"));
    }

    #[test]
    fn ports_mapped_addresses_and_garbage() {
        let t = nets(&["10.0.0.0/8"]);
        let h = xff(&["[2001:db8::1]:443, 10.0.0.9:80"]);
        assert_eq!(client_ip(&t, ip("10.0.0.1"), &h), ip("2001:db8::1"));
        assert_eq!(
            client_ip(&t, ip("::ffff:10.0.0.1"), &xff(&["198.51.100.2"])),
            ip("198.51.100.2")
        );
        // Garbage stops the walk at the last address vouched for.
        let h = xff(&["198.51.100.2, unknown, 10.0.0.4"]);
        assert_eq!(client_ip(&t, ip("10.0.0.1"), &h), ip("10.0.0.4"));
        // A trusted peer without the header is the client itself.
        assert_eq!(
            client_ip(&t, ip("10.0.0.1"), &HeaderMap::new()),
            ip("10.0.0.1")
        );
    }
}
