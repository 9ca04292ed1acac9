//! go-socket.io v1.4.3 and v1.7.0 (PROTOCOL.md §3.7): one connection per
//! namespace, handlers registered for `/` and `/chat` only. Root is connected
//! on open (`40`, no newline); a CONNECT is answered `40/chat,[]\n` (root:
//! `40[]\n`), every frame after that ends in `\n`. v1.4.3 keeps a CONNECT's
//! query in the namespace key, finds no such namespace and drops the TCP
//! connection; v1.7.0 cuts the query off (and never shows it to the app). An
//! unknown namespace kills the connection in both. `41/chat,` just leaves the
//! namespace. Events for a namespace that is not connected are ignored.

use super::GoVersion;
use super::app::{self, Dispatch, Reply};
use super::log::LogEntry;
use super::socket::{Ctx, read_header};
use serde_json::Value;

/// Namespaces the gateway app registers, in the order pushes visit them.
const NAMESPACES: [&str; 2] = ["/", "/chat"];

/// The namespace connections of one Engine.IO session.
#[derive(Debug)]
pub(crate) struct ModernConn {
    version: GoVersion,
    connected: Vec<String>,
}

/// `<type>[<nsp>,][<id>]<json>\n`, nsp omitted for `/`.
fn encode(kind: u8, nsp: &str, id: Option<u64>, json: &str) -> String {
    let mut s = String::with_capacity(4 + nsp.len() + json.len() + 12);
    s.push('4');
    s.push((b'0' + kind) as char);
    if nsp != "/" {
        s.push_str(nsp);
        s.push(',');
    }
    if let Some(id) = id {
        s.push_str(&id.to_string());
    }
    s.push_str(json);
    s.push('\n');
    s
}

impl ModernConn {
    pub(crate) fn new(version: GoVersion) -> Self {
        ModernConn {
            version,
            connected: Vec::new(),
        }
    }

    /// The namespace key the release derives from a packet's nsp.
    fn namespace(&self, raw: Option<&str>) -> String {
        let raw = raw.unwrap_or("/");
        let path = match self.version {
            GoVersion::V1_7_0 => raw.split('?').next().unwrap_or(""),
            _ => raw,
        };
        if path.is_empty() {
            "/".into()
        } else {
            path.into()
        }
    }

    fn connect(&mut self, nsp: String, ctx: &mut Ctx<'_>) {
        ctx.log(LogEntry::Connect {
            sid: ctx.sid.to_owned(),
            nsp: nsp.clone(),
            url_query: ctx.url_query.to_owned(),
        });
        if !self.connected.contains(&nsp) {
            self.connected.push(nsp);
        }
    }

    pub(crate) fn on_open(&mut self, ctx: &mut Ctx<'_>) {
        ctx.send("40".into());
        self.connect("/".into(), ctx);
    }

    pub(crate) fn on_message(&mut self, data: &str, ctx: &mut Ctx<'_>) {
        let Some(h) = read_header(data) else { return };
        let nsp = self.namespace(h.nsp);
        match h.kind {
            0 if NAMESPACES.contains(&nsp.as_str()) => {
                self.connect(nsp.clone(), ctx);
                ctx.send(encode(0, &nsp, None, "[]"));
            }
            0 => ctx.kill(),
            1 => {
                if let Some(i) = self.connected.iter().position(|n| *n == nsp) {
                    self.connected.remove(i);
                    ctx.log(LogEntry::Disconnect {
                        sid: ctx.sid.to_owned(),
                        nsp,
                        reason: "client namespace disconnect".into(),
                    });
                }
            }
            2 if self.connected.contains(&nsp) => self.on_event(&nsp, h.id, h.rest, ctx),
            _ => {}
        }
    }

    fn on_event(&mut self, nsp: &str, id: Option<u64>, json: &str, ctx: &mut Ctx<'_>) {
        let Some((name, args)) = app::parse_event(json) else {
            return;
        };
        let Dispatch::Handled(reply) = app::dispatch(&name, &args, ctx.url_query) else {
            return;
        };
        ctx.log(LogEntry::Event {
            sid: ctx.sid.to_owned(),
            nsp: nsp.to_owned(),
            name,
            args,
        });
        match reply {
            Reply::Ack(values) => {
                if let Some(id) = id {
                    ctx.send(encode(3, nsp, Some(id), &app::go_json(&values)));
                }
            }
            Reply::Emit(event, mut values) => {
                values.insert(0, Value::String(event.into()));
                ctx.send(encode(2, nsp, None, &app::go_json(&values)));
                if let Some(id) = id {
                    ctx.send(encode(3, nsp, Some(id), "[]"));
                }
            }
        }
    }

    pub(crate) fn on_push(&mut self, text: &str, filter: Option<&str>, ctx: &mut Ctx<'_>) -> usize {
        let values = [Value::String("push".into()), Value::String(text.into())];
        let json = app::go_json(&values);
        let mut n = 0;
        for nsp in NAMESPACES {
            if self.connected.iter().any(|c| c == nsp) && filter.is_none_or(|f| f == nsp) {
                ctx.send(encode(2, nsp, None, &json));
                n += 1;
            }
        }
        n
    }

    pub(crate) fn on_close(&mut self, reason: &str, ctx: &mut Ctx<'_>) {
        for nsp in self.connected.drain(..) {
            ctx.log(LogEntry::Disconnect {
                sid: ctx.sid.to_owned(),
                nsp,
                reason: reason.to_owned(),
            });
        }
    }
}
