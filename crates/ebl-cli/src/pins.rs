//! The chains a wallet trusts: pinned by chain id, the first time the wallet talks to a node (trust on
//! first use), or by hand. Bundles, offers and statements from any other chain are refused.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ebl_core::{ChainId, Error, Genesis};
use serde::{Deserialize, Serialize};

use crate::error::{CliError, Kind, Result};

/// The pins file of a wallet home.
pub const PINS_FILE: &str = "chains.json";
/// Largest pins file read.
pub const PINS_BYTES_MAX: usize = 1024 * 1024;

/// One pinned chain: its id, and what the wallet knew of it when it was pinned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pin {
    /// The chain id.
    pub chain: ChainId,
    /// The chain's name, from its genesis.
    pub name: String,
    /// Its members' names when pinned.
    pub members: Vec<String>,
    /// When it was pinned (Unix milliseconds).
    pub pinned_at_ms: u64,
}

/// The pinned chains, and which chain each node address served when the wallet first talked to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pins {
    /// `ebl-pins/1` ([`ebl_core::format::PINS`]); files written before it was named lack it and are
    /// read as version 1, the layout they have.
    #[serde(default = "pins_format")]
    pub format: String,
    /// The trusted chains.
    pub chains: Vec<Pin>,
    /// Which chain each node address served when last asked.
    pub nodes: BTreeMap<String, ChainId>,
}

fn pins_format() -> String {
    ebl_core::format::PINS.current()
}

impl Default for Pins {
    fn default() -> Pins {
        Pins {
            format: pins_format(),
            chains: Vec::new(),
            nodes: BTreeMap::new(),
        }
    }
}

/// Where a home keeps its pins.
pub fn pins_path(home: &Path) -> PathBuf {
    home.join(PINS_FILE)
}

impl Pins {
    /// The pins kept in the wallet `home` (none yet: empty).
    pub fn load(home: &Path) -> Result<Pins> {
        let path = pins_path(home);
        if !path.exists() {
            return Ok(Pins::default());
        }
        let pins: Pins = crate::wallet::read_json(&path, "pinned chains file", PINS_BYTES_MAX)?;
        // A later release's file is refused as such, and left as it is (nothing saves over it).
        crate::wallet::check_file_format(&ebl_core::format::PINS, &pins.format, || {
            CliError::from(crate::error::Refusal::PinsFormat {
                file: path.clone(),
                format: pins.format.clone(),
            })
        })?;
        Ok(pins)
    }

    /// Writes the pins to the wallet `home`, durably.
    pub fn save(&self, home: &Path) -> Result<()> {
        std::fs::create_dir_all(home)
            .map_err(|e| CliError::io(&format!("creating {}", home.display()), e))?;
        let text = serde_json::to_vec_pretty(self).map_err(|e| CliError::io("encoding pins", e))?;
        crate::wallet::write_file(&pins_path(home), &text)
    }

    /// Whether `chain` is trusted.
    pub fn is_pinned(&self, chain: &ChainId) -> bool {
        self.chains.iter().any(|p| p.chain == *chain)
    }

    /// Pins a chain (again: the record is refreshed).
    pub fn pin(&mut self, genesis: &Genesis, now_ms: u64) {
        let chain = genesis.chain_id();
        self.chains.retain(|p| p.chain != chain);
        self.chains.push(Pin {
            chain,
            name: genesis.chain_name.clone(),
            members: genesis.members.iter().map(|m| m.name.clone()).collect(),
            pinned_at_ms: now_ms,
        });
    }

    /// Stops trusting `chain`; whether it was trusted.
    pub fn unpin(&mut self, chain: &ChainId) -> bool {
        let before = self.chains.len();
        self.chains.retain(|p| p.chain != *chain);
        self.nodes.retain(|_, c| c != chain);
        before != self.chains.len()
    }

    /// The check on talking to a node: a node address seen before must serve the chain it served then;
    /// a new one's chain is pinned. Returns whether anything changed (to be saved).
    pub fn admit_node(&mut self, node: &str, genesis: &Genesis, now_ms: u64) -> Result<bool> {
        let chain = genesis.chain_id();
        match self.nodes.get(node) {
            Some(known) if *known == chain => {
                if self.is_pinned(&chain) {
                    Ok(false)
                } else {
                    Err(unpinned(&chain))
                }
            }
            Some(known) => Err(mismatch(known, &chain).with_hint(format!(
                "the node at {node} now serves chain {chain}; if you trust it, run `ebl chain pin {chain}` and `ebl chain forget-node {node}`"
            ))),
            None => {
                self.nodes.insert(node.to_owned(), chain);
                if !self.is_pinned(&chain) {
                    self.pin(genesis, now_ms);
                }
                Ok(true)
            }
        }
    }

    /// The chain a bundle, offer or statement must be from: `explicit` (`--chain`), or any pinned one.
    pub fn check(&self, chain: &ChainId, explicit: Option<&ChainId>) -> Result<()> {
        match explicit {
            Some(expected) if expected != chain => Err(mismatch(expected, chain)),
            Some(_) => Ok(()),
            None if self.is_pinned(chain) => Ok(()),
            None => Err(unpinned(chain)),
        }
    }
}

fn mismatch(expected: &ChainId, got: &ChainId) -> CliError {
    let e = Error::ChainMismatch {
        expected: *expected,
        got: *got,
    };
    CliError::core(Kind::Verification, e)
}

fn unpinned(chain: &ChainId) -> CliError {
    let e = Error::UnpinnedChain { chain: *chain };
    CliError::core(Kind::Verification, e).with_hint(format!(
        "compare the chain id with your consortium's members, then `ebl chain pin {chain}`"
    ))
}

/// `ebl chain ...`: which chains this wallet trusts.
// No doc comment: clap would make it the command's about text (the `ebl` command's line above says it).
#[derive(clap::Subcommand, Debug)]
#[allow(missing_docs)]
pub enum ChainCommand {
    /// The chain the node serves: its id, members and threshold (pinned on first contact).
    Show,
    /// Trust a chain: by id (compare it with your consortium's members first), or the node's.
    Pin {
        /// The chain id; without it, the node's chain.
        chain: Option<ChainId>,
    },
    /// The pinned chains and the nodes seen serving them.
    List,
    /// Stop trusting a chain.
    Unpin {
        /// The chain id.
        chain: ChainId,
    },
    /// Forget which chain a node address served (after its members moved it to a new chain).
    ForgetNode {
        /// The node's address.
        node: String,
    },
}

/// `ebl chain show`: the chain the node serves, its members and threshold at genesis.
fn show(wallet: &crate::wallet::Wallet, lang: crate::lang::Lang) -> Result<crate::cli::Out> {
    use crate::cli::out;
    use crate::lang::Lang;
    use serde_json::json;

    let view = wallet.node.genesis()?;
    let g = &view.genesis;
    let members: Vec<String> = g
        .members
        .iter()
        .map(|m| match lang {
            Lang::En => format!("{} (node {})", m.name, &m.node.to_hex()[..16]),
            Lang::Zh => format!("{}（节点 {}）", m.name, &m.node.to_hex()[..16]),
        })
        .collect();
    let (t, n) = (g.threshold, g.members.len());
    let human = match lang {
                Lang::En => format!(
                    "chain       {}\nname        {}\nmembers     {}\ngovernance  {t} of {n} admins (at genesis)\nplatform    {} (PINT)",
                    view.chain,
                    g.chain_name,
                    members.join(", "),
                    g.platform
                ),
                Lang::Zh => format!(
                    "链标识      {}\n名称        {}\n成员        {}\n治理        {n} 个管理员中需 {t} 个（创世时）\n平台代码    {}（PINT）",
                    view.chain,
                    g.chain_name,
                    members.join("、"),
                    g.platform
                ),
            };
    Ok(out(json!({"chain": view.chain, "genesis": g}), human))
}

/// `ebl chain list`: the chains this wallet trusts, and which nodes served each.
fn list(home: &std::path::Path, lang: crate::lang::Lang) -> Result<crate::cli::Out> {
    use crate::cli::{out, to_json};
    use crate::lang::Lang;

    let pins = Pins::load(home)?;
    let human = pins
        .chains
        .iter()
        .map(|p| {
            let nodes: Vec<&str> = pins
                .nodes
                .iter()
                .filter(|(_, c)| **c == p.chain)
                .map(|(n, _)| n.as_str())
                .collect();
            let name = if p.name.is_empty() { "-" } else { &p.name };
            match lang {
                Lang::En => format!(
                    "{}  {name}  members {}  nodes {}",
                    p.chain,
                    p.members.join(", "),
                    nodes.join(" ")
                ),
                Lang::Zh => format!(
                    "{}  {name}  成员 {}  节点 {}",
                    p.chain,
                    p.members.join("、"),
                    nodes.join(" ")
                ),
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    Ok(out(
        to_json(&pins),
        if human.is_empty() {
            match lang {
                        Lang::En => "no chain pinned yet: the first node you talk to is pinned, or `ebl chain pin ID`",
                        Lang::Zh => "尚未信任任何链：首次连接的节点所在的链会被信任，或用 ebl chain pin 链标识",
                    }
                    .to_owned()
        } else {
            human
        },
    ))
}

/// Runs an `ebl chain` command.
pub fn command(
    wallet: &crate::wallet::Wallet,
    cmd: ChainCommand,
    lang: crate::lang::Lang,
) -> Result<crate::cli::Out> {
    use crate::cli::out;
    use crate::lang::Lang;
    use serde_json::json;
    let home = &wallet.home;
    match cmd {
        ChainCommand::Show => show(wallet, lang),
        ChainCommand::Pin { chain } => {
            let mut pins = Pins::load(home)?;
            let genesis = match chain {
                None => wallet.node.genesis()?.genesis.clone(),
                Some(id) => {
                    // Pinning by id needs no node; what is known of it comes when a node serves it.
                    pins.chains.retain(|p| p.chain != id);
                    pins.chains.push(Pin {
                        chain: id,
                        name: String::new(),
                        members: Vec::new(),
                        pinned_at_ms: crate::wallet::now_ms(),
                    });
                    pins.save(home)?;
                    let human = match lang {
                        Lang::En => format!("pinned chain {id}"),
                        Lang::Zh => format!("已信任链 {id}"),
                    };
                    return Ok(out(json!({"pinned": id}), human));
                }
            };
            pins.pin(&genesis, crate::wallet::now_ms());
            pins.save(home)?;
            let id = genesis.chain_id();
            let human = match lang {
                Lang::En => format!("pinned chain {id} ({})", genesis.chain_name),
                Lang::Zh => format!("已信任链 {id}（{}）", genesis.chain_name),
            };
            Ok(out(json!({"pinned": id}), human))
        }
        ChainCommand::List => list(home, lang),
        ChainCommand::Unpin { chain } => {
            let mut pins = Pins::load(home)?;
            let removed = pins.unpin(&chain);
            pins.save(home)?;
            Ok(out(
                json!({"unpinned": chain, "was_pinned": removed}),
                match (removed, lang) {
                    (true, Lang::En) => format!("chain {chain} is no longer trusted"),
                    (true, Lang::Zh) => format!("已不再信任链 {chain}"),
                    (false, Lang::En) => format!("chain {chain} was not pinned"),
                    (false, Lang::Zh) => format!("链 {chain} 原本就未被信任"),
                },
            ))
        }
        ChainCommand::ForgetNode { node } => {
            let mut pins = Pins::load(home)?;
            let node = node.trim_end_matches('/').to_owned();
            let known = pins.nodes.remove(&node);
            pins.save(home)?;
            Ok(out(
                json!({"forgotten": node, "served": known}),
                match lang {
                    Lang::En => format!("forgot which chain {node} served"),
                    Lang::Zh => format!("已忘记 {node} 所服务的链"),
                },
            ))
        }
    }
}
