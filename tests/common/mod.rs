pub mod core_server;
pub mod echo_backend;
pub mod http_client;
pub mod ws_client;
