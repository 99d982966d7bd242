//! The browser verifier as one self-contained HTML file: the page, its script, and ebl-verifier's
//! WebAssembly inline, so that a node serves it at a public path and a bank keeps it as a file that
//! still opens, offline, years later. Nothing in it calls a server.

/// The module, base64, as build.rs left it; empty where the toolchain could not build it.
const MODULE_BASE64: &str = include_str!(concat!(env!("OUT_DIR"), "/verifier.wasm.b64"));

/// The page, with a marker where the module goes.
const TEMPLATE: &str = include_str!("page.html");

const MODULE_MARKER: &str = "@MODULE_BASE64@";

/// The verifier's page, whole; `None` when this binary was built without its WebAssembly (a toolchain
/// without the wasm32-unknown-unknown target: `rustup target add wasm32-unknown-unknown`, then rebuild).
pub fn page() -> Option<String> {
    (!MODULE_BASE64.is_empty()).then(|| TEMPLATE.replace(MODULE_MARKER, MODULE_BASE64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_holds_the_module_once_and_calls_no_server() {
        assert_eq!(TEMPLATE.matches(MODULE_MARKER).count(), 1);
        for call in [
            "fetch(",
            "XMLHttpRequest",
            "WebSocket",
            "sendBeacon",
            "src=\"http",
        ] {
            assert!(!TEMPLATE.contains(call), "the page calls out with {call}");
        }
        if let Some(page) = page() {
            // A WebAssembly module starts with "\0asm", which is "AGFzbQ" in base64.
            assert!(page.contains("\"AGFzbQ"), "the module is inline");
        }
    }
}
