//! The accept loop and what every connection carries: a cap on open connections, a header-read timeout (a
//! connection that sends no byte is closed), an idle timeout, and a back-off when the process runs out of file
//! descriptors (the listener sleeps instead of spinning at 100 % CPU).
//!
//! - **Cap.** At most `limits.connections` connections are open, and never more than 3/4 of the process's open-file
//!   limit (`ulimit -n`, read from `/proc/self/limits`), so files can still be opened. A connection over the cap is
//!   accepted and closed at once: the client gets a prompt error, not a hang in the backlog.
//! - **Header timeout.** A connection that sends nothing within `limits.header_timeout_ms` of opening is closed
//!   (hyper's own HTTP/1 header timeout, 30 s, applies once bytes arrive).
//! - **Idle timeout.** A connection with no byte in either direction for `limits.idle_timeout_ms` is closed
//!   (streams send heartbeats and pings well within it).
//! - **Back-off.** `EMFILE`, `ENFILE`, `ENOBUFS` or `ENOMEM` from `accept` pause the loop, 5 ms doubling to 1 s,
//!   logged once per episode.

use std::{
    io,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
    time::Duration,
};

use futures_util::Stream;
use std::future::Future as _;
use tokio::{
    io::{AsyncRead, AsyncWrite, ReadBuf},
    net::{TcpListener, TcpStream},
    sync::{OwnedSemaphorePermit, Semaphore},
    time::{Instant, Sleep},
};
use tonic::transport::server::{Connected, TcpConnectInfo};

use crate::config::Limits;

/// One accepted connection with its slot and its timeouts.
#[derive(Debug)]
pub struct Guarded {
    inner: TcpStream,
    _slot: OwnedSemaphorePermit,
    deadline: Pin<Box<Sleep>>,
    spoke: bool,
    idle: Duration,
}

impl Guarded {
    fn new(inner: TcpStream, slot: OwnedSemaphorePermit, header: Duration, idle: Duration) -> Self {
        Guarded {
            inner,
            _slot: slot,
            deadline: Box::pin(tokio::time::sleep(header)),
            spoke: false,
            idle,
        }
    }

    /// Moves the deadline on after progress (at most once per second of it, to keep resets cheap).
    fn progressed(&mut self) {
        let next = Instant::now() + self.idle;
        if next.saturating_duration_since(self.deadline.deadline()) >= Duration::from_secs(1) || !self.spoke {
            self.deadline.as_mut().reset(next);
        }
    }

    /// A `TimedOut` error once the deadline has passed (the connection then closes).
    fn expired(&mut self, cx: &mut Context<'_>) -> Option<io::Error> {
        self.deadline.as_mut().poll(cx).is_ready().then(|| {
            let what = if self.spoke { "idle" } else { "sent nothing" };
            io::Error::new(io::ErrorKind::TimedOut, format!("connection {what} too long"))
        })
    }
}

impl AsyncRead for Guarded {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        match Pin::new(&mut self.inner).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                if buf.filled().len() > before {
                    self.progressed();
                    self.spoke = true;
                }
                Poll::Ready(Ok(()))
            }
            Poll::Pending => match self.expired(cx) {
                Some(error) => Poll::Ready(Err(error)),
                None => Poll::Pending,
            },
            other => other,
        }
    }
}

impl Guarded {
    /// What every write does with its result: bytes out count as progress once the peer has spoken; a write that
    /// waits is cut when the connection's time is up.
    fn after_write(&mut self, cx: &mut Context<'_>, written: Poll<io::Result<usize>>) -> Poll<io::Result<usize>> {
        match written {
            Poll::Ready(Ok(n)) => {
                if n > 0 && self.spoke {
                    self.progressed();
                }
                Poll::Ready(Ok(n))
            }
            Poll::Pending => match self.expired(cx) {
                Some(error) => Poll::Ready(Err(error)),
                None => Poll::Pending,
            },
            other => other,
        }
    }
}

impl AsyncWrite for Guarded {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        let written = Pin::new(&mut self.inner).poll_write(cx, data);
        self.after_write(cx, written)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let written = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        self.after_write(cx, written)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

impl Connected for Guarded {
    type ConnectInfo = TcpConnectInfo;

    fn connect_info(&self) -> TcpConnectInfo {
        self.inner.connect_info()
    }
}

/// The process's soft limit of open files, from `/proc/self/limits` (`None` where unknown or unlimited).
pub fn open_file_limit() -> Option<usize> {
    let text = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = text.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

/// The connection cap: `configured`, but at most 3/4 of the open-file limit (at least 1).
pub fn connection_cap(configured: usize) -> usize {
    match open_file_limit() {
        Some(fds) => configured.min(fds / 4 * 3).max(1),
        None => configured.max(1),
    }
}

/// Whether an `accept` error means the process or system is out of a resource (back off), not a failed client.
fn out_of_resources(error: &io::Error) -> bool {
    matches!(
        error.raw_os_error(),
        Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM)
    )
}

/// The accepted connections of `listener` under `limits` (see the module docs).
pub fn incoming(listener: TcpListener, limits: &Limits) -> Pin<Box<dyn Stream<Item = io::Result<Guarded>> + Send>> {
    let cap = connection_cap(limits.max_connections);
    if cap < limits.max_connections {
        tracing::info!(
            cap,
            configured = limits.max_connections,
            "connection cap lowered to 3/4 of the open-file limit"
        );
    }
    let slots = Arc::new(Semaphore::new(cap));
    let (header, idle) = (limits.header_timeout, limits.idle_timeout);
    Box::pin(async_stream::stream! {
        const FIRST_PAUSE: Duration = Duration::from_millis(5);
        let mut pause = FIRST_PAUSE;
        let mut refused_since_log = 0u64;
        let mut last_refusal_log: Option<Instant> = None;
        loop {
            match listener.accept().await {
                Ok((stream, _peer)) => {
                    if pause > FIRST_PAUSE {
                        tracing::info!("accepting connections again");
                    }
                    pause = FIRST_PAUSE;
                    let _ = stream.set_nodelay(true);
                    match slots.clone().try_acquire_owned() {
                        Ok(slot) => yield Ok(Guarded::new(stream, slot, header, idle)),
                        Err(_) => {
                            drop(stream);
                            refused_since_log += 1;
                            if last_refusal_log.is_none_or(|at| at.elapsed() >= Duration::from_secs(10)) {
                                tracing::warn!(cap, refused = refused_since_log, "connection cap reached: closing new connections (limits.connections)");
                                last_refusal_log = Some(Instant::now());
                                refused_since_log = 0;
                            }
                        }
                    }
                }
                Err(error) if out_of_resources(&error) => {
                    if pause == FIRST_PAUSE {
                        tracing::warn!(%error, open = cap - slots.available_permits(), "cannot accept (out of file descriptors?): backing off");
                    }
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_secs(1));
                }
                Err(error) if matches!(error.kind(), io::ErrorKind::ConnectionAborted | io::ErrorKind::ConnectionReset | io::ErrorKind::Interrupted) => {}
                Err(error) => {
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_secs(1));
                }
            }
        }
    })
}
