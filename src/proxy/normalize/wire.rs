//! The few packets the normalizer writes itself (CONNECT replies, connect
//! errors, DISCONNECTs) and the conversions between SIO4 ERROR and SIO5
//! CONNECT_ERROR payloads (PROTOCOL.md §2.5, §4.2 rows 28–29). Everything
//! else is relayed as the original packet.
use bytes::Bytes;
use serde_json::Value;

use crate::protocol::socketio::connect::Query;
use crate::protocol::socketio::{Message, Packet, PacketKind, Revision};

/// Message text of the CONNECT_ERROR sent when a namespace's upstream session
/// dies during its CONNECT (go-socket.io v1.7.0 closes on unknown namespaces).
pub(super) const INVALID_NAMESPACE: &str = "Invalid namespace";
/// Message text when a namespace's upstream session cannot be opened, and the
/// SIO5 `message` for an SIO4 error object without a string `message`.
pub(super) const CONNECTION_REFUSED: &str = "Connection refused";
/// Message text when a client asks for more namespaces than allowed.
pub(super) const TOO_MANY_NAMESPACES: &str = "Too many namespaces";

/// A message without attachments.
pub(super) fn msg(packet: Packet) -> Message {
    Message {
        packet,
        attachments: Vec::new(),
    }
}

/// The path part of a wire namespace: everything before the first `?`.
pub(super) fn nsp_path(nsp: &[u8]) -> &[u8] {
    match memchr::memchr(b'?', nsp) {
        Some(i) => &nsp[..i],
        None => nsp,
    }
}

/// `0<nsp,>` + `data`.
pub(super) fn connect(path: &str, data: Bytes) -> Message {
    msg(Packet::new(PacketKind::Connect, 0, path, None, data))
}

/// `1<nsp,>`.
pub(super) fn disconnect(path: &str) -> Message {
    msg(Packet::new(
        PacketKind::Disconnect,
        0,
        path,
        None,
        Bytes::new(),
    ))
}

/// The SIO5 server CONNECT payload `{"sid":"<sid>"}`.
pub(super) fn sid_payload(sid: &str) -> Bytes {
    let mut obj = serde_json::Map::new();
    obj.insert("sid".to_owned(), Value::String(sid.to_owned()));
    Bytes::from(Value::Object(obj).to_string())
}

/// A connect error in the client's revision: SIO4 `4<nsp,>"<text>"`, SIO5
/// `4<nsp,>{"message":"<text>"}`.
pub(super) fn connect_error(client: Revision, path: &str, text: &str) -> Message {
    let data = match client {
        Revision::V4 => Value::String(text.to_owned()).to_string(),
        Revision::V5 => message_object(text, None),
    };
    msg(Packet::new(
        PacketKind::ConnectError,
        0,
        path,
        None,
        Bytes::from(data),
    ))
}

/// `{"message":<text>}` or `{"message":<text>,"data":<raw>}`, keeping the raw
/// JSON of `data` byte for byte.
fn message_object(text: &str, data: Option<&[u8]>) -> String {
    let mut out = String::from("{\"message\":");
    out.push_str(&Value::String(text.to_owned()).to_string());
    if let Some(raw) = data {
        out.push_str(",\"data\":");
        // `raw` was validated as JSON by the codec, hence UTF-8.
        out.push_str(&String::from_utf8_lossy(raw));
    }
    out.push('}');
    out
}

/// SIO4 ERROR payload → SIO5 CONNECT_ERROR payload: a string `s` becomes
/// `{"message":s}`; an object `o` becomes `{"message":<o.message if it is a
/// string, else "Connection refused">,"data":o}`; anything else (or nothing)
/// becomes `{"message":"Connection refused"[,"data":…]}`.
pub(super) fn error_v4_to_v5(data: &[u8]) -> Bytes {
    let raw = trim_json(data);
    let out = match serde_json::from_slice::<Value>(raw) {
        Ok(Value::String(s)) => message_object(&s, None),
        Ok(Value::Object(o)) => {
            let text = match o.get("message") {
                Some(Value::String(m)) => m.as_str(),
                _ => CONNECTION_REFUSED,
            };
            message_object(text, Some(raw))
        }
        Ok(_) => message_object(CONNECTION_REFUSED, Some(raw)),
        Err(_) => message_object(CONNECTION_REFUSED, None),
    };
    Bytes::from(out)
}

/// SIO5 CONNECT_ERROR payload → SIO4 ERROR payload, the way socket.io 2.x
/// writes middleware errors: the `data` member if present, else the `message`
/// string, else the payload as it came.
pub(super) fn error_v5_to_v4(data: &[u8]) -> Bytes {
    let raw = trim_json(data);
    match serde_json::from_slice::<Value>(raw) {
        Ok(Value::Object(o)) => match (o.get("data"), o.get("message")) {
            (Some(d), _) => Bytes::from(d.to_string()),
            (None, Some(m @ Value::String(_))) => Bytes::from(m.to_string()),
            _ => Bytes::copy_from_slice(raw),
        },
        _ => Bytes::copy_from_slice(raw),
    }
}

/// The JSON text without surrounding whitespace (go v1.7.0 appends `\n`).
fn trim_json(data: &[u8]) -> &[u8] {
    data.trim_ascii()
}

/// `base` ∪ `over`, keys of `over` winning: the pairs of `base` whose key
/// `over` does not have, then all pairs of `over` (repeated keys kept). This
/// is socket.io 2.x's `{...handshake.query, ...nsp query}`.
pub(super) fn merge_query(base: &Query, over: &Query) -> Query {
    if over.is_empty() {
        return base.clone();
    }
    let mut pairs: Vec<(String, String)> = base
        .0
        .iter()
        .filter(|(k, _)| !over.0.iter().any(|(o, _)| o == k))
        .cloned()
        .collect();
    pairs.extend(over.0.iter().cloned());
    Query(pairs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(s: &str) -> Query {
        Query::parse(s)
    }

    #[test]
    fn merged_query_lets_the_namespace_query_win() {
        let merged = merge_query(&q("token=old&lang=en"), &q("token=new&x=1&x=2"));
        assert_eq!(merged.encode(), "lang=en&token=new&x=1&x=2");
        assert_eq!(merge_query(&q("a=1"), &Query::default()).encode(), "a=1");
    }

    #[test]
    fn sio4_error_string_and_object_map_to_sio5_connect_error() {
        assert_eq!(
            error_v4_to_v5(b"\"Invalid namespace\""),
            "{\"message\":\"Invalid namespace\"}"
        );
        assert_eq!(
            error_v4_to_v5(b"{\"code\":401}"),
            "{\"message\":\"Connection refused\",\"data\":{\"code\":401}}"
        );
        assert_eq!(
            error_v4_to_v5(b"{\"message\":\"nope\",\"code\":1}\n"),
            "{\"message\":\"nope\",\"data\":{\"message\":\"nope\",\"code\":1}}"
        );
        assert_eq!(error_v4_to_v5(b""), "{\"message\":\"Connection refused\"}");
    }

    #[test]
    fn sio5_connect_error_maps_to_sio4_data_or_message() {
        assert_eq!(
            error_v5_to_v4(b"{\"message\":\"not authorized\",\"data\":{\"code\":401}}"),
            "{\"code\":401}"
        );
        assert_eq!(
            error_v5_to_v4(b"{\"message\":\"Invalid namespace\"}"),
            "\"Invalid namespace\""
        );
        assert_eq!(error_v5_to_v4(b"\"plain\""), "\"plain\"");
    }

    #[test]
    fn nsp_path_stops_at_the_query() {
        assert_eq!(nsp_path(b"/chat?token=abc"), b"/chat");
        assert_eq!(nsp_path(b"/chat"), b"/chat");
        assert_eq!(nsp_path(b"/?x"), b"/");
    }
}
