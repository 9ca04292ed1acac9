//! Every client-side malformed-input row of PROTOCOL.md §5 (40–52) against
//! a running standalone gateway: the offending session is closed, and a
//! bystander session on the same server keeps receiving pushes.
#[allow(dead_code, unused_imports)] // the harness uses only the HTTP client of it
mod common;
mod standalone_harness;

use serde_json::json;
use siogate::config::ServerConfig;
use siogate::standalone::NamespacePolicy;
use standalone_harness::gateway;
use standalone_harness::net::{
    Server, Ws, http, ws_connect, ws_send, ws_send_bin, ws_text, ws_until_closed,
};

async fn server() -> Server {
    let gw = gateway(|o| o.namespaces = NamespacePolicy::List(vec!["/chat".into()]));
    let cfg = ServerConfig {
        max_payload_bytes: 10_000,
        ..ServerConfig::default()
    };
    Server::start_with(gw, cfg).await
}

/// A connected SIO5 (eio 4) or SIO4 (eio 3) WebSocket session.
async fn connected(server: &Server, eio: u8) -> Ws {
    let (mut ws, _) = ws_connect(server.addr, eio, "").await;
    if eio == 4 {
        ws_send(&mut ws, "40").await;
    }
    assert!(ws_text(&mut ws).await.starts_with("40"));
    ws
}

/// The bystander still gets a push, and only it.
async fn bystander_still_served(server: &Server, bystander: &mut Ws, tag: &str) {
    let push = json!({"event": "alive", "args": [tag]});
    let (_, resp) = server.api("POST", "emit", &push.to_string()).await;
    assert_eq!(resp, json!({"delivered": 1}), "row {tag}");
    assert_eq!(ws_text(bystander).await, format!(r#"42["alive","{tag}"]"#));
}

#[tokio::test]
async fn malformed_websocket_packets_close_only_the_offender() {
    // (row, EIO revision, frames the offender sends; `bin:` = binary frame)
    let rows: &[(&str, u8, &[&str])] = &[
        ("40", 4, &["4abc"]),
        ("40/v4", 3, &["4abc"]),
        ("41", 4, &[r#"42["ping2""#]),
        ("41/v4", 3, &[r#"42["ping2""#]),
        ("42", 4, &["42{}"]),
        ("43", 4, &[r#"4511-["x"]"#]),
        ("44", 4, &[r#"450-["x"]"#]),
        ("45", 4, &[r#"4212345678901234567890["a"]"#]),
        (
            "46",
            4,
            &[r#"451-["a",{"_placeholder":true,"num":0}]"#, r#"42["b"]"#],
        ),
        ("47", 4, &["bin:0102"]),
        ("47/v4", 3, &["bin:040102"]),
        ("49", 4, &["40chat,"]),
        ("50", 4, &["2"]),
        ("52", 4, &["40/chat,", "40/chat,"]),
    ];
    let server = server().await;
    let mut bystander = connected(&server, 4).await;
    for (row, eio, frames) in rows {
        let mut ws = connected(&server, *eio).await;
        for frame in *frames {
            match frame.strip_prefix("bin:") {
                Some(hex) => {
                    let bytes: Vec<u8> = (0..hex.len())
                        .step_by(2)
                        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
                        .collect();
                    ws_send_bin(&mut ws, &bytes).await;
                }
                None => ws_send(&mut ws, frame).await,
            }
        }
        let seen = ws_until_closed(&mut ws).await;
        // Only a CONNECT reply (row 52), heartbeats or the close packet
        // may come before the connection ends.
        assert!(
            seen.iter()
                .all(|m| m == "1" || m == "2" || m.starts_with("40/chat,")),
            "row {row}: {seen:?}"
        );
        bystander_still_served(&server, &mut bystander, row).await;
    }
    server.stop().await;
}

/// The 1009 close code itself is asserted in tests/engineio_websocket.rs
/// (`vector_51_oversize_websocket_message_closes_with_1009`); here: only the
/// offender goes.
#[tokio::test]
async fn vector_51_oversized_websocket_message_closes_only_the_offender() {
    let server = server().await;
    let mut bystander = connected(&server, 4).await;
    let (mut ws, _) = ws_connect(server.addr, 4, "").await;
    let big = format!(r#"42["x","{}"]"#, "a".repeat(20_000));
    ws_send(&mut ws, &big).await;
    ws_until_closed(&mut ws).await;
    bystander_still_served(&server, &mut bystander, "51").await;
    server.stop().await;
}

#[tokio::test]
async fn row_48_polling_post_with_a_wrong_length_is_400() {
    let server = server().await;
    let mut bystander = connected(&server, 4).await;
    let (poller, _) = common::http_client::Poller::open(server.addr, 3, "").await;
    let pq = poller.url("");
    let bad = r#"43:451-3["bin",{"_placeholder":true,"num":0}]"#;
    let (status, _) = http(server.addr, "POST", &pq, &[], bad).await;
    assert_eq!(status, 400);
    // The next GET is told goodbye (Node: `1:6` then `1:1`).
    let (status, body) = http(server.addr, "GET", &pq, &[], "").await;
    assert_eq!(status, 200);
    assert!(body.ends_with(b"1:1"), "{body:?}");
    // The session is gone: pushes reach only the bystander.
    bystander_still_served(&server, &mut bystander, "48").await;
    server.stop().await;
}
