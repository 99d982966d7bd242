//! `ebl-node run`: the node served until a signal stops it.

use std::io::Write;
use std::net::SocketAddr;

use anyhow::Context;
use ebl_core::PartyKey;
use ebl_node::DataDir;

use crate::cli::RunArgs;
use crate::init::init;
use crate::say;

/// Where a node listens when not told: a cluster member where the other members reach it (its peer
/// address in the genesis), the one-member chain's node on the usual local port.
pub(crate) fn default_listen(dir: &DataDir) -> anyhow::Result<SocketAddr> {
    let local = SocketAddr::from(([127, 0, 0, 1], 7878));
    let store = ebl_store::LedgerStore::new(ebl_store::SledKv::open(&dir.store())?);
    let Some(genesis) = store.genesis()? else {
        return Ok(local);
    };
    if genesis.members.len() < 2 {
        return Ok(local);
    }
    let key = ebl_node::node_key(dir)?;
    if let Some(grant) = ebl_node::node::follow_grant(dir)? {
        // An auditor's node serves where its grant says the leader reaches it.
        return grant.body.peer_address.parse().with_context(|| {
            format!(
                "the grant's peer address {:?} is not HOST:PORT",
                grant.body.peer_address
            )
        });
    }
    let Some(member) = genesis.member_by_node(&PartyKey::of(&key)) else {
        // A node that joins after the genesis (`init --join`) learns its admission only from the
        // others: where it serves them is what governance admitted it with.
        if dir.join_marker().exists() {
            anyhow::bail!(
                "this node joins the consortium after its genesis: give --listen HOST:PORT, the peer address its member was admitted with (`ebl gov add-member --peer`)"
            );
        }
        anyhow::bail!("this node key is not a member's node key in the genesis");
    };
    member.peer_address.parse().with_context(|| {
        format!(
            "the genesis's peer address {:?} is not HOST:PORT",
            member.peer_address
        )
    })
}

pub(crate) fn run(dir: &DataDir, args: RunArgs) -> anyhow::Result<()> {
    let limits = ebl_node::listener::ConnectionLimits {
        max: args.connections_max,
        per_address_max: args.connections_per_address_max,
        idle_ms: args.idle_timeout_ms,
    };
    let timing = ebl_consensus::cluster::Timing {
        snapshot_entries: args.raft_snapshot_entries.max(1),
        keep_entries: args.raft_keep_entries,
        ..ebl_consensus::cluster::Timing::for_round_trip(args.round_trip_ms)
    };
    let metrics_listen = args.metrics_listen;
    // Everything that can be refused is checked before anything is made: a busy port or a bad
    // certificate must not leave a new ledger behind.
    let (cert, key) = match (args.tls_cert, args.tls_key) {
        (Some(cert), Some(key)) => (Some(cert), Some(key)),
        _ if dir.tls_cert().exists() => (Some(dir.tls_cert()), Some(dir.tls_key())),
        _ => (None, None),
    };
    let tls = match (cert, key) {
        (Some(cert), Some(key)) => Some(ebl_node::tls::server_config(&cert, &key)?),
        _ => None,
    };
    let fresh = !dir.store().exists();
    let listen = match args.listen {
        Some(listen) => listen,
        None if fresh => SocketAddr::from(([127, 0, 0, 1], 7878)),
        None => default_listen(dir)?,
    };
    if tls.is_none() {
        ebl_node::tls::check_plain(listen, args.insecure_plain_http)?;
    }
    let bound =
        std::net::TcpListener::bind(listen).with_context(|| format!("listening on {listen}"))?;
    bound.set_nonblocking(true)?;
    if fresh {
        tracing::info!(dir = %dir.0.display(), "no ledger here yet: initializing a development ledger");
        init(dir, "ebl-dev", None, ebl_pint::PLATFORM_CODE_DEFAULT)?;
    }
    let scheme = if tls.is_some() { "https" } else { "http" };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let settings = ebl_node::Settings {
            connections_max: limits.max.max(1),
            connections_per_address_max: limits.per_address_max.max(1),
            connection_idle_ms: limits.idle_ms.max(1),
            header_read_ms: args.header_timeout_ms.max(1),
            ..ebl_node::Settings::default()
        };
        let running = ebl_node::node::open_member(dir, settings, timing).await?;
        let listener = tokio::net::TcpListener::from_std(bound)?;
        let chain = running
            .app
            .published
            .read()
            .map(|p| p.ledger.chain_id())
            .unwrap_or_default();
        tracing::info!(address = %listener.local_addr()?, %chain, "serving");
        let metrics = tokio::net::TcpListener::bind(metrics_listen)
            .await
            .with_context(|| format!("serving metrics on {metrics_listen}"))?;
        // One line, printed for scripts that start the node on port 0 and need to know where it is.
        say!(
            "listening on {scheme}://{} metrics on http://{}/metrics",
            listener.local_addr()?,
            metrics.local_addr()?
        );
        let _ = std::io::stdout().flush();
        // For `ebl-node verify` beside this node: where to ask (a wildcard address is asked on loopback).
        let mut own = listener.local_addr()?;
        if own.ip().is_unspecified() {
            own.set_ip(match own {
                SocketAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
                SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
            });
        }
        std::fs::write(dir.listening(), format!("{scheme}://{own}\n"))
            .with_context(|| format!("writing {}", dir.listening().display()))?;
        let served =
            ebl_node::serve(listener, Some(metrics), running, tls, shutdown_signal()).await;
        let _ = std::fs::remove_file(dir.listening());
        served?;
        tracing::info!("stopped; every acknowledged transaction is on disk");
        Ok(())
    })
}

pub(crate) async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = interrupt => {},
                    _ = term.recv() => {},
                }
            }
            Err(_) => {
                let _ = interrupt.await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
    tracing::info!("shutting down: finishing in-flight commits");
}
