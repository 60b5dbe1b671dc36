//! What the tests that run the `anyid` binary share.

use std::net::TcpListener;

/// A loopback port that is free now, and so are those `offsets` above it (a dev server also
/// takes the next port for its admin plane and the one 363 above for certificates).
pub fn free_port(offsets: &[u16]) -> u16 {
    loop {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .unwrap_or(0);
        let free = |p: u16| TcpListener::bind(("127.0.0.1", p)).is_ok();
        if (1..65000).contains(&port) && offsets.iter().all(|o| free(port + o)) {
            return port;
        }
    }
}
