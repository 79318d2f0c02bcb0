//! The source layout keeps its promises: small files with one job, and no two modules
//! that import each other (directly or round a circle), so that data flows one way.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The most lines a source file outside the emulator may have.
const MAX_LINES: usize = 350;

/// Every `.rs` file below `dir`.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// `src/api/mod.rs` → `["api"]`, `src/api/pages.rs` → `["api", "pages"]`, `lib.rs` → `[]`.
fn module_of(file: &Path) -> Vec<String> {
    let relative = file.strip_prefix(src()).unwrap().with_extension("");
    let mut parts: Vec<String> = relative.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    if matches!(parts.last().map(String::as_str), Some("mod" | "lib")) {
        parts.pop();
    }
    parts
}

/// The code of a file without comments, without its unit tests, and without the `pub use`
/// lines that only give another module's type a public name here (a re-export is the
/// public face, not a use: `model` names `api::Pages` for users, it does not call it).
fn code(file: &Path) -> String {
    let text = std::fs::read_to_string(file).unwrap();
    let text = text.split("#[cfg(test)]\nmod tests").next().unwrap_or_default();
    text.lines()
        .filter(|line| !line.trim_start().starts_with("//") && !line.starts_with("pub use crate::"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The paths a module's code names with `crate::` or `super::`, resolved to absolute
/// module paths (brace groups of `use` lists expanded one level deep).
fn named_paths(module: &[String], code: &str) -> Vec<Vec<String>> {
    let mut paths = Vec::new();
    for (at, _) in code.match_indices("crate::").chain(code.match_indices("super::")) {
        if code[..at].ends_with(|c: char| c.is_alphanumeric() || c == '_' || c == ':') {
            continue; // Part of a longer path (`super::super::`), or another crate's.
        }
        let rest = &code[at..];
        let end = rest.find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':')).unwrap_or(rest.len());
        let head = rest[..end].trim_end_matches(':');
        let mut names = vec![head.to_owned()];
        if rest[end..].starts_with('{') {
            let group = &rest[end + 1..rest.find('}').unwrap_or(rest.len())];
            names = group.split(',').map(|item| format!("{head}::{}", item.trim())).collect();
        }
        for name in names {
            let mut segments = name.split("::").filter(|s| !s.is_empty());
            let mut path: Vec<String> = match segments.next() {
                Some("crate") => Vec::new(),
                Some("super") => module[..module.len().saturating_sub(1)].to_vec(),
                _ => continue,
            };
            for segment in segments {
                if segment == "super" {
                    path.pop();
                } else {
                    path.push(segment.to_owned());
                }
            }
            paths.push(path);
        }
    }
    paths
}

/// Module → the modules it imports, leaving out its own ancestors and descendants (a
/// parent declares its children, and children use their parent's private items).
fn imports() -> BTreeMap<String, BTreeSet<String>> {
    let files = rust_files(&src());
    let modules: BTreeSet<Vec<String>> = files.iter().map(|f| module_of(f)).collect();
    let mut graph = BTreeMap::new();
    for file in &files {
        let module = module_of(file);
        let mut targets = BTreeSet::new();
        for path in named_paths(&module, &code(file)) {
            // The longest prefix of the path that is a module of the crate.
            let Some(target) = (0..=path.len()).rev().map(|n| path[..n].to_vec()).find(|p| modules.contains(p)) else {
                continue;
            };
            let related = target.starts_with(&module) || module.starts_with(&target);
            if !related {
                targets.insert(target.join("::"));
            }
        }
        graph.insert(module.join("::"), targets);
    }
    graph
}

/// A circle in `graph`, if there is one, as the modules along it.
fn circle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(start) = path.iter().position(|n| n == node) {
            return Some(path[start..].iter().cloned().chain([node.to_owned()]).collect());
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(found) = visit(next, graph, path, done) {
                return Some(found);
            }
        }
        path.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    graph.keys().find_map(|node| visit(node, graph, &mut Vec::new(), &mut done))
}

/// `graph` seen at the top level: `api::pages` counts as `api`.
fn top_level(graph: &BTreeMap<String, BTreeSet<String>>) -> BTreeMap<String, BTreeSet<String>> {
    let top = |m: &str| m.split("::").next().unwrap_or_default().to_owned();
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (from, targets) in graph {
        let entry = out.entry(top(from)).or_default();
        entry.extend(targets.iter().map(|t| top(t)).filter(|t| *t != top(from) && !t.is_empty()));
    }
    out
}

#[test]
fn no_source_file_outside_the_emulator_is_long() {
    let long: Vec<String> = rust_files(&src())
        .into_iter()
        .filter(|f| !f.starts_with(src().join("emulator")))
        .filter_map(|f| {
            let lines = std::fs::read_to_string(&f).unwrap().lines().count();
            (lines > MAX_LINES).then(|| format!("{} ({lines} lines)", f.display()))
        })
        .collect();
    assert!(long.is_empty(), "over {MAX_LINES} lines: {long:?}");
}

#[test]
fn no_module_imports_one_that_imports_it_back() {
    let graph = imports();
    assert!(graph["api"].contains("transport") && graph["pipeline"].contains("api"), "the scan sees imports");
    assert_eq!(circle(&graph), None, "an import circle between modules");
    assert_eq!(circle(&top_level(&graph)), None, "an import circle between top-level modules");
}

#[test]
fn the_circle_finder_finds_circles() {
    let graph = |edges: &[(&str, &str)]| {
        let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (from, to) in edges {
            graph.entry((*from).to_owned()).or_default().insert((*to).to_owned());
        }
        graph
    };
    let found = circle(&graph(&[("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")])).unwrap();
    assert_eq!((found.first(), found.last(), found.len()), (found.last(), found.first(), 4), "{found:?}");
    assert_eq!(circle(&graph(&[("a", "b"), ("b", "c"), ("a", "c")])), None);
    let nested = graph(&[("api::pages", "session"), ("session", "api")]);
    assert!(circle(&top_level(&nested)).is_some());
    let module = ["emulator".to_owned(), "api".to_owned()];
    let named =
        named_paths(&module, "use super::drf::{field_errors, paginate};\nlet x = crate::url::query_string(&p);");
    assert!(named.contains(&vec!["emulator".into(), "drf".into(), "paginate".into()]), "{named:?}");
    assert!(named.contains(&vec!["url".into(), "query_string".into()]), "{named:?}");
}

/// The public names at the crate root in the default build: `pub mod`s (those behind a
/// feature aside) and the names of `pub use`s, read from `src/lib.rs`.
fn root_names() -> Vec<String> {
    let text = std::fs::read_to_string(src().join("lib.rs")).unwrap();
    let mut names = Vec::new();
    let mut behind_feature = false;
    let mut statement = String::new();
    for line in text.lines().map(str::trim) {
        if line.starts_with("#[cfg(feature") {
            behind_feature = true;
            continue;
        }
        if let Some(module) = line.strip_prefix("pub mod ").and_then(|m| m.strip_suffix(';')) {
            if !behind_feature {
                names.push(module.to_owned());
            }
        } else if line.starts_with("pub use ") || !statement.is_empty() {
            statement.push_str(line);
            if line.ends_with(';') {
                let list = statement.trim_end_matches(';').rsplit("::").next().unwrap_or_default();
                let list = if statement.contains('{') {
                    statement[statement.find('{').unwrap() + 1..statement.rfind('}').unwrap()].to_owned()
                } else {
                    list.to_owned()
                };
                names.extend(list.split(',').map(|n| n.trim().to_owned()).filter(|n| !n.is_empty()));
                statement.clear();
            }
        }
        behind_feature = false;
    }
    names
}

#[test]
fn the_crate_root_holds_the_main_job_in_at_most_twenty_names() {
    let names = root_names();
    for expected in ["Session", "SessionBuilder", "Images", "AnalysisOptions", "BatchResults", "Error", "model", "bulk"]
    {
        assert!(names.iter().any(|n| n == expected), "the scan sees {expected}: {names:?}");
    }
    assert!(!names.iter().any(|n| n == "emulator"), "a feature's module is not in the default build");
    assert!(names.len() <= 20, "{} names at the root: {names:?}", names.len());
}

#[test]
fn the_readme_is_a_short_tour() {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let words = readme.split_whitespace().count();
    assert!((500..=2500).contains(&words), "the README has {words} words: details go to docs/guide.md");
    let quickstart =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/quickstart.rs")).unwrap();
    assert!(quickstart.lines().count() <= 25, "examples/quickstart.rs is a 25-line program to copy");
    for link in ["docs/guide.md", "CONTRIBUTING.md"] {
        assert!(readme.contains(link) && Path::new(env!("CARGO_MANIFEST_DIR")).join(link).is_file(), "{link}");
    }
}
