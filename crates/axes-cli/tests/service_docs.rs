//! The service docs do what they say: the README's curl quick start and
//! the curl, Python and JavaScript examples of `docs/service.md`, run
//! as written against the real `axes serve` with no settings (a fresh
//! SQLite file, as on a fresh clone).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod api_support;
mod process_support;

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};

use api_support::Api;
use process_support::{AxesEnv, DemoProcess, skip};
use serde_json::Value;

/// The address the docs use.
const DOC_URL: &str = "http://127.0.0.1:8000";
/// The reservation id the docs show.
const DOC_ID: &str = "3f9c0e5d2b7a4e1f8c6d5b4a39281706";
const LOCKED: &str =
    "Account locked: too many login attempts. Contact an admin to unlock your account.";

fn read(rel: &str) -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../..")
            .join(rel),
    )
    .unwrap()
}

/// The fenced block of `lang` after the first line containing `after`.
fn block(text: &str, after: &str, lang: &str) -> String {
    let start = text.find(after).unwrap_or_else(|| panic!("no `{after}`"));
    let rest = &text[start..];
    let open = format!("```{lang}\n");
    let from = rest.find(&open).unwrap() + open.len();
    let len = rest[from..].find("```").unwrap();
    rest[from..from + len].to_owned()
}

/// The curl commands of a block (continuation lines joined), each with the
/// JSON answer the comment line after it shows.
fn curl_steps(block: &str) -> Vec<(String, Value)> {
    let mut steps = Vec::new();
    let mut cmd: Option<String> = None;
    let mut open = false;
    for line in block.lines() {
        let line = line.trim();
        if open {
            let c = cmd.as_mut().unwrap();
            c.push(' ');
            c.push_str(line.trim_end_matches('\\'));
            open = line.ends_with('\\');
        } else if line.starts_with("curl ") {
            cmd = Some(line.trim_end_matches('\\').to_owned());
            open = line.ends_with('\\');
        } else if let Some(json) = line
            .strip_prefix("# → ")
            .or_else(|| line.strip_prefix("# {").map(|_| &line[2..]))
        {
            let c = cmd.take().expect("an answer after its command");
            steps.push((c, serde_json::from_str(json).unwrap()));
        }
    }
    assert!(cmd.is_none(), "a command without its answer");
    steps
}

/// Runs a doc's curl command with `sh` against `url`, with `id` for the
/// docs' example id; its JSON answer.
fn run_curl(cmd: &str, url: &str, id: &str) -> Value {
    let cmd = cmd.replace(DOC_URL, url).replace(DOC_ID, id);
    let out = Command::new("sh").arg("-c").arg(&cmd).output().unwrap();
    assert!(out.status.success(), "{cmd}: {out:?}");
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{cmd}: {e}: {}", String::from_utf8_lossy(&out.stdout)))
}

/// The answer is the documented one; ids are random, so only their form
/// is compared.
fn same(actual: &Value, documented: &Value) {
    let (a, d) = (actual.as_object().unwrap(), documented.as_object().unwrap());
    let mut keys_a: Vec<_> = a.keys().collect();
    let mut keys_d: Vec<_> = d.keys().collect();
    keys_a.sort();
    keys_d.sort();
    assert_eq!(keys_a, keys_d, "{actual} vs the documented {documented}");
    for (k, v) in d {
        if k == "id" {
            let id = a[k].as_str().unwrap();
            assert!(
                id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()),
                "{id}"
            );
        } else {
            assert_eq!(&a[k], v, "{k}: {actual} vs the documented {documented}");
        }
    }
}

fn fresh_serve() -> (DemoProcess, AxesEnv) {
    // No settings at all: what `cargo run -- serve` does on a fresh clone.
    let env = AxesEnv::new();
    let p = env.serve("serve", &[]);
    (p, env)
}

#[tokio::test]
async fn the_readme_curl_quick_start_does_what_it_says() {
    if !process_support::runs("curl") {
        skip("curl is not installed");
        return;
    }
    let readme = read("README.md");
    // `cargo run -- serve` stays the first command.
    let first = block(&readme, "## Quick start", "sh");
    assert!(first.starts_with("cargo run -- serve"), "{first}");
    let steps = curl_steps(&block(&readme, "<!-- service quick start", "sh"));
    assert_eq!(steps.len(), 3, "begin, finish, a refused begin");
    let (p, _env) = fresh_serve();
    assert!(std::path::Path::new(&_env.dir().join("axes.db")).exists());
    let begin = run_curl(&steps[0].0, &p.url, DOC_ID);
    same(&begin, &steps[0].1);
    let id = begin["id"].as_str().unwrap().to_owned();
    same(&run_curl(&steps[1].0, &p.url, &id), &steps[1].1);
    // "Two more wrong passwords later":
    let api = Api::new(&p.url);
    for _ in 0..2 {
        api.fail("203.0.113.7", "alice").await;
    }
    same(&run_curl(&steps[2].0, &p.url, DOC_ID), &steps[2].1);
}

#[tokio::test]
async fn the_curl_examples_of_the_service_docs_do_what_they_say() {
    if !process_support::runs("curl") {
        skip("curl is not installed");
        return;
    }
    let steps = curl_steps(&block(&read("docs/service.md"), "## curl", "sh"));
    assert_eq!(steps.len(), 3);
    let (p, _env) = fresh_serve();
    let mut id = DOC_ID.to_owned();
    for (cmd, documented) in &steps {
        let answer = run_curl(cmd, &p.url, &id);
        same(&answer, documented);
        if let Some(new) = answer["id"].as_str() {
            id = new.to_owned();
        }
    }
}

fn run_example(program: &str, args: &[&str], code: &str, url: &str) -> Vec<String> {
    let mut child = Command::new(program)
        .args(args)
        .env("AXES_URL", url)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(code.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{program}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn the_python_example_runs_the_whole_login_flow() {
    let has_requests = Command::new("python3")
        .args(["-c", "import requests"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !has_requests {
        skip("python3 with requests is not installed (apt-get install python3-requests)");
        return;
    }
    let code = block(&read("docs/service.md"), "## Python", "python");
    let (p, _env) = fresh_serve();
    let lines = run_example("python3", &["-"], &code, &p.url);
    assert_eq!(lines, ["True", "False", "False", LOCKED, LOCKED]);
}

#[tokio::test]
async fn the_javascript_example_runs_the_whole_login_flow() {
    // Node has `fetch` from version 18 on; older or no node: nothing to run.
    let version = Command::new("node").arg("--version").output();
    let major = version
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|v| {
            v.trim()
                .trim_start_matches('v')
                .split('.')
                .next()?
                .parse::<u32>()
                .ok()
        });
    if major.is_none_or(|m| m < 18) {
        eprintln!("SKIPPED: node 18+ is not installed");
        return;
    }
    let code = block(&read("docs/service.md"), "## JavaScript", "js");
    let (p, _env) = fresh_serve();
    let lines = run_example("node", &["--input-type=module", "-"], &code, &p.url);
    assert_eq!(lines, ["true", "false", "false", LOCKED, LOCKED]);
}

/// `value` with its times (`until`, `created_at`: they must be RFC 3339)
/// and its `retry_after` (within a minute of the documented two hours)
/// replaced by placeholders, at any depth.
fn without_times(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let v = match (k.as_str(), v) {
                        ("until" | "created_at", Value::String(t)) => {
                            chrono::DateTime::parse_from_rfc3339(t)
                                .unwrap_or_else(|e| panic!("{k}: {t}: {e}"));
                            Value::from("<time>")
                        }
                        ("retry_after", Value::Number(n)) => {
                            let n = n.as_u64().unwrap();
                            assert!((7140..=7200).contains(&n), "retry_after {n}");
                            Value::from("<2h>")
                        }
                        _ => without_times(v),
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(without_times).collect()),
        other => other.clone(),
    }
}

#[tokio::test]
async fn the_blocks_examples_of_the_service_docs_do_what_they_say() {
    if !process_support::runs("curl") {
        skip("curl is not installed");
        return;
    }
    let steps = curl_steps(&block(
        &read("docs/service.md"),
        "## Operators: blocks",
        "sh",
    ));
    assert_eq!(steps.len(), 5, "block, a refused begin, list, unblock, 404");
    let (p, _env) = fresh_serve();
    for (cmd, documented) in &steps {
        let answer = run_curl(cmd, &p.url, DOC_ID);
        assert_eq!(
            without_times(&answer),
            without_times(documented),
            "{cmd}: {answer}"
        );
    }
    // The documented times are two hours apart, as the answers'.
    let until = steps[0].1["until"].as_str().unwrap();
    let created = steps[0].1["created_at"].as_str().unwrap();
    let d = chrono::DateTime::parse_from_rfc3339(until).unwrap()
        - chrono::DateTime::parse_from_rfc3339(created).unwrap();
    assert_eq!(d.num_hours(), 2);
}
