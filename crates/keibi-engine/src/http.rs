//! keibi's HTTP endpoints: `/metrics` and `/healthz`, served by axum on a tokio
//! runtime of one thread, apart from the loop. The loop stays synchronous; the
//! handlers only read the [`metrics::Shared`] snapshot it publishes.
//!
//! The address is bound before the thread starts, so a port in use is an error of
//! `keibi run` at start, not a line in a log.

use std::net::{SocketAddr, TcpListener};
use std::thread::JoinHandle;
use std::time::Instant;

use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;

use crate::metrics::{self, Shared};

/// How long a stop waits for open connections (a client that never finishes its
/// request must not hold the daemon's exit).
const GRACE: std::time::Duration = std::time::Duration::from_secs(2);

/// The Prometheus text format's content type.
const METRICS_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Which endpoints to serve.
#[derive(Debug, Clone, Copy)]
pub struct Endpoints {
    pub metrics: bool,
    pub healthz: bool,
}

/// The running server; [`Server::stop`] ends it.
pub struct Server {
    addr: SocketAddr,
    stop: Option<tokio::sync::watch::Sender<bool>>,
    thread: Option<JoinHandle<()>>,
}

#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot start the HTTP thread: {0}")]
    Start(std::io::Error),
}

impl Server {
    /// Binds `addr` and serves `endpoints` from a new thread.
    pub fn start(
        addr: SocketAddr,
        endpoints: Endpoints,
        shared: Shared,
    ) -> Result<Server, HttpError> {
        Server::serve(addr, router(endpoints, shared))
    }

    /// Binds `addr` and serves `app` from a new thread (the push listeners' routes
    /// too: `crate::listen`).
    pub fn serve(addr: SocketAddr, app: Router) -> Result<Server, HttpError> {
        Server::serve_bounded(addr, app, None)
    }

    /// As [`Server::serve`], with at most `max_connections` open at once (more
    /// wait in the kernel's backlog) and each closed after [`IDLE`] without a
    /// byte read or written: what the push listeners take from other programs.
    pub fn serve_bounded(
        addr: SocketAddr,
        app: Router,
        max_connections: Option<usize>,
    ) -> Result<Server, HttpError> {
        let bind = |source| HttpError::Bind { addr, source };
        let listener = TcpListener::bind(addr).map_err(bind)?;
        listener.set_nonblocking(true).map_err(bind)?;
        let local = listener.local_addr().map_err(bind)?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .enable_time()
            .build()
            .map_err(HttpError::Start)?;
        let (tx, rx) = tokio::sync::watch::channel(false);
        let thread = std::thread::Builder::new()
            .name("keibi-http".into())
            .spawn(move || {
                runtime.block_on(async move {
                    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
                        return;
                    };
                    let mut stop = rx.clone();
                    let mut grace = rx;
                    let stopped = async move {
                        let _ = stop.wait_for(|s| *s).await;
                    };
                    let serve = async move {
                        match max_connections {
                            None => {
                                let _ = axum::serve(listener, app)
                                    .with_graceful_shutdown(stopped)
                                    .await;
                            }
                            Some(n) => {
                                let bounded = bounded::Bounded::new(listener, n);
                                let _ = axum::serve(bounded, app)
                                    .with_graceful_shutdown(stopped)
                                    .await;
                            }
                        }
                    };
                    // Open connections get GRACE to finish; then the runtime is
                    // dropped with them.
                    let deadline = async move {
                        let _ = grace.wait_for(|s| *s).await;
                        tokio::time::sleep(GRACE).await;
                    };
                    tokio::select! {
                        _ = serve => {}
                        _ = deadline => {}
                    }
                });
            })
            .map_err(HttpError::Start)?;
        Ok(Server {
            addr: local,
            stop: Some(tx),
            thread: Some(thread),
        })
    }

    /// The address bound (the port chosen when 0 was asked for).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops serving and waits for the thread (open connections are let finish).
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(true);
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// How long a bounded server's connection may go without a byte either way.
pub const IDLE: std::time::Duration = std::time::Duration::from_secs(60);

mod bounded {
    use std::io;
    use std::net::SocketAddr;
    use std::pin::Pin;
    use std::sync::Arc;
    use std::task::{Context, Poll};

    use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
    use tokio::net::{TcpListener, TcpStream};
    use tokio::sync::{OwnedSemaphorePermit, Semaphore};
    use tokio::time::{sleep, Instant, Sleep};

    use super::IDLE;

    /// A listener that holds a permit per open connection.
    pub struct Bounded {
        inner: TcpListener,
        permits: Arc<Semaphore>,
    }

    impl Bounded {
        pub fn new(inner: TcpListener, n: usize) -> Bounded {
            Bounded {
                inner,
                permits: Arc::new(Semaphore::new(n.max(1))),
            }
        }
    }

    impl axum::serve::Listener for Bounded {
        type Io = Guarded;
        type Addr = SocketAddr;

        async fn accept(&mut self) -> (Guarded, SocketAddr) {
            loop {
                // The semaphore is never closed.
                let Ok(permit) = self.permits.clone().acquire_owned().await else {
                    sleep(IDLE).await;
                    continue;
                };
                match self.inner.accept().await {
                    Ok((io, addr)) => {
                        return (
                            Guarded {
                                io,
                                idle: Box::pin(sleep(IDLE)),
                                _permit: permit,
                            },
                            addr,
                        )
                    }
                    // Out of file descriptors, a connection reset before accept:
                    // wait a little, as axum's own listener does.
                    Err(_) => sleep(std::time::Duration::from_millis(50)).await,
                }
            }
        }

        fn local_addr(&self) -> io::Result<SocketAddr> {
            self.inner.local_addr()
        }
    }

    /// A connection: its permit is given back when it closes; it fails after
    /// [`IDLE`] without progress.
    pub struct Guarded {
        io: TcpStream,
        idle: Pin<Box<Sleep>>,
        _permit: OwnedSemaphorePermit,
    }

    impl Guarded {
        fn progress(&mut self) {
            self.idle.as_mut().reset(Instant::now() + IDLE);
        }

        fn expired(&mut self, cx: &mut Context<'_>) -> bool {
            std::future::Future::poll(self.idle.as_mut(), cx).is_ready()
        }
    }

    fn timed_out() -> io::Error {
        io::Error::new(io::ErrorKind::TimedOut, "idle connection")
    }

    impl AsyncRead for Guarded {
        fn poll_read(
            self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &mut ReadBuf<'_>,
        ) -> Poll<io::Result<()>> {
            let me = self.get_mut();
            let before = buf.filled().len();
            match Pin::new(&mut me.io).poll_read(cx, buf) {
                Poll::Ready(r) => {
                    if buf.filled().len() > before {
                        me.progress();
                    }
                    Poll::Ready(r)
                }
                Poll::Pending if me.expired(cx) => Poll::Ready(Err(timed_out())),
                Poll::Pending => Poll::Pending,
            }
        }
    }

    impl AsyncWrite for Guarded {
        fn poll_write(
            self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<io::Result<usize>> {
            let me = self.get_mut();
            match Pin::new(&mut me.io).poll_write(cx, buf) {
                Poll::Ready(r) => {
                    me.progress();
                    Poll::Ready(r)
                }
                Poll::Pending if me.expired(cx) => Poll::Ready(Err(timed_out())),
                Poll::Pending => Poll::Pending,
            }
        }

        fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            Pin::new(&mut self.get_mut().io).poll_flush(cx)
        }

        fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
        }
    }
}

fn router(endpoints: Endpoints, shared: Shared) -> Router {
    let mut app = Router::new();
    if endpoints.metrics {
        let s = shared.clone();
        app = app.route(
            "/metrics",
            get(move || {
                let text = metrics::lock(&s).render(chrono::Utc::now());
                async move { ([(header::CONTENT_TYPE, METRICS_TYPE)], text) }
            }),
        );
    }
    if endpoints.healthz {
        let s = shared;
        app = app.route(
            "/healthz",
            get(move || {
                let (code, body) = metrics::lock(&s).healthz(Instant::now(), chrono::Utc::now());
                async move {
                    (
                        StatusCode::from_u16(code).unwrap_or(StatusCode::SERVICE_UNAVAILABLE),
                        [(header::CONTENT_TYPE, "application/json")],
                        body,
                    )
                        .into_response()
                }
            }),
        );
    }
    app
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::sync::{Arc, Mutex};

    fn get(addr: SocketAddr, path: &str) -> String {
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        write!(
            s,
            "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        out
    }

    #[test]
    fn serves_metrics_and_health_and_stops() {
        let shared: Shared = Arc::new(Mutex::new(metrics::Metrics::new(vec!["a.log".into()])));
        let server = Server::start(
            "127.0.0.1:0".parse().unwrap(),
            Endpoints {
                metrics: true,
                healthz: true,
            },
            shared.clone(),
        )
        .unwrap();
        let addr = server.addr();
        assert_ne!(addr.port(), 0);
        let r = get(addr, "/healthz");
        assert!(r.starts_with("HTTP/1.1 503"), "{r}");
        metrics::lock(&shared).last_round = Some(Instant::now());
        let r = get(addr, "/healthz");
        assert!(r.starts_with("HTTP/1.1 200"), "{r}");
        let r = get(addr, "/metrics");
        assert!(r.starts_with("HTTP/1.1 200"), "{r}");
        assert!(r.contains("content-type: text/plain; version=0.0.4"), "{r}");
        assert!(
            r.contains("keibi_events_read_total{source=\"a.log\"} 0"),
            "{r}"
        );
        assert!(get(addr, "/nope").starts_with("HTTP/1.1 404"));
        // The port is taken while it runs, and free once stopped.
        assert!(matches!(
            Server::start(
                addr,
                Endpoints {
                    metrics: true,
                    healthz: true
                },
                shared.clone()
            ),
            Err(HttpError::Bind { .. })
        ));
        // A client that never finishes its request does not hold the stop.
        let mut slow = std::net::TcpStream::connect(addr).unwrap();
        slow.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(100));
        let t = Instant::now();
        server.stop();
        assert!(t.elapsed() < GRACE * 3, "{:?}", t.elapsed());
        assert!(std::net::TcpStream::connect(addr).is_err());
    }

    #[test]
    fn a_bounded_server_serves_so_many_connections_at_once() {
        let shared: Shared = Arc::new(Mutex::new(metrics::Metrics::new(vec![])));
        let app = router(
            Endpoints {
                metrics: false,
                healthz: true,
            },
            shared,
        );
        let server = Server::serve_bounded("127.0.0.1:0".parse().unwrap(), app, Some(2)).unwrap();
        let addr = server.addr();
        // Two idle connections hold both places.
        let a = std::net::TcpStream::connect(addr).unwrap();
        let _b = std::net::TcpStream::connect(addr).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(200));
        let mut c = std::net::TcpStream::connect(addr).unwrap();
        c.set_read_timeout(Some(std::time::Duration::from_millis(500)))
            .unwrap();
        write!(
            c,
            "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut out = String::new();
        assert!(
            c.read_to_string(&mut out).is_err() && out.is_empty(),
            "a third connection was served: {out}"
        );
        // One closes: the waiting one is served.
        drop(a);
        c.set_read_timeout(Some(std::time::Duration::from_secs(30)))
            .unwrap();
        c.read_to_string(&mut out).unwrap();
        assert!(out.starts_with("HTTP/1.1 503"), "{out}");
    }

    #[test]
    fn a_disabled_endpoint_is_not_found() {
        let shared: Shared = Arc::new(Mutex::new(metrics::Metrics::new(vec![])));
        let server = Server::start(
            "127.0.0.1:0".parse().unwrap(),
            Endpoints {
                metrics: false,
                healthz: true,
            },
            shared,
        )
        .unwrap();
        assert!(get(server.addr(), "/metrics").starts_with("HTTP/1.1 404"));
    }
}
