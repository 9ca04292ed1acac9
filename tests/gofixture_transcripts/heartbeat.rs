//! Heartbeats: the recorded silent-client cases replayed with the recorded
//! 2 s / 3 s timings, and scaled-down variants of the pinging cases. v1.0.1
//! pings on its own and closes with `1`; v1.4.3/v1.7.0 never ping, only
//! answer, and drop TCP when no client `2` came within pingTimeout.

use super::*;
use tokio::time::{Instant, interval};

#[tokio::test]
async fn silent_client_on_1_0_1_gets_a_server_ping_then_close_packet_as_recorded() {
    let v = GoVersion::V1_0_1;
    replay_ws_file("pingtimeout/1.0.1-silent.txt", v, opts(2000, 3000)).await;
}

#[tokio::test]
async fn silent_client_on_1_7_0_is_dropped_after_ping_timeout_as_recorded() {
    let v = GoVersion::V1_7_0;
    replay_ws_file("pingtimeout/1.7.0-silent.txt", v, opts(2000, 3000)).await;
}

/// Pings every 100 ms for `keep_alive`, collecting frames; then goes silent
/// and returns everything up to the end of the connection.
async fn ping_then_fall_silent(ws: &mut WsClient, keep_alive: Duration) -> (Vec<String>, Vec<Got>) {
    let mut tick = interval(Duration::from_millis(100));
    let until = Instant::now() + keep_alive;
    let mut while_pinging = Vec::new();
    while Instant::now() < until {
        tokio::select! {
            _ = tick.tick() => ws_send(ws, "2").await,
            got = next_frame(ws, WAIT) => match got {
                Got::Text(t) => while_pinging.push(t),
                other => panic!("connection ended while pinging: {other:?}"),
            },
        }
    }
    let mut after = Vec::new();
    loop {
        let got = next_frame(ws, WAIT).await;
        let end = !matches!(got, Got::Text(_));
        after.push(got);
        if end {
            return (while_pinging, after);
        }
    }
}

#[tokio::test]
async fn pinging_client_keeps_1_0_1_alive_and_silence_ends_in_close_packet() {
    let fx = GoFixture::start_with(GoVersion::V1_0_1, opts(300, 700)).await;
    let (mut ws, _) = ws_open(&fx, "EIO=3&transport=websocket").await;
    let (pinging, after) = ping_then_fall_silent(&mut ws, Duration::from_millis(1200)).await;
    assert!(
        pinging.iter().filter(|f| *f == "3").count() >= 8,
        "{pinging:?}"
    );
    assert!(pinging.iter().all(|f| f == "3" || f == "2"), "{pinging:?}");
    // Silent: at most a server ping, then `1` and a bare TCP close.
    let tail: Vec<_> = after.iter().rev().take(2).collect();
    assert_eq!(tail[0], &Got::Closed { close_frame: false }, "{after:?}");
    assert_eq!(tail[1], &Got::Text("1".into()), "{after:?}");
    assert!(
        after
            .iter()
            .filter(|g| **g == Got::Text("2".into()))
            .count()
            <= 2,
        "{after:?}"
    );
}

#[tokio::test]
async fn pinging_client_keeps_1_7_0_alive_without_server_pings_and_silence_drops_tcp() {
    let fx = GoFixture::start_with(GoVersion::V1_7_0, opts(300, 700)).await;
    let (mut ws, _) = ws_open(&fx, "EIO=3&transport=websocket").await;
    let (pinging, after) = ping_then_fall_silent(&mut ws, Duration::from_millis(1200)).await;
    assert!(
        pinging.len() >= 8 && pinging.iter().all(|f| f == "3"),
        "{pinging:?}"
    );
    // A pong may still be in flight; then a bare TCP close, no `2`, no `1`.
    let (last, rest) = after.split_last().expect("the connection ended");
    assert_eq!(last, &Got::Closed { close_frame: false });
    assert!(
        rest.iter().all(|g| *g == Got::Text("3".into())),
        "{after:?}"
    );
}

#[tokio::test]
async fn messages_do_not_reset_the_1_7_0_ping_timeout() {
    let fx = GoFixture::start_with(GoVersion::V1_7_0, opts(300, 700)).await;
    let (mut ws, _) = ws_open(&fx, "EIO=3&transport=websocket").await;
    let started = Instant::now();
    let mut tick = interval(Duration::from_millis(50));
    let mut n = 0u32;
    let end = loop {
        tokio::select! {
            _ = tick.tick() => {
                n += 1;
                ws_send(&mut ws, &format!("42{n}[\"echo\",\"x\"]")).await;
            }
            got = next_frame(&mut ws, WAIT) => match got {
                Got::Text(t) => assert!(t.starts_with("43"), "{t:?}"),
                other => break other,
            },
        }
    };
    assert_eq!(end, Got::Closed { close_frame: false });
    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "closed after {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn v1_4_3_answers_pings_and_never_sends_its_own() {
    let fx = GoFixture::start_with(GoVersion::V1_4_3, opts(100, 5000)).await;
    let (mut ws, _) = ws_open(&fx, "EIO=3&transport=websocket").await;
    // Several ping intervals pass: no server `2`.
    assert_eq!(
        next_frame(&mut ws, Duration::from_millis(400)).await,
        Got::Silent
    );
    roundtrip(&mut ws, "2", "3").await;
    roundtrip(&mut ws, "2probe", "3probe").await;
}
