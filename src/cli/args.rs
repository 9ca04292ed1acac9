//! The flags of `siogate standalone` and `siogate proxy`, and how each one
//! overrides its config field. Every applied flag is recorded next to the
//! dotted field it set, so a validation error can blame the flag.
use std::path::PathBuf;

use clap::Args;
use clap::builder::{PossibleValuesParser, TypedValueParser};

use crate::config::{Balance, Config, LogFormat, Secret, UpstreamFlavor, UpstreamUrl};

/// (dotted config field, flag) for each flag that was given.
pub(crate) type Overrides = Vec<(&'static str, &'static str)>;

/// `over!(flags, config.section.field = Option<value>, "--flag")`: when the
/// value is `Some`, store it and record `("section.field", "--flag")`.
macro_rules! over {
    ($o:ident, $cfg:ident . $sec:ident $(. $field:ident)+ = $value:expr, $flag:literal) => {
        if let Some(v) = $value {
            $cfg.$sec$(.$field)+ = v;
            $o.push((concat!(stringify!($sec) $(, ".", stringify!($field))+), $flag));
        }
    };
}

mod inject;
mod limits;
pub use inject::InjectArgs;
pub use limits::LimitArgs;

/// Flags of both modes (the client-facing server core and logging).
#[derive(Debug, Args)]
pub struct CommonArgs {
    /// TOML config file; flags override its values.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Address to listen on (IP:PORT). Default 127.0.0.1:3000.
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<String>,
    /// Socket.IO path. Default /socket.io/.
    #[arg(long, value_name = "P")]
    pub path: Option<String>,
    /// Heartbeat interval in ms. Default 25000.
    #[arg(long, value_name = "MS")]
    pub ping_interval: Option<u64>,
    /// Heartbeat timeout in ms. Default 20000.
    #[arg(long, value_name = "MS")]
    pub ping_timeout: Option<u64>,
    /// Largest message or polling body in bytes. Default 1000000.
    #[arg(long, value_name = "BYTES")]
    pub max_payload: Option<usize>,
    /// Time a client has to connect to a namespace, in ms. Default 45000.
    #[arg(long, value_name = "MS")]
    pub connect_timeout: Option<u64>,
    /// Log format. Default human.
    #[arg(long, value_name = "FORMAT",
          value_parser = PossibleValuesParser::new(["human", "json"]).try_map(|s| s.parse::<LogFormat>()))]
    pub log_format: Option<LogFormat>,
    /// Log level or filter (e.g. debug, siogate=trace); beats RUST_LOG. Default info.
    #[arg(long, value_name = "LEVEL")]
    pub log_level: Option<String>,
    /// Serve /metrics, /healthz and /readyz on this address (IP:PORT).
    #[arg(long, value_name = "ADDR")]
    pub metrics_listen: Option<String>,
    /// Graceful shutdown grace period in ms (SIGINT caps it at 1000). Default 10000.
    #[arg(long, value_name = "MS")]
    pub shutdown_grace: Option<u64>,
    /// PEM certificate chain: serve HTTPS (on --listen, or on --tls-listen).
    #[arg(long, value_name = "FILE")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of --tls-cert.
    #[arg(long, value_name = "FILE")]
    pub tls_key: Option<PathBuf>,
    /// Serve HTTPS on this address (IP:PORT) beside plain HTTP on --listen.
    #[arg(long, value_name = "ADDR")]
    pub tls_listen: Option<String>,
    #[command(flatten)]
    pub limits: LimitArgs,
}

/// `siogate standalone` flags.
#[derive(Debug, Args)]
pub struct StandaloneArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// Push API bearer token. Default: a random one, printed at start.
    #[arg(long, value_name = "T")]
    pub api_token: Option<String>,
    /// Serve the push API only on this address (IP:PORT).
    #[arg(long, value_name = "ADDR")]
    pub api_listen: Option<String>,
    /// HS256 secret for client tokens (JWT).
    #[arg(long, value_name = "S", conflicts_with = "jwt_public_key")]
    pub jwt_secret: Option<String>,
    /// PEM file with the RS256 public key for client tokens (JWT).
    #[arg(long, value_name = "FILE")]
    pub jwt_public_key: Option<PathBuf>,
    /// Refuse clients without a valid token.
    #[arg(long)]
    pub require_token: bool,
    /// Honour the `join`/`leave` client events.
    #[arg(long)]
    pub allow_join_leave: bool,
    /// Limit `join` to rooms matching NAME or `prefix*`.
    #[arg(long, value_name = "GLOB")]
    pub join_pattern: Option<String>,
    /// POST client events to this URL; its reply becomes the ack.
    #[arg(long, value_name = "URL")]
    pub webhook: Option<String>,
    /// CA certificates (PEM) that verify an https:// webhook instead of the system roots.
    #[arg(long, value_name = "FILE")]
    pub webhook_ca: Option<PathBuf>,
    /// Allowed namespace (repeatable). Default: any.
    #[arg(long = "namespace", value_name = "NSP")]
    pub namespaces: Vec<String>,
    /// Redis URL: run as a cluster node.
    #[arg(long, value_name = "URL")]
    pub redis: Option<String>,
    /// CA certificates (PEM) that verify a rediss:// server instead of the system roots.
    #[arg(long, value_name = "FILE")]
    pub redis_ca: Option<PathBuf>,
}

/// `siogate proxy` flags.
#[derive(Debug, Args)]
pub struct ProxyArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// Upstream gateway, ws://HOST:PORT[/PATH] or wss://... (repeatable).
    #[arg(long = "upstream", value_name = "URL")]
    pub upstreams: Vec<UpstreamUrl>,
    /// What the upstreams are.
    #[arg(long, value_name = "FLAVOR",
          value_parser = PossibleValuesParser::new(UpstreamFlavor::NAMES).try_map(|s| s.parse::<UpstreamFlavor>()))]
    pub flavor: Option<UpstreamFlavor>,
    /// round-robin, least-connections, hash-query:KEY or hash-header:NAME.
    #[arg(long, value_name = "STRATEGY")]
    pub balance: Option<Balance>,
    /// Relay plain Engine.IO on this path (e.g. /engine.io/).
    #[arg(long, value_name = "P")]
    pub raw_engineio_path: Option<String>,
    /// Upstream health check interval in ms. Default 5000.
    #[arg(long, value_name = "MS")]
    pub health_interval: Option<u64>,
    /// Upstream connect timeout in ms. Default 5000.
    #[arg(long, value_name = "MS")]
    pub upstream_connect_timeout: Option<u64>,
    /// Upstream handshake timeout in ms. Default 10000.
    #[arg(long, value_name = "MS")]
    pub handshake_timeout: Option<u64>,
    /// PEM CA bundle trusted for wss:// upstreams (added to the system roots).
    #[arg(long, value_name = "FILE")]
    pub upstream_ca: Option<PathBuf>,
    /// PEM client certificate presented to wss:// upstreams (mTLS).
    #[arg(long, value_name = "FILE")]
    pub upstream_client_cert: Option<PathBuf>,
    /// PEM private key of --upstream-client-cert.
    #[arg(long, value_name = "FILE")]
    pub upstream_client_key: Option<PathBuf>,
    /// Do not verify upstream certificates (test setups only; logs a warning).
    #[arg(long)]
    pub upstream_insecure: bool,
    #[command(flatten)]
    pub inject: InjectArgs,
}

impl CommonArgs {
    /// Applies the server-core and logging flags.
    pub(crate) fn apply(&self, config: &mut Config) -> Overrides {
        let mut o = Overrides::new();
        over!(o, config.server.listen = self.listen.clone(), "--listen");
        over!(o, config.server.path = self.path.clone(), "--path");
        over!(
            o,
            config.server.ping_interval_ms = self.ping_interval,
            "--ping-interval"
        );
        over!(
            o,
            config.server.ping_timeout_ms = self.ping_timeout,
            "--ping-timeout"
        );
        over!(
            o,
            config.server.max_payload_bytes = self.max_payload,
            "--max-payload"
        );
        over!(
            o,
            config.server.connect_timeout_ms = self.connect_timeout,
            "--connect-timeout"
        );
        over!(o, config.log.format = self.log_format, "--log-format");
        over!(o, config.log.level = self.log_level.clone(), "--log-level");
        let metrics = self.metrics_listen.clone().map(Some);
        over!(o, config.metrics.listen = metrics, "--metrics-listen");
        over!(
            o,
            config.server.shutdown_grace_ms = self.shutdown_grace,
            "--shutdown-grace"
        );
        let cert = self.tls_cert.clone().map(Some);
        over!(o, config.tls.cert = cert, "--tls-cert");
        over!(
            o,
            config.tls.key = self.tls_key.clone().map(Some),
            "--tls-key"
        );
        let listen = self.tls_listen.clone().map(Some);
        over!(o, config.tls.listen = listen, "--tls-listen");
        self.limits.apply(config, &mut o);
        o
    }
}

impl StandaloneArgs {
    /// Applies the standalone flags, then generates an API token if neither
    /// the file nor `--api-token` gave one.
    pub(crate) fn apply(self, config: &mut Config) -> Overrides {
        let mut o = self.common.apply(config);
        let token = self.api_token.map(|t| Some(Secret::new(t)));
        over!(o, config.standalone.api_token = token, "--api-token");
        over!(
            o,
            config.standalone.api_listen = self.api_listen.map(Some),
            "--api-listen"
        );
        // One key flag replaces whichever key the file had.
        if self.jwt_secret.is_some() || self.jwt_public_key.is_some() {
            config.standalone.jwt.secret = None;
            config.standalone.jwt.public_key_file = None;
        }
        let secret = self.jwt_secret.map(|s| Some(Secret::new(s)));
        over!(o, config.standalone.jwt.secret = secret, "--jwt-secret");
        let key = self.jwt_public_key.map(Some);
        over!(
            o,
            config.standalone.jwt.public_key_file = key,
            "--jwt-public-key"
        );
        let required = self.require_token.then_some(true);
        over!(
            o,
            config.standalone.jwt.required = required,
            "--require-token"
        );
        let join = self.allow_join_leave.then_some(true);
        over!(
            o,
            config.standalone.allow_join_leave = join,
            "--allow-join-leave"
        );
        let pattern = self.join_pattern.map(Some);
        over!(
            o,
            config.standalone.join_pattern = pattern,
            "--join-pattern"
        );
        over!(
            o,
            config.standalone.webhook_url = self.webhook.map(Some),
            "--webhook"
        );
        let ca = self.webhook_ca.map(Some);
        over!(o, config.standalone.webhook_ca_file = ca, "--webhook-ca");
        let nsps = (!self.namespaces.is_empty()).then_some(self.namespaces);
        over!(o, config.standalone.namespaces = nsps, "--namespace");
        let redis = self.redis.map(|r| Some(Secret::new(r)));
        over!(o, config.standalone.redis_url = redis, "--redis");
        let ca = self.redis_ca.map(Some);
        over!(o, config.standalone.redis_ca_file = ca, "--redis-ca");
        if config.standalone.api_token.is_none() {
            config.standalone.api_token = Some(Secret::generate());
        }
        o
    }
}

impl ProxyArgs {
    /// Applies the proxy flags.
    pub(crate) fn apply(self, config: &mut Config) -> Overrides {
        let mut o = self.common.apply(config);
        let ups = (!self.upstreams.is_empty()).then_some(self.upstreams);
        over!(o, config.proxy.upstreams = ups, "--upstream");
        over!(o, config.proxy.flavor = self.flavor.map(Some), "--flavor");
        over!(o, config.proxy.balance = self.balance, "--balance");
        let raw = self.raw_engineio_path.map(Some);
        over!(
            o,
            config.proxy.raw_engineio_path = raw,
            "--raw-engineio-path"
        );
        over!(
            o,
            config.proxy.health_interval_ms = self.health_interval,
            "--health-interval"
        );
        let ct = self.upstream_connect_timeout;
        over!(
            o,
            config.proxy.connect_timeout_ms = ct,
            "--upstream-connect-timeout"
        );
        let ht = self.handshake_timeout;
        over!(
            o,
            config.proxy.handshake_timeout_ms = ht,
            "--handshake-timeout"
        );
        let ca = self.upstream_ca.map(Some);
        over!(o, config.proxy.tls.ca_file = ca, "--upstream-ca");
        let cert = self.upstream_client_cert.map(Some);
        over!(
            o,
            config.proxy.tls.client_cert = cert,
            "--upstream-client-cert"
        );
        let key = self.upstream_client_key.map(Some);
        over!(
            o,
            config.proxy.tls.client_key = key,
            "--upstream-client-key"
        );
        let insecure = self.upstream_insecure.then_some(true);
        over!(
            o,
            config.proxy.tls.insecure_skip_verify = insecure,
            "--upstream-insecure"
        );
        self.inject.apply(config, &mut o);
        o
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn over_records_the_dotted_field_and_flag() {
        let mut config = Config::default();
        let mut o = Overrides::new();
        over!(
            o,
            config.standalone.jwt.required = Some(true),
            "--require-token"
        );
        over!(o, config.server.path = None::<String>, "--path");
        assert!(config.standalone.jwt.required);
        assert_eq!(o, [("standalone.jwt.required", "--require-token")]);
    }
}
