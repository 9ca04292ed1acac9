//! Client events in standalone mode: built-in join/leave, the "no handler"
//! ack, and the webhook (a real HTTP server on 127.0.0.1:0) whose reply
//! becomes the ack, binary both ways.
#[allow(dead_code, unused_imports)] // the harness uses only the HTTP client of it
mod common;
mod standalone_harness;

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use siogate::protocol::engineio::Revision;
use siogate::standalone::{JwtKey, JwtOptions, NamespacePolicy, Standalone, WebhookOptions};
use standalone_harness::net::{Reply, webhook_server, webhook_server_tls};
use standalone_harness::{Client, api, gateway};

fn with_webhook(url: &str, timeout: Duration) -> Standalone {
    let url = url.to_string();
    gateway(move |o| {
        o.namespaces = NamespacePolicy::List(vec!["/chat".into()]);
        o.webhook = Some(WebhookOptions {
            timeout,
            bearer_token: Some("hook-secret".into()),
            ..WebhookOptions::new(url)
        });
        o.jwt = Some(JwtOptions {
            required: false,
            ..JwtOptions::new(JwtKey::Hs256(b"k".to_vec()))
        });
    })
}

/// Waits (bounded) until the client has been sent something.
async fn next_packets(c: &Client) -> Vec<String> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let got = c.take();
        if !got.is_empty() {
            return got;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "nothing sent in time"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

async fn connected_v5(gw: &Standalone, auth: &str) -> (Client, String) {
    let mut c = Client::open(gw, Revision::V4, "q=1").await;
    c.send(&format!("0/chat,{auth}")).await.unwrap();
    let reply = c.take()[0].replacen("0/chat,", "0", 1);
    let id = Client::connect_sid(&[reply]);
    (c, id)
}

#[tokio::test]
async fn join_and_leave_events_with_ack_and_pattern() {
    let gw = gateway(|o| {
        o.join_leave = true;
        o.join_pattern = Some("user:*".into());
    });
    let mut c = Client::open(&gw, Revision::V4, "").await;
    c.send("0").await.unwrap();
    c.take();
    c.send(r#"21["join",["user:1","user:2"]]"#).await.unwrap();
    assert_eq!(c.take(), [r#"31[{"ok":true}]"#]);
    c.send(r#"22["join","admin"]"#).await.unwrap();
    assert_eq!(c.take(), [r#"32[{"error":"room not allowed: admin"}]"#]);
    c.send(r#"2["leave","user:2"]"#).await.unwrap();
    assert!(c.take().is_empty(), "no ack asked, none sent");
    let (_, rooms) = api(&gw, "GET", "/api/v1/rooms", "").await;
    assert_eq!(rooms, json!({"rooms": {"user:1": 1}}));
}

#[tokio::test]
async fn join_is_an_ordinary_event_when_disabled() {
    let gw = gateway(|_| {});
    let mut c = Client::open(&gw, Revision::V3, "").await;
    c.take();
    c.send(r#"27["join","r"]"#).await.unwrap();
    assert_eq!(c.take(), [r#"37[{"error":"no handler"}]"#]);
    let (_, rooms) = api(&gw, "GET", "/api/v1/rooms", "").await;
    assert_eq!(rooms, json!({"rooms": {}}));
}

#[tokio::test]
async fn events_without_webhook_are_dropped_or_acked_with_an_error() {
    let gw = gateway(|_| {});
    let mut c = Client::open(&gw, Revision::V4, "").await;
    c.send("0/chat,").await.unwrap();
    c.take();
    c.send(r#"2/chat,["hello",1]"#).await.unwrap();
    assert!(c.take().is_empty());
    c.send(r#"2/chat,12["hello",1]"#).await.unwrap();
    assert_eq!(c.take(), [r#"3/chat,12[{"error":"no handler"}]"#]);
}

#[tokio::test]
async fn webhook_gets_the_event_and_its_reply_becomes_the_ack() {
    let reply: Reply = Arc::new(|_| (200, r#"{"saved":true}"#.into()));
    let (url, mut requests) = webhook_server(reply).await;
    let gw = with_webhook(&url, Duration::from_secs(5));
    let token = jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &json!({"sub": "u9"}),
        &jsonwebtoken::EncodingKey::from_secret(b"k"),
    )
    .unwrap();
    let (mut c, id) = connected_v5(&gw, &format!(r#"{{"token":"{token}","v":2}}"#)).await;
    c.send(r#"2/chat,5["save",{"a":1},"x"]"#).await.unwrap();
    assert_eq!(next_packets(&c).await, [r#"3/chat,5[{"saved":true}]"#]);
    let (body, auth) = requests.recv().await.unwrap();
    assert_eq!(auth.as_deref(), Some("Bearer hook-secret"));
    assert_eq!(
        body,
        json!({
            "namespace": "/chat", "socket": id, "event": "save",
            "args": [{"a": 1}, "x"], "claims": {"sub": "u9"},
            "query": {"q": "1"}, "auth": {"v": 2},
        })
    );
}

#[tokio::test]
async fn sio4_webhook_sees_the_merged_query_without_the_token() {
    let reply: Reply = Arc::new(|_| (200, "[1,2]".into()));
    let (url, mut requests) = webhook_server(reply).await;
    let gw = with_webhook(&url, Duration::from_secs(5));
    let mut c = Client::open(&gw, Revision::V3, "a=http&b=keep").await;
    c.send("0/chat?a=nsp&token=,").await.unwrap();
    c.take();
    c.send(r#"2/chat,3["e"]"#).await.unwrap();
    assert_eq!(next_packets(&c).await, [r#"3/chat,3[1,2]"#]);
    let (body, _) = requests.recv().await.unwrap();
    assert_eq!(body["query"], json!({"a": "nsp", "b": "keep"}));
    assert_eq!(body["socket"], format!("/chat#{}", c.eio_sid()));
    assert_eq!(body["claims"], Value::Null);
}

#[tokio::test]
async fn binary_goes_to_the_webhook_as_bin_and_comes_back_as_attachments() {
    let reply: Reply = Arc::new(|body| {
        let echoed = body["args"][0].clone();
        (200, json!({"echo": echoed}).to_string())
    });
    let (url, mut requests) = webhook_server(reply).await;
    let gw = with_webhook(&url, Duration::from_secs(5));
    let (mut c, _) = connected_v5(&gw, "").await;
    c.send(r#"51-/chat,4["up",{"_placeholder":true,"num":0}]"#)
        .await
        .unwrap();
    assert!(c.take().is_empty(), "waiting for the attachment");
    c.send_bin(&[1, 2, 3]).await.unwrap();
    assert_eq!(
        next_packets(&c).await,
        [
            r#"61-/chat,4[{"echo":{"_placeholder":true,"num":0}}]"#,
            "bin[01 02 03]"
        ]
    );
    let (body, _) = requests.recv().await.unwrap();
    assert_eq!(body["args"], json!([{"$bin": "AQID"}]));
}

#[tokio::test]
async fn webhook_failure_and_timeout_ack_an_error() {
    let reply: Reply = Arc::new(|body| match body["event"].as_str() {
        Some("fail") => (500, "oops".into()),
        Some("badjson") => (200, "{not json".into()),
        _ => (0, String::new()),
    });
    let (url, _requests) = webhook_server(reply).await;
    let gw = with_webhook(&url, Duration::from_millis(300));
    let (mut c, _) = connected_v5(&gw, "").await;
    for (i, event) in ["fail", "badjson", "hang"].iter().enumerate() {
        c.send(&format!(r#"2/chat,{i}["{event}"]"#)).await.unwrap();
        assert_eq!(
            next_packets(&c).await,
            [format!(r#"3/chat,{i}[{{"error":"webhook error"}}]"#)],
            "{event}"
        );
    }
}

#[tokio::test]
async fn https_webhook_is_verified_against_its_ca_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let ca = common::tls::TestCa::new("webhook CA");
    let leaf = ca.leaf("webhook", &["localhost"]);
    let reply: Reply = Arc::new(|body| (200, body["args"].to_string()));
    let (url, mut requests) = webhook_server_tls(reply, leaf.server_config()).await;
    assert!(url.starts_with("https://"), "{url}");
    let with_ca = |ca_file: std::path::PathBuf| {
        let url = url.clone();
        gateway(move |o| {
            o.namespaces = NamespacePolicy::List(vec!["/chat".into()]);
            o.webhook = Some(WebhookOptions {
                ca_file: Some(ca_file),
                ..WebhookOptions::new(url)
            });
        })
    };

    let gw = with_ca(ca.write(dir.path(), "ca.pem"));
    let (mut c, _) = connected_v5(&gw, "").await;
    c.send(r#"2/chat,1["save",{"over":"tls"}]"#).await.unwrap();
    assert_eq!(next_packets(&c).await, [r#"3/chat,1[{"over":"tls"}]"#]);
    let (body, _) = requests.recv().await.unwrap();
    assert_eq!(body["event"], "save");

    // A CA that did not sign the webhook's certificate: the call fails
    // before any request is sent, and the client gets the error ack.
    let other = common::tls::TestCa::new("another CA");
    let gw = with_ca(other.write(dir.path(), "other.pem"));
    let (mut c, _) = connected_v5(&gw, "").await;
    c.send(r#"2/chat,2["save",{"over":"tls"}]"#).await.unwrap();
    assert_eq!(
        next_packets(&c).await,
        [r#"3/chat,2[{"error":"webhook error"}]"#]
    );
    assert!(requests.try_recv().is_err(), "no request got through");
}
