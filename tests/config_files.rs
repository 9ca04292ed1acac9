//! Every example in `config/` loads and validates; every file in
//! `tests/fixtures/config/invalid/` fails with a message that names the file
//! and the line given by its `# expect-line: N` header, and contains the
//! text of its `# expect: ...` header.
use std::path::{Path, PathBuf};

use siogate::config::{Config, Mode, UpstreamFlavor};

fn toml_files(dir: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    files
}

/// The value of a `# key: value` header line of a fixture.
fn header<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    let prefix = format!("# {key}:");
    text.lines()
        .find_map(|l| l.strip_prefix(prefix.as_str()))
        .map(str::trim)
}

#[test]
fn every_example_config_loads() {
    let files = toml_files("config");
    assert!(
        files.len() >= 2,
        "expected example configs, found {files:?}"
    );
    for file in files {
        if let Err(e) = Config::from_file(&file) {
            panic!("{} does not load: {e}", file.display());
        }
    }
}

#[test]
fn example_configs_set_their_mode_and_proxy_example_is_complete() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let s = Config::from_file(root.join("config/standalone.toml")).expect("standalone example");
    assert_eq!(s.mode, Some(Mode::Standalone));
    let p = Config::from_file(root.join("config/proxy.toml")).expect("proxy example");
    assert_eq!(p.mode, Some(Mode::Proxy));
    assert_eq!(p.proxy.flavor, Some(UpstreamFlavor::Go14));
    assert_eq!(
        p.proxy.upstreams[1].to_string(),
        "ws://10.0.0.6:8000/socket.io/"
    );
}

#[test]
fn every_invalid_fixture_fails_naming_file_and_line() {
    let files = toml_files("tests/fixtures/config/invalid");
    assert!(
        files.len() >= 10,
        "expected invalid fixtures, found {files:?}"
    );
    for file in files {
        let text = std::fs::read_to_string(&file).expect("read fixture");
        let line: usize = header(&text, "expect-line")
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{} lacks `# expect-line: N`", file.display()));
        let expect = header(&text, "expect")
            .unwrap_or_else(|| panic!("{} lacks `# expect: TEXT`", file.display()));
        let err = match Config::from_file(&file) {
            Ok(c) => panic!("{} loaded but should fail: {c:?}", file.display()),
            Err(e) => e,
        };
        let msg = err.to_string();
        let name = file
            .file_name()
            .and_then(|n| n.to_str())
            .expect("utf-8 name");
        assert!(
            msg.contains(name),
            "{name}: message lacks the file name: {msg}"
        );
        assert!(
            msg.contains(&format!("{name}:{line}")),
            "{name}: expected line {line}: {msg}"
        );
        assert_eq!(err.line(), Some(line), "{name}: {msg}");
        assert!(
            msg.contains(expect),
            "{name}: expected {expect:?} in: {msg}"
        );
    }
}
