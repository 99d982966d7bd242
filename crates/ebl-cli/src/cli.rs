//! The `ebl` command line: arguments, then each command as a call into the wallet, then output.

use std::path::{Path, PathBuf};

use clap::{Args, Parser, Subcommand};
use ebl_core::api::SubmitOutcome;
use ebl_core::bundle::{Bundle, BUNDLE_BYTES_MAX};
use ebl_core::{
    jcs, Action, AmendmentReason, Document, Identifier, Loan, PartyKey, PartyProfile, Role, Roles,
};
use serde_json::{json, Value};

use crate::error::{CliError, Kind, Refusal, Result};
use crate::output;
use crate::wallet::{parse_amount, read_file, read_json, write_file, PledgeOffer, Wallet};

pub const EXIT_CODES: &str = "\
Exit codes:
  0  success
  1  other failure (local IO, the node's storage)
  2  bad usage or input: malformed document, unknown bill or party, wrong passphrase
  3  the ledger refused the transaction by one of its rules (the rule's code is printed)
  4  verification failed: a chain, proof bundle or statement does not check out
  5  the node cannot be reached or did not answer in time

Environment: EBL_HOME (wallet home, default ~/.ebl), EBL_NODE (node address, or several separated by commas), EBL_PASSPHRASE (for scripts;
without it the passphrase is asked on the terminal).";

#[derive(Parser, Debug)]
#[command(
    name = "ebl",
    version,
    about = "Wallet for the ebl ledger of electronic bills of lading",
    long_about = "Carriers issue bills and answer surrenders; traders transfer, endorse, pledge and surrender them; \
                  banks verify a bill's whole chain, take it as collateral, release or enforce the pledge.",
    after_help = EXIT_CODES
)]
pub struct Cli {
    /// Wallet home: keys live in HOME/keys.
    #[arg(long, global = true, env = "EBL_HOME")]
    pub home: Option<PathBuf>,
    /// Address of the node; a consortium's member nodes may be given together, separated by commas
    /// (http://a:7879,http://b:7879): when one does not answer the wallet turns to the next.
    #[arg(
        long,
        global = true,
        env = "EBL_NODE",
        default_value = "http://127.0.0.1:7878"
    )]
    pub node: String,
    /// Print JSON with stable field names instead of text.
    #[arg(long, global = true)]
    pub json: bool,
    /// Let `-o FILE` replace a file that exists (otherwise refused, so nothing is lost by a typo).
    #[arg(long, global = true)]
    pub force: bool,
    /// The language of messages for people: en or zh (default: from LC_ALL, LC_MESSAGES or LANG).
    /// Error codes and --json output are the same in every language.
    #[arg(long, global = true, env = "EBL_LANG")]
    pub lang: Option<crate::lang::Lang>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Make, list and show your keys (stored encrypted).
    #[command(subcommand)]
    Key(KeyCommand),
    /// Admit parties and change them (governance), rotate your own key, or look parties up.
    #[command(subcommand)]
    Party(PartyCommand),
    /// The consortium: its members and threshold; review and co-sign governance proposals.
    #[command(subcommand)]
    Gov(crate::gov::GovCommand),
    /// The chains this wallet trusts: pin, list, forget.
    #[command(subcommand)]
    Chain(crate::pins::ChainCommand),
    /// Check a DCSA transport document before issuing it.
    #[command(subcommand)]
    Doc(DocCommand),
    /// Issue, move, pledge and surrender bills; show their state and history.
    #[command(subcommand)]
    Bill(BillCommand),
    /// DCSA PINT 3.0: verify envelopes from other platforms, export bills as signed envelopes.
    #[command(subcommand)]
    Pint(PintCommand),
    /// Verify a proof bundle offline: no network, no trust in the node.
    Verify {
        /// The bundle written by `ebl bill export`.
        file: PathBuf,
        /// The chain id the bundle must be from. Without it, any chain this wallet pinned.
        #[arg(long)]
        chain: Option<ebl_core::Hash>,
        /// For a bill imported from another platform: also verify the PINT history it arrived with,
        /// against this directory of platform keys and root certificates (as `ebl pint verify`).
        #[arg(long)]
        pint_trust: Option<PathBuf>,
    },
    /// Play a whole trade on an embedded node: issue, endorse, transfer, pledge, release, surrender.
    Demo {
        /// Keep the demo's node data and wallet in this directory instead of a temporary one.
        #[arg(long)]
        keep: Option<PathBuf>,
        /// Play the trade on a consortium of this many members (2 to 5), each running an `ebl-node`
        /// process on 127.0.0.1; the leader is killed with SIGKILL mid-trade.
        #[arg(long)]
        cluster: Option<usize>,
    },
    /// Print shell completions.
    Completions { shell: clap_complete::Shell },
    /// Serve this wallet as a web app on 127.0.0.1: your bills, their verified custody and pledges,
    /// dropped files verified offline, and actions signed in the page. Prints the address to open (with
    /// a session token); opens nothing by itself. The keys stay in this process.
    Ui {
        /// Where to listen: a loopback address; port 0 picks a free one.
        #[arg(long, default_value = "127.0.0.1:0")]
        listen: std::net::SocketAddr,
        /// The keys whose reads the app signs (repeatable); default every key of the wallet, each
        /// unlocked once at start. Actions ask for their key's passphrase in the page.
        #[arg(long = "as")]
        keys: Vec<String>,
        /// A PINT trust directory, for verifying envelopes dropped on the app.
        #[arg(long)]
        pint_trust: Option<PathBuf>,
    },
}

#[derive(Subcommand, Debug)]
pub enum PintCommand {
    /// Export a bill's history as a PINT EblEnvelope signed by the node (PLEDGE, RELEASE and ENFORCE
    /// appear as TRANSFER / ENDORSE_TO_ORDER with x-ebl-action naming them).
    Export {
        bill: String,
        #[arg(short, long)]
        out: PathBuf,
        #[command(flatten)]
        signer: Signer,
    },
    /// List the additional documents an imported bill arrived with (invoice, packing list, the carrier's
    /// visualisation); with -o, download those the node holds into DIR, each checked against its
    /// checksum.
    Documents {
        bill: String,
        #[arg(short, long)]
        out: Option<PathBuf>,
        #[command(flatten)]
        signer: Signer,
    },
    /// Write the node's public key as a JWK, for a receiving platform's trust store.
    Jwk {
        #[arg(short, long)]
        out: PathBuf,
    },
    /// Verify an EblEnvelope offline: every JWS against the trusted platform keys, the transfer chain's
    /// links, the manifest and document checksums, and the action rules. Prints PINT's answer (RECE, BSIG,
    /// BENV, INCD); exit 0 only for RECE.
    Verify {
        /// The envelope JSON.
        file: PathBuf,
        /// A directory of trusted platform keys (JWK or JWK-set files, *.jwk, *.json) and root
        /// certificates for x5c chains (*.crt, *.pem).
        #[arg(long)]
        trust: PathBuf,
    },
    /// Import an EblEnvelope received from another platform: send it to the node's PINT receiver (as
    /// the sending platform would), upload the additional documents its manifest names from
    /// --documents, finish the transfer, and check the node's signed answer. The node verifies the
    /// envelope against its own trust store (`<data>/pint/trust`); the bill is then possessed by the
    /// local party the envelope's last transaction names. Exit 0 for RECE or DUPE.
    Import {
        /// The envelope JSON.
        file: PathBuf,
        /// A directory holding the additional documents (found by their SHA-256).
        #[arg(long)]
        documents: Option<PathBuf>,
    },
}

#[derive(Subcommand, Debug)]
pub enum KeyCommand {
    /// Make a new key pair; the private key is stored encrypted with your passphrase.
    New { name: String },
    /// List the keys in this wallet.
    List,
    /// Show a key's public half: what the operator registers.
    Show { name: String },
    /// Import a private key from a file holding its 32-byte seed as hex (as `ebl-node init` writes).
    Import { name: String, file: PathBuf },
}

/// The key a read is signed with: the node shows parties, the registry and blocks to registered
/// parties and members only. Optional when the wallet holds one key.
#[derive(Args, Debug)]
pub struct Reader {
    #[arg(long = "as", value_name = "KEY")]
    pub as_key: Option<String>,
}

#[derive(Args, Debug)]
pub struct Signer {
    /// The wallet key that signs (the acting party).
    #[arg(long = "as", value_name = "KEY")]
    pub as_key: String,
}

/// Where a governance change that needs more admins' signatures is written.
#[derive(Args, Debug)]
pub struct ProposalOut {
    /// Write the change as a proposal file for the other admins to co-sign (needed when t > 1).
    #[arg(short = 'o', long = "proposal", value_name = "FILE")]
    pub file: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
pub enum PartyCommand {
    /// Admit a party (governance: t member admins).
    Register {
        /// The party's registered name.
        name: String,
        /// The party's public key (hex), or the name of a key in this wallet.
        #[arg(long)]
        key: String,
        /// A role: carrier, trader, bank or auditor. Repeat for several.
        #[arg(long = "role", required = true)]
        roles: Vec<String>,
        /// An identifier as SCHEME:VALUE, e.g. LEI:5493001KJTIIGC8Y1R12 or SMDG:MSC (a carrier's code). Repeatable.
        #[arg(long = "id")]
        identifiers: Vec<String>,
        #[command(flatten)]
        signer: Signer,
        #[command(flatten)]
        proposal: ProposalOut,
    },
    /// Change a party's name, roles or identifiers (governance). What is not given stays.
    Update {
        party: String,
        #[arg(long)]
        name: Option<String>,
        /// The new roles (replacing the old ones). Repeat for several.
        #[arg(long = "role")]
        roles: Vec<String>,
        /// The new identifiers (replacing the old ones), as SCHEME:VALUE. Repeatable.
        #[arg(long = "id")]
        identifiers: Vec<String>,
        /// Remove every identifier.
        #[arg(long, conflicts_with = "identifiers")]
        no_ids: bool,
        #[command(flatten)]
        signer: Signer,
        #[command(flatten)]
        proposal: ProposalOut,
    },
    /// Rotate your own key: signed by your current key (--as) and by the new one, both in this wallet.
    Rotate {
        party: String,
        /// The name of the new key in this wallet (`ebl key new NAME` first).
        #[arg(long)]
        new_key: String,
        #[command(flatten)]
        signer: Signer,
    },
    /// Give a party that lost its key a new one (governance); recorded, and shown as a warning wherever
    /// the new key acts.
    Recover {
        party: String,
        /// The party's new public key (hex), or the name of a key in this wallet.
        #[arg(long)]
        new_key: String,
        #[command(flatten)]
        signer: Signer,
        #[command(flatten)]
        proposal: ProposalOut,
    },
    /// Revoke a party: its key signs nothing more (governance).
    Revoke {
        party: String,
        #[command(flatten)]
        signer: Signer,
        #[command(flatten)]
        proposal: ProposalOut,
    },
    /// List registered parties.
    List {
        #[command(flatten)]
        reader: Reader,
    },
    /// Show one party, by name, id or key.
    Show {
        party: String,
        #[command(flatten)]
        reader: Reader,
    },
}

#[derive(Subcommand, Debug)]
pub enum DocCommand {
    /// Validate a DCSA TransportDocument JSON: print its checksum and the fields the ledger uses, or the problem.
    Check { file: PathBuf },
}

#[derive(Subcommand, Debug)]
pub enum BillCommand {
    /// Issue a bill from a DCSA transport document (carrier).
    Issue {
        /// The TransportDocument JSON (bare, or inside {"document": ...} or {"transportDocument": ...}).
        file: PathBuf,
        /// Who receives the bill: its first possessor (and, to order, its endorsee).
        #[arg(long)]
        to: String,
        /// The shipper party; defaults to the recipient.
        #[arg(long)]
        shipper: Option<String>,
        /// The consignee party; required for a straight bill.
        #[arg(long)]
        consignee: Option<String>,
        /// The void bill this one replaces, after an accepted amendment.
        #[arg(long)]
        replaces: Option<String>,
        #[command(flatten)]
        signer: Signer,
    },
    /// Pass possession to another party; title does not move.
    Transfer {
        bill: String,
        #[arg(long)]
        to: String,
        #[command(flatten)]
        signer: Signer,
    },
    /// Endorse a to-order bill: name an endorsee (--to, add --to-order to let them endorse on) or endorse in blank.
    Endorse {
        bill: String,
        #[arg(long, required_unless_present = "blank", conflicts_with = "blank")]
        to: Option<String>,
        /// The endorsee may endorse further (ENDORSE_TO_ORDER).
        #[arg(long, requires = "to")]
        to_order: bool,
        /// Endorse in blank: the bill becomes a bearer document.
        #[arg(long)]
        blank: bool,
        #[command(flatten)]
        signer: Signer,
    },
    /// Record possession, changing nothing else.
    Sign {
        bill: String,
        #[command(flatten)]
        signer: Signer,
    },
    /// Surrender the bill to its carrier, for delivery or (with --amend) for amendment.
    Surrender {
        bill: String,
        /// Surrender for amendment, with the reason: SWTP (switch to paper), COD (change of destination), SWI (switch bill).
        #[arg(long, value_name = "REASON")]
        amend: Option<String>,
        #[command(flatten)]
        signer: Signer,
    },
    /// Accept the pending surrender (carrier): delivered, or void for amendment, or (SWTP) switched to
    /// the paper bill named by --paper-number and --paper-date.
    AcceptSurrender {
        bill: String,
        /// For a switch to paper: the paper bill's number.
        #[arg(long, requires = "paper_date")]
        paper_number: Option<String>,
        /// For a switch to paper: the paper bill's issue date, YYYY-MM-DD.
        #[arg(long, requires = "paper_number")]
        paper_date: Option<String>,
        #[command(flatten)]
        signer: Signer,
    },
    /// Refuse the bill you were just sent (the recipient, as the very next action): possession and
    /// title return to where they were.
    Refuse {
        bill: String,
        #[command(flatten)]
        signer: Signer,
    },
    /// Carrier: issue replacements for void bills after an accepted amendment: several documents for one
    /// bill (a split), or one for several bills (a combine), to whoever surrendered them.
    Replace {
        /// The void bills replaced.
        #[arg(required = true)]
        old: Vec<String>,
        /// A replacement's DCSA transport document; repeat for a split.
        #[arg(long = "document", required = true)]
        documents: Vec<PathBuf>,
        /// Whoever surrendered the void bills.
        #[arg(long)]
        to: String,
        /// The consignee, for a straight replacement.
        #[arg(long)]
        consignee: Option<String>,
        #[command(flatten)]
        signer: Signer,
    },
    /// Reject the pending surrender (carrier): the bill returns to who surrendered it.
    RejectSurrender {
        bill: String,
        #[command(flatten)]
        signer: Signer,
    },
    /// Holder: prepare a pledge to a bank and write the offer the bank reviews and co-signs.
    Pledge {
        bill: String,
        /// The lending bank.
        #[arg(long)]
        bank: String,
        /// Loan amount, e.g. 1000000.00.
        #[arg(long)]
        amount: String,
        /// ISO 4217 currency code.
        #[arg(long, default_value = "USD")]
        currency: String,
        /// The loan's reference.
        #[arg(long)]
        loan: String,
        /// Where to write the offer for the bank.
        #[arg(short, long)]
        out: PathBuf,
        /// Hours the offer stays valid; the ledger refuses the pledge after.
        #[arg(long, default_value_t = crate::wallet::PLEDGE_OFFER_VALID_HOURS_DEFAULT)]
        valid_hours: u64,
        #[command(flatten)]
        signer: Signer,
    },
    /// Bank: verify a pledge offer's whole chain offline and show what it would take as collateral.
    PledgeReview {
        offer: PathBuf,
        #[command(flatten)]
        signer: Signer,
    },
    /// Bank: review, co-sign and submit a pledge offer.
    PledgeAccept {
        offer: PathBuf,
        #[command(flatten)]
        signer: Signer,
    },
    /// Bank: the loan is repaid; possession returns to the pledgor.
    Release {
        bill: String,
        #[command(flatten)]
        signer: Signer,
    },
    /// Bank: the borrower defaulted; the bank takes title and may sell or surrender.
    Enforce {
        bill: String,
        #[command(flatten)]
        signer: Signer,
    },
    /// Your worklist: every bill you have a part in now, with who holds it and its status.
    List {
        #[command(flatten)]
        signer: Signer,
    },
    /// The bill's current state.
    Show {
        bill: String,
        #[command(flatten)]
        signer: Signer,
    },
    /// A readable timeline: who did what, when, in which block.
    History {
        bill: String,
        #[command(flatten)]
        signer: Signer,
    },
    /// The node-signed status statement: the bill's state at a height, verified here.
    Status {
        bill: String,
        #[command(flatten)]
        signer: Signer,
    },
    /// Write a self-contained proof bundle for offline verification (`ebl verify`).
    Export {
        bill: String,
        #[arg(short, long)]
        out: PathBuf,
        #[command(flatten)]
        signer: Signer,
    },
}

impl BillCommand {
    /// The key that acts: it also signs the command's reads of parties and the registry.
    fn signer(&self) -> &Signer {
        match self {
            BillCommand::Issue { signer, .. }
            | BillCommand::Transfer { signer, .. }
            | BillCommand::Endorse { signer, .. }
            | BillCommand::Sign { signer, .. }
            | BillCommand::Surrender { signer, .. }
            | BillCommand::AcceptSurrender { signer, .. }
            | BillCommand::Refuse { signer, .. }
            | BillCommand::Replace { signer, .. }
            | BillCommand::RejectSurrender { signer, .. }
            | BillCommand::Pledge { signer, .. }
            | BillCommand::PledgeReview { signer, .. }
            | BillCommand::PledgeAccept { signer, .. }
            | BillCommand::Release { signer, .. }
            | BillCommand::Enforce { signer, .. }
            | BillCommand::List { signer, .. }
            | BillCommand::Show { signer, .. }
            | BillCommand::History { signer, .. }
            | BillCommand::Status { signer, .. }
            | BillCommand::Export { signer, .. } => signer,
        }
    }
}

/// What a command prints: JSON with `--json`, text otherwise.
#[derive(Debug)]
pub struct Out {
    pub json: Value,
    pub human: String,
}

pub(crate) fn out(json: Value, human: impl Into<String>) -> Out {
    Out {
        json,
        human: human.into(),
    }
}

pub(crate) fn to_json<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

/// Reads a transport document file, bare or wrapped as DCSA messages wrap it.
pub fn read_document(path: &Path) -> Result<Document> {
    let bytes = read_file(
        path,
        "transport document",
        ebl_core::limits::DOCUMENT_INPUT_BYTES_MAX,
    )?;
    let value = jcs::parse(&bytes)
        .map_err(|e| CliError::from(e).with_hint(format!("in {}", path.display())))?;
    let inner = value
        .get("document")
        .or_else(|| value.get("transportDocument"))
        .unwrap_or(&value);
    Document::from_value(inner).map_err(|e| {
        CliError::from(e).with_hint(
            "see `ebl doc check FILE`; the document must be a DCSA eBL 3.0 TransportDocument",
        )
    })
}

/// A public key given as hex, or the name of a wallet key.
pub(crate) fn public_key(wallet: &Wallet, text: &str) -> Result<PartyKey> {
    match text.parse::<PartyKey>() {
        Ok(k) => Ok(k),
        Err(e) if wallet.keys.exists(text) => {
            let _ = e;
            wallet.keys.public(text)
        }
        Err(e) => Err(CliError::from(e)
            .with_hint("give a 64-hex-digit public key, or the name of a key in this wallet")),
    }
}

pub(crate) fn submitted(wallet: &Wallet, outcome: SubmitOutcome, what: String) -> Result<Out> {
    let receipt = outcome.receipt().cloned();
    let human = match (&outcome, &receipt) {
        (SubmitOutcome::Duplicate { .. }, Some(r)) => {
            format!("{what} (already on the ledger: block {})", r.height)
        }
        (_, Some(r)) => format!(
            "{what}\ntransaction {} in block {} at {}",
            r.tx,
            r.height,
            output::timestamp(r.block_time_ms)
        ),
        _ => what,
    };
    // A cluster's receipt comes with the block's certificate: how many member nodes signed it by the
    // time the node answered (a bank counts and checks them from the bundle).
    let human = match &outcome {
        SubmitOutcome::Accepted {
            certificate: Some(c),
            ..
        } if c.signatures.len() > 1 => format!(
            "{human}
final       signed by {} member nodes",
            c.signatures.len()
        ),
        _ => human,
    };
    let _ = wallet;
    Ok(out(to_json(&outcome), human))
}

pub fn run(cli: Cli, wallet: &Wallet) -> Result<Out> {
    let force = cli.force;
    let lang = crate::lang::Lang::for_terminal(cli.lang);
    match cli.command {
        Command::Key(cmd) => key(wallet, cmd),
        Command::Party(cmd) => party(wallet, cmd),
        Command::Gov(cmd) => crate::gov::command(wallet, cmd),
        Command::Chain(cmd) => crate::pins::command(wallet, cmd),
        Command::Doc(DocCommand::Check { file }) => doc_check(&file),
        Command::Bill(cmd) => bill(wallet, cmd, force, lang),
        Command::Verify {
            file,
            chain,
            pint_trust,
        } => verify(wallet, &file, chain.as_ref(), pint_trust.as_deref(), lang),
        Command::Pint(PintCommand::Verify { file, trust }) => pint_verify(&file, &trust),
        Command::Pint(PintCommand::Export {
            bill,
            out: path,
            signer,
        }) => {
            wallet.reader(Some(&signer.as_key))?;
            let bill = wallet.bill_id(&bill)?;
            let key = wallet.signer(&signer.as_key)?;
            let envelope = wallet.node.pint_envelope(&bill, &key)?;
            let text = serde_json::to_vec_pretty(&envelope)
                .map_err(|e| CliError::io("encoding the envelope", e))?;
            write_output(&path, &text, force)?;
            let entries = envelope["envelopeTransferChain"]
                .as_array()
                .map_or(0, Vec::len);
            Ok(out(
                json!({"envelope": path, "bill": bill, "entries": entries}),
                format!(
                    "PINT envelope with {entries} transfer chain entries written to {}",
                    path.display()
                ),
            ))
        }
        Command::Pint(PintCommand::Import { file, documents }) => {
            pint_import(wallet, &file, documents.as_deref())
        }
        Command::Pint(PintCommand::Documents { bill, out, signer }) => {
            wallet.reader(Some(&signer.as_key))?;
            let bill = wallet.bill_id(&bill)?;
            let key = wallet.signer(&signer.as_key)?;
            pint_documents(wallet, &bill, &key, out.as_deref())
        }
        Command::Pint(PintCommand::Jwk { out: path }) => {
            let jwk = wallet.node.pint_jwk()?;
            let text =
                serde_json::to_vec_pretty(&jwk).map_err(|e| CliError::io("encoding the JWK", e))?;
            write_output(&path, &text, force)?;
            Ok(out(
                json!({"jwk": path, "kid": jwk["kid"]}),
                format!("node key {} written to {}", jwk["kid"], path.display()),
            ))
        }
        Command::Ui {
            listen,
            keys,
            pint_trust,
        } => {
            // Refused before any key is unlocked.
            crate::ui::check_listen(&listen)?;
            let readers = crate::ui::unlock_readers(wallet, &keys)?;
            crate::ui::serve(
                &wallet.home,
                &cli.node,
                readers,
                crate::ui::Settings { listen, pint_trust },
            )?;
            Ok(out(json!({"stopped": true}), "ebl ui stopped"))
        }
        Command::Demo { .. } | Command::Completions { .. } => Err(CliError::from(
            Refusal::Internal(String::from("handled by main")),
        )),
    }
}

fn key(wallet: &Wallet, cmd: KeyCommand) -> Result<Out> {
    match cmd {
        KeyCommand::New { name } => {
            let public = wallet.new_key(&name)?;
            Ok(out(json!({"name": name, "public_key": public}), format!("key {name} made\npublic key {public}\n(give the public key to the operator to be registered)")))
        }
        KeyCommand::Import { name, file } => {
            let text = read_file(&file, "key seed", 1024)?;
            let text = String::from_utf8_lossy(&text);
            let seed = ebl_core::bytes::from_hex::<32>(text.trim()).ok_or_else(|| {
                CliError::from(Refusal::MalformedKey(format!(
                    "{} does not hold a 32-byte hex seed",
                    file.display()
                )))
            })?;
            let public = wallet.import_key(&name, &ebl_core::SigningKey::from_bytes(&seed))?;
            Ok(out(
                json!({"name": name, "public_key": public}),
                format!("key {name} imported\npublic key {public}"),
            ))
        }
        KeyCommand::List => {
            let names = wallet.keys.names()?;
            let keys: Vec<Value> = names
                .iter()
                .map(|n| Ok(json!({"name": n, "public_key": wallet.keys.public(n)?})))
                .collect::<Result<_>>()?;
            let human = keys
                .iter()
                .map(|k| {
                    format!(
                        "{:<20} {}",
                        k["name"].as_str().unwrap_or(""),
                        k["public_key"].as_str().unwrap_or("")
                    )
                })
                .collect::<Vec<_>>()
                .join("\n");
            Ok(out(
                json!({"keys": keys}),
                if human.is_empty() {
                    "no keys yet: make one with `ebl key new NAME`".into()
                } else {
                    human
                },
            ))
        }
        KeyCommand::Show { name } => {
            let public = wallet.keys.public(&name)?;
            Ok(out(
                json!({"name": name, "public_key": public}),
                public.to_hex(),
            ))
        }
    }
}

fn parse_profile(name: String, roles: &[String], identifiers: &[String]) -> Result<PartyProfile> {
    let roles: Vec<Role> = roles
        .iter()
        .map(|r| r.parse())
        .collect::<ebl_core::Result<_>>()?;
    let identifiers: Vec<Identifier> = identifiers
        .iter()
        .map(|i| Identifier::parse(i))
        .collect::<ebl_core::Result<_>>()?;
    Ok(PartyProfile {
        name,
        roles: Roles::new(&roles)?,
        identifiers,
    })
}

fn party(wallet: &Wallet, cmd: PartyCommand) -> Result<Out> {
    match cmd {
        PartyCommand::Register {
            name,
            key,
            roles,
            identifiers,
            signer,
            proposal,
        } => {
            let key = public_key(wallet, &key)?;
            let profile = parse_profile(name.clone(), &roles, &identifiers)?;
            crate::gov::govern(
                wallet,
                &signer,
                Action::RegisterParty { key, profile },
                proposal.file.as_deref(),
                format!("registered {name} ({})", ebl_core::PartyId::from(key)),
            )
        }
        PartyCommand::Update {
            party,
            name,
            roles,
            identifiers,
            no_ids,
            signer,
            proposal,
        } => {
            wallet.reader(Some(&signer.as_key))?;
            let target = wallet.party(&party)?;
            let mut profile = target.profile.clone();
            if let Some(name) = name {
                profile.name = name;
            }
            if !roles.is_empty() {
                profile.roles = parse_profile(profile.name.clone(), &roles, &[])?.roles;
            }
            if no_ids {
                profile.identifiers.clear();
            } else if !identifiers.is_empty() {
                profile.identifiers =
                    parse_profile(profile.name.clone(), &["trader".into()], &identifiers)?
                        .identifiers;
            }
            crate::gov::govern(
                wallet,
                &signer,
                Action::UpdateParty {
                    party: target.id,
                    profile,
                },
                proposal.file.as_deref(),
                format!("updated {}", target.name()),
            )
        }
        PartyCommand::Rotate {
            party,
            new_key,
            signer,
        } => {
            wallet.reader(Some(&signer.as_key))?;
            let target = wallet.party(&party)?;
            let current = wallet.signer(&signer.as_key)?;
            let new = wallet.signer(&new_key).map_err(|e| {
                e.with_hint("the new key must be in this wallet: make it with `ebl key new NAME`")
            })?;
            let new_public = PartyKey::of(&new);
            let mut tx = wallet.prepare(
                &current,
                Action::RotateKey {
                    party: target.id,
                    new_key: new_public,
                },
            )?;
            // The new key signs too: proof that the party holds it.
            tx.cosign(&new);
            let outcome = wallet.node.submit(&tx)?;
            submitted(
                wallet,
                outcome,
                format!(
                    "{} now signs with {new_public} (key {new_key})",
                    target.name()
                ),
            )
        }
        PartyCommand::Recover {
            party,
            new_key,
            signer,
            proposal,
        } => {
            wallet.reader(Some(&signer.as_key))?;
            let target = wallet.party(&party)?;
            let new_key = public_key(wallet, &new_key)?;
            crate::gov::govern(
                wallet,
                &signer,
                Action::RecoverKey {
                    party: target.id,
                    new_key,
                },
                proposal.file.as_deref(),
                format!(
                    "{} recovered: it now signs with {new_key} (recorded as a recovery)",
                    target.name()
                ),
            )
        }
        PartyCommand::Revoke {
            party,
            signer,
            proposal,
        } => {
            wallet.reader(Some(&signer.as_key))?;
            let target = wallet.party(&party)?;
            crate::gov::govern(
                wallet,
                &signer,
                Action::RevokeParty { party: target.id },
                proposal.file.as_deref(),
                format!("{} revoked", target.name()),
            )
        }
        PartyCommand::List { reader } => {
            wallet.reader(reader.as_key.as_deref())?;
            let parties = wallet.node.parties()?;
            let human = parties
                .iter()
                .map(|p| {
                    let ids: Vec<String> = p
                        .profile
                        .identifiers
                        .iter()
                        .map(|i| i.to_string())
                        .collect();
                    format!(
                        "{:<28} {:<16} {}{}{}",
                        p.name(),
                        p.profile.roles.to_string(),
                        p.id.short(),
                        if ids.is_empty() {
                            String::new()
                        } else {
                            format!("  {}", ids.join(" "))
                        },
                        if p.revoked { "  REVOKED" } else { "" }
                    )
                })
                .collect::<Vec<_>>()
                .join("\n");
            Ok(out(to_json(&parties), human))
        }
        PartyCommand::Show { party, reader } => {
            wallet.reader(reader.as_key.as_deref())?;
            let p = wallet.party(&party)?;
            let human = format!(
                "name        {}\nid          {}\nkey         {}\nroles       {}\nidentifiers {}\nstatus      {}",
                p.name(),
                p.id,
                p.key,
                p.profile.roles,
                p.profile.identifiers.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(", "),
                if p.revoked { "revoked" } else { "active" }
            );
            Ok(out(to_json(&p), human))
        }
    }
}

fn doc_check(file: &Path) -> Result<Out> {
    let bytes = read_file(
        file,
        "transport document",
        ebl_core::limits::DOCUMENT_INPUT_BYTES_MAX,
    )?;
    let value = jcs::parse(&bytes)?;
    let inner = value
        .get("document")
        .or_else(|| value.get("transportDocument"))
        .unwrap_or(&value);
    let checksum = jcs::canonicalize(inner).map(|c| ebl_core::Hash::of(c.as_bytes()))?;
    match Document::from_value(inner) {
        Ok(doc) => {
            let f = doc.facts();
            let human = format!(
                "valid DCSA transport document\nchecksum    {checksum}\nreference   {}\ntype        {}\nto order    {}\ncarrier     {}:{}\nshipper     {}\nconsignee   {}\nendorsee    {}",
                f.transport_document_reference,
                f.transport_document_type_code.code(),
                f.is_to_order,
                f.carrier_code_list_provider,
                f.carrier_code,
                f.shipper_name,
                f.consignee_name.as_deref().unwrap_or("-"),
                f.endorsee_name.as_deref().unwrap_or("-"),
            );
            Ok(out(
                json!({"valid": true, "checksum": checksum, "facts": f}),
                human,
            ))
        }
        Err(e) => Err(CliError::from(e).with_hint(format!("document checksum {checksum}"))),
    }
}

pub(crate) fn names(wallet: &Wallet) -> Result<(Vec<ebl_core::Party>, output::Names)> {
    let parties = wallet.node.parties()?;
    let names = output::names(&parties);
    Ok((parties, names))
}

fn bill(wallet: &Wallet, cmd: BillCommand, force: bool, lang: crate::lang::Lang) -> Result<Out> {
    use crate::lang::{pad, Lang};
    wallet.reader(Some(&cmd.signer().as_key))?;
    let act = |signer: &Signer, action: Action, what: &str| -> Result<Out> {
        let key = wallet.signer(&signer.as_key)?;
        let outcome = wallet.act(&key, action)?;
        submitted(wallet, outcome, what.to_owned())
    };
    match cmd {
        BillCommand::Issue {
            file,
            to,
            shipper,
            consignee,
            replaces,
            signer,
        } => {
            let document = read_document(&file)?;
            let issue_to = wallet.party(&to)?.id;
            let shipper = match shipper {
                Some(s) => wallet.party(&s)?.id,
                None => issue_to,
            };
            let consignee = consignee
                .map(|c| wallet.party(&c).map(|p| p.id))
                .transpose()?;
            let replaces = replaces
                .map(|r| wallet.bill_id(&r).map(ebl_core::Replacement::of))
                .transpose()?;
            let reference = document.facts().transport_document_reference.clone();
            let key = wallet.signer(&signer.as_key)?;
            let outcome = wallet.act(
                &key,
                Action::Issue {
                    document,
                    issue_to,
                    shipper,
                    consignee,
                    replaces,
                },
            )?;
            let id = outcome.id();
            let mut o = submitted(
                wallet,
                outcome,
                format!("issued bill {reference} to {to}\nbill id {id}"),
            )?;
            o.json["bill"] = json!(id);
            Ok(o)
        }
        BillCommand::Transfer { bill, to, signer } => {
            let bill = wallet.bill_id(&bill)?;
            let party = wallet.party(&to)?;
            act(
                &signer,
                Action::Transfer { bill, to: party.id },
                &format!("transferred possession to {}", party.name()),
            )
        }
        BillCommand::Endorse {
            bill,
            to,
            to_order,
            blank,
            signer,
        } => {
            let bill = wallet.bill_id(&bill)?;
            if blank {
                return act(
                    &signer,
                    Action::BlankEndorse { bill },
                    "endorsed in blank: the bill is now a bearer document",
                );
            }
            let to = to.ok_or_else(|| {
                CliError::from(Refusal::MissingEndorsee(String::from(
                    "name the endorsee with --to, or endorse in blank with --blank",
                )))
            })?;
            let party = wallet.party(&to)?;
            if to_order {
                act(
                    &signer,
                    Action::EndorseToOrder { bill, to: party.id },
                    &format!("endorsed to the order of {}", party.name()),
                )
            } else {
                act(
                    &signer,
                    Action::Endorse { bill, to: party.id },
                    &format!("endorsed to {}", party.name()),
                )
            }
        }
        BillCommand::Sign { bill, signer } => act(
            &signer,
            Action::Sign {
                bill: wallet.bill_id(&bill)?,
            },
            "signed for possession",
        ),
        BillCommand::Surrender {
            bill,
            amend,
            signer,
        } => {
            let bill = wallet.bill_id(&bill)?;
            match amend {
                None => act(
                    &signer,
                    Action::SurrenderForDelivery { bill },
                    "surrendered for delivery; the carrier will answer",
                ),
                Some(code) => {
                    let reason =
                        AmendmentReason::from_code(&code.to_uppercase()).ok_or_else(|| {
                            CliError::from(Refusal::BadReason(format!(
                                "amendment reason {code:?}: use SWTP, COD or SWI"
                            )))
                        })?;
                    act(
                        &signer,
                        Action::SurrenderForAmendment { bill, reason },
                        &format!("surrendered for amendment ({})", reason.code()),
                    )
                }
            }
        }
        BillCommand::AcceptSurrender {
            bill,
            paper_number,
            paper_date,
            signer,
        } => match (paper_number, paper_date) {
            (Some(number), Some(issued_on)) => act(
                &signer,
                Action::AcceptSurrenderToPaper {
                    bill: wallet.bill_id(&bill)?,
                    paper: ebl_core::PaperBill {
                        number: number.clone(),
                        issued_on,
                    },
                },
                &format!(
                    "surrender accepted: the bill is switched to paper bill {number} and ends here"
                ),
            ),
            _ => act(
                &signer,
                Action::AcceptSurrender {
                    bill: wallet.bill_id(&bill)?,
                },
                "surrender accepted",
            ),
        },
        BillCommand::Refuse { bill, signer } => act(
            &signer,
            Action::Refuse {
                bill: wallet.bill_id(&bill)?,
            },
            "refused: possession and title are back where they were",
        ),
        BillCommand::Replace {
            old,
            documents,
            to,
            consignee,
            signer,
        } => {
            let olds = old
                .iter()
                .map(|o| wallet.bill_id(o))
                .collect::<Result<Vec<_>>>()?;
            let key = wallet.signer(&signer.as_key)?;
            let issue_to = wallet.party(&to)?.id;
            let consignee = consignee
                .map(|c| wallet.party(&c).map(|p| p.id))
                .transpose()?;
            let first = olds
                .first()
                .ok_or(crate::error::WalletRule::NoBillToReplace)?;
            let shipper = wallet.node.bill(first, &key)?.bill.shipper;
            let count = u16::try_from(documents.len()).unwrap_or(u16::MAX);
            let replacement = ebl_core::Replacement { bills: olds, count };
            let mut issued = Vec::new();
            for file in &documents {
                let document = read_document(file)?;
                let reference = document.facts().transport_document_reference.clone();
                let outcome = wallet.act(
                    &key,
                    Action::Issue {
                        document,
                        issue_to,
                        shipper,
                        consignee,
                        replaces: Some(replacement.clone()),
                    },
                )?;
                issued.push(
                    json!({"bill": outcome.id(), "reference": reference, "outcome": outcome}),
                );
            }
            let human = issued
                .iter()
                .map(|i| {
                    format!(
                        "replacement {} issued to {to}: bill id {}",
                        i["reference"].as_str().unwrap_or(""),
                        i["bill"].as_str().unwrap_or("")
                    )
                })
                .collect::<Vec<_>>()
                .join("\n");
            Ok(out(
                json!({"replaced": replacement.bills, "issued": issued}),
                human,
            ))
        }
        BillCommand::RejectSurrender { bill, signer } => act(
            &signer,
            Action::RejectSurrender {
                bill: wallet.bill_id(&bill)?,
            },
            "surrender rejected: the bill is back with who surrendered it",
        ),
        BillCommand::Pledge {
            bill,
            bank,
            amount,
            currency,
            loan,
            out: path,
            valid_hours,
            signer,
        } => {
            let bill = wallet.bill_id(&bill)?;
            let loan = Loan {
                reference: loan,
                amount_minor: parse_amount(&amount)?,
                currency: currency.to_uppercase(),
            };
            let key = wallet.signer(&signer.as_key)?;
            let offer = wallet.offer_pledge(&key, bill, &bank, loan, valid_hours)?;
            let text = serde_json::to_vec_pretty(&offer)
                .map_err(|e| CliError::io("encoding the offer", e))?;
            write_output(&path, &text, force)?;
            Ok(out(
                json!({"offer": path, "bill": bill, "transaction": offer.transaction.id()}),
                format!("pledge offer written to {}\nsend it to {bank}; they review it with `ebl bill pledge-review` and accept with `ebl bill pledge-accept`", path.display()),
            ))
        }
        BillCommand::PledgeReview { offer, signer } => {
            let offer: PledgeOffer = read_json(&offer, "pledge offer", BUNDLE_BYTES_MAX)?;
            let key = wallet.signer(&signer.as_key)?;
            let review = wallet.review_pledge(&offer, &key)?;
            let human = review_text(&review);
            Ok(out(to_json(&review), human))
        }
        BillCommand::PledgeAccept { offer, signer } => {
            let offer: PledgeOffer = read_json(&offer, "pledge offer", BUNDLE_BYTES_MAX)?;
            let key = wallet.signer(&signer.as_key)?;
            let (review, outcome) = wallet.accept_pledge(&offer, &key)?;
            let mut o = submitted(
                wallet,
                outcome,
                format!(
                    "{}\npledge accepted and co-signed: the bank now holds the bill",
                    review_text(&review)
                ),
            )?;
            o.json["review"] = to_json(&review);
            Ok(o)
        }
        BillCommand::Release { bill, signer } => act(
            &signer,
            Action::Release {
                bill: wallet.bill_id(&bill)?,
            },
            "pledge released: possession is back with the pledgor",
        ),
        BillCommand::Enforce { bill, signer } => act(
            &signer,
            Action::Enforce {
                bill: wallet.bill_id(&bill)?,
            },
            "pledge enforced: the bank holds title and possession",
        ),
        BillCommand::List { signer } => {
            let key = wallet.signer(&signer.as_key)?;
            let bills = wallet.node.my_bills(&key)?;
            let (_, names) = names(wallet)?;
            if lang == Lang::Zh {
                return Ok(out(to_json(&bills), output::zh::worklist(&names, &bills)));
            }
            // Padded by display width, so a party's Chinese name keeps the columns straight.
            let mut human = format!(
                "{} {} {} {} title",
                pad("reference", 22),
                pad("status", 18),
                pad("possessor", 28),
                pad("bill id", 64)
            );
            for b in &bills {
                human.push_str(&format!(
                    "\n{} {} {} {} {}",
                    pad(&b.reference, 22),
                    pad(b.status.name(), 18),
                    pad(&output::name(&names, &b.possessor), 28),
                    pad(&b.id.to_hex(), 64),
                    output::title(&names, &b.title)
                ));
            }
            if bills.is_empty() {
                human = "no bills: you have no part in any bill now".into();
            }
            Ok(out(to_json(&bills), human))
        }
        BillCommand::Show { bill, signer } => {
            let bill = wallet.bill_id(&bill)?;
            let key = wallet.signer(&signer.as_key)?;
            let view = wallet.node.bill(&bill, &key)?;
            let (_, names) = names(wallet)?;
            Ok(out(
                json!({"bill": view.bill, "document": view.document}),
                match lang {
                    Lang::Zh => output::zh::bill(&names, &view.bill),
                    Lang::En => output::bill(&names, &view.bill),
                },
            ))
        }
        BillCommand::History { bill, signer } => {
            let bill = wallet.bill_id(&bill)?;
            let key = wallet.signer(&signer.as_key)?;
            let history = wallet.history(&bill, &key)?;
            let (parties, names) = names(wallet)?;
            Ok(out(
                to_json(&history),
                match lang {
                    Lang::Zh => output::zh::timeline(&names, &parties, &history),
                    Lang::En => output::timeline(&names, &parties, &history),
                },
            ))
        }
        BillCommand::Status { bill, signer } => {
            let bill = wallet.bill_id(&bill)?;
            let key = wallet.signer(&signer.as_key)?;
            let statement = wallet.node.status(&bill, &key)?;
            // From the pinned chain, signed by the node of a current member.
            crate::pins::Pins::load(&wallet.home)?.check(&statement.statement.chain, None)?;
            let registry = wallet.registry_now()?;
            let signer = registry
                .member_by_node(&statement.signer)
                .map(|m| m.name.clone())
                .ok_or_else(|| {
                    let e = ebl_core::Error::NotNode;
                    CliError::new(Kind::Verification, e.code(), e.to_string())
                })?;
            statement.verify(&statement.signer).map_err(|e| {
                CliError::new(
                    Kind::Verification,
                    e.code(),
                    format!("the node's statement does not verify: {e}"),
                )
            })?;
            let (_, names) = names(wallet)?;
            let s = &statement.statement;
            let human = if lang == Lang::Zh {
                format!(
                    "状态声明由 {signer} 的节点签署，已验证\n{}{}\n{}{}\n{}{}\n{}{}（共 {} 笔交易）\n{}高度 {}，{}",
                    pad("占有人", 12),
                    output::name(&names, &s.possessor),
                    pad("权利", 12),
                    output::zh::title(&names, &s.title),
                    pad("状态", 12),
                    output::zh::status(&names, &s.status),
                    pad("最新交易", 12),
                    s.head,
                    s.transactions,
                    pad("数据截至", 12),
                    s.height,
                    output::timestamp(s.time_ms)
                )
            } else {
                format!(
                "statement signed by the node of {signer}, verified\npossessor   {}\ntitle       {}\nstatus      {}\nhead        {} ({} transactions)\nas of       height {} at {}",
                output::name(&names, &s.possessor),
                output::title(&names, &s.title),
                output::status(&names, &s.status),
                s.head,
                s.transactions,
                s.height,
                output::timestamp(s.time_ms)
            )
            };
            Ok(out(to_json(&statement), human))
        }
        BillCommand::Export {
            bill,
            out: path,
            signer,
        } => {
            let bill = wallet.bill_id(&bill)?;
            let key = wallet.signer(&signer.as_key)?;
            let bundle = wallet.export(&bill, &key)?;
            let text = serde_json::to_vec_pretty(&bundle)
                .map_err(|e| CliError::io("encoding the bundle", e))?;
            write_output(&path, &text, force)?;
            Ok(out(
                json!({"bundle": path, "bill": bill, "transactions": bundle.transactions.len(), "bytes": text.len()}),
                format!("proof bundle of {} transactions written to {} ({} bytes)\nverify it anywhere with `ebl verify {}`", bundle.transactions.len(), path.display(), text.len(), path.display()),
            ))
        }
    }
}

fn review_text(review: &crate::wallet::PledgeReview) -> String {
    let names = &review.verdict.names;
    let f = &review.freshness;
    let fresh = if review.fresh {
        format!(
            "yes: nothing happened to the bill since the offer (checked with the node at {})",
            output::timestamp(f.checked_at_ms)
        )
    } else {
        let moves: Vec<String> = f
            .moved
            .iter()
            .map(|m| {
                format!(
                    "{} at {} (block {})",
                    m.action,
                    output::timestamp(m.block_time_ms),
                    m.height
                )
            })
            .collect();
        format!(
            "NO: since the offer the bill moved: {} (checked at {}); the ledger will refuse this pledge",
            moves.join(", "),
            output::timestamp(f.checked_at_ms)
        )
    };
    let validity = match (review.valid_until_ms, review.expired) {
        (Some(t), true) => format!(
            "EXPIRED at {}: the ledger will refuse it",
            output::timestamp(t)
        ),
        (Some(t), false) => format!("until {}", output::timestamp(t)),
        (None, _) => "no limit".to_owned(),
    };
    format!(
        "{}\npledge      {} pledges to {} for {} (loan {})\nfresh       {fresh}\nvalid       {validity}",
        output::verdict(&review.verdict),
        output::name(names, &review.pledgor),
        output::name(names, &review.pledgee),
        output::money(review.loan.amount_minor, &review.loan.currency),
        review.loan.reference,
    )
}

/// Writes a command's output file, refusing to replace one that exists unless `--force` says so.
fn write_output(path: &Path, contents: &[u8], force: bool) -> Result<()> {
    if !force && path.exists() {
        return Err(crate::error::WalletRule::FileExists {
            path: path.display().to_string(),
        }
        .into());
    }
    write_file(path, contents)
}

/// Offline verification of a bundle file.
pub fn verify(
    wallet: &Wallet,
    file: &Path,
    chain: Option<&ebl_core::Hash>,
    pint_trust: Option<&Path>,
    lang: crate::lang::Lang,
) -> Result<Out> {
    let bytes = read_file(file, "proof bundle", BUNDLE_BYTES_MAX)?;
    let bundle = Bundle::from_json(&bytes)
        .map_err(|f| CliError::usage(f.error.code(), format!("{}: {}", file.display(), f)))?;
    // A bundle proves itself consistent with its own genesis; only a pinned chain makes it trusted.
    crate::pins::Pins::load(&wallet.home)?
        .check(&bundle.genesis.chain_id(), chain)
        .map_err(|e| CliError {
            message: format!("INVALID: {}", e.message),
            ..e
        })?;
    let verdict = bundle.verify().map_err(|f| {
        CliError::new(
            Kind::Verification,
            f.error.code(),
            format!("INVALID at {}: {}", f.place, f.error),
        )
    })?;
    let mut human = match lang {
        crate::lang::Lang::Zh => output::zh::verdict(&verdict),
        crate::lang::Lang::En => output::verdict(&verdict),
    };
    let mut json = json!({"valid": true, "verdict": verdict});
    // The ledger vouches for an import by the node's signature; the history before it was signed by
    // other platforms, and is checked here against keys the verifier chooses to trust.
    let imported = bundle
        .transactions
        .iter()
        .find_map(|e| match &e.transaction.body.action {
            ebl_core::Action::Import { envelope, .. } => Some(envelope.clone()),
            _ => None,
        });
    if let Some(envelope) = imported {
        match pint_trust {
            Some(dir) => {
                let trust = trust_store(dir)?;
                let foreign =
                    ebl_pint::verify_envelope(envelope.as_bytes(), &trust).map_err(|f| {
                        CliError::new(
                            Kind::Verification,
                            f.code.code(),
                            format!(
                                "INVALID: the history the bill arrived with fails: {} at {}: {}",
                                f.code.code(),
                                f.place,
                                f.reason
                            ),
                        )
                    })?;
                human.push_str(&format!(
                    "\nimported    over PINT; its earlier history checks out: {} (signed by {})",
                    foreign.actions.join(" -> "),
                    foreign.platforms.join(", ")
                ));
                json["imported"] = to_json(&foreign);
            }
            None => {
                human.push_str("\nimported    over PINT; its earlier history was not checked (pass --pint-trust DIR)");
                json["imported"] = json!({"checked": false});
            }
        }
    }
    Ok(out(json, human))
}

/// Reads a trust directory: platform keys (`*.jwk`, `*.json`) and root certificates (`*.crt`, `*.pem`),
/// with certificates checked at the current time.
pub(crate) fn trust_store(trust_dir: &Path) -> Result<ebl_pint::TrustStore> {
    use ebl_node::pint::{read_trust_dir, TrustDirError};
    let trust = read_trust_dir(trust_dir).map_err(|e| match e {
        TrustDirError::Unreadable { .. } => {
            CliError::from(Refusal::UnreadableTrustStore(e.to_string()))
        }
        TrustDirError::BadFile { .. } => CliError::from(Refusal::BadTrustFile(e.to_string())),
        TrustDirError::UnboundKey { .. } => CliError::from(Refusal::UnboundTrustKey(e.to_string())),
        TrustDirError::NotAPlatform { .. } => {
            CliError::from(Refusal::NotAPlatformDirectory(e.to_string()))
        }
    })?;
    if trust.is_empty() {
        return Err(CliError::from(Refusal::EmptyTrustStore(format!(
            "no usable JWK (Ed25519, P-256, or RSA of 2048 bits or more) or root certificate in {}",
            trust_dir.display()
        ))));
    }
    Ok(trust.at_time(crate::wallet::now_ms()))
}

/// Offline verification of a PINT envelope against a directory of trusted keys and roots.
pub fn pint_verify(file: &Path, trust_dir: &Path) -> Result<Out> {
    use ebl_pint::{verify_envelope, ENVELOPE_BYTES_MAX};
    let trust = trust_store(trust_dir)?;
    let bytes = read_file(file, "PINT envelope", ENVELOPE_BYTES_MAX)?;
    match verify_envelope(&bytes, &trust) {
        Ok(v) => {
            let documents: Vec<String> = v
                .documents
                .iter()
                .map(|d| format!("{} ({} bytes)", d.name, d.size))
                .collect();
            let human = format!(
                "RECE: the envelope checks out\nreference   {}\nchecksum    {}\nchain       {}\nplatforms   {}\ndocuments   {}",
                v.transport_document_reference,
                v.document_checksum,
                v.actions.join(" -> "),
                v.platforms.join(" -> "),
                if documents.is_empty() { "none required".to_owned() } else { documents.join(", ") }
            );
            Ok(out(to_json(&v), human))
        }
        Err(f) => Err(CliError::new(
            Kind::Verification,
            f.code.code(),
            format!("{} at {}: {}", f.code.code(), f.place, f.reason),
        )),
    }
}

/// The additional documents in `dir`, by their SHA-256.
fn documents_in(dir: &Path) -> Result<std::collections::BTreeMap<ebl_core::Hash, Vec<u8>>> {
    let mut found = std::collections::BTreeMap::new();
    let entries = std::fs::read_dir(dir).map_err(|e| {
        CliError::from(Refusal::UnreadableDocuments(format!(
            "cannot read {}: {e}",
            dir.display()
        )))
    })?;
    for entry in entries.filter_map(std::result::Result::ok) {
        let path = entry.path();
        if path.is_file() {
            let content = read_file(&path, "document", ebl_pint::ADDITIONAL_DOCUMENT_BYTES_MAX)?;
            found.insert(ebl_core::Hash::of(&content), content);
        }
    }
    Ok(found)
}

/// `ebl pint import`: the PINT sender's side of a transfer into the node, ending in its signed answer.
/// Each step follows `ebl_pint::Outbound` (what a sending platform does after each answer); the answer
/// that ends it is shown as `pint_answer` reads it.
pub fn pint_import(wallet: &Wallet, file: &Path, documents: Option<&Path>) -> Result<Out> {
    use ebl_pint::Next;
    let envelope = read_file(file, "PINT envelope", ebl_pint::ENVELOPE_BYTES_MAX)?;
    // The answer must be signed by the node this wallet talks to: its key alone is trusted, under a
    // binding of its own.
    let mut trust = ebl_pint::TrustStore::default();
    let jwk = wallet.node.pint_jwk()?;
    trust
        .add_jwks(jwk.to_string().as_bytes(), &answering_node())
        .map_err(|f| CliError::from(Refusal::BadAnswer(f.reason)))?;
    let text = String::from_utf8_lossy(&envelope).into_owned();
    let last_entry = serde_json::from_str::<serde_json::Value>(&text)
        .map_or(ebl_core::Hash::ZERO, |e| ebl_pint::last_entry_checksum(&e));
    let outbound = ebl_pint::Outbound {
        trust: trust.clone(),
        receiver: answering_node(),
        last_entry_checksum: last_entry,
        documents: ebl_pint::accepted_documents(&text)
            .iter()
            .map(|d| d.checksum)
            .collect(),
    };
    let available = match documents {
        Some(dir) => documents_in(dir)?,
        None => Default::default(),
    };
    let (mut status, mut body) = wallet.node.pint("POST", "/v3/envelopes", envelope)?;
    let mut next = outbound.after_start(status, &body);
    for _ in 0..ebl_pint::SEND_ATTEMPTS_MAX {
        next = match next {
            Next::Upload { reference, missing } => {
                let mut after = Next::Finish {
                    reference: reference.clone(),
                };
                for checksum in &missing {
                    // A document we do not hold is left out: the finish answers MDOC, shown with a hint.
                    let Some(content) = available.get(checksum) else {
                        continue;
                    };
                    let upload = serde_json::to_vec(&ebl_pint::base64_encode(content))
                        .map_err(|e| CliError::io("encoding a document", e))?;
                    let path = format!(
                        "/v3/envelopes/{reference}/additional-documents/{}",
                        checksum.to_hex()
                    );
                    (status, body) = wallet.node.pint("PUT", &path, upload)?;
                    if let Some(step) = outbound.after_document(status, &body, &reference) {
                        after = step;
                        break;
                    }
                }
                if let Next::Upload { missing, .. } = &after {
                    if missing.iter().any(|m| !available.contains_key(m)) {
                        // Asked again for what we do not hold: the finish says which.
                        after = Next::Finish {
                            reference: reference.clone(),
                        };
                    }
                }
                after
            }
            Next::Finish { reference } => {
                (status, body) = wallet.node.pint(
                    "PUT",
                    &format!("/v3/envelopes/{reference}/finish-transfer"),
                    Vec::new(),
                )?;
                match outbound.after_finish(status, &body, &reference) {
                    // MDOC for documents we do not hold ends here, with the node's answer.
                    Next::Upload { missing, .. }
                        if missing.iter().any(|m| !available.contains_key(m)) =>
                    {
                        break
                    }
                    other => other,
                }
            }
            // Decided, or no answer that decides: shown as the node gave it.
            _ => break,
        };
    }
    pint_answer(&trust, status, &body)
}

/// Whom `ebl pint import` trusts to answer: the node it sent the envelope to.
fn answering_node() -> ebl_pint::Binding {
    ebl_pint::Binding::platform("the node")
}

/// Reads the node's signed answer: RECE or DUPE succeed, every other code is the error it names.
fn pint_answer(trust: &ebl_pint::TrustStore, status: u16, body: &serde_json::Value) -> Result<Out> {
    let Some(jws) = body.as_str() else {
        return Err(CliError::new(
            if status < 500 {
                Kind::Usage
            } else {
                Kind::Other
            },
            &format!("http_{status}"),
            body["statusCodeMessage"]
                .as_str()
                .map_or_else(|| body.to_string(), str::to_owned),
        ));
    };
    let payload = ebl_pint::verified_jws(jws, trust, &answering_node()).map_err(|f| {
        CliError::from(Refusal::UnsignedAnswer(format!(
            "the node's answer is not signed by the node: {}",
            f.reason
        )))
    })?;
    let code = payload["responseCode"].as_str().unwrap_or("").to_owned();
    let reason = payload["reason"].as_str().unwrap_or("").to_owned();
    use ebl_pint::PintCode;
    match PintCode::from_code(&code) {
        Some(answer @ (PintCode::Received | PintCode::Duplicate)) => Ok(out(
            payload.clone(),
            format!(
                "{code}: the node accepted the envelope{}",
                if answer == PintCode::Duplicate {
                    " (it had already)"
                } else {
                    ""
                }
            ),
        )),
        Some(PintCode::MissingDocument) => Err(CliError::new(
            Kind::Verification,
            PintCode::MissingDocument.code(),
            format!(
                "MDOC: additional documents are missing: {}",
                payload["missingAdditionalDocumentChecksums"]
            ),
        )
        .with_hint(
            "put the documents the manifest names in a directory and pass it with --documents",
        )),
        _ => Err(CliError::new(
            Kind::Verification,
            &code,
            format!("{code}: {reason}"),
        )),
    }
}

/// A file name for a document another platform named: its own name if that is a plain file name,
/// otherwise its checksum (a foreign name must never pick the directory a file lands in).
fn document_file_name(name: &str, checksum: &ebl_core::Hash) -> String {
    let plain = !name.is_empty()
        && name.len() <= 100
        && name != "."
        && name != ".."
        && !name.contains(['/', '\\', '\0']);
    if plain {
        name.to_owned()
    } else {
        checksum.to_hex()
    }
}

/// `ebl pint documents`: list, and with `out` download, an imported bill's additional documents.
pub fn pint_documents(
    wallet: &Wallet,
    bill: &ebl_core::BillId,
    key: &ebl_core::SigningKey,
    out_dir: Option<&Path>,
) -> Result<Out> {
    let listed = wallet.node.bill_documents(bill, key)?;
    let mut lines = Vec::new();
    let mut written = Vec::new();
    for d in &listed {
        let name = d["name"].as_str().unwrap_or("");
        let available = d["available"].as_bool().unwrap_or(false);
        lines.push(format!(
            "{} {} ({} bytes){}",
            d["checksum"].as_str().unwrap_or(""),
            name,
            d["size"],
            if available {
                ""
            } else {
                ", not held by this node"
            }
        ));
        let (Some(dir), true) = (out_dir, available) else {
            continue;
        };
        let checksum: ebl_core::Hash = d["checksum"]
            .as_str()
            .and_then(|c| c.parse().ok())
            .ok_or_else(|| {
                CliError::from(Refusal::BadAnswer(String::from(
                    "a document without a checksum",
                )))
            })?;
        let document = wallet.node.bill_document(bill, &checksum, key)?;
        let content = document["content"]
            .as_str()
            .and_then(ebl_pint::base64_decode)
            .ok_or_else(|| {
                CliError::from(Refusal::BadAnswer(String::from(
                    "a document that is not base64",
                )))
            })?;
        // Checked here too: the wallet trusts the checksum the envelope named, not the node.
        if ebl_core::Hash::of(&content) != checksum {
            return Err(CliError::from(Refusal::DocumentChecksumMismatch(format!(
                "document {checksum} does not have its checksum"
            ))));
        }
        std::fs::create_dir_all(dir).map_err(|e| CliError::io("creating the directory", e))?;
        let path = dir.join(document_file_name(name, &checksum));
        write_file(&path, &content)?;
        written.push(path);
    }
    let mut human = if listed.is_empty() {
        "no additional documents (the bill was not imported, or arrived without any)".to_owned()
    } else {
        lines.join("\n")
    };
    if !written.is_empty() {
        human.push_str(&format!("\n{} written", written.len()));
    }
    Ok(out(json!({"documents": listed, "written": written}), human))
}

#[cfg(test)]
mod tests {
    use super::document_file_name;

    #[test]
    fn a_foreign_document_name_never_picks_the_directory() {
        let sum = ebl_core::Hash::of(b"x");
        assert_eq!(document_file_name("invoice.pdf", &sum), "invoice.pdf");
        for hostile in [
            "../../.bashrc",
            "/etc/passwd",
            "a\\b",
            "..",
            ".",
            "",
            "nul\0byte",
        ] {
            assert_eq!(
                document_file_name(hostile, &sum),
                sum.to_hex(),
                "{hostile:?}"
            );
        }
        assert_eq!(document_file_name(&"n".repeat(101), &sum), sum.to_hex());
    }
}
