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
                    let serve = axum::serve(listener, app).with_graceful_shutdown(async move {
                        let _ = stop.wait_for(|s| *s).await;
                    });
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
