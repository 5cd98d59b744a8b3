//! The compile-time checks of `#[graph]` and `#[derive(State)]`, one trybuild case per
//! mistake: each `tests/ui/<topic>/<what-is-wrong>.rs` must fail to compile with exactly
//! the errors of its `.stderr`, and every `tests/ui-pass/*.rs` must compile.
//!
//! The `.stderr` files quote rustc's own wording and the lines of graph-core's
//! `src/graph/traits.rs` and `src/node/route.rs` that its notes point into, so they hold for
//! one toolchain: Rust 1.95, the machines' compiler. After a compiler upgrade or an edit of
//! those files, regenerate them and read every diff as a user would meet it:
//!
//! ```text
//! TRYBUILD=overwrite cargo test --test test_ui
//! ```

fn run_suite() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/*/*.rs");
    cases.pass("tests/ui-pass/*.rs");
}

#[rustversion::stable(1.95)]
#[test]
fn every_mistake_is_a_compile_error_on_the_users_token() {
    run_suite();
}

/// On another compiler rustc's wording differs, so the expected output would not match:
/// skipped by default, and run (to show the differences) with `--include-ignored`.
#[rustversion::not(stable(1.95))]
#[test]
#[ignore = "tests/ui/**/*.stderr are written for Rust 1.95, the machines' toolchain; \
            regenerate with TRYBUILD=overwrite on this compiler and review the diff"]
fn every_mistake_is_a_compile_error_on_the_users_token() {
    run_suite();
}
