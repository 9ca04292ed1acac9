//! The Engine.IO 3 server side of the stand-in, version by version: session
//! ids (20 random base64url chars on go-engine.io v1.0.1, sequential base-36
//! counters `1`, `2`, … `a` on v1.4.3/v1.7.0), the open packet (always with a
//! trailing `\n`; `upgrades` is `["polling"]` for a v1.0.1 WebSocket start, `[]`
//! for a v1.4.3/v1.7.0 one, `["websocket"]` for polling starts), and the
//! heartbeat: v1.0.1 also sends `2` every pingInterval and closes with `1` when
//! no `2`/`3` arrived within pingTimeout; v1.4.3/v1.7.0 never ping and drop the
//! TCP connection when no client `2` arrived within pingTimeout (other
//! messages do not count). One task per session owns the socket loop; the
//! transports feed it and drain its outbox.

use super::log::{LogBook, LogEntry};
use super::socket::{Ctx, SocketLoop};
use super::{GoFixtureOptions, GoVersion, Stats};
use std::collections::hash_map::RandomState;
use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::{Notify, mpsc, oneshot};
use tokio::time::{Instant, sleep_until};
use tokio_util::sync::CancellationToken;

/// State of one server run (a restart builds a new one, like a new process).
pub(crate) struct Shared {
    pub version: GoVersion,
    pub opts: GoFixtureOptions,
    pub log: Arc<LogBook>,
    pub stats: Arc<Stats>,
    pub cancel: CancellationToken,
    pub sessions: Mutex<HashMap<String, Arc<Session>>>,
    next_sid: AtomicU64,
    pub push_count: AtomicU64,
}

impl Shared {
    pub(crate) fn new(
        version: GoVersion,
        opts: GoFixtureOptions,
        log: Arc<LogBook>,
        stats: Arc<Stats>,
    ) -> Self {
        Shared {
            version,
            opts,
            log,
            stats,
            cancel: CancellationToken::new(),
            sessions: Mutex::new(HashMap::new()),
            next_sid: AtomicU64::new(0),
            push_count: AtomicU64::new(0),
        }
    }

    pub(crate) fn session(&self, sid: &str) -> Option<Arc<Session>> {
        self.sessions
            .lock()
            .expect("sessions mutex poisoned")
            .get(sid)
            .cloned()
    }

    pub(crate) fn all_sessions(&self) -> Vec<Arc<Session>> {
        self.sessions
            .lock()
            .expect("sessions mutex poisoned")
            .values()
            .cloned()
            .collect()
    }

    fn new_sid(&self) -> String {
        let n = self.next_sid.fetch_add(1, Ordering::Relaxed) + 1;
        match self.version {
            GoVersion::V1_0_1 => random_sid(n),
            GoVersion::V1_4_3 | GoVersion::V1_7_0 => base36(n),
        }
    }
}

fn base36(mut n: u64) -> String {
    const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut out = Vec::new();
    loop {
        out.push(DIGITS[(n % 36) as usize]);
        n /= 36;
        if n == 0 {
            break;
        }
    }
    out.reverse();
    String::from_utf8(out).expect("ascii digits")
}

fn random_sid(salt: u64) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(20);
    while out.len() < 20 {
        let mut h = RandomState::new().build_hasher();
        h.write_u64(salt);
        let mut bits = h.finish();
        for _ in 0..10 {
            if out.len() == 20 {
                break;
            }
            out.push(ALPHABET[(bits & 63) as usize] as char);
            bits >>= 6;
        }
    }
    out
}

/// The transport currently carrying a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Transport {
    Polling,
    /// A WebSocket answered `3probe`; polling GETs get `6` (noop).
    Upgrading,
    WebSocket,
}

/// One outbound item.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Out {
    /// An Engine.IO packet as text (`40`, `3`, `42/chat,[…]`).
    Packet(String),
    /// After the packets before it: drop the transport (no WS close frame).
    Close,
}

/// What transports hand to the session task.
pub(crate) enum Inbound {
    Packet(String),
    Push {
        text: String,
        nsp: Option<String>,
        reply: oneshot::Sender<usize>,
    },
    TransportClosed,
}

struct Outbox {
    queue: VecDeque<Out>,
    /// go-engine.io v1.0.1's `sendChan` (capacity 1): set by every write, taken
    /// by a GET, which then drains whatever is queued — possibly nothing.
    token: bool,
}

/// One Engine.IO session.
pub(crate) struct Session {
    pub sid: String,
    pub url_query: String,
    pub b64: bool,
    pub inbox: mpsc::Sender<Inbound>,
    outbox: Mutex<Outbox>,
    out_notify: Notify,
    /// Fired to drop every transport of the session at once (TCP close).
    pub kill: CancellationToken,
    transport: Mutex<Transport>,
    pub get_pending: AtomicBool,
}

impl Session {
    pub(crate) fn push(&self, out: Out) {
        let mut ob = self.outbox.lock().expect("outbox mutex poisoned");
        ob.queue.push_back(out);
        ob.token = true;
        drop(ob);
        self.out_notify.notify_waiters();
    }

    /// Sets the v1.0.1 send token without a packet: the next GET answers 200
    /// with an empty body (what go-engine.io's race produces).
    pub(crate) fn force_empty_poll(&self) {
        self.outbox.lock().expect("outbox mutex poisoned").token = true;
        self.out_notify.notify_waiters();
    }

    pub(crate) fn transport(&self) -> Transport {
        *self.transport.lock().expect("transport mutex poisoned")
    }

    pub(crate) fn set_transport(&self, t: Transport) {
        *self.transport.lock().expect("transport mutex poisoned") = t;
        self.out_notify.notify_waiters();
    }

    /// Waits until `take` yields something; re-checked after every outbox or
    /// transport change. Returns `None` once the session is killed.
    pub(crate) async fn wait_out<T>(
        &self,
        mut take: impl FnMut(&mut OutView<'_>) -> Option<T>,
    ) -> Option<T> {
        loop {
            let notified = self.out_notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.kill.is_cancelled() {
                return None;
            }
            {
                let transport = self.transport();
                let mut ob = self.outbox.lock().expect("outbox mutex poisoned");
                let ob = &mut *ob;
                let mut view = OutView {
                    queue: &mut ob.queue,
                    token: &mut ob.token,
                    transport,
                };
                if let Some(v) = take(&mut view) {
                    return Some(v);
                }
            }
            tokio::select! {
                _ = notified => {}
                _ = self.kill.cancelled() => return None,
            }
        }
    }

    pub(crate) fn pop(&self) -> Option<Out> {
        self.outbox
            .lock()
            .expect("outbox mutex poisoned")
            .queue
            .pop_front()
    }

    pub(crate) fn drain(&self) -> Vec<Out> {
        self.outbox
            .lock()
            .expect("outbox mutex poisoned")
            .queue
            .drain(..)
            .collect()
    }
}

/// A transport's view of the outbox while deciding whether to wake up.
pub(crate) struct OutView<'a> {
    pub queue: &'a mut VecDeque<Out>,
    /// The v1.0.1 send token (see `Outbox::token`).
    pub token: &'a mut bool,
    pub transport: Transport,
}

/// The open packet the version sends (`0{…}\n`).
pub(crate) fn open_packet(shared: &Shared, sid: &str, websocket: bool) -> String {
    let upgrades = match (shared.version, websocket) {
        (_, false) => r#"["websocket"]"#,
        (GoVersion::V1_0_1, true) => r#"["polling"]"#,
        (_, true) => "[]",
    };
    format!(
        "0{{\"sid\":\"{sid}\",\"upgrades\":{upgrades},\"pingInterval\":{},\"pingTimeout\":{}}}\n",
        shared.opts.ping_interval.as_millis(),
        shared.opts.ping_timeout.as_millis()
    )
}

/// Creates and registers a session and starts its task. For a WebSocket
/// start the open packet is queued first; a polling start returns it in the
/// handshake response itself (the caller does that).
pub(crate) fn open_session(
    shared: &Arc<Shared>,
    url_query: &str,
    b64: bool,
    websocket: bool,
) -> Arc<Session> {
    let sid = shared.new_sid();
    let (tx, rx) = mpsc::channel(1024);
    let session = Arc::new(Session {
        sid: sid.clone(),
        url_query: url_query.to_owned(),
        b64,
        inbox: tx,
        outbox: Mutex::new(Outbox {
            queue: VecDeque::new(),
            token: false,
        }),
        out_notify: Notify::new(),
        kill: shared.cancel.child_token(),
        transport: Mutex::new(if websocket {
            Transport::WebSocket
        } else {
            Transport::Polling
        }),
        get_pending: AtomicBool::new(false),
    });
    if websocket {
        session.push(Out::Packet(open_packet(shared, &sid, true)));
    }
    shared
        .sessions
        .lock()
        .expect("sessions mutex poisoned")
        .insert(sid.clone(), session.clone());
    shared.stats.sessions_opened.fetch_add(1, Ordering::Relaxed);
    shared.log.push(LogEntry::SessionOpened {
        sid,
        transport: if websocket { "websocket" } else { "polling" },
        url_query: url_query.to_owned(),
    });
    tokio::spawn(run_session(shared.clone(), session.clone(), rx));
    session
}

/// Heartbeat bookkeeping for one session.
struct Heartbeat {
    /// Last client `2` (all versions) or `3` (v1.0.1).
    last_seen: Instant,
    /// v1.0.1: last server ping or client heartbeat; next server `2` is due
    /// one pingInterval later.
    last_try: Instant,
}

async fn run_session(shared: Arc<Shared>, session: Arc<Session>, mut rx: mpsc::Receiver<Inbound>) {
    let legacy = shared.version == GoVersion::V1_0_1;
    let mut sock = SocketLoop::new(shared.version);
    let now = Instant::now();
    let mut hb = Heartbeat {
        last_seen: now,
        last_try: now,
    };
    let mut ctx = Ctx::new(&shared, &session);
    sock.on_open(&mut ctx);
    if ctx.flush(&session) {
        return finish(&shared, &session, &mut sock, "killed", true);
    }
    let reason = loop {
        let ping_due = hb.last_try + shared.opts.ping_interval;
        let timeout_due = hb.last_seen + shared.opts.ping_timeout;
        let mut ctx = Ctx::new(&shared, &session);
        tokio::select! {
            _ = session.kill.cancelled() => break "killed",
            _ = sleep_until(ping_due), if legacy => {
                session.push(Out::Packet("2".into()));
                hb.last_try = Instant::now();
                continue;
            }
            _ = sleep_until(timeout_due) => {
                if legacy {
                    // go-engine.io v1.0.1 writes a close packet, then drops TCP.
                    session.push(Out::Packet("1".into()));
                    session.push(Out::Close);
                    break "ping timeout";
                }
                session.kill.cancel();
                break "ping timeout";
            }
            msg = rx.recv() => match msg {
                None | Some(Inbound::TransportClosed) => break "transport closed",
                Some(Inbound::Push { text, nsp, reply }) => {
                    let n = sock.on_push(&text, nsp.as_deref(), &mut ctx);
                    let _ = reply.send(n);
                }
                Some(Inbound::Packet(p)) => {
                    if p.starts_with('1') && !sock.stalled() {
                        break "client close";
                    }
                    on_packet(legacy, &p, &mut hb, &mut sock, &mut ctx);
                }
            },
        }
        if ctx.flush(&session) {
            break "killed";
        }
    };
    let kill = reason != "ping timeout" || !legacy;
    finish(&shared, &session, &mut sock, reason, kill);
}

/// One inbound Engine.IO packet (everything but `1`).
fn on_packet(legacy: bool, p: &str, hb: &mut Heartbeat, sock: &mut SocketLoop, ctx: &mut Ctx<'_>) {
    if sock.stalled() {
        // v1.0.1: the reader is blocked on a message nobody consumes.
        return;
    }
    let Some(kind) = p.chars().next() else { return };
    let data = &p[1..];
    match kind {
        '2' => {
            ctx.send(format!("3{data}"));
            hb.last_seen = Instant::now();
            if legacy {
                hb.last_try = hb.last_seen;
            }
        }
        '3' if legacy => {
            hb.last_seen = Instant::now();
            hb.last_try = hb.last_seen;
        }
        '4' => sock.on_message(data, ctx),
        _ => {}
    }
}

fn finish(shared: &Shared, session: &Session, sock: &mut SocketLoop, reason: &str, kill: bool) {
    let reason = if shared.cancel.is_cancelled() {
        "server stopped"
    } else {
        reason
    };
    let mut ctx = Ctx::new(shared, session);
    sock.on_close(reason, &mut ctx);
    shared
        .sessions
        .lock()
        .expect("sessions mutex poisoned")
        .remove(&session.sid);
    shared.log.push(LogEntry::SessionClosed {
        sid: session.sid.clone(),
        reason: reason.to_owned(),
    });
    if kill {
        session.kill.cancel();
    }
}
