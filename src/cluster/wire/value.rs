//! Conversions between msgpack values (as the Node adapter and emitter
//! publish them, via notepack.io) and Socket.IO JSON payloads with binary
//! attachments. Pure: no I/O.
//!
//! Node sends binary arguments (`Buffer`, `ArrayBuffer`, typed arrays) as
//! msgpack `bin`; Socket.IO sends them as attachments referenced by
//! `{"_placeholder":true,"num":i}`. [`to_json`] turns the one into the other
//! in a single walk that writes JSON text directly, so map keys keep their
//! order; [`from_json`] goes back. `Date`s (msgpack timestamp ext -1) become
//! ISO 8601 strings, which is what `JSON.stringify` would have produced;
//! other ext values become `null`.
use std::io::Write as _;

use bytes::Bytes;
use rmpv::Value as Mp;
use serde_json::Value as Json;

use crate::protocol::socketio::MAX_ATTACHMENTS;

use super::WireError;

/// Writes `value` as JSON text into `out`, replacing each `bin` by a
/// placeholder and pushing its bytes onto `attachments` (depth-first order).
pub fn to_json(
    value: &Mp,
    out: &mut Vec<u8>,
    attachments: &mut Vec<Bytes>,
) -> Result<(), WireError> {
    match value {
        Mp::Nil => out.extend_from_slice(b"null"),
        Mp::Boolean(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Mp::Integer(i) => {
            if let Some(n) = i.as_i64() {
                write!(out, "{n}").expect("writing to a Vec cannot fail");
            } else if let Some(n) = i.as_u64() {
                write!(out, "{n}").expect("writing to a Vec cannot fail");
            }
        }
        Mp::F32(f) => write_float(out, f64::from(*f)),
        Mp::F64(f) => write_float(out, *f),
        Mp::String(s) => write_str(out, &String::from_utf8_lossy(s.as_bytes())),
        Mp::Binary(b) => {
            if attachments.len() == MAX_ATTACHMENTS {
                return Err(WireError::TooManyAttachments);
            }
            write!(
                out,
                r#"{{"_placeholder":true,"num":{}}}"#,
                attachments.len()
            )
            .expect("writing to a Vec cannot fail");
            attachments.push(Bytes::copy_from_slice(b));
        }
        Mp::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                to_json(item, out, attachments)?;
            }
            out.push(b']');
        }
        Mp::Map(entries) => {
            out.push(b'{');
            for (i, (k, v)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_str(out, &key_string(k));
                out.push(b':');
                to_json(v, out, attachments)?;
            }
            out.push(b'}');
        }
        Mp::Ext(-1, data) => match timestamp(data) {
            Some(iso) => write_str(out, &iso),
            None => out.extend_from_slice(b"null"),
        },
        Mp::Ext(..) => out.extend_from_slice(b"null"),
    }
    Ok(())
}

/// The msgpack form of a JSON payload whose placeholders reference
/// `attachments` (each becomes a `bin`). A placeholder whose `num` is out of
/// range is kept as the object it is.
pub fn from_json(value: &Json, attachments: &[Bytes]) -> Mp {
    match value {
        Json::Null => Mp::Nil,
        Json::Bool(b) => Mp::Boolean(*b),
        Json::Number(n) => {
            if let Some(i) = n.as_u64() {
                Mp::from(i)
            } else if let Some(i) = n.as_i64() {
                Mp::from(i)
            } else {
                Mp::F64(n.as_f64().unwrap_or(0.0))
            }
        }
        Json::String(s) => Mp::from(s.as_str()),
        Json::Array(items) => Mp::Array(items.iter().map(|v| from_json(v, attachments)).collect()),
        Json::Object(map) => {
            if let Some(bin) = placeholder(map).and_then(|i| attachments.get(i)) {
                return Mp::Binary(bin.to_vec());
            }
            Mp::Map(
                map.iter()
                    .map(|(k, v)| (Mp::from(k.as_str()), from_json(v, attachments)))
                    .collect(),
            )
        }
    }
}

fn placeholder(map: &serde_json::Map<String, Json>) -> Option<usize> {
    if map.get("_placeholder")? != &Json::Bool(true) {
        return None;
    }
    usize::try_from(map.get("num")?.as_u64()?).ok()
}

/// A map key as JavaScript would see it: strings as is, others as text.
fn key_string(k: &Mp) -> String {
    match k {
        Mp::String(s) => String::from_utf8_lossy(s.as_bytes()).into_owned(),
        Mp::Integer(i) => i.to_string(),
        Mp::Boolean(b) => b.to_string(),
        Mp::Nil => "null".into(),
        other => other.to_string(),
    }
}

fn write_str(out: &mut Vec<u8>, s: &str) {
    serde_json::to_writer(&mut *out, s).expect("a string always serializes");
}

fn write_float(out: &mut Vec<u8>, f: f64) {
    if f.is_finite() {
        serde_json::to_writer(&mut *out, &f).expect("a finite float always serializes");
    } else {
        // JSON.stringify(NaN) and JSON.stringify(Infinity) are "null".
        out.extend_from_slice(b"null");
    }
}

/// A msgpack timestamp (ext -1, 4/8/12 bytes) as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
fn timestamp(data: &[u8]) -> Option<String> {
    let (secs, nanos): (i64, u32) = match data.len() {
        4 => (i64::from(u32::from_be_bytes(data.try_into().ok()?)), 0),
        8 => {
            let v = u64::from_be_bytes(data.try_into().ok()?);
            ((v & 0x3_ffff_ffff) as i64, (v >> 34) as u32)
        }
        12 => (
            i64::from_be_bytes(data[4..].try_into().ok()?),
            u32::from_be_bytes(data[..4].try_into().ok()?),
        ),
        _ => return None,
    };
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    Some(format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60,
        nanos / 1_000_000
    ))
}

/// Days since 1970-01-01 → (year, month, day), proleptic Gregorian
/// (H. Hinnant's `civil_from_days`). Public for the go-socket.io test
/// fixture, which formats Go's RFC 3339 timestamps with it.
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn json_of(v: &Mp) -> (String, Vec<Bytes>) {
        let mut out = Vec::new();
        let mut att = Vec::new();
        to_json(v, &mut out, &mut att).unwrap();
        (String::from_utf8(out).unwrap(), att)
    }

    #[test]
    fn bins_become_placeholders_in_depth_first_order_and_keys_keep_their_order() {
        let v = Mp::Array(vec![
            Mp::from("ev"),
            Mp::Map(vec![
                (Mp::from("z"), Mp::Binary(vec![1, 2])),
                (Mp::from("a"), Mp::from(-3)),
            ]),
            Mp::Binary(vec![9]),
            Mp::F64(1.5),
            Mp::Nil,
        ]);
        let (text, att) = json_of(&v);
        assert_eq!(
            text,
            r#"["ev",{"z":{"_placeholder":true,"num":0},"a":-3},{"_placeholder":true,"num":1},1.5,null]"#
        );
        assert_eq!(
            att,
            vec![Bytes::from_static(&[1, 2]), Bytes::from_static(&[9])]
        );
    }

    #[test]
    fn round_trip_through_json_restores_bins() {
        let v = json!(["ev", {"a": {"_placeholder": true, "num": 0}}, 2, "s", true]);
        let mp = from_json(&v, &[Bytes::from_static(b"xy")]);
        let (text, att) = json_of(&mp);
        assert_eq!(
            text,
            r#"["ev",{"a":{"_placeholder":true,"num":0}},2,"s",true]"#
        );
        assert_eq!(att, vec![Bytes::from_static(b"xy")]);
    }

    #[test]
    fn too_many_bins_is_an_error() {
        let v = Mp::Array(vec![Mp::Binary(vec![0]); MAX_ATTACHMENTS + 1]);
        let mut out = Vec::new();
        let err = to_json(&v, &mut out, &mut Vec::new()).unwrap_err();
        assert_eq!(err, WireError::TooManyAttachments);
    }

    #[test]
    fn dates_become_iso_strings_and_odd_values_null() {
        // 2021-01-02T03:04:05.678Z as notepack's 8-byte timestamp.
        let secs: u64 = 1_609_556_645;
        let nanos: u64 = 678_000_000;
        let ts = (nanos << 34) | secs;
        let v = Mp::Array(vec![
            Mp::Ext(-1, ts.to_be_bytes().to_vec()),
            Mp::Ext(5, vec![1]),
            Mp::F64(f64::NAN),
            Mp::Map(vec![(Mp::from(7), Mp::from(1))]),
        ]);
        assert_eq!(
            json_of(&v).0,
            r#"["2021-01-02T03:04:05.678Z",null,null,{"7":1}]"#
        );
    }
}
