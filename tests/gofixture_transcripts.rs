//! The Go gateway stand-in (`tests/common/gofixture`) against the recordings
//! of the real go-socket.io 1.0.1 / 1.4.3 / 1.7.0 gateways: every `ws-*.txt`
//! and `poll-*.txt` case of every version is replayed frame by frame with a
//! raw tokio-tungstenite client or raw HTTP requests, and the fixture's
//! answers must equal the recorded S->C frames and HTTP bodies (session ids
//! and push timestamps normalized). Further tests pin the behaviour around
//! the recordings: the namespace-query bug seen by a strict client (the
//! baseline a proxy test flips), heartbeats with short timings, the v1.0.1
//! wedges, polling framing, upgrade, restart on the same port, the app log.
//! Transcripts are read from tests/fixtures/go-socket.io/ (copied from
//! shared/fixtures/go-socket.io/ so a fresh clone has them).

mod common;

use common::gofixture::client::{
    Got, WAIT, WsClient, expect_text, http, next_frame, ws_connect, ws_send,
};
use common::gofixture::transcript::{
    self, HttpReply, PollEvent, WsAction, WsExpect, WsTranscript, decode_strict, normalize,
};
use common::gofixture::{GoFixture, GoFixtureOptions, GoVersion, LogEntry};
use std::collections::{HashMap, VecDeque};
use std::time::Duration;

/// How long "nothing more arrives" is checked after the last step.
const QUIET: Duration = Duration::from_millis(150);

#[path = "gofixture_transcripts/heartbeat.rs"]
mod heartbeat;
#[path = "gofixture_transcripts/legacy.rs"]
mod legacy;
#[path = "gofixture_transcripts/lifecycle.rs"]
mod lifecycle;
#[path = "gofixture_transcripts/polling.rs"]
mod polling;

fn opts(interval_ms: u64, timeout_ms: u64) -> GoFixtureOptions {
    GoFixtureOptions {
        ping_interval: Duration::from_millis(interval_ms),
        ping_timeout: Duration::from_millis(timeout_ms),
    }
}

/// Connects a raw EIO3 WebSocket client and consumes the open packet and `40`;
/// returns the client and the session id.
async fn ws_open(fx: &GoFixture, query: &str) -> (WsClient, String) {
    let mut ws = ws_connect(&fx.ws_url(query)).await;
    let open = expect_text(&mut ws).await;
    assert!(
        open.starts_with("0{") && open.ends_with("}\n"),
        "open packet: {open:?}"
    );
    let json: serde_json::Value = serde_json::from_str(&open[1..]).expect("open JSON");
    assert_eq!(expect_text(&mut ws).await, "40");
    (ws, json["sid"].as_str().expect("sid").to_owned())
}

/// Sends `send` and expects exactly `reply` back.
async fn roundtrip(ws: &mut WsClient, send: &str, reply: &str) {
    ws_send(ws, send).await;
    assert_eq!(
        next_frame(ws, WAIT).await,
        Got::Text(reply.into()),
        "reply to {send:?}"
    );
}

/// Sends `send` and expects no answer within `QUIET`.
async fn unanswered(ws: &mut WsClient, send: &str) {
    ws_send(ws, send).await;
    assert_eq!(
        next_frame(ws, QUIET).await,
        Got::Silent,
        "answer to {send:?}"
    );
}

async fn replay_ws(version: GoVersion, case: &str) {
    let rel = format!("{}/{case}.txt", version.label());
    replay_ws_file(&rel, version, GoFixtureOptions::defaults_for(version)).await;
}

/// Replays one WebSocket transcript against a fixture with `opts`.
async fn replay_ws_file(rel: &str, version: GoVersion, opts: GoFixtureOptions) {
    let t = WsTranscript::parse(&transcript::read(rel));
    assert!(!t.steps.is_empty(), "{rel}: no steps parsed");
    let fx = GoFixture::start_with(version, opts).await;
    let mut ws = ws_connect(&fx.ws_url(&t.url_query)).await;
    let mut closed = expect_ws(&mut ws, &t.initial, rel, "open").await;
    for (i, step) in t.steps.iter().enumerate() {
        let at = format!("step {i} {:?}", step.action);
        match &step.action {
            WsAction::Send(text) if !closed => ws_send(&mut ws, text).await,
            WsAction::Send(_) => {}
            WsAction::Http(path) => {
                let reply = http(fx.addr, "GET", path, b"").await;
                if let Some(want) = &step.http_reply {
                    assert_eq!(
                        String::from_utf8_lossy(&reply.body),
                        *want,
                        "{rel} {at}: side channel"
                    );
                }
            }
        }
        closed |= expect_ws(&mut ws, &step.expect, rel, &at).await;
    }
    if !closed {
        let extra = next_frame(&mut ws, QUIET).await;
        assert_eq!(
            extra,
            Got::Silent,
            "{rel}: unexpected output after the last step"
        );
    }
}

/// Checks the frames one step should produce; `true` if the connection closed.
async fn expect_ws(ws: &mut WsClient, want: &[WsExpect], rel: &str, at: &str) -> bool {
    for w in want {
        let got = next_frame(ws, WAIT).await;
        match (w, got) {
            (WsExpect::Frame(f), Got::Text(g)) => {
                assert_eq!(normalize(&g), normalize(f), "{rel} {at}")
            }
            (WsExpect::Closed1006, Got::Closed { close_frame: false }) => return true,
            (w, got) => panic!("{rel} {at}: expected {w:?}, got {got:?}"),
        }
    }
    false
}

/// Compares a live HTTP answer with a recorded one (payloads decoded and
/// normalized; lengths must be exact UTF-8 byte counts on both sides).
fn assert_reply(got: &HttpReply, want: &HttpReply, ctx: &str) {
    assert_eq!(
        got.status,
        want.status,
        "{ctx}: status (body {:?})",
        String::from_utf8_lossy(&got.body)
    );
    let Some(ct) = &want.content_type else {
        return assert_eq!(
            String::from_utf8_lossy(&got.body),
            String::from_utf8_lossy(&want.body),
            "{ctx}"
        );
    };
    assert_eq!(
        got.content_type.as_deref(),
        Some(ct.as_str()),
        "{ctx}: content type"
    );
    let framing = match ct.as_str() {
        "application/octet-stream" => Some(true),
        "text/plain; charset=UTF-8" if want.status == 200 => Some(false),
        _ => None,
    };
    match framing {
        Some(binary) => {
            let norm = |b: &[u8], who: &str| -> Vec<String> {
                decode_strict(b, binary)
                    .unwrap_or_else(|| {
                        panic!(
                            "{ctx}: {who} body is mis-framed: {:?}",
                            String::from_utf8_lossy(b)
                        )
                    })
                    .iter()
                    .map(|p| normalize(p))
                    .collect()
            };
            assert_eq!(
                norm(&got.body, "fixture"),
                norm(&want.body, "recorded"),
                "{ctx}"
            );
        }
        None => assert_eq!(got.body, want.body, "{ctx}"),
    }
}

fn sid_of(handshake: &HttpReply) -> String {
    let binary = handshake.content_type.as_deref() == Some("application/octet-stream");
    let packets = decode_strict(&handshake.body, binary).expect("handshake framing");
    let open: serde_json::Value = serde_json::from_str(&packets[0][1..]).expect("open packet JSON");
    open["sid"].as_str().expect("sid").to_owned()
}

async fn replay_poll(version: GoVersion, case: &str) {
    let rel = format!("{}/{case}.txt", version.label());
    let events = transcript::parse_poll(&transcript::read(&rel));
    let fx = GoFixture::start(version).await;
    let addr = fx.addr;
    let (mut query, mut sid) = (String::new(), String::new());
    let mut handshake = None;
    let mut gets = HashMap::new();
    let mut posts = VecDeque::new();
    let mut side = None;
    let post = |q: &str, body: String| {
        let path = format!("/socket.io/?{q}");
        tokio::spawn(async move { http(addr, "POST", &path, body.as_bytes()).await })
    };
    for ev in events {
        match ev {
            PollEvent::Handshake(q) => {
                query = q;
                let path = format!("/socket.io/?{query}");
                handshake = Some(tokio::spawn(
                    async move { http(addr, "GET", &path, b"").await },
                ));
            }
            PollEvent::HandshakeReply(want) => {
                let got = handshake
                    .take()
                    .expect("handshake sent")
                    .await
                    .expect("handshake task");
                assert_reply(&got, &want, &format!("{rel} handshake"));
                sid = sid_of(&got);
            }
            PollEvent::Get(n) => {
                let path = format!("/socket.io/?{query}&sid={sid}");
                gets.insert(
                    n,
                    tokio::spawn(async move { http(addr, "GET", &path, b"").await }),
                );
            }
            PollEvent::GetReply(n, want) => {
                let got = gets.remove(&n).expect("GET sent").await.expect("GET task");
                assert_reply(&got, &want, &format!("{rel} GET#{n}"));
            }
            PollEvent::Post(body) => posts.push_back(post(&format!("{query}&sid={sid}"), body)),
            PollEvent::Close => posts.push_back(post(&format!("{query}&sid={sid}"), "1:1".into())),
            PollEvent::PostReply(want) => {
                let got = posts
                    .pop_front()
                    .expect("POST sent")
                    .await
                    .expect("POST task");
                assert_reply(&got, &want, &format!("{rel} POST"));
            }
            PollEvent::Side(path) => {
                side = Some(tokio::spawn(
                    async move { http(addr, "GET", &path, b"").await },
                ))
            }
            PollEvent::SideReply(want) => {
                let got = side
                    .take()
                    .expect("side channel sent")
                    .await
                    .expect("side task");
                assert_eq!(
                    String::from_utf8_lossy(&got.body),
                    want,
                    "{rel} side channel"
                );
            }
        }
    }
    gets.values().for_each(|t| t.abort());
}

macro_rules! replays {
    ($kind:ident, $replay:ident: $($name:ident => $file:literal),* $(,)?) => {
        mod $kind {
            use super::*;
            pub const CASES: &[&str] = &[$($file),*];
            mod v1_0_1 { use super::*; $( #[tokio::test] async fn $name() { $replay(GoVersion::V1_0_1, $file).await } )* }
            mod v1_4_3 { use super::*; $( #[tokio::test] async fn $name() { $replay(GoVersion::V1_4_3, $file).await } )* }
            mod v1_7_0 { use super::*; $( #[tokio::test] async fn $name() { $replay(GoVersion::V1_7_0, $file).await } )* }
        }
    };
}

replays!(ws, replay_ws:
    chat_noquery => "ws-chat-noquery",
    chat_query => "ws-chat-query",
    chat_query_nocomma => "ws-chat-query-nocomma",
    chat_query_nsp_disconnect_then_more => "ws-chat-query-nsp-disconnect-then-more",
    chat_query_then_events_with_query_nsp => "ws-chat-query-then-events-with-query-nsp",
    eio4_raw => "ws-eio4-raw",
    root_explicit_40 => "ws-root-explicit-40",
    root_implicit => "ws-root-implicit",
    root_query => "ws-root-query",
    root_slash_comma => "ws-root-slash-comma",
    two_nsps => "ws-two-nsps",
    unknown_nsp => "ws-unknown-nsp",
);

replays!(poll, replay_poll:
    chat_noquery_b64 => "poll-chat-noquery-b64",
    chat_query => "poll-chat-query",
    chat_query_b64 => "poll-chat-query-b64",
    eio4_raw => "poll-eio4-raw",
    root_b64 => "poll-root-b64",
);

#[test]
fn every_recorded_ws_and_poll_case_has_a_replay() {
    for v in GoVersion::ALL {
        let dir = transcript::fixtures_dir().join(v.label());
        let mut names: Vec<String> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter_map(|n| n.strip_suffix(".txt").map(str::to_owned))
            .filter(|n| n.starts_with("ws-") || n.starts_with("poll-"))
            .collect();
        names.sort();
        let mut covered: Vec<String> = ws::CASES
            .iter()
            .chain(poll::CASES)
            .map(|s| s.to_string())
            .collect();
        covered.sort();
        assert_eq!(names, covered, "{}", v.label());
    }
}
