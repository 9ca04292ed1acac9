//! The command line, two ways: `siogate::cli::load` in-process (flags over
//! the file, generated tokens, where errors point), and the built binary
//! (exit codes and stderr for bad flags and bad files, `check-config`).
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use siogate::cli::load;
use siogate::config::{Balance, ConfigError, LogFormat, Mode, UpstreamFlavor};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn siogate(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_siogate"))
        .args(args)
        .env_remove("RUST_LOG")
        .output()
        .expect("run the siogate binary")
}

fn temp_toml(text: &str) -> (tempfile::NamedTempFile, String) {
    let mut f = tempfile::Builder::new()
        .suffix(".toml")
        .tempfile()
        .expect("temp file");
    f.write_all(text.as_bytes()).expect("write temp file");
    let path = f.path().display().to_string();
    (f, path)
}

#[test]
fn standalone_without_flags_uses_defaults_and_generates_a_token() {
    let (mode, c) = load(["siogate", "standalone"]).expect("defaults are valid");
    assert_eq!(mode, Mode::Standalone);
    assert_eq!(c.server.listen, "127.0.0.1:3000");
    let token = c.standalone.api_token.expect("a token is generated");
    assert!(token.is_generated());
    assert_eq!(token.expose().len(), 32);
}

#[test]
fn flags_override_the_config_file() {
    let (_f, path) = temp_toml(
        "[server]\nlisten = \"127.0.0.1:4000\"\nping_interval_ms = 1000\n\
         [standalone]\napi_token = \"from-file\"\nnamespaces = [\"/a\"]\n[log]\nformat = \"json\"\n",
    );
    let (_, c) = load([
        "siogate",
        "standalone",
        "--config",
        &path,
        "--listen",
        "127.0.0.1:5000",
        "--api-token",
        "from-flag",
        "--namespace",
        "/b",
        "--namespace",
        "/c",
        "--require-token",
        "--jwt-secret",
        "k",
        "--max-payload",
        "42",
    ])
    .expect("valid");
    assert_eq!(c.server.listen, "127.0.0.1:5000");
    assert_eq!(
        c.server.ping_interval_ms, 1000,
        "file value kept when no flag"
    );
    assert_eq!(c.server.max_payload_bytes, 42);
    let token = c.standalone.api_token.expect("token");
    assert_eq!(token.expose(), "from-flag");
    assert!(!token.is_generated());
    assert_eq!(c.standalone.namespaces, ["/b", "/c"]);
    assert!(c.standalone.jwt.required);
    assert_eq!(c.log.format, LogFormat::Json);
}

#[test]
fn proxy_flags_build_a_complete_proxy_config() {
    let (mode, c) = load([
        "siogate",
        "proxy",
        "--listen",
        "127.0.0.1:0",
        "--upstream",
        "ws://10.0.0.5:8000",
        "--upstream",
        "wss://gw.example:8443/push/",
        "--flavor",
        "go-legacy",
        "--balance",
        "hash-header:X-User",
        "--raw-engineio-path",
        "/engine.io/",
        "--ping-timeout",
        "5000",
    ])
    .expect("valid");
    assert_eq!(mode, Mode::Proxy);
    assert_eq!(c.proxy.flavor, Some(UpstreamFlavor::GoLegacy));
    let ups: Vec<String> = c.proxy.upstreams.iter().map(ToString::to_string).collect();
    assert_eq!(
        ups,
        [
            "ws://10.0.0.5:8000/socket.io/",
            "wss://gw.example:8443/push/"
        ]
    );
    assert_eq!(c.proxy.balance, Balance::HashHeader("x-user".into()));
    assert_eq!(c.server.ping_timeout_ms, 5000);
    assert!(
        c.standalone.api_token.is_none(),
        "no token is generated in proxy mode"
    );
}

#[test]
fn proxy_without_upstream_is_refused() {
    let err = load(["siogate", "proxy", "--flavor", "v4"]).unwrap_err();
    assert!(err.to_string().contains("proxy.upstreams"), "{err}");
}

#[test]
fn a_bad_flag_value_is_blamed_on_the_flag() {
    let err = load(["siogate", "standalone", "--ping-interval", "0"]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "command line --ping-interval: `server.ping_interval_ms`: must be greater than 0"
    );
}

#[test]
fn operations_flags_override_the_file_and_are_validated() {
    let (_f, path) =
        temp_toml("[server]\nshutdown_grace_ms = 3000\n[metrics]\nlisten = \"127.0.0.1:9100\"\n");
    let (_, c) = load(["siogate", "standalone", "--config", &path]).expect("valid");
    assert_eq!(c.server.shutdown_grace_ms, 3000);
    assert_eq!(c.metrics.listen.as_deref(), Some("127.0.0.1:9100"));
    let (_, c) = load([
        "siogate",
        "proxy",
        "--config",
        &path,
        "--upstream",
        "ws://127.0.0.1:1",
        "--flavor",
        "v4",
        "--metrics-listen",
        "127.0.0.1:9200",
        "--shutdown-grace",
        "250",
    ])
    .expect("valid");
    assert_eq!(c.server.shutdown_grace_ms, 250);
    assert_eq!(c.metrics.listen.as_deref(), Some("127.0.0.1:9200"));
    let (_, c) = load(["siogate", "standalone"]).expect("defaults");
    assert_eq!(c.server.shutdown_grace_ms, 10_000);
    assert_eq!(c.metrics.listen, None);
    let err = load(["siogate", "standalone", "--metrics-listen", "nope"]).unwrap_err();
    assert!(
        err.to_string().starts_with(
            "command line --metrics-listen: `metrics.listen`: \"nope\" is not an address"
        ),
        "{err}"
    );
}

#[test]
fn a_bad_file_value_is_blamed_on_its_line() {
    let (_f, path) = temp_toml("[server]\n\nlisten = \"nowhere\"\n");
    let err = load(["siogate", "standalone", "--config", &path]).unwrap_err();
    assert_eq!(err.line(), Some(3), "{err}");
    assert!(
        err.to_string()
            .starts_with(&format!("{path}:3: `server.listen`")),
        "{err}"
    );
}

#[test]
fn a_file_for_the_other_mode_is_refused() {
    let file = root().join("config/proxy.toml");
    let err = load([
        "siogate",
        "standalone",
        "--config",
        file.to_str().expect("utf-8"),
    ])
    .unwrap_err();
    assert!(
        err.to_string().contains("this file is for proxy mode"),
        "{err}"
    );
}

#[test]
fn an_unknown_flag_is_a_usage_error() {
    let err = load(["siogate", "standalone", "--no-such-flag"]).unwrap_err();
    assert!(matches!(err, ConfigError::Usage(_)), "{err:?}");
}

#[test]
fn binary_exits_2_on_an_unknown_flag() {
    let out = siogate(&["standalone", "--no-such-flag"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--no-such-flag"), "{stderr}");
}

#[test]
fn binary_exits_2_naming_file_and_line_for_an_invalid_config() {
    let file: PathBuf = root().join("tests/fixtures/config/invalid/unknown_key.toml");
    let path = file.to_str().expect("utf-8 path");
    for args in [
        vec!["standalone", "--config", path],
        vec!["check-config", path],
    ] {
        let out = siogate(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(&format!("{path}:5:")), "{args:?}: {stderr}");
        assert!(stderr.contains("listne"), "{stderr}");
    }
}

#[test]
fn binary_check_config_accepts_every_example() {
    let dir = root().join("config");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).expect("config dir") {
        let path = entry.expect("entry").path();
        if path.extension().is_none_or(|e| e != "toml") {
            continue;
        }
        let out = siogate(&["check-config", path.to_str().expect("utf-8 path")]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{}: {stderr}", path.display());
        assert!(String::from_utf8_lossy(&out.stdout).contains(": ok"));
        checked += 1;
    }
    assert!(checked >= 2);
}

#[test]
fn binary_reports_an_unreadable_config_file() {
    let out = siogate(&["check-config", "/nonexistent/siogate.toml"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("/nonexistent/siogate.toml: cannot read config file"),
        "{stderr}"
    );
}

#[test]
fn limit_flags_override_the_file_limits() {
    let (_f, path) = temp_toml(
        "[server.limits]\nmax_sessions = 10\nmax_namespaces = 4\npacket_rate_per_sec = 5\n",
    );
    let (_, c) = load([
        "siogate",
        "standalone",
        "--config",
        &path,
        "--max-sessions",
        "20",
        "--max-sessions-per-ip",
        "3",
        "--packet-rate",
        "7",
        "--packet-burst",
        "14",
        "--idle-timeout",
        "60000",
        "--header-read-timeout",
        "5000",
        "--max-connections",
        "100",
        "--max-connections-per-ip",
        "10",
    ])
    .expect("valid limits");
    let l = &c.server.limits;
    assert_eq!(l.max_sessions, Some(20));
    assert_eq!(l.max_sessions_per_ip, Some(3));
    assert_eq!(l.max_namespaces, 4, "kept from the file");
    assert_eq!((l.packet_rate_per_sec, l.packet_burst), (Some(7), Some(14)));
    assert_eq!(l.idle_timeout_ms, Some(60_000));
    assert_eq!(l.header_read_timeout_ms, 5_000);
    assert_eq!(
        (l.max_connections, l.max_connections_per_ip),
        (Some(100), Some(10))
    );
}

#[test]
fn a_bad_limit_flag_is_blamed_on_the_flag() {
    let err = load([
        "siogate",
        "proxy",
        "--upstream",
        "ws://127.0.0.1:1",
        "--flavor",
        "v4",
        "--packet-rate",
        "0",
    ])
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "command line --packet-rate: `server.limits.packet_rate_per_sec`: \
         must be greater than 0 (leave the key out for no limit)"
    );
}

#[test]
fn binary_check_config_reports_a_bad_limit_with_file_and_line() {
    let file: PathBuf = root().join("tests/fixtures/config/invalid/limits_zero_burst.toml");
    let path = file.to_str().expect("utf-8 path");
    let out = siogate(&["check-config", path]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "{path}:5: `server.limits.packet_burst`: must be greater than 0"
        )),
        "{stderr}"
    );
}
