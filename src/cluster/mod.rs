//! Cluster mode over Redis pub/sub, in the wire format of socket.io's Redis
//! adapter and emitter, shared by both modes.
//!
//! - [`wire`]: the pure wire format (channels, msgpack broadcasts, requests
//!   and answers). No I/O.
pub mod wire;
