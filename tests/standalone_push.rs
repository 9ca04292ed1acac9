//! Standalone mode over real sockets: the server core on 127.0.0.1:0 with
//! the push API on the same listener, raw WebSocket and polling clients.
#[allow(dead_code, unused_imports)] // the harness uses only the HTTP client of it
mod common;
mod standalone_harness;

use std::time::Duration;

use serde_json::{Value, json};
use siogate::standalone::{NamespacePolicy, api_server};
use standalone_harness::net::{
    Server, http, within, ws_connect, ws_next, ws_send, ws_send_bin, ws_text, ws_until_closed,
};
use standalone_harness::{API_TOKEN, gateway};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn chat_gateway() -> siogate::standalone::Standalone {
    gateway(|o| {
        o.namespaces = NamespacePolicy::List(vec!["/chat".into()]);
        o.join_leave = true;
    })
}

fn sid_of(reply: &str) -> String {
    let json: Value = serde_json::from_str(&reply[reply.find('{').unwrap()..]).unwrap();
    json["sid"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn sio4_websocket_client_gets_root_connect_and_pushes() {
    let server = Server::start(chat_gateway()).await;
    let (mut ws, _) = ws_connect(server.addr, 3, "").await;
    assert_eq!(ws_text(&mut ws).await, "40");
    let (status, body) = server
        .api("POST", "emit", r#"{"event":"news","args":["hi",{"n":1}]}"#)
        .await;
    assert_eq!((status, body), (200, json!({"delivered": 1})));
    assert_eq!(ws_text(&mut ws).await, r#"42["news","hi",{"n":1}]"#);
    server.stop().await;
}

#[tokio::test]
async fn sio4_first_polling_response_carries_the_root_connect() {
    let server = Server::start(chat_gateway()).await;
    let (_, open) = common::http_client::Poller::open(server.addr, 3, "").await;
    let text = open.text();
    let (len, rest) = text.split_once(':').unwrap();
    let open_len: usize = len.parse().unwrap();
    assert!(rest.starts_with("0{"), "{text}");
    assert_eq!(&rest[open_len..], "2:40", "{text}");
    server.stop().await;
}

#[tokio::test]
async fn sio5_namespace_push_to_room_and_socket_with_binary() {
    let server = Server::start(chat_gateway()).await;
    let (mut a, _) = ws_connect(server.addr, 4, "").await;
    let (mut b, _) = ws_connect(server.addr, 4, "").await;
    ws_send(&mut a, "40/chat,").await;
    ws_send(&mut b, "40/chat,").await;
    let a_sid = sid_of(&ws_text(&mut a).await);
    let b_reply = ws_text(&mut b).await;
    assert!(b_reply.starts_with(r#"40/chat,{"sid":"#), "{b_reply}");
    // a joins r1 with the built-in event (acked).
    ws_send(&mut a, r#"42/chat,1["join","r1"]"#).await;
    assert_eq!(ws_text(&mut a).await, r#"43/chat,1[{"ok":true}]"#);

    let push = json!({"namespace": "/chat", "event": "room", "args": [1], "rooms": ["r1"]});
    let (_, resp) = server.api("POST", "emit", &push.to_string()).await;
    assert_eq!(resp, json!({"delivered": 1}));
    assert_eq!(ws_text(&mut a).await, r#"42/chat,["room",1]"#);

    let push = json!({"namespace": "/chat", "event": "all", "except": ["r1"]});
    let (_, resp) = server.api("POST", "emit", &push.to_string()).await;
    assert_eq!(resp, json!({"delivered": 1}));
    assert_eq!(ws_text(&mut b).await, r#"42/chat,["all"]"#);

    let push =
        json!({"namespace": "/chat", "event": "bin", "args": [{"$bin": "AQID"}], "socket": a_sid});
    let (_, resp) = server.api("POST", "emit", &push.to_string()).await;
    assert_eq!(resp, json!({"delivered": 1}));
    assert_eq!(
        ws_text(&mut a).await,
        r#"451-/chat,["bin",{"_placeholder":true,"num":0}]"#
    );
    assert_eq!(
        ws_next(&mut a).await,
        "bin[01 02 03]",
        "EIO4: raw binary frame"
    );
    server.stop().await;
}

#[tokio::test]
async fn sio4_binary_push_uses_the_eio3_type_byte() {
    let server = Server::start(chat_gateway()).await;
    let (mut ws, _) = ws_connect(server.addr, 3, "").await;
    assert_eq!(ws_text(&mut ws).await, "40");
    let push = json!({"event": "bin", "args": [{"$bin": "CQg="}]});
    server.api("POST", "emit", &push.to_string()).await;
    assert_eq!(
        ws_text(&mut ws).await,
        r#"451-["bin",{"_placeholder":true,"num":0}]"#
    );
    assert_eq!(ws_next(&mut ws).await, "bin[04 09 08]");
    server.stop().await;
}

#[tokio::test]
async fn sio4_namespace_query_connect_over_websocket() {
    let server = Server::start(chat_gateway()).await;
    let (mut ws, open) = ws_connect(server.addr, 3, "token=abc").await;
    let eio_sid: Value = serde_json::from_str(&open[1..]).unwrap();
    assert_eq!(ws_text(&mut ws).await, "40");
    ws_send(&mut ws, "40/chat?token=abc,").await;
    assert_eq!(ws_text(&mut ws).await, "40/chat,");
    ws_send(&mut ws, "40/nope,").await;
    assert_eq!(ws_text(&mut ws).await, r#"44/nope,"Invalid namespace""#);
    let id = format!("/chat#{}", eio_sid["sid"].as_str().unwrap());
    let push = json!({"namespace": "/chat", "event": "hey", "socket": id});
    let (_, resp) = server.api("POST", "emit", &push.to_string()).await;
    assert_eq!(resp, json!({"delivered": 1}));
    assert_eq!(ws_text(&mut ws).await, r#"42/chat,["hey"]"#);
    server.stop().await;
}

#[tokio::test]
async fn malformed_client_packet_closes_only_that_session() {
    let server = Server::start(chat_gateway()).await;
    let (mut bad, _) = ws_connect(server.addr, 4, "").await;
    let (mut good, _) = ws_connect(server.addr, 4, "").await;
    for ws in [&mut bad, &mut good] {
        ws_send(ws, "40").await;
        ws_text(ws).await;
    }
    ws_send(&mut bad, r#"42["ping2""#).await;
    let before_close = ws_until_closed(&mut bad).await;
    assert!(
        before_close.iter().all(|m| m == "1" || m == "2"),
        "{before_close:?}"
    );
    let (_, resp) = server.api("POST", "emit", r#"{"event":"still"}"#).await;
    assert_eq!(resp, json!({"delivered": 1}));
    assert_eq!(ws_text(&mut good).await, r#"42["still"]"#);
    // Same for a binary frame outside a binary packet.
    let (mut bad, _) = ws_connect(server.addr, 4, "").await;
    ws_send(&mut bad, "40").await;
    ws_text(&mut bad).await;
    ws_send_bin(&mut bad, &[1, 2]).await;
    ws_until_closed(&mut bad).await;
    let (_, resp) = server.api("POST", "emit", r#"{"event":"again"}"#).await;
    assert_eq!(resp, json!({"delivered": 1}));
    assert_eq!(ws_text(&mut good).await, r#"42["again"]"#);
    server.stop().await;
}

#[tokio::test]
async fn api_disconnect_reaches_the_client() {
    let server = Server::start(chat_gateway()).await;
    let (mut ws, _) = ws_connect(server.addr, 4, "").await;
    ws_send(&mut ws, "40/chat,").await;
    let sid = sid_of(&ws_text(&mut ws).await);
    let body = json!({"namespace": "/chat", "socket": sid});
    let (_, resp) = server.api("POST", "disconnect", &body.to_string()).await;
    assert_eq!(resp, json!({"disconnected": 1}));
    assert_eq!(ws_text(&mut ws).await, "41/chat,");
    let body = json!({"namespace": "/chat", "socket": sid, "close": true});
    let (_, resp) = server.api("POST", "disconnect", &body.to_string()).await;
    assert_eq!(resp, json!({"disconnected": 0}), "already gone");
    server.stop().await;
}

#[tokio::test]
async fn push_api_auth_and_body_limit_over_http() {
    let gw = gateway(|o| o.max_api_body_bytes = 64);
    let server = Server::start(gw).await;
    let (status, body) = http(server.addr, "POST", "/api/v1/emit", &[], r#"{"event":"x"}"#).await;
    assert_eq!(status, 401);
    assert_eq!(&body[..], br#"{"error":"unauthorized"}"#);
    let big = format!(r#"{{"event":"x","args":["{}"]}}"#, "a".repeat(100));
    let (status, _) = server.api("POST", "emit", &big).await;
    assert_eq!(status, 413);
    let (status, _) = http(server.addr, "GET", "/other", &[], "").await;
    assert_eq!(status, 404);
    server.stop().await;
}

#[tokio::test]
async fn push_api_on_a_separate_listener() {
    let gw = gateway(|_| {});
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let header_timeout = Duration::from_millis(300);
    let task = tokio::spawn(api_server::serve(
        gw.push_api(),
        listener,
        header_timeout,
        async {
            let _ = rx.await;
        },
    ));
    // A backend that never finishes its request headers is cut off after
    // the configured header timeout (server.limits.header_read_timeout_ms).
    let mut slow = within(tokio::net::TcpStream::connect(addr)).await.unwrap();
    slow.write_all(b"POST /api/v1/emit HTTP/1.1\r\nhost: x\r\n")
        .await
        .unwrap();
    let started = tokio::time::Instant::now();
    let mut rest = Vec::new();
    within(slow.read_to_end(&mut rest)).await.ok();
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(250) && waited < Duration::from_secs(4),
        "closed after {waited:?}"
    );
    let auth = format!("Bearer {API_TOKEN}");
    let (status, body) = http(
        addr,
        "GET",
        "/api/v1/rooms",
        &[("authorization", &auth)],
        "",
    )
    .await;
    assert_eq!((status, &body[..]), (200, &br#"{"rooms":{}}"#[..]));
    let (status, _) = http(addr, "GET", "/api/v1/rooms", &[], "").await;
    assert_eq!(status, 401);
    let _ = tx.send(());
    within(task).await.unwrap();
}

#[tokio::test]
async fn run_serves_clients_and_the_api_from_the_config_until_shutdown() {
    use siogate::config::{Secret, ServerConfig, StandaloneConfig};
    let listener = siogate::server::listener::bind("127.0.0.1:0".parse().unwrap(), 128).unwrap();
    let addr = listener.local_addr().unwrap();
    let cfg = StandaloneConfig {
        api_token: Some(Secret::new(API_TOKEN)),
        ..StandaloneConfig::default()
    };
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        siogate::standalone::run(listener, ServerConfig::default(), &cfg, async {
            let _ = rx.await;
        })
        .await
    });
    let (mut ws, _) = ws_connect(addr, 4, "").await;
    ws_send(&mut ws, "40").await;
    assert!(ws_text(&mut ws).await.starts_with(r#"40{"sid":"#));
    let auth = format!("Bearer {API_TOKEN}");
    let (status, body) = http(
        addr,
        "POST",
        "/api/v1/emit",
        &[("authorization", &auth)],
        r#"{"event":"hi"}"#,
    )
    .await;
    assert_eq!((status, &body[..]), (200, &br#"{"delivered":1}"#[..]));
    assert_eq!(ws_text(&mut ws).await, r#"42["hi"]"#);
    let _ = tx.send(());
    within(task).await.unwrap().unwrap();
}

#[tokio::test]
async fn run_refuses_a_bad_redis_url_and_a_bad_api_listen_address() {
    use siogate::config::{Secret, ServerConfig, StandaloneConfig};
    let cases = [
        StandaloneConfig {
            // A URL the Redis client cannot use: refused at start, not at the first push.
            redis_url: Some(Secret::new("redis://127.0.0.1:not-a-port")),
            ..StandaloneConfig::default()
        },
        StandaloneConfig {
            api_listen: Some("nowhere".into()),
            ..StandaloneConfig::default()
        },
    ];
    for cfg in cases {
        let listener =
            siogate::server::listener::bind("127.0.0.1:0".parse().unwrap(), 128).unwrap();
        let result = within(siogate::standalone::run(
            listener,
            ServerConfig::default(),
            &cfg,
            std::future::pending(),
        ))
        .await;
        assert!(result.is_err(), "{cfg:?}");
    }
}
