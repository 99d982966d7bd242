//! A node served from a thread of this process on 127.0.0.1:0: for the demo, tests and benchmarks.

use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use ebl_store::{Kv, LedgerStore};
use tokio::sync::oneshot;

use crate::node::{DataDir, NodeError, Settings};

/// Runs until dropped (or stopped), then shuts down gracefully.
#[derive(Debug)]
pub struct LocalNode {
    /// Where its API answers (`http://127.0.0.1:PORT`).
    pub url: String,
    /// The Prometheus metrics, on a listener of their own.
    pub metrics_url: String,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<Result<(), NodeError>>>,
}

impl LocalNode {
    /// Serves the sled store in `dir` with its node key and its PINT trust store, as `ebl-node run` does.
    pub fn open(dir: &DataDir, settings: Settings) -> Result<LocalNode, NodeError> {
        LocalNode::serve(crate::node::open_with(dir, settings)?)
    }

    /// Serves `store` from a new thread with its own runtime (receiving no PINT transfers).
    pub fn launch<K: Kv>(
        store: LedgerStore<K>,
        node_key: ebl_core::SigningKey,
        settings: Settings,
    ) -> Result<LocalNode, NodeError> {
        LocalNode::serve(crate::node::start_with(store, node_key, settings)?)
    }

    /// Serves a started node from a new thread with its own runtime.
    pub fn serve<K: Kv>(running: crate::node::Running<K>) -> Result<LocalNode, NodeError> {
        let (address, announced) = mpsc::channel();
        let (stop, stopped) = oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("local-node".into())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                    .map_err(|e| NodeError::io("starting the local node's runtime", e))?;
                runtime.block_on(async move {
                    let bound = |e| NodeError::io("binding 127.0.0.1", e);
                    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                        .await
                        .map_err(bound)?;
                    let metrics = tokio::net::TcpListener::bind("127.0.0.1:0")
                        .await
                        .map_err(bound)?;
                    let addrs = (
                        listener.local_addr().map_err(bound)?,
                        metrics.local_addr().map_err(bound)?,
                    );
                    let _ = address.send(addrs);
                    crate::node::serve(listener, Some(metrics), running, None, async move {
                        let _ = stopped.await;
                    })
                    .await
                })
            })
            .map_err(|e| NodeError::io("starting the local node's thread", e))?;
        let (addr, metrics) = announced
            .recv_timeout(Duration::from_secs(10))
            .map_err(|_| NodeError::Thread("the local node did not start"))?;
        Ok(LocalNode {
            url: format!("http://{addr}"),
            metrics_url: format!("http://{metrics}/metrics"),
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// Graceful stop: in-flight commits finish and the store is closed.
    pub fn stop(&mut self) -> Result<(), NodeError> {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        match self.thread.take() {
            Some(t) => t.join().map_err(|_| NodeError::Thread("it panicked"))?,
            None => Ok(()),
        }
    }
}

impl Drop for LocalNode {
    fn drop(&mut self) {
        let _ = self.stop();
    }
}
