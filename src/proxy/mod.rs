//! Proxy mode: each client session is relayed to legacy upstream gateways
//! through the pure [`normalize`] state machine (PROTOCOL.md §4).
pub mod normalize;
pub mod upstream;
