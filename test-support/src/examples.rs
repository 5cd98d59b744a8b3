//! Running the examples as their users run them: each a process of its own, built by the
//! cargo that built the test.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::time::SystemTime;

/// The example `name` of the package at `manifest_dir` (the test's `CARGO_MANIFEST_DIR`),
/// as fresh as its sources.
///
/// `cargo test` (and `cargo test --workspace`) builds every example beside the tests, in
/// `<target>/<profile>/examples/`, with that run's features: such a binary is used when it is
/// newer than every source file its dep-info (`<name>.d`, written by cargo) lists, which is
/// cargo's own freshness rule for local sources. `cargo test --test <one test>` builds no
/// example, so a missing or stale one is built here by the cargo that built this
/// test, into the same target directory and profile; its feature set is then the same as
/// this run's, since both select this package alone.
pub fn example(manifest_dir: &Path, name: &str) -> PathBuf {
    // Tests run in parallel: one build at a time, and nobody runs a half-written binary.
    static BUILDING: Mutex<()> = Mutex::new(());
    let _guard = BUILDING
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());

    let exe = std::env::current_exe().expect("the test's own path");
    // <target>/<profile>/deps/<this test>
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("the test binary sits in <target>/<profile>/deps");
    let binary = profile_dir
        .join("examples")
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    if is_fresh(
        &binary,
        &profile_dir.join("examples").join(format!("{name}.d")),
    ) {
        return binary;
    }

    let mut cargo = Command::new(env!("CARGO"));
    cargo
        .current_dir(manifest_dir)
        .args(["build", "--quiet", "--example", name]);
    match profile_dir.file_name().and_then(|dir| dir.to_str()) {
        Some("debug") | None => {}
        Some("release") => {
            cargo.arg("--release");
        }
        Some(profile) => {
            cargo.args(["--profile", profile]);
        }
    }
    // `<target>` holds cargo's CACHEDIR.TAG; with `--target <triple>` the layout has one
    // more level, and cargo finds the directory from its environment and config instead.
    if let Some(target) = profile_dir.parent()
        && target.join("CACHEDIR.TAG").is_file()
    {
        cargo.arg("--target-dir").arg(target);
    }
    let built = cargo.output().expect("cargo runs");
    assert!(
        built.status.success(),
        "building example `{name}` failed:\n{}",
        String::from_utf8_lossy(&built.stderr)
    );
    assert!(binary.is_file(), "cargo built no {}", binary.display());
    binary
}

/// Whether `binary` exists and is newer than each source its dep-info file lists.
fn is_fresh(binary: &Path, dep_info: &Path) -> bool {
    let modified = |path: &Path| {
        std::fs::metadata(path)
            .and_then(|meta| meta.modified())
            .ok()
    };
    let (Some(built), Ok(deps)) = (modified(binary), std::fs::read_to_string(dep_info)) else {
        return false;
    };
    // `<binary>: <source> <source> ...`, a space inside a path escaped as `\ `.
    let Some((_, sources)) = deps.split_once(": ") else {
        return false;
    };
    let sources = sources.replace("\\ ", "\0");
    sources.split_whitespace().all(|source| {
        let source = PathBuf::from(source.replace('\0', " "));
        modified(&source).is_some_and(|changed: SystemTime| changed <= built)
    })
}
