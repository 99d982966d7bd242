//! `ebl-node init`, `genesis` and the development TLS certificate: a data directory made, a genesis written.

use std::io::Write;

use anyhow::Context;
use ebl_core::PartyKey;
use ebl_node::{keyfile, DataDir};

use crate::say;

pub(crate) fn init(
    dir: &DataDir,
    chain_name: &str,
    operator: Option<&str>,
    platform: &str,
) -> anyhow::Result<()> {
    let operator = match operator {
        Some(hex) => hex.parse::<PartyKey>().context("--operator")?,
        None => {
            // Shown once and never written: a governing key left in the data directory is readable by
            // whoever reads the node's disk or its backups.
            let key = keyfile::generate()?;
            let seed = zeroize::Zeroizing::new(ebl_core::bytes::to_hex(&key.to_bytes()));
            eprintln!(
                "{}\n  echo {} | ebl key import operator -",
                crate::said(
                    "made a new operator key; it is shown this once and not kept anywhere. Import it into a wallet now:",
                    "已生成新的运营方密钥；只显示这一次，不作任何保存。请立即导入钱包："
                ),
                seed.as_str()
            );
            PartyKey::of(&key)
        }
    };
    let genesis = ebl_node::init(dir, chain_name, operator, platform)?;
    print_genesis(dir, &genesis);
    Ok(())
}

pub(crate) fn print_genesis(dir: &DataDir, genesis: &ebl_core::Genesis) {
    let (chain, data) = (genesis.chain_id(), dir.0.display());
    let (t, n) = (genesis.threshold, genesis.members.len());
    match crate::lang() {
        ebl_words::lang::Lang::En => say!("chain {chain} initialized in {data}"),
        ebl_words::lang::Lang::Zh => say!("链 {chain} 已在 {data} 初始化"),
    }
    for m in &genesis.members {
        match crate::lang() {
            ebl_words::lang::Lang::En => say!(
                "member   {} (admin {}, node {}, peers at {})",
                m.name,
                m.admin,
                m.node,
                m.peer_address
            ),
            ebl_words::lang::Lang::Zh => say!(
                "成员     {}（管理员 {}，节点 {}，对等地址 {}）",
                m.name,
                m.admin,
                m.node,
                m.peer_address
            ),
        }
    }
    match crate::lang() {
        ebl_words::lang::Lang::En => say!("governance {t} of {n} admins"),
        ebl_words::lang::Lang::Zh => say!("治理     {n} 个管理员中需 {t} 个"),
    }
    match crate::lang() {
        ebl_words::lang::Lang::En => say!("platform {} (PINT)", genesis.platform),
        ebl_words::lang::Lang::Zh => say!("平台代码 {}（PINT）", genesis.platform),
    }
}

/// Largest genesis file read.
pub(crate) const GENESIS_FILE_BYTES_MAX: u64 = 1024 * 1024;

pub(crate) fn read_genesis(file: &std::path::Path) -> anyhow::Result<ebl_core::Genesis> {
    let len = std::fs::metadata(file)
        .with_context(|| format!("reading {}", file.display()))?
        .len();
    anyhow::ensure!(
        len <= GENESIS_FILE_BYTES_MAX,
        "{} is {len} bytes, more than a genesis file may be ({GENESIS_FILE_BYTES_MAX})",
        file.display()
    );
    let text = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let genesis: ebl_core::Genesis = serde_json::from_slice(&text)
        .map_err(|e| ebl_core::Error::MalformedJson {
            reason: e.to_string(),
        })
        .with_context(|| format!("{} is not a genesis", file.display()))?;
    genesis.check()?;
    Ok(genesis)
}

/// Initialises from a consortium genesis; returns the host this member's peers reach it at.
pub(crate) fn init_from(
    dir: &DataDir,
    file: &std::path::Path,
    join: bool,
    follow: Option<&std::path::Path>,
) -> anyhow::Result<Option<String>> {
    let genesis = read_genesis(file)?;
    let mut follows_at = None;
    if let Some(grant) = follow {
        let text = std::fs::read(grant).with_context(|| format!("reading {}", grant.display()))?;
        let grant = ebl_node::node::init_following(dir, &genesis, &text)?;
        follows_at = Some(grant.body.peer_address);
    } else if join {
        ebl_node::node::init_joining(dir, &genesis)?;
    } else {
        ebl_node::init_from(dir, &genesis)?;
    }
    print_genesis(dir, &genesis);
    say!(
        "{}",
        crate::said(
            "compare the chain id with every other member before you trust it",
            "信任之前，请与其他每个成员核对链标识"
        )
    );
    let own = PartyKey::of(&ebl_node::node_key(dir)?);
    let peer_address = genesis
        .member_by_node(&own)
        .map(|m| m.peer_address.clone())
        .or(follows_at);
    Ok(peer_address.and_then(|address| {
        address.rsplit_once(':').map(|(host, _)| {
            host.trim_start_matches('[')
                .trim_end_matches(']')
                .to_owned()
        })
    }))
}

/// `init --tls-self-signed`: a development certificate for `names` (or this machine's local names and
/// the member's peer host).
pub(crate) fn self_signed(
    dir: &DataDir,
    wanted: bool,
    names: Vec<String>,
    peer_host: Option<String>,
) -> anyhow::Result<()> {
    if !wanted {
        return Ok(());
    }
    let names = if names.is_empty() {
        let mut names = ebl_node::tls::default_names();
        names.extend(peer_host.filter(|h| !names.contains(h)));
        names
    } else {
        names
    };
    // The certificate names this node's key: a member node calling it trusts it for this node alone.
    let node = dir
        .node_key()
        .exists()
        .then(|| ebl_node::node_key(dir).map(|k| PartyKey::of(&k)))
        .transpose()?;
    ebl_node::tls::write_self_signed(&dir.tls_cert(), &dir.tls_key(), &names, node.as_ref())?;
    ebl_node::private::make_private(&dir.0)?;
    let cert = dir.tls_cert();
    match crate::lang() {
        ebl_words::lang::Lang::En => say!(
            "development certificate for {} in {} (wallets pin it with --node-cert {})",
            names.join(", "),
            cert.display(),
            cert.display()
        ),
        ebl_words::lang::Lang::Zh => say!(
            "开发用证书（{}）已写入 {}（钱包用 --node-cert {} 指定信任）",
            names.join(", "),
            cert.display(),
            cert.display()
        ),
    }
    Ok(())
}

pub(crate) fn write_genesis(
    members: &[String],
    threshold: Option<u16>,
    faults: Option<u16>,
    chain_name: &str,
    platform: &str,
    out: &std::path::Path,
) -> anyhow::Result<()> {
    let members = members
        .iter()
        .map(|text| {
            let parts: Vec<&str> = text.split(',').map(str::trim).collect();
            let [name, admin, node, peer] = parts[..] else {
                return Err(ebl_core::Error::MalformedEncoding {
                    reason: format!("member {text:?} is not NAME,ADMIN_KEY,NODE_KEY,HOST:PORT"),
                });
            };
            Ok(ebl_core::Member {
                name: name.to_owned(),
                admin: admin.parse()?,
                node: node.parse()?,
                peer_address: peer.to_owned(),
            })
        })
        .collect::<Result<Vec<_>, ebl_core::Error>>()?;
    let threshold = threshold.unwrap_or(ebl_core::genesis::majority(members.len()));
    let time = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0);
    let mut genesis = ebl_core::Genesis::new(chain_name, members, threshold, platform, time)?;
    if let Some(faults) = faults {
        genesis.faults = Some(faults);
        genesis.check()?;
    }
    anyhow::ensure!(
        !out.exists(),
        "{} exists: refusing to overwrite a genesis",
        out.display()
    );
    let text = serde_json::to_vec_pretty(&genesis)?;
    std::fs::write(out, text).with_context(|| format!("writing {}", out.display()))?;
    let (n, t) = (genesis.members.len(), genesis.threshold);
    let quorum = ebl_core::Registry::new(&genesis).finality_quorum();
    let f = genesis.stated_faults().unwrap_or(0);
    match crate::lang() {
        ebl_words::lang::Lang::En => {
            say!("chain {} written to {}", genesis.chain_id(), out.display());
            say!(
                "{n} members, governance {t} of {n}, finality {quorum} of {n} (f = {f} lying node(s) tolerated); every member runs `ebl-node init --genesis {}` and compares the chain id",
                out.display()
            );
        }
        ebl_words::lang::Lang::Zh => {
            say!("链 {} 已写入 {}", genesis.chain_id(), out.display());
            say!(
                "{n} 个成员，治理 {n} 个中需 {t} 个，最终确认 {n} 个中需 {quorum} 个（可容忍 f = {f} 个作恶节点）；每个成员运行 ebl-node init --genesis {} 并核对链标识",
                out.display()
            );
        }
    }
    Ok(())
}
