//! The bundled demo articles (`feeds/demo/articles.ndjson` of the pressfeed crate) are
//! what this crate's binary prints with `--demo`, byte for byte.

use std::path::Path;
use std::process::Command;

#[test]
fn the_bundled_demo_articles_are_the_generators_output() {
    let out = Command::new(env!("CARGO_BIN_EXE_pressfeed-corpus"))
        .arg("--demo")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../feeds/demo/articles.ndjson");
    let committed = std::fs::read(&demo).unwrap();
    assert!(
        out.stdout == committed,
        "feeds/demo/articles.ndjson is stale: run \
         `cargo run -p pressfeed-corpus -- --demo > feeds/demo/articles.ndjson`"
    );
}
