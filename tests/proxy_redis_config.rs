//! `[proxy.redis]` from the command line: the flags fill the section, and a
//! bad section (an empty room key, an unknown key, rooms without a URL)
//! stops the real binary with exit code 2, naming the file and line or the
//! flag. The injection itself is tested in `proxy_redis.rs`.
#[allow(unused_imports)] // each test binary uses a part of the shared harness
mod common;

use std::path::Path;

use common::siogate_bin::run_to_exit as siogate;
use siogate::config::Secret;

#[test]
fn proxy_redis_flags_fill_the_section() {
    let (_, c) = siogate::cli::load([
        "siogate",
        "proxy",
        "--flavor",
        "go-1.4",
        "--upstream",
        "ws://127.0.0.1:1",
        "--redis",
        "redis://127.0.0.1:6379",
        "--redis-prefix",
        "app",
        "--room-from-query",
        "user",
        "--room-from-query",
        "team",
        "--room-from-claim",
        "sub",
        "--room-claim-secret",
        "s3cret",
    ])
    .expect("valid flags");
    let r = &c.proxy.redis;
    assert_eq!(
        r.url.as_ref().map(Secret::expose),
        Some("redis://127.0.0.1:6379")
    );
    assert_eq!(r.prefix(), "app");
    assert_eq!(r.room_from_query, ["user", "team"]);
    assert_eq!(r.room_from_claim, ["sub"]);
    assert_eq!(r.claim_secret.as_ref().map(Secret::expose), Some("s3cret"));
}

#[tokio::test]
async fn bad_proxy_redis_config_stops_the_binary_naming_file_line_or_flag() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/config/invalid");
    for (file, line, what) in [
        ("proxy_redis_empty_room_key.toml", 10, "room_from_query[1]"),
        ("proxy_redis_unknown_key.toml", 9, "room_from_queries"),
    ] {
        let path = dir.join(file).display().to_string();
        let (code, stderr) = siogate(&["proxy", "--config", &path]).await;
        assert_eq!(code, Some(2), "{file}: {stderr}");
        assert!(
            stderr.contains(&format!("{path}:{line}")),
            "{file}: {stderr}"
        );
        assert!(stderr.contains(what), "{file}: {stderr}");
    }
    let base = [
        "proxy",
        "--flavor",
        "go-1.4",
        "--upstream",
        "ws://127.0.0.1:1",
    ];
    let flag_cases: [(&[&str], &str); 2] = [
        (
            &["--redis", "redis://127.0.0.1:1", "--room-from-query", ""],
            "--room-from-query",
        ),
        (&["--room-from-claim", "sub"], "proxy.redis.url"),
    ];
    for (flags, what) in flag_cases {
        let args: Vec<&str> = base.iter().chain(flags).copied().collect();
        let (code, stderr) = siogate(&args).await;
        assert_eq!(code, Some(2), "{flags:?}: {stderr}");
        assert!(stderr.contains(what), "{flags:?}: {stderr}");
    }
}
