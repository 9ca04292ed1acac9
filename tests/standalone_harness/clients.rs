//! The standalone gateway the real-client tests share (socket.io-client in
//! `tests/standalone_clients.rs`, python-socketio in `tests/python_clients.rs`):
//! `/` and `/chat`, HS256 JWTs carrying the rooms, built-in join/leave, and a
//! webhook that acks every event with `{"event", "args"}` of that event;
//! plus the token maker, a push API call that returns the delivered count and
//! the socket list of a namespace.

use std::sync::Arc;

use jsonwebtoken::{EncodingKey, Header, encode};
use serde_json::{Value, json};
use siogate::standalone::{JwtKey, JwtOptions, NamespacePolicy, Standalone, WebhookOptions};

use super::gateway;
use super::net::{Reply, Server, webhook_server};

const SECRET: &[u8] = b"client-tests";

/// A JWT for subject `tester` that joins `rooms`.
pub fn token(rooms: &[&str]) -> String {
    let claims = json!({"sub": "tester", "rooms": rooms});
    encode(
        &Header::default(),
        &claims,
        &EncodingKey::from_secret(SECRET),
    )
    .expect("encoding a test JWT")
}

/// Starts the gateway on 127.0.0.1:0 with the echoing webhook.
pub async fn start() -> Server {
    let reply: Reply = Arc::new(|body| {
        (
            200,
            json!([{"event": body["event"], "args": body["args"]}]).to_string(),
        )
    });
    let (hook, _requests) = webhook_server(reply).await;
    let gw: Standalone = gateway(move |o| {
        o.namespaces = NamespacePolicy::List(vec!["/chat".into()]);
        o.jwt = Some(JwtOptions::new(JwtKey::Hs256(SECRET.to_vec())));
        o.join_leave = true;
        o.webhook = Some(WebhookOptions::new(hook));
    });
    Server::start(gw).await
}

/// `POST /api/v1/emit` with `body`; asserts 200 and returns `delivered`.
pub async fn push(server: &Server, body: Value) -> u64 {
    let (status, resp) = server.api("POST", "emit", &body.to_string()).await;
    assert_eq!(status, 200, "{resp}");
    resp["delivered"]
        .as_u64()
        .unwrap_or_else(|| panic!("no delivered count in {resp}"))
}

/// The ids of the sockets connected to `nsp` (`GET /api/v1/sockets`).
pub async fn sockets(server: &Server, nsp: &str) -> Vec<String> {
    let (status, body) = server
        .api("GET", &format!("sockets?namespace={nsp}"), "")
        .await;
    assert_eq!(status, 200, "{body}");
    body["sockets"]
        .as_array()
        .map(|list| {
            list.iter()
                .filter_map(|s| s["id"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_else(|| panic!("no socket list in {body}"))
}
