//! Unit tests of the session: queue bound, batches, goodbye, upgrade states.
use bytes::Bytes;

use super::*;

fn session(max_queue: usize) -> Session {
    let limits = Limits {
        ping_interval: Duration::from_secs(25),
        ping_timeout: Duration::from_secs(20),
        max_queue,
        idle_timeout: None,
    };
    Session::new("sid".into(), Revision::V4, TransportState::Polling, limits)
}

fn msg(s: &'static str) -> Packet {
    Packet::Message(Bytes::from_static(s.as_bytes()))
}

#[test]
fn overflow_closes_with_queue_full() {
    let s = session(2);
    assert!(s.push(msg("a")).is_ok());
    assert!(s.push(msg("b")).is_ok());
    assert_eq!(s.push(msg("c")), Err(SessionClosed));
    assert_eq!(s.close_reason(), Some(CloseReason::QueueFull));
    assert!(s.is_closed());
    assert_eq!(s.push(msg("d")), Err(SessionClosed));
}

#[test]
fn batch_drains_everything_then_waits() {
    let s = session(8);
    assert_eq!(s.take_batch(), None);
    s.push(msg("a")).unwrap();
    s.push(msg("b")).unwrap();
    assert_eq!(
        s.take_batch(),
        Some(Batch::Packets(vec![msg("a"), msg("b")]))
    );
    assert_eq!(s.take_batch(), None);
}

#[test]
fn closed_session_says_goodbye_once() {
    let s = session(8);
    s.push(msg("a")).unwrap();
    assert!(s.close(CloseReason::Shutdown));
    assert!(!s.close(CloseReason::PingTimeout), "first reason wins");
    assert_eq!(
        s.take_batch(),
        Some(Batch::Closed(Some(vec![msg("a"), Packet::Close])))
    );
    assert_eq!(s.take_batch(), Some(Batch::Closed(None)));
}

#[test]
fn client_close_answers_with_noop() {
    let s = session(8);
    s.close(CloseReason::ClientClose);
    assert_eq!(
        s.take_batch(),
        Some(Batch::Closed(Some(vec![Packet::Noop])))
    );
}

#[test]
fn one_get_at_a_time() {
    let s = session(8);
    let g = s.begin_request(true).expect("first GET");
    assert!(s.begin_request(true).is_none());
    assert!(
        s.begin_request(false).is_some(),
        "a POST may run beside a GET"
    );
    drop(g);
    assert!(s.begin_request(true).is_some());
}

#[test]
fn upgrade_drops_noops_and_releases_get() {
    let s = session(8);
    assert!(s.begin_upgrade());
    s.push_noop();
    s.push_noop();
    s.push(msg("a")).unwrap();
    assert!(s.finish_upgrade());
    assert_eq!(s.take_batch(), Some(Batch::Upgraded));
    assert_eq!(s.pop(), Some(msg("a")));
    assert_eq!(s.pop(), None);
}

#[tokio::test]
async fn wait_queue_wakes_on_push() {
    let s = std::sync::Arc::new(session(8));
    let s2 = s.clone();
    let waiter = tokio::spawn(async move { s2.wait_queue().await });
    tokio::task::yield_now().await;
    s.push(msg("a")).unwrap();
    tokio::time::timeout(Duration::from_secs(5), waiter)
        .await
        .unwrap()
        .unwrap();
}
