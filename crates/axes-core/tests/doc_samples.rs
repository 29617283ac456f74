//! Every TOML sample in the docs (```toml blocks of README.md and
//! docs/*.md) is loaded by the real settings loader and validated: it must
//! be accepted, unless its block is marked as an error example
//! (```toml,error), which must be refused.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure

use std::path::{Path, PathBuf};

use axes_core::Settings;

/// (file, line of the fence, info string, text) of every ```toml block.
fn toml_blocks() -> Vec<(PathBuf, usize, String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut files = vec![root.join("README.md")];
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root.join("docs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    docs.sort();
    files.extend(docs);
    let mut out = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let mut open: Option<(usize, String, String)> = None;
        for (i, line) in text.lines().enumerate() {
            let trimmed = line.trim_start();
            match &mut open {
                None => {
                    if let Some(info) = trimmed.strip_prefix("```")
                        && (info == "toml"
                            || info.starts_with("toml,")
                            || info.starts_with("toml "))
                    {
                        open = Some((i + 1, info.to_owned(), String::new()));
                    }
                }
                Some((_, _, body)) => {
                    if trimmed.starts_with("```") {
                        let (at, info, body) = open.take().unwrap();
                        out.push((file.clone(), at, info, body));
                    } else {
                        body.push_str(line);
                        body.push('\n');
                    }
                }
            }
        }
        assert!(
            open.is_none(),
            "{}: an unclosed ```toml block",
            file.display()
        );
    }
    out
}

#[test]
fn every_toml_sample_in_the_docs_loads() {
    let blocks = toml_blocks();
    assert!(
        blocks.len() >= 3,
        "the samples of README.md and docs/settings.md are found: {blocks:?}"
    );
    let mut failures = Vec::new();
    for (file, line, info, text) in &blocks {
        let expect_error = info.split([',', ' ']).any(|w| w == "error");
        let source = format!("{}:{line}", file.display());
        let result =
            Settings::from_sources(Some(text), &source, []).and_then(|s| s.validate().map(|()| s));
        match (result, expect_error) {
            (Ok(_), false) | (Err(_), true) => {}
            (Ok(_), true) => failures.push(format!("{source}: an error example that loads")),
            (Err(e), false) => failures.push(format!("{source}: {e}")),
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}
