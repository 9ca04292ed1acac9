//! Strategy and health bookkeeping of the [`Balancer`], without sockets
//! (the active check is exercised by the proxy integration tests).
use http::HeaderMap;

use super::*;
use crate::protocol::socketio::connect::Query;
use crate::server::TransportKind;

fn urls(n: usize) -> Vec<UpstreamUrl> {
    (0..n)
        .map(|i| format!("ws://10.0.0.{i}:80").parse().expect("url"))
        .collect()
}

fn hs(query: &str, headers: &[(&'static str, &'static str)]) -> Handshake {
    let mut map = HeaderMap::new();
    for (k, v) in headers {
        map.insert(*k, http::HeaderValue::from_static(v));
    }
    Handshake {
        sid: "s".into(),
        eio: Revision::V3,
        transport: TransportKind::WebSocket,
        query: Query::parse(query),
        headers: map,
        remote: "127.0.0.1:1".parse().expect("addr"),
        secure: false,
    }
}

#[test]
fn round_robin_rotates_the_first_choice_and_lists_every_upstream() {
    let b = Balancer::new(&urls(3), Balance::RoundRobin);
    let firsts: Vec<usize> = (0..6).map(|_| b.order(&hs("", &[]))[0]).collect();
    assert_eq!(firsts, [0, 1, 2, 0, 1, 2]);
    assert_eq!(b.order(&hs("", &[])), [0, 1, 2]);
}

#[test]
fn ejected_upstreams_go_last_until_they_recover() {
    let b = Balancer::new(&urls(2), Balance::RoundRobin);
    b.report_failure(0);
    assert!(
        b.get(0).is_some_and(Upstream::is_healthy),
        "one failure is not enough"
    );
    b.report_failure(0);
    assert!(!b.upstreams()[0].is_healthy());
    for _ in 0..4 {
        assert_eq!(b.order(&hs("", &[])), [1, 0]);
    }
    b.report_success(0);
    let firsts: Vec<usize> = (0..2).map(|_| b.order(&hs("", &[]))[0]).collect();
    assert!(firsts.contains(&0), "{firsts:?}");
}

#[test]
fn success_resets_the_failure_count() {
    let b = Balancer::new(&urls(1), Balance::RoundRobin);
    b.report_failure(0);
    b.report_success(0);
    b.report_failure(0);
    assert!(b.upstreams()[0].is_healthy());
}

#[test]
fn least_connections_prefers_the_idlest_upstream() {
    let b = Arc::new(Balancer::new(&urls(3), Balance::LeastConnections));
    let _a = b.acquire(0);
    let _b = b.acquire(0);
    let c = b.acquire(2);
    assert_eq!(b.order(&hs("", &[]))[0], 1);
    let _d = b.acquire(1);
    let _e = b.acquire(1);
    assert_eq!(b.order(&hs("", &[]))[0], 2);
    drop(c);
    assert_eq!(b.upstreams()[2].active(), 0);
}

#[test]
fn hash_of_a_query_key_keeps_a_user_on_one_upstream() {
    let b = Balancer::new(&urls(4), Balance::HashQuery("user".into()));
    let first = |q: &str| b.order(&hs(q, &[]))[0];
    let alice = first("user=alice");
    for _ in 0..5 {
        assert_eq!(first("user=alice&t=1"), alice);
    }
    let spread: std::collections::HashSet<usize> =
        (0..40).map(|i| first(&format!("user=u{i}"))).collect();
    assert!(spread.len() > 1, "hash spreads users: {spread:?}");
    // Without the key: round-robin.
    let firsts: std::collections::HashSet<usize> = (0..4).map(|_| first("")).collect();
    assert_eq!(firsts.len(), 4);
}

#[test]
fn hash_of_a_header_gives_affinity_and_skips_an_ejected_target() {
    let b = Balancer::new(&urls(3), Balance::HashHeader("x-user".into()));
    let order = b.order(&hs("", &[("x-user", "bob")]));
    let home = order[0];
    b.report_failure(home);
    b.report_failure(home);
    let moved = b.order(&hs("", &[("x-user", "bob")]));
    assert_ne!(moved[0], home);
    assert_eq!(moved[2], home);
}

#[test]
fn fnv1a_matches_the_reference_values() {
    assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
    assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
}
