//! A TCP listener that holds at most `CONNECTIONS_MAX` connections open at once (past that it stops
//! accepting until one closes, so a flood queues in the kernel instead of in our memory), at most
//! `CONNECTIONS_PER_ADDRESS_MAX` from one address (more are closed at once, so one client cannot hold
//! the door shut for the others), and closes a connection on which nothing moved for the idle timeout
//! (idle keep-alive connections and half-sent requests alike).

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The limits a listener enforces.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    /// Most connections open at once; more wait to be accepted.
    pub max: usize,
    /// Most open at once from one address; more are closed as they arrive.
    pub per_address_max: usize,
    /// How long a connection may sit with nothing read or written before it is closed.
    pub idle_ms: u64,
}

/// A TCP listener that accepts within `ConnectionLimits`, and closes idle connections.
#[derive(Debug)]
pub struct LimitedListener {
    inner: TcpListener,
    slots: Arc<Semaphore>,
    per_address: Arc<Mutex<HashMap<IpAddr, usize>>>,
    limits: ConnectionLimits,
}

impl LimitedListener {
    /// Accepts from `inner` within `limits`.
    pub fn new(inner: TcpListener, limits: ConnectionLimits) -> LimitedListener {
        LimitedListener {
            inner,
            slots: Arc::new(Semaphore::new(limits.max.max(1))),
            per_address: Arc::new(Mutex::new(HashMap::new())),
            limits,
        }
    }
}

/// One address's share of the connections, given back when the connection closes.
#[derive(Debug)]
struct AddressSlot {
    address: IpAddr,
    counts: Arc<Mutex<HashMap<IpAddr, usize>>>,
}

impl Drop for AddressSlot {
    fn drop(&mut self) {
        let mut counts = match self.counts.lock() {
            Ok(c) => c,
            Err(poisoned) => poisoned.into_inner(),
        };
        if let Some(n) = counts.get_mut(&self.address) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                counts.remove(&self.address);
            }
        }
    }
}

/// A connection holding its slots until dropped, and closed when idle for too long.
#[derive(Debug)]
pub struct LimitedStream {
    stream: TcpStream,
    idle: Duration,
    deadline: Pin<Box<tokio::time::Sleep>>,
    _slot: OwnedSemaphorePermit,
    _address: AddressSlot,
}

impl LimitedStream {
    /// Something moved: the idle clock starts again.
    fn progressed(&mut self) {
        let next = tokio::time::Instant::now() + self.idle;
        self.deadline.as_mut().reset(next);
    }

    /// Whether the idle timeout passed while nothing moved.
    fn timed_out(&mut self, cx: &mut Context<'_>) -> bool {
        self.deadline.as_mut().poll(cx).is_ready()
    }
}

fn idle_error() -> io::Error {
    io::Error::new(io::ErrorKind::TimedOut, "connection idle past its timeout")
}

impl axum::serve::Listener for LimitedListener {
    type Io = LimitedStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            // The semaphore is never closed, so acquiring only waits.
            let Ok(slot) = self.slots.clone().acquire_owned().await else {
                continue;
            };
            match self.inner.accept().await {
                Ok((stream, addr)) => {
                    let address = addr.ip();
                    {
                        let mut counts = match self.per_address.lock() {
                            Ok(c) => c,
                            Err(poisoned) => poisoned.into_inner(),
                        };
                        let n = counts.entry(address).or_insert(0);
                        if *n >= self.limits.per_address_max {
                            // Closed at once: this address holds its share already.
                            drop(stream);
                            continue;
                        }
                        *n += 1;
                    }
                    let _ = stream.set_nodelay(true);
                    let idle = Duration::from_millis(self.limits.idle_ms);
                    return (
                        LimitedStream {
                            stream,
                            idle,
                            deadline: Box::pin(tokio::time::sleep(idle)),
                            _slot: slot,
                            _address: AddressSlot {
                                address,
                                counts: self.per_address.clone(),
                            },
                        },
                        addr,
                    );
                }
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
            }
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.inner.local_addr()
    }
}

impl AsyncRead for LimitedStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match Pin::new(&mut self.stream).poll_read(cx, buf) {
            Poll::Ready(r) => {
                self.progressed();
                Poll::Ready(r)
            }
            Poll::Pending if self.timed_out(cx) => Poll::Ready(Err(idle_error())),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl AsyncWrite for LimitedStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match Pin::new(&mut self.stream).poll_write(cx, buf) {
            Poll::Ready(r) => {
                self.progressed();
                Poll::Ready(r)
            }
            Poll::Pending if self.timed_out(cx) => Poll::Ready(Err(idle_error())),
            Poll::Pending => Poll::Pending,
        }
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}
