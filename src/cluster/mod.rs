//! Cluster mode over Redis pub/sub, in the wire format of socket.io's Redis
//! adapter and emitter, shared by both modes.
//!
//! - [`wire`]: the pure wire format (channels, msgpack broadcasts, requests
//!   and answers). No I/O.
//! - [`redis`]: the Redis connections (publish, pub/sub with reconnect and
//!   re-subscribe, up/down state); `reader` is its pub/sub task.
//! - [`requests`]: requests awaiting answers from other nodes.
mod reader;
pub mod redis;
pub mod requests;
pub mod wire;
