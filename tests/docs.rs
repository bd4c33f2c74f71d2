//! The docs stay true: every file path a Markdown file of the repository names (`src/...`,
//! `templates/...`, `migrations/...`, `tests/...`, `bench/...`, `static/...`, `docs/...`,
//! `deploy/...`) exists; and every Rust name the guide (`docs/`, the README) gives as
//! `module::name` (`api_token::create`, `throttle::LoginThrottle`, `json::Window::describe`) is
//! still in that module of `src/`; every code excerpt whose first line names its file
//! (`// src/models/user.rs: follow`) is still in that file; and every table row has as many
//! cells as its header.
//!
//! A path may be a pattern: `{a,b}` stands for each of its choices, and `*`, `...` or a `<name>`
//! inside a segment for any text (`migrations/*/..._followers`, `src/models/<table>.rs`); a
//! pattern must match at least one real path. Paths under folders the repository ignores
//! (`.gitignore`, such as the bench's results) are generated, not kept, and are not checked.

use std::path::{Path, PathBuf};

const ROOTS: &[&str] = &[
    "src",
    "templates",
    "migrations",
    "tests",
    "bench",
    "static",
    "docs",
    "deploy",
];

fn repository() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every file and folder of the repository, as `a/b/c` (folders end with `/`).
fn tree(root: &Path) -> Vec<String> {
    fn walk(dir: &Path, root: &Path, out: &mut Vec<String>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name();
            if name == ".git" || name == "target" {
                continue;
            }
            let relative = path
                .strip_prefix(root)
                .expect("inside the repository")
                .to_string_lossy()
                .replace('\\', "/");
            if path.is_dir() {
                out.push(format!("{relative}/"));
                walk(&path, root, out);
            } else {
                out.push(relative);
            }
        }
    }
    let mut out = Vec::new();
    walk(root, root, &mut out);
    out
}

/// The paths a text names: words that start with one of [`ROOTS`] and a `/`, not inside
/// another path (Flask's `app/templates/` is not ours).
fn named_paths(text: &str) -> Vec<String> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || "_./{},*<>-".contains(c);
    let mut found = Vec::new();
    for (start, _) in text.char_indices() {
        let before = text[..start].chars().next_back();
        if before.is_some_and(|c| c.is_ascii_alphanumeric() || "/._-".contains(c)) {
            continue;
        }
        let rest = &text[start..];
        if !ROOTS.iter().any(|root| {
            rest.strip_prefix(root)
                .is_some_and(|after| after.starts_with('/'))
        }) {
            continue;
        }
        let end = rest.find(|c: char| !allowed(c)).unwrap_or(rest.len());
        let path = rest[..end].trim_end_matches(['.', ',']);
        found.push(path.to_owned());
    }
    found
}

/// `a/{b,c}/d` as `a/b/d` and `a/c/d`.
fn expand(pattern: &str) -> Vec<String> {
    let (Some(open), Some(close)) = (pattern.find('{'), pattern.find('}')) else {
        return vec![pattern.to_owned()];
    };
    if close < open {
        return vec![pattern.to_owned()];
    }
    pattern[open + 1..close]
        .split(',')
        .flat_map(|choice| {
            expand(&format!(
                "{}{choice}{}",
                &pattern[..open],
                &pattern[close + 1..]
            ))
        })
        .collect()
}

/// Whether one path segment matches a pattern segment, where `*`, `...` and `<name>` stand for
/// any text.
fn segment_matches(pattern: &str, segment: &str) -> bool {
    let mut glob = String::new();
    let mut rest = pattern;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix("...") {
            glob.push('*');
            rest = after;
        } else if rest.starts_with('<')
            && let Some(close) = rest.find('>')
        {
            glob.push('*');
            rest = &rest[close + 1..];
        } else {
            let c = rest.chars().next().expect("not empty");
            glob.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    let parts: Vec<&str> = glob.split('*').collect();
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if parts.len() == 1 {
        return segment == first;
    }
    if !segment.starts_with(first) || !segment[first.len()..].ends_with(last) {
        return false;
    }
    let mut middle = &segment[first.len()..segment.len() - last.len()];
    for part in &parts[1..parts.len() - 1] {
        match middle.find(part) {
            Some(i) => middle = &middle[i + part.len()..],
            None => return false,
        }
    }
    true
}

fn exists(pattern: &str, files: &[String]) -> bool {
    let wanted: Vec<&str> = pattern.trim_end_matches('/').split('/').collect();
    let folder = pattern.ends_with('/');
    files.iter().any(|file| {
        if folder && !file.ends_with('/') {
            return false;
        }
        let have: Vec<&str> = file.trim_end_matches('/').split('/').collect();
        have.len() == wanted.len()
            && wanted
                .iter()
                .zip(&have)
                .all(|(pattern, segment)| segment_matches(pattern, segment))
    })
}

/// The folders `.gitignore` names from the top (`/bench/results`).
fn ignored(root: &Path) -> Vec<String> {
    std::fs::read_to_string(root.join(".gitignore"))
        .unwrap_or_default()
        .lines()
        .filter_map(|line| line.trim().strip_prefix('/'))
        .map(|folder| format!("{}/", folder.trim_end_matches('/')))
        .collect()
}

#[test]
fn every_path_named_in_a_markdown_file_exists() {
    let root = repository();
    let files = tree(&root);
    let ignored = ignored(&root);
    let mut missing = Vec::new();
    let mut checked = 0;
    for markdown in files.iter().filter(|f| f.ends_with(".md")) {
        let text = std::fs::read_to_string(root.join(markdown)).expect("readable");
        for path in named_paths(&text) {
            if ignored
                .iter()
                .any(|folder| path.starts_with(folder.as_str()))
            {
                continue;
            }
            for candidate in expand(&path) {
                checked += 1;
                if !exists(&candidate, &files) {
                    missing.push(format!("{markdown}: {candidate}"));
                }
            }
        }
    }
    assert!(
        checked > 100,
        "only {checked} paths found: is the scan broken?"
    );
    assert!(
        missing.is_empty(),
        "paths that do not exist:\n{}",
        missing.join("\n")
    );
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Whether `word` is in `text` as a whole identifier.
fn has_word(text: &str, word: &str) -> bool {
    text.match_indices(word).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + word.len()..].chars().next();
        !before.is_some_and(is_ident) && !after.is_some_and(is_ident)
    })
}

/// The `a::b::c` names inside the backquoted spans of a Markdown text, as their segments.
fn named_items(text: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for (i, span) in text.split('`').enumerate() {
        if i % 2 == 0 || span.contains('\n') {
            continue;
        }
        let mut rest = span;
        while let Some(at) = rest.find("::") {
            let head_start = rest[..at]
                .char_indices()
                .rev()
                .take_while(|&(_, c)| is_ident(c))
                .last()
                .map_or(at, |(j, _)| j);
            let mut segments = vec![rest[head_start..at].to_owned()];
            let mut tail = &rest[at..];
            while let Some(next) = tail.strip_prefix("::") {
                let len = next.find(|c: char| !is_ident(c)).unwrap_or(next.len());
                segments.push(next[..len].to_owned());
                tail = &next[len..];
            }
            rest = tail;
            if segments.iter().all(|s| !s.is_empty()) {
                out.push(segments);
            }
        }
    }
    out
}

/// The source files that are module `name` (`src/**/name.rs`, `src/**/name/...`) or define a
/// type `name`; none for names of other crates (`web::scope`, `diesel::insert_into`).
fn module_files<'a>(name: &str, sources: &'a [(String, String)]) -> Vec<&'a (String, String)> {
    let as_module: Vec<_> = sources
        .iter()
        .filter(|(path, _)| {
            let parts: Vec<&str> = path.trim_end_matches(".rs").split('/').collect();
            parts.last() == Some(&name) || parts[..parts.len() - 1].contains(&name)
        })
        .collect();
    if !as_module.is_empty() {
        return as_module;
    }
    sources
        .iter()
        .filter(|(_, text)| {
            ["struct", "enum", "trait", "type"]
                .iter()
                .any(|kind| has_word(text, &format!("{kind} {name}")))
        })
        .collect()
}

#[test]
fn every_rust_name_the_guide_gives_is_still_in_its_module() {
    let root = repository();
    let sources: Vec<(String, String)> = tree(&root)
        .into_iter()
        .filter(|f| f.starts_with("src/") && f.ends_with(".rs"))
        .map(|f| {
            let text = std::fs::read_to_string(root.join(&f)).expect("readable");
            (f["src/".len()..].to_owned(), text)
        })
        .collect();
    let mut pages: Vec<String> = tree(&root)
        .into_iter()
        .filter(|f| f.starts_with("docs/") && f.ends_with(".md"))
        .collect();
    pages.push("README.md".to_owned());
    let (mut checked, mut gone) = (0, Vec::new());
    for page in &pages {
        let text = std::fs::read_to_string(root.join(page)).expect("readable");
        for mut segments in named_items(&text) {
            if segments[0] == "crate" {
                segments.remove(0);
            }
            let files = module_files(&segments[0], &sources);
            let Some(name) = segments.last().filter(|_| segments.len() > 1) else {
                continue;
            };
            if files.is_empty() {
                continue;
            }
            checked += 1;
            if !files.iter().any(|(_, text)| has_word(text, name)) {
                gone.push(format!("{page}: {}", segments.join("::")));
            }
        }
    }
    assert!(
        checked > 100,
        "only {checked} names found: is the scan broken?"
    );
    assert!(
        gone.is_empty(),
        "names the guide gives that are not in their module:\n{}",
        gone.join("\n")
    );
}

#[test]
fn the_name_scan_reads_paths_in_code_spans_only() {
    let text = "`api_token::create(conn)` and `crate::tokens::token_hash`; not a::b outside";
    assert_eq!(
        named_items(text),
        vec![
            vec!["api_token".to_owned(), "create".to_owned()],
            vec![
                "crate".to_owned(),
                "tokens".to_owned(),
                "token_hash".to_owned()
            ],
        ]
    );
    assert!(has_word("fn create(", "create") && !has_word("fn created(", "create"));
    let sources = vec![
        (
            "models/api_token.rs".to_owned(),
            "pub fn create() {}".to_owned(),
        ),
        ("jobs.rs".to_owned(), "pub enum Job { A }".to_owned()),
    ];
    assert_eq!(module_files("api_token", &sources).len(), 1);
    assert_eq!(module_files("Job", &sources).len(), 1);
    assert!(module_files("web", &sources).is_empty());
}

#[test]
fn the_path_scan_reads_patterns_and_skips_flask_paths() {
    let text = "see `src/db.rs`, `migrations/*/..._followers` and Flask's `app/templates/x`.";
    assert_eq!(
        named_paths(text),
        vec!["src/db.rs", "migrations/*/..._followers"]
    );
    assert_eq!(expand("a/{b,c}/d"), vec!["a/b/d", "a/c/d"]);
    assert!(segment_matches(
        "..._followers",
        "2026-11-22-000003_followers"
    ));
    assert!(segment_matches("<table>.rs", "user.rs"));
    assert!(!segment_matches("<table>.rs", "user.sql"));
    let files = vec!["src/".to_owned(), "src/db.rs".to_owned()];
    assert!(exists("src/db.rs", &files) && exists("src/", &files));
    assert!(!exists("src/login.rs", &files));
}

/// How many cells a Markdown table row has: its `|`s outside code spans, less one.
fn table_cells(row: &str) -> usize {
    let (mut bars, mut in_code, mut escaped) = (0usize, false, false);
    for c in row.trim().chars() {
        match c {
            '`' => in_code = !in_code,
            '|' if !in_code && !escaped => bars += 1,
            _ => {}
        }
        escaped = c == '\\';
    }
    bars.saturating_sub(1)
}

/// A row with more cells than its table's header loses the extra ones when the page is shown;
/// one with fewer shifts what follows into the wrong column.
#[test]
fn every_table_row_has_as_many_cells_as_its_header() {
    let root = repository();
    let ignored = ignored(&root);
    let mut pages: Vec<String> = tree(&root)
        .into_iter()
        .filter(|f| f.ends_with(".md") && !ignored.iter().any(|folder| f.starts_with(folder)))
        .collect();
    pages.sort();
    let mut wrong = Vec::new();
    for page in &pages {
        let text = std::fs::read_to_string(root.join(page)).expect("readable");
        let mut header = None;
        for (n, line) in text.lines().enumerate() {
            if !line.starts_with('|') {
                header = None;
                continue;
            }
            let cells = table_cells(line);
            match header {
                None => header = Some(cells),
                Some(expected) if cells != expected => {
                    wrong.push(format!(
                        "{page}:{}: {cells} cells, the header has {expected}",
                        n + 1
                    ));
                }
                Some(_) => {}
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "table rows of the wrong width:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn a_table_cell_count_skips_bars_in_code_spans() {
    assert_eq!(table_cells("| a | `x | y` | b |"), 3);
    assert_eq!(table_cells("|---|---|"), 2);
    assert_eq!(table_cells(r"| a \| b | c |"), 2);
}

/// The code excerpts of the guide: each fenced block whose first line is a comment naming a
/// file (`// src/login/extractors.rs: CurrentUser`), with the lines that follow it. A line
/// `// ...` stands for lines left out.
fn excerpts(text: &str) -> Vec<(String, Vec<String>)> {
    let mut found = Vec::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        let fence = line.trim_start();
        if !fence.starts_with("```") || fence.len() == 3 {
            continue;
        }
        let block: Vec<String> = lines
            .by_ref()
            .take_while(|l| l.trim_start() != "```")
            .map(|l| l.trim().to_owned())
            .collect();
        let Some(file) = block
            .first()
            .and_then(|first| first.strip_prefix("// "))
            .and_then(|named| named.split(':').next())
            .filter(|file| {
                file.ends_with(".rs") || file.ends_with(".html") || file.ends_with(".js")
            })
        else {
            continue;
        };
        found.push((file.to_owned(), block[1..].to_vec()));
    }
    found
}

/// Whether `lines` (trimmed, `// ...` for a gap) are in `source` in this order, each gap-free
/// run as consecutive lines.
fn excerpt_is_in(lines: &[String], source: &str) -> bool {
    let source: Vec<&str> = source.lines().map(str::trim).collect();
    let runs: Vec<Vec<&str>> = lines
        .split(|l| l == "// ...")
        .map(|run| {
            run.iter()
                .map(String::as_str)
                .filter(|l| !l.is_empty())
                .collect()
        })
        .filter(|run: &Vec<&str>| !run.is_empty())
        .collect();
    let mut from = 0;
    for run in runs {
        let source_lines: Vec<&str> = source[from..]
            .iter()
            .copied()
            .filter(|l| !l.is_empty())
            .collect();
        let Some(at) = source_lines
            .windows(run.len())
            .position(|w| w == run.as_slice())
        else {
            return false;
        };
        // Move past the run, counting the blank lines skipped in the source.
        let (mut seen, mut i) = (0, from);
        while seen < at + run.len() {
            if !source[i].is_empty() {
                seen += 1;
            }
            i += 1;
        }
        from = i;
    }
    true
}

/// An excerpt that no longer matches its file would teach code that is not there.
#[test]
fn every_code_excerpt_of_the_guide_is_still_in_its_file() {
    let root = repository();
    let mut checked = 0;
    let mut stale = Vec::new();
    for page in tree(&root)
        .into_iter()
        .filter(|f| f.starts_with("docs/") && f.ends_with(".md"))
    {
        let text = std::fs::read_to_string(root.join(&page)).expect("readable");
        for (file, lines) in excerpts(&text) {
            checked += 1;
            let source = std::fs::read_to_string(root.join(&file)).unwrap_or_default();
            if !excerpt_is_in(&lines, &source) {
                stale.push(format!("{page}: the excerpt of {file}"));
            }
        }
    }
    assert!(
        checked >= 8,
        "only {checked} excerpts found: is the scan broken?"
    );
    assert!(
        stale.is_empty(),
        "excerpts that are no longer in their file:\n{}",
        stale.join("\n")
    );
}

#[test]
fn an_excerpt_matches_in_order_with_gaps_and_fails_when_changed() {
    let source = "fn a() {\n    let x = 1;\n\n    let y = 2;\n    x + y\n}\n";
    let lines = |ls: &[&str]| ls.iter().map(|l| (*l).to_owned()).collect::<Vec<_>>();
    assert!(excerpt_is_in(
        &lines(&["fn a() {", "let x = 1;", "", "let y = 2;"]),
        source
    ));
    assert!(excerpt_is_in(
        &lines(&["fn a() {", "// ...", "x + y"]),
        source
    ));
    assert!(!excerpt_is_in(&lines(&["fn a() {", "let y = 2;"]), source));
    assert!(!excerpt_is_in(
        &lines(&["x + y", "// ...", "fn a() {"]),
        source
    ));
    let page = "```rust\n// src/a.rs: a\nfn a() {\n```\n\n```rust\nfn not_named() {}\n```\n";
    assert_eq!(
        excerpts(page),
        vec![("src/a.rs".to_owned(), lines(&["fn a() {"]))]
    );
}
