//! Binding the listening socket with an explicit backlog (tokio's
//! `TcpListener::bind` uses 1024 on Linux but gives no control; a push
//! gateway sees reconnect storms, so the backlog is configurable).
use std::io;
use std::net::SocketAddr;

use tokio::net::{TcpListener, TcpSocket};

/// Smallest backlog used, whatever the configuration says.
pub const MIN_BACKLOG: u32 = 1024;

/// Binds `addr` with `SO_REUSEADDR` and a listen backlog of at least
/// [`MIN_BACKLOG`].
pub fn bind(addr: SocketAddr, backlog: u32) -> io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(backlog.max(MIN_BACKLOG))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn binds_an_os_port() {
        let l = bind("127.0.0.1:0".parse().unwrap(), 16).unwrap();
        assert_ne!(l.local_addr().unwrap().port(), 0);
    }
}
