//! Drives the real python-socketio clients from Rust tests: `tests/py/client.py` run by the
//! venv of one client generation (`tests/py/.venv5`: python-socketio 5.x, Engine.IO 4;
//! `tests/py/.venv4`: python-socketio 4.6.1 with python-engineio 3.14.2, Engine.IO 3), which
//! `scripts/test.sh` creates from the hash-pinned `tests/py/requirements-v{4,5}.txt`.
//! The script takes `client.js`'s flags and prints its lines, so a test builds it with the
//! same [`ClientOpts`] (version 4 or 5 = the python-socketio major) and drives it with the
//! same [`Client`] wrapper over a [`NodeProc`].
#![allow(dead_code)] // each test binary uses a different part of the harness

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::node::{Client, ClientOpts, NodeProc};

/// `tests/py/`, where the driver script, the requirements files and the venvs live.
pub fn py_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("py")
}

/// The python of the venv holding python-socketio `major` (4 or 5).
pub fn venv_python(major: u8) -> PathBuf {
    py_dir()
        .join(format!(".venv{major}"))
        .join("bin")
        .join("python")
}

/// Panics with instructions when the venv for python-socketio `major` is missing.
pub fn require_venv(major: u8) {
    assert!(
        matches!(major, 4 | 5),
        "python-socketio major must be 4 or 5, not {major}"
    );
    assert!(
        venv_python(major).is_file(),
        "{} is missing: run ./scripts/test.sh (it creates tests/py/.venv{major} with \
         `pip install --require-hashes -r tests/py/requirements-v{major}.txt`)",
        venv_python(major).display()
    );
}

/// Starts `client.py` under the venv of python-socketio `opts.version` (4 or 5) without
/// waiting for its connect. Must run inside a tokio runtime.
pub fn spawn_py(opts: &ClientOpts) -> Client {
    require_venv(opts.version);
    let script = py_dir().join("client.py");
    Client::from_proc(NodeProc::spawn_program(
        &venv_python(opts.version),
        &script,
        &opts.args(),
        &py_dir(),
    ))
}

/// Starts `client.py` and waits for its `connect` line (panics on `connect_error`).
pub async fn connect_py(opts: &ClientOpts) -> (Client, Value) {
    spawn_py(opts).connected().await
}
