//! The CLI sessions shown in the docs (```console blocks of README.md,
//! SECURITY.md and docs/*.md) run against the built binary with trycmd: a
//! doc that shows an output the binary does not print fails here. Each document runs in a
//! scratch folder (the default store `sqlite://axes.db` is there), over a
//! store seeded with the records the guide lists; the blocks of one
//! document run in order. Blocks marked ```console,ignore are not run.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure

mod common;

use std::path::{Path, PathBuf};

use common::{attempt, fail};

fn docs() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut files = vec![root.join("README.md"), root.join("SECURITY.md")];
    let mut in_docs: Vec<PathBuf> = std::fs::read_dir(root.join("docs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    in_docs.sort();
    files.extend(in_docs);
    files
        .into_iter()
        .filter(|p| std::fs::read_to_string(p).unwrap().contains("```console"))
        .collect()
}

#[tokio::test]
async fn cli_sessions_in_the_docs_are_what_the_binary_prints() {
    let files = docs();
    for doc in ["docs/guide.md", "docs/settings.md", "SECURITY.md"] {
        assert!(
            files.iter().any(|p| p.ends_with(doc)),
            "the CLI sessions of {doc} are checked: {files:?}"
        );
    }
    for doc in files {
        // A scratch folder per document: `NAME.md` beside `NAME.in/`, the
        // folder the binary runs in, whose `axes.db` (the default store)
        // holds alice's three failures from 10.0.0.1.
        let dir = tempfile::tempdir().unwrap();
        let copy = dir.path().join(doc.file_name().unwrap());
        std::fs::copy(&doc, &copy).unwrap();
        let cwd = copy.with_extension("in");
        std::fs::create_dir_all(&cwd).unwrap();
        let url = format!("sqlite://{}", cwd.join("axes.db").display());
        let store = axes_sqlx::connect(&url).await.unwrap();
        store.migrate().await.unwrap();
        let axes = axes_core::Axes::builder(axes_core::Settings::default())
            .store(store)
            .build()
            .unwrap();
        let a = attempt("alice", "10.0.0.1");
        for _ in 0..3 {
            fail(&axes, &a).await;
        }
        drop(axes);
        let cases = trycmd::TestCases::new();
        cases.register_bin("axes", trycmd::cargo::cargo_bin!("axes"));
        cases.case(&copy);
        cases.run();
    }
}
