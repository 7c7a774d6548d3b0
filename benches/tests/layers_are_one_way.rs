//! No module of `crates/filch`, `crates/filch-scheduler` or the bench
//! imports, through any chain of `crate::` paths, a module that imports it
//! back: each crate's modules form layers that depend one way. The one
//! exception is the scheduler's registry and worker, which are one unit (the
//! registry owns the workers' shared state, a worker runs against it), as in
//! rayon-core. A new import circle fails this test and names its files.
//!
//! A module is a file under `src/` (a folder counts as one module); an edge
//! A -> B is any `crate::b` path in A's code outside comments, including
//! `use crate::{b, c::d}` groups. Names that are no module (re-exports at
//! the crate root) are ignored.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

/// The crates whose layers are checked, relative to the workspace root.
const CRATES: [&str; 3] = [
    "crates/filch/src",
    "crates/filch-scheduler/src",
    "benches/src",
];

/// The circles that are one unit by design: (crate, modules, sorted).
const UNITS: [(&str, &[&str]); 1] = [("crates/filch-scheduler/src", &["registry", "worker"])];

/// Every module of the crate at `src` with its source text (a folder's
/// files joined), without `lib.rs` and `main.rs`, which only declare them.
fn modules(src: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for entry in fs::read_dir(src).expect("read src") {
        let path = entry.expect("a directory entry").path();
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("a UTF-8 file name")
            .to_string();
        if path.is_dir() {
            let mut text = String::new();
            for file in fs::read_dir(&path).expect("read a module folder") {
                let file = file.expect("a directory entry").path();
                if file.extension().is_some_and(|e| e == "rs") {
                    text.push_str(&fs::read_to_string(&file).expect("read a source file"));
                }
            }
            out.insert(name, text);
        } else if path.extension().is_some_and(|e| e == "rs") && name != "lib" && name != "main" {
            out.insert(name, fs::read_to_string(&path).expect("read a source file"));
        }
    }
    out
}

/// The first segment of every `crate::` path in `code`, comments left out.
fn crate_paths(code: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for line in code.lines() {
        let line = line.split("//").next().unwrap_or("");
        let mut rest = line;
        while let Some(at) = rest.find("crate::") {
            let after = &rest[at + "crate::".len()..];
            if let Some(group) = after.strip_prefix('{') {
                // `use crate::{a, b::c}` on this line: the first segment of each.
                let group = group.split('}').next().unwrap_or("");
                for part in group.split(',') {
                    out.insert(first_segment(part.trim()));
                }
            } else {
                out.insert(first_segment(after));
            }
            rest = after;
        }
    }
    out
}

fn first_segment(path: &str) -> String {
    path.chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect()
}

/// The import circles (strongly connected components of two or more
/// modules, or one that imports itself) of `graph`, by Tarjan's algorithm.
fn circles(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct State<'g> {
        graph: &'g BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'g str, usize>,
        low: BTreeMap<&'g str, usize>,
        stack: Vec<&'g str>,
        on_stack: BTreeSet<&'g str>,
        out: Vec<Vec<String>>,
    }
    fn visit<'g>(s: &mut State<'g>, v: &'g str) {
        let i = s.index.len();
        s.index.insert(v, i);
        s.low.insert(v, i);
        s.stack.push(v);
        s.on_stack.insert(v);
        for w in &s.graph[v] {
            let w = w.as_str();
            if !s.index.contains_key(w) {
                visit(s, w);
                let low = s.low[v].min(s.low[w]);
                s.low.insert(v, low);
            } else if s.on_stack.contains(w) {
                let low = s.low[v].min(s.index[w]);
                s.low.insert(v, low);
            }
        }
        if s.low[v] == s.index[v] {
            let mut component = Vec::new();
            loop {
                let w = s.stack.pop().expect("v is on the stack");
                s.on_stack.remove(w);
                component.push(w.to_string());
                if w == v {
                    break;
                }
            }
            if component.len() > 1 || s.graph[v].contains(v) {
                component.sort();
                s.out.push(component);
            }
        }
    }
    let mut state = State {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        out: Vec::new(),
    };
    for v in graph.keys() {
        if !state.index.contains_key(v.as_str()) {
            visit(&mut state, v);
        }
    }
    state.out
}

fn graph_of(modules: &BTreeMap<String, String>) -> BTreeMap<String, BTreeSet<String>> {
    modules
        .iter()
        .map(|(name, code)| {
            let uses = crate_paths(code)
                .into_iter()
                .filter(|m| modules.contains_key(m) && m != name)
                .collect();
            (name.clone(), uses)
        })
        .collect()
}

#[test]
fn no_crate_has_an_import_circle() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut found = Vec::new();
    for krate in CRATES {
        let modules = modules(&root.join(krate));
        assert!(modules.len() > 5, "{krate}: too few modules read");
        for circle in circles(&graph_of(&modules)) {
            let unit = UNITS
                .iter()
                .any(|(k, unit)| *k == krate && circle.iter().eq(unit.iter()));
            if !unit {
                found.push(format!("{krate}: {}", circle.join(" <-> ")));
            }
        }
    }
    assert!(
        found.is_empty(),
        "import circles (each module imports, through a chain, a module that imports it):\n{}",
        found.join("\n")
    );
}

/// The check itself finds a circle, through a group import and a path in
/// code, and ignores comments and names that are no module.
#[test]
fn the_check_sees_a_circle() {
    let modules: BTreeMap<String, String> = [
        (
            "a",
            "use crate::{b::Thing, Pool};\n// crate::c in a comment\n",
        ),
        ("b", "fn f() { crate::c::g() }\n"),
        ("c", "use crate::a;\n"),
        ("d", "use crate::a;\n"),
    ]
    .into_iter()
    .map(|(n, t)| (n.to_string(), t.to_string()))
    .collect();
    let found = circles(&graph_of(&modules));
    assert_eq!(found, [vec!["a".to_string(), "b".into(), "c".into()]]);
    let without: BTreeMap<String, String> = modules.into_iter().filter(|(n, _)| n != "c").collect();
    assert!(circles(&graph_of(&without)).is_empty());
}
