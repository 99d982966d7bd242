//! The WebAssembly surface: byte buffers in and out of linear memory, so that a page needs no generated
//! glue. The page asks for an input buffer of the size it needs, writes the bundle and the chain id into
//! it, calls `verify`, and reads the JSON report from `output`. One page, one call at a time: the
//! buffers are the module's own.
//!
//! Three exports and about twenty lines of JavaScript do what wasm-bindgen would, without its generated
//! glue and the command-line tool that must match its version exactly on every machine that builds.

#![allow(
    unsafe_code,
    reason = "#[no_mangle] names the exports a page calls; the lint counts it as unsafe. No raw pointer is read here: the page writes into a Vec this module owns"
)]

use std::sync::{Mutex, PoisonError};

use ebl_words::lang::Lang;

static INPUT: Mutex<Vec<u8>> = Mutex::new(Vec::new());
static OUTPUT: Mutex<Vec<u8>> = Mutex::new(Vec::new());

fn lang(code: u32) -> Lang {
    Lang::ALL.get(code as usize).copied().unwrap_or(Lang::En)
}

fn answer(json: &serde_json::Value) -> usize {
    let mut out = OUTPUT.lock().unwrap_or_else(PoisonError::into_inner);
    *out = json.to_string().into_bytes();
    out.len()
}

/// A zeroed input buffer of `len` bytes, for the page to write the bundle then the chain id into.
#[no_mangle]
pub(crate) extern "C" fn input(len: usize) -> *mut u8 {
    let mut input = INPUT.lock().unwrap_or_else(PoisonError::into_inner);
    input.clear();
    input.resize(len, 0);
    input.as_mut_ptr()
}

/// Verifies the input's first `bundle_len` bytes against the chain id in the `chain_len` after them, in
/// language `lang` (0 English, 1 Chinese); the report's length in bytes, to read at `output`.
#[no_mangle]
pub(crate) extern "C" fn verify(bundle_len: usize, chain_len: usize, lang_code: u32) -> usize {
    let input = INPUT.lock().unwrap_or_else(PoisonError::into_inner);
    let end = bundle_len.saturating_add(chain_len).min(input.len());
    let bundle = &input[..bundle_len.min(end)];
    let chain = String::from_utf8_lossy(&input[bundle_len.min(end)..end]);
    let report = crate::report(bundle, &chain, lang(lang_code));
    answer(&serde_json::to_value(report).unwrap_or_default())
}

/// The page's words in `lang` (0 English, 1 Chinese), as JSON at `output`; their length in bytes.
#[no_mangle]
pub(crate) extern "C" fn labels(lang_code: u32) -> usize {
    answer(&crate::labels(lang(lang_code)))
}

/// Where the last answer's bytes are.
#[no_mangle]
pub(crate) extern "C" fn output() -> *const u8 {
    OUTPUT
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .as_ptr()
}
