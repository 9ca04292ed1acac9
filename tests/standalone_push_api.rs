//! The push API handler called directly (no sockets): auth, errors with
//! reasons, and which fake clients each operation reaches.
#[allow(dead_code, unused_imports)] // the harness uses only the HTTP client of it
mod common;
mod standalone_harness;

use serde_json::json;
use siogate::protocol::engineio::Revision;
use siogate::server::CloseReason;
use siogate::standalone::{NamespacePolicy, Standalone};
use standalone_harness::{API_TOKEN, Client, api, api_with_token, gateway};

fn chat_gateway() -> Standalone {
    gateway(|o| o.namespaces = NamespacePolicy::List(vec!["/chat".into()]))
}

/// Three SIO5 clients on /chat: a in r1, b in r1+r2, c in none. Returns the
/// clients and their socket ids.
async fn three_clients(gw: &Standalone) -> (Vec<Client>, Vec<String>) {
    let mut clients = Vec::new();
    let mut ids = Vec::new();
    for rooms in [&["r1"][..], &["r1", "r2"], &[]] {
        let mut c = Client::open(gw, Revision::V4, "").await;
        c.send("0/chat,").await.unwrap();
        let reply = c.take()[0].replacen("0/chat,", "0", 1);
        let id = Client::connect_sid(&[reply]);
        if !rooms.is_empty() {
            let body = json!({"namespace": "/chat", "socket": id, "rooms": rooms});
            let (status, resp) = api(gw, "POST", "/api/v1/rooms/join", &body.to_string()).await;
            assert_eq!((status, resp), (200, json!({"sockets": 1})));
        }
        clients.push(c);
        ids.push(id);
    }
    (clients, ids)
}

fn received(clients: &[Client]) -> Vec<usize> {
    clients.iter().map(|c| c.take().len()).collect()
}

#[tokio::test]
async fn requests_without_the_right_token_get_401() {
    let gw = chat_gateway();
    for token in [None, Some("wrong"), Some(""), Some("test-token-longer")] {
        let (status, body) =
            api_with_token(&gw, "POST", "/api/v1/emit", r#"{"event":"x"}"#, token).await;
        assert_eq!(
            (status, body),
            (401, json!({"error": "unauthorized"})),
            "{token:?}"
        );
    }
    let (status, _) = api_with_token(&gw, "GET", "/api/v1/rooms", "", Some(API_TOKEN)).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn an_empty_configured_token_refuses_everything() {
    let gw = gateway(|o| o.api_token = String::new());
    let (status, _) = api_with_token(&gw, "GET", "/api/v1/rooms", "", Some("")).await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn unknown_routes_are_404_and_wrong_methods_405() {
    let gw = chat_gateway();
    assert_eq!(api(&gw, "POST", "/api/v1/nope", "{}").await.0, 404);
    assert_eq!(api(&gw, "GET", "/elsewhere", "").await.0, 404);
    assert_eq!(api(&gw, "GET", "/api/v1/emit", "").await.0, 405);
    assert_eq!(api(&gw, "POST", "/api/v1/sockets", "{}").await.0, 405);
    assert_eq!(
        api(&gw, "DELETE", "/api/v1/rooms/join", "").await,
        (405, json!({"error": "method not allowed"}))
    );
}

#[tokio::test]
async fn bad_bodies_get_400_with_a_reason() {
    let gw = chat_gateway();
    let cases = [
        ("", "empty body"),
        ("{", "invalid body"),
        (r#"{"args":[]}"#, "missing field `event`"),
        (r#"{"event":"x","args":{}}"#, "invalid type"),
        (r#"{"event":"x","bogus":1}"#, "unknown field `bogus`"),
        (r#"{"event":""}"#, "event must not be empty"),
        (
            r#"{"event":"disconnect"}"#,
            "reserved event name: disconnect",
        ),
        (
            r#"{"event":"x","namespace":"/nope"}"#,
            "unknown namespace: /nope",
        ),
        (r#"{"event":"x","args":[{"$bin":"!!"}]}"#, "invalid base64"),
    ];
    for (body, reason) in cases {
        let (status, resp) = api(&gw, "POST", "/api/v1/emit", body).await;
        assert_eq!(status, 400, "{body}");
        let msg = resp["error"].as_str().unwrap();
        assert!(msg.contains(reason), "{body}: {msg}");
    }
    let (status, resp) = api(&gw, "POST", "/api/v1/rooms/join", r#"{"socket":"x"}"#).await;
    assert_eq!(status, 400);
    assert!(
        resp["error"]
            .as_str()
            .unwrap()
            .contains("missing field `rooms`")
    );
}

#[tokio::test]
async fn emit_counts_and_reaches_namespace_room_except_and_socket() {
    let gw = chat_gateway();
    let (clients, ids) = three_clients(&gw).await;
    let emit = |body: serde_json::Value| {
        let gw = gw.clone();
        async move { api(&gw, "POST", "/api/v1/emit", &body.to_string()).await }
    };
    let cases = [
        (
            json!({"namespace": "/chat", "event": "news", "args": [1]}),
            3,
            vec![1, 1, 1],
        ),
        (
            json!({"namespace": "/chat", "event": "news", "rooms": ["r1"]}),
            2,
            vec![1, 1, 0],
        ),
        (
            json!({"namespace": "/chat", "event": "news", "rooms": ["r1"], "except": ["r2"]}),
            1,
            vec![1, 0, 0],
        ),
        (
            json!({"namespace": "/chat", "event": "news", "except": ["r1"]}),
            1,
            vec![0, 0, 1],
        ),
        (
            json!({"namespace": "/chat", "event": "news", "socket": ids[2]}),
            1,
            vec![0, 0, 1],
        ),
        (
            json!({"namespace": "/chat", "event": "news", "rooms": [ids[1]]}),
            1,
            vec![0, 1, 0],
        ),
        (
            json!({"namespace": "/chat", "event": "news", "socket": "nobody"}),
            0,
            vec![0, 0, 0],
        ),
        (json!({"event": "news"}), 0, vec![0, 0, 0]),
    ];
    for (body, delivered, per_client) in cases {
        let (status, resp) = emit(body.clone()).await;
        assert_eq!(
            (status, resp),
            (200, json!({ "delivered": delivered })),
            "{body}"
        );
        assert_eq!(received(&clients), per_client, "{body}");
    }
}

#[tokio::test]
async fn emitted_packets_are_exact_on_the_wire() {
    let gw = chat_gateway();
    let (clients, _) = three_clients(&gw).await;
    let body =
        json!({"namespace": "/chat", "event": "news", "args": ["hi", {"n": 1}], "rooms": ["r2"]});
    api(&gw, "POST", "/api/v1/emit", &body.to_string()).await;
    assert_eq!(clients[1].take(), [r#"2/chat,["news","hi",{"n":1}]"#]);
    let body =
        json!({"namespace": "/chat", "event": "file", "args": [{"$bin": "AQID"}], "rooms": ["r2"]});
    api(&gw, "POST", "/api/v1/emit", &body.to_string()).await;
    assert_eq!(
        clients[1].take(),
        [
            r#"51-/chat,["file",{"_placeholder":true,"num":0}]"#,
            "bin[01 02 03]"
        ]
    );
}

#[tokio::test]
async fn sio4_and_sio5_clients_both_get_root_pushes() {
    let gw = chat_gateway();
    let c4 = Client::open(&gw, Revision::V3, "").await;
    let mut c5 = Client::open(&gw, Revision::V4, "").await;
    c5.send("0").await.unwrap();
    c4.take();
    c5.take();
    let (_, resp) = api(
        &gw,
        "POST",
        "/api/v1/emit",
        r#"{"event":"hello","args":[]}"#,
    )
    .await;
    assert_eq!(resp, json!({"delivered": 2}));
    assert_eq!(c4.take(), [r#"2["hello"]"#]);
    assert_eq!(c5.take(), [r#"2["hello"]"#]);
}

#[tokio::test]
async fn rooms_join_leave_and_listings() {
    let gw = chat_gateway();
    let (_clients, ids) = three_clients(&gw).await;
    let (_, rooms) = api(&gw, "GET", "/api/v1/rooms?namespace=%2Fchat", "").await;
    assert_eq!(rooms, json!({"rooms": {"r1": 2, "r2": 1}}));
    let leave = json!({"namespace": "/chat", "socket": ids[1], "rooms": ["r1", "r2"]});
    let (status, resp) = api(&gw, "POST", "/api/v1/rooms/leave", &leave.to_string()).await;
    assert_eq!((status, resp), (200, json!({"sockets": 1})));
    let (_, rooms) = api(&gw, "GET", "/api/v1/rooms?namespace=/chat", "").await;
    assert_eq!(rooms, json!({"rooms": {"r1": 1}}));
    let (_, sockets) = api(&gw, "GET", "/api/v1/sockets?namespace=/chat", "").await;
    let mut listed: Vec<(String, serde_json::Value)> = sockets["sockets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["id"].as_str().unwrap().to_string(), s["rooms"].clone()))
        .collect();
    listed.sort_by(|a, b| a.0.cmp(&b.0));
    let mut want = vec![
        (ids[0].clone(), json!(["r1"])),
        (ids[1].clone(), json!([])),
        (ids[2].clone(), json!([])),
    ];
    want.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(listed, want);
    let ghost = json!({"namespace": "/chat", "socket": "ghost", "rooms": ["r1"]});
    let (_, resp) = api(&gw, "POST", "/api/v1/rooms/join", &ghost.to_string()).await;
    assert_eq!(resp, json!({"sockets": 0}));
    assert_eq!(
        api(&gw, "GET", "/api/v1/rooms?namespace=/nope", "").await.0,
        400
    );
}

#[tokio::test]
async fn disconnect_sends_41_and_later_packets_on_it_close_sio5_sessions() {
    let gw = chat_gateway();
    let (mut clients, ids) = three_clients(&gw).await;
    let body = json!({"namespace": "/chat", "socket": ids[0]});
    let (status, resp) = api(&gw, "POST", "/api/v1/disconnect", &body.to_string()).await;
    assert_eq!((status, resp), (200, json!({"disconnected": 1})));
    assert_eq!(clients[0].take(), ["1/chat,"]);
    assert!(clients[0].sink.closed().is_none(), "session stays open");
    let (_, resp) = api(
        &gw,
        "POST",
        "/api/v1/emit",
        r#"{"namespace":"/chat","event":"x"}"#,
    )
    .await;
    assert_eq!(resp, json!({"delivered": 2}));
    // The client may connect again; an event on the kicked namespace first
    // is a packet for a namespace that is not connected.
    let err = clients[0].send(r#"2/chat,["x"]"#).await.unwrap_err();
    assert!(matches!(err, CloseReason::ProtocolError(_)));
}

#[tokio::test]
async fn disconnect_with_close_ends_the_whole_session() {
    let gw = chat_gateway();
    let (clients, ids) = three_clients(&gw).await;
    let body = json!({"namespace": "/chat", "socket": ids[1], "close": true});
    let (_, resp) = api(&gw, "POST", "/api/v1/disconnect", &body.to_string()).await;
    assert_eq!(resp, json!({"disconnected": 1}));
    assert!(matches!(
        clients[1].sink.closed(),
        Some(CloseReason::Backend(_))
    ));
    assert!(clients[0].sink.closed().is_none());
}

#[tokio::test]
async fn a_full_client_queue_is_not_counted_as_delivered() {
    let gw = chat_gateway();
    let mut slow = Client::open_with_capacity(&gw, Revision::V4, "", 2).await;
    slow.send("0").await.unwrap();
    let mut fast = Client::open(&gw, Revision::V4, "").await;
    fast.send("0").await.unwrap();
    // slow's queue holds its CONNECT reply and one push, then overflows.
    let emit = r#"{"event":"x"}"#;
    assert_eq!(
        api(&gw, "POST", "/api/v1/emit", emit).await.1,
        json!({"delivered": 2})
    );
    assert_eq!(
        api(&gw, "POST", "/api/v1/emit", emit).await.1,
        json!({"delivered": 1})
    );
    assert_eq!(slow.sink.closed(), Some(CloseReason::QueueFull));
}
