//! The command line: `siogate standalone|proxy|check-config`, parsed with
//! clap, merged over the optional `--config` file (flags win) and validated.
//! [`load`] does all of it from an argument list, so tests need no process.
//! Errors say where a bad value came from: `file:line` or the flag.
use std::ffi::OsString;
use std::path::PathBuf;

mod args;

use clap::{Parser, Subcommand};

use args::Overrides;
pub use args::{CommonArgs, ProxyArgs, StandaloneArgs};

use crate::config::{Config, ConfigError, Invalid, Location, Mode};

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
                if let Err(invalid) = crate::tls::check_files(&config) {
                    let origin = file.display().to_string();
                    let text = std::fs::read_to_string(&file).unwrap_or_default();
                    return Err(invalid.in_file(&origin, &text));
                }
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

/// The `--config` file (or the defaults) before the flags are applied.
struct Base {
    config: Config,
    /// (origin, text) of the `--config` file.
    file: Option<(String, String)>,
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
        Ok(Base { config, file })
    }

    /// Validates (then reads the TLS files it names), blaming the flag, the
    /// file line, or the defaults.
    fn finish(self, mode: Mode, flags: Overrides) -> Result<Invocation, ConfigError> {
        let checked = self
            .config
            .validate()
            .and_then(|()| crate::tls::check_files(&self.config));
        if let Err(invalid) = checked {
            let base_field = invalid.field.split('[').next().unwrap_or_default();
            let flag = flags.iter().find(|(field, _)| *field == base_field);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clap_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
