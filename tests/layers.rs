//! The modules of `src/` are layers and imports go down: no modules import each other round in
//! a circle, and each module keeps to the [`RULES`] below.
//!
//! The test reads every `src/**/*.rs` as text and takes each path that starts with `crate::`,
//! `super::` or `self::`, in a `use` or `pub use` (braces expanded: `use crate::{db::Db,
//! models::{self, user}};` names `crate::db::Db`, `crate::models` and `crate::models::user`) or
//! inline in code (`crate::live::CHANNEL.send(..)`). `super::` and `self::` count from where
//! they stand: inside `mod tests { .. }`, `super` is the file's own module. Comments, doc
//! comments and string literals do not count; test modules do (a test that needs a higher
//! layer is a sign that the code does too).
//!
//! A path names the deepest module along it that is a file: `crate::models::user::User` names
//! `models::user` (`src/models/user.rs`), `crate::blueprints::main::parse_since` names
//! `blueprints::main` (`src/blueprints/main/mod.rs`); `src/lib.rs` is the root, `lib`. A module
//! is "under" `m` when it is `m` or one of its submodules.
//!
//! A module naming itself or a module under it is no edge of a circle: a parent holds its
//! children with `mod` lines and may re-export them. A submodule naming its parent is an edge
//! (`super::load_user` in `src/login/extractors.rs` goes to `login`). The rules look at every
//! path named.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// A set of modules: those under one of these, or every module but those, or (for a module
/// under `blueprints::x`) those under any `blueprints::y` but `x`.
enum Set {
    Under(&'static [&'static str]),
    AllBut(&'static [&'static str]),
    OtherBlueprints,
}

use Set::{AllBut, OtherBlueprints, Under};

/// Each rule: what it says, the modules it binds, and the modules they may not name.
const RULES: &[(&str, Set, Set)] = &[
    (
        "models name only models, db, schema and pagination",
        Under(&["models"]),
        AllBut(&["models", "db", "schema", "pagination"]),
    ),
    (
        "jobs, live, mail, login and render name no state, tasks or blueprints",
        Under(&["jobs", "live", "mail", "login", "render"]),
        Under(&["state", "tasks", "blueprints"]),
    ),
    (
        "only app, tasks and the blueprints name a blueprint",
        AllBut(&["app", "tasks", "blueprints"]),
        Under(&["blueprints"]),
    ),
    (
        "a blueprint names no other blueprint",
        Under(&["blueprints"]),
        OtherBlueprints,
    ),
];

/// Whether `module` is `outer` or under it; everything but `main` is under the root `lib`.
fn is_under(module: &str, outer: &str) -> bool {
    let below = |rest: &str| rest.is_empty() || rest.starts_with("::");
    (outer == "lib" && module != "main") || module.strip_prefix(outer).is_some_and(below)
}

impl Set {
    /// Whether the set has `module`, seen from module `from`.
    fn has(&self, module: &str, from: &str) -> bool {
        fn blueprint(m: &str) -> Option<&str> {
            m.strip_prefix("blueprints::")?.split("::").next()
        }
        match self {
            Under(these) => these.iter().any(|m| is_under(module, m)),
            AllBut(these) => !these.iter().any(|m| is_under(module, m)),
            OtherBlueprints => blueprint(from)
                .zip(blueprint(module))
                .is_some_and(|(x, y)| x != y),
        }
    }

    fn names(&self) -> &'static [&'static str] {
        match self {
            Under(these) | AllBut(these) => these,
            OtherBlueprints => &["blueprints"],
        }
    }
}

/// `src/a/b.rs` and `src/a/b/mod.rs` are `a::b`; `src/lib.rs` is `lib`, `src/main.rs` `main`.
fn module_of(file: &str) -> String {
    let path = file.trim_start_matches("src/").trim_end_matches(".rs");
    path.trim_end_matches("/mod").replace('/', "::")
}

/// Every `.rs` file under `dir`, as `src/a/b.rs`.
fn rust_files(dir: &Path, root: &Path, out: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).expect("src/ is readable").flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, root, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let relative = path.strip_prefix(root).expect("inside the repository");
            out.push(relative.to_string_lossy().replace('\\', "/"));
        }
    }
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The source with comments and string and character literals blanked out.
fn code_only(source: &str) -> String {
    let s = source.as_bytes();
    let at = |i: usize, text: &str| s[i.min(s.len())..].starts_with(text.as_bytes());
    // The index past the first `close` from `i` on, past `\x` escapes if `escapes`.
    let past = |mut i: usize, close: &str, escapes: bool| {
        while i < s.len() && !at(i, close) {
            i += if escapes && s[i] == b'\\' { 2 } else { 1 };
        }
        (i + close.len()).min(s.len())
    };
    let (mut out, mut i) = (Vec::with_capacity(s.len()), 0);
    while i < s.len() {
        let start = i;
        let r = i + usize::from(at(i, "br"));
        let hashes = s[r + 1..].iter().take_while(|&&c| c == b'#').count();
        let char_len = source
            .get(i + 1..)
            .and_then(|r| r.chars().next())
            .map_or(0, char::len_utf8);
        if at(i, "//") {
            i = past(i, "\n", false);
        } else if at(i, "/*") {
            let mut depth = 0;
            while depth > 0 || i == start {
                depth += i32::from(at(i, "/*")) - i32::from(at(i, "*/"));
                i += if at(i, "/*") || at(i, "*/") { 2 } else { 1 };
                if i >= s.len() {
                    break;
                }
            }
        } else if at(r, "r") && (i == 0 || !is_ident(s[i - 1] as char)) && at(r + 1 + hashes, "\"")
        {
            i = past(r + 2 + hashes, &format!("\"{}", "#".repeat(hashes)), false);
        } else if at(i, "\"") {
            i = past(i + 1, "\"", true);
        } else if at(i, "'\\") {
            i = past(i + 3, "'", false);
        } else if at(i, "'") && at(i + 1 + char_len, "'") {
            i += 2 + char_len; // a character, not a lifetime
        } else {
            out.push(s[i]);
            i += 1;
            continue;
        }
        out.extend(
            s[start..i]
                .iter()
                .map(|&c| if c == b'\n' { c } else { b' ' }),
        );
    }
    String::from_utf8(out).expect("blanked whole characters")
}

/// The code as words, `::` and single punctuation characters.
fn tokens(code: &str) -> Vec<&str> {
    let (mut out, mut rest) = (Vec::new(), code.trim_start());
    while let Some(c) = rest.chars().next() {
        let len = match c {
            _ if is_ident(c) => rest.find(|c| !is_ident(c)).unwrap_or(rest.len()),
            ':' if rest.starts_with("::") => 2,
            _ => c.len_utf8(),
        };
        out.push(&rest[..len]);
        rest = rest[len..].trim_start();
    }
    out
}

fn is_word(token: &str) -> bool {
    token.starts_with(|c: char| c.is_alphabetic() || c == '_')
}

/// The paths of the use tree (or plain path) at token `i`, braces expanded, and the index
/// after it. In `a::{self, b}`, `self` is `a`.
fn use_tree(t: &[&str], mut i: usize) -> (Vec<Vec<String>>, usize) {
    let mut prefix: Vec<String> = Vec::new();
    while let Some(&token) = t.get(i) {
        if token == "{" {
            let mut paths = Vec::new();
            i += 1;
            while let Some(&token) = t.get(i) {
                i += match token {
                    "}" => return (paths, i + 1),
                    "as" => 2,
                    _ if is_word(token) => {
                        let (inner, next) = use_tree(t, i);
                        for path in inner {
                            let path = path.into_iter().filter(|s| s != "self");
                            paths.push(prefix.iter().cloned().chain(path).collect());
                        }
                        next - i
                    }
                    _ => 1, // `,` or `*`
                };
            }
            return (paths, i);
        }
        if !is_word(token) {
            break;
        }
        prefix.push(token.to_owned());
        i += 1;
        if t.get(i) != Some(&"::") {
            break;
        }
        i += 1;
    }
    (vec![prefix], i)
}

/// The `crate::`, `super::` and `self::` paths a source names, each as written (braces
/// expanded) and from the crate root, for a file that is module `module` (`[]` for the root).
fn named_paths(source: &str, module: &[&str]) -> Vec<(String, Vec<String>)> {
    let code = code_only(source);
    let t = tokens(&code);
    let (mut found, mut depth, mut inline) = (Vec::new(), 0, Vec::<(&str, usize)>::new());
    let mut i = 0;
    while i < t.len() {
        match t[i] {
            "{" => depth += 1,
            "}" => {
                if inline.last().is_some_and(|&(_, d)| d == depth) {
                    inline.pop();
                }
                depth = depth.saturating_sub(1);
            }
            "mod" if t.get(i + 2) == Some(&"{") => inline.push((t[i + 1], depth + 1)),
            "crate" | "super" | "self" if t.get(i + 1) == Some(&"::") => {
                let (paths, next) = use_tree(&t, i);
                // The module the path is written in: the file's, then the inline `mod`s.
                let mut scope = module.to_vec();
                scope.extend(inline.iter().map(|&(name, _)| name));
                for path in paths {
                    let ups = path.iter().take_while(|s| *s == "super").count();
                    let base = match path[0].as_str() {
                        "crate" => &[][..],
                        "self" => &scope[..],
                        _ => &scope[..scope.len().saturating_sub(ups)],
                    };
                    let rest = path[ups.max(1)..].iter().map(String::as_str);
                    let absolute = base.iter().copied().chain(rest).map(str::to_owned);
                    found.push((path.join("::"), absolute.collect()));
                }
                i = next;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    found
}

/// One path a file names, and the modules it goes from and to.
struct Import {
    file: String,
    path: String,
    from: String,
    to: String,
}

fn modules_and_imports() -> (BTreeSet<String>, Vec<Import>) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src"), root, &mut files);
    files.sort();
    let modules: BTreeSet<String> = files.iter().map(|f| module_of(f)).collect();
    let mut imports = Vec::new();
    for file in &files {
        let from = module_of(file);
        let crate_root = if from == "main" { "main" } else { "lib" };
        let scope: Vec<&str> = from.split("::").filter(|_| from != crate_root).collect();
        let text = std::fs::read_to_string(root.join(file)).expect("readable");
        let mut seen = BTreeSet::new();
        for (path, absolute) in named_paths(&text, &scope) {
            let to = (1..=absolute.len())
                .rev()
                .map(|n| absolute[..n].join("::"))
                .find(|m| modules.contains(m) && m != "lib" && m != "main")
                .unwrap_or_else(|| crate_root.to_owned());
            if seen.insert(path.clone()) {
                let (file, from) = (file.clone(), from.clone());
                imports.push(Import {
                    file,
                    path,
                    from,
                    to,
                });
            }
        }
    }
    let found = imports.len();
    assert!(
        found > 100,
        "only {found} paths found in src/: is the scan broken?"
    );
    (modules, imports)
}

#[test]
fn no_import_circles() {
    let (_, imports) = modules_and_imports();
    let edges: Vec<&Import> = imports
        .iter()
        .filter(|i| !is_under(&i.to, &i.from))
        .collect();
    let mut next: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for edge in &edges {
        next.entry(&edge.from).or_default().insert(&edge.to);
    }
    let reach = |start: &str| {
        let (mut seen, mut todo) = (BTreeSet::new(), vec![start]);
        while let Some(m) = todo.pop() {
            for &to in next.get(m).into_iter().flatten() {
                if seen.insert(to) {
                    todo.push(to);
                }
            }
        }
        seen
    };
    let reached: BTreeMap<&str, BTreeSet<&str>> = next.keys().map(|&m| (m, reach(m))).collect();
    // A circle: the modules that reach a module and that it reaches.
    let circles: BTreeSet<Vec<&str>> = reached
        .iter()
        .map(|(m, there)| {
            let back = |to: &&str| reached.get(to).is_some_and(|back| back.contains(m));
            there.iter().copied().filter(back).collect::<Vec<_>>()
        })
        .filter(|circle| circle.len() > 1)
        .collect();
    let mut report = Vec::new();
    for circle in &circles {
        report.push(format!("{}:", circle.join(", ")));
        for e in &edges {
            if circle.contains(&e.from.as_str()) && circle.contains(&e.to.as_str()) {
                report.push(format!("  {}: {}", e.file, e.path));
            }
        }
    }
    assert!(
        report.is_empty(),
        "modules that import each other in a circle, and the imports inside each:\n{}",
        report.join("\n")
    );
}

#[test]
fn each_layer_names_only_what_is_below_it() {
    let (_, imports) = modules_and_imports();
    let mut broken = Vec::new();
    for import in &imports {
        for (says, who, may_not) in RULES {
            let (from, to) = (&import.from, &import.to);
            if who.has(from, from) && may_not.has(to, from) {
                broken.push(format!("{}: {} ({says})", import.file, import.path));
            }
        }
    }
    assert!(
        broken.is_empty(),
        "imports that break a layer rule:\n{}",
        broken.join("\n")
    );
}

/// A rule about a module that was renamed or moved would quietly hold for nothing.
#[test]
fn every_module_a_rule_names_exists() {
    let (modules, _) = modules_and_imports();
    let missing: Vec<String> = RULES
        .iter()
        .flat_map(|(says, who, may_not)| {
            let names = who.names().iter().chain(may_not.names());
            names
                .filter(|m| !modules.contains(**m))
                .map(move |m| format!("{m} ({says})"))
        })
        .collect();
    assert!(
        missing.is_empty(),
        "modules the rules name that are not in src/:\n{}",
        missing.join("\n")
    );
}

fn written(source: &str) -> Vec<String> {
    named_paths(source, &["app"])
        .into_iter()
        .map(|(w, _)| w)
        .collect()
}

#[test]
fn the_scan_expands_braces_and_finds_inline_paths() {
    let source = "pub use crate::{db::Db, models::{self, user::User as U}, jobs::*};
        fn f() -> crate::a::B<crate::c::D> { $crate::e::f!(); crate::g::h::<T>() }";
    let want = [
        "crate::db::Db",
        "crate::models",
        "crate::models::user::User",
        "crate::jobs",
    ];
    let inline = ["crate::a::B", "crate::c::D", "crate::e::f", "crate::g::h"];
    assert_eq!(written(source), [&want[..], &inline[..]].concat());
}

#[test]
fn the_scan_skips_comments_and_strings() {
    let source = r##"//! Uses crate::a.
        /// See `crate::b::c`.
        /* crate::d /* nested crate::e */ crate::f */
        let s = "crate::g \" crate::h"; let r = r#"crate::i "quoted""#; let q = ('"', '\'');
        fn f<'a>(x: &'a str) { crate::live::CHANNEL.send(x); } // crate::j"##;
    assert_eq!(written(source), ["crate::live::CHANNEL"]);
}

#[test]
fn the_scan_reads_super_and_self_from_where_they_stand() {
    let source = "use super::forms::X; use self::inner::Y; fn f() { super::super::api::g(); }
        mod tests { use super::*; use super::super::routes::h; }";
    let found = named_paths(source, &["blueprints", "main", "messages"]);
    let absolute: Vec<String> = found.into_iter().map(|(_, a)| a.join("::")).collect();
    let want = [
        "blueprints::main::forms::X",
        "blueprints::main::messages::inner::Y",
        "blueprints::api::g",
        "blueprints::main::messages",
        "blueprints::main::routes::h",
    ];
    assert_eq!(absolute, want);
}

#[test]
fn the_rules_match_whole_module_names() {
    assert!(is_under("login::extractors", "login") && is_under("login", "login"));
    assert!(!is_under("login_session", "login") && is_under("state", "lib"));
    assert_eq!(module_of("src/blueprints/main/mod.rs"), "blueprints::main");
    assert_eq!(module_of("src/models/user.rs"), "models::user");
    let other = |to, from| OtherBlueprints.has(to, from);
    assert!(other("blueprints::auth", "blueprints::main::routes"));
    assert!(!other("blueprints::main", "blueprints::main::routes"));
    assert!(!other("blueprints", "blueprints::main") && !other("blueprints::auth", "app"));
    assert!(RULES[2].1.has("live", "live") && !RULES[2].1.has("blueprints::api", "app"));
}
