//! The `siogate` binary: parse the command line, set up logging, run the
//! chosen mode until SIGINT/SIGTERM. Everything else lives in the library.
//! Exit codes: 0 success, 1 runtime failure, 2 bad command line or config.
use std::process::ExitCode;

use clap::Parser;
use siogate::cli::{Cli, Invocation};

fn main() -> ExitCode {
    // clap prints help/version (exit 0) or the usage error (exit 2) itself.
    let cli = Cli::parse();
    let rust_log = if cli.sets_log_level() {
        None
    } else {
        std::env::var("RUST_LOG").ok()
    };
    let (mode, config) = match cli.resolve() {
        Ok(Invocation::Run { mode, config }) => (mode, config),
        Ok(Invocation::CheckConfig { file, config }) => {
            let mode = config
                .mode
                .map_or("any mode".to_string(), |m| format!("{m} mode"));
            println!("{}: ok ({mode})", file.display());
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("siogate: {e}");
            return ExitCode::from(2);
        }
    };
    if let Err(e) = siogate::telemetry::init(&config.log, rust_log.as_deref()) {
        eprintln!("siogate: {e}");
        return ExitCode::from(2);
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("siogate: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(siogate::run(mode, config, siogate::app::shutdown_signal())) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "siogate stopped");
            eprintln!("siogate: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}
