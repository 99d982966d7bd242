//! The wallet's words: every word of `ebl_words::words`, and what a PINT answer means, which only the
//! wallet (linking PINT) shows.

pub use ebl_words::words::*;

use crate::lang::Lang;

/// What a PINT answer means for the person who dropped the envelope.
pub fn pint(code: ebl_pint::PintCode, lang: Lang) -> &'static str {
    use ebl_pint::PintCode as C;
    let (en, zh) = match code {
        C::Received | C::Duplicate => ("The envelope checks out.", "信封验证无误。"),
        C::BadSignature => (
            "A signature does not verify, or is by a key not trusted for that platform and role.",
            "某个签名无法验证，或签名密钥不受该平台及角色信任。",
        ),
        C::BadEnvelope => (
            "The envelope is malformed or its transfer chain is broken.",
            "信封格式错误，或其转让链断裂。",
        ),
        C::IncorrectDocument => (
            "The transport document or an attached document is not the one the signatures name.",
            "运输单据或附件与签名所指的不一致。",
        ),
        C::MissingDocument => (
            "A document the manifest names is missing.",
            "缺少清单中列明的文件。",
        ),
        C::Disputed => (
            "The history conflicts with one already received: a double spend.",
            "该历史与已收到的历史冲突：重复转让。",
        ),
    };
    match lang {
        Lang::En => en,
        Lang::Zh => zh,
    }
}
