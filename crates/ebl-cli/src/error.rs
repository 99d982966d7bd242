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
