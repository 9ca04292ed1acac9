//! Standalone mode's namespace CONNECT / DISCONNECT behaviour, driven through
//! the Backend with a fake sink (no sockets): the wire replies of Node
//! socket.io 2.5.0 (SIO4) and 4.x (SIO5), PROTOCOL.md §2.4–§2.7.
#[allow(dead_code, unused_imports)] // the harness uses only the HTTP client of it
mod common;
mod standalone_harness;

use std::time::Duration;

use jsonwebtoken::{EncodingKey, Header, encode};
use serde_json::json;
use siogate::protocol::engineio::Revision;
use siogate::server::CloseReason;
use siogate::standalone::{JwtKey, JwtOptions, NamespacePolicy};
use standalone_harness::{Client, api, gateway};

fn chat_only() -> siogate::standalone::Standalone {
    gateway(|o| o.namespaces = NamespacePolicy::List(vec!["/chat".into()]))
}

fn token(claims: serde_json::Value) -> String {
    encode(
        &Header::default(),
        &claims,
        &EncodingKey::from_secret(b"k3y"),
    )
    .unwrap()
}

fn with_required_tokens() -> siogate::standalone::Standalone {
    gateway(|o| {
        o.namespaces = NamespacePolicy::List(vec!["/chat".into()]);
        o.jwt = Some(JwtOptions::new(JwtKey::Hs256(b"k3y".to_vec())));
    })
}

#[tokio::test]
async fn sio4_root_is_connected_during_open() {
    let gw = chat_only();
    let c = Client::open(&gw, Revision::V3, "").await;
    assert_eq!(c.take(), ["0"]);
    let (_, sockets) = api(&gw, "GET", "/api/v1/sockets", "").await;
    assert_eq!(sockets["sockets"][0]["id"], c.eio_sid());
}

#[tokio::test]
async fn sio4_namespace_query_is_stripped_from_the_reply() {
    let gw = chat_only();
    let mut c = Client::open(&gw, Revision::V3, "").await;
    c.take();
    c.send("0/chat?token=abc,").await.unwrap();
    assert_eq!(c.take(), ["0/chat,"]);
    // Node 2.x's socket id for a namespace: `<nsp>#<eio sid>`.
    let (_, sockets) = api(&gw, "GET", "/api/v1/sockets?namespace=/chat", "").await;
    assert_eq!(
        sockets["sockets"][0]["id"],
        format!("/chat#{}", c.eio_sid())
    );
}

#[tokio::test]
async fn sio4_unknown_namespace_gets_an_error_string() {
    let gw = chat_only();
    let mut c = Client::open(&gw, Revision::V3, "").await;
    c.take();
    c.send("0/nope?x=1,").await.unwrap();
    assert_eq!(c.take(), [r#"4/nope,"Invalid namespace""#]);
}

#[tokio::test]
async fn sio4_repeated_connect_is_answered_again_and_root_not_at_all() {
    let gw = chat_only();
    let mut c = Client::open(&gw, Revision::V3, "").await;
    c.take();
    c.send("0/chat,").await.unwrap();
    c.send("0/chat,").await.unwrap();
    assert_eq!(c.take(), ["0/chat,", "0/chat,"]);
    c.send("0/?token=abc,").await.unwrap();
    assert!(c.take().is_empty());
}

#[tokio::test]
async fn sio4_packets_for_unconnected_namespaces_are_ignored() {
    let gw = chat_only();
    let mut c = Client::open(&gw, Revision::V3, "").await;
    c.take();
    c.send(r#"2/chat,["x"]"#).await.unwrap();
    c.send(r#"3/chat,1[]"#).await.unwrap();
    c.send("1/chat,").await.unwrap();
    c.send(r#"4"oops""#).await.unwrap();
    assert!(c.take().is_empty());
    assert!(c.sink.closed().is_none());
}

#[tokio::test]
async fn sio5_connect_replies_with_a_random_sid_unlike_the_eio_sid() {
    let gw = chat_only();
    let mut c = Client::open(&gw, Revision::V4, "").await;
    assert!(c.take().is_empty(), "no implicit root in SIO5");
    c.send("0").await.unwrap();
    c.send(r#"0/chat,{"x":1}"#).await.unwrap();
    let out = c.take();
    assert_eq!(out.len(), 2);
    let root_sid = Client::connect_sid(&out[..1]);
    assert!(out[1].starts_with(r#"0/chat,{"sid":""#), "{}", out[1]);
    let chat_sid = Client::connect_sid(&[out[1].replacen("0/chat,", "0", 1)]);
    for sid in [&root_sid, &chat_sid] {
        assert_eq!(sid.len(), 20);
        assert_ne!(sid, c.eio_sid());
    }
    assert_ne!(root_sid, chat_sid);
}

#[tokio::test]
async fn sio5_unknown_namespace_and_namespace_query_are_invalid() {
    let gw = chat_only();
    let mut c = Client::open(&gw, Revision::V4, "").await;
    c.send("0/nope,").await.unwrap();
    c.send("0/chat?token=abc,").await.unwrap();
    assert_eq!(
        c.take(),
        [
            r#"4/nope,{"message":"Invalid namespace"}"#,
            r#"4/chat?token=abc,{"message":"Invalid namespace"}"#,
        ]
    );
    assert!(c.sink.closed().is_none());
}

#[tokio::test]
async fn sio5_duplicate_connect_closes_the_session() {
    let gw = chat_only();
    let mut c = Client::open(&gw, Revision::V4, "").await;
    c.send("0/chat,").await.unwrap();
    let err = c.send("0/chat,").await.unwrap_err();
    assert!(matches!(err, CloseReason::ProtocolError(_)), "{err:?}");
    // The socket was released from the adapter.
    let (_, sockets) = api(&gw, "GET", "/api/v1/sockets?namespace=/chat", "").await;
    assert_eq!(sockets["sockets"], json!([]));
}

#[tokio::test]
async fn sio5_packets_for_unconnected_namespaces_close_the_session() {
    for packet in [
        r#"2/chat,["x"]"#,
        "1/chat,",
        r#"3/chat,1[]"#,
        r#"4{"message":"x"}"#,
    ] {
        let gw = chat_only();
        let mut c = Client::open(&gw, Revision::V4, "").await;
        c.send("0").await.unwrap();
        let err = c.send(packet).await.unwrap_err();
        assert!(matches!(err, CloseReason::ProtocolError(_)), "{packet}");
    }
}

#[tokio::test]
async fn client_disconnect_leaves_only_that_namespace() {
    let gw = chat_only();
    let mut c = Client::open(&gw, Revision::V4, "").await;
    c.send("0").await.unwrap();
    c.send("0/chat,").await.unwrap();
    c.take();
    c.send("1/chat,").await.unwrap();
    assert!(c.take().is_empty(), "no reply to DISCONNECT");
    let (_, chat) = api(&gw, "GET", "/api/v1/sockets?namespace=/chat", "").await;
    let (_, root) = api(&gw, "GET", "/api/v1/sockets", "").await;
    assert_eq!(chat["sockets"], json!([]));
    assert_eq!(root["sockets"].as_array().unwrap().len(), 1);
    // The namespace can be connected again.
    c.send("0/chat,").await.unwrap();
    assert_eq!(c.take().len(), 1);
}

#[tokio::test]
async fn session_close_releases_every_socket() {
    let gw = chat_only();
    let mut c = Client::open(&gw, Revision::V3, "").await;
    c.send("0/chat,").await.unwrap();
    c.close().await;
    for nsp in ["/", "/chat"] {
        let (_, s) = api(&gw, "GET", &format!("/api/v1/sockets?namespace={nsp}"), "").await;
        assert_eq!(s["sockets"], json!([]), "{nsp}");
    }
}

#[tokio::test(start_paused = true)]
async fn sio5_session_without_connect_is_closed_after_connect_timeout() {
    let gw = gateway(|o| o.connect_timeout = Duration::from_secs(45));
    let idle = Client::open(&gw, Revision::V4, "").await;
    let mut active = Client::open(&gw, Revision::V4, "").await;
    active.send("0").await.unwrap();
    tokio::time::sleep(Duration::from_secs(44)).await;
    assert!(idle.sink.closed().is_none());
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        idle.sink.closed(),
        Some(CloseReason::Backend("connect timeout".into()))
    );
    assert!(active.sink.closed().is_none());
}

#[tokio::test]
async fn malformed_packets_close_with_a_protocol_error() {
    let cases: &[&[u8]] = &[
        b"9",
        br#"2["ping2""#,
        b"2{}",
        br#"211-["x"]"#,
        br#"50-["x"]"#,
        br#"212345678901234567890["a"]"#,
        b"0chat,",
    ];
    for text in cases {
        let gw = chat_only();
        let mut c = Client::open(&gw, Revision::V4, "").await;
        c.send("0").await.unwrap();
        let text = std::str::from_utf8(text).unwrap();
        let err = c.send(text).await.unwrap_err();
        assert!(
            matches!(err, CloseReason::ProtocolError(_)),
            "{text}: {err:?}"
        );
    }
    // A binary message without a pending binary header, and text while
    // attachments are pending.
    let gw = chat_only();
    let mut c = Client::open(&gw, Revision::V3, "").await;
    assert!(c.send_bin(&[1, 2]).await.is_err());
    let mut c = Client::open(&gw, Revision::V3, "").await;
    c.send(r#"51-["a",{"_placeholder":true,"num":0}]"#)
        .await
        .unwrap();
    assert!(c.send(r#"2["b"]"#).await.is_err());
}

#[tokio::test]
async fn required_token_missing_gets_connect_error_in_both_revisions() {
    let gw = with_required_tokens();
    let c4 = Client::open(&gw, Revision::V3, "").await;
    assert_eq!(c4.take(), [r#"4"authentication required: no token""#]);
    let mut c5 = Client::open(&gw, Revision::V4, "").await;
    c5.send("0/chat,").await.unwrap();
    c5.send(r#"0{"token":"garbage"}"#).await.unwrap();
    assert_eq!(
        c5.take(),
        [
            r#"4/chat,{"message":"authentication required: no token"}"#,
            r#"4{"message":"invalid token: malformed token"}"#,
        ]
    );
}

#[tokio::test]
async fn valid_token_rooms_claim_joins_rooms() {
    let gw = with_required_tokens();
    let t = token(json!({"sub": "u1", "rooms": ["news", "user:1"]}));
    // SIO5: auth token.
    let mut c5 = Client::open(&gw, Revision::V4, "").await;
    c5.send(&format!(r#"0/chat,{{"token":"{t}"}}"#))
        .await
        .unwrap();
    let sid = Client::connect_sid(&[c5.take()[0].replacen("0/chat,", "0", 1)]);
    // SIO4: the namespace query token wins over a bad handshake one.
    let mut c4 = Client::open(&gw, Revision::V3, "token=bad").await;
    assert!(
        c4.take()[0].starts_with('4'),
        "root refused with the bad token"
    );
    c4.send(&format!("0/chat?token={t},")).await.unwrap();
    assert_eq!(c4.take(), ["0/chat,"]);
    let (_, s) = api(&gw, "GET", "/api/v1/sockets?namespace=/chat", "").await;
    let mut ids: Vec<&str> = s["sockets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    ids.sort();
    let v4_id = format!("/chat#{}", c4.eio_sid());
    let mut want = vec![sid.as_str(), v4_id.as_str()];
    want.sort();
    assert_eq!(ids, want);
    for s in s["sockets"].as_array().unwrap() {
        assert_eq!(s["rooms"], json!(["news", "user:1"]));
    }
    let (_, rooms) = api(&gw, "GET", "/api/v1/rooms?namespace=/chat", "").await;
    assert_eq!(rooms, json!({"rooms": {"news": 2, "user:1": 2}}));
}

#[tokio::test]
async fn sio4_root_refused_at_open_can_connect_later_with_a_token() {
    let gw = with_required_tokens();
    let mut c = Client::open(&gw, Revision::V3, "").await;
    c.take();
    let t = token(json!({"rooms": []}));
    c.send(&format!("0/?token={t},")).await.unwrap();
    assert_eq!(c.take(), ["0"]);
}

#[tokio::test]
async fn shutdown_does_not_wait_for_pending_connect_timers() {
    let gw = gateway(|o| o.connect_timeout = Duration::from_secs(3600));
    let _idle = Client::open(&gw, Revision::V4, "").await;
    tokio::time::timeout(Duration::from_secs(5), gw.shutdown())
        .await
        .expect("shutdown finished without waiting for the timer");
}
