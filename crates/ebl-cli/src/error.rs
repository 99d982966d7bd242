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

impl Kind {
    /// What kind of failure an error line reports, in words.
    pub fn in_words(self, lang: crate::lang::Lang) -> &'static str {
        let (en, zh) = match self {
            Kind::Usage => ("bad usage or input", "用法或输入有误"),
            Kind::Rejected => ("refused by the ledger", "账本拒绝"),
            Kind::Verification => ("verification failed", "验证失败"),
            Kind::Unreachable => ("node unreachable", "无法连接节点"),
            Kind::Other => ("error", "错误"),
        };
        match lang {
            crate::lang::Lang::En => en,
            crate::lang::Lang::Zh => zh,
        }
    }
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

    /// A local IO failure of `what`, its cause kept.
    pub fn io(what: &str, e: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> CliError {
        CliError::from(Refusal::Io {
            what: what.to_owned(),
            source: source(e),
        })
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
    /// A carrier named otherwise than `PROVIDER:CODE`.
    #[error("{text:?} is not a carrier as transport documents name it")]
    BadCarrierCode {
        /// The text as given.
        text: String,
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
            WalletRule::BadCarrierCode { .. } => "bad_carrier_code",
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
            WalletRule::BadCarrierCode { .. } => {
                "give its carrierCodeListProvider and carrierCode: --carrier SMDG:MSC".into()
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

/// A failure from outside the wallet's rules (the operating system, a parser, the HTTP client), kept
/// whole as a refusal's cause. Shared, so an error stays cheap to clone.
pub type Source = std::sync::Arc<dyn std::error::Error + Send + Sync>;

/// `e` as a refusal's cause.
pub fn source(e: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Source {
    std::sync::Arc::from(e.into())
}

/// What is wrong with a receipt the node answered: each check the wallet makes before it tells anyone
/// a transaction is on the ledger.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ReceiptFault {
    /// The node answered about another transaction.
    #[error("the node answered for transaction {answered}, not {sent}")]
    OtherTransaction {
        /// The transaction the answer names.
        answered: ebl_core::TxId,
        /// The one sent.
        sent: ebl_core::TxId,
    },
    /// The receipt names another transaction.
    #[error("the receipt is for transaction {receipt}, not {sent}")]
    ReceiptOfAnother {
        /// The transaction the receipt names.
        receipt: ebl_core::TxId,
        /// The one sent.
        sent: ebl_core::TxId,
    },
    /// The receipt's block is of another chain.
    #[error("the receipt's block is of chain {block}, not {sent}")]
    OtherChain {
        /// The block's chain.
        block: ebl_core::Hash,
        /// The transaction's.
        sent: ebl_core::Hash,
    },
    /// The inclusion proof does not place the transaction in the block.
    #[error("the receipt does not prove transaction {sent} is in block {height}: {source}")]
    NotInBlock {
        /// The transaction.
        sent: ebl_core::TxId,
        /// The block's height.
        height: u64,
        /// The proof's failure.
        #[source]
        source: ebl_core::Error,
    },
    /// The block's certificate does not verify.
    #[error("block {height}'s certificate: {source}")]
    Certificate {
        /// The block's height.
        height: u64,
        /// The signature check's failure.
        #[source]
        source: ebl_core::Error,
    },
}

/// The wallet's own refusals: one variant per thing wrong, its facts as fields and its sentence in
/// `Display`, each with the code (and so the exit code) it stands for. No call site spells a code or
/// a message.
#[derive(Debug, Clone, thiserror::Error)]
pub enum Refusal {
    /// A node's answer the wallet cannot read.
    #[error("the node's answer is not what was expected: {source}")]
    UnreadableAnswer {
        /// Why it cannot be read.
        #[source]
        source: Source,
    },
    /// A node's answer that lacks what it must hold.
    #[error("the node answered {what}")]
    IncompleteAnswer {
        /// What it answered instead.
        what: &'static str,
    },
    /// A PINT answer whose signature is not the node's.
    #[error("the node's answer is not signed by the node: {source}")]
    UnsignedAnswer {
        /// The signature check's failure.
        #[source]
        source: Source,
    },
    /// The platform a bill was sent to refused it (`BENV`, `BSIG`): the holder has it again.
    #[error("{platform} refused the bill ({answer}): you hold it again")]
    SendRefused {
        /// The receiving platform.
        platform: String,
        /// Its signed answer.
        answer: String,
    },
    /// The platform a bill was sent to disputes it (`DISE`): it is held for people to resolve.
    #[error("{platform} disputes the bill ({answer}): it is held here for people to resolve")]
    SendDisputed {
        /// The receiving platform.
        platform: String,
        /// Its signed answer.
        answer: String,
    },
    /// The platform a bill was sent to has given no signed answer within the wait: the bill is frozen
    /// here and the node keeps trying.
    #[error("{sent}; no signed answer from {platform} within {wait_s} s: the bill stays frozen here and the node keeps trying; `ebl bill show` tells when the answer comes")]
    SendPending {
        /// What the send did.
        sent: String,
        /// The receiving platform.
        platform: String,
        /// How long the wallet waited.
        wait_s: u64,
    },
    /// A node whose genesis does not hash to the chain id it serves.
    #[error("the node's genesis does not hash to its chain id")]
    BadGenesis,
    /// A key file's key derivation failed (its parameters, or the derivation itself).
    #[error("key derivation: {source}")]
    KeyDerivation {
        /// The KDF's failure.
        #[source]
        source: Source,
    },
    /// A key file with a field that does not decode.
    #[error("key file of {name:?}: bad {field}")]
    BadKeyField {
        /// The key's name.
        name: String,
        /// The field.
        field: &'static str,
    },
    /// A file that is no key file.
    #[error("{file} is not a key file: {source}")]
    NotAKeyFile {
        /// The file (a path, or the key backup).
        file: String,
        /// Why it does not read as one.
        #[source]
        source: Source,
    },
    /// A key file of a format this wallet does not read.
    #[error(
        "{file} is a key file of format {format:?}; this wallet reads {}",
        crate::keystore::FORMAT
    )]
    KeyFileFormat {
        /// The file (a path, or the key backup).
        file: String,
        /// The format it names.
        format: String,
    },
    /// A key file saved under another key's name.
    #[error("{file} is not the key file of {name:?}")]
    KeyFileOfAnother {
        /// The file.
        file: String,
        /// The key asked for.
        name: String,
    },
    /// A key name that cannot name a file.
    #[error(
        "key name {name:?} must be 1 to {} letters, digits, '-', '_' or '.'",
        crate::keystore::KEY_NAME_BYTES_MAX
    )]
    BadKeyName {
        /// The name given.
        name: String,
    },
    /// A file that is no pledge offer.
    #[error("not a pledge offer: {source}")]
    BadOffer {
        /// Why it does not read as one.
        #[source]
        source: Source,
    },
    /// A pledge offer of a format this wallet does not read.
    #[error("not a pledge offer (format {format:?})")]
    OfferFormat {
        /// The format it names.
        format: String,
    },
    /// A pledge offer whose transaction is no pledge: it does not verify as an offer.
    #[error("the offer holds a {action} transaction")]
    OfferNotAPledge {
        /// The transaction's action.
        action: String,
    },
    /// A pledge offer whose pledge is not for the bill state its bundle proves.
    #[error("the pledge is not for the bill state the bundle proves")]
    OfferMismatch,
    /// An amendment reason that cannot be used.
    #[error("amendment reason {reason:?}: use SWTP, COD or SWI")]
    BadReason {
        /// The reason given.
        reason: String,
    },
    /// A PINT trust directory that cannot be used: unreadable, a bad file, a key bound to no
    /// platform, an entry that is no platform code (each its own code).
    #[error(transparent)]
    TrustDirectory(std::sync::Arc<ebl_pint::trust_dir::TrustDirError>),
    /// Arguments clap refuses.
    #[error("{source}")]
    BadUsage {
        /// clap's account of them.
        #[source]
        source: Source,
    },
    /// A web form without a field it needs.
    #[error("the form is incomplete: {source}")]
    IncompleteForm {
        /// What is missing.
        #[source]
        source: Source,
    },
    /// A web form larger than the app reads.
    #[error("a form larger than {} bytes", crate::ui::FORM_BYTES_MAX)]
    FormTooLarge,
    /// `ebl demo --cluster N` with N out of its range.
    #[error(
        "--cluster takes 2 to {} members",
        crate::demo::cluster::DEMO_MEMBERS_MAX
    )]
    DemoMembers,
    /// Two nodes given for one chain that serve different chains.
    #[error("the node at {node} serves another chain than the one at {first}")]
    NodesOnTwoChains {
        /// The node that differs.
        node: String,
        /// The node first asked.
        first: String,
    },
    /// A transaction for another chain than the node serves.
    #[error("the transaction is for chain {transaction}, the node serves {node}")]
    TransactionOfAnotherChain {
        /// The transaction's chain.
        transaction: ebl_core::Hash,
        /// The node's.
        node: ebl_core::Hash,
    },
    /// A document that is not the one the bill was issued with.
    #[error("document {checksum} does not have its checksum")]
    DocumentChecksumMismatch {
        /// The checksum the envelope named.
        checksum: ebl_core::Hash,
    },
    /// An empty passphrase.
    #[error("the passphrase must not be empty")]
    EmptyPassphrase,
    /// A trust directory with no key.
    #[error("no usable JWK (Ed25519, P-256, or RSA of 2048 bits or more) or root certificate in {}", dir.display())]
    EmptyTrustStore {
        /// The directory.
        dir: std::path::PathBuf,
    },
    /// A file larger than the wallet reads.
    #[error("{file} is larger than a {what} may be ({max} bytes)")]
    FileTooLarge {
        /// The file (a path, standard input, a dropped file).
        file: String,
        /// What it was to be.
        what: String,
        /// The most a `what` may have.
        max: usize,
    },
    /// A fault of the wallet's own.
    #[error("a fault of the wallet's own: {source}")]
    Internal {
        /// What failed.
        #[source]
        source: Source,
    },
    /// A key name already used.
    #[error("a key named {name:?} already exists")]
    KeyExists {
        /// The name.
        name: String,
    },
    /// An amount that is no decimal money amount.
    #[error("amount {text:?} must look like 1000000 or 1000000.50")]
    MalformedAmount {
        /// The amount given.
        text: String,
    },
    /// A file that is not JSON of what it should hold.
    #[error("{file} is not a {what}: {source}")]
    MalformedJson {
        /// The file.
        file: String,
        /// What it should hold.
        what: String,
        /// The parser's account.
        #[source]
        source: Source,
    },
    /// A key that is no ed25519 key.
    #[error("{} does not hold a 32-byte hex seed", file.display())]
    MalformedKey {
        /// The file.
        file: std::path::PathBuf,
    },
    /// An endorsement naming nobody.
    #[error("name the endorsee with --to, or endorse in blank with --blank")]
    MissingEndorsee,
    /// No passphrase given, and no terminal to ask on.
    #[error("cannot read a passphrase: {source}")]
    NoPassphrase {
        /// Why the terminal could not be read.
        #[source]
        source: Source,
    },
    /// `ebl demo` in a wallet built without its embedded node (feature `embedded-node`).
    #[error("this ebl was built without its embedded node (feature `embedded-node`): run `ebl demo --cluster 3` with ebl-node beside ebl, or build ebl with `--features embedded-node` (`cargo run --release -p ebl-cli --features embedded-node -- demo`)")]
    NoEmbeddedNode,
    /// No node answered.
    #[error("cannot reach the node at {node}: {source}")]
    NodeUnreachable {
        /// The node's address.
        node: String,
        /// The connection's failure.
        #[source]
        source: Source,
    },
    /// The node's TLS certificate is not one the wallet trusts (not pinned, not under a system root,
    /// expired, or for another name): nothing is sent to it.
    #[error("the node at {node} presented a certificate this wallet does not trust: {why}")]
    UntrustedNodeCertificate {
        /// The node's address.
        node: String,
        /// rustls's account of the certificate.
        why: String,
    },
    /// A pledge offer the bill has moved past.
    #[error("the bill changed since the offer was made")]
    StaleOffer,
    /// A receipt that does not prove what was submitted is in a block the member nodes signed.
    #[error(transparent)]
    BadReceipt(ReceiptFault),
    /// A key name the wallet does not hold.
    #[error("no key named {name:?} in {}", dir.display())]
    UnknownKey {
        /// The name.
        name: String,
        /// The wallet's key directory.
        dir: std::path::PathBuf,
    },
    /// A party name the registry does not know.
    #[error("no registered party {who:?}")]
    UnknownParty {
        /// The name given.
        who: String,
    },
    /// Additional documents that cannot be read.
    #[error("cannot read {}: {source}", dir.display())]
    UnreadableDocuments {
        /// The directory.
        dir: std::path::PathBuf,
        /// The operating system's failure.
        #[source]
        source: Source,
    },
    /// A file that cannot be read.
    #[error("cannot read {what} {file}: {source}")]
    UnreadableFile {
        /// What it was to be.
        what: String,
        /// The file (or "from standard input").
        file: String,
        /// The operating system's failure.
        #[source]
        source: Source,
    },
    /// A pinned chains file of a format this wallet does not read.
    #[error("{} is not a pinned chains file (format {format:?})", file.display())]
    PinsFormat {
        /// The file.
        file: std::path::PathBuf,
        /// The format it names.
        format: String,
    },
    /// A passphrase that does not open the key.
    #[error("wrong passphrase for key {name:?}")]
    WrongPassphrase {
        /// The key's name.
        name: String,
    },
    /// `ebl ui` serves the wallet's keys: it listens on loopback only.
    #[error("{listen} is not a loopback address: the app signs with your keys and listens on 127.0.0.1 only")]
    NotLoopback {
        /// The address asked for.
        listen: String,
    },
    /// A file that is no bundle, offer or envelope, in the words of the page it was dropped on.
    #[error("{said}")]
    UnknownFileKind {
        /// What the page says, in its language.
        said: String,
    },
    /// `ebl verify` given a pledge offer, which `ebl bill pledge-review` checks.
    #[error("{} is a pledge offer, not a proof bundle", file.display())]
    OfferNotBundle {
        /// The file.
        file: std::path::PathBuf,
    },
    /// `ebl verifier` from a wallet built by a toolchain without the WebAssembly target.
    #[error("this ebl was built without the browser verifier: its toolchain lacked the wasm32-unknown-unknown target")]
    VerifierNotBuilt,
    /// A request to the web app naming another host (DNS rebinding).
    #[error("this app answers to {hosts} only, not {host:?}")]
    WrongHost {
        /// The hosts it answers to.
        hosts: String,
        /// The host the request named.
        host: String,
    },
    /// A request to the web app from a browser without its session, in the page's words.
    #[error("{said}")]
    NoSession {
        /// What the page says, in its language.
        said: String,
    },
    /// A request to `ebl ui` that changes something from a page not its own.
    #[error("the request does not come from this app's own pages")]
    ForeignOrigin,
    /// A request to `ebl ui` that changes something without the session's form token.
    #[error("the form does not carry this session's form token")]
    NoFormToken,
    /// A local file or terminal that failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The failure.
        #[source]
        source: Source,
    },
}

impl Refusal {
    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::UnreadableAnswer { .. }
            | Refusal::IncompleteAnswer { .. }
            | Refusal::UnsignedAnswer { .. } => "bad_answer",
            Refusal::SendRefused { .. } => "send_refused",
            Refusal::SendDisputed { .. } => "send_disputed",
            Refusal::SendPending { .. } => "send_pending",
            Refusal::BadGenesis => "bad_genesis",
            Refusal::KeyDerivation { .. }
            | Refusal::BadKeyField { .. }
            | Refusal::NotAKeyFile { .. }
            | Refusal::KeyFileFormat { .. }
            | Refusal::KeyFileOfAnother { .. } => "bad_key_file",
            Refusal::BadKeyName { .. } => "bad_key_name",
            Refusal::BadOffer { .. } | Refusal::OfferFormat { .. } => "bad_offer",
            Refusal::OfferNotAPledge { .. } => "not_a_pledge",
            Refusal::OfferMismatch => "offer_mismatch",
            Refusal::BadReason { .. } => "bad_reason",
            Refusal::TrustDirectory(e) => e.code(),
            Refusal::BadUsage { .. }
            | Refusal::IncompleteForm { .. }
            | Refusal::FormTooLarge
            | Refusal::DemoMembers => "bad_usage",
            Refusal::NodesOnTwoChains { .. } | Refusal::TransactionOfAnotherChain { .. } => {
                "chain_mismatch"
            }
            Refusal::DocumentChecksumMismatch { .. } => "document_checksum_mismatch",
            Refusal::EmptyPassphrase => "empty_passphrase",
            Refusal::EmptyTrustStore { .. } => "empty_trust_store",
            Refusal::FileTooLarge { .. } => "file_too_large",
            Refusal::Internal { .. } => "internal",
            Refusal::KeyExists { .. } => "key_exists",
            Refusal::MalformedAmount { .. } => "malformed_amount",
            Refusal::MalformedJson { .. } => "malformed_json",
            Refusal::MalformedKey { .. } => "malformed_key",
            Refusal::MissingEndorsee => "missing_endorsee",
            Refusal::NoPassphrase { .. } => "no_passphrase",
            Refusal::NoEmbeddedNode => "no_embedded_node",
            Refusal::NodeUnreachable { .. } => "node_unreachable",
            Refusal::UntrustedNodeCertificate { .. } => "untrusted_node_certificate",
            Refusal::BadReceipt(_) => "bad_receipt",
            Refusal::StaleOffer => "stale_offer",
            Refusal::UnknownKey { .. } => "unknown_key",
            Refusal::UnknownParty { .. } => "unknown_party",
            Refusal::UnreadableDocuments { .. } => "unreadable_documents",
            Refusal::UnreadableFile { .. } | Refusal::PinsFormat { .. } => "unreadable_file",
            Refusal::WrongPassphrase { .. } => "wrong_passphrase",
            Refusal::NotLoopback { .. } => "not_loopback",
            Refusal::UnknownFileKind { .. } | Refusal::OfferNotBundle { .. } => "unknown_file_kind",
            Refusal::WrongHost { .. } => "wrong_host",
            Refusal::VerifierNotBuilt => "verifier_not_built",
            Refusal::NoSession { .. } => "no_session",
            Refusal::ForeignOrigin | Refusal::NoFormToken => "cross_site",
            Refusal::Io { .. } => "io",
        }
    }

    /// What kind of failure it is.
    pub fn kind(&self) -> Kind {
        match self {
            Refusal::UnreadableAnswer { .. } | Refusal::IncompleteAnswer { .. } => Kind::Other,
            Refusal::UnsignedAnswer { .. } => Kind::Verification,
            Refusal::SendRefused { .. } | Refusal::SendDisputed { .. } => Kind::Rejected,
            Refusal::SendPending { .. } => Kind::Unreachable,
            Refusal::BadGenesis => Kind::Verification,
            Refusal::OfferNotAPledge { .. } | Refusal::OfferMismatch => Kind::Verification,
            Refusal::NodesOnTwoChains { .. } | Refusal::TransactionOfAnotherChain { .. } => {
                Kind::Verification
            }
            Refusal::DocumentChecksumMismatch { .. } => Kind::Verification,
            Refusal::NodeUnreachable { .. } => Kind::Unreachable,
            Refusal::UntrustedNodeCertificate { .. } => Kind::Verification,
            Refusal::StaleOffer => Kind::Verification,
            Refusal::BadReceipt(_) => Kind::Verification,
            Refusal::Io { .. } | Refusal::VerifierNotBuilt => Kind::Other,
            _ => Kind::Usage,
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
        let cause = || super::source("a cause");
        let pinned = [
            (
                Refusal::NodeUnreachable {
                    node: String::new(),
                    source: cause(),
                },
                "node_unreachable",
                5,
            ),
            (
                Refusal::UnreadableAnswer { source: cause() },
                "bad_answer",
                1,
            ),
            (
                Refusal::UntrustedNodeCertificate {
                    node: String::new(),
                    why: String::new(),
                },
                "untrusted_node_certificate",
                4,
            ),
            (Refusal::UnsignedAnswer { source: cause() }, "bad_answer", 4),
            (
                Refusal::SendRefused {
                    platform: String::new(),
                    answer: String::new(),
                },
                "send_refused",
                3,
            ),
            (
                Refusal::SendDisputed {
                    platform: String::new(),
                    answer: String::new(),
                },
                "send_disputed",
                3,
            ),
            (
                Refusal::SendPending {
                    sent: String::new(),
                    platform: String::new(),
                    wait_s: 0,
                },
                "send_pending",
                5,
            ),
            (
                Refusal::NodesOnTwoChains {
                    node: String::new(),
                    first: String::new(),
                },
                "chain_mismatch",
                4,
            ),
            (Refusal::StaleOffer, "stale_offer", 4),
            (
                Refusal::BadReceipt(super::ReceiptFault::OtherTransaction {
                    answered: ebl_core::Hash::ZERO,
                    sent: ebl_core::Hash::ZERO,
                }),
                "bad_receipt",
                4,
            ),
            (
                Refusal::WrongPassphrase {
                    name: String::new(),
                },
                "wrong_passphrase",
                2,
            ),
            (
                Refusal::KeyExists {
                    name: String::new(),
                },
                "key_exists",
                2,
            ),
            (
                Refusal::NotLoopback {
                    listen: String::new(),
                },
                "not_loopback",
                2,
            ),
            (
                Refusal::UnknownFileKind {
                    said: String::new(),
                },
                "unknown_file_kind",
                2,
            ),
            (
                Refusal::WrongHost {
                    hosts: String::new(),
                    host: String::new(),
                },
                "wrong_host",
                2,
            ),
            (
                Refusal::NoSession {
                    said: String::new(),
                },
                "no_session",
                2,
            ),
            (Refusal::ForeignOrigin, "cross_site", 2),
            (Refusal::NoFormToken, "cross_site", 2),
            (
                Refusal::Io {
                    what: String::new(),
                    source: cause(),
                },
                "io",
                1,
            ),
        ];
        for (refusal, code, exit) in pinned {
            let error = CliError::from(refusal);
            assert_eq!((error.code().as_ref(), error.exit_code()), (code, exit));
        }
    }
}
