pub mod core_server;
pub mod echo_backend;
pub mod gofixture;
pub mod http_client;
pub mod node;
pub mod siogate_bin;
pub mod ws_client;
