//! `GET /verifier`: the browser verifier, public as the genesis is. The page verifies a bundle in the
//! reader's browser against the chain id the reader types; it trusts this node for nothing, so serving it
//! here is only a convenience, and a bank may keep the same file (`ebl verifier -o`) instead.

use std::sync::OnceLock;

use axum::http::{header, Uri};
use axum::response::{IntoResponse, Response};

/// The page, made once: it holds the module, about a megabyte of base64.
fn page() -> Option<&'static str> {
    static PAGE: OnceLock<Option<String>> = OnceLock::new();
    PAGE.get_or_init(ebl_verifier_page::page).as_deref()
}

pub(super) async fn show(uri: Uri) -> Response {
    match page() {
        Some(page) => (
            [
                (header::CONTENT_TYPE, "text/html; charset=utf-8"),
                // The page's script and module are inline and call nothing: nothing else may run in it.
                (
                    header::CONTENT_SECURITY_POLICY,
                    "default-src 'none'; script-src 'unsafe-inline' 'wasm-unsafe-eval'; style-src 'unsafe-inline'; connect-src 'none'",
                ),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            ],
            page,
        )
            .into_response(),
        // A node built without the wasm32 target has no page: as if the path did not exist.
        None => super::not_found(uri).await.into_response(),
    }
}
