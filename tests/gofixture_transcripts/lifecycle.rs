//! The fixture's own API around the recorded behaviour: the app log and the
//! fixture-only `whoami` event, pushes per namespace, sequential sids of
//! v1.4.3/v1.7.0, connection counters, and stop/restart on the same port.

use super::*;

#[tokio::test]
async fn whoami_acks_the_handshake_query_and_the_log_shows_the_token() {
    for v in GoVersion::ALL {
        let fx = GoFixture::start(v).await;
        let query = "EIO=3&transport=websocket&token=abc";
        let (mut ws, sid) = ws_open(&fx, query).await;
        let nl = if v == GoVersion::V1_0_1 { "" } else { "\n" };
        // Go's encoding/json escapes `&` as \u0026.
        let escaped = query.replace('&', "\\u0026");
        roundtrip(
            &mut ws,
            "427[\"whoami\"]",
            &format!("437[\"{escaped}\"]{nl}"),
        )
        .await;
        let connect = fx
            .wait_for_log(
                |e| matches!(e, LogEntry::Connect { sid: s, .. } if *s == sid),
                WAIT,
            )
            .await;
        let Some(LogEntry::Connect { url_query, .. }) = connect else {
            panic!("{}: no connect logged: {:?}", v.label(), fx.log())
        };
        assert!(url_query.contains("token=abc"), "{url_query}");
        let event = fx.wait_for_log(
            |e| matches!(e, LogEntry::Event { name, .. } if name == "whoami"),
            WAIT,
        );
        assert!(event.await.is_some(), "{}: {:?}", v.label(), fx.log());
    }
}

#[tokio::test]
async fn modern_push_reaches_root_then_chat_and_honours_the_nsp_filter() {
    let fx = GoFixture::start(GoVersion::V1_7_0).await;
    let (mut ws, _) = ws_open(&fx, "EIO=3&transport=websocket").await;
    roundtrip(&mut ws, "40/chat,", "40/chat,[]\n").await;
    assert_eq!(fx.push("only-chat", Some("/chat")).await, 1);
    let f = expect_text(&mut ws).await;
    assert_eq!(
        normalize(&f),
        "42/chat,[\"push\",\"only-chat #<N> at <TS>\"]\n"
    );
    let reply = http(fx.addr, "GET", "/push?msg=to%20all", b"").await;
    assert_eq!(reply.body, b"pushed to 2 namespace connections");
    assert_eq!(
        normalize(&expect_text(&mut ws).await),
        "42[\"push\",\"to all #<N> at <TS>\"]\n"
    );
    assert_eq!(
        normalize(&expect_text(&mut ws).await),
        "42/chat,[\"push\",\"to all #<N> at <TS>\"]\n"
    );
    unanswered(&mut ws, "41/chat,").await;
    assert_eq!(fx.push("after-leave", None).await, 1, "only root is left");
}

#[tokio::test]
async fn modern_sids_count_up_in_base_36_and_restart_from_one() {
    let mut fx = GoFixture::start(GoVersion::V1_4_3).await;
    let mut sids = Vec::new();
    let mut clients = Vec::new();
    for _ in 0..11 {
        let (ws, sid) = ws_open(&fx, "EIO=3&transport=websocket").await;
        clients.push(ws);
        sids.push(sid);
    }
    assert_eq!(
        sids,
        ["1", "2", "3", "4", "5", "6", "7", "8", "9", "a", "b"]
    );
    assert_eq!(fx.open_sessions(), 11);
    fx.restart().await;
    let (_ws, sid) = ws_open(&fx, "EIO=3&transport=websocket").await;
    assert_eq!(sid, "1");
    assert_eq!(fx.sessions_opened(), 12);
}

#[tokio::test]
async fn stop_drops_clients_without_close_frame_and_restart_serves_the_same_port() {
    let mut fx = GoFixture::start(GoVersion::V1_0_1).await;
    let addr = fx.addr;
    let (mut ws, sid) = ws_open(&fx, "EIO=3&transport=websocket&token=abc").await;
    assert_eq!((fx.open_sessions(), fx.open_websockets()), (1, 1));
    fx.stop().await;
    assert_eq!(
        next_frame(&mut ws, WAIT).await,
        Got::Closed { close_frame: false }
    );
    assert!(!fx.is_running());
    assert_eq!(
        (
            fx.open_sessions(),
            fx.open_websockets(),
            fx.open_connections()
        ),
        (0, 0, 0)
    );
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "still accepting"
    );
    let closed = fx.log().into_iter().any(
        |e| matches!(e, LogEntry::SessionClosed { sid: s, reason } if s == sid && reason == "server stopped"),
    );
    assert!(closed, "{:?}", fx.log());

    fx.restart().await;
    assert_eq!(fx.addr, addr);
    let (mut ws, sid2) = ws_open(&fx, "EIO=3&transport=websocket&token=abc").await;
    assert_ne!(sid, sid2);
    roundtrip(&mut ws, "421[\"echo\",\"back\"]", "431[\"back\"]").await;
    assert_eq!(fx.sessions_opened(), 2);
    assert_eq!(fx.open_websockets(), 1);
}

#[test]
fn push_timestamps_are_go_rfc3339nano_in_utc() {
    use common::gofixture::app::rfc3339_nano;
    use std::time::UNIX_EPOCH;
    let at = |s, n| rfc3339_nano(UNIX_EPOCH + Duration::new(s, n));
    // Values seen in the transcripts: trailing zeros are trimmed.
    assert_eq!(
        at(1_795_626_554, 948_218_880),
        "2026-11-25T17:09:14.94821888Z"
    );
    assert_eq!(at(1_795_626_541, 229_197), "2026-11-25T17:09:01.000229197Z");
    assert_eq!(at(951_782_400, 0), "2000-02-29T00:00:00Z");
}
