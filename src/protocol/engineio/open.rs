//! The open (handshake) packet: `0{"sid":…,"upgrades":[…],"pingInterval":…,
//! "pingTimeout":…[,"maxPayload":…]}`.
//!
//! Only the JSON part lives here; the `0` type digit is the packet codec's
//! business. Keys serialize in the order Node sends them (the field order).
use serde::{Deserialize, Serialize};

use super::ParseError;

/// Contents of an open packet. `max_payload` is absent in EIO3 and in
/// engine.io < 6.2.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OpenPacket {
    pub sid: String,
    pub upgrades: Vec<String>,
    pub ping_interval: u64,
    pub ping_timeout: u64,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub max_payload: Option<u64>,
}

/// `{"sid":"","upgrades":[],"pingInterval":,"pingTimeout":,"maxPayload":}`
/// plus three u64s of 20 digits each.
const FIXED_JSON_BOUND: usize = 70 + 3 * 20;

/// Worst-case growth of one byte of a JSON string (`\u001f`).
const ESCAPE_FACTOR: usize = 6;

impl OpenPacket {
    /// Parses the JSON after the `0` digit. Trailing whitespace (go-engine.io
    /// appends `\n`) is accepted; unknown keys are ignored.
    pub fn parse_json(json: &[u8]) -> Result<OpenPacket, ParseError> {
        serde_json::from_slice(json).map_err(|_| ParseError::InvalidOpen)
    }

    /// The JSON text (without the leading `0`), keys in the order Node sends.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("OpenPacket serializes to JSON")
    }

    /// Appends the JSON text (without the leading `0`) to `out`.
    pub fn encode_json(&self, out: &mut Vec<u8>) {
        serde_json::to_writer(out, self).expect("OpenPacket serializes to JSON")
    }

    /// Upper bound of the JSON length, without serializing.
    pub fn json_size_hint(&self) -> usize {
        let upgrades: usize = self
            .upgrades
            .iter()
            .map(|u| u.len() * ESCAPE_FACTOR + 3)
            .sum();
        FIXED_JSON_BOUND + self.sid.len() * ESCAPE_FACTOR + upgrades
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eio3(sid: &str) -> OpenPacket {
        OpenPacket {
            sid: sid.to_owned(),
            upgrades: vec!["websocket".to_owned()],
            ping_interval: 25000,
            ping_timeout: 20000,
            max_payload: None,
        }
    }

    #[test]
    fn eio3_open_json_has_node_key_order_and_no_max_payload() {
        assert_eq!(
            eio3("abc").to_json(),
            r#"{"sid":"abc","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000}"#
        );
    }

    #[test]
    fn eio4_open_json_ends_with_max_payload() {
        let open = OpenPacket {
            max_payload: Some(1_000_000),
            ..eio3("abc")
        };
        assert_eq!(
            open.to_json(),
            r#"{"sid":"abc","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#
        );
    }

    #[test]
    fn parse_accepts_unknown_keys_and_trailing_newline() {
        let json = b"{\"sid\":\"x\",\"upgrades\":[],\"pingInterval\":1,\"pingTimeout\":2,\"extra\":true}\n";
        let open = OpenPacket::parse_json(json).expect("valid open json");
        assert_eq!(open.sid, "x");
        assert_eq!(open.max_payload, None);
    }

    #[test]
    fn parse_rejects_missing_fields_and_garbage() {
        for bad in [
            &b""[..],
            b"{}",
            b"{\"sid\":\"x\"}",
            b"{\"sid\":1,\"upgrades\":[],\"pingInterval\":1,\"pingTimeout\":2}",
            b"not json",
        ] {
            assert_eq!(OpenPacket::parse_json(bad), Err(ParseError::InvalidOpen));
        }
    }

    #[test]
    fn json_size_hint_bounds_the_encoding() {
        let mut open = OpenPacket {
            max_payload: Some(u64::MAX),
            ping_interval: u64::MAX,
            ping_timeout: u64::MAX,
            ..eio3("\u{1}\"\\é")
        };
        open.upgrades.push("\u{1f}".to_owned());
        assert!(open.to_json().len() <= open.json_size_hint());
    }
}
