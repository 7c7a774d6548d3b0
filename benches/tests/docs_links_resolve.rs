//! Every relative link and image in the README and `docs/` names a file that
//! exists. The reference report is copied into `docs/results.md` by hand from
//! time to time, with its plots beside it in `docs/results/`; one such copy once
//! left every plot link pointing at `docs/` itself, and nothing noticed.

use std::fs;
use std::path::{Path, PathBuf};

/// The targets of the Markdown links and images in `text` (`[..](target)`),
/// without any `#fragment` or title.
fn link_targets(text: &str) -> Vec<String> {
    let mut targets = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find("](") {
        let after = &rest[open + 2..];
        let Some(close) = after.find(')') else {
            break;
        };
        let target = after[..close].split_whitespace().next().unwrap_or("");
        let target = target.split('#').next().unwrap_or("");
        if !target.is_empty() {
            targets.push(target.to_string());
        }
        rest = &after[close..];
    }
    targets
}

fn is_local(target: &str) -> bool {
    !target.contains("://") && !target.starts_with("mailto:")
}

fn markdown_files(root: &Path) -> Vec<PathBuf> {
    let mut files = vec![root.join("README.md")];
    let docs = fs::read_dir(root.join("docs")).expect("docs/ is readable");
    for entry in docs {
        let path = entry.expect("a docs/ entry").path();
        if path.extension().is_some_and(|e| e == "md") {
            files.push(path);
        }
    }
    files
}

#[test]
fn link_targets_are_parsed_without_fragments_or_titles() {
    let text = "see [a](docs/a.md#part), ![p](results/p.svg \"plot\") and [w](https://x.org/y)";
    assert_eq!(
        link_targets(text),
        ["docs/a.md", "results/p.svg", "https://x.org/y"]
    );
    assert!(!is_local("https://x.org/y"));
}

#[test]
fn every_local_link_in_the_readme_and_docs_names_an_existing_file() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the bench crate sits in the workspace root");
    let mut broken = Vec::new();
    let mut checked = 0;
    for file in markdown_files(root) {
        let text = fs::read_to_string(&file).expect("a Markdown file is readable");
        let dir = file.parent().expect("a file has a directory");
        for target in link_targets(&text).into_iter().filter(|t| is_local(t)) {
            checked += 1;
            if !dir.join(&target).exists() {
                broken.push(format!("{}: {target}", file.display()));
            }
        }
    }
    assert!(
        checked > 10,
        "only {checked} local links found: is the parser broken?"
    );
    assert!(
        broken.is_empty(),
        "links to missing files:\n{}",
        broken.join("\n")
    );
}
