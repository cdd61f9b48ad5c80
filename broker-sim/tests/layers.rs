//! The crate's layering, checked over its `use` paths: each top-level module imports only
//! modules below it, the control API imports only what the crate exports, and within
//! every module directory the submodules form no cycle.
//!
//! The layers, bottom up (the README's Layout section explains each):
//! error, clock, rng, security, tls, registry ← config, storage ← state ← faults, sasl, request_log ← shared ← api ← pipeline ← net ← runtime
//! ← cluster (the embedding API) ← control (the HTTP API) ← fuzzing (the fuzz targets' way
//! in, with the `fuzzing` feature). `lib.rs` and `main.rs` sit on
//! top; the binary's own modules (`cli`) use no library module, only the control API's HTTP.
//!
//! References are read from every `crate::…` and `super::…` path in the source, with
//! comments removed; a path is attributed to the module it names, and an edge between two
//! sibling modules is what counts.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Top-level modules and their layer: a module may use only lower layers.
const LAYERS: &[(&str, u32)] = &[
    ("error", 0),
    ("clock", 0),
    ("rng", 0),
    ("config", 1),
    ("storage", 1),
    ("security", 0),
    ("tls", 0),
    ("registry", 0),
    ("state", 2),
    ("faults", 3),
    ("sasl", 3),
    ("request_log", 3),
    ("shared", 4),
    ("api", 5),
    ("pipeline", 6),
    ("net", 7),
    ("runtime", 8),
    ("cluster", 9),
    ("schedule", 10),
    ("checks", 11),
    ("control", 12),
    ("fuzzing", 13),
];

/// The binary's own modules, declared from `main.rs`: its client side (`cli`), which
/// talks to a running cluster only over the control API's HTTP. They stand outside the
/// library's layers: they may use no library module at all.
const BINARY_MODULES: &[&str] = &["cli"];

/// Public modules: the control API, the schedules and the checkers may use these besides the crate
/// root's exports.
const PUBLIC_MODULES: &[&str] = &["faults", "schedule", "checks", "control", "registry"];

type ModPath = Vec<String>;

struct Source {
    module: ModPath,
    code: String,
}

/// The sources of both crates: the lower layers live in `broker-sim-state` (`../state`),
/// which broker-sim re-exports under the same paths (`crate::state`, `crate::error`, …),
/// so the two directories make one module tree.
fn sources() -> Vec<Source> {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut out = Vec::new();
    for root in [here.join("src"), here.join("../state/src")] {
        read_tree(&root, &mut out);
    }
    out.sort_by(|a, b| a.module.cmp(&b.module));
    out
}

fn read_tree(root: &Path, out: &mut Vec<Source>) {
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let rel = path.strip_prefix(root).unwrap();
            let mut module: ModPath = rel
                .iter()
                .map(|c| c.to_string_lossy().trim_end_matches(".rs").to_string())
                .collect();
            if module.last().is_some_and(|m| m == "mod") {
                module.pop();
            }
            if module == ["lib"] || module == ["main"] {
                module.clear();
            }
            let text = std::fs::read_to_string(&path).unwrap();
            out.push(Source {
                module,
                code: strip_comments(&text),
            });
        }
    }
}

/// The source without `//` comments (doc comments included) and string literals' text,
/// so prose and messages that mention a path do not count.
fn strip_comments(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        let mut in_str = false;
        let mut prev = ' ';
        let mut kept = String::new();
        let chars: Vec<char> = line.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            if !in_str && c == '/' && chars.get(i + 1) == Some(&'/') {
                break;
            }
            if c == '"' && prev != '\\' {
                in_str = !in_str;
            }
            if !in_str {
                kept.push(c);
            }
            prev = c;
            i += 1;
        }
        out.push_str(&kept);
        out.push('\n');
    }
    out
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Every path starting with `crate::` or `super::` in `code`, made absolute from
/// `module`, each as its segments (braced groups expanded one level).
fn references(module: &[String], code: &str) -> Vec<ModPath> {
    let mut out = Vec::new();
    let bytes: Vec<char> = code.chars().collect();
    let mut i = 0;
    while i < bytes.len() {
        let starts_word = i == 0 || !is_ident(bytes[i - 1]) && bytes[i - 1] != ':';
        let rest: String = bytes[i..bytes.len().min(i + 7)].iter().collect();
        let (base, skip) = if starts_word && rest.starts_with("crate::") {
            (Vec::new(), 7)
        } else if starts_word && rest.starts_with("super::") {
            // `super` from a file's module; a `mod.rs` is its directory's module.
            let mut base = module.to_vec();
            base.pop();
            (base, 7)
        } else {
            i += 1;
            continue;
        };
        let mut base = base;
        let mut j = i + skip;
        loop {
            let next: String = bytes[j..bytes.len().min(j + 7)].iter().collect();
            if next == "super::" {
                base.pop();
                j += 7;
            } else {
                break;
            }
        }
        let (paths, end) = parse_tail(&bytes, j);
        for p in paths {
            let mut full = base.clone();
            full.extend(p);
            out.push(full);
        }
        i = end.max(i + 1);
    }
    out
}

/// Reads `a::b::c`, or `{a::b, c}` (one level), from `start`.
fn parse_tail(chars: &[char], start: usize) -> (Vec<ModPath>, usize) {
    let mut segs = Vec::new();
    let mut i = start;
    loop {
        if chars.get(i) == Some(&'{') {
            let mut depth = 0;
            let mut item = String::new();
            let mut items = Vec::new();
            while i < chars.len() {
                let c = chars[i];
                i += 1;
                match c {
                    '{' => {
                        depth += 1;
                        if depth > 1 {
                            item.push(c);
                        }
                    }
                    '}' => {
                        depth -= 1;
                        if depth == 0 {
                            items.push(std::mem::take(&mut item));
                            break;
                        }
                        item.push(c);
                    }
                    ',' if depth == 1 => items.push(std::mem::take(&mut item)),
                    c => item.push(c),
                }
            }
            let paths = items
                .iter()
                .map(|it| {
                    let mut p = segs.clone();
                    p.extend(
                        it.trim()
                            .split("::")
                            .map(|s| s.trim().to_string())
                            .take_while(|s| !s.is_empty() && s.chars().all(is_ident)),
                    );
                    p
                })
                .collect();
            return (paths, i);
        }
        let seg: String = chars[i..].iter().take_while(|c| is_ident(**c)).collect();
        if seg.is_empty() {
            break;
        }
        i += seg.len();
        segs.push(seg);
        if chars.get(i) == Some(&':') && chars.get(i + 1) == Some(&':') {
            i += 2;
        } else {
            break;
        }
    }
    (vec![segs], i)
}

struct Graph {
    modules: BTreeSet<ModPath>,
    /// (parent, from child, to child) for every reference between siblings.
    edges: BTreeSet<(ModPath, String, String)>,
    /// Where each edge was seen first, to name it in a failure.
    seen_in: BTreeMap<(ModPath, String, String), ModPath>,
}

fn graph() -> Graph {
    let sources = sources();
    let modules: BTreeSet<ModPath> = sources.iter().map(|s| s.module.clone()).collect();
    let mut edges = BTreeSet::new();
    let mut seen_in = BTreeMap::new();
    for s in &sources {
        for target in references(&s.module, &s.code) {
            // The longest prefix of the target that is a module.
            let Some(len) = (1..=target.len())
                .rev()
                .find(|&n| modules.contains(&target[..n]))
            else {
                continue; // an item of the crate root
            };
            let target = &target[..len];
            let common = s
                .module
                .iter()
                .zip(target)
                .take_while(|(a, b)| a == b)
                .count();
            // A reference to an ancestor (the hub that declares us) or a descendant is
            // not between siblings.
            if common >= s.module.len() || common >= target.len() {
                continue;
            }
            let key = (
                s.module[..common].to_vec(),
                s.module[common].clone(),
                target[common].clone(),
            );
            seen_in.entry(key.clone()).or_insert(s.module.clone());
            edges.insert(key);
        }
    }
    Graph {
        modules,
        edges,
        seen_in,
    }
}

#[test]
fn top_level_modules_use_only_lower_layers() {
    let g = graph();
    let layer: BTreeMap<&str, u32> = LAYERS.iter().copied().collect();
    let mut wrong = Vec::new();
    for m in g
        .modules
        .iter()
        .filter(|m| m.len() == 1 && !BINARY_MODULES.contains(&m[0].as_str()))
    {
        assert!(
            layer.contains_key(m[0].as_str()),
            "module {} has no layer in tests/layers.rs",
            m[0]
        );
    }
    for (parent, from, to) in &g.edges {
        if !parent.is_empty() || BINARY_MODULES.contains(&from.as_str()) {
            continue;
        }
        if BINARY_MODULES.contains(&to.as_str()) || layer[from.as_str()] <= layer[to.as_str()] {
            let at = &g.seen_in[&(parent.clone(), from.clone(), to.clone())];
            wrong.push(format!("{from} uses {to} (in {})", at.join("::")));
        }
    }
    assert!(
        wrong.is_empty(),
        "upward or sideways imports:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn the_control_api_uses_only_what_the_crate_exports() {
    let mut wrong = Vec::new();
    for s in sources().iter().filter(|s| {
        s.module
            .first()
            .is_some_and(|m| m == "control" || m == "schedule")
    }) {
        for target in references(&s.module, &s.code) {
            let absolute_top = target.first().map(String::as_str);
            let private_module = LAYERS.iter().any(|(m, _)| Some(*m) == absolute_top)
                && !PUBLIC_MODULES.contains(&absolute_top.unwrap_or_default());
            if private_module {
                wrong.push(format!(
                    "{} uses {}",
                    s.module.join("::"),
                    target.join("::")
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn the_binary_client_side_uses_no_library_module_only_http() {
    let mut wrong = Vec::new();
    for s in sources().iter().filter(|s| {
        s.module
            .first()
            .is_some_and(|m| BINARY_MODULES.contains(&m.as_str()))
    }) {
        if s.code.contains("broker_sim::") {
            wrong.push(format!("{} uses broker_sim::", s.module.join("::")));
        }
        for target in references(&s.module, &s.code) {
            let top = target.first().map(String::as_str).unwrap_or_default();
            if LAYERS.iter().any(|(m, _)| *m == top) {
                wrong.push(format!(
                    "{} uses {}",
                    s.module.join("::"),
                    target.join("::")
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn no_module_cycles_among_siblings() {
    let g = graph();
    let mut by_parent: BTreeMap<&ModPath, BTreeMap<&str, Vec<&str>>> = BTreeMap::new();
    for (parent, from, to) in &g.edges {
        by_parent
            .entry(parent)
            .or_default()
            .entry(from)
            .or_default()
            .push(to);
    }
    for (parent, adj) in by_parent {
        // Depth-first search with colours; a grey node reached again closes a cycle.
        let mut colour: BTreeMap<&str, u8> = BTreeMap::new();
        fn visit<'a>(
            n: &'a str,
            adj: &BTreeMap<&'a str, Vec<&'a str>>,
            colour: &mut BTreeMap<&'a str, u8>,
            stack: &mut Vec<&'a str>,
        ) -> Option<Vec<String>> {
            colour.insert(n, 1);
            stack.push(n);
            for &m in adj.get(n).into_iter().flatten() {
                match colour.get(m).copied().unwrap_or(0) {
                    1 => {
                        let at = stack.iter().position(|s| *s == m).unwrap();
                        let mut cycle: Vec<String> =
                            stack[at..].iter().map(|s| s.to_string()).collect();
                        cycle.push(m.to_string());
                        return Some(cycle);
                    }
                    0 => {
                        if let Some(c) = visit(m, adj, colour, stack) {
                            return Some(c);
                        }
                    }
                    _ => {}
                }
            }
            stack.pop();
            colour.insert(n, 2);
            None
        }
        for &n in adj.keys() {
            if colour.get(n).copied().unwrap_or(0) == 0
                && let Some(cycle) = visit(n, &adj, &mut colour, &mut Vec::new())
            {
                panic!(
                    "module cycle under crate::{}: {}",
                    parent.join("::"),
                    cycle.join(" -> ")
                );
            }
        }
    }
}

#[test]
fn no_source_file_is_over_800_lines() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut long = Vec::new();
    let mut dirs = vec![root];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs")
                && path.file_name().is_some_and(|n| n != "tests.rs")
            {
                let lines = std::fs::read_to_string(&path).unwrap().lines().count();
                if lines > 800 {
                    long.push(format!("{} has {lines} lines", path.display()));
                }
            }
        }
    }
    assert!(long.is_empty(), "{}", long.join("\n"));
}

#[test]
fn the_reader_finds_paths_in_use_lines_and_expressions() {
    let module: ModPath = vec!["api".into(), "fetch".into()];
    let refs = references(
        &module,
        "use super::{Api, partitioned::{self, topic}};\nuse crate::state::State;\nlet x = super::super::net::down();",
    );
    let shown: Vec<String> = refs.iter().map(|r| r.join("::")).collect();
    assert_eq!(
        shown,
        ["api::Api", "api::partitioned", "state::State", "net::down"]
    );
}
