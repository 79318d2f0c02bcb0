//! A small TCP relay in front of each emulator port, in the style of Toxiproxy: it owns
//! every client connection (so the emulator can close them all when dropped) and injects
//! transport faults that an HTTP server cannot make: a connection cut in the middle of a
//! body, and a server that accepts and never answers.

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;

/// The relay in front of one emulator port. Faults apply to the bytes clients send.
#[derive(Debug)]
pub struct Relay {
    shared: Arc<Shared>,
    accept: Mutex<Option<JoinHandle<()>>>,
}

#[derive(Debug)]
struct Shared {
    addr: SocketAddr,
    upstream: SocketAddr,
    closing: AtomicBool,
    /// While set, what clients send is swallowed: nothing reaches the server, nothing answers.
    blackhole: AtomicBool,
    /// Armed cut: the next connection to send data is closed after this many more bytes.
    cut_after: Mutex<Option<u64>>,
    /// Every open socket (client and upstream sides), to close them on shutdown.
    sockets: Mutex<HashMap<u64, TcpStream>>,
    next_id: AtomicU64,
}

impl Relay {
    /// Listens on a new loopback port and forwards to `upstream`.
    pub(crate) fn start(upstream: SocketAddr, port: u16) -> io::Result<Relay> {
        let listener = TcpListener::bind(("127.0.0.1", port))?;
        let shared = Arc::new(Shared {
            addr: listener.local_addr()?,
            upstream,
            closing: AtomicBool::new(false),
            blackhole: AtomicBool::new(false),
            cut_after: Mutex::new(None),
            sockets: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(0),
        });
        let accept_shared = shared.clone();
        let accept = std::thread::Builder::new()
            .name("hautai-emulator-relay".into())
            .spawn(move || accept_loop(&listener, &accept_shared))?;
        Ok(Relay { shared, accept: Mutex::new(Some(accept)) })
    }

    /// The address clients connect to.
    pub fn addr(&self) -> SocketAddr {
        self.shared.addr
    }

    /// While `on`, connections are accepted but nothing sent on them reaches the server,
    /// so nothing is answered (a hung server, for timeout tests).
    pub fn never_answer(&self, on: bool) {
        self.shared.blackhole.store(on, Ordering::SeqCst);
    }

    /// Arms a one-shot cut: the next connection to send data is closed after `bytes` more
    /// bytes (in the middle of an upload body, say).
    pub fn cut_after(&self, bytes: u64) {
        *self.shared.cut_after.lock().unwrap_or_else(PoisonError::into_inner) = Some(bytes);
    }

    /// Closes every connection and stops accepting.
    pub(crate) fn shutdown(&self) {
        self.shared.closing.store(true, Ordering::SeqCst);
        for socket in self.shared.sockets.lock().unwrap_or_else(PoisonError::into_inner).values() {
            let _ = socket.shutdown(Shutdown::Both);
        }
        // Wake the accept loop with a connection of our own.
        let _ = TcpStream::connect(self.shared.addr);
        if let Some(accept) = self.accept.lock().unwrap_or_else(PoisonError::into_inner).take() {
            let _ = accept.join();
        }
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn accept_loop(listener: &TcpListener, shared: &Arc<Shared>) {
    for client in listener.incoming() {
        if shared.closing.load(Ordering::SeqCst) {
            break;
        }
        let Ok(client) = client else { continue };
        let _ = client.set_nodelay(true);
        let shared = shared.clone();
        let spawned = std::thread::Builder::new().name("hautai-emulator-conn".into()).spawn(move || {
            let _ = serve(client, &shared);
        });
        if spawned.is_err() {
            continue;
        }
    }
}

/// Relays one client connection until either side closes it.
fn serve(client: TcpStream, shared: &Arc<Shared>) -> io::Result<()> {
    let client_id = shared.register(&client)?;
    let upstream = match TcpStream::connect(shared.upstream) {
        Ok(upstream) => upstream,
        Err(e) => {
            shared.forget(client_id);
            return Err(e);
        }
    };
    let _ = upstream.set_nodelay(true);
    let upstream_id = shared.register(&upstream)?;
    // Answers flow back on their own thread; requests flow (and fail) here.
    let (mut answers_from, mut answers_to) = (upstream.try_clone()?, client.try_clone()?);
    let back = std::thread::Builder::new()
        .name("hautai-emulator-conn-back".into())
        .spawn(move || io::copy(&mut answers_from, &mut answers_to))?;
    let _ = forward_requests(&client, &upstream, shared);
    let _ = client.shutdown(Shutdown::Both);
    let _ = upstream.shutdown(Shutdown::Both);
    let _ = back.join();
    shared.forget(client_id);
    shared.forget(upstream_id);
    Ok(())
}

/// Copies what the client sends to the server, applying the armed faults.
fn forward_requests(mut client: &TcpStream, mut upstream: &TcpStream, shared: &Shared) -> io::Result<()> {
    let mut buf = vec![0u8; 64 * 1024];
    let mut budget: Option<u64> = None;
    loop {
        let n = client.read(&mut buf)?;
        if n == 0 || shared.closing.load(Ordering::SeqCst) {
            return Ok(());
        }
        if shared.blackhole.load(Ordering::SeqCst) {
            continue;
        }
        if budget.is_none() {
            budget = shared.cut_after.lock().unwrap_or_else(PoisonError::into_inner).take();
        }
        match budget {
            Some(left) if (n as u64) >= left => {
                upstream.write_all(&buf[..left as usize])?;
                return Ok(()); // The cut: both sides are shut down by the caller.
            }
            Some(left) => {
                budget = Some(left - n as u64);
                upstream.write_all(&buf[..n])?;
            }
            None => upstream.write_all(&buf[..n])?,
        }
    }
}

impl Shared {
    fn register(&self, socket: &TcpStream) -> io::Result<u64> {
        let id = self.next_id.fetch_add(1, Ordering::SeqCst);
        self.sockets.lock().unwrap_or_else(PoisonError::into_inner).insert(id, socket.try_clone()?);
        if self.closing.load(Ordering::SeqCst) {
            let _ = socket.shutdown(Shutdown::Both);
        }
        Ok(id)
    }

    fn forget(&self, id: u64) {
        self.sockets.lock().unwrap_or_else(PoisonError::into_inner).remove(&id);
    }
}
