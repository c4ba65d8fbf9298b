//! The README's configuration examples work as written: the minimal file and the reference
//! both pass `--check-config` in a folder holding what they name (a `www/` beside them).
//! That the reference holds the flags' defaults is checked by the unit test beside the
//! flags' definition (src/settings/cli/readme.rs).

use std::path::Path;
use std::process::{Command, Stdio};

/// The `toml` block that follows `marker` in the README.
fn block_after(marker: &str) -> String {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let after = &readme[readme.find(marker).unwrap_or_else(|| panic!("{marker}"))..];
    let start = after.find("```toml\n").unwrap() + "```toml\n".len();
    let end = start + after[start..].find("```").unwrap();
    after[start..end].to_string()
}

/// Runs `nomserve --config nomserve.toml --check-config` in a folder that holds `file` as
/// nomserve.toml and a `www/` with an index; the outcome, stderr included.
fn check(file: &str) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("nomserve.toml"), file).unwrap();
    std::fs::create_dir(dir.path().join("www")).unwrap();
    std::fs::write(dir.path().join("www/index.html"), "<p>hello</p>").unwrap();
    Command::new(env!("CARGO_BIN_EXE_nomserve"))
        .args(["--config", "nomserve.toml", "--check-config"])
        .current_dir(dir.path())
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

#[test]
fn the_minimal_config_example_is_valid() {
    let file = block_after("<!-- config minimal -->");
    assert!(file.lines().count() <= 8, "{file}");
    let out = check(&file);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
}

#[test]
fn the_config_reference_is_valid_as_written() {
    let file = block_after("<!-- config reference -->");
    let out = check(&file);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
}
