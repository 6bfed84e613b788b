//! Snapshot tests of both report formats on a small fixed tree (`tests/fixtures/golden/`): the
//! JSON report is a versioned contract (docs/report.md), so any change to it must show up here
//! and be deliberate. `DUPSIFT_UPDATE_GOLDEN=1 cargo test golden` rewrites the snapshots.

use crate::util::{crate_dir, dupsift};

fn check(args: &[&str], snapshot: &str) {
    let out = dupsift()
        .current_dir(crate_dir())
        .args(args)
        .output()
        .expect("run dupsift");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The version changes with every release; everything else is pinned.
    let got = String::from_utf8(out.stdout)
        .expect("utf-8 report")
        .replace(env!("CARGO_PKG_VERSION"), "VERSION");
    let path = crate_dir().join("tests/fixtures").join(snapshot);
    if std::env::var_os("DUPSIFT_UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, &got).expect("write snapshot");
    }
    let want = std::fs::read_to_string(&path).expect("snapshot exists");
    assert_eq!(got, want, "report differs from {}", path.display());
}

#[test]
fn json_report_matches_its_snapshot() {
    check(
        &["scan", "tests/fixtures/golden", "--format", "json", "-q"],
        "golden.json",
    );
}

#[test]
fn text_report_matches_its_snapshot() {
    check(&["scan", "tests/fixtures/golden", "-q"], "golden.txt");
}
