//! The command line: `siogate standalone|proxy|check-config`, parsed with
//! clap, merged over the optional `--config` file (flags win) and validated.
//! [`load`] does all of it from an argument list, so tests need no process.
//! Errors say where a bad value came from: `file:line` or the flag.
use std::ffi::OsString;
use std::path::PathBuf;

use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::{Args, Parser, Subcommand};

use crate::config::{
    Balance, Config, ConfigError, Invalid, Location, LogFormat, Mode, Secret, UpstreamFlavor,
    UpstreamUrl,
};

/// siogate: a Socket.IO gateway (standalone push gateway or normalizing proxy).
#[derive(Debug, Parser)]
#[command(name = "siogate", version, about, propagate_version = true)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Be the push gateway: clients connect here, backends push over HTTP.
    Standalone(StandaloneArgs),
    /// Normalize clients in front of legacy Socket.IO gateways.
    Proxy(ProxyArgs),
    /// Validate a config file and exit (0 when it is valid).
    CheckConfig {
        /// The TOML file to check.
        file: PathBuf,
    },
}

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
    /// Log format.
    #[arg(long, value_name = "FORMAT",
          value_parser = PossibleValuesParser::new(["human", "json"]).try_map(|s| s.parse::<LogFormat>()))]
    pub log_format: Option<LogFormat>,
    /// Log level or filter (e.g. debug, siogate=trace); beats RUST_LOG.
    #[arg(long, value_name = "LEVEL")]
    pub log_level: Option<String>,
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
    /// Allowed namespace (repeatable). Default: any.
    #[arg(long = "namespace", value_name = "NSP")]
    pub namespaces: Vec<String>,
    /// Redis URL: run as a cluster node.
    #[arg(long, value_name = "URL")]
    pub redis: Option<String>,
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
    /// round-robin, least-connections, hash-query:<key> or hash-header:<name>.
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
}

/// What the command line asks for, fully loaded and validated.
#[derive(Debug)]
pub enum Invocation {
    /// Run a mode with this configuration.
    Run { mode: Mode, config: Config },
    /// `check-config`: the file is valid.
    CheckConfig { file: PathBuf, config: Config },
}

impl Cli {
    /// Whether `--log-level` was given (it then beats `RUST_LOG`).
    pub fn sets_log_level(&self) -> bool {
        match &self.command {
            Command::Standalone(a) => a.common.log_level.is_some(),
            Command::Proxy(a) => a.common.log_level.is_some(),
            Command::CheckConfig { .. } => false,
        }
    }

    /// Loads the config file (if any), applies the flags over it and
    /// validates the result.
    pub fn resolve(self) -> Result<Invocation, ConfigError> {
        match self.command {
            Command::CheckConfig { file } => {
                let config = Config::from_file(&file)?;
                Ok(Invocation::CheckConfig { file, config })
            }
            Command::Standalone(args) => {
                let mut base = Base::load(&args.common, Mode::Standalone)?;
                let flags = args.apply(&mut base.config);
                base.finish(Mode::Standalone, flags)
            }
            Command::Proxy(args) => {
                let mut base = Base::load(&args.common, Mode::Proxy)?;
                let flags = args.apply(&mut base.config);
                base.finish(Mode::Proxy, flags)
            }
        }
    }
}

/// Parses `args` (the first item is the program name) and resolves them.
/// For `check-config` the mode is the file's `mode`, or standalone.
pub fn load<I, T>(args: I) -> Result<(Mode, Config), ConfigError>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = Cli::try_parse_from(args).map_err(|e| ConfigError::Usage(e.to_string()))?;
    match cli.resolve()? {
        Invocation::Run { mode, config } => Ok((mode, config)),
        Invocation::CheckConfig { config, .. } => {
            Ok((config.mode.unwrap_or(Mode::Standalone), config))
        }
    }
}

/// Which config fields were set by which flag, to blame the flag.
type Overrides = Vec<(&'static str, &'static str)>;

/// The config file (if any) with the common flags applied.
struct Base {
    config: Config,
    file: Option<(String, String)>,
    flags: Overrides,
}

impl Base {
    fn load(common: &CommonArgs, mode: Mode) -> Result<Base, ConfigError> {
        let (mut config, file) = match &common.config {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                    path: path.clone(),
                    source,
                })?;
                let origin = path.display().to_string();
                (Config::parse_toml(&text, &origin)?, Some((origin, text)))
            }
            None => (Config::default(), None),
        };
        if let (Some(file_mode), Some((origin, text))) = (config.mode, &file)
            && file_mode != mode
        {
            let reason = format!("this file is for {file_mode} mode, but `siogate {mode}` was run");
            return Err(Invalid::new("mode", reason).in_file(origin, text));
        }
        config.mode = Some(mode);
        let mut flags = Overrides::new();
        let s = &mut config.server;
        set(
            &mut flags,
            &mut s.listen,
            common.listen.clone(),
            "server.listen",
            "--listen",
        );
        set(
            &mut flags,
            &mut s.path,
            common.path.clone(),
            "server.path",
            "--path",
        );
        set(
            &mut flags,
            &mut s.ping_interval_ms,
            common.ping_interval,
            "server.ping_interval_ms",
            "--ping-interval",
        );
        set(
            &mut flags,
            &mut s.ping_timeout_ms,
            common.ping_timeout,
            "server.ping_timeout_ms",
            "--ping-timeout",
        );
        set(
            &mut flags,
            &mut s.max_payload_bytes,
            common.max_payload,
            "server.max_payload_bytes",
            "--max-payload",
        );
        let ct = common.connect_timeout;
        set(
            &mut flags,
            &mut s.connect_timeout_ms,
            ct,
            "server.connect_timeout_ms",
            "--connect-timeout",
        );
        let l = &mut config.log;
        set(
            &mut flags,
            &mut l.format,
            common.log_format,
            "log.format",
            "--log-format",
        );
        set(
            &mut flags,
            &mut l.level,
            common.log_level.clone(),
            "log.level",
            "--log-level",
        );
        Ok(Base {
            config,
            file,
            flags,
        })
    }

    /// Validates, blaming the flag, the file line, or the defaults.
    fn finish(mut self, mode: Mode, more_flags: Overrides) -> Result<Invocation, ConfigError> {
        self.flags.extend(more_flags);
        if let Err(invalid) = self.config.validate() {
            let base_field = invalid.field.split('[').next().unwrap_or_default();
            let flag = self.flags.iter().find(|(field, _)| *field == base_field);
            return Err(match (flag, &self.file) {
                (Some((_, flag)), _) => invalid.at(Location::Flag((*flag).to_string())),
                (None, Some((origin, text))) => invalid.in_file(origin, text),
                (None, None) => invalid.at(Location::Defaults),
            });
        }
        Ok(Invocation::Run {
            mode,
            config: self.config,
        })
    }
}

/// Overrides `slot` with a flag's value when the flag was given.
fn set<T>(
    flags: &mut Overrides,
    slot: &mut T,
    value: Option<T>,
    field: &'static str,
    flag: &'static str,
) {
    if let Some(v) = value {
        *slot = v;
        flags.push((field, flag));
    }
}

impl StandaloneArgs {
    fn apply(self, config: &mut Config) -> Overrides {
        let mut flags = Overrides::new();
        let s = &mut config.standalone;
        let token = self.api_token.map(|t| Some(Secret::new(t)));
        set(
            &mut flags,
            &mut s.api_token,
            token,
            "standalone.api_token",
            "--api-token",
        );
        set(
            &mut flags,
            &mut s.api_listen,
            self.api_listen.map(Some),
            "standalone.api_listen",
            "--api-listen",
        );
        if let Some(secret) = self.jwt_secret {
            s.jwt.public_key_file = None;
            set(
                &mut flags,
                &mut s.jwt.secret,
                Some(Some(Secret::new(secret))),
                "standalone.jwt.secret",
                "--jwt-secret",
            );
        }
        if let Some(file) = self.jwt_public_key {
            s.jwt.secret = None;
            let field = "standalone.jwt.public_key_file";
            set(
                &mut flags,
                &mut s.jwt.public_key_file,
                Some(Some(file)),
                field,
                "--jwt-public-key",
            );
        }
        let required = self.require_token.then_some(true);
        set(
            &mut flags,
            &mut s.jwt.required,
            required,
            "standalone.jwt.required",
            "--require-token",
        );
        let join = self.allow_join_leave.then_some(true);
        set(
            &mut flags,
            &mut s.allow_join_leave,
            join,
            "standalone.allow_join_leave",
            "--allow-join-leave",
        );
        let pattern = self.join_pattern.map(Some);
        set(
            &mut flags,
            &mut s.join_pattern,
            pattern,
            "standalone.join_pattern",
            "--join-pattern",
        );
        set(
            &mut flags,
            &mut s.webhook_url,
            self.webhook.map(Some),
            "standalone.webhook_url",
            "--webhook",
        );
        let nsps = (!self.namespaces.is_empty()).then_some(self.namespaces);
        set(
            &mut flags,
            &mut s.namespaces,
            nsps,
            "standalone.namespaces",
            "--namespace",
        );
        let redis = self.redis.map(|r| Some(Secret::new(r)));
        set(
            &mut flags,
            &mut s.redis_url,
            redis,
            "standalone.redis_url",
            "--redis",
        );
        if s.api_token.is_none() {
            s.api_token = Some(Secret::generate());
        }
        flags
    }
}

impl ProxyArgs {
    fn apply(self, config: &mut Config) -> Overrides {
        let mut flags = Overrides::new();
        let p = &mut config.proxy;
        let ups = (!self.upstreams.is_empty()).then_some(self.upstreams);
        set(
            &mut flags,
            &mut p.upstreams,
            ups,
            "proxy.upstreams",
            "--upstream",
        );
        set(
            &mut flags,
            &mut p.flavor,
            self.flavor.map(Some),
            "proxy.flavor",
            "--flavor",
        );
        set(
            &mut flags,
            &mut p.balance,
            self.balance,
            "proxy.balance",
            "--balance",
        );
        let raw = self.raw_engineio_path.map(Some);
        set(
            &mut flags,
            &mut p.raw_engineio_path,
            raw,
            "proxy.raw_engineio_path",
            "--raw-engineio-path",
        );
        let hi = self.health_interval;
        set(
            &mut flags,
            &mut p.health_interval_ms,
            hi,
            "proxy.health_interval_ms",
            "--health-interval",
        );
        let ct = self.upstream_connect_timeout;
        set(
            &mut flags,
            &mut p.connect_timeout_ms,
            ct,
            "proxy.connect_timeout_ms",
            "--upstream-connect-timeout",
        );
        let ht = self.handshake_timeout;
        set(
            &mut flags,
            &mut p.handshake_timeout_ms,
            ht,
            "proxy.handshake_timeout_ms",
            "--handshake-timeout",
        );
        flags
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clap_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
