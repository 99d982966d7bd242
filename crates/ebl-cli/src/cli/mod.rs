//! The `ebl` command line: arguments, then each command as a call into the wallet, then output.
//! The commands' bodies live beside this file, one family each.

mod bill;
mod doc;
mod key;
mod party;
mod pint;
mod tx;
mod verify;

use bill::bill;
pub(crate) use bill::names;
use doc::doc_check;
use key::key;
use party::party;
pub(crate) use pint::trust_store;
pub use pint::{pint_documents, pint_import, pint_verify};
pub(crate) use verify::invalid;
pub use verify::verify;

use std::path::{Path, PathBuf};

use clap::{Args, Parser, Subcommand};
use ebl_core::api::SubmitOutcome;
use ebl_core::{jcs, Document, PartyKey};
use serde_json::{json, Value};

use crate::error::{CliError, Refusal, Result};
use crate::output;
use crate::wallet::{read_file, write_file, Wallet};

/// The exit codes and environment, as `ebl --help` ends.
pub const EXIT_CODES: &str = "\
Exit codes:
  0  success
  1  other failure (local IO, the node's storage)
  2  bad usage or input: malformed document, unknown bill or party, wrong passphrase
  3  the ledger refused the transaction by one of its rules, or would: acting on a bill you have no
     part in, accepting a pledge offer made to another bank (the rule's code is printed)
  4  verification failed: a chain, proof bundle, statement or receipt does not check out
  5  the node cannot be reached or did not answer in time

Environment: EBL_HOME (wallet home, default ~/.ebl), EBL_NODE (node address, or several separated by commas), EBL_NODE_CERT (the node's TLS certificate), EBL_PASSPHRASE (for scripts;
without it the passphrase is asked on the terminal).";

// No doc comments on the parser and the subcommand enums themselves: clap would make them the
// commands' about text, over the one each command's own line gives.
#[derive(Parser, Debug)]
#[allow(missing_docs)]
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
    /// The node's TLS certificate (PEM; its `tls/cert.pem`, or the CA that signed it): the only
    /// certificate accepted from an https node. Without it, the host's root certificates.
    #[arg(long, global = true, env = "EBL_NODE_CERT", value_name = "FILE")]
    pub node_cert: Option<PathBuf>,
    /// Allow plain http:// to a node on another machine (signed reads and documents cross the network
    /// readable). Plain HTTP to this machine (loopback) is always allowed.
    #[arg(long, global = true)]
    pub insecure_plain_http: bool,
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
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
#[allow(missing_docs)]
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
    /// Signed transactions as files: sign a bill action without submitting it, show one, submit one
    /// written elsewhere (the signed bytes: docs/signing.md).
    #[command(subcommand)]
    Tx(TxCommand),
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
    /// Write the browser verifier: one HTML file that checks proof bundles in any browser, offline, with
    /// the same code and words as `ebl verify` (WebAssembly inside), for a bank to keep or publish.
    Verifier {
        /// The file to write.
        #[arg(short, long)]
        out: PathBuf,
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
    Completions {
        /// The shell to complete for.
        shell: clap_complete::Shell,
    },
    /// A carrier's connector: DCSA's eBL Issuance API 3.0 served to the carrier's documentation system,
    /// issuing on the ledger with the carrier's key from this wallet.
    #[command(subcommand)]
    Carrier(CarrierCommand),
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
#[allow(missing_docs)]
pub enum PintCommand {
    /// Export a bill's history as a PINT EblEnvelope signed by the node (PLEDGE, RELEASE and ENFORCE
    /// appear as TRANSFER / ENDORSE_TO_ORDER with x-ebl-action naming them).
    Export {
        /// The bill: its reference (CODE/REFERENCE if two carriers share it), its id, or 8 or more leading digits of its id.
        bill: String,
        /// The file to write.
        #[arg(short, long)]
        out: PathBuf,
        /// The acting key.
        #[command(flatten)]
        signer: Signer,
    },
    /// List the additional documents an imported bill arrived with (invoice, packing list, the carrier's
    /// visualisation); with -o, download those the node holds into DIR, each checked against its
    /// checksum.
    Documents {
        /// The bill: its reference (CODE/REFERENCE if two carriers share it), its id, or 8 or more leading digits of its id.
        bill: String,
        /// The directory to download the documents into.
        #[arg(short, long)]
        out: Option<PathBuf>,
        /// The acting key.
        #[command(flatten)]
        signer: Signer,
    },
    /// Write the node's public key as a JWK, for a receiving platform's trust store.
    Jwk {
        /// The file to write the JWK to.
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
    /// Send a bill to a party on another platform over DCSA PINT. The holder signs SEND_OUT (the bill
    /// is frozen; a pledged bill must be released first); the node then offers the envelope to the
    /// platform at the address in its `pint/trust/<CODE>/url`, with the documents it names, until that
    /// platform gives a signed answer, and records it. This waits for the answer (up to --wait
    /// seconds): exit 0 when the platform received the bill, 3 when it refused or disputes it, 5
    /// (`send_pending`) when it gave no signed answer in time (the bill stays frozen; the node keeps
    /// trying).
    Send {
        /// The bill: its reference (CODE/REFERENCE if two carriers share it), its id, or 8 or more leading digits of its id.
        bill: String,
        /// The receiving platform's PINT code (eblPlatform).
        #[arg(long)]
        platform: String,
        /// The recipient's code on that platform (on another ebl platform, its party id).
        #[arg(long)]
        recipient: String,
        /// The code list the recipient's code is from (default: the platform's own code); LEI, DID and
        /// DUNS go out under DCSA's providers for them (GLEIF, W3C, DNB), other lists off DCSA's as ZZZ.
        #[arg(long)]
        scheme: Option<String>,
        /// The recipient's name, as the receiving platform knows it (default: its code).
        #[arg(long)]
        name: Option<String>,
        /// How long to wait for the receiving platform's answer, in seconds; the node keeps trying after.
        #[arg(long, default_value_t = 30)]
        wait: u64,
        /// The acting key.
        #[command(flatten)]
        signer: Signer,
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
#[allow(missing_docs)]
pub enum TxCommand {
    /// Sign a bill action against the bill's current head and write it to a file instead of submitting
    /// it: `ebl tx sign -o tx.json transfer BILL --to BUYER --as KEY`. The head is read from the node;
    /// a transaction submitted after the bill moved on is refused (stale_head).
    Sign {
        /// The file to write the signed transaction to.
        #[arg(short, long)]
        out: PathBuf,
        /// The bill action to sign, as `ebl bill` takes it.
        #[command(subcommand)]
        action: BillCommand,
    },
    /// Check a signed transaction file offline: its structure, its id and every signature.
    Show {
        /// The signed transaction file.
        file: PathBuf,
    },
    /// Submit a signed transaction file (`ebl tx sign`'s, or a SignedTransaction JSON as the API takes
    /// it), checked first as `tx show` checks it; the receipt is checked as every submission's is.
    Submit {
        /// The signed transaction file.
        file: PathBuf,
    },
}

#[derive(Subcommand, Debug)]
#[allow(missing_docs)]
pub enum KeyCommand {
    /// Make a new key pair; the private key is stored encrypted with your passphrase.
    New {
        /// The key's name in this wallet.
        name: String,
    },
    /// List the keys in this wallet.
    List,
    /// Show a key's public half: what the operator registers.
    Show {
        /// The key's name in this wallet.
        name: String,
    },
    /// Import a private key: a backup written by `ebl key export` (asks its passphrase), or a file
    /// holding a 32-byte seed as hex (`-`: standard input, as `ebl-node init` prints the development
    /// operator key).
    Import {
        /// The name to keep the key under.
        name: String,
        /// The backup, or the file holding the seed as hex (`-`: standard input).
        file: PathBuf,
    },
    /// Back a key up: write its key file, still encrypted under its passphrase (asked, to prove the
    /// backup opens), for `ebl key import` on another machine.
    Export {
        /// The key's name in this wallet.
        name: String,
        /// The file to write.
        #[arg(short, long)]
        out: PathBuf,
    },
}

/// The key a read is signed with: the node shows parties, the registry and blocks to registered
/// parties and members only. Optional when the wallet holds one key.
#[derive(Args, Debug)]
pub struct Reader {
    /// The wallet key the reads are signed with.
    #[arg(long = "as", value_name = "KEY")]
    pub as_key: Option<String>,
}

/// The key that signs an action: the acting party. (A flattened clap struct's doc is not shown.)
#[derive(Args, Debug)]
pub struct Signer {
    /// The wallet key that signs (the acting party).
    #[arg(long = "as", value_name = "KEY")]
    pub as_key: String,
}

/// `ebl carrier`: the carrier's connector to its documentation system.
#[derive(Subcommand, Debug)]
pub enum CarrierCommand {
    /// Serve `PUT /v3/ebl-issuance-requests` on a loopback address: each request whose issuance manifest
    /// a key of the carrier's (in `--carrier-keys`) signed is issued on the ledger, signed with `--as`,
    /// and answered ISSU, BREQ or REFU at the carrier's `POST /v3/ebl-issuance-responses`, retried until
    /// taken. A reference asked twice is answered 409. Ctrl-C stops it; a restart goes on where it was.
    Serve {
        /// The carrier's key in this wallet, which signs the issuances.
        #[arg(long = "as", value_name = "KEY")]
        as_key: String,
        /// The carrier as transport documents name it: `<carrierCodeListProvider>:<carrierCode>`.
        #[arg(long, value_name = "PROVIDER:CODE")]
        carrier: String,
        /// A PINT trust directory with the keys or root certificates that sign the carrier's issuance
        /// manifests: `<PLATFORM>/carrier.<PROVIDER>.<CODE>.{jwk,pem,crt}`.
        #[arg(long, value_name = "DIR")]
        carrier_keys: PathBuf,
        /// Where the carrier's system takes answers: the base URL of its `/v3/ebl-issuance-responses`.
        #[arg(long, value_name = "URL")]
        answers_to: String,
        /// This ledger's PINT platform code, the `sendToPlatform` of the parties it hosts.
        #[arg(long, default_value = ebl_pint::PLATFORM_CODE_DEFAULT)]
        platform: String,
        /// Where to listen: a loopback address; port 0 picks a free one.
        #[arg(long, default_value = "127.0.0.1:0")]
        listen: std::net::SocketAddr,
        /// A file holding the token the carrier's system shows (`Authorization: Bearer TOKEN`) when it
        /// answers a surrender at `POST /v3/ebl-surrender-responses`. Without it, surrender answers are
        /// refused (401) and surrenders are answered with `ebl bill accept-surrender`.
        #[arg(long, value_name = "FILE")]
        system_token_file: Option<PathBuf>,
        /// The first wait, in milliseconds, before an answer the carrier's system did not take (or a
        /// ledger that could not be reached) is tried again; it doubles up to a minute.
        #[arg(long, default_value_t = 1000)]
        retry_ms: u64,
        /// How often, in milliseconds, the ledger is read for surrenders of the carrier's bills, each told
        /// to the carrier's system at `POST /v3/ebl-surrender-requests`.
        #[arg(long, default_value_t = 2000)]
        poll_ms: u64,
        /// A switch to paper the system accepts (SURR) is noted on the ledger as the paper bill carrying
        /// the electronic bill's transport document reference, issued on the day of acceptance (the
        /// carrier prints it under the same number). Without this, such a SURR is refused and the carrier
        /// notes the paper bill with `ebl bill accept-surrender --paper-number N --paper-date D`.
        #[arg(long)]
        paper_bill_is_reference: bool,
    },
}

/// Where a governance change that needs more admins' signatures is written.
#[derive(Args, Debug)]
pub struct ProposalOut {
    /// Write the change as a proposal file for the other admins to co-sign (needed when t > 1).
    #[arg(short = 'o', long = "proposal", value_name = "FILE")]
    pub file: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
#[allow(missing_docs)]
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
        /// The acting key.
        #[command(flatten)]
        signer: Signer,
        /// Where a proposal is written, when more admins must sign.
        #[command(flatten)]
        proposal: ProposalOut,
    },
    /// Change a party's name, roles or identifiers (governance). What is not given stays.
    Update {
        /// The party: its name, its id or its key.
        party: String,
        /// The new name.
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
        /// The acting key.
        #[command(flatten)]
        signer: Signer,
        /// Where a proposal is written, when more admins must sign.
        #[command(flatten)]
        proposal: ProposalOut,
    },
    /// Rotate your own key: signed by your current key (--as) and by the new one, both in this wallet.
    Rotate {
        /// The party: its name, its id or its key.
        party: String,
        /// The name of the new key in this wallet (`ebl key new NAME` first).
        #[arg(long)]
        new_key: String,
        /// The acting key.
        #[command(flatten)]
        signer: Signer,
    },
    /// Give a party that lost its key a new one (governance); recorded, and shown as a warning wherever
    /// the new key acts.
    Recover {
        /// The party: its name, its id or its key.
        party: String,
        /// The party's new public key (hex), or the name of a key in this wallet.
        #[arg(long)]
        new_key: String,
        /// The acting key.
        #[command(flatten)]
        signer: Signer,
        /// Where a proposal is written, when more admins must sign.
        #[command(flatten)]
        proposal: ProposalOut,
    },
    /// Revoke a party: its key signs nothing more (governance).
    Revoke {
        /// The party: its name, its id or its key.
        party: String,
        /// The acting key.
        #[command(flatten)]
        signer: Signer,
        /// Where a proposal is written, when more admins must sign.
        #[command(flatten)]
        proposal: ProposalOut,
    },
    /// As an auditor, let your node follow the consortium: write the grant its operator gives
    /// `ebl-node init --follow` (the member nodes replicate every block to it; it votes on nothing).
    GrantFollow {
        /// The node's public key (`ebl-node node-key`).
        #[arg(long)]
        node_key: String,
        /// Where the consortium's leader reaches the node (HOST:PORT).
        #[arg(long)]
        peer: String,
        /// The file to write.
        #[arg(short, long)]
        out: PathBuf,
        /// The acting key: the auditor's.
        #[command(flatten)]
        signer: Signer,
    },
    /// List registered parties.
    List {
        /// The key the reads are signed with.
        #[command(flatten)]
        reader: Reader,
    },
    /// Show one party, by name, id or key.
    Show {
        /// The party: its name, its id or its key.
        party: String,
        /// The key the reads are signed with.
        #[command(flatten)]
        reader: Reader,
    },
}

#[derive(Subcommand, Debug)]
#[allow(missing_docs)]
pub enum DocCommand {
    /// Validate a DCSA TransportDocument JSON: print its checksum and the fields the ledger uses, or the problem.
    Check {
        /// The TransportDocument JSON.
        file: PathBuf,
    },
    /// Print a DCSA transport document to issue a first bill from (DCSA's own to-order example,
    /// carrier SMDG:MSC, shipper "DCSA CTK"): `ebl doc sample > bol.json`.
    Sample {
        /// Its transportDocumentReference (a carrier issues each reference once); default DCSA's.
        #[arg(long)]
        reference: Option<String>,
    },
}

/// What `bill issue` names: the document, and the parties it is issued to.
#[derive(Debug, Clone, clap::Args)]
pub struct IssueArgs {
    /// The TransportDocument JSON (bare, or inside {"document": ...} or {"transportDocument": ...}).
    pub file: PathBuf,
    /// Who receives the bill: its first possessor (and, to order, its endorsee).
    #[arg(long)]
    pub to: String,
    /// The shipper party; defaults to the recipient.
    #[arg(long)]
    pub shipper: Option<String>,
    /// The consignee party; required for a straight bill.
    #[arg(long)]
    pub consignee: Option<String>,
    /// The void bill this one replaces, after an accepted amendment.
    #[arg(long)]
    pub replaces: Option<String>,
}

#[derive(Subcommand, Debug)]
#[allow(missing_docs)]
pub enum BillCommand {
    /// Issue a bill from a DCSA transport document (carrier).
    Issue {
        /// What the bill is issued from and to.
        #[command(flatten)]
        args: IssueArgs,
        /// The acting key.
        #[command(flatten)]
        signer: Signer,
    },
    /// Pass possession to another party; title does not move.
    Transfer {
        /// The bill: its reference (CODE/REFERENCE if two carriers share it), its id, or 8 or more leading digits of its id.
        bill: String,
        /// The party that receives possession.
        #[arg(long)]
        to: String,
        /// The acting key.
        #[command(flatten)]
        signer: Signer,
    },
    /// Endorse a to-order bill: name an endorsee (--to, add --to-order to let them endorse on) or endorse in blank.
    Endorse {
        /// The bill: its reference (CODE/REFERENCE if two carriers share it), its id, or 8 or more leading digits of its id.
        bill: String,
        /// The endorsee.
        #[arg(long, required_unless_present = "blank", conflicts_with = "blank")]
        to: Option<String>,
        /// The endorsee may endorse further (ENDORSE_TO_ORDER).
        #[arg(long, requires = "to")]
        to_order: bool,
        /// Endorse in blank: the bill becomes a bearer document.
        #[arg(long)]
        blank: bool,
        /// The acting key.
        #[command(flatten)]
        signer: Signer,
    },
    /// Record possession, changing nothing else.
    Sign {
        /// The bill: its reference (CODE/REFERENCE if two carriers share it), its id, or 8 or more leading digits of its id.
        bill: String,
        /// The acting key.
        #[command(flatten)]
        signer: Signer,
    },
    /// Surrender the bill to its carrier, for delivery or (with --amend) for amendment.
    Surrender {
        /// The bill: its reference (CODE/REFERENCE if two carriers share it), its id, or 8 or more leading digits of its id.
        bill: String,
        /// Surrender for amendment, with the reason: SWTP (switch to paper), COD (change of destination), SWI (switch bill).
        #[arg(long, value_name = "REASON")]
        amend: Option<String>,
        /// The acting key.
        #[command(flatten)]
        signer: Signer,
    },
    /// Accept the pending surrender (carrier): delivered, or void for amendment, or (SWTP) switched to
    /// the paper bill named by --paper-number and --paper-date.
    AcceptSurrender {
        /// The bill: its reference (CODE/REFERENCE if two carriers share it), its id, or 8 or more leading digits of its id.
        bill: String,
        /// For a switch to paper: the paper bill's number.
        #[arg(long, requires = "paper_date")]
        paper_number: Option<String>,
        /// For a switch to paper: the paper bill's issue date, YYYY-MM-DD.
        #[arg(long, requires = "paper_number")]
        paper_date: Option<String>,
        /// The acting key.
        #[command(flatten)]
        signer: Signer,
    },
    /// Refuse the bill you were just sent (the recipient, as the very next action): possession and
    /// title return to where they were.
    Refuse {
        /// The bill: its reference (CODE/REFERENCE if two carriers share it), its id, or 8 or more leading digits of its id.
        bill: String,
        /// The acting key.
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
        /// The acting key.
        #[command(flatten)]
        signer: Signer,
    },
    /// Reject the pending surrender (carrier): the bill returns to who surrendered it.
    RejectSurrender {
        /// The bill: its reference (CODE/REFERENCE if two carriers share it), its id, or 8 or more leading digits of its id.
        bill: String,
        /// The acting key.
        #[command(flatten)]
        signer: Signer,
    },
    /// Holder: prepare a pledge to a bank and write the offer the bank reviews and co-signs.
    Pledge {
        /// The bill: its reference (CODE/REFERENCE if two carriers share it), its id, or 8 or more leading digits of its id.
        bill: String,
        /// The lending bank.
        #[arg(long)]
        bank: String,
        /// Loan amount, e.g. 1000000.00.
        // Hyphen values reach the wallet's own check (malformed_amount), not clap's "unexpected
        // argument '-5'".
        #[arg(long, allow_hyphen_values = true)]
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
        /// The acting key.
        #[command(flatten)]
        signer: Signer,
    },
    /// Bank: verify a pledge offer's whole chain offline and show what it would take as collateral.
    PledgeReview {
        /// The pledge offer file (`ebl bill pledge -o`).
        offer: PathBuf,
        /// The acting key.
        #[command(flatten)]
        signer: Signer,
    },
    /// Bank: review, co-sign and submit a pledge offer.
    PledgeAccept {
        /// The pledge offer file (`ebl bill pledge -o`).
        offer: PathBuf,
        /// The acting key.
        #[command(flatten)]
        signer: Signer,
    },
    /// Bank: the loan is repaid; possession returns to the pledgor.
    Release {
        /// The bill: its reference (CODE/REFERENCE if two carriers share it), its id, or 8 or more leading digits of its id.
        bill: String,
        /// The acting key.
        #[command(flatten)]
        signer: Signer,
    },
    /// Bank: the borrower defaulted; the bank takes title and may sell or surrender.
    Enforce {
        /// The bill: its reference (CODE/REFERENCE if two carriers share it), its id, or 8 or more leading digits of its id.
        bill: String,
        /// The acting key.
        #[command(flatten)]
        signer: Signer,
    },
    /// Your worklist: every bill you have a part in now, with who holds it and its status.
    List {
        /// The acting key.
        #[command(flatten)]
        signer: Signer,
    },
    /// The bill's current state.
    Show {
        /// The bill: its reference (CODE/REFERENCE if two carriers share it), its id, or 8 or more leading digits of its id.
        bill: String,
        /// The acting key.
        #[command(flatten)]
        signer: Signer,
    },
    /// A readable timeline: who did what, when, in which block.
    History {
        /// The bill: its reference (CODE/REFERENCE if two carriers share it), its id, or 8 or more leading digits of its id.
        bill: String,
        /// The acting key.
        #[command(flatten)]
        signer: Signer,
    },
    /// The node-signed status statement: the bill's state at a height, verified here.
    Status {
        /// The bill: its reference (CODE/REFERENCE if two carriers share it), its id, or 8 or more leading digits of its id.
        bill: String,
        /// The acting key.
        #[command(flatten)]
        signer: Signer,
    },
    /// Write a self-contained proof bundle for offline verification (`ebl verify`).
    Export {
        /// The bill: its reference (CODE/REFERENCE if two carriers share it), its id, or 8 or more leading digits of its id.
        bill: String,
        /// The file to write.
        #[arg(short, long)]
        out: PathBuf,
        /// The acting key.
        #[command(flatten)]
        signer: Signer,
    },
}

impl BillCommand {
    /// Whether the command signs exactly one transaction with its signer's key alone: what `ebl tx
    /// sign` can write. A pledge needs the bank's signature too (its offer is `bill pledge`), a
    /// replacement may issue several bills, and the rest only read.
    fn signs_one_transaction(&self) -> bool {
        matches!(
            self,
            BillCommand::Issue { .. }
                | BillCommand::Transfer { .. }
                | BillCommand::Endorse { .. }
                | BillCommand::Sign { .. }
                | BillCommand::Surrender { .. }
                | BillCommand::AcceptSurrender { .. }
                | BillCommand::Refuse { .. }
                | BillCommand::RejectSurrender { .. }
                | BillCommand::Release { .. }
                | BillCommand::Enforce { .. }
        )
    }

    /// The subcommand's name as typed.
    fn name(&self) -> &'static str {
        match self {
            BillCommand::Issue { .. } => "issue",
            BillCommand::Transfer { .. } => "transfer",
            BillCommand::Endorse { .. } => "endorse",
            BillCommand::Sign { .. } => "sign",
            BillCommand::Surrender { .. } => "surrender",
            BillCommand::AcceptSurrender { .. } => "accept-surrender",
            BillCommand::Refuse { .. } => "refuse",
            BillCommand::Replace { .. } => "replace",
            BillCommand::RejectSurrender { .. } => "reject-surrender",
            BillCommand::Pledge { .. } => "pledge",
            BillCommand::PledgeReview { .. } => "pledge-review",
            BillCommand::PledgeAccept { .. } => "pledge-accept",
            BillCommand::Release { .. } => "release",
            BillCommand::Enforce { .. } => "enforce",
            BillCommand::List { .. } => "list",
            BillCommand::Show { .. } => "show",
            BillCommand::History { .. } => "history",
            BillCommand::Status { .. } => "status",
            BillCommand::Export { .. } => "export",
        }
    }

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
    /// What `--json` prints.
    pub json: Value,
    /// What a person reads.
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

/// What the ledger's acceptance of a transaction says, in `lang`: `what` was done, then the receipt
/// (transaction, block, time) and, in a consortium, how many member nodes had signed its block.
pub(crate) fn submitted(
    outcome: SubmitOutcome,
    what: &output::Said,
    lang: crate::lang::Lang,
) -> Result<Out> {
    use crate::lang::Lang;
    let what = what.get(lang);
    let human = match (&outcome, outcome.receipt(), lang) {
        (SubmitOutcome::Duplicate { .. }, Some(r), Lang::En) => {
            format!("{what} (already on the ledger: block {})", r.height)
        }
        (SubmitOutcome::Duplicate { .. }, Some(r), Lang::Zh) => {
            format!("{what}（已在账本上：区块 {}）", r.height)
        }
        (_, Some(r), Lang::En) => format!(
            "{what}\ntransaction {} in block {} at {}",
            r.tx,
            r.height,
            output::timestamp(r.block_time_ms)
        ),
        (_, Some(r), Lang::Zh) => format!(
            "{what}\n交易 {}，区块 {}，{}",
            r.tx,
            r.height,
            output::timestamp(r.block_time_ms)
        ),
        _ => what.to_owned(),
    };
    // A cluster's receipt comes with the block's certificate: how many member nodes signed it by the
    // time the node answered (a bank counts and checks them from the bundle).
    let human = match (&outcome, lang) {
        (
            SubmitOutcome::Accepted {
                certificate: Some(c),
                ..
            },
            _,
        ) if c.signatures.len() > 1 => match lang {
            Lang::En => format!(
                "{human}\nfinal       signed by {} member nodes",
                c.signatures.len()
            ),
            Lang::Zh => format!("{human}\n最终确认：{} 个成员节点已签名", c.signatures.len()),
        },
        _ => human,
    };
    Ok(out(to_json(&outcome), human))
}

/// Runs a parsed command with `wallet`, returning what to print.
pub fn run(cli: Cli, wallet: &Wallet) -> Result<Out> {
    let force = cli.force;
    let lang = crate::lang::Lang::for_terminal(cli.lang, |v| std::env::var(v).ok());
    match cli.command {
        Command::Key(cmd) => key(wallet, cmd, force, lang),
        Command::Party(cmd) => party(wallet, cmd, force, lang),
        Command::Gov(cmd) => crate::gov::command(wallet, cmd, lang),
        Command::Chain(cmd) => crate::pins::command(wallet, cmd, lang),
        Command::Doc(DocCommand::Check { file }) => doc_check(&file, lang),
        Command::Doc(DocCommand::Sample { reference }) => doc::sample(reference.as_deref()),
        Command::Bill(cmd) => bill(wallet, cmd, force, lang, None),
        Command::Tx(TxCommand::Sign { out: path, action }) => {
            bill(wallet, action, force, lang, Some(&path))
        }
        Command::Tx(TxCommand::Show { file }) => tx::show(&file),
        Command::Tx(TxCommand::Submit { file }) => tx::submit(wallet, &file, lang),
        Command::Verify {
            file,
            chain,
            pint_trust,
        } => verify(wallet, &file, chain.as_ref(), pint_trust.as_deref(), lang),
        Command::Verifier { out: path } => verify::write_verifier(&path, force, lang),
        Command::Pint(PintCommand::Verify { file, trust }) => pint_verify(&file, &trust, lang),
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
            let human = output::Said::new(
                format!(
                    "PINT envelope with {entries} transfer chain entries written to {}",
                    path.display()
                ),
                format!(
                    "含 {entries} 条转让链记录的 PINT 信封已写入 {}",
                    path.display()
                ),
            );
            Ok(out(
                json!({"envelope": path, "bill": bill, "entries": entries}),
                human.get(lang),
            ))
        }
        Command::Pint(PintCommand::Send {
            bill,
            platform,
            recipient,
            scheme,
            name,
            wait,
            signer,
        }) => {
            let to = ebl_core::ForeignParty {
                name: name.unwrap_or_else(|| recipient.clone()),
                codes: vec![ebl_core::PartyCode {
                    provider: scheme.unwrap_or_else(|| platform.clone()),
                    code: recipient,
                }],
                platform,
            };
            pint::pint_send(wallet, &bill, to, &signer.as_key, wait, lang)
        }
        Command::Pint(PintCommand::Import { file, documents }) => {
            pint_import(wallet, &file, documents.as_deref(), lang)
        }
        Command::Pint(PintCommand::Documents { bill, out, signer }) => {
            wallet.reader(Some(&signer.as_key))?;
            let bill = wallet.bill_id(&bill)?;
            let key = wallet.signer(&signer.as_key)?;
            pint_documents(wallet, &bill, &key, out.as_deref(), lang)
        }
        Command::Pint(PintCommand::Jwk { out: path }) => {
            let jwk = wallet.node.pint_jwk()?;
            let text =
                serde_json::to_vec_pretty(&jwk).map_err(|e| CliError::io("encoding the JWK", e))?;
            write_output(&path, &text, force)?;
            Ok(out(
                json!({"jwk": path, "kid": jwk["kid"]}),
                output::Said::new(
                    format!("node key {} written to {}", jwk["kid"], path.display()),
                    format!("节点密钥 {} 已写入 {}", jwk["kid"], path.display()),
                )
                .get(lang),
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
        Command::Carrier(command) => carrier(wallet, &cli.node, command),
        Command::Demo { .. } | Command::Completions { .. } => {
            Err(CliError::from(Refusal::Internal {
                source: crate::error::source("`demo` and `completions` are main's to run"),
            }))
        }
    }
}

/// Largest token file read for `ebl carrier serve --system-token-file`.
const SYSTEM_TOKEN_BYTES_MAX: usize = 4096;

/// `ebl carrier serve`: the carrier's connector, until stopped.
fn carrier(wallet: &Wallet, node: &str, command: CarrierCommand) -> Result<Out> {
    let CarrierCommand::Serve {
        as_key,
        carrier,
        carrier_keys,
        answers_to,
        platform,
        listen,
        system_token_file,
        retry_ms,
        poll_ms,
        paper_bill_is_reference,
    } = command;
    crate::ui::check_listen(&listen)?;
    ebl_pint::check_platform_code(&platform)?;
    let (provider, code) = carrier
        .split_once(':')
        .filter(|(p, c)| !p.is_empty() && !c.is_empty())
        .ok_or_else(|| crate::error::WalletRule::BadCarrierCode {
            text: carrier.clone(),
        })?;
    let system_token = system_token_file
        .map(|path| {
            crate::wallet::read_file(&path, "the carrier system's token", SYSTEM_TOKEN_BYTES_MAX)
                .map(|bytes| String::from_utf8_lossy(&bytes).trim().to_owned())
        })
        .transpose()?;
    let key = wallet.signer(&as_key)?;
    crate::carrier::serve(
        &wallet.home,
        node,
        key,
        crate::carrier::Settings {
            listen,
            platform,
            carrier: crate::carrier::issuance::Carrier {
                provider: provider.to_owned(),
                code: code.to_owned(),
            },
            trust_dir: carrier_keys,
            answers_to,
            system_token,
            retry: std::time::Duration::from_millis(retry_ms.max(1)),
            poll: std::time::Duration::from_millis(poll_ms.max(1)),
            paper_bill_is_reference,
        },
    )?;
    Ok(out(json!({"stopped": true}), "ebl carrier serve stopped"))
}

/// A command's output file may be written: it does not exist, or `--force` says to replace it.
fn check_replaceable(path: &Path, force: bool) -> Result<()> {
    if !force && path.exists() {
        return Err(crate::error::WalletRule::FileExists {
            path: path.display().to_string(),
        }
        .into());
    }
    Ok(())
}

/// Writes a command's output file, refusing to replace one that exists unless `--force` says so.
pub(super) fn write_output(path: &Path, contents: &[u8], force: bool) -> Result<()> {
    check_replaceable(path, force)?;
    write_file(path, contents)
}

/// [`write_output`] for a file only its owner may read (a key backup).
fn write_private_output(path: &Path, contents: &[u8], force: bool) -> Result<()> {
    check_replaceable(path, force)?;
    crate::keystore::write_private(path, contents)
}
