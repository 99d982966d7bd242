//! Parties on other platforms: whom a bill is sent to over DCSA PINT, named as PINT names them.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::genesis::check_platform_code;
use crate::limits::{FOREIGN_PARTY_CODES_MAX, FOREIGN_PARTY_CODE_BYTES_MAX, PARTY_NAME_BYTES_MAX};
use crate::party::check_text;

/// One of a foreign party's identifying codes (PINT's `IdentifyingCode`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartyCode {
    /// The code list the code is from (`codeListProvider`): a platform code, `LEI`, `DID`, ...
    pub provider: String,
    /// The party's code in that list (`partyCode`).
    pub code: String,
}

/// A party hosted on another platform, as the receiving platform knows it: its platform code
/// (`eblPlatform`), its name (`partyName`) and the codes that identify it there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForeignParty {
    /// The receiving platform's PINT code.
    pub platform: String,
    /// The party's name.
    pub name: String,
    /// At least one code the receiving platform recognises the party by.
    pub codes: Vec<PartyCode>,
}

impl ForeignParty {
    /// Rules that need no ledger state: a valid platform code, a name, 1 to `FOREIGN_PARTY_CODES_MAX`
    /// codes each within `FOREIGN_PARTY_CODE_BYTES_MAX`.
    pub fn check(&self) -> Result<()> {
        check_platform_code(&self.platform)?;
        check_text("foreign party name", &self.name, PARTY_NAME_BYTES_MAX)?;
        if self.codes.is_empty() {
            return Err(Error::EmptyField {
                field: "foreign party codes",
            });
        }
        if self.codes.len() > FOREIGN_PARTY_CODES_MAX {
            return Err(Error::TooManyPartyCodes {
                count: self.codes.len(),
                max: FOREIGN_PARTY_CODES_MAX,
            });
        }
        for c in &self.codes {
            check_text(
                "code list provider",
                &c.provider,
                FOREIGN_PARTY_CODE_BYTES_MAX,
            )?;
            check_text("party code", &c.code, FOREIGN_PARTY_CODE_BYTES_MAX)?;
        }
        Ok(())
    }

    /// `NAME (CODE on PLATFORM)`, for messages and tables.
    pub fn describe(&self) -> String {
        let code = self.codes.first().map_or("", |c| c.code.as_str());
        format!("{} ({} on {})", self.name, code, self.platform)
    }
}
