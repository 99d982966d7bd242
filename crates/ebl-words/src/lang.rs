//! The languages the wallet speaks to people (English, Simplified Chinese) and how it picks one.
//! Error codes and `--json` output never change with the language: scripts read those.

/// A language of the wallet's human-readable words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    /// English.
    #[default]
    En,
    /// Simplified Chinese.
    Zh,
}

impl Lang {
    /// Every language, in the order the switch shows them.
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Zh];

    /// The short code used in `--lang`, cookies and links.
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Zh => "zh",
        }
    }

    /// The BCP 47 tag a page declares.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Zh => "zh-CN",
        }
    }

    /// The language's own name, for the switch.
    pub fn own_name(self) -> &'static str {
        match self {
            Lang::En => "English",
            Lang::Zh => "简体中文",
        }
    }

    /// `en`, `zh`, or a longer tag starting with either (`zh-CN`, `en_GB.UTF-8`).
    pub fn from_tag(tag: &str) -> Option<Lang> {
        let primary = tag
            .trim()
            .split(['-', '_', '.', '@'])
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        match primary.as_str() {
            "en" => Some(Lang::En),
            "zh" => Some(Lang::Zh),
            _ => None,
        }
    }

    /// The language a browser prefers among ours, from its `Accept-Language` header (RFC 9110 §12.5.4):
    /// the highest weight wins, the earlier on a tie; English when it names neither.
    pub fn from_accept_language(header: &str) -> Lang {
        let mut best: Option<(u16, Lang)> = None;
        for item in header.split(',').take(ACCEPT_LANGUAGE_ITEMS_MAX) {
            let mut parts = item.split(';');
            let tag = parts.next().unwrap_or("");
            let weight = parts
                .find_map(|p| p.trim().strip_prefix("q="))
                .map_or(1000, weight_per_mille);
            if weight == 0 {
                continue;
            }
            if let Some(lang) = Lang::from_tag(tag) {
                if best.is_none_or(|(w, _)| weight > w) {
                    best = Some((weight, lang));
                }
            }
        }
        best.map_or(Lang::En, |(_, lang)| lang)
    }

    /// The language of the CLI's words: `--lang` if given, else the locale (`LC_ALL`, `LC_MESSAGES`,
    /// `LANG`, the first one set, as POSIX orders them), else English. `var` reads the environment:
    /// the binaries pass `std::env::var`, so this crate reads nothing itself.
    pub fn for_terminal(flag: Option<Lang>, var: impl Fn(&str) -> Option<String>) -> Lang {
        flag.or_else(|| {
            ["LC_ALL", "LC_MESSAGES", "LANG"]
                .iter()
                .find_map(|v| var(v).filter(|s| !s.is_empty()))
                .and_then(|s| Lang::from_tag(&s))
        })
        .unwrap_or_default()
    }
}

/// How many entries of an `Accept-Language` header are read; the rest is ignored.
pub const ACCEPT_LANGUAGE_ITEMS_MAX: usize = 32;

/// A quality value ("0.8") in thousandths; anything unreadable counts as 0 (not acceptable).
fn weight_per_mille(q: &str) -> u16 {
    let q = q.trim();
    let (whole, fraction) = q.split_once('.').unwrap_or((q, ""));
    if fraction.len() > 3 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return 0;
    }
    match whole {
        "1" if fraction.bytes().all(|b| b == b'0') => 1000,
        "0" => format!("{fraction:0<3}").parse().unwrap_or(0),
        _ => 0,
    }
}

/// A language the wallet does not speak.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?}: the languages are en and zh")]
pub struct UnknownLang(pub String);

impl std::str::FromStr for Lang {
    type Err = UnknownLang;

    fn from_str(s: &str) -> Result<Lang, UnknownLang> {
        match s {
            "en" => Ok(Lang::En),
            "zh" => Ok(Lang::Zh),
            _ => Err(UnknownLang(s.to_owned())),
        }
    }
}

/// Columns a string takes in a terminal: CJK ideographs, kana, Hangul and full-width forms take two, so
/// tables of Chinese names line up.
pub fn display_width(text: &str) -> usize {
    text.chars().map(char_width).sum()
}

fn char_width(c: char) -> usize {
    let c = c as u32;
    let wide = matches!(c,
        0x1100..=0x115F
        | 0x2E80..=0x303E
        | 0x3041..=0x33FF
        | 0x3400..=0x4DBF
        | 0x4E00..=0x9FFF
        | 0xA000..=0xA4CF
        | 0xAC00..=0xD7A3
        | 0xF900..=0xFAFF
        | 0xFE30..=0xFE4F
        | 0xFF00..=0xFF60
        | 0xFFE0..=0xFFE6
        | 0x20000..=0x3FFFD);
    if wide {
        2
    } else if c < 0x20 || (0x300..=0x36F).contains(&c) {
        0
    } else {
        1
    }
}

/// `text` padded with spaces to `width` terminal columns.
/// `text` in exactly `width` terminal columns: padded, or cut with an ellipsis (wide characters count two).
pub fn fit(text: &str, width: usize) -> String {
    if display_width(text) <= width {
        return pad(text, width);
    }
    let mut cut = String::new();
    let mut used = 0;
    for c in text.chars() {
        let w = char_width(c);
        if used + w + 1 > width {
            break;
        }
        cut.push(c);
        used += w;
    }
    cut.push('…');
    pad(&cut, width)
}

/// `text` padded with spaces to `width` columns, counting wide characters as two.
pub fn pad(text: &str, width: usize) -> String {
    let used = display_width(text);
    format!("{text}{}", " ".repeat(width.saturating_sub(used)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_fitted_to_its_columns_wide_characters_counting_two() {
        assert_eq!(fit("Bank", 6), "Bank  ");
        assert_eq!(fit("Mediterranean Shipping", 8), "Mediter…");
        // 中国银行 is eight columns: cut to three characters and the ellipsis in seven, padded to eight.
        assert_eq!(fit("中国银行股份", 8), "中国银… ");
        assert_eq!(display_width(&fit("中国银行股份", 8)), 8);
    }

    #[test]
    fn a_browser_gets_the_language_it_weighs_highest() {
        assert_eq!(
            Lang::from_accept_language("zh-CN,zh;q=0.9,en;q=0.8"),
            Lang::Zh
        );
        assert_eq!(
            Lang::from_accept_language("en-US,en;q=0.9,zh;q=0.8"),
            Lang::En
        );
        assert_eq!(Lang::from_accept_language("fr;q=1, zh-TW;q=0.5"), Lang::Zh);
        assert_eq!(Lang::from_accept_language("en;q=0.2, zh;q=0.7"), Lang::Zh);
        assert_eq!(Lang::from_accept_language("zh;q=0, en;q=0.1"), Lang::En);
        assert_eq!(Lang::from_accept_language("de, fr"), Lang::En);
        assert_eq!(Lang::from_accept_language(""), Lang::En);
        assert_eq!(Lang::from_accept_language("zh;q=banana"), Lang::En);
    }

    #[test]
    fn only_the_first_accept_language_items_are_read() {
        let mut header = vec!["de"; ACCEPT_LANGUAGE_ITEMS_MAX - 1];
        header.push("zh");
        assert_eq!(Lang::from_accept_language(&header.join(",")), Lang::Zh);
        let mut header = vec!["de"; ACCEPT_LANGUAGE_ITEMS_MAX];
        header.push("zh");
        assert_eq!(Lang::from_accept_language(&header.join(",")), Lang::En);
    }

    #[test]
    fn locales_name_their_language() {
        assert_eq!(Lang::from_tag("zh_CN.UTF-8"), Some(Lang::Zh));
        assert_eq!(Lang::from_tag("en_GB.UTF-8"), Some(Lang::En));
        assert_eq!(Lang::from_tag("C.UTF-8"), None);
        assert_eq!(Lang::from_tag("POSIX"), None);
    }

    #[test]
    fn the_terminal_language_is_the_flag_else_the_first_locale_set() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| (*v).to_owned())
            }
        };
        let zh_lang = env(&[("LANG", "zh_CN.UTF-8")]);
        assert_eq!(Lang::for_terminal(None, zh_lang), Lang::Zh);
        assert_eq!(Lang::for_terminal(Some(Lang::En), zh_lang), Lang::En);
        // POSIX order: LC_ALL before LANG; an empty one counts as unset.
        let both = env(&[("LC_ALL", "en_US.UTF-8"), ("LANG", "zh_CN.UTF-8")]);
        assert_eq!(Lang::for_terminal(None, both), Lang::En);
        let empty = env(&[("LC_ALL", ""), ("LANG", "zh_CN.UTF-8")]);
        assert_eq!(Lang::for_terminal(None, empty), Lang::Zh);
        assert_eq!(Lang::for_terminal(None, env(&[])), Lang::En);
    }

    #[test]
    fn chinese_takes_two_columns_a_character() {
        assert_eq!(display_width("Harbour Bank"), 12);
        assert_eq!(display_width("宁波港银行"), 10);
        assert_eq!(pad("宁波", 6), "宁波  ");
        assert_eq!(pad("abc", 2), "abc");
    }
}
