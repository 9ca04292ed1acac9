//! go-socket.io v1.0.1's socket loop (PROTOCOL.md §3.1, §3.6, §2.7): one
//! socket per Engine.IO connection with a single `namespace` string. It writes
//! `40` on open; every CONNECT fires the root `connection` handler again, then
//! stores the CONNECT nsp verbatim (query included) and echoes it without a
//! trailing comma (`40/chat?token=abc`); every later EVENT/ACK is tagged with
//! that stored nsp whatever nsp the client used. Any DISCONNECT, malformed
//! JSON in an event that has a handler, or arguments of the wrong type end the
//! loop; the next message then blocks go-engine.io's reader for good (no
//! more answers, pings included). Unknown types and missing JSON are ignored.

use super::app::{self, Dispatch, Reply};
use super::log::LogEntry;
use super::socket::{Ctx, read_header};
use serde_json::Value;

/// State of the single v1.0.1 socket.
#[derive(Debug, Default)]
pub(crate) struct LegacySocket {
    /// go's `socket.namespace`: `""` until a CONNECT, then its nsp verbatim.
    nsp: String,
    /// The socket loop returned (DISCONNECT or a decode/handler error).
    dead: bool,
    /// A message arrived after the loop died: the Engine.IO reader is stuck.
    stalled: bool,
}

/// go v1.0.1's encoder: `<type><nsp>[,<id>][,<json>]`, the comma only after a
/// non-empty nsp, no comma when nothing follows the nsp.
fn encode(kind: u8, nsp: &str, id: Option<u64>, json: Option<&str>) -> String {
    let mut s = String::with_capacity(2 + nsp.len() + json.map_or(0, str::len) + 12);
    s.push('4');
    s.push((b'0' + kind) as char);
    let mut need_comma = !nsp.is_empty();
    s.push_str(nsp);
    if let Some(id) = id {
        if need_comma {
            s.push(',');
            need_comma = false;
        }
        s.push_str(&id.to_string());
    }
    if let Some(json) = json {
        if need_comma {
            s.push(',');
        }
        s.push_str(json);
    }
    s
}

impl LegacySocket {
    pub(crate) fn stalled(&self) -> bool {
        self.stalled
    }

    pub(crate) fn on_open(&mut self, ctx: &mut Ctx<'_>) {
        ctx.send("40".into());
        self.fire_connection(ctx);
    }

    fn fire_connection(&self, ctx: &mut Ctx<'_>) {
        ctx.log(LogEntry::Connect {
            sid: ctx.sid.to_owned(),
            nsp: self.nsp.clone(),
            url_query: ctx.url_query.to_owned(),
        });
    }

    pub(crate) fn on_message(&mut self, data: &str, ctx: &mut Ctx<'_>) {
        if self.dead {
            self.stalled = true;
            return;
        }
        let Some(h) = read_header(data) else {
            // An empty message is ignored; `5` without its `-` is a decode error.
            self.dead = !data.is_empty();
            return;
        };
        let pkt_nsp = h.nsp.unwrap_or("");
        match h.kind {
            0 => {
                self.nsp = pkt_nsp.to_owned();
                self.fire_connection(ctx);
                ctx.send(encode(0, &self.nsp, None, None));
            }
            1 => {
                ctx.log(LogEntry::Disconnect {
                    sid: ctx.sid.to_owned(),
                    nsp: self.nsp.clone(),
                    reason: "client disconnect packet".into(),
                });
                self.dead = true;
            }
            2 => self.on_event(h.id, h.rest, ctx),
            _ => {}
        }
    }

    fn on_event(&mut self, id: Option<u64>, rest: &str, ctx: &mut Ctx<'_>) {
        // Junk between the header and the JSON array is tolerated.
        let Some(start) = rest.find('[') else { return };
        let json = &rest[start..];
        let Some((name, args)) = app::parse_event(json) else {
            if app::sniff_event_name(json).is_some_and(|n| app::has_handler(&n)) {
                self.dead = true;
            }
            return;
        };
        let reply = match app::dispatch(&name, &args, ctx.url_query) {
            Dispatch::NoHandler => return,
            Dispatch::BadArgs => {
                self.dead = true;
                return;
            }
            Dispatch::Handled(reply) => reply,
        };
        ctx.log(LogEntry::Event {
            sid: ctx.sid.to_owned(),
            nsp: self.nsp.clone(),
            name,
            args,
        });
        match reply {
            Reply::Ack(values) => {
                if let Some(id) = id {
                    ctx.send(encode(3, &self.nsp, Some(id), Some(&app::go_json(&values))));
                }
            }
            Reply::Emit(event, mut values) => {
                values.insert(0, Value::String(event.into()));
                ctx.send(encode(2, &self.nsp, None, Some(&app::go_json(&values))));
                if let Some(id) = id {
                    ctx.send(encode(3, &self.nsp, Some(id), Some("[]")));
                }
            }
        }
    }

    pub(crate) fn on_push(&mut self, text: &str, ctx: &mut Ctx<'_>) -> usize {
        if self.dead {
            return 0;
        }
        let values = [Value::String("push".into()), Value::String(text.into())];
        ctx.send(encode(2, &self.nsp, None, Some(&app::go_json(&values))));
        1
    }

    pub(crate) fn on_close(&mut self, reason: &str, ctx: &mut Ctx<'_>) {
        if !self.dead {
            ctx.log(LogEntry::Disconnect {
                sid: ctx.sid.to_owned(),
                nsp: self.nsp.clone(),
                reason: reason.to_owned(),
            });
        }
        self.dead = true;
    }
}
