//! The shape of the source tree, checked: layers point one way, core's products depend on
//! the shared services and never on one another or on core's root, and no source file
//! grows past ~500 lines without saying why in its opening comment. A `use` that breaks a
//! rule fails here, with the file that made it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Each top-level module's layer: a module may only use modules of lower layers.
const LAYERS: &[(&str, u8)] = &[
    ("clock", 0),
    ("surface", 0),
    ("spec", 0),
    ("xml", 0),
    ("recent", 0),
    ("json", 0),
    ("store", 1),
    ("core", 2),
    ("fixtures", 2),
    ("control", 3),
    ("config", 4),
    ("http", 4),
    ("soap", 4),
    ("state", 5),
    ("tls", 5),
    ("upkeep", 6),
    ("admin", 6),
    ("fusionauth", 6),
    ("healthcheck", 6),
    ("horizon_rest", 6),
    ("vcenter", 6),
    ("vlsi", 6),
    ("testkit", 7),
];

const MAX_LINES: usize = 500;
/// What a file over [`MAX_LINES`] must say in its opening comment.
const LONG_FILE_REASON: &str = "Long because";

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every `.rs` file under `dir`, with its path relative to `dir`.
fn sources(dir: &Path) -> Vec<(PathBuf, String)> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<(PathBuf, String)>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir).unwrap().flatten().collect();
        entries.sort_by_key(|e| e.path());
        for entry in entries {
            let path = entry.path();
            if path.is_dir() {
                walk(root, &path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                out.push((path.strip_prefix(root).unwrap().to_path_buf(), text));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out
}

/// The text a build of the library sees: unit tests (at the end of a file, by convention)
/// may reach anywhere.
fn production_part(text: &str) -> &str {
    text.find("\n#[cfg(test)]").map_or(text, |i| &text[..i])
}

/// The path after every `crate::` in `text` (`crate::core::horizon::Horizon` gives
/// `[core, horizon, Horizon]`; a `{` list ends it). `$crate::` in macros counts too.
fn crate_paths(text: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for (i, _) in text.match_indices("crate::") {
        let mut rest = &text[i + "crate::".len()..];
        let mut path = Vec::new();
        loop {
            let ident: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if ident.is_empty() {
                break;
            }
            rest = &rest[ident.len()..];
            path.push(ident);
            match rest.strip_prefix("::") {
                Some(more) => rest = more,
                None => break,
            }
        }
        if !path.is_empty() {
            out.push(path);
        }
    }
    out
}

fn top_module(file: &Path) -> String {
    let first = file
        .components()
        .next()
        .unwrap()
        .as_os_str()
        .to_string_lossy();
    first.trim_end_matches(".rs").to_string()
}

#[test]
fn layers_point_one_way() {
    let files = sources(&src());
    let layer: BTreeMap<&str, u8> = LAYERS.iter().copied().collect();
    let mut violations = Vec::new();
    for (file, text) in &files {
        let from = top_module(file);
        if from == "lib" || from == "main" {
            continue; // the crate root and the binary assemble everything
        }
        let Some(&from_layer) = layer.get(from.as_str()) else {
            violations.push(format!("{}: module {from} has no layer", file.display()));
            continue;
        };
        for path in crate_paths(production_part(text)) {
            let to = path[0].as_str();
            let Some(&to_layer) = layer.get(to) else {
                continue; // an item of the crate root (e.g. an exported macro)
            };
            if to != from && to_layer >= from_layer {
                violations.push(format!(
                    "{}: {from} (layer {from_layer}) uses crate::{} (layer {to_layer})",
                    file.display(),
                    path.join("::")
                ));
            }
        }
    }
    assert!(violations.is_empty(), "\n{}", violations.join("\n"));
}

/// Core's products (`horizon`, `fusionauth`, `vcenter`) and shared services use each other
/// only along acyclic edges, and none uses an item of `core/mod.rs` (which owns them all).
#[test]
fn core_children_form_no_cycle_and_stay_off_the_root() {
    let files = sources(&src().join("core"));
    let children: BTreeSet<String> = files
        .iter()
        .map(|(f, _)| top_module(f))
        .filter(|m| m != "mod")
        .collect();
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut violations = Vec::new();
    for (file, text) in &files {
        let from = top_module(file);
        if from == "mod" {
            continue;
        }
        let text = production_part(text);
        for path in crate_paths(text) {
            if path[0] != "core" {
                continue;
            }
            match path.get(1) {
                Some(to) if children.contains(to) => {
                    if *to != from {
                        edges.entry(from.clone()).or_default().insert(to.clone());
                    }
                }
                _ => violations.push(format!(
                    "{}: uses crate::{} from core's root",
                    file.display(),
                    path.join("::")
                )),
            }
        }
        // `super::` from a file directly in core/ is core's root.
        if file.components().count() == 1 && text.contains("super::") {
            violations.push(format!("{}: uses super:: (core's root)", file.display()));
        }
    }
    assert!(violations.is_empty(), "\n{}", violations.join("\n"));
    // Depth-first search for a cycle.
    fn visit<'a>(
        node: &'a str,
        edges: &'a BTreeMap<String, BTreeSet<String>>,
        stack: &mut Vec<&'a str>,
        done: &mut BTreeSet<&'a str>,
    ) -> Option<Vec<String>> {
        if let Some(at) = stack.iter().position(|n| *n == node) {
            let mut cycle: Vec<String> = stack[at..].iter().map(|s| s.to_string()).collect();
            cycle.push(node.to_string());
            return Some(cycle);
        }
        if !done.insert(node) {
            return None;
        }
        stack.push(node);
        for next in edges.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, edges, stack, done) {
                return Some(cycle);
            }
        }
        stack.pop();
        None
    }
    let mut done = BTreeSet::new();
    for node in edges.keys() {
        let cycle = visit(node, &edges, &mut Vec::new(), &mut done);
        assert!(
            cycle.is_none(),
            "core cycle: {}",
            cycle.unwrap().join(" → ")
        );
    }
}

#[test]
fn no_source_file_grows_past_the_limit_without_a_reason() {
    let files = sources(&src());
    let long: Vec<String> = files
        .iter()
        .filter(|(_, text)| text.lines().count() > MAX_LINES)
        .filter(|(_, text)| {
            let opening: String = text.lines().take_while(|l| l.starts_with("//!")).collect();
            !opening.contains(LONG_FILE_REASON)
        })
        .map(|(file, text)| format!("{}: {} lines", file.display(), text.lines().count()))
        .collect();
    assert!(
        long.is_empty(),
        "split these, or say in the opening comment \"{LONG_FILE_REASON} ...\":\n{}",
        long.join("\n")
    );
}

/// The checks above would pass on an empty tree; make sure they see the real one.
#[test]
fn the_checks_see_the_source_tree() {
    let files = sources(&src());
    assert!(files.len() > 50, "{} files", files.len());
    let (_, core_mod) = files
        .iter()
        .find(|(f, _)| f == Path::new("core/mod.rs"))
        .unwrap();
    assert!(crate_paths(core_mod)
        .iter()
        .any(|p| p.first().map(String::as_str) == Some("store")));
    assert!(
        crate_paths("use crate::core::horizon::Horizon; x").contains(&vec![
            "core".into(),
            "horizon".into(),
            "Horizon".into()
        ])
    );
}
