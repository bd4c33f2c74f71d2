//! The modules of `src/` are layers and imports go down: no modules name each other round in a
//! circle, and each module keeps to the [`RULES`] below.
//!
//! **What a file names.** The test reads every `src/**/*.rs` as text (no compiler, no macros
//! expanded) and takes each path that starts with `crate::`, `super::` or `self::`: in a `use`
//! or `pub use` (braces expanded: `use crate::{db::Db, models::{self, user}};` names
//! `crate::db::Db`, `crate::models` and `crate::models::user`), inline in code
//! (`crate::models::message::LIVE_CHANNEL`), or whole in the string given to an attribute's
//! argument (`#[serde(default = "crate::i18n::english_tag")]`, or `with = "..."`, ...). A path
//! that starts with a name bound by such a `use` (its last segment, its `as` name, or for
//! `self` in braces the parent's) or by a `mod` line, further on in the same braces, counts
//! through it: after `use crate::models::{self, user};` and `use crate::search as full_text;`,
//! `models::task::x()` names `crate::models::task::x`, `user::find(..)`
//! `crate::models::user::find` and `full_text::find(..)` `crate::search::find`. `super::` and
//! `self::` count from where they stand: inside `mod tests { .. }`, `super` is the file's own
//! module. `r#mod` is `mod`. Comments, doc comments and other strings do not count, nor does
//! `pub(in crate::x)`; test modules do (a test that needs a higher layer is a sign that the code
//! does too). Not seen: names a glob brings in (`use super::*;`), paths a macro builds, a name
//! used above the `use` that binds it; and a local name that shadows an import reads as it.
//!
//! **What a path names.** The deepest module along it that is a file: `crate::models::user::User`
//! names `models::user` (`src/models/user.rs`), `crate::blueprints::main::config` names
//! `blueprints::main` (`src/blueprints/main/mod.rs`); `src/lib.rs` is the root, `lib`. If that
//! module's top level re-exports the next segment by name (`pub use`, `pub(crate) use`), the
//! path names the module that comes from as well, one step and no further: with `pub use
//! extractors::{.., MaybeUser};` in `src/login/mod.rs`, `crate::login::MaybeUser` names `login`
//! and `login::extractors`.
//!
//! **Edges and "below".** A module is "under" `m` when it is `m` or one of its submodules. A
//! module naming itself or a module under it is no edge: a parent holds its children with `mod`
//! lines and may re-export them. Every other module named is an edge, a parent named by its
//! submodule too (`super::load_user` in `src/login/extractors.rs` goes to `login`, and through
//! its re-export to `login::loader`). No edges may lead round in a circle, so they order the
//! modules: one is "below" another when a chain of edges leads to it from that one. The
//! [`RULES`] look at every module named, edge or not, and say which modules some may not name.

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
    (
        "federation names no state, tasks or blueprints (they name it)",
        Under(&["federation"]),
        Under(&["state", "tasks", "blueprints"]),
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

/// Whether `text`, a string's contents, is a path: `a::b`, nothing but words and `::`.
fn is_path(text: &[u8]) -> bool {
    let in_path = |&c: &u8| c.is_ascii_alphanumeric() || c == b'_' || c == b':';
    text.windows(2).any(|w| w == b"::") && text.iter().all(in_path)
}

/// Whether `code` ends in an attribute's argument before its string: `#[serde(with = `.
fn attribute_argument(code: &[u8]) -> bool {
    let Some(code) = code.trim_ascii_end().strip_suffix(b"=") else {
        return false;
    };
    let code = code.trim_ascii_end();
    let key = code
        .iter()
        .rev()
        .take_while(|&&c| is_ident(c as char))
        .count();
    let before = code[..code.len() - key].trim_ascii_end();
    if key == 0 || !(before.ends_with(b"(") || before.ends_with(b",")) {
        return false;
    }
    // The `[` of the brackets it is in: after `#` or `#!`, it opens an attribute.
    let mut depth = 0;
    for (at, &c) in before.iter().enumerate().rev() {
        match c {
            b']' => depth += 1,
            b'[' if depth == 0 => {
                let head = before[..at].trim_ascii_end();
                return head.strip_suffix(b"!").unwrap_or(head).ends_with(b"#");
            }
            b'[' => depth -= 1,
            b';' | b'{' | b'}' => return false,
            _ => {}
        }
    }
    false
}

/// The source with comments and string and character literals blanked out, but for a path
/// given to an attribute in a string (`#[serde(with = "crate::a::b")]`), which stays, unquoted.
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
        // Where a raw string's `r` would be: `r"..."`, `br#"..."#`, `cr"..."`.
        let r = i + usize::from(at(i, "br") || at(i, "cr"));
        let hashes = s[r + 1..].iter().take_while(|&&c| c == b'#').count();
        let char_len = source
            .get(i + 1..)
            .and_then(|rest| rest.chars().next())
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
            let text = s.get(start + 1..i - 1).unwrap_or_default();
            if is_path(text) && attribute_argument(&out) {
                out.push(b' ');
                out.extend_from_slice(text);
                out.push(b' ');
                continue;
            }
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

/// The code as words (a raw identifier, `r#mod`, is one), `::` and single punctuation
/// characters.
fn tokens(code: &str) -> Vec<&str> {
    let (mut out, mut rest) = (Vec::new(), code.trim_start());
    while let Some(c) = rest.chars().next() {
        let raw = if rest.starts_with("r#") && rest[2..].starts_with(is_ident) {
            2
        } else {
            0
        };
        let len = match c {
            _ if is_ident(c) => {
                raw + rest[raw..]
                    .find(|c| !is_ident(c))
                    .unwrap_or(rest.len() - raw)
            }
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

/// A word as a path segment: `r#mod` is `mod`.
fn segment(token: &str) -> &str {
    token.strip_prefix("r#").unwrap_or(token)
}

/// A path, and the name it binds in a `use`: its last segment or `as` name, or none (`*`,
/// `as _`).
type Leaf = (Vec<String>, Option<String>);

/// The paths of the use tree (or plain path) at token `i`, braces expanded, and the index
/// after it. In `a::{self, b}`, `self` is `a`, and binds `a`.
fn use_tree(t: &[&str], mut i: usize) -> (Vec<Leaf>, usize) {
    let mut prefix: Vec<String> = Vec::new();
    while let Some(&token) = t.get(i) {
        if token == "{" {
            let mut paths = Vec::new();
            i += 1;
            while let Some(&token) = t.get(i) {
                i += match token {
                    "}" => return (paths, i + 1),
                    _ if is_word(token) => {
                        let (inner, next) = use_tree(t, i);
                        for (path, name) in inner {
                            let name = match name {
                                Some(name) if name == "self" => prefix.last().cloned(),
                                name => name,
                            };
                            let path = path.into_iter().filter(|s| s != "self");
                            paths.push((prefix.iter().cloned().chain(path).collect(), name));
                        }
                        next - i
                    }
                    _ => 1, // `,`
                };
            }
            return (paths, i);
        }
        if token == "*" {
            return (vec![(prefix, None)], i + 1);
        }
        if !is_word(token) {
            break;
        }
        prefix.push(segment(token).to_owned());
        i += 1;
        if t.get(i) != Some(&"::") {
            break;
        }
        i += 1;
    }
    let mut name = prefix.last().cloned();
    if t.get(i) == Some(&"as") {
        name = t
            .get(i + 1)
            .filter(|&&n| n != "_")
            .map(|n| segment(n).to_owned());
        i += 2;
    }
    (vec![(prefix, name)], i)
}

/// Whether the `use` at token `u` is `pub`, `pub(crate)`, `pub(super)` or `pub(in ..)`.
fn is_pub(t: &[&str], u: usize) -> bool {
    let before = &t[..u];
    let before = match before.last() {
        Some(&")") => &before[..before.iter().rposition(|&s| s == "(").unwrap_or(0)],
        _ => before,
    };
    before.last() == Some(&"pub")
}

/// What a file names.
#[derive(Default)]
struct Scan {
    /// Each path it names, as written (braces expanded) and from the crate root.
    paths: Vec<(String, Vec<String>)>,
    /// Each name its top level re-exports (`pub use`), and the path from the root it stands for.
    exports: Vec<(String, Vec<String>)>,
}

/// What a source names, for a file that is module `module` (`[]` for the root).
fn scan(source: &str, module: &[&str]) -> Scan {
    let code = code_only(source);
    let t = tokens(&code);
    let (mut found, mut depth, mut inline) = (Scan::default(), 0, Vec::<(&str, usize)>::new());
    // The names `use` and `mod` lines bind: each, the path from the root it stands for, and the
    // depth of the braces it holds in.
    let mut bound: Vec<(String, Vec<String>, usize)> = Vec::new();
    let mut i = 0;
    while i < t.len() {
        // The module the code here is in: the file's, then the inline `mod`s.
        let scope = |inline: &[(&str, usize)]| -> Vec<String> {
            let inline = inline.iter().map(|&(name, _)| name);
            module
                .iter()
                .copied()
                .chain(inline)
                .map(str::to_owned)
                .collect()
        };
        let after = |k: usize, token: &str| i >= k && t[i - k] == token;
        let in_use = after(1, "use");
        let alias = bound
            .iter()
            .rev()
            .find(|(name, ..)| name == segment(t[i]))
            .map(|(_, path, _)| path.clone());
        let through = |next: &str| is_word(next) || (in_use && next == "{");
        let starts_path = t.get(i + 1) == Some(&"::")
            && !after(1, "::")
            && !(after(1, "in") && after(2, "(")) // `pub(in crate::a)`
            && match t[i] {
                "crate" | "super" | "self" => true,
                _ => alias.is_some() && t.get(i + 2).is_some_and(|&next| through(next)),
            };
        if starts_path {
            let (paths, next) = use_tree(&t, i);
            let exported = in_use && depth == 0 && is_pub(&t, i - 1);
            for (path, name) in paths {
                let absolute: Vec<String> = match &alias {
                    Some(alias) => alias.iter().chain(&path[1..]).cloned().collect(),
                    None => {
                        let scope = scope(&inline);
                        let ups = path.iter().take_while(|s| *s == "super").count();
                        let base = match path[0].as_str() {
                            "crate" => &[][..],
                            "self" => &scope[..],
                            _ => &scope[..scope.len().saturating_sub(ups)],
                        };
                        base.iter().chain(&path[ups.max(1)..]).cloned().collect()
                    }
                };
                if let Some(name) = name.filter(|_| in_use) {
                    if exported {
                        found.exports.push((name.clone(), absolute.clone()));
                    }
                    bound.push((name, absolute.clone(), depth));
                }
                found.paths.push((path.join("::"), absolute));
            }
            i = next;
            continue;
        }
        match t[i] {
            "{" => depth += 1,
            "}" => {
                if inline.last().is_some_and(|&(_, d)| d == depth) {
                    inline.pop();
                }
                depth = depth.saturating_sub(1);
                bound.retain(|&(_, _, d)| d <= depth);
            }
            "mod" if t.get(i + 1).is_some_and(|&name| is_word(name)) => {
                let name = segment(t[i + 1]);
                let mut path = scope(&inline);
                path.push(name.to_owned());
                bound.push((name.to_owned(), path, depth));
                if t.get(i + 2) == Some(&"{") {
                    inline.push((name, depth + 1));
                }
            }
            _ => {}
        }
        i += 1;
    }
    found
}

/// Each module's re-exports: (module, name) and the path from the root the name stands for.
type Exports = BTreeMap<(String, String), Vec<String>>;

/// The modules a path from the root names: the deepest module along it that is a file (or the
/// root, `crate_root`), and if that module re-exports the segment that comes next, the deepest
/// along the path it stands for.
fn named_modules(
    absolute: &[String],
    modules: &BTreeSet<String>,
    exports: &Exports,
    crate_root: &str,
) -> Vec<String> {
    let deepest = |path: &[String]| {
        (1..=path.len())
            .rev()
            .map(|n| (path[..n].join("::"), n))
            .find(|(m, _)| modules.contains(m) && m != "lib" && m != "main")
            .unwrap_or_else(|| (crate_root.to_owned(), 0))
    };
    let (to, n) = deepest(absolute);
    let export = absolute
        .get(n)
        .and_then(|name| exports.get(&(to.clone(), name.clone())));
    let mut named = vec![to];
    if let Some(stands_for) = export {
        let path: Vec<String> = stands_for
            .iter()
            .chain(&absolute[n + 1..])
            .cloned()
            .collect();
        let (also, _) = deepest(&path);
        if also != named[0] {
            named.push(also);
        }
    }
    named
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
    let mut scans = Vec::new();
    let mut exports = Exports::new();
    for file in &files {
        let from = module_of(file);
        let crate_root = if from == "main" { "main" } else { "lib" };
        let scope: Vec<&str> = from.split("::").filter(|_| from != crate_root).collect();
        let text = std::fs::read_to_string(root.join(file)).expect("readable");
        let found = scan(&text, &scope);
        for (name, path) in &found.exports {
            exports.insert((from.clone(), name.clone()), path.clone());
        }
        scans.push((file, from, crate_root, found.paths));
    }
    let mut imports = Vec::new();
    for (file, from, crate_root, paths) in scans {
        let mut seen = BTreeSet::new();
        for (path, absolute) in paths {
            for to in named_modules(&absolute, &modules, &exports, crate_root) {
                if seen.insert((path.clone(), to.clone())) {
                    let (file, from, path) = (file.clone(), from.clone(), path.clone());
                    imports.push(Import {
                        file,
                        path,
                        from,
                        to,
                    });
                }
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
    scan(source, &["app"])
        .paths
        .into_iter()
        .map(|(w, _)| w)
        .collect()
}

/// Each path `source` names, from the root, for a file that is module `module`.
fn absolute(source: &str, module: &[&str]) -> Vec<String> {
    let found = scan(source, module).paths;
    found.into_iter().map(|(_, a)| a.join("::")).collect()
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
        let c = (cr"crate::k", cr#"crate::l "quoted""#, c"crate::m", br"crate::n");
        fn f<'a>(x: &'a str) { crate::models::message::LIVE_CHANNEL.len(); } // crate::j"##;
    assert_eq!(written(source), ["crate::models::message::LIVE_CHANNEL"]);
}

#[test]
fn the_scan_reads_paths_given_to_attributes_in_strings() {
    let source = r#"#[serde(default = "crate::i18n::english_tag", with = "super::codec")]
        #![x(y)] #[serde(rename = "a::b", deserialize_with = "crate::c::d", rename_all = "lower")]
        let with = "crate::no::one"; f(x, with = "crate::no::two"); g("crate::no::three");"#;
    let want = ["crate::i18n::english_tag", "super::codec", "crate::c::d"];
    assert_eq!(written(source), want);
}

#[test]
fn the_scan_reads_raw_identifiers() {
    let source = "fn f(r#mod: u8) { crate::r#mod::r#type::x(); }
        use crate::r#mod as r#m; fn g() { r#m::y(); } pub(in crate::a) fn h() {}";
    assert_eq!(
        written(source),
        ["crate::mod::type::x", "crate::mod", "m::y"]
    );
    assert_eq!(
        absolute(source, &["app"]),
        ["mod::type::x", "mod", "mod::y"]
    );
}

#[test]
fn the_scan_reads_super_and_self_from_where_they_stand() {
    let source = "use super::forms::X; use self::inner::Y; fn f() { super::super::api::g(); }
        mod tests { use super::*; use super::super::routes::h; }";
    let want = [
        "blueprints::main::forms::X",
        "blueprints::main::messages::inner::Y",
        "blueprints::api::g",
        "blueprints::main::messages",
        "blueprints::main::routes::h",
    ];
    assert_eq!(absolute(source, &["blueprints", "main", "messages"]), want);
}

#[test]
fn the_scan_follows_names_that_use_and_mod_lines_bind() {
    let source = "use crate::models; use crate::models::{self as m, user::{self, User}};
        use crate::search as full_text;
        fn f() { models::task::x(); user::find(); full_text::find(); m::job::Job::new(); }
        fn g() { use super::jobs; jobs::run(); ext::models::y(); models::<T>(); }
        fn h() { jobs::stop(); } mod inner { mod deep; fn i() { deep::x(); } }";
    let want = [
        "models",
        "models",
        "models::user",
        "models::user::User",
        "search",
        "models::task::x",
        "models::user::find",
        "search::find",
        "models::job::Job::new",
        "jobs",
        "jobs::run",
        "app::inner::deep::x",
    ];
    assert_eq!(absolute(source, &["app"]), want);
}

#[test]
fn a_re_export_names_where_it_comes_from() {
    let source = "mod extractors; mod loader;
        pub use extractors::{CurrentUser, MaybeUser as Maybe}; pub(crate) use loader::load_user;
        use crate::models::User; pub use self::loader::*; fn f() { pub use crate::x::Y; }";
    let exports: Vec<(String, String)> = scan(source, &["login"])
        .exports
        .into_iter()
        .map(|(name, path)| (name, path.join("::")))
        .collect();
    let want = [
        ("CurrentUser", "login::extractors::CurrentUser"),
        ("Maybe", "login::extractors::MaybeUser"),
        ("load_user", "login::loader::load_user"),
    ];
    let want: Vec<(String, String)> = want.map(|(n, p)| (n.into(), p.into())).to_vec();
    assert_eq!(exports, want);

    let owned = |path: &str| path.split("::").map(str::to_owned).collect::<Vec<_>>();
    let modules: BTreeSet<String> = ["login", "login::extractors", "render"]
        .map(str::to_owned)
        .into();
    let exports: Exports = [(
        ("login".into(), "Maybe".into()),
        owned("login::extractors::MaybeUser"),
    )]
    .into();
    let named = |path| named_modules(&owned(path), &modules, &exports, "lib");
    assert_eq!(named("login::Maybe::from"), ["login", "login::extractors"]);
    assert_eq!(named("login::LOGIN_VIEW"), ["login"]);
    assert_eq!(named("render::Page"), ["render"]);
    assert_eq!(named("nowhere"), ["lib"]);
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
