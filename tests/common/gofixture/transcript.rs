//! Reader for the recorded go-socket.io transcripts (`ws-*.txt`, `poll-*.txt`
//! under tests/fixtures/go-socket.io/, format in its README.md) and the
//! normalization used to compare them with live frames: session ids and the
//! `#<n> at <timestamp>` of push texts differ between runs, nothing else may.
//! Test-side code only; the fixture itself never reads transcripts.

use std::path::PathBuf;

/// Where the copied transcripts live inside the repository.
pub fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/go-socket.io")
}

/// Reads `<version>/<name>` (e.g. `1.0.1/ws-chat-query.txt`).
pub fn read(rel: &str) -> String {
    let path = fixtures_dir().join(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// What the WebSocket client did at one step.
#[derive(Debug, Clone, PartialEq)]
pub enum WsAction {
    /// Send this text frame.
    Send(String),
    /// Side channel: `GET <path?query>` on the gateway.
    Http(String),
}

/// What the server did after a step.
#[derive(Debug, Clone, PartialEq)]
pub enum WsExpect {
    Frame(String),
    /// TCP closed without a close frame (`ws closed code=1006`).
    Closed1006,
}

#[derive(Debug, Clone)]
pub struct WsStep {
    pub action: WsAction,
    pub expect: Vec<WsExpect>,
    /// Body of the side-channel reply, when recorded.
    pub http_reply: Option<String>,
}

/// A raw WebSocket case.
#[derive(Debug, Clone)]
pub struct WsTranscript {
    /// Query of the `# GET ws://…` URL.
    pub url_query: String,
    /// Server output before the first client action (open packet, `40`).
    pub initial: Vec<WsExpect>,
    pub steps: Vec<WsStep>,
}

/// The JSON-escaped string starting at the first `"` of `s`.
fn json_string(s: &str) -> String {
    let start = s.find('"').unwrap_or_else(|| panic!("no string in {s:?}"));
    let mut de = serde_json::Deserializer::from_str(&s[start..]).into_iter::<String>();
    de.next()
        .and_then(Result::ok)
        .unwrap_or_else(|| panic!("bad JSON string in {s:?}"))
}

/// `path?query` of an absolute `http://host/path?query` URL.
fn path_of(url: &str) -> String {
    let no_scheme = url.split_once("://").map_or(url, |(_, r)| r);
    no_scheme
        .find('/')
        .map_or("/".into(), |i| no_scheme[i..].to_owned())
}

/// The text after a `+12.3ms` timestamp, trimmed.
fn event_text(line: &str) -> Option<&str> {
    let t = line.trim_start();
    let rest = t.strip_prefix('+')?;
    let ms = rest.find("ms")?;
    rest[..ms].parse::<f64>().ok()?;
    Some(rest[ms + 2..].trim())
}

impl WsTranscript {
    pub fn parse(text: &str) -> WsTranscript {
        let mut t = WsTranscript {
            url_query: String::new(),
            initial: Vec::new(),
            steps: Vec::new(),
        };
        for line in text.lines() {
            if line.starts_with("## server log") {
                break;
            }
            if let Some(url) = line.strip_prefix("# GET ") {
                t.url_query = url.split_once('?').map_or("", |(_, q)| q).trim().to_owned();
                continue;
            }
            let Some(ev) = event_text(line) else { continue };
            let expects = match t.steps.last_mut() {
                Some(step) => &mut step.expect,
                None => &mut t.initial,
            };
            if let Some(frame) = ev.strip_prefix("S->C") {
                expects.push(WsExpect::Frame(json_string(frame)));
            } else if ev.starts_with("ws closed code=1006") {
                expects.push(WsExpect::Closed1006);
            } else if let Some(frame) = ev.strip_prefix("C->S") {
                let action = WsAction::Send(json_string(frame));
                t.steps.push(WsStep {
                    action,
                    expect: Vec::new(),
                    http_reply: None,
                });
            } else if let Some(url) = ev.strip_prefix("(side channel) GET ") {
                let action = WsAction::Http(path_of(url.trim()));
                t.steps.push(WsStep {
                    action,
                    expect: Vec::new(),
                    http_reply: None,
                });
            } else if let Some(reply) = ev.strip_prefix("(side channel) -> 200 ") {
                let step = t
                    .steps
                    .iter_mut()
                    .rev()
                    .find(|s| matches!(s.action, WsAction::Http(_)));
                step.expect("a side-channel reply follows its request")
                    .http_reply = Some(json_string(reply));
            }
        }
        t
    }
}

/// A recorded HTTP answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpReply {
    pub status: u16,
    /// Only recorded for GETs.
    pub content_type: Option<String>,
    pub body: Vec<u8>,
}

/// One line of a polling transcript, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum PollEvent {
    /// `GET (handshake)` with this URL query.
    Handshake(String),
    HandshakeReply(HttpReply),
    /// `GET#n (long-poll)`.
    Get(u32),
    GetReply(u32, HttpReply),
    /// `POST body=…` (text-framed payload as sent).
    Post(String),
    /// Reply to the oldest unanswered POST (the close POST included).
    PostReply(HttpReply),
    /// "sending engine close packet": POST `1:1`.
    Close,
    /// Side channel `GET <path?query>` and its recorded reply body.
    Side(String),
    SideReply(String),
}

/// Decodes the transcript's `raw="…"` notation: `\xNN` escapes, other text literal.
fn raw_bytes(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 3 < b.len() && b[i + 1] == b'x' {
            let hex = std::str::from_utf8(&b[i + 2..i + 4]).expect("ascii hex");
            out.push(u8::from_str_radix(hex, 16).expect("hex escape"));
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    out
}

/// `HTTP <status> ct=<ct> raw="<raw>"  => …` or `HTTP <status> body="<json>"`.
fn http_reply(s: &str) -> HttpReply {
    let rest = &s[s.find("HTTP ").expect("HTTP status") + 5..];
    let status = rest[..3].parse().expect("status digits");
    let rest = &rest[3..];
    if let Some(body) = rest.trim_start().strip_prefix("body=") {
        return HttpReply {
            status,
            content_type: None,
            body: json_string(body).into_bytes(),
        };
    }
    let ct_start = rest.find("ct=").expect("ct=") + 3;
    let raw_at = rest.find(" raw=\"").expect("raw=");
    let raw = &rest[raw_at + 6..];
    let end = raw
        .find("\"  =>")
        .unwrap_or_else(|| raw.rfind('"').expect("closing quote"));
    HttpReply {
        status,
        content_type: Some(rest[ct_start..raw_at].to_owned()),
        body: raw_bytes(&raw[..end]),
    }
}

/// Parses a `poll-*.txt` transcript into its ordered events.
pub fn parse_poll(text: &str) -> Vec<PollEvent> {
    let mut out = Vec::new();
    for line in text.lines() {
        if line.starts_with("## server log") {
            break;
        }
        let Some(ev) = event_text(line) else { continue };
        if let Some(url) = ev.strip_prefix("C->S  GET (handshake) ") {
            out.push(PollEvent::Handshake(
                url.split_once('?').map_or("", |(_, q)| q).to_owned(),
            ));
        } else if let Some(rest) = ev.strip_prefix("C->S  GET#") {
            out.push(PollEvent::Get(
                rest.split(' ')
                    .next()
                    .and_then(|n| n.parse().ok())
                    .expect("GET#n"),
            ));
        } else if let Some(body) = ev.strip_prefix("C->S  POST body=") {
            out.push(PollEvent::Post(json_string(body)));
        } else if ev.starts_with("S->C  handshake HTTP") {
            out.push(PollEvent::HandshakeReply(http_reply(ev)));
        } else if let Some(rest) = ev.strip_prefix("S->C  GET#") {
            let n = rest
                .split(' ')
                .next()
                .and_then(|n| n.parse().ok())
                .expect("GET#n");
            out.push(PollEvent::GetReply(n, http_reply(rest)));
        } else if ev.starts_with("S->C  POST") {
            out.push(PollEvent::PostReply(http_reply(ev)));
        } else if ev.contains("sending engine close packet") {
            out.push(PollEvent::Close);
        } else if let Some(url) = ev.strip_prefix("(side channel) GET ") {
            out.push(PollEvent::Side(path_of(url.trim())));
        } else if let Some(reply) = ev.strip_prefix("(side channel) -> 200 ") {
            out.push(PollEvent::SideReply(json_string(reply)));
        }
    }
    out
}

/// Replaces run-specific values: the `"sid":"…"` value and the `#<n> at
/// <RFC3339 timestamp>` of push texts.
pub fn normalize(frame: &str) -> String {
    let mut s = frame.to_owned();
    if let Some(i) = s.find("\"sid\":\"") {
        let start = i + 7;
        if let Some(len) = s[start..].find('"') {
            s.replace_range(start..start + len, "<SID>");
        }
    }
    if let Some(i) = s.find(" #") {
        let digits = s[i + 2..].bytes().take_while(u8::is_ascii_digit).count();
        let after = i + 2 + digits;
        if digits > 0 && s[after..].starts_with(" at ") {
            let ts_start = after + 4;
            if let Some(z) = s[ts_start..].find('Z') {
                s.replace_range(i..ts_start + z + 1, " #<N> at <TS>");
            }
        }
    }
    s
}

/// Strict EIO3 payload decoding for comparisons: XHR2 binary framing when
/// `binary`, else text framing; lengths are UTF-8 bytes and must match
/// exactly (no truncation, no trailing bytes). `None` on any framing error.
pub fn decode_strict(body: &[u8], binary: bool) -> Option<Vec<String>> {
    let mut out = Vec::new();
    let mut rest = body;
    while !rest.is_empty() {
        let (len, after) = if binary {
            if rest[0] != 0 {
                return None;
            }
            let ff = rest.iter().position(|&b| b == 0xff)?;
            let digits = &rest[1..ff];
            if digits.is_empty() || digits.iter().any(|&d| d > 9) {
                return None;
            }
            (
                digits.iter().fold(0usize, |n, &d| n * 10 + d as usize),
                &rest[ff + 1..],
            )
        } else {
            let colon = rest.iter().position(|&b| b == b':')?;
            (
                std::str::from_utf8(&rest[..colon]).ok()?.parse().ok()?,
                &rest[colon + 1..],
            )
        };
        if after.len() < len {
            return None;
        }
        out.push(String::from_utf8(after[..len].to_vec()).ok()?);
        rest = &after[len..];
    }
    Some(out)
}
