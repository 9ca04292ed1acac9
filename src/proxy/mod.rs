//! Proxy mode: each client session is relayed to legacy upstream gateways
//! through the pure [`normalize`] state machine (PROTOCOL.md §4).
pub mod backend;
pub mod balance;
mod connect_deadline;
pub mod inject;
mod leg_task;
pub mod normalize;
pub mod raw;
mod service;
mod session;
mod session_kind;
pub mod upstream;
pub use service::{Proxy, ProxyError, run};
