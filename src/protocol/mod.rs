//! The pure wire core: parsing and encoding of Engine.IO and Socket.IO.
//!
//! Nothing here does I/O or depends on tokio. Every decoder is total: any
//! input yields a value or a `ParseError`-style error, never a panic
//! (checked by proptest and by the cargo-fuzz targets under `fuzz/`).
mod decimal;
pub mod engineio;
pub mod socketio;
