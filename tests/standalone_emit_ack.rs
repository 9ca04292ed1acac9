//! `POST /emit` with `"ack":true`: the event asks one socket for an ack and
//! the API reply carries the client's ACK (fake clients, no sockets).
#[allow(dead_code, unused_imports)] // the harness uses only the HTTP client of it
mod common;
mod standalone_harness;

use std::time::Duration;

use serde_json::{Value, json};
use siogate::protocol::engineio::Revision;
use siogate::standalone::{NamespacePolicy, Standalone};
use standalone_harness::{Client, api, gateway};
use tokio::task::JoinHandle;

fn chat_gateway() -> Standalone {
    gateway(|o| o.namespaces = NamespacePolicy::List(vec!["/chat".into()]))
}

async fn chat_client(gw: &Standalone) -> (Client, String) {
    let mut c = Client::open(gw, Revision::V4, "").await;
    c.send("0/chat,").await.unwrap();
    let reply = c.take()[0].replacen("0/chat,", "0", 1);
    let id = Client::connect_sid(&[reply]);
    (c, id)
}

fn spawn_emit(gw: &Standalone, body: Value) -> JoinHandle<(u16, Value)> {
    let gw = gw.clone();
    tokio::spawn(async move { api(&gw, "POST", "/api/v1/emit", &body.to_string()).await })
}

/// Waits (bounded) until the client was sent `n` packets; returns them.
async fn next_packets(c: &Client, n: usize) -> Vec<String> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    let mut got = Vec::new();
    loop {
        got.extend(c.take());
        if got.len() >= n {
            assert_eq!(got.len(), n, "{got:?}");
            return got;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "nothing sent in time"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

async fn next_packet(c: &Client) -> String {
    next_packets(c, 1).await.remove(0)
}

/// The ack id of `2/chat,<id>[...]`.
fn ack_id(packet: &str) -> u64 {
    let rest = packet.strip_prefix("2/chat,").expect("an EVENT on /chat");
    rest[..rest.find('[').unwrap()].parse().unwrap()
}

#[tokio::test]
async fn emit_with_ack_returns_the_clients_ack() {
    let gw = chat_gateway();
    let (mut c, id) = chat_client(&gw).await;
    let call = spawn_emit(
        &gw,
        json!({"namespace": "/chat", "event": "ask", "args": [1], "socket": id, "ack": true}),
    );
    let packet = next_packet(&c).await;
    let n = ack_id(&packet);
    assert_eq!(packet, format!(r#"2/chat,{n}["ask",1]"#));
    c.send(&format!(r#"3/chat,{n}["yes",{{"k":2}}]"#))
        .await
        .unwrap();
    let (status, body) = call.await.unwrap();
    assert_eq!(
        (status, body),
        (200, json!({"delivered": 1, "ack": ["yes", {"k": 2}]}))
    );
}

#[tokio::test]
async fn binary_ack_args_come_back_as_bin() {
    let gw = chat_gateway();
    let (mut c, id) = chat_client(&gw).await;
    let call = spawn_emit(
        &gw,
        json!({"namespace": "/chat", "event": "ask", "args": [{"$bin": "AQ=="}], "socket": id, "ack": true}),
    );
    let packets = next_packets(&c, 2).await;
    let n: u64 = packets[0]
        .strip_prefix("51-/chat,")
        .and_then(|r| r[..r.find('[').unwrap()].parse().ok())
        .expect("a BINARY_EVENT with an ack id");
    assert_eq!(packets[1], "bin[01]");
    c.send(&format!(r#"61-/chat,{n}[{{"_placeholder":true,"num":0}}]"#))
        .await
        .unwrap();
    c.send_bin(&[1, 2]).await.unwrap();
    let (_, body) = call.await.unwrap();
    assert_eq!(body, json!({"delivered": 1, "ack": [{"$bin": "AQI="}]}));
}

#[tokio::test]
async fn ack_ids_come_from_the_namespace_counter() {
    let gw = chat_gateway();
    let mut clients = [chat_client(&gw).await, chat_client(&gw).await];
    let mut ids = Vec::new();
    for which in [0, 1, 0] {
        let (c, id) = &mut clients[which];
        let call = spawn_emit(
            &gw,
            json!({"namespace": "/chat", "event": "e", "socket": id, "ack": true}),
        );
        let n = ack_id(&next_packet(c).await);
        c.send(&format!("3/chat,{n}[]")).await.unwrap();
        assert_eq!(call.await.unwrap().1, json!({"delivered": 1, "ack": []}));
        ids.push(n);
    }
    assert_eq!(ids, [0, 1, 2], "shared by the namespace, as Node does");
}

#[tokio::test]
async fn no_ack_in_time_or_a_disconnect_is_504() {
    let gw = chat_gateway();
    let (mut c, id) = chat_client(&gw).await;
    let body =
        json!({"namespace": "/chat", "event": "e", "socket": id, "ack": true, "timeout_ms": 30});
    let (status, resp) = spawn_emit(&gw, body).await.unwrap();
    assert_eq!(
        (status, resp),
        (504, json!({"error": "no ack within 30 ms"}))
    );
    // A late ack for it is ignored.
    let n = ack_id(&next_packet(&c).await);
    c.send(&format!("3/chat,{n}[]")).await.unwrap();

    let call = spawn_emit(
        &gw,
        json!({"namespace": "/chat", "event": "e", "socket": id, "ack": true}),
    );
    next_packet(&c).await;
    c.close().await;
    let (status, resp) = call.await.unwrap();
    assert_eq!(
        (status, resp),
        (
            504,
            json!({"error": "the socket disconnected before acking"})
        )
    );
}

#[tokio::test]
async fn ack_needs_a_socket_and_a_sane_timeout() {
    let gw = chat_gateway();
    let (_c, id) = chat_client(&gw).await;
    let cases = [
        (
            json!({"event": "e", "ack": true}),
            r#""ack": true needs "socket""#,
        ),
        (
            json!({"namespace": "/chat", "event": "e", "socket": id, "ack": true, "timeout_ms": 0}),
            "timeout_ms must be 1 to 120000",
        ),
    ];
    for (body, reason) in cases {
        let (status, resp) = api(&gw, "POST", "/api/v1/emit", &body.to_string()).await;
        assert_eq!((status, resp), (400, json!({ "error": reason })));
    }
    let body = json!({"namespace": "/chat", "event": "e", "socket": "ghost", "ack": true});
    let (status, resp) = api(&gw, "POST", "/api/v1/emit", &body.to_string()).await;
    assert_eq!((status, resp), (200, json!({"delivered": 0})));
}

#[tokio::test]
async fn configured_ack_timeouts_apply_default_and_maximum() {
    let gw = gateway(|o| {
        o.namespaces = NamespacePolicy::List(vec!["/chat".into()]);
        o.push_ack_timeout = Duration::from_millis(40);
        o.max_push_ack_timeout = Duration::from_millis(1_000);
    });
    let (_c, id) = chat_client(&gw).await;
    let over =
        json!({"namespace": "/chat", "event": "e", "socket": id, "ack": true, "timeout_ms": 1_001});
    let (status, resp) = api(&gw, "POST", "/api/v1/emit", &over.to_string()).await;
    assert_eq!(
        (status, resp),
        (400, json!({"error": "timeout_ms must be 1 to 1000"}))
    );
    // Without timeout_ms the configured default applies.
    let body = json!({"namespace": "/chat", "event": "e", "socket": id, "ack": true});
    let (status, resp) = spawn_emit(&gw, body).await.unwrap();
    assert_eq!(
        (status, resp),
        (504, json!({"error": "no ack within 40 ms"}))
    );
}
