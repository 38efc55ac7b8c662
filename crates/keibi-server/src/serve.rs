//! Serving the dashboard: a thread of its own with a tokio runtime of one thread
//! (as keibi-engine's `/metrics`), over plain HTTP or HTTPS (rustls on aws-lc-rs).
//! The address is bound by the caller before the thread starts ([`bind`]), so a
//! port in use is an error at start; [`crate::security::check_bind`] decides first
//! whether the address may be served as configured.

use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use axum::extract::connect_info::Connected;
use axum::serve::IncomingStream;
use axum::Router;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::server::TlsStream;

use crate::auth::Peer;
use crate::ServerError;

/// How long a stop waits for open connections.
const GRACE: Duration = Duration::from_secs(2);

/// How long a TLS handshake may take.
const HANDSHAKE: Duration = Duration::from_secs(10);

/// TLS handshakes in progress at once; more connections wait to be accepted.
const HANDSHAKES: usize = 64;

/// A certificate chain and its key, PEM files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// Reads the PEM files into a server configuration (TLS 1.2 and 1.3, aws-lc-rs).
pub fn tls_config(files: &TlsFiles) -> Result<Arc<rustls::ServerConfig>, ServerError> {
    let bad = |what: &PathBuf, e: &dyn std::fmt::Display| {
        ServerError::Invalid(format!("{}: {e}", what.display()))
    };
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&files.cert)
        .map_err(|e| bad(&files.cert, &e))?
        .collect::<Result<_, _>>()
        .map_err(|e| bad(&files.cert, &e))?;
    if certs.is_empty() {
        return Err(bad(&files.cert, &"no certificate in this PEM file"));
    }
    let key = PrivateKeyDer::from_pem_file(&files.key).map_err(|e| bad(&files.key, &e))?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ServerError::Invalid(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| bad(&files.key, &e))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Binds `addr` (before the serving thread starts).
pub fn bind(addr: SocketAddr) -> Result<std::net::TcpListener, ServerError> {
    let e = |source: io::Error| ServerError::Invalid(format!("cannot listen on {addr}: {source}"));
    let l = std::net::TcpListener::bind(addr).map_err(e)?;
    l.set_nonblocking(true).map_err(e)?;
    Ok(l)
}

/// The running dashboard; [`Dashboard::stop`] (or dropping it) ends it.
pub struct Dashboard {
    addr: SocketAddr,
    tls: bool,
    stop: Option<tokio::sync::watch::Sender<bool>>,
    thread: Option<JoinHandle<()>>,
}

impl Dashboard {
    /// Serves `app` on `listener` from a new thread, over TLS when `tls` is given.
    pub fn start(
        listener: std::net::TcpListener,
        app: Router,
        tls: Option<Arc<rustls::ServerConfig>>,
    ) -> Result<Dashboard, ServerError> {
        let start = |e: io::Error| ServerError::Invalid(format!("cannot start the dashboard: {e}"));
        let addr = listener.local_addr().map_err(start)?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .enable_time()
            .build()
            .map_err(start)?;
        let (tx, rx) = tokio::sync::watch::channel(false);
        let is_tls = tls.is_some();
        // Over HTTPS, browsers are told to come back only over HTTPS.
        let app = if is_tls {
            app.layer(axum::middleware::map_response(hsts))
        } else {
            app
        };
        let thread = std::thread::Builder::new()
            .name("keibi-dashboard".into())
            .spawn(move || {
                runtime.block_on(async move {
                    let Ok(listener) = TcpListener::from_std(listener) else {
                        return;
                    };
                    let mut stop = rx.clone();
                    let mut grace = rx;
                    let stopped = async move {
                        let _ = stop.wait_for(|s| *s).await;
                    };
                    let make = app.into_make_service_with_connect_info::<Peer>();
                    let serve = async move {
                        match tls {
                            None => {
                                let _ = axum::serve(listener, make)
                                    .with_graceful_shutdown(stopped)
                                    .await;
                            }
                            Some(config) => {
                                let l = TlsListener::new(listener, config);
                                let _ = axum::serve(l, make).with_graceful_shutdown(stopped).await;
                            }
                        }
                    };
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
            .map_err(start)?;
        Ok(Dashboard {
            addr,
            tls: is_tls,
            stop: Some(tx),
            thread: Some(thread),
        })
    }

    /// The address bound (the port chosen when 0 was asked for).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR` or `https://ADDR`.
    pub fn url(&self) -> String {
        url_of(self.addr, self.tls)
    }

    /// Stops serving and waits for the thread.
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

impl Drop for Dashboard {
    fn drop(&mut self) {
        self.shutdown();
    }
}

async fn hsts(mut res: axum::response::Response) -> axum::response::Response {
    res.headers_mut().insert(
        axum::http::header::STRICT_TRANSPORT_SECURITY,
        axum::http::HeaderValue::from_static("max-age=31536000"),
    );
    res
}

/// The URL of an address: `http://127.0.0.1:9717`, `https://[::1]:9717`; an
/// unspecified address (`0.0.0.0`) is named as loopback.
pub fn url_of(addr: SocketAddr, tls: bool) -> String {
    let mut a = addr;
    if a.ip().is_unspecified() {
        a.set_ip(match a.ip() {
            std::net::IpAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
            std::net::IpAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
        });
    }
    format!("{}://{a}", if tls { "https" } else { "http" })
}

impl Connected<IncomingStream<'_, TcpListener>> for Peer {
    fn connect_info(stream: IncomingStream<'_, TcpListener>) -> Peer {
        Peer(*stream.remote_addr())
    }
}

impl Connected<IncomingStream<'_, TlsListener>> for Peer {
    fn connect_info(stream: IncomingStream<'_, TlsListener>) -> Peer {
        Peer(*stream.remote_addr())
    }
}

/// Accepts TCP connections and hands over those whose TLS handshake completed
/// (each on a task of its own, within [`HANDSHAKE`]), so a slow client holds no
/// one else up.
pub struct TlsListener {
    rx: tokio::sync::mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    local: SocketAddr,
}

impl TlsListener {
    fn new(listener: TcpListener, config: Arc<rustls::ServerConfig>) -> TlsListener {
        let local = listener
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0)));
        let (tx, rx) = tokio::sync::mpsc::channel(HANDSHAKES);
        let acceptor = tokio_rustls::TlsAcceptor::from(config);
        let permits = Arc::new(tokio::sync::Semaphore::new(HANDSHAKES));
        tokio::spawn(async move {
            loop {
                let Ok(permit) = permits.clone().acquire_owned().await else {
                    return;
                };
                let (tcp, addr) = match listener.accept().await {
                    Ok(c) => c,
                    Err(_) => {
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let acceptor = acceptor.clone();
                let handed = tx.clone();
                tokio::spawn(async move {
                    let shake = tokio::time::timeout(HANDSHAKE, acceptor.accept(tcp)).await;
                    drop(permit);
                    if let Ok(Ok(tls)) = shake {
                        let _ = handed.send((tls, addr)).await;
                    }
                });
                if tx.is_closed() {
                    return;
                }
            }
        });
        TlsListener { rx, local }
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.rx.recv().await {
            Some(c) => c,
            // The accepting task ended: nothing more comes.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        Ok(self.local)
    }
}
