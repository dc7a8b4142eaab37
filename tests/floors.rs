//! The floors of `src/` and the direction of their imports, checked against
//! the table in DESIGN.md (the one place they are written down).
//!
//! Each file belongs to a unit: a ground (kernel) module such as `config` or
//! `cache`, a domain `modules/<name>`, or the composition floor (`app`, the
//! binaries, `lib.rs`). Every `crate::…` path a file names (in `use` trees
//! or inline, `super::` resolved) must point where the table allows, and a
//! domain may query or write only its own tables (`<table>::Entity`,
//! `Column`, `ActiveModel`) and those it is listed as reading.
use std::{
    collections::{BTreeMap, BTreeSet},
    fs,
    path::{Path, PathBuf},
};

#[derive(Debug, Clone, PartialEq, Eq)]
enum Floor {
    Ground,
    Domain,
    Composition,
}

#[derive(Debug)]
struct Row {
    floor: Floor,
    calls: BTreeSet<String>,
    owns: BTreeSet<String>,
    reads: BTreeSet<String>,
}

/// Reads the table between the `floors:begin` and `floors:end` markers.
fn table() -> BTreeMap<String, Row> {
    let text = fs::read_to_string(root().join("DESIGN.md")).expect("DESIGN.md is readable");
    let start = text
        .find("<!-- floors:begin -->")
        .expect("floors:begin marker");
    let end = text.find("<!-- floors:end -->").expect("floors:end marker");
    let list = |cell: &str| -> BTreeSet<String> {
        cell.split(',')
            .map(|s| s.trim().trim_matches('`').to_string())
            .filter(|s| !s.is_empty() && s != "—")
            .collect()
    };
    let mut rows = BTreeMap::new();
    for line in text[start..end].lines() {
        let cells: Vec<&str> = line.trim().trim_matches('|').split('|').collect();
        if cells.len() < 5 || !line.trim_start().starts_with("| `") {
            continue;
        }
        let unit = cells[0].trim().trim_matches('`').to_string();
        let floor = match cells[1].trim() {
            "ground" => Floor::Ground,
            "domain" => Floor::Domain,
            "composition" => Floor::Composition,
            other => panic!("unknown floor {other:?} for {unit} in DESIGN.md"),
        };
        rows.insert(
            unit,
            Row {
                floor,
                calls: list(cells[2]),
                owns: list(cells[3]),
                reads: list(cells[4]),
            },
        );
    }
    assert!(
        rows.len() > 10,
        "the floors table in DESIGN.md was not read"
    );
    rows
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).expect("src/ is readable") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The module path of a file under `src/` (`modules/order/place.rs` →
/// `[modules, order, place]`; `mod.rs` is its folder).
fn module_path(rel: &Path) -> Vec<String> {
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_string())
        .collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    parts
}

/// The unit a module path belongs to: `modules/<domain>`, `app`, a ground
/// module's name, or `root` (lib.rs, main.rs, bin/).
fn unit_of(path: &[String]) -> String {
    match path.first().map(String::as_str) {
        None | Some("lib") | Some("main") | Some("bin") => "root".into(),
        Some("modules") => match path.get(1) {
            Some(d) => format!("modules/{d}"),
            None => "modules".into(),
        },
        Some(first) => first.to_string(),
    }
}

/// Removes `//` comments (doc comments included) and string literals'
/// contents, so that prose and SQL never look like paths.
fn code_only(src: &str) -> String {
    let mut out = String::with_capacity(src.len());
    for line in src.lines() {
        let mut in_str = false;
        let mut prev = ' ';
        let mut chars = line.chars().peekable();
        while let Some(c) = chars.next() {
            if !in_str && c == '/' && chars.peek() == Some(&'/') {
                break;
            }
            if c == '"' && prev != '\\' {
                in_str = !in_str;
                out.push(c);
            } else if !in_str {
                out.push(c);
            }
            prev = c;
        }
        out.push('\n');
    }
    out
}

/// Splits a `use` tree's inner list at top-level commas.
fn split_top(s: &str) -> Vec<String> {
    let (mut parts, mut depth, mut cur) = (Vec::new(), 0, String::new());
    for c in s.chars() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            _ => {}
        }
        if c == ',' && depth == 0 {
            parts.push(std::mem::take(&mut cur));
        } else {
            cur.push(c);
        }
    }
    if !cur.trim().is_empty() {
        parts.push(cur);
    }
    parts
}

/// Every path a `use` tree names, as segments (`a::{b, c::d}` → `a::b`, `a::c::d`).
fn expand(tree: &str, prefix: &[String], out: &mut Vec<Vec<String>>) {
    let tree = tree.trim();
    if let Some(inner) = tree.strip_prefix('{') {
        let inner = inner.strip_suffix('}').unwrap_or(inner);
        for part in split_top(inner) {
            expand(&part, prefix, out);
        }
        return;
    }
    match tree.find("::{") {
        Some(i) => {
            let mut p = prefix.to_vec();
            p.extend(tree[..i].split("::").map(|s| s.trim().to_string()));
            expand(&tree[i + 2..], &p, out);
        }
        None => {
            let mut p = prefix.to_vec();
            let path = tree.split(" as ").next().unwrap_or(tree);
            p.extend(path.split("::").map(|s| s.trim().to_string()));
            out.push(p);
        }
    }
}

/// The absolute module paths (from the crate root) a file's code names.
fn crate_paths(code: &str, here: &[String]) -> Vec<Vec<String>> {
    let mut raw: Vec<Vec<String>> = Vec::new();
    // `use` statements, possibly spanning lines.
    let mut rest = code;
    while let Some(i) = rest.find("use ") {
        let before = rest[..i].chars().last();
        let after = &rest[i + 4..];
        rest = after;
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        let Some(end) = after.find(';') else { break };
        let tree = after[..end].trim();
        if tree.starts_with("crate::") || tree.starts_with("super::") || tree.starts_with("self::")
        {
            expand(tree, &[], &mut raw);
        }
    }
    // Inline paths such as `crate::modules::order::service::find(...)`.
    for (i, _) in code.match_indices("crate::") {
        if code[..i]
            .chars()
            .last()
            .is_some_and(|c| c.is_alphanumeric() || c == '_')
        {
            continue;
        }
        let path: String = code[i..]
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
            .collect();
        raw.push(path.split("::").map(str::to_string).collect());
    }
    // `here` is the file's own module (a `mod.rs` is its folder), so each
    // `super` drops one segment.
    let mut resolved = Vec::new();
    for p in raw {
        let mut base: Vec<String> = here.to_vec();
        let mut segs = p.into_iter().peekable();
        match segs.peek().map(String::as_str) {
            Some("crate") => {
                segs.next();
                base.clear();
            }
            Some("super") => {
                while segs.peek().map(String::as_str) == Some("super") {
                    segs.next();
                    base.pop();
                }
            }
            Some("self") => {
                segs.next();
            }
            _ => continue,
        }
        base.extend(segs.filter(|s| !s.is_empty() && s != "self"));
        // `crate::{…}` inside a `use` is read by the tree walk above.
        if !base.is_empty() {
            resolved.push(base);
        }
    }
    resolved
}

/// `<table>::Entity`, `::Column`, `::ActiveModel`: the tables a file queries
/// or writes (a `Model` is only data and may be passed between domains).
fn tables_touched(code: &str, known: &BTreeSet<String>) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for marker in ["::Entity", "::Column", "::ActiveModel"] {
        for (i, _) in code.match_indices(marker) {
            let name: String = code[..i]
                .chars()
                .rev()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            if known.contains(&name) {
                found.insert(name);
            }
        }
    }
    found
}

/// A domain's GraphQL layer may navigate to another domain's types: the
/// graph of the API is cyclic by nature. `types.rs` and `loader.rs` may also
/// call the other domain's service (or its pure scoring) to resolve such a
/// field.
fn navigation(file: &str, target: &[String]) -> bool {
    let layer = target.get(2).map(String::as_str);
    match file {
        "types" | "loader" => matches!(
            layer,
            Some("types" | "loader" | "service" | "scoring" | "commission")
        ),
        "resolver" => matches!(layer, Some("types" | "loader")),
        _ => false,
    }
}

#[test]
fn imports_follow_the_floors_table() {
    let rows = table();
    let src = root().join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let owned: BTreeMap<String, String> = rows
        .iter()
        .flat_map(|(unit, r)| r.owns.iter().map(move |t| (t.clone(), unit.clone())))
        .collect();
    let known_tables: BTreeSet<String> = owned.keys().cloned().collect();
    let mut problems = Vec::new();
    let mut seen_units = BTreeSet::new();

    for file in &files {
        let rel = file.strip_prefix(&src).expect("under src/");
        let here = module_path(rel);
        let unit = unit_of(&here);
        seen_units.insert(unit.clone());
        let floor = if unit == "root" || unit == "modules" {
            if unit == "root" {
                Floor::Composition
            } else {
                Floor::Domain
            }
        } else {
            match rows.get(&unit) {
                Some(r) => r.floor.clone(),
                None => {
                    problems.push(format!(
                        "{}: unit `{unit}` is not in DESIGN.md's floors table",
                        rel.display()
                    ));
                    continue;
                }
            }
        };
        let source = fs::read_to_string(file).expect("readable source");
        // Unit tests sit at the end of a file in `mod tests`, whose `super`
        // is the file itself; they are not part of the structure.
        let source = source.split("#[cfg(test)]").next().unwrap_or_default();
        let code = code_only(source);
        let file_stem = rel
            .file_stem()
            .map(|s| s.to_string_lossy().to_string())
            .unwrap_or_default();
        for target in crate_paths(&code, &here) {
            let to = unit_of(&target);
            if to == unit || to == "root" || to == "modules" {
                continue;
            }
            let Some(to_row) = rows.get(&to) else {
                problems.push(format!(
                    "{}: names `{}` of unit `{to}`, which is not in the floors table",
                    rel.display(),
                    target.join("::")
                ));
                continue;
            };
            let allowed = match (&floor, &to_row.floor) {
                (Floor::Composition, _) => true,
                (_, Floor::Ground) => true,
                (Floor::Ground, _) => false,
                (Floor::Domain, Floor::Composition) => false,
                (Floor::Domain, Floor::Domain) => {
                    let name = to.trim_start_matches("modules/");
                    rows[&unit].calls.contains(name) || navigation(&file_stem, &target)
                }
            };
            if !allowed {
                problems.push(format!(
                    "{}: `{unit}` may not import `{}` ({:?} → {:?})",
                    rel.display(),
                    target.join("::"),
                    floor,
                    to_row.floor
                ));
            }
        }
        if floor == Floor::Domain && unit != "modules" {
            let row = &rows[&unit];
            for t in tables_touched(&code, &known_tables) {
                if !row.owns.contains(&t) && !row.reads.contains(&t) {
                    problems.push(format!(
                        "{}: `{unit}` queries table `{t}`, owned by `{}`; call its service",
                        rel.display(),
                        owned[&t]
                    ));
                }
            }
        }
    }

    for (unit, row) in &rows {
        if !seen_units.contains(unit) {
            problems.push(format!(
                "DESIGN.md lists `{unit}`, which has no file in src/"
            ));
        }
        for callee in &row.calls {
            if !rows.contains_key(&format!("modules/{callee}")) {
                problems.push(format!("`{unit}` may call unknown domain `{callee}`"));
            }
        }
    }
    assert!(problems.is_empty(), "\n{}\n", problems.join("\n"));
}

#[test]
fn the_domain_table_has_no_loop() {
    let rows = table();
    // Depth-first search for a back edge in "may call".
    fn visit(
        unit: &str,
        rows: &BTreeMap<String, Row>,
        state: &mut BTreeMap<String, u8>,
        stack: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        state.insert(unit.to_string(), 1);
        stack.push(unit.to_string());
        for callee in &rows[unit].calls {
            let next = format!("modules/{callee}");
            match state.get(&next).copied() {
                Some(1) => {
                    stack.push(next);
                    return Some(stack.clone());
                }
                Some(_) => {}
                None if rows.contains_key(&next) => {
                    if let Some(cycle) = visit(&next, rows, state, stack) {
                        return Some(cycle);
                    }
                }
                None => {}
            }
        }
        stack.pop();
        state.insert(unit.to_string(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for unit in rows.keys().filter(|u| u.starts_with("modules/")) {
        if !state.contains_key(unit)
            && let Some(cycle) = visit(unit, &rows, &mut state, &mut Vec::new())
        {
            panic!("DESIGN.md's table has a loop: {}", cycle.join(" → "));
        }
    }
}

#[test]
fn the_checker_sees_what_it_must() {
    // A parser that saw nothing would pass every rule above.
    let code = code_only(
        "use crate::{api::ids, modules::{order::service, wallet}};\n\
         use super::place::Draft; // crate::app::nothing\n\
         fn f() { crate::modules::coupon::service::take(\"crate::app::x\"); sku::Entity::find(); }",
    );
    let here: Vec<String> = ["modules", "order", "refund"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let paths: Vec<String> = crate_paths(&code, &here)
        .into_iter()
        .map(|p| p.join("::"))
        .collect();
    assert_eq!(
        paths,
        [
            "api::ids",
            "modules::order::service",
            "modules::wallet",
            "modules::order::place::Draft",
            "modules::coupon::service::take",
        ]
    );
    let known: BTreeSet<String> = ["sku".to_string()].into();
    assert_eq!(tables_touched(&code, &known), known);
}
