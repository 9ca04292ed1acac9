//! The open (handshake) packet: `0{"sid":…,"upgrades":[…],"pingInterval":…,
//! "pingTimeout":…[,"maxPayload":…]}`.
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
}
