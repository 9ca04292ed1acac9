//! Self-tests of the Node interop harness (`tests/common/node.rs`, `tests/js/`): real
//! socket.io-client 2.5.0 / 4.x against real socket.io 2.5.0 / 4.x servers, no siogate in
//! between. They prove the harness works and record the baseline behaviour that the proxy
//! tests later expect to see unchanged through siogate: connect to `/` and `/chat` with a
//! token, echo acks, server events, HTTP pushes, binary, kicks, connect errors, for both
//! polling-then-upgrade and WebSocket-only clients.

mod common;

use common::node::{
    Client, ClientOpts, STEP, Transports, Upstream, UpstreamOpts, assert_binary_reversed, bin,
    self_signed_cert, unbin,
};
use serde_json::json;

/// Every client/server pairing of the same major, with both transport setups.
const MATRIX: [(u8, Transports); 4] = [
    (2, Transports::PollingThenUpgrade),
    (2, Transports::WebsocketOnly),
    (4, Transports::PollingThenUpgrade),
    (4, Transports::WebsocketOnly),
];

/// Connects a client of `version` to `nsp` with the token the way that major sends it:
/// 2.x in the namespace query (`40/chat?token=abc,`), 4.x in the CONNECT auth.
async fn connect_with_token(up: &Upstream, version: u8, t: Transports, nsp: &str) -> Client {
    let opts = ClientOpts::new(version, up.url()).nsp(nsp).transports(t);
    let opts = if version == 2 {
        opts.query("token", "abc")
    } else {
        opts.auth(json!({"token": "abc"}))
    };
    Client::connect(&opts).await.0
}

#[tokio::test]
async fn root_namespace_echo_ack_round_trips_on_each_transport() {
    for (version, t) in MATRIX {
        let ctx = format!("v{version} {t:?}");
        let mut up = Upstream::start(version).await;
        let opts = ClientOpts::new(version, up.url()).transports(t);
        let (mut client, connect) = Client::connect(&opts).await;
        if t == Transports::WebsocketOnly {
            assert_eq!(connect["transport"], "websocket", "{ctx}");
        } else {
            // 4.x may finish the upgrade before `connect` fires, so only the upgrade is certain.
            let upgrade = client.proc.wait_ev("upgrade", STEP).await;
            assert_eq!(upgrade["transport"], "websocket", "{ctx}");
        }
        assert_eq!(
            client.emit_ack("echo", json!(["hi"])).await,
            vec![json!("hi")],
            "{ctx}"
        );

        let conn = up.wait_connection("/").await;
        let eio = if version == 2 { 3 } else { 4 };
        assert_eq!(conn["eio"], eio, "{ctx}");
        let recv = up.proc.wait_ev("recv", STEP).await;
        assert_eq!(recv["name"], "echo", "{ctx}");
        assert_eq!(recv["args"], json!(["hi"]), "{ctx}");
        assert_eq!(recv["ack"], true, "{ctx}");
    }
}

#[tokio::test]
async fn chat_namespace_token_reaches_upstream_handshake() {
    for (version, t) in MATRIX {
        let ctx = format!("v{version} {t:?}");
        let mut up = Upstream::start(version).await;
        let mut client = connect_with_token(&up, version, t, "/chat").await;
        let who = client.emit_ack("whoami", json!([])).await;
        let who = &who[0];
        assert_eq!(who["nsp"], "/chat", "{ctx}");
        if version == 2 {
            // socket.io 2.x merges the namespace query into handshake.query.
            assert_eq!(who["query"]["token"], "abc", "{ctx}: {who}");
            assert_eq!(who["auth"], json!(null), "{ctx}");
        } else {
            assert_eq!(who["auth"], json!({"token": "abc"}), "{ctx}: {who}");
            assert_eq!(who["query"]["token"], json!(null), "{ctx}");
        }
        let conn = up.wait_connection("/chat").await;
        assert_eq!(
            conn["query"], who["query"],
            "{ctx}: the connection line shows the same handshake"
        );
    }
}

#[tokio::test]
async fn v4_client_query_lands_in_handshake_query() {
    let mut up = Upstream::start(4).await;
    let opts = ClientOpts::new(4, up.url())
        .nsp("/chat")
        .query("token", "abc");
    let (mut client, _) = Client::connect(&opts).await;
    let who = client.emit_ack("whoami", json!([])).await;
    assert_eq!(who[0]["query"]["token"], "abc", "{}", who[0]);
    assert_eq!(up.wait_connection("/chat").await["query"]["token"], "abc");
}

#[tokio::test]
async fn msg_event_is_answered_with_recv_prefix() {
    for (version, t) in MATRIX {
        let up = Upstream::start(version).await;
        let mut client = connect_with_token(&up, version, t, "/chat").await;
        client.emit("msg", json!(["hello"])).await;
        assert_eq!(
            client.wait_event("msg").await,
            vec![json!("recv: hello")],
            "v{version} {t:?}"
        );
    }
}

#[tokio::test]
async fn http_push_reaches_clients_of_that_namespace_only() {
    for (version, t) in MATRIX {
        let ctx = format!("v{version} {t:?}");
        let up = Upstream::start(version).await;
        let mut client = connect_with_token(&up, version, t, "/chat").await;
        // 2.x servers connect every client to `/` as well; 4.x clients join only what they ask for.
        let root_count = if version == 2 { 1 } else { 0 };
        assert_eq!(up.push("/", "to root").await, root_count, "{ctx}");
        assert_eq!(up.push("/chat", "héllo & more").await, 1, "{ctx}");
        // Pushes go out in order on one connection: the first `push` the /chat socket sees
        // must be the /chat one, so the root push was not delivered to it.
        assert_eq!(
            client.wait_event("push").await,
            vec![json!("héllo & more")],
            "{ctx}"
        );
    }
}

#[tokio::test]
async fn stdin_push_carries_binary_to_clients() {
    for (version, t) in MATRIX {
        let mut up = Upstream::start(version).await;
        let mut client = connect_with_token(&up, version, t, "/chat").await;
        let count = up
            .push_cmd("/chat", "blob", json!(["tag", bin(&[9, 8, 7])]))
            .await;
        assert_eq!(count, 1);
        let args = client.wait_event("blob").await;
        assert_eq!(args[0], "tag", "v{version} {t:?}");
        assert_eq!(
            unbin(&args[1]),
            Some(vec![9, 8, 7]),
            "v{version} {t:?}: {args:?}"
        );
    }
}

#[tokio::test]
async fn binary_round_trips_reversed_via_ack_and_event() {
    for (version, t) in MATRIX {
        let ctx = format!("v{version} {t:?}");
        let mut up = Upstream::start(version).await;
        let mut client = connect_with_token(&up, version, t, "/chat").await;
        assert_binary_reversed(&mut client, &mut up, "/chat", &ctx).await;
    }
}

#[tokio::test]
async fn kick_disconnects_namespace_socket_with_server_reason() {
    for (version, t) in MATRIX {
        let ctx = format!("v{version} {t:?}");
        let mut up = Upstream::start(version).await;
        let mut client = connect_with_token(&up, version, t, "/chat").await;
        assert_eq!(up.kick("/chat").await, 1, "{ctx}");
        assert_eq!(
            client.wait_disconnect().await,
            "io server disconnect",
            "{ctx}"
        );
        let gone = up.wait_disconnect("/chat").await;
        assert_eq!(gone["reason"], "server namespace disconnect", "{ctx}");
    }
}

#[tokio::test]
async fn client_disconnect_is_seen_by_upstream() {
    for (version, t) in MATRIX {
        let ctx = format!("v{version} {t:?}");
        let mut up = Upstream::start(version).await;
        let mut client = connect_with_token(&up, version, t, "/chat").await;
        let conn = up.wait_connection("/chat").await;
        client.disconnect().await;
        assert_eq!(
            client.wait_disconnect().await,
            "io client disconnect",
            "{ctx}"
        );
        let gone = up.wait_disconnect("/chat").await;
        assert_eq!(gone["id"], conn["id"], "{ctx}");
        assert_eq!(gone["reason"], "client namespace disconnect", "{ctx}");
    }
}

#[tokio::test]
async fn unknown_namespace_is_refused_with_connect_error() {
    for version in [2, 4] {
        let up = Upstream::start(version).await;
        let opts = ClientOpts::new(version, up.url())
            .nsp("/nope")
            .no_reconnect();
        let mut client = Client::spawn(&opts);
        let err = client.proc.wait_ev("connect_error", STEP).await;
        assert_eq!(err["message"], "Invalid namespace", "v{version}: {err}");
    }
}

#[tokio::test]
async fn secure_namespace_middleware_refuses_without_token_and_admits_with_it() {
    for version in [2, 4] {
        let up = Upstream::start(version).await;
        let opts = ClientOpts::new(version, up.url())
            .nsp("/secure")
            .no_reconnect();
        let mut client = Client::spawn(&opts);
        let err = client.proc.wait_ev("connect_error", STEP).await;
        // 2.x sends only err.data when set; 4.x sends {message, data}.
        assert_eq!(err["data"], json!({"code": 401}), "v{version}: {err}");
        if version == 4 {
            assert_eq!(err["message"], "not authorized", "{err}");
        }
        let mut ok = connect_with_token(&up, version, Transports::WebsocketOnly, "/secure").await;
        assert_eq!(
            ok.emit_ack("echo", json!(["in"])).await,
            vec![json!("in")],
            "v{version}"
        );
    }
}

#[tokio::test]
async fn v2_client_reaches_v4_upstream_only_with_allow_eio3() {
    let up = Upstream::start(4).await;
    let opts = ClientOpts::new(2, up.url())
        .nsp("/chat")
        .query("token", "abc")
        .no_reconnect();
    let mut refused = Client::spawn(&opts);
    refused.proc.wait_ev("connect_error", STEP).await;

    let mut up = Upstream::start_with(UpstreamOpts {
        version: 4,
        allow_eio3: true,
        ..Default::default()
    })
    .await;
    let opts = ClientOpts::new(2, up.url())
        .nsp("/chat")
        .query("token", "abc");
    let (mut client, _) = Client::connect(&opts).await;
    let who = client.emit_ack("whoami", json!([])).await;
    // socket.io 4 hands an EIO3 client's namespace query to middleware as handshake.auth.
    assert_eq!(who[0]["auth"]["token"], "abc", "{}", who[0]);
    assert_eq!(up.wait_connection("/chat").await["eio"], 3);
}

#[tokio::test]
async fn peers_exit_when_stdin_closes() {
    let mut up = Upstream::start(4).await;
    let opts = ClientOpts::new(4, up.url());
    let (mut client, _) = Client::connect(&opts).await;
    client.proc.close_stdin();
    assert!(client.proc.wait_exit(STEP).await.success());
    up.proc.close_stdin();
    assert!(up.proc.wait_exit(STEP).await.success());
}

#[tokio::test]
async fn tls_upstream_serves_https_and_wss_to_clients_that_trust_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (cert, key) = self_signed_cert(dir.path()).await;
    for (version, t) in MATRIX {
        let ctx = format!("v{version} {t:?}");
        let tls = Some((cert.clone(), key.clone()));
        let up = Upstream::start_with(UpstreamOpts {
            version,
            tls,
            ..Default::default()
        })
        .await;
        assert!(up.url().starts_with("https://"), "{ctx}");

        // Without --insecure the self-signed certificate is refused: TLS is really on.
        let strict = ClientOpts::new(version, up.url())
            .transports(t)
            .no_reconnect();
        let mut refused = Client::spawn(&strict);
        refused.proc.wait_ev("connect_error", STEP).await;

        let (mut client, _) = Client::connect(&strict.insecure()).await;
        assert_eq!(
            client.emit_ack("echo", json!(["tls"])).await,
            vec![json!("tls")],
            "{ctx}"
        );
    }
}
