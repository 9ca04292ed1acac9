//! Cluster test pieces: siogate standalone nodes in this process, started
//! through `siogate::standalone::run` with `redis_url` set (the path the
//! `--redis` flag takes), and the real `@socket.io/redis-emitter` driven
//! through `tests/js/emit.js`.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::time::Duration;

use serde_json::{Value, json};
use siogate::config::{Secret, ServerConfig, StandaloneConfig};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::http_client;
use super::node::{Client, ClientOpts, NodeProc, STARTUP, STEP};
use super::redis_server::RedisServer;

pub const API_TOKEN: &str = "cluster-test-token";

/// One siogate node in cluster mode; stops when dropped.
pub struct ClusterNode {
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    handle: Option<JoinHandle<Result<(), siogate::standalone::StandaloneError>>>,
}

impl ClusterNode {
    /// Starts a node on 127.0.0.1:0 using the Redis at `redis_url`.
    pub async fn start(redis_url: &str) -> ClusterNode {
        ClusterNode::start_with(StandaloneConfig {
            redis_url: Some(Secret::new(redis_url)),
            ..StandaloneConfig::default()
        })
        .await
    }

    /// Starts a node with `cfg` (its push API token set to [`API_TOKEN`]).
    pub async fn start_with(cfg: StandaloneConfig) -> ClusterNode {
        let listener = siogate::server::listener::bind("127.0.0.1:0".parse().unwrap(), 1024)
            .expect("bind a node");
        let addr = listener.local_addr().unwrap();
        let cfg = StandaloneConfig {
            api_token: Some(Secret::new(API_TOKEN)),
            ..cfg
        };
        let (tx, rx) = oneshot::channel::<()>();
        let handle = tokio::spawn(async move {
            let shutdown = async {
                let _ = rx.await;
            };
            siogate::standalone::run(listener, ServerConfig::default(), &cfg, shutdown).await
        });
        ClusterNode {
            addr,
            stop: Some(tx),
            handle: Some(handle),
        }
    }

    /// `http://127.0.0.1:<port>` for clients.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A push API call: (status, JSON body).
    pub async fn api(&self, method: &str, route: &str, body: &str) -> (u16, Value) {
        let auth = format!("Bearer {API_TOKEN}");
        let headers = [
            ("authorization", auth.as_str()),
            ("content-type", "application/json"),
        ];
        let pq = format!("/api/v1/{route}");
        let resp = http_client::request(self.addr, method, &pq, &headers, body.to_string()).await;
        (
            resp.status,
            serde_json::from_slice(&resp.body).unwrap_or(Value::Null),
        )
    }

    /// `POST emit` with `body`; returns (status, body).
    pub async fn emit(&self, body: Value) -> (u16, Value) {
        self.api("POST", "emit", &body.to_string()).await
    }

    /// The socket ids of `nsp` across the cluster (this node's view).
    pub async fn socket_ids(&self, nsp: &str) -> Option<Vec<String>> {
        let (status, body) = self
            .api("GET", &format!("sockets?namespace={nsp}"), "")
            .await;
        (status == 200).then(|| {
            body["sockets"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|s| s["id"].as_str().map(str::to_string))
                .collect()
        })
    }

    /// Polls until this node lists exactly `expected` sockets of `nsp`
    /// (every node subscribed and answering), at most `within`.
    pub async fn wait_sockets(&self, nsp: &str, expected: &[String], within: Duration) {
        let mut want = expected.to_vec();
        want.sort();
        let deadline = Instant::now() + within;
        loop {
            let got = self.socket_ids(nsp).await;
            if got.as_deref() == Some(&want[..]) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "node {} lists {got:?} for {nsp}, want {want:?}",
                self.addr
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Stops the node and checks it ended without an error (no crash).
    pub async fn stop(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(h) = self.handle.take() {
            let res = tokio::time::timeout(STEP, h)
                .await
                .expect("node stops in time");
            res.expect("node task did not panic")
                .expect("node ran without error");
        }
    }
}

impl Drop for ClusterNode {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}

/// A running `emit.js` (the npm `@socket.io/redis-emitter`).
pub struct Emitter {
    pub proc: NodeProc,
}

impl Emitter {
    pub async fn start(redis_url: &str) -> Emitter {
        let mut proc = NodeProc::spawn("emit.js", &["--redis".into(), redis_url.into()]);
        proc.wait_ev("ready", STARTUP).await;
        Emitter { proc }
    }

    /// Sends one command (see emit.js) and waits until it reached Redis.
    pub async fn run(&mut self, cmd: Value) {
        self.proc.send(&cmd).await;
        let v = self
            .proc
            .wait_for(|v| v["ev"] == "done" || v["ev"] == "cmd_error", STEP)
            .await;
        assert_eq!(v["ev"], "done", "{}", self.proc.report(&format!("{cmd}")));
    }

    /// `emitter.of(nsp).to(to).except(except).emit(event, ...args)`.
    pub async fn emit(
        &mut self,
        nsp: &str,
        to: &[&str],
        except: &[&str],
        event: &str,
        args: Value,
    ) {
        self.run(json!({"cmd": "emit", "nsp": nsp, "to": to, "except": except, "event": event, "args": args}))
            .await;
    }
}

/// How long nodes may take to (re)subscribe after Redis comes (back) up.
pub const RESUBSCRIBE: Duration = Duration::from_secs(15);

/// One redis-server and N nodes on it.
pub struct Cluster {
    pub redis: RedisServer,
    pub nodes: Vec<ClusterNode>,
}

impl Cluster {
    pub async fn start(n: usize) -> Cluster {
        let redis = RedisServer::start().await;
        let mut nodes = Vec::new();
        for _ in 0..n {
            nodes.push(ClusterNode::start(&redis.url()).await);
        }
        Cluster { redis, nodes }
    }

    /// Connects a socket.io-client 4 to `nsp` on node `i`; returns it and its id.
    pub async fn client(&self, i: usize, nsp: &str) -> (Client, String) {
        let opts = ClientOpts::new(4, self.nodes[i].url())
            .nsp(nsp)
            .no_reconnect();
        let (client, connect) = Client::connect(&opts).await;
        let id = connect["id"].as_str().expect("connect id").to_string();
        (client, id)
    }

    /// Waits until every node lists exactly `ids` in `nsp`.
    pub async fn wait_all_see(&self, nsp: &str, ids: &[String]) {
        for node in &self.nodes {
            node.wait_sockets(nsp, ids, RESUBSCRIBE).await;
        }
    }

    pub async fn stop(self) {
        for node in self.nodes {
            node.stop().await;
        }
    }
}

pub fn is_event(name: &str) -> impl FnMut(&Value) -> bool + '_ {
    move |v| v["ev"] == "event" && v["name"] == name
}

/// "Exactly the matching clients" without waiting out a window: after the
/// push under test, the same publisher sent `marker` to the whole namespace;
/// Redis delivers one publisher's messages in order, so once a client has
/// the marker it has every earlier push it will ever get.
/// After `marker` reached every client: the clients flagged in `want` got
/// `event` exactly once (with `args`), the others never.
pub async fn assert_exactly(
    clients: &mut [&mut Client],
    want: &[bool],
    event: &str,
    args: &Value,
    marker: &str,
) {
    for (i, client) in clients.iter_mut().enumerate() {
        client.wait_event(marker).await;
        let got = client
            .proc
            .try_wait_for(is_event(event), Duration::ZERO)
            .await;
        match (&got, want[i]) {
            (Ok(v), true) => assert_eq!(&v["args"], args, "client {i}"),
            (Err(_), false) => {}
            _ => panic!(
                "{}",
                client.proc.report(&format!(
                    "client {i}: want {} for {event}, got {got:?}",
                    want[i]
                ))
            ),
        }
        let again = client
            .proc
            .try_wait_for(is_event(event), Duration::ZERO)
            .await;
        assert!(
            again.is_err(),
            "{}",
            client.proc.report(&format!("client {i} got {event} twice"))
        );
    }
}
