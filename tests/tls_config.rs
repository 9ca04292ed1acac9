//! TLS files are checked at start, before anything listens: a missing
//! certificate, a key that does not match its certificate, an unusable SNI
//! entry or upstream CA bundle fail with the flag or the file line, the
//! field, the file and the reason — in-process through `cli::load`, and
//! from the binary (`check-config` and a run) with exit code 2.
#[allow(unused_imports)]
mod common;

use std::path::Path;
use std::process::Command;

use common::tls::TestCa;
use siogate::cli::load;

struct Setup {
    dir: tempfile::TempDir,
    cert: String,
    key: String,
    other_key: String,
}

fn setup() -> Setup {
    let dir = tempfile::tempdir().expect("temp dir");
    let ca = TestCa::new("config test CA");
    let (cert, key) = ca.leaf("a", &["localhost"]).write(dir.path(), "a");
    let (_, other_key) = ca.leaf("b", &["localhost"]).write(dir.path(), "b");
    let s = |p: &Path| p.display().to_string();
    Setup {
        cert: s(&cert),
        key: s(&key),
        other_key: s(&other_key),
        dir,
    }
}

fn write_toml(dir: &Path, text: &str) -> String {
    let path = dir.join("siogate.toml");
    std::fs::write(&path, text).expect("write config");
    path.display().to_string()
}

fn load_err(args: &[&str]) -> String {
    let mut argv = vec!["siogate"];
    argv.extend_from_slice(args);
    match load(argv) {
        Ok(_) => panic!("{args:?} loaded but should fail"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn missing_certificate_flag_names_flag_file_and_reason() {
    let s = setup();
    let missing = s.dir.path().join("missing.pem").display().to_string();
    let err = load_err(&["standalone", "--tls-cert", &missing, "--tls-key", &s.key]);
    assert!(
        err.starts_with("command line --tls-cert: `tls.cert`: "),
        "{err}"
    );
    assert!(
        err.contains("missing.pem") && err.contains("cannot read"),
        "{err}"
    );
}

#[test]
fn key_of_another_certificate_is_refused_at_its_line() {
    let s = setup();
    let toml = write_toml(
        s.dir.path(),
        &format!(
            "mode = \"standalone\"\n\n[tls]\ncert = {:?}\nkey = {:?}\n",
            s.cert, s.other_key
        ),
    );
    let err = load_err(&["standalone", "--config", &toml]);
    assert!(err.starts_with(&format!("{toml}:5: `tls.key`: ")), "{err}");
    assert!(
        err.contains("b.key") && err.contains("does not match the certificate"),
        "{err}"
    );
    // A matching pair loads.
    let good = write_toml(
        s.dir.path(),
        &format!("[tls]\ncert = {:?}\nkey = {:?}\n", s.cert, s.key),
    );
    load(["siogate", "standalone", "--config", &good]).expect("a matching pair loads");
}

#[test]
fn bad_sni_entry_and_upstream_ca_name_their_fields() {
    let s = setup();
    let toml = write_toml(
        s.dir.path(),
        &format!(
            "[tls]\ncert = {:?}\nkey = {:?}\n\n[[tls.sni]]\ncert = {:?}\nkey = \"/nonexistent/sni.key\"\n",
            s.cert, s.key, s.cert
        ),
    );
    let err = load_err(&["standalone", "--config", &toml]);
    assert!(err.starts_with(&format!("{toml}:")), "{err}");
    assert!(
        err.contains("`tls.sni[0].key`: /nonexistent/sni.key: cannot read"),
        "{err}"
    );

    // A CA bundle without certificates (a key file) is refused too.
    let err = load_err(&[
        "proxy",
        "--flavor",
        "v4",
        "--upstream",
        "wss://127.0.0.1:1",
        "--upstream-ca",
        &s.key,
    ]);
    assert!(
        err.starts_with("command line --upstream-ca: `proxy.tls.ca_file`: "),
        "{err}"
    );
    assert!(err.contains("no CERTIFICATE"), "{err}");
}

fn siogate(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_siogate"))
        .args(args)
        .env_remove("RUST_LOG")
        .output()
        .expect("run the siogate binary")
}

#[test]
fn binary_refuses_bad_tls_files_with_exit_2() {
    let s = setup();
    let toml = write_toml(
        s.dir.path(),
        &format!("[tls]\ncert = {:?}\nkey = {:?}\n", s.cert, s.other_key),
    );
    let out = siogate(&["check-config", &toml]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!("{toml}:3: `tls.key`")) && stderr.contains("does not match"),
        "{stderr}"
    );
    // Running refuses before listening.
    let out = siogate(&[
        "standalone",
        "--listen",
        "127.0.0.1:0",
        "--tls-cert",
        &s.cert,
        "--tls-key",
        "/nonexistent/key.pem",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("--tls-key") && stderr.contains("/nonexistent/key.pem: cannot read"),
        "{stderr}"
    );
    assert!(!stderr.contains("listening"), "{stderr}");
}
