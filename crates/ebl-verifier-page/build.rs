//! Builds ebl-verifier for the browser (wasm32-unknown-unknown, the `wasm` profile) and leaves the module,
//! base64, where `include_str!` takes it into the page. A toolchain without that target gets a page that
//! says how to add it, and cargo warns; with `EBL_VERIFIER_REQUIRED` set (CI), the build fails instead.

use std::path::{Path, PathBuf};
use std::process::Command;

use base64ct::Encoding as _;

const TARGET: &str = "wasm32-unknown-unknown";

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let workspace = manifest
        .parent()
        .and_then(Path::parent)
        .expect("crates/ebl-verifier-page is two levels below the workspace");
    // What the module is made of: its code, the code it links, and the locked versions.
    for part in [
        "crates/ebl-core",
        "crates/ebl-words",
        "crates/ebl-verifier",
        "Cargo.lock",
    ] {
        println!("cargo:rerun-if-changed={}", workspace.join(part).display());
    }
    println!("cargo:rerun-if-env-changed=EBL_VERIFIER_REQUIRED");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("set by cargo"));
    let text = match build(workspace, &out) {
        Ok(wasm) => base64ct::Base64::encode_string(&wasm),
        Err(why) if std::env::var_os("EBL_VERIFIER_REQUIRED").is_some() => {
            panic!("the browser verifier could not be built: {why}")
        }
        Err(why) => {
            println!("cargo:warning=the browser verifier is not built into this binary: {why}");
            String::new()
        }
    };
    std::fs::write(out.join("verifier.wasm.b64"), text).expect("OUT_DIR is writable");
}

/// The module's bytes, built by the same cargo in a target directory of its own beside this build's (one
/// for every profile and feature set of the outer build, so it is built once and then only when its code
/// changes).
fn build(workspace: &Path, out: &Path) -> Result<Vec<u8>, String> {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let libdir = Command::new(&rustc)
        .args(["--print", "target-libdir", "--target", TARGET])
        .output()
        .map_err(|e| format!("rustc: {e}"))?;
    let libdir = PathBuf::from(String::from_utf8_lossy(&libdir.stdout).trim());
    if !libdir.is_dir() {
        return Err(format!(
            "the toolchain lacks the {TARGET} target (rustup target add {TARGET})"
        ));
    }
    // OUT_DIR is <target>/<profile>/build/<package>-<hash>/out.
    let target_dir = out
        .ancestors()
        .nth(4)
        .unwrap_or(out)
        .join("ebl-verifier-wasm");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .current_dir(workspace)
        .args([
            "build",
            "--locked",
            "--quiet",
            "-p",
            "ebl-verifier",
            "--lib",
        ])
        .args(["--target", TARGET, "--profile", "wasm", "--target-dir"])
        .arg(&target_dir);
    // The outer build's compiler wrappers (clippy's among them) and flags are its own, not the module's.
    for var in [
        "RUSTC_WRAPPER",
        "RUSTC_WORKSPACE_WRAPPER",
        "RUSTFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "CARGO_BUILD_RUSTFLAGS",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET",
    ] {
        command.env_remove(var);
    }
    // Captured, so that nothing the inner cargo prints is read as this script's directives.
    let run = command.output().map_err(|e| format!("cargo: {e}"))?;
    if !run.status.success() {
        return Err(format!(
            "cargo build -p ebl-verifier --target {TARGET} failed: {}",
            String::from_utf8_lossy(&run.stderr)
        ));
    }
    let module = target_dir
        .join(TARGET)
        .join("wasm")
        .join("ebl_verifier.wasm");
    std::fs::read(&module).map_err(|e| format!("{}: {e}", module.display()))
}
