//! Configuration: serde types for every mode, defaults, validation, and
//! loading from a TOML file with errors that name the file, line and reason.
mod server;

pub use server::ServerConfig;
