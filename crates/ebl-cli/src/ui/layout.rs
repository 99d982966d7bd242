//! The frame every page shares: language, navigation, the language switch, one stylesheet.

use maud::{html, Markup, DOCTYPE};

use crate::error::CliError;
use crate::lang::Lang;
use crate::words::W;

/// What a page needs to know about the request that asked for it.
#[derive(Debug, Clone)]
pub(super) struct Ctx {
    pub lang: Lang,
    /// The page's own path and query, for the language switch to come back to.
    pub path: String,
    /// The print view: no navigation, no forms, every id spelt out.
    pub print: bool,
    /// The session's form token, which every form carries and every POST must return: another page
    /// cannot read it, so cannot forge a form this app will take.
    pub csrf: String,
}

impl Ctx {
    pub(super) fn t(&self, w: W) -> &'static str {
        w.get(self.lang)
    }
}

/// A percent-encoded query value (RFC 3986 unreserved characters pass).
pub(super) fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

pub(super) fn page(ctx: &Ctx, title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang=(ctx.lang.tag()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · " (ctx.t(W::AppName)) }
                link rel="stylesheet" href="/style.css";
            }
            body class=(if ctx.print { "print" } else { "screen" }) {
                @if !ctx.print {
                    header.top {
                        a.brand href="/" { (ctx.t(W::AppName)) }
                        nav {
                            a href="/" { (ctx.t(W::Worklist)) }
                            a href="/verify" { (ctx.t(W::Verify)) }
                        }
                        span.switch aria-label=(ctx.t(W::Language)) {
                            @for lang in Lang::ALL {
                                @if lang == ctx.lang {
                                    strong lang=(lang.tag()) { (lang.own_name()) }
                                } @else {
                                    a.lang-switch lang=(lang.tag()) href=(format!("/lang?to={}&back={}", lang.code(), encode(&ctx.path))) {
                                        (lang.own_name())
                                    }
                                }
                            }
                        }
                    }
                }
                main { (body) }
                // The one script, on every page: the drop zone, and the signing forms' summaries.
                script src="/app.js" {}
            }
        }
    }
}

/// A page for an error: the wallet's message, its stable code, and the hint if any.
pub(super) fn error_page(ctx: &Ctx, e: &CliError) -> Markup {
    page(
        ctx,
        ctx.t(W::ErrorTitle),
        html! {
            section.failure {
                h1 { (ctx.t(W::ErrorTitle)) }
                (failure_words(ctx, e))
            }
        },
    )
}

/// A failure where it happened, on the page that was being used (a bill's action refused: its forms stay,
/// so the reader tries again there).
pub(super) fn failure_notice(ctx: &Ctx, e: &CliError) -> Markup {
    html! {
        section.failure id="action-failure" role="alert" {
            h2 { (ctx.t(W::ErrorTitle)) }
            (failure_words(ctx, e))
        }
    }
}

/// What the code means and what to do, in the reader's language; the rule's own words (English, with
/// their names and figures) follow, behind a fold on a Chinese page.
fn failure_words(ctx: &Ctx, e: &CliError) -> Markup {
    html! {
        @if let Some(meaning) = ebl_words::codes::explain(&e.code(), ctx.lang) {
            p.meaning { (meaning) }
        }
        p { (ctx.t(W::Code)) ": " code.error-code { (e.code()) } }
        @if ctx.lang == crate::lang::Lang::En {
            p.message { (e.message()) }
            @if let Some(hint) = &e.hint {
                p { (ctx.t(W::Hint)) ": " (hint) }
            }
        } @else {
            details.original {
                summary { (ctx.t(W::OriginalWords)) }
                p.message { (e.message()) }
                @if let Some(hint) = &e.hint {
                    p { (ctx.t(W::Hint)) ": " (hint) }
                }
            }
        }
    }
}

/// A hex id shortened for people, with the whole of it one click away (and always in print).
pub(super) fn hex(ctx: &Ctx, full: &str) -> Markup {
    let short = &full[..full.len().min(12)];
    html! {
        @if ctx.print {
            code.hex { (full) }
        } @else {
            details.hex { summary { code { (short) "…" } } code { (full) } }
        }
    }
}
