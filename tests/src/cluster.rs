//! A consortium's cluster of member-node processes on 127.0.0.1: the genesis written for them, each
//! member's node started at its peer address, and the questions tests ask of them (who leads, where
//! each stands).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use ebl_core::{Hash, PartyKey, SigningKey};
use serde_json::Value;

use crate::{bin, run, Http, NodeProcess};

pub use crate::ports::free_port;

/// Member nodes of one chain. Member 0's admin is `operator` (testkit key 1); unless a test asks for
/// more, the threshold is 1, so it can admit parties with one signature (governance by several is the
/// consortium flow's and the cluster trade's).
#[derive(Debug)]
pub struct Members {
    pub dir: tempfile::TempDir,
    pub nodes: Vec<NodeProcess>,
    /// The peer addresses the genesis names.
    pub addresses: Vec<String>,
    /// Where each node listens: its peer address, or (behind a proxy) the address the proxy passes to.
    pub listens: Vec<String>,
    /// The fault-injecting proxies at the peer addresses, when the cluster runs behind them.
    pub proxies: Vec<crate::proxy::Proxy>,
    /// Each member's node key (hex).
    pub node_keys: Vec<String>,
    pub chain: Hash,
    pub operator: SigningKey,
    pub genesis: PathBuf,
    /// The delaying relays at the peer addresses, when the members run on hosts of their own.
    pub relays: Vec<crate::relay::Relay>,
    /// The members' hosts, removed after the nodes are stopped (fields drop in order).
    pub hosts: Option<crate::hosts::Hosts>,
}

/// Where one member's node listens, the peer address its genesis names, and the host it runs on.
#[derive(Debug, Clone)]
struct Place {
    listen: String,
    address: String,
    namespace: Option<String>,
}

impl Members {
    pub fn start(count: usize) -> Members {
        Members::start_with(count, &[])
    }

    /// Member nodes each run with `run_args` added to `ebl-node run`.
    pub fn start_with(count: usize, run_args: &[&str]) -> Members {
        Members::start_governed(count, 1, run_args)
    }

    /// Members whose governance (and finality) threshold is `threshold`; member `i > 0`'s admin is
    /// testkit key `40 + i`.
    pub fn start_governed(count: usize, threshold: u16, run_args: &[&str]) -> Members {
        Members::launch(count, threshold, run_args, false)
    }

    /// Members whose peer addresses are fault-injecting proxies in front of their nodes.
    pub fn start_proxied(count: usize) -> Members {
        Members::launch(count, 1, &[], true)
    }

    /// Members whose nodes serve TLS with development certificates and call each other over https,
    /// each trusting the members' certificates alone (`tls/peers.pem`).
    pub fn start_over_tls(count: usize) -> Members {
        Members::launch_with(count, 1, &[], false, true)
    }

    fn launch(count: usize, threshold: u16, run_args: &[&str], proxied: bool) -> Members {
        Members::launch_with(count, threshold, run_args, proxied, false)
    }

    /// Members whose genesis, data directories and nodes are made by the `ebl-node` at `binary` (an
    /// earlier release's, for a rolling upgrade), governed by `threshold` admins.
    pub fn start_release(count: usize, threshold: u16, binary: &std::path::Path) -> Members {
        Members::launch_by(binary, count, threshold, &[], false, false)
    }

    fn launch_with(
        count: usize,
        threshold: u16,
        run_args: &[&str],
        proxied: bool,
        tls: bool,
    ) -> Members {
        Members::launch_by(&bin("ebl-node"), count, threshold, run_args, proxied, tls)
    }

    fn launch_by(
        binary: &std::path::Path,
        count: usize,
        threshold: u16,
        run_args: &[&str],
        proxied: bool,
        tls: bool,
    ) -> Members {
        let mut proxies = Vec::new();
        let places = (0..count)
            .map(|_| {
                let listen = format!("127.0.0.1:{}", free_port());
                let address = if proxied {
                    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("proxy port");
                    let proxy = crate::proxy::Proxy::start(listener, listen.clone());
                    let address = proxy.address.clone();
                    proxies.push(proxy);
                    address
                } else {
                    listen.clone()
                };
                Place {
                    listen,
                    address,
                    namespace: None,
                }
            })
            .collect();
        let mut members = Members::launch_at(binary, places, threshold, run_args, tls);
        members.proxies = proxies;
        members
    }

    /// Members on the first `founding` of `hosts`, one each, every link between two hosts delayed by a
    /// relay: `round_trip(i, j)` is the round trip between hosts i and j, `jitter` the most added to
    /// each one-way delay. The hosts past `founding` have their relays, for members that join later
    /// ([`Members::join_on_host`]). Each node runs `ebl-node run` with `run_args` (plain HTTP: the hosts
    /// are the tests' own).
    pub fn start_on_hosts(
        hosts: crate::hosts::Hosts,
        founding: usize,
        round_trip: impl Fn(usize, usize) -> Duration,
        jitter: Duration,
        run_args: &[&str],
    ) -> Members {
        Members::start_on_hosts_by(
            &bin("ebl-node"),
            hosts,
            founding,
            round_trip,
            jitter,
            run_args,
        )
    }

    /// [`Members::start_on_hosts`] running the `ebl-node` at `binary` (the benchmark's release build).
    pub fn start_on_hosts_by(
        binary: &std::path::Path,
        hosts: crate::hosts::Hosts,
        founding: usize,
        round_trip: impl Fn(usize, usize) -> Duration,
        jitter: Duration,
        run_args: &[&str],
    ) -> Members {
        let count = hosts.names.len();
        let mut relays = Vec::new();
        let mut places = Vec::new();
        for j in 0..count {
            let place = Members::place_on(&hosts, j);
            let links = crate::relay::Links {
                one_way: (0..count)
                    .filter(|i| *i != j)
                    .map(|i| (hosts.source(i), round_trip(i, j) / 2))
                    .collect(),
                jitter,
            };
            let at: std::net::SocketAddr = place.address.parse().expect("relay address");
            let listen = place.listen.parse().expect("listen address");
            let listener = std::net::TcpListener::bind(at).expect("relay address");
            relays.push(crate::relay::Relay::start(listener, listen, links));
            places.push(place);
        }
        places.truncate(founding);
        let mut args = vec!["--insecure-plain-http"];
        args.extend_from_slice(run_args);
        let mut members = Members::launch_at(binary, places, 1, &args, false);
        members.relays = relays;
        members.hosts = Some(hosts);
        members
    }

    /// Where the node on host `j` listens and is reached by its peers (its relay).
    fn place_on(hosts: &crate::hosts::Hosts, j: usize) -> Place {
        Place {
            listen: std::net::SocketAddr::from((hosts.addresses[j], crate::hosts::NODE_PORT))
                .to_string(),
            address: std::net::SocketAddr::from((hosts.peer_addresses[j], crate::hosts::NODE_PORT))
                .to_string(),
            namespace: Some(hosts.names[j].clone()),
        }
    }

    /// Submits `tx` to the running nodes in turn, starting at `first`, until one acknowledges it
    /// (accepted, or a duplicate of an earlier acknowledgement) or `limit` passes; a refusal by a rule
    /// is a bug of the caller's, and panics.
    pub fn submit_somewhere(
        &self,
        first: usize,
        tx: &ebl_core::SignedTransaction,
        limit: Duration,
    ) -> Option<Hash> {
        let deadline = Instant::now() + limit;
        let mut i = first;
        while Instant::now() < deadline {
            let at = i % self.nodes.len();
            if self.nodes[at].is_running() {
                match self.http(at).submit(tx) {
                    Ok(ebl_core::api::SubmitOutcome::Accepted { id, .. })
                    | Ok(ebl_core::api::SubmitOutcome::Duplicate { id, .. }) => return Some(id),
                    Ok(ebl_core::api::SubmitOutcome::Rejected { error, .. }) => {
                        panic!("refused by a rule: {} {}", error.code, error.message)
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(20)),
                }
            }
            i += 1;
        }
        None
    }

    /// Waits until the leader counts `voters` voters and every node stands on one head (a member that
    /// joined has caught up and votes); panics after `limit`, with the newest node's view.
    pub fn await_voters(&self, voters: usize, limit: Duration) {
        let deadline = Instant::now() + limit;
        loop {
            let counted = (0..self.nodes.len())
                .filter_map(|i| self.view(i))
                .find(|v| v["role"] == "leader")
                .and_then(|v| v["voters"].as_array().map(Vec::len));
            if counted == Some(voters) && self.converged(Duration::from_secs(1)).is_some() {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the leader never counted {voters} voters on one head: {counted:?}; the newest node: {:?}",
                self.view(self.nodes.len() - 1)
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// The peer address a member on host `j` is to give governance (its relay's).
    pub fn peer_address_on_host(&self, j: usize) -> String {
        Members::place_on(self.hosts.as_ref().expect("members on hosts"), j).address
    }

    /// A new node on host `j` for a member governance admitted with `node_key` (its data directory
    /// `data`, made by `NodeProcess::node_key`): `ebl-node init --genesis --join`, then started with
    /// `run_args`; from now on it is member node `self.nodes.len()` of these.
    pub fn join_on_host(&mut self, j: usize, data: &std::path::Path, run_args: &[&str]) {
        let place = Members::place_on(self.hosts.as_ref().expect("members on hosts"), j);
        let data_arg = data.to_string_lossy().into_owned();
        let genesis = self.genesis.to_string_lossy().into_owned();
        crate::run(
            &bin("ebl-node"),
            &["init", "--genesis", &genesis, "--join", "--data", &data_arg],
            &[],
        )
        .ok();
        let mut node = NodeProcess::stopped(data, &place.listen);
        node.namespace = place.namespace.clone();
        node.run_args.push("--insecure-plain-http".into());
        node.run_args
            .extend(run_args.iter().map(|a| (*a).to_owned()));
        node.start();
        self.node_keys.push(NodeProcess::node_key(data));
        self.nodes.push(node);
        self.addresses.push(place.address);
        self.listens.push(place.listen);
    }

    fn launch_at(
        binary: &std::path::Path,
        places: Vec<Place>,
        threshold: u16,
        run_args: &[&str],
        tls: bool,
    ) -> Members {
        let count = places.len();
        let dir = tempfile::tempdir().expect("temp dir");
        let operator = ebl_core::testkit::key(1);
        let mut members = Vec::new();
        let mut addresses = Vec::new();
        let mut listens = Vec::new();
        let mut node_keys = Vec::new();
        for (i, place) in places.iter().enumerate() {
            let data = dir.path().join(format!("node-{i}"));
            let node_key = NodeProcess::node_key_by(binary, &data);
            let admin = if i == 0 {
                PartyKey::of(&operator)
            } else {
                PartyKey::of(&ebl_core::testkit::key(
                    40 + u8::try_from(i).expect("a few members"),
                ))
            };
            members.push(format!("Member {i},{admin},{node_key},{}", place.address));
            node_keys.push(node_key);
            addresses.push(place.address.clone());
            listens.push(place.listen.clone());
        }
        let genesis = dir.path().join("genesis.json");
        let mut args = vec!["genesis".to_owned()];
        for m in &members {
            args.push("--member".into());
            args.push(m.clone());
        }
        args.extend(["--threshold".to_owned(), threshold.to_string()]);
        args.extend(["--chain-name", "cluster", "-o"].map(str::to_owned));
        args.push(genesis.to_string_lossy().into_owned());
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        run(binary, &args, &[]).ok();
        let datas: Vec<PathBuf> = (0..count)
            .map(|i| dir.path().join(format!("node-{i}")))
            .collect();
        for data in &datas {
            let genesis = genesis.to_string_lossy();
            let data = data.to_string_lossy();
            let mut init = vec!["init", "--genesis", &genesis, "--data", &data];
            if tls {
                init.push("--tls-self-signed");
            }
            run(binary, &init, &[]).ok();
        }
        if tls {
            let certs: Vec<u8> = datas
                .iter()
                .flat_map(|d| std::fs::read(d.join("tls").join("cert.pem")).expect("cert"))
                .collect();
            for data in &datas {
                std::fs::write(data.join("tls").join("peers.pem"), &certs).expect("peers.pem");
            }
        }
        let nodes = (0..count)
            .map(|i| {
                let data = &datas[i];
                let mut node = NodeProcess::of_binary(binary, data, &listens[i]);
                node.namespace = places[i].namespace.clone();
                node.run_args
                    .extend(run_args.iter().map(|a| (*a).to_owned()));
                node.start();
                node
            })
            .collect::<Vec<_>>();
        let view = Http::trusting(&nodes[0].url, Hash::ZERO, nodes[0].cert().as_deref())
            .get("/v1/genesis")
            .expect("genesis")
            .1;
        let chain = view["chain"]
            .as_str()
            .and_then(|c| c.parse().ok())
            .expect("chain id");
        Members {
            dir,
            nodes,
            addresses,
            listens,
            proxies: Vec::new(),
            node_keys,
            chain,
            operator,
            genesis,
            relays: Vec::new(),
            hosts: None,
        }
    }

    pub fn http(&self, i: usize) -> Http {
        let cert = self.nodes[i].cert();
        let scheme = if cert.is_some() { "https" } else { "http" };
        Http::trusting(
            &format!("{scheme}://{}", self.listens[i]),
            self.chain,
            cert.as_deref(),
        )
    }

    /// Cuts node `i` off from the other nodes, both ways (clients still reach it at its listen address),
    /// or heals the cut. Only for a cluster started behind proxies.
    pub fn isolate(&self, i: usize, on: bool) {
        self.proxies[i].cut(on);
        for (j, proxy) in self.proxies.iter().enumerate() {
            if j != i {
                proxy.refuse_sender(&self.node_keys[i], on);
            }
        }
    }

    /// Cuts node `i` off from the others as a network that drops packets does (`on`), or heals it: what
    /// is sent to it is held unanswered, what it sends is refused.
    pub fn hold(&self, i: usize, on: bool) {
        self.proxies[i].hold(on);
        for (j, proxy) in self.proxies.iter().enumerate() {
            if j != i {
                proxy.refuse_sender(&self.node_keys[i], on);
            }
        }
    }

    /// `GET /v1/cluster` of node `i`, if it answers.
    pub fn view(&self, i: usize) -> Option<Value> {
        if !self.nodes[i].is_running() {
            return None;
        }
        match self.http(i).get("/v1/cluster") {
            Ok((200, v)) => Some(v),
            _ => None,
        }
    }

    /// The running node that leads, once every running node knows it (and they are a majority), within
    /// `limit`.
    pub fn leader(&self, limit: Duration) -> Option<usize> {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            let views: Vec<(usize, Value)> = (0..self.nodes.len())
                .filter_map(|i| self.view(i).map(|v| (i, v)))
                .collect();
            let leader = views.iter().find(|(_, v)| v["role"] == "leader");
            if let Some((i, lv)) = leader {
                let agreed = views
                    .iter()
                    .filter(|(_, v)| v["leader"] == lv["id"])
                    .count();
                if agreed == views.len() && agreed * 2 > self.nodes.len() {
                    return Some(*i);
                }
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }

    /// Node `i`'s head: (height, block hash, transactions).
    pub fn head(&self, i: usize) -> Option<(u64, String, u64)> {
        let (status, head) = self.http(i).get("/v1/head").ok()?;
        (status == 200).then(|| {
            (
                head["height"].as_u64().unwrap_or(0),
                head["block"].as_str().unwrap_or("").to_owned(),
                head["transactions"].as_u64().unwrap_or(0),
            )
        })
    }

    /// Waits until every running node stands on the same head, and returns it.
    pub fn converged(&self, limit: Duration) -> Option<(u64, String, u64)> {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            let heads: Vec<_> = (0..self.nodes.len())
                .filter(|i| self.nodes[*i].is_running())
                .map(|i| self.head(i))
                .collect();
            if let Some(Some(first)) = heads.first() {
                if heads.iter().all(|h| h.as_ref() == Some(first)) {
                    return Some(first.clone());
                }
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }
}
