//! Building outbound Socket.IO messages from JSON values, and the `$bin`
//! convention for binary data in JSON (push API bodies, webhook bodies and
//! replies).
//!
//! `{"$bin":"<base64>"}` (an object with exactly that one key, standard
//! base64, padding optional) stands for a binary value. On the way out each
//! one becomes an attachment and a `{"_placeholder":true,"num":i}` in
//! depth-first order (PROTOCOL.md §2.6) and the packet becomes a
//! BINARY_EVENT / BINARY_ACK; on the way in (client binary events sent to the
//! webhook) each placeholder becomes `{"$bin":…}` again.
use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use bytes::Bytes;
use serde_json::{Map, Value};

use super::adapter::BroadcastPacket;
use crate::protocol::socketio::{MAX_ATTACHMENTS, Packet, PacketKind};

/// The key of a binary value in JSON.
pub const BIN_KEY: &str = "$bin";

const BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Why a message could not be encoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodecError {
    #[error("invalid base64 in {BIN_KEY}")]
    InvalidBase64,
    #[error("more than {MAX_ATTACHMENTS} binary values")]
    TooManyAttachments,
}

/// The payload of an EVENT, encoded once: the JSON array `[event, ...args]`
/// with placeholders, and the attachments. The header (nsp, ack id) is
/// added by [`EventPayload::packet`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventPayload {
    pub data: Bytes,
    pub attachments: Vec<Bytes>,
}

impl EventPayload {
    /// `[event, ...args]`, with `{"$bin":…}` values as attachments.
    pub fn new(event: &str, args: Vec<Value>) -> Result<EventPayload, CodecError> {
        let mut array = Vec::with_capacity(args.len() + 1);
        array.push(Value::String(event.to_string()));
        array.extend(args);
        let (data, attachments) = payload(array)?;
        Ok(EventPayload { data, attachments })
    }

    /// The EVENT (or BINARY_EVENT) for `nsp`, asking for ack `ack_id` if set.
    pub fn packet(&self, nsp: &str, ack_id: Option<u64>) -> BroadcastPacket {
        let (text, binary) = (PacketKind::Event, PacketKind::BinaryEvent);
        header(
            text,
            binary,
            nsp,
            ack_id,
            self.data.clone(),
            &self.attachments,
        )
    }
}

/// An EVENT (or BINARY_EVENT) `[event, ...args]` for `nsp`.
pub fn event(
    nsp: &str,
    ack_id: Option<u64>,
    event: &str,
    args: Vec<Value>,
) -> Result<BroadcastPacket, CodecError> {
    Ok(EventPayload::new(event, args)?.packet(nsp, ack_id))
}

/// An ACK (or BINARY_ACK) carrying `args` for the client's ack `id`.
pub fn ack(nsp: &str, id: u64, args: Vec<Value>) -> Result<BroadcastPacket, CodecError> {
    let (data, attachments) = payload(args)?;
    let (text, binary) = (PacketKind::Ack, PacketKind::BinaryAck);
    Ok(header(text, binary, nsp, Some(id), data, &attachments))
}

/// The JSON text of `array` with `{"$bin":…}` replaced by placeholders.
fn payload(array: Vec<Value>) -> Result<(Bytes, Vec<Bytes>), CodecError> {
    let mut array = Value::Array(array);
    let mut attachments = Vec::new();
    extract_bin(&mut array, &mut attachments)?;
    let data = serde_json::to_vec(&array).expect("a JSON value always serializes");
    Ok((Bytes::from(data), attachments))
}

fn header(
    text_kind: PacketKind,
    binary_kind: PacketKind,
    nsp: &str,
    ack_id: Option<u64>,
    data: Bytes,
    attachments: &[Bytes],
) -> BroadcastPacket {
    let kind = if attachments.is_empty() {
        text_kind
    } else {
        binary_kind
    };
    let packet = Packet::new(kind, attachments.len(), nsp, ack_id, data);
    BroadcastPacket {
        text: packet.encode(),
        attachments: attachments.to_vec(),
    }
}

/// Replaces every `{"$bin":"<base64>"}` in `value` by a placeholder and
/// appends the decoded bytes to `out`.
pub fn extract_bin(value: &mut Value, out: &mut Vec<Bytes>) -> Result<(), CodecError> {
    match value {
        Value::Array(items) => items.iter_mut().try_for_each(|v| extract_bin(v, out)),
        Value::Object(map) => {
            if let Some(encoded) = bin_string(map) {
                if out.len() == MAX_ATTACHMENTS {
                    return Err(CodecError::TooManyAttachments);
                }
                let bytes = BASE64
                    .decode(encoded)
                    .map_err(|_| CodecError::InvalidBase64)?;
                *value = placeholder(out.len());
                out.push(Bytes::from(bytes));
                return Ok(());
            }
            map.values_mut().try_for_each(|v| extract_bin(v, out))
        }
        _ => Ok(()),
    }
}

/// Replaces every placeholder `{"_placeholder":true,"num":i}` in `value` by
/// `{"$bin":"<base64 of attachments[i]>"}`.
pub fn inject_bin(value: &mut Value, attachments: &[Bytes]) {
    match value {
        Value::Array(items) => items.iter_mut().for_each(|v| inject_bin(v, attachments)),
        Value::Object(map) => match placeholder_num(map).and_then(|i| attachments.get(i)) {
            Some(data) => {
                let mut bin = Map::new();
                bin.insert(BIN_KEY.into(), Value::String(BASE64.encode(data)));
                *value = Value::Object(bin);
            }
            None => map.values_mut().for_each(|v| inject_bin(v, attachments)),
        },
        _ => {}
    }
}

fn bin_string(map: &Map<String, Value>) -> Option<&str> {
    if map.len() != 1 {
        return None;
    }
    map.get(BIN_KEY)?.as_str()
}

fn placeholder(num: usize) -> Value {
    serde_json::json!({ "_placeholder": true, "num": num })
}

fn placeholder_num(map: &Map<String, Value>) -> Option<usize> {
    if map.get("_placeholder")? != &Value::Bool(true) {
        return None;
    }
    usize::try_from(map.get("num")?.as_u64()?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn text(p: &BroadcastPacket) -> &str {
        std::str::from_utf8(&p.text).unwrap()
    }

    #[test]
    fn plain_event_has_no_attachments() {
        let p = event("/chat", None, "news", vec![json!(1), json!({"a": "b"})]).unwrap();
        assert_eq!(text(&p), r#"2/chat,["news",1,{"a":"b"}]"#);
        assert!(p.attachments.is_empty());
        let p = event("/", Some(7), "x", vec![]).unwrap();
        assert_eq!(text(&p), r#"27["x"]"#);
    }

    #[test]
    fn bin_values_become_placeholders_in_depth_first_order() {
        let args = vec![json!({"a": {"$bin": "AQID"}}), json!([{"$bin": "CQ=="}])];
        let p = event("/", None, "up", args).unwrap();
        assert_eq!(
            text(&p),
            r#"52-["up",{"a":{"_placeholder":true,"num":0}},[{"_placeholder":true,"num":1}]]"#
        );
        assert_eq!(
            p.attachments,
            vec![Bytes::from_static(&[1, 2, 3]), Bytes::from_static(&[9])]
        );
    }

    #[test]
    fn binary_ack_keeps_the_id_and_nsp() {
        let p = ack("/chat", 12, vec![json!({"$bin": "CQg"})]).unwrap();
        assert_eq!(text(&p), r#"61-/chat,12[{"_placeholder":true,"num":0}]"#);
        assert_eq!(p.attachments, vec![Bytes::from_static(&[9, 8])]);
    }

    #[test]
    fn objects_with_other_keys_are_not_binary() {
        let p = event("/", None, "x", vec![json!({"$bin": "AQ", "y": 1})]).unwrap();
        assert!(p.attachments.is_empty());
        let p = event("/", None, "x", vec![json!({"$bin": 5})]).unwrap();
        assert!(p.attachments.is_empty());
    }

    #[test]
    fn bad_base64_and_too_many_attachments_are_errors() {
        let err = event("/", None, "x", vec![json!({"$bin": "!!"})]);
        assert_eq!(err, Err(CodecError::InvalidBase64));
        let many = vec![json!({"$bin": "AQ"}); MAX_ATTACHMENTS + 1];
        assert_eq!(
            event("/", None, "x", many),
            Err(CodecError::TooManyAttachments)
        );
    }

    #[test]
    fn inject_restores_bin_values() {
        let mut v = json!(["up", {"k": {"_placeholder": true, "num": 0}}]);
        inject_bin(&mut v, &[Bytes::from_static(&[1, 2, 3])]);
        assert_eq!(v, json!(["up", {"k": {"$bin": "AQID"}}]));
        // Out-of-range or malformed placeholders are left as they are.
        let mut v = json!([{"_placeholder": true, "num": 4}, {"_placeholder": "yes", "num": 0}]);
        let before = v.clone();
        inject_bin(&mut v, &[Bytes::from_static(&[1])]);
        assert_eq!(v, before);
    }
}
