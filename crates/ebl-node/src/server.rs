//! The API's connection loop: hyper with a header-read timeout, over TLS when the node has a
//! certificate, on the connection-limiting listener; `axum::serve` offers neither timeout nor TLS.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;

use crate::listener::LimitedListener;

/// How the node's connections are served.
#[derive(Debug, Clone)]
pub(crate) struct Transport {
    /// The certificate and key the node presents; `None` serves plain HTTP (loopback, or when the
    /// operator said so).
    pub tls: Option<Arc<rustls::ServerConfig>>,
    /// How long a client has to send a whole request header (and, over TLS, to finish its
    /// handshake), from the connection's start or from the end of its previous request.
    pub header_read_ms: u64,
}

/// Accepts connections until `shutdown` resolves, then waits for the requests in flight (at most
/// `drain_ms`) and returns.
pub(crate) async fn serve_connections(
    mut listener: LimitedListener,
    router: axum::Router,
    transport: Transport,
    drain_ms: u64,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let graceful = GracefulShutdown::new();
    let acceptor = transport.tls.map(tokio_rustls::TlsAcceptor::from);
    let header_read = Duration::from_millis(transport.header_read_ms.max(1));
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, _address) = tokio::select! {
            accepted = axum::serve::Listener::accept(&mut listener) => accepted,
            () = &mut shutdown => break,
        };
        let watcher = graceful.watcher();
        let service = TowerToHyperService::new(router.clone());
        let acceptor = acceptor.clone();
        tokio::spawn(async move {
            let mut http = hyper::server::conn::http1::Builder::new();
            http.timer(TokioTimer::new())
                .header_read_timeout(header_read)
                .keep_alive(true);
            match acceptor {
                None => {
                    let connection = http.serve_connection(TokioIo::new(stream), service);
                    if let Err(e) = watcher.watch(connection).await {
                        tracing::debug!(error = %e, "connection ended with an error");
                    }
                }
                Some(acceptor) => {
                    // The handshake counts against the same clock as a header: a client that opens
                    // TLS and stops holds its connection no longer than one that stops mid-header.
                    let stream = match tokio::time::timeout(header_read, acceptor.accept(stream))
                        .await
                    {
                        Ok(Ok(stream)) => stream,
                        Ok(Err(e)) => {
                            tracing::debug!(error = %e, "TLS handshake failed");
                            return;
                        }
                        Err(_) => {
                            tracing::debug!("TLS handshake took longer than the header timeout");
                            return;
                        }
                    };
                    let connection = http.serve_connection(TokioIo::new(stream), service);
                    if let Err(e) = watcher.watch(connection).await {
                        tracing::debug!(error = %e, "connection ended with an error");
                    }
                }
            }
        });
    }
    drop(listener);
    if tokio::time::timeout(Duration::from_millis(drain_ms), graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("requests still open at shutdown were cut off after {drain_ms} ms");
    }
}
