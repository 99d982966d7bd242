//! What can go wrong in the wallet, each kind with its documented exit code.

use ebl_core::api::ErrorBody;
use ebl_core::refusal::{ReadRule, RequestRefusal};

/// Exit codes, as `ebl --help` documents them.
pub mod exit {
    /// Success.
    pub const OK: u8 = 0;
    /// Anything else: local IO, a node-side storage failure.
    pub const OTHER: u8 = 1;
    /// Bad usage or input: a malformed document, an unknown bill or party, a wrong passphrase.
    pub const USAGE: u8 = 2;
    /// The ledger refused the transaction by one of its rules.
    pub const REJECTED: u8 = 3;
    /// A chain, bundle or statement failed verification.
    pub const VERIFICATION: u8 = 4;
    /// The node could not be reached, or did not answer in time.
    pub const UNREACHABLE: u8 = 5;
}

/// What kind of failure an error is: it decides the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Bad usage or input (exit 2).
    Usage,
    /// Refused by a ledger rule, or one it would apply (exit 3).
    Rejected,
    /// Something failed verification (exit 4).
    Verification,
    /// The node could not be reached (exit 5).
    Unreachable,
    /// Anything else: local IO, the node's storage (exit 1).
    Other,
}

/// What went wrong, as data: the rule broken, whether the wallet's, the core's checked here, or the
/// node's as it answered (decoded once, where it is read).
#[derive(Debug, Clone, thiserror::Error)]
pub enum Cause {
    /// A rule of the core (a ledger rule, a verification, a format) checked in the wallet, as a failure
    /// of `kind`; `context` says what was being checked, in words.
    #[error("{}{error}", context.as_ref().map(|c| format!("{c}: ")).unwrap_or_default())]
    Core {
        /// The rule.
        #[source]
        error: ebl_core::Error,
        /// What it means here, and so the exit code.
        kind: Kind,
        /// What was being checked.
        context: Option<String>,
    },
    /// A PINT envelope that fails its check (here, or as the node answered it), with PINT's code;
    /// `context` says what was being checked.
    #[error("{}{failure}", context.as_ref().map(|c| format!("{c}: ")).unwrap_or_default())]
    Envelope {
        /// The failure.
        #[source]
        failure: ebl_pint::PintFailure,
        /// What was being checked.
        context: Option<String>,
    },
    /// One of the wallet's own rules with data.
    #[error(transparent)]
    Wallet(#[from] WalletRule),
    /// One of the wallet's own refusals.
    #[error(transparent)]
    Refused(#[from] Refusal),
    /// What the node answered.
    #[error(transparent)]
    Remote(#[from] Remote),
}

/// A node's refusal, read once from its answer.
#[derive(Debug, Clone, thiserror::Error)]
pub enum Remote {
    /// A refusal of the request as such (no leader, unknown party, registry moved, ...), decoded.
    #[error("{refusal}")]
    Request {
        /// The refusal.
        refusal: RequestRefusal,
        /// The HTTP status it came with.
        status: u16,
    },
    /// A rule of reading (unknown bill, forbidden, replayed request, ...), decoded.
    #[error("{message}")]
    Read {
        /// The rule.
        rule: ReadRule,
        /// What is wrong, in words (the rule's data, which stays on the node).
        message: String,
        /// The HTTP status it came with.
        status: u16,
    },
    /// A transaction one of the ledger's rules refused.
    #[error("refused by the ledger: {message}")]
    Rejected {
        /// The rule's stable code, as the node named it.
        code: String,
        /// What is wrong, in words.
        message: String,
    },
    /// Another of the node's rules (a ledger rule met in a read, its store's), as it named it, with the kind its HTTP
    /// status stands for. The rule's data stays on the node: a reader acts on the code and the kind.
    #[error("{message}")]
    Rule {
        /// The rule's stable code.
        code: String,
        /// What is wrong, in words.
        message: String,
        /// What the status means here.
        kind: Kind,
    },
    /// An answer with no error body the wallet can read: only its HTTP status says what it is.
    #[error("the node answered HTTP {status}: {text}")]
    Status {
        /// The HTTP status.
        status: u16,
        /// The start of the body.
        text: String,
    },
}

impl Remote {
    /// The node's answer `body` to a request, with HTTP `status`.
    pub fn from_answer(status: u16, body: ErrorBody) -> Remote {
        if let Some(refusal) = RequestRefusal::from_answer(&body.code, &body.message) {
            return Remote::Request { refusal, status };
        }
        if let Some(rule) = ReadRule::from_code(&body.code) {
            return Remote::Read {
                rule,
                message: body.message,
                status,
            };
        }
        Remote::Rule {
            code: body.code,
            message: body.message,
            kind: Remote::kind_of_status(status),
        }
    }

    /// What an HTTP status means to the wallet: a node that cannot answer for now (408, 503: the next
    /// node is tried) is as unreachable, a 4xx is bad usage, the rest anything else.
    fn kind_of_status(status: u16) -> Kind {
        match status {
            408 | 503 => Kind::Unreachable,
            400..=499 => Kind::Usage,
            _ => Kind::Other,
        }
    }

    /// The stable code: the node's, or `http_<status>` for an answer that named none.
    pub fn code(&self) -> std::borrow::Cow<'_, str> {
        match self {
            Remote::Request { refusal, .. } => refusal.code().into(),
            Remote::Read { rule, .. } => rule.code().into(),
            Remote::Rejected { code, .. } | Remote::Rule { code, .. } => code.as_str().into(),
            Remote::Status { status, .. } => format!("http_{status}").into(),
        }
    }

    /// What kind of failure it is: by the HTTP status the node answered with.
    pub fn kind(&self) -> Kind {
        match self {
            Remote::Rejected { .. } => Kind::Rejected,
            Remote::Rule { kind, .. } => *kind,
            Remote::Request { status, .. }
            | Remote::Read { status, .. }
            | Remote::Status { status, .. } => Remote::kind_of_status(*status),
        }
    }
}

/// One clear line of what is wrong, a stable code, and what to do about it.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{cause}")]
pub struct CliError {
    /// What went wrong (boxed: an error is passed up through every call that can fail, and should be a
    /// pointer wide there).
    #[source]
    pub cause: Box<Cause>,
    /// What to do about it.
    pub hint: Option<String>,
}

/// The result of anything in the wallet that can fail.
pub type Result<T, E = CliError> = std::result::Result<T, E>;

impl CliError {
    /// A rule of the core checked here, as a failure of `kind`.
    pub fn core(kind: Kind, error: ebl_core::Error) -> CliError {
        CliError::from(Cause::Core {
            error,
            kind,
            context: None,
        })
    }

    /// A rule of the core checked here, as a failure of `kind`, while checking `context`.
    pub fn core_in(kind: Kind, error: ebl_core::Error, context: impl Into<String>) -> CliError {
        CliError::from(Cause::Core {
            error,
            kind,
            context: Some(context.into()),
        })
    }

    /// A PINT envelope that fails, while checking `context`.
    pub fn envelope(failure: ebl_pint::PintFailure, context: Option<&str>) -> CliError {
        CliError::from(Cause::Envelope {
            failure,
            context: context.map(str::to_owned),
        })
    }

    /// The same error said to be about `context` (a core rule's or an envelope's; any other says
    /// what it is about already).
    pub fn in_context(mut self, context: &str) -> CliError {
        if let Cause::Core { context: c, .. } | Cause::Envelope { context: c, .. } =
            &mut *self.cause
        {
            *c = Some(match c.take() {
                Some(inner) => format!("{context}: {inner}"),
                None => context.to_owned(),
            });
        }
        self
    }

    /// The same error with what to do about it.
    pub fn with_hint(mut self, hint: impl Into<String>) -> CliError {
        self.hint = Some(hint.into());
        self
    }

    /// The broken rule's stable code: the wallet's own, the core's, or a node's as it answered.
    pub fn code(&self) -> std::borrow::Cow<'_, str> {
        match &*self.cause {
            Cause::Core { error, .. } => error.code().into(),
            Cause::Envelope { failure, .. } => failure.code.code().into(),
            Cause::Wallet(rule) => rule.code().into(),
            Cause::Refused(refusal) => refusal.code().into(),
            Cause::Remote(remote) => remote.code(),
        }
    }

    /// What kind of failure, and so the exit code.
    pub fn kind(&self) -> Kind {
        match &*self.cause {
            Cause::Core { kind, .. } => *kind,
            Cause::Envelope { .. } => Kind::Verification,
            Cause::Wallet(rule) => rule.kind(),
            Cause::Refused(refusal) => refusal.kind(),
            Cause::Remote(remote) => remote.kind(),
        }
    }

    /// What is wrong, in words.
    pub fn message(&self) -> String {
        self.cause.to_string()
    }

    /// The node's refusal of the request as such, if that is what this is.
    pub fn request_refusal(&self) -> Option<&RequestRefusal> {
        match &*self.cause {
            Cause::Remote(Remote::Request { refusal, .. }) => Some(refusal),
            _ => None,
        }
    }

    /// The core's rule, if this is one the wallet checked itself.
    pub fn core_error(&self) -> Option<&ebl_core::Error> {
        match &*self.cause {
            Cause::Core { error, .. } => Some(error),
            _ => None,
        }
    }

    /// The node's rule of reading, if that is what this is.
    pub fn read_rule(&self) -> Option<ReadRule> {
        match &*self.cause {
            Cause::Remote(Remote::Read { rule, .. }) => Some(*rule),
            _ => None,
        }
    }

    /// The wallet's own refusal, if that is what this is.
    pub fn refusal(&self) -> Option<&Refusal> {
        match &*self.cause {
            Cause::Refused(r) => Some(r),
            _ => None,
        }
    }

    /// The documented exit code.
    pub fn exit_code(&self) -> u8 {
        match self.kind() {
            Kind::Usage => exit::USAGE,
            Kind::Rejected => exit::REJECTED,
            Kind::Verification => exit::VERIFICATION,
            Kind::Unreachable => exit::UNREACHABLE,
            Kind::Other => exit::OTHER,
        }
    }

    /// A refusal by a ledger rule, as the node reported it.
    pub fn rejected(body: &ErrorBody) -> CliError {
        CliError::from(Remote::Rejected {
            code: body.code.clone(),
            message: body.message.clone(),
        })
    }

    /// A local IO failure of `what`.
    pub fn io(what: &str, e: impl std::fmt::Display) -> CliError {
        CliError::from(Refusal::Io(format!("{what}: {e}")))
    }
}

impl From<Cause> for CliError {
    fn from(cause: Cause) -> CliError {
        CliError {
            cause: Box::new(cause),
            hint: None,
        }
    }
}

impl From<Remote> for CliError {
    fn from(remote: Remote) -> CliError {
        CliError::from(Cause::Remote(remote))
    }
}

/// A rule of the core met in the wallet's own checks of what it was given: bad input (exit 2).
impl From<ebl_core::Error> for CliError {
    fn from(e: ebl_core::Error) -> CliError {
        CliError::core(Kind::Usage, e)
    }
}

/// The wallet's own rules (the ledger's are `ebl_core::Error`): one variant per rule, each with its
/// stable code and what to do about it. All are usage errors (exit 2).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WalletRule {
    /// A node address that is no URL.
    #[error("{address:?} is not a node address")]
    BadNodeAddress {
        /// The address as given.
        address: String,
    },
    /// Plain HTTP to another machine, not asked for.
    #[error("{address} is plain HTTP to another machine: signed reads and documents would cross the network readable")]
    PlainHttpOffLoopback {
        /// The address as given.
        address: String,
    },
    /// A node certificate file that cannot be used.
    #[error("{path} cannot be a node certificate: {reason}")]
    BadNodeCertificate {
        /// The file.
        path: std::path::PathBuf,
        /// What is wrong, in words.
        reason: String,
    },
    /// A passphrase shorter than the minimum.
    #[error("a passphrase protecting a key must have at least {min} characters")]
    WeakPassphrase {
        /// The minimum length, in characters.
        min: usize,
    },
    /// A key file asking for more KDF work than the wallet spends.
    #[error("the key file asks for {memory_kib} KiB, {passes} passes and {lanes} lanes; at most {memory_kib_max} KiB, {passes_max} passes and {lanes_max} lanes are accepted")]
    KdfTooCostly {
        /// The memory the file asks for, KiB.
        memory_kib: u32,
        /// The passes the file asks for.
        passes: u32,
        /// The lanes the file asks for.
        lanes: u32,
        /// The most memory the wallet spends, KiB.
        memory_kib_max: u32,
        /// The most passes the wallet spends.
        passes_max: u32,
        /// The most lanes the wallet spends.
        lanes_max: u32,
    },
    /// An output file that exists, without `--force`.
    #[error("{path} exists: not replaced")]
    FileExists {
        /// The file.
        path: String,
    },
    /// A bill name that matches none of your bills.
    #[error("no bill {name:?} among the bills you have a part in")]
    UnknownBill {
        /// The name as given.
        name: String,
    },
    /// A bill name that matches several bills.
    #[error("{name:?} names {} bills: {}", candidates.len(), candidates.join(", "))]
    AmbiguousBill {
        /// The name as given.
        name: String,
        /// The bills it matches.
        candidates: Vec<String>,
    },
    /// A replacement naming no void bill.
    #[error("name the void bills to replace")]
    NoBillToReplace,
    /// An offer validity outside the hours allowed.
    #[error("an offer is valid for 1 to {max} hours, not {hours}")]
    BadValidity {
        /// The hours given.
        hours: u64,
        /// The most hours allowed.
        max: u64,
    },
    /// An offer whose transaction is no pledge.
    #[error("the offer's transaction is no pledge of a bill")]
    NotAPledge,
    /// A file that is no governance proposal.
    #[error("not a governance proposal: {reason}")]
    BadProposal {
        /// What is wrong, in words.
        reason: String,
    },
    /// A read that needs a key, with none named.
    #[error("the node shows parties, the registry and blocks to registered parties and members only, and names no key to read with")]
    NoReader,
    /// A currency ISO 4217 does not list.
    #[error("{code:?} is not an ISO 4217 currency code")]
    UnknownCurrency {
        /// The code as given.
        code: String,
    },
    /// `tx sign` of an action that is not one signer's transaction.
    #[error("`bill {command}` does not sign one transaction of its signer's alone, so `tx sign` cannot write it")]
    NotOneTransaction {
        /// The `bill` subcommand.
        command: &'static str,
    },
    /// A file that is no signed transaction.
    #[error("not a signed transaction file: {reason}")]
    BadTransactionFile {
        /// What is wrong, in words.
        reason: String,
    },
    /// An action on a bill you have no part in.
    #[error("you have no part in bill {bill}, so you cannot {action} it")]
    NoPartInBill {
        /// The bill as named.
        bill: String,
        /// What was to be done.
        action: &'static str,
    },
}

impl WalletRule {
    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            WalletRule::BadNodeAddress { .. } => "bad_node_address",
            WalletRule::PlainHttpOffLoopback { .. } => "plain_http_off_loopback",
            WalletRule::BadNodeCertificate { .. } => "bad_node_certificate",
            WalletRule::WeakPassphrase { .. } => "weak_passphrase",
            WalletRule::KdfTooCostly { .. } => "kdf_too_costly",
            WalletRule::FileExists { .. } => "file_exists",
            WalletRule::UnknownBill { .. } => "unknown_bill",
            WalletRule::AmbiguousBill { .. } => "ambiguous_bill",
            WalletRule::NoBillToReplace => "missing_bill",
            WalletRule::BadValidity { .. } => "bad_validity",
            WalletRule::NotAPledge => "not_a_pledge",
            WalletRule::BadProposal { .. } => "bad_proposal",
            WalletRule::NoReader => "unauthenticated",
            WalletRule::UnknownCurrency { .. } => "unknown_currency",
            WalletRule::NotOneTransaction { .. } => "not_one_transaction",
            WalletRule::BadTransactionFile { .. } => "bad_transaction_file",
            WalletRule::NoPartInBill { .. } => "not_a_party",
        }
    }

    fn hint(&self) -> Option<String> {
        Some(match self {
            WalletRule::BadNodeAddress { address } => format!(
                "give it with its scheme, e.g. --node http://{}",
                address.trim_start_matches("//")
            ),
            WalletRule::PlainHttpOffLoopback { address } => format!(
                "use https:// (the node serves TLS with --tls-cert, or `ebl-node init --tls-self-signed`), or pass --insecure-plain-http to accept it: {address}"
            ),
            WalletRule::BadNodeCertificate { .. } => {
                "give the node's certificate as PEM (its tls/cert.pem), or the CA that signed it".into()
            }
            WalletRule::WeakPassphrase { .. } => {
                "a few unrelated words make a passphrase both strong and memorable".into()
            }
            WalletRule::FileExists { .. } => {
                "choose another file, or pass --force to replace it".into()
            }
            WalletRule::UnknownBill { .. } => "name a bill by its reference, its id, or 8 or more leading digits of its id (`ebl bill list`)".into(),
            WalletRule::AmbiguousBill { .. } => {
                "give more digits of the id, or the reference with its carrier code: CODE/REFERENCE"
                    .into()
            }
            WalletRule::UnknownCurrency { .. } => {
                "give the loan's currency as ISO 4217 writes it: USD, EUR, CNY, ...".into()
            }
            WalletRule::NotOneTransaction { .. } => "sign an action of one party: issue, transfer, endorse, sign, surrender, accept-surrender, reject-surrender, refuse, release or enforce (a pledge's offer is written by `bill pledge`)".into(),
            WalletRule::NoPartInBill { .. } => {
                "only the bill's parties act on it: see `ebl bill list` for yours".into()
            }
            WalletRule::NoReader => "name the key to read with: --as KEY (or make your key first: `ebl key new NAME`)".into(),
            _ => return None,
        })
    }
}

impl WalletRule {
    /// What kind of failure the rule is: bad usage or input, except an action the bill's own parties
    /// alone may take, which the ledger would refuse (exit 3).
    pub fn kind(&self) -> Kind {
        match self {
            WalletRule::NoPartInBill { .. } => Kind::Rejected,
            _ => Kind::Usage,
        }
    }
}

impl From<WalletRule> for CliError {
    fn from(rule: WalletRule) -> CliError {
        let hint = rule.hint();
        CliError {
            cause: Box::new(Cause::Wallet(rule)),
            hint,
        }
    }
}

/// The wallet's refusals that carry only a message: one variant per code, with the kind (and so the
/// exit code) it stands for, so no call site spells a code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// A node's answer the wallet cannot read.
    #[error("{0}")]
    BadAnswer(String),
    /// A PINT answer whose signature is not the node's.
    #[error("{0}")]
    UnsignedAnswer(String),
    /// The platform a bill was sent to refused it (`BENV`, `BSIG`): the holder has it again.
    #[error("{0}")]
    SendRefused(String),
    /// The platform a bill was sent to disputes it (`DISE`): it is held for people to resolve.
    #[error("{0}")]
    SendDisputed(String),
    /// The platform a bill was sent to has given no signed answer within the wait: the bill is frozen
    /// here and the node keeps trying.
    #[error("{0}")]
    SendPending(String),
    /// A genesis that does not verify.
    #[error("{0}")]
    BadGenesis(String),
    /// A key file that cannot be read or opened.
    #[error("{0}")]
    BadKeyFile(String),
    /// A key name that cannot name a file.
    #[error("{0}")]
    BadKeyName(String),
    /// A pledge offer that cannot be read.
    #[error("{0}")]
    BadOffer(String),
    /// A pledge offer whose transaction is no pledge: it does not verify as an offer.
    #[error("{0}")]
    OfferNotAPledge(String),
    /// A pledge offer whose pledge is not for the bill state its bundle proves.
    #[error("{0}")]
    OfferMismatch(String),
    /// An amendment reason that cannot be used.
    #[error("{0}")]
    BadReason(String),
    /// A trust directory file that cannot be read as a key or certificate.
    #[error("{0}")]
    BadTrustFile(String),
    /// A key file directly in the trust directory, bound to no platform.
    #[error("{0}")]
    UnboundTrustKey(String),
    /// A trust directory entry that is not a platform code.
    #[error("{0}")]
    NotAPlatformDirectory(String),
    /// Arguments clap refuses.
    #[error("{0}")]
    BadUsage(String),
    /// A node or file from another chain than the one expected.
    #[error("{0}")]
    ChainMismatch(String),
    /// A document that is not the one the bill was issued with.
    #[error("{0}")]
    DocumentChecksumMismatch(String),
    /// An empty passphrase.
    #[error("{0}")]
    EmptyPassphrase(String),
    /// A trust directory with no key.
    #[error("{0}")]
    EmptyTrustStore(String),
    /// A file larger than the wallet reads.
    #[error("{0}")]
    FileTooLarge(String),
    /// A fault of the wallet's own.
    #[error("{0}")]
    Internal(String),
    /// A key name already used.
    #[error("{0}")]
    KeyExists(String),
    /// An amount that is no decimal money amount.
    #[error("{0}")]
    MalformedAmount(String),
    /// A file that is not JSON.
    #[error("{0}")]
    MalformedJson(String),
    /// A key that is no ed25519 key.
    #[error("{0}")]
    MalformedKey(String),
    /// An endorsement naming nobody.
    #[error("{0}")]
    MissingEndorsee(String),
    /// No passphrase given, and no terminal to ask on.
    #[error("{0}")]
    NoPassphrase(String),
    /// `ebl demo` in a wallet built without its embedded node (feature `embedded-node`).
    #[error("{0}")]
    NoEmbeddedNode(String),
    /// No node answered.
    #[error("{0}")]
    NodeUnreachable(String),
    /// The node's TLS certificate is not one the wallet trusts (not pinned, not under a system root,
    /// expired, or for another name): nothing is sent to it.
    #[error("{0}")]
    UntrustedNodeCertificate(String),
    /// A pledge offer the bill has moved past.
    #[error("{0}")]
    StaleOffer(String),
    /// A receipt that does not prove what was submitted is in a block the member nodes signed.
    #[error("{0}")]
    BadReceipt(String),
    /// A key name the wallet does not hold.
    #[error("{0}")]
    UnknownKey(String),
    /// A party name the registry does not know.
    #[error("{0}")]
    UnknownParty(String),
    /// Additional documents that cannot be read.
    #[error("{0}")]
    UnreadableDocuments(String),
    /// A file that cannot be read.
    #[error("{0}")]
    UnreadableFile(String),
    /// A trust directory that cannot be read.
    #[error("{0}")]
    UnreadableTrustStore(String),
    /// A passphrase that does not open the key.
    #[error("{0}")]
    WrongPassphrase(String),
    /// `ebl ui` serves the wallet's keys: it listens on loopback only.
    #[error("{0}")]
    NotLoopback(String),
    /// A file dropped on the web app that is no bundle, offer or envelope.
    #[error("{0}")]
    UnknownFileKind(String),
    /// A request to the web app naming another host (DNS rebinding).
    #[error("{0}")]
    WrongHost(String),
    /// A request to the web app from a browser without its session.
    #[error("{0}")]
    NoSession(String),
    /// A request to `ebl ui` that changes something, from a page not its own or without the
    /// session's form token.
    #[error("{0}")]
    CrossSite(String),
    /// A local file or terminal that failed.
    #[error("{0}")]
    Io(String),
}

impl Refusal {
    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::BadAnswer(_) | Refusal::UnsignedAnswer(_) => "bad_answer",
            Refusal::SendRefused(_) => "send_refused",
            Refusal::SendDisputed(_) => "send_disputed",
            Refusal::SendPending(_) => "send_pending",
            Refusal::BadGenesis(_) => "bad_genesis",
            Refusal::BadKeyFile(_) => "bad_key_file",
            Refusal::BadKeyName(_) => "bad_key_name",
            Refusal::BadOffer(_) => "bad_offer",
            Refusal::OfferNotAPledge(_) => "not_a_pledge",
            Refusal::OfferMismatch(_) => "offer_mismatch",
            Refusal::BadReason(_) => "bad_reason",
            Refusal::BadTrustFile(_) => "bad_trust_file",
            Refusal::UnboundTrustKey(_) => "unbound_trust_key",
            Refusal::NotAPlatformDirectory(_) => "not_a_platform_directory",
            Refusal::BadUsage(_) => "bad_usage",
            Refusal::ChainMismatch(_) => "chain_mismatch",
            Refusal::DocumentChecksumMismatch(_) => "document_checksum_mismatch",
            Refusal::EmptyPassphrase(_) => "empty_passphrase",
            Refusal::EmptyTrustStore(_) => "empty_trust_store",
            Refusal::FileTooLarge(_) => "file_too_large",
            Refusal::Internal(_) => "internal",
            Refusal::KeyExists(_) => "key_exists",
            Refusal::MalformedAmount(_) => "malformed_amount",
            Refusal::MalformedJson(_) => "malformed_json",
            Refusal::MalformedKey(_) => "malformed_key",
            Refusal::MissingEndorsee(_) => "missing_endorsee",
            Refusal::NoPassphrase(_) => "no_passphrase",
            Refusal::NoEmbeddedNode(_) => "no_embedded_node",
            Refusal::NodeUnreachable(_) => "node_unreachable",
            Refusal::UntrustedNodeCertificate(_) => "untrusted_node_certificate",
            Refusal::BadReceipt(_) => "bad_receipt",
            Refusal::StaleOffer(_) => "stale_offer",
            Refusal::UnknownKey(_) => "unknown_key",
            Refusal::UnknownParty(_) => "unknown_party",
            Refusal::UnreadableDocuments(_) => "unreadable_documents",
            Refusal::UnreadableFile(_) => "unreadable_file",
            Refusal::UnreadableTrustStore(_) => "unreadable_trust_store",
            Refusal::WrongPassphrase(_) => "wrong_passphrase",
            Refusal::NotLoopback(_) => "not_loopback",
            Refusal::UnknownFileKind(_) => "unknown_file_kind",
            Refusal::WrongHost(_) => "wrong_host",
            Refusal::NoSession(_) => "no_session",
            Refusal::CrossSite(_) => "cross_site",
            Refusal::Io(_) => "io",
        }
    }

    /// What kind of failure it is.
    pub fn kind(&self) -> Kind {
        match self {
            Refusal::BadAnswer(_) => Kind::Other,
            Refusal::UnsignedAnswer(_) => Kind::Verification,
            Refusal::SendRefused(_) | Refusal::SendDisputed(_) => Kind::Rejected,
            Refusal::SendPending(_) => Kind::Unreachable,
            Refusal::BadGenesis(_) => Kind::Verification,
            Refusal::BadKeyFile(_) => Kind::Usage,
            Refusal::BadKeyName(_) => Kind::Usage,
            Refusal::BadOffer(_) => Kind::Usage,
            Refusal::OfferNotAPledge(_) | Refusal::OfferMismatch(_) => Kind::Verification,
            Refusal::BadReason(_) => Kind::Usage,
            Refusal::BadTrustFile(_)
            | Refusal::UnboundTrustKey(_)
            | Refusal::NotAPlatformDirectory(_) => Kind::Usage,
            Refusal::BadUsage(_) => Kind::Usage,
            Refusal::ChainMismatch(_) => Kind::Verification,
            Refusal::DocumentChecksumMismatch(_) => Kind::Verification,
            Refusal::EmptyPassphrase(_) => Kind::Usage,
            Refusal::EmptyTrustStore(_) => Kind::Usage,
            Refusal::FileTooLarge(_) => Kind::Usage,
            Refusal::Internal(_) => Kind::Usage,
            Refusal::KeyExists(_) => Kind::Usage,
            Refusal::MalformedAmount(_) => Kind::Usage,
            Refusal::MalformedJson(_) => Kind::Usage,
            Refusal::MalformedKey(_) => Kind::Usage,
            Refusal::MissingEndorsee(_) => Kind::Usage,
            Refusal::NoPassphrase(_) => Kind::Usage,
            Refusal::NoEmbeddedNode(_) => Kind::Usage,
            Refusal::NodeUnreachable(_) => Kind::Unreachable,
            Refusal::UntrustedNodeCertificate(_) => Kind::Verification,
            Refusal::StaleOffer(_) => Kind::Verification,
            Refusal::BadReceipt(_) => Kind::Verification,
            Refusal::UnknownKey(_) => Kind::Usage,
            Refusal::UnknownParty(_) => Kind::Usage,
            Refusal::UnreadableDocuments(_) => Kind::Usage,
            Refusal::UnreadableFile(_) => Kind::Usage,
            Refusal::UnreadableTrustStore(_) => Kind::Usage,
            Refusal::WrongPassphrase(_) => Kind::Usage,
            Refusal::NotLoopback(_)
            | Refusal::UnknownFileKind(_)
            | Refusal::WrongHost(_)
            | Refusal::NoSession(_)
            | Refusal::CrossSite(_) => Kind::Usage,
            Refusal::Io(_) => Kind::Other,
        }
    }
}

impl From<Refusal> for CliError {
    fn from(refusal: Refusal) -> CliError {
        CliError::from(Cause::Refused(refusal))
    }
}

#[cfg(test)]
mod tests {
    use super::{CliError, Refusal};

    /// The codes and exit codes scripts match on stay what they were when the call sites spelt them.
    #[test]
    fn refusal_codes_and_exit_codes_are_pinned() {
        let pinned = [
            (
                Refusal::NodeUnreachable(String::new()),
                "node_unreachable",
                5,
            ),
            (Refusal::BadAnswer(String::new()), "bad_answer", 1),
            (
                Refusal::UntrustedNodeCertificate(String::new()),
                "untrusted_node_certificate",
                4,
            ),
            (Refusal::UnsignedAnswer(String::new()), "bad_answer", 4),
            (Refusal::SendRefused(String::new()), "send_refused", 3),
            (Refusal::SendDisputed(String::new()), "send_disputed", 3),
            (Refusal::SendPending(String::new()), "send_pending", 5),
            (Refusal::ChainMismatch(String::new()), "chain_mismatch", 4),
            (Refusal::StaleOffer(String::new()), "stale_offer", 4),
            (Refusal::BadReceipt(String::new()), "bad_receipt", 4),
            (
                Refusal::WrongPassphrase(String::new()),
                "wrong_passphrase",
                2,
            ),
            (Refusal::KeyExists(String::new()), "key_exists", 2),
            (
                Refusal::UnboundTrustKey(String::new()),
                "unbound_trust_key",
                2,
            ),
            (
                Refusal::NotAPlatformDirectory(String::new()),
                "not_a_platform_directory",
                2,
            ),
            (Refusal::NotLoopback(String::new()), "not_loopback", 2),
            (
                Refusal::UnknownFileKind(String::new()),
                "unknown_file_kind",
                2,
            ),
            (Refusal::WrongHost(String::new()), "wrong_host", 2),
            (Refusal::NoSession(String::new()), "no_session", 2),
            (Refusal::CrossSite(String::new()), "cross_site", 2),
            (Refusal::Io(String::new()), "io", 1),
        ];
        for (refusal, code, exit) in pinned {
            let error = CliError::from(refusal);
            assert_eq!((error.code().as_ref(), error.exit_code()), (code, exit));
        }
    }
}
