//! The gateway application the transcripts were recorded against, plus the
//! small Go-isms its output depends on: `echo` acks its string argument, `msg`
//! emits `msg` with `"recv: <arg>"`, and (fixture-only, never in a transcript)
//! `whoami` acks the handshake URL query so tests can see what the upstream
//! saw. Also Go's `encoding/json` HTML escaping and `time.RFC3339Nano`
//! timestamps used in push messages. No I/O here.

use serde_json::Value;
use std::time::{SystemTime, UNIX_EPOCH};

/// What an event handler asks the socket loop to do.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Reply {
    /// Acknowledge with these arguments (sent only if the event carried an ack id).
    Ack(Vec<Value>),
    /// Emit an event back to the same socket; acknowledged with `[]` if an id was given.
    Emit(&'static str, Vec<Value>),
}

/// Result of dispatching one event to the app's handlers.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Dispatch {
    Handled(Reply),
    /// No handler with that name: go-socket.io ignores the event.
    NoHandler,
    /// A handler exists but the arguments do not fit its Go signature
    /// (`func(so, msg string)`): go v1.0.1's socket loop dies on this.
    BadArgs,
}

/// Whether the app registers a handler for `name` (the malformed-JSON wedge
/// of go v1.0.1 only hits events with a handler).
pub(crate) fn has_handler(name: &str) -> bool {
    matches!(name, "echo" | "msg" | "whoami")
}

/// Dispatches event `name` with `args` (the JSON array minus its head).
/// `url_query` is the raw query of the Engine.IO handshake URL.
pub(crate) fn dispatch(name: &str, args: &[Value], url_query: &str) -> Dispatch {
    match name {
        "echo" => match args.first() {
            Some(Value::String(s)) => Dispatch::Handled(Reply::Ack(vec![Value::String(s.clone())])),
            None => Dispatch::Handled(Reply::Ack(vec![Value::String(String::new())])),
            Some(_) => Dispatch::BadArgs,
        },
        "msg" => match args.first() {
            Some(Value::String(s)) => Dispatch::Handled(Reply::Emit(
                "msg",
                vec![Value::String(format!("recv: {s}"))],
            )),
            None => Dispatch::Handled(Reply::Emit("msg", vec![Value::String("recv: ".into())])),
            Some(_) => Dispatch::BadArgs,
        },
        "whoami" => Dispatch::Handled(Reply::Ack(vec![Value::String(url_query.to_owned())])),
        _ => Dispatch::NoHandler,
    }
}

/// Splits an event payload `["name", args…]` into name and arguments.
/// `None` when the text is not a JSON array whose head is a string.
/// Like Go's `json.Decoder`, text after the first complete value is ignored.
pub(crate) fn parse_event(json: &str) -> Option<(String, Vec<Value>)> {
    let first = serde_json::Deserializer::from_str(json)
        .into_iter::<Value>()
        .next()?;
    let Value::Array(mut items) = first.ok()? else {
        return None;
    };
    if items.is_empty() {
        return None;
    }
    let Value::String(name) = items.remove(0) else {
        return None;
    };
    Some((name, items))
}

/// Best-effort event name of a payload that is not valid JSON (`["echo"` →
/// `echo`): go v1.0.1 reads the name before it decodes the arguments.
pub(crate) fn sniff_event_name(json: &str) -> Option<String> {
    let rest = json.trim_start().strip_prefix('[')?.trim_start();
    let rest = rest.strip_prefix('"')?;
    let end = rest.find('"')?;
    Some(rest[..end].to_owned())
}

/// Serializes like Go's `json.Marshal` (HTML-safe: `<`, `>`, `&`, U+2028 and
/// U+2029 escaped). Those characters can only occur inside strings, so a
/// textual replacement is exact.
pub(crate) fn go_json(values: &[Value]) -> String {
    let raw = serde_json::to_string(values).expect("a Vec<Value> always serializes");
    let mut out = String::with_capacity(raw.len());
    for c in raw.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

/// The push text the transcripts show: `"<msg> #<n> at <RFC3339Nano UTC>"`.
pub(crate) fn push_text(msg: &str, n: u64) -> String {
    format!("{msg} #{n} at {}", rfc3339_nano(SystemTime::now()))
}

/// Go's `time.RFC3339Nano` in UTC: fractional seconds with trailing zeros
/// trimmed (and no fraction at all when it is zero).
pub(crate) fn rfc3339_nano(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, day) = siogate::cluster::wire::value::civil_from_days(days as i64);
    let mut s = format!(
        "{y:04}-{m:02}-{day:02}T{:02}:{:02}:{:02}",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    );
    let nanos = d.subsec_nanos();
    if nanos != 0 {
        let frac = format!("{nanos:09}");
        s.push('.');
        s.push_str(frac.trim_end_matches('0'));
    }
    s.push('Z');
    s
}
