//! Unit tests of the load generator's pure parts (framing and statistics).
//! The `load` bench is built without the test harness, so its tests live
//! here and run with `cargo test --test load_generator`.
#![allow(dead_code)]

#[path = "frame.rs"]
mod frame;
#[path = "stats.rs"]
mod stats;

mod frame_tests {
    use super::frame::*;

    #[test]
    fn engineio_packets_are_classified_by_their_first_byte() {
        assert_eq!(eio(r#"0{"sid":"a"}"#), Eio::Open(r#"{"sid":"a"}"#));
        assert_eq!(eio("2"), Eio::Ping);
        assert_eq!(eio("42[\"x\"]"), Eio::Message("2[\"x\"]"));
        assert_eq!(eio("6"), Eio::Noop);
        assert_eq!(eio(""), Eio::Other);
    }

    #[test]
    fn socketio_acks_and_events_carry_their_ids() {
        assert_eq!(
            sio("312[\"hi\"]"),
            Sio::Ack {
                id: 12,
                data: "[\"hi\"]"
            }
        );
        assert_eq!(
            sio("2[\"news\",1]"),
            Sio::Event {
                ack: None,
                data: "[\"news\",1]"
            }
        );
        assert_eq!(
            sio("27[\"join\"]"),
            Sio::Event {
                ack: Some(7),
                data: "[\"join\"]"
            }
        );
        assert_eq!(sio("0{\"sid\":\"x\"}"), Sio::Connect("{\"sid\":\"x\"}"));
        assert_eq!(sio("2/chat,[\"x\"]"), Sio::Other);
        assert_eq!(sio("3[\"no id\"]"), Sio::Other);
    }

    #[test]
    fn open_sid_and_payload_split() {
        assert_eq!(open_sid(r#"{"sid":"abc","upgrades":[]}"#), Some("abc"));
        assert_eq!(open_sid("{}"), None);
        let parts: Vec<_> = split_payload("2\x1e42[\"a\"]\x1e").collect();
        assert_eq!(parts, ["2", "42[\"a\"]"]);
    }

    #[test]
    fn events_are_built_with_and_without_ack() {
        assert_eq!(event(Some(3), "echo", "\"x\""), "423[\"echo\",\"x\"]");
        assert_eq!(event(None, "ping", ""), "42[\"ping\"]");
        assert_eq!(
            emit_body("r1", "1"),
            r#"{"namespace":"/","event":"news","args":[1],"rooms":["r1"]}"#
        );
    }
}

mod stats_tests {
    use super::stats::*;

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), 2.5);
        assert!(median(&[]).is_nan());
    }

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&v, 50.0), 50.0);
        assert_eq!(percentile(&v, 99.0), 99.0);
        assert_eq!(percentile(&v, 100.0), 100.0);
        assert_eq!(percentile(&[7.0], 99.0), 7.0);
    }

    #[test]
    fn report_shows_medians_and_ratio() {
        let mut r = Report::new("t");
        for (s, n) in [(10.0, 5.0), (30.0, 5.0), (20.0, 5.0)] {
            let mut a = Sample::default();
            a.push("x/s", s);
            r.add(Side::Siogate, &a);
            let mut b = Sample::default();
            b.push("x/s", n);
            r.add(Side::Node, &b);
        }
        let text = r.render();
        assert!(text.contains("| x/s | 20.0 | 5.00 | 4.00× |"), "{text}");
    }
}
