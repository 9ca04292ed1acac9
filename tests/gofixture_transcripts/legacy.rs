//! go-socket.io v1.0.1 behaviour around the recordings: the namespace-query
//! bug as a strict client sees it (the baseline a proxy test flips), the
//! wedges of its single socket loop, what it tolerates, and its sids.

use super::*;

/// The namespace a strict SIO4 client (socket.io-client 2.x `onpacket`,
/// Postman) reads from a CONNECT reply: up to the first `,`, `/` if absent.
/// `None` if the frame is not a CONNECT.
fn connect_reply_nsp(frame: &str) -> Option<&str> {
    let rest = frame.strip_prefix("40")?;
    if !rest.starts_with('/') {
        return Some("/");
    }
    Some(rest.split(',').next().unwrap_or(rest))
}

/// Everything the server sends until it has been quiet for `QUIET`.
async fn drain(ws: &mut WsClient) -> Vec<String> {
    let mut frames = Vec::new();
    while let Got::Text(t) = next_frame(ws, QUIET).await {
        frames.push(t);
    }
    frames
}

#[tokio::test]
async fn strict_client_never_gets_a_chat_connect_reply_from_1_0_1_when_the_connect_has_a_query() {
    let fx = GoFixture::start(GoVersion::V1_0_1).await;
    let (mut ws, _) = ws_open(&fx, "EIO=3&transport=websocket&token=abc").await;
    ws_send(&mut ws, "40/chat?token=abc,").await;
    ws_send(&mut ws, "42/chat,1[\"echo\",\"hi\"]").await;
    let frames = drain(&mut ws).await;
    // The real server's answers: the query is echoed into every nsp.
    assert_eq!(frames, ["40/chat?token=abc", "43/chat?token=abc,1[\"hi\"]"]);
    let replies: Vec<_> = frames.iter().filter_map(|f| connect_reply_nsp(f)).collect();
    assert_eq!(replies, ["/chat?token=abc"]);
    assert!(
        !replies.contains(&"/chat"),
        "a strict client would have connected"
    );
}

#[tokio::test]
async fn strict_client_does_get_its_chat_reply_without_query_on_1_0_1_and_with_query_on_1_7_0() {
    let fx = GoFixture::start(GoVersion::V1_0_1).await;
    let (mut ws, _) = ws_open(&fx, "EIO=3&transport=websocket&token=abc").await;
    ws_send(&mut ws, "40/chat,").await;
    assert_eq!(
        connect_reply_nsp(&expect_text(&mut ws).await),
        Some("/chat")
    );

    let fx = GoFixture::start(GoVersion::V1_7_0).await;
    let (mut ws, _) = ws_open(&fx, "EIO=3&transport=websocket&token=abc").await;
    ws_send(&mut ws, "40/chat?token=abc,").await;
    assert_eq!(
        connect_reply_nsp(&expect_text(&mut ws).await),
        Some("/chat")
    );
}

#[tokio::test]
async fn malformed_json_for_a_handled_event_wedges_1_0_1_after_the_next_message() {
    let fx = GoFixture::start(GoVersion::V1_0_1).await;
    let (mut ws, _) = ws_open(&fx, "EIO=3&transport=websocket").await;
    unanswered(&mut ws, "421[\"echo\"").await;
    // The loop is dead but the engine still answers until a message is stuck.
    roundtrip(&mut ws, "2", "3").await;
    unanswered(&mut ws, "422[\"echo\",\"after\"]").await;
    unanswered(&mut ws, "2").await;
}

#[tokio::test]
async fn wrongly_typed_arguments_wedge_1_0_1_like_a_disconnect() {
    let fx = GoFixture::start(GoVersion::V1_0_1).await;
    let (mut ws, _) = ws_open(&fx, "EIO=3&transport=websocket").await;
    unanswered(&mut ws, "421[\"echo\",5]").await;
    unanswered(&mut ws, "422[\"echo\",\"x\"]").await;
    unanswered(&mut ws, "2").await;
}

#[tokio::test]
async fn junk_and_unknown_packets_leave_1_0_1_working() {
    let fx = GoFixture::start(GoVersion::V1_0_1).await;
    let (mut ws, _) = ws_open(&fx, "EIO=3&transport=websocket").await;
    for junk in [
        "4abc",
        "49",
        "42",
        "42[\"nohandler\"",
        "4€",
        "€",
        "421[\"nohandler\",1]",
    ] {
        unanswered(&mut ws, junk).await;
    }
    // Junk between the nsp and the JSON is skipped; the socket nsp is still "".
    roundtrip(
        &mut ws,
        "42/chat,abc[\"msg\",\"x\"]",
        "42[\"msg\",\"recv: x\"]",
    )
    .await;
    roundtrip(
        &mut ws,
        "421[\"echo\",\"<&>\"]",
        "431[\"\\u003c\\u0026\\u003e\"]",
    )
    .await;
}

#[tokio::test]
async fn last_connect_wins_and_a_v5_connect_loses_its_auth_on_1_0_1() {
    let fx = GoFixture::start(GoVersion::V1_0_1).await;
    let (mut ws, sid) = ws_open(&fx, "EIO=3&transport=websocket").await;
    roundtrip(&mut ws, "40/a,", "40/a").await;
    roundtrip(&mut ws, "40/b?x=1,", "40/b?x=1").await;
    roundtrip(
        &mut ws,
        "42/a,[\"msg\",\"to-a\"]",
        "42/b?x=1,[\"msg\",\"recv: to-a\"]",
    )
    .await;
    roundtrip(&mut ws, "40{\"token\":\"abc\"}", "40").await;
    // `connection` fired on open and on each CONNECT, with go's raw namespace.
    let nsps: Vec<String> = fx
        .log()
        .into_iter()
        .filter_map(|e| match e {
            LogEntry::Connect { sid: s, nsp, .. } if s == sid => Some(nsp),
            _ => None,
        })
        .collect();
    assert_eq!(nsps, ["", "/a", "/b?x=1", ""]);
}

#[tokio::test]
async fn sids_are_twenty_random_base64url_chars_on_1_0_1() {
    let fx = GoFixture::start(GoVersion::V1_0_1).await;
    let (_a, sid_a) = ws_open(&fx, "EIO=3&transport=websocket").await;
    let (_b, sid_b) = ws_open(&fx, "EIO=4&transport=websocket").await;
    for sid in [&sid_a, &sid_b] {
        assert_eq!(sid.len(), 20, "{sid}");
        assert!(
            sid.bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'),
            "{sid}"
        );
    }
    assert_ne!(sid_a, sid_b);
}

#[tokio::test]
async fn junk_and_unknown_packets_leave_1_4_3_and_1_7_0_working() {
    for v in [GoVersion::V1_4_3, GoVersion::V1_7_0] {
        let fx = GoFixture::start(v).await;
        let (mut ws, _) = ws_open(&fx, "EIO=3&transport=websocket").await;
        let junk = [
            "4abc",
            "49",
            "42",
            "42[\"echo\"",
            "421[\"echo\",5]",
            "4€",
            "€",
            "42/chat,[\"msg\",\"x\"]",
        ];
        for junk in junk {
            unanswered(&mut ws, junk).await;
        }
        roundtrip(&mut ws, "421[\"echo\",\"ok\"]", "431[\"ok\"]\n").await;
    }
}
