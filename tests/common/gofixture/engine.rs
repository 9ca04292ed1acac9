//! The Engine.IO 3 server side of the stand-in, version by version: session
//! ids (20 random base64url chars on go-engine.io v1.0.1, sequential base-36
//! counters `1`, `2`, … `a` on v1.4.3/v1.7.0), the open packet (always with a
//! trailing `\n`; `upgrades` is `["polling"]` for a v1.0.1 WebSocket start, `[]`
//! for a v1.4.3/v1.7.0 one, `["websocket"]` for polling starts), and the
//! heartbeat: v1.0.1 also sends `2` every pingInterval and closes with `1` when
//! no `2`/`3` arrived within pingTimeout; v1.4.3/v1.7.0 never ping and drop the
//! TCP connection when no client `2` arrived within pingTimeout (other
//! messages do not count). One task per session owns the socket loop; the
//! transports feed it and drain its outbox (`session.rs`).

pub(crate) use super::session::{Inbound, Out, Session, Transport};

use super::log::{LogBook, LogEntry};
use super::socket::{Ctx, SocketLoop};
use super::{GoFixtureOptions, GoVersion, Stats};
use std::collections::HashMap;
use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;
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
    let transport = if websocket {
        Transport::WebSocket
    } else {
        Transport::Polling
    };
    let session = Arc::new(Session::new(
        sid.clone(),
        url_query,
        b64,
        tx,
        shared.cancel.child_token(),
        transport,
    ));
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
    let data = &p[kind.len_utf8()..];
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
