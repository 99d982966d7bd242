//! What can go wrong in the wallet, each kind with its documented exit code.

use ebl_core::api::ErrorBody;

/// Exit codes, as `ebl --help` documents them.
pub mod exit {
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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Usage,
    Rejected,
    Verification,
    Unreachable,
    Other,
}

/// One clear line of what is wrong, a stable code, and what to do about it.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct CliError {
    pub kind: Kind,
    pub code: String,
    pub message: String,
    pub hint: Option<String>,
}

pub type Result<T, E = CliError> = std::result::Result<T, E>;

impl CliError {
    pub fn new(kind: Kind, code: &str, message: impl Into<String>) -> CliError {
        CliError {
            kind,
            code: code.to_owned(),
            message: message.into(),
            hint: None,
        }
    }

    pub fn usage(code: &str, message: impl Into<String>) -> CliError {
        CliError::new(Kind::Usage, code, message)
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> CliError {
        self.hint = Some(hint.into());
        self
    }

    pub fn exit_code(&self) -> u8 {
        match self.kind {
            Kind::Usage => exit::USAGE,
            Kind::Rejected => exit::REJECTED,
            Kind::Verification => exit::VERIFICATION,
            Kind::Unreachable => exit::UNREACHABLE,
            Kind::Other => exit::OTHER,
        }
    }

    /// A refusal by a ledger rule, as the node reported it.
    pub fn rejected(body: &ErrorBody) -> CliError {
        CliError::new(
            Kind::Rejected,
            &body.code,
            format!("refused by the ledger: {}", body.message),
        )
    }

    pub fn io(what: &str, e: impl std::fmt::Display) -> CliError {
        CliError::new(Kind::Other, "io", format!("{what}: {e}"))
    }
}

impl From<ebl_core::Error> for CliError {
    fn from(e: ebl_core::Error) -> CliError {
        CliError::usage(e.code(), e.to_string())
    }
}

/// The wallet's own rules (the ledger's are `ebl_core::Error`): one variant per rule, each with its
/// stable code and what to do about it. All are usage errors (exit 2).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WalletRule {
    #[error("{address:?} is not a node address")]
    BadNodeAddress { address: String },
    #[error("a passphrase protecting a key must have at least {min} characters")]
    WeakPassphrase { min: usize },
    #[error("the key file asks for {memory_kib} KiB, {passes} passes and {lanes} lanes; at most {memory_kib_max} KiB, {passes_max} passes and {lanes_max} lanes are accepted")]
    KdfTooCostly {
        memory_kib: u32,
        passes: u32,
        lanes: u32,
        memory_kib_max: u32,
        passes_max: u32,
        lanes_max: u32,
    },
    #[error("{path} exists: not replaced")]
    FileExists { path: String },
    #[error("no bill {name:?} among the bills you have a part in")]
    UnknownBill { name: String },
    #[error("{name:?} names {} bills: {}", candidates.len(), candidates.join(", "))]
    AmbiguousBill {
        name: String,
        candidates: Vec<String>,
    },
    #[error("name the void bills to replace")]
    NoBillToReplace,
    #[error("an offer is valid for 1 to {max} hours, not {hours}")]
    BadValidity { hours: u64, max: u64 },
    #[error("the offer's transaction is no pledge of a bill")]
    NotAPledge,
    #[error("not a governance proposal: {reason}")]
    BadProposal { reason: String },
    #[error("the node shows parties, the registry and blocks to registered parties and members only, and names no key to read with")]
    NoReader,
}

impl WalletRule {
    pub fn code(&self) -> &'static str {
        match self {
            WalletRule::BadNodeAddress { .. } => "bad_node_address",
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
        }
    }

    fn hint(&self) -> Option<String> {
        Some(match self {
            WalletRule::BadNodeAddress { address } => format!(
                "give it with its scheme, e.g. --node http://{}",
                address.trim_start_matches("//")
            ),
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
            WalletRule::NoReader => "name the key to read with: --as KEY (or make your key first: `ebl key new NAME`)".into(),
            _ => return None,
        })
    }
}

impl From<WalletRule> for CliError {
    fn from(rule: WalletRule) -> CliError {
        let hint = rule.hint();
        let error = CliError::usage(rule.code(), rule.to_string());
        match hint {
            Some(h) => error.with_hint(h),
            None => error,
        }
    }
}
