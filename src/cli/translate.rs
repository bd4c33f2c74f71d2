//! `microblog translate` (Flask's `flask translate` commands of chapter 13). Fluent files need no
//! extract or compile step: the translations are `locales/<lang>/main.ftl`, built into the
//! binary. What is left is to start a language and to find what it lacks:
//!
//! - `init <lang>` writes `locales/<lang>/main.ftl` with every English message commented out
//!   under its English text, ready to be translated one by one;
//! - `check` lists, per language, the messages missing (in English but not translated) and
//!   unused (translated but not in English), and the messages the code or templates name that
//!   English lacks, or that nothing names. It fails when anything is missing.
//!
//! Both work on the source tree (run them in the project folder), as pybabel does.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use fluent_syntax::ast::{Entry, Resource};

/// What `check` found.
#[derive(Debug, Default)]
pub struct Report {
    /// Per language (not English): ids in English it lacks.
    pub missing: BTreeMap<String, BTreeSet<String>>,
    /// Per language (not English): ids it has that English does not.
    pub unused: BTreeMap<String, BTreeSet<String>>,
    /// Ids the templates or the code name that English does not define.
    pub undefined: BTreeSet<String>,
    /// English ids nothing names.
    pub unreferenced: BTreeSet<String>,
}

impl Report {
    pub fn is_complete(&self) -> bool {
        self.missing.values().all(BTreeSet::is_empty) && self.undefined.is_empty()
    }
}

/// The message ids defined in one `.ftl` file.
fn ids(path: &Path) -> anyhow::Result<BTreeSet<String>> {
    let text = fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let resource = parse(path, &text)?;
    let mut ids = BTreeSet::new();
    for entry in &resource.body {
        if let Entry::Message(m) = entry
            && !ids.insert(m.id.name.to_owned())
        {
            // Fluent refuses a file with the same id twice: the app would not start.
            bail!("{} defines {} twice", path.display(), m.id.name);
        }
    }
    Ok(ids)
}

fn parse<'s>(path: &Path, text: &'s str) -> anyhow::Result<Resource<&'s str>> {
    fluent_syntax::parser::parse(text).map_err(|(_, errors)| {
        let first = errors
            .first()
            .map(|e| format!("{:?} at bytes {:?}", e.kind, e.pos))
            .unwrap_or_default();
        anyhow::anyhow!("{} is not valid Fluent: {first}", path.display())
    })
}

/// Every `.ftl` file of each language folder under `locales`.
fn languages(locales: &Path) -> anyhow::Result<BTreeMap<String, BTreeSet<String>>> {
    let mut found = BTreeMap::new();
    let folders = fs::read_dir(locales).with_context(|| {
        format!(
            "reading {} (run `microblog translate` in the project folder)",
            locales.display()
        )
    })?;
    for folder in folders {
        let folder = folder?.path();
        if !folder.is_dir() {
            continue;
        }
        let lang = folder.file_name().unwrap_or_default().to_string_lossy();
        let mut all = BTreeSet::new();
        for file in files(&folder, &["ftl"])? {
            all.extend(ids(&file)?);
        }
        found.insert(lang.into_owned(), all);
    }
    Ok(found)
}

/// Files under `dir` (recursively) ending in one of `extensions`.
fn files(dir: &Path, extensions: &[&str]) -> anyhow::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(dir) = todo.pop() {
        for entry in fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))? {
            let path = entry?.path();
            if path.is_dir() {
                todo.push(path);
            } else if path
                .extension()
                .is_some_and(|e| extensions.iter().any(|x| e == *x))
            {
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Whether `s` has the shape of our message ids: `flash-post-live`.
fn looks_like_id(s: &str) -> bool {
    s.contains('-')
        && s.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// The double-quoted strings of `text`, each with the text that follows it.
fn quoted(text: &str) -> impl Iterator<Item = (&str, &str)> {
    let mut rest = text;
    std::iter::from_fn(move || {
        let start = rest.find('"')?;
        let after = &rest[start + 1..];
        let end = after.find('"')?;
        let literal = &after[..end];
        rest = &after[end + 1..];
        Some((literal, rest))
    })
}

/// The literals a template gives the `t` filter: `"id" | t`, `"id" | t(count=n)`, `{"id" | t}`.
fn filtered_ids(text: &str) -> impl Iterator<Item = &str> {
    text.match_indices('|').filter_map(|(i, _)| {
        let after = text[i + 1..].trim_start();
        let filter = after.strip_prefix('t')?;
        if !filter.starts_with([' ', '(', '}']) {
            return None;
        }
        let before = text[..i].trim_end().strip_suffix('"')?;
        let start = before.rfind('"')?;
        Some(&before[start + 1..]).filter(|id| looks_like_id(id))
    })
}

/// The ids the templates give the `t` filter (`"id" | t`) and the code names
/// (`Message::new("id")`), and every other id-shaped string literal in the code (ids chosen in a
/// `match`), which counts as naming an id only if English defines it.
fn references(root: &Path) -> anyhow::Result<(BTreeSet<String>, BTreeSet<String>)> {
    let (mut named, mut literals) = (BTreeSet::new(), BTreeSet::new());
    for file in files(&root.join("templates"), &["html", "txt"])? {
        let text = fs::read_to_string(&file)?;
        named.extend(filtered_ids(&text).map(str::to_owned));
    }
    for file in files(&root.join("src"), &["rs"])? {
        let text = fs::read_to_string(&file)?;
        for (i, _) in text.match_indices("Message::new(") {
            // rustfmt may put the id on a line of its own.
            let rest = text[i + "Message::new(".len()..].trim_start();
            if let Some(rest) = rest.strip_prefix('"')
                && let Some(end) = rest.find('"')
                && looks_like_id(&rest[..end])
            {
                named.insert(rest[..end].to_owned());
            }
        }
        for (literal, _) in quoted(&text) {
            if looks_like_id(literal) {
                literals.insert(literal.to_owned());
            }
        }
    }
    Ok((named, literals))
}

/// `microblog translate check` on the project folder `root`.
pub fn check(root: &Path) -> anyhow::Result<Report> {
    let langs = languages(&root.join("locales"))?;
    let Some(english) = langs.get("en") else {
        bail!("{} has no en folder", root.join("locales").display());
    };
    let mut report = Report::default();
    for (lang, defined) in &langs {
        if lang == "en" {
            continue;
        }
        report
            .missing
            .insert(lang.clone(), english.difference(defined).cloned().collect());
        report
            .unused
            .insert(lang.clone(), defined.difference(english).cloned().collect());
    }
    let (named, literals) = references(root)?;
    report.undefined = named.difference(english).cloned().collect();
    report.unreferenced = english
        .iter()
        .filter(|id| !named.contains(*id) && !literals.contains(*id))
        .cloned()
        .collect();
    Ok(report)
}

/// Prints `check`'s report; fails when something is missing.
pub fn run_check(root: &Path) -> anyhow::Result<()> {
    let report = check(root)?;
    let list = |ids: &BTreeSet<String>| ids.iter().cloned().collect::<Vec<_>>().join(", ");
    for (lang, missing) in &report.missing {
        let unused = &report.unused[lang];
        println!("{lang}: {} missing, {} unused", missing.len(), unused.len());
        if !missing.is_empty() {
            println!("  missing: {}", list(missing));
        }
        if !unused.is_empty() {
            println!("  unused: {}", list(unused));
        }
    }
    if !report.undefined.is_empty() {
        println!(
            "en: named in the templates or code but not defined: {}",
            list(&report.undefined)
        );
    }
    if !report.unreferenced.is_empty() {
        println!(
            "en: defined but named nowhere: {}",
            list(&report.unreferenced)
        );
    }
    if !report.is_complete() {
        bail!("some messages are missing");
    }
    println!("every message is translated");
    Ok(())
}

/// `microblog translate init <lang>`: `locales/<lang>/main.ftl`, each English message commented
/// out below its English text. Until a message is translated (and uncommented), pages show it in
/// English and `check` lists it as missing.
pub fn init(root: &Path, lang: &str) -> anyhow::Result<PathBuf> {
    let tag: unic_langid::LanguageIdentifier = lang
        .parse()
        .map_err(|_| anyhow::anyhow!("{lang:?} is not a language tag (e.g. fr, pt-BR)"))?;
    let folder = root.join("locales").join(tag.to_string());
    let target = folder.join("main.ftl");
    if target.exists() {
        bail!("{} already exists", target.display());
    }
    let source_path = root.join("locales").join("en").join("main.ftl");
    let source = fs::read_to_string(&source_path)
        .with_context(|| format!("reading {}", source_path.display()))?;
    let english = parse(&source_path, &source)?;
    let mut out = format!(
        "# The site's words in {tag}. Translate each message below its English text, then remove\n\
         # the \"# \" in front of it. `microblog translate check` lists what is left.\n"
    );
    for entry in english.body {
        match entry {
            Entry::Message(mut message) => {
                out.push('\n');
                // The note for translators stays a note; the message is commented out.
                if let Some(comment) = message.comment.take() {
                    for line in comment.content {
                        out.push_str("# ");
                        out.push_str(line);
                        out.push('\n');
                    }
                }
                let one = Resource {
                    body: vec![Entry::Message(message)],
                };
                let text = fluent_syntax::serializer::serialize(&one);
                for line in text.lines() {
                    out.push_str("# ");
                    out.push_str(line);
                    out.push('\n');
                }
            }
            Entry::GroupComment(comment) => {
                out.push('\n');
                for line in comment.content {
                    out.push_str("## ");
                    out.push_str(line);
                    out.push('\n');
                }
            }
            _ => {}
        }
    }
    fs::create_dir_all(&folder).with_context(|| format!("creating {}", folder.display()))?;
    fs::write(&target, out).with_context(|| format!("writing {}", target.display()))?;
    Ok(target)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The tree as it is: every message translated, every id defined. A string cannot ship
    /// untranslated.
    #[test]
    fn every_message_of_the_project_is_translated() {
        let report = check(Path::new(env!("CARGO_MANIFEST_DIR"))).expect("check");
        assert!(report.is_complete(), "{report:#?}");
        assert!(
            report.unused.values().all(BTreeSet::is_empty),
            "{report:#?}"
        );
        assert!(report.unreferenced.is_empty(), "{report:#?}");
    }

    /// A language started with `init` is reported missing every message, and a message
    /// translated in it is no longer missing.
    #[test]
    fn init_starts_a_language_that_check_reports_until_translated() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        fs::create_dir_all(root.join("locales/en")).unwrap();
        fs::create_dir_all(root.join("templates")).unwrap();
        fs::create_dir_all(root.join("src")).unwrap();
        fs::write(
            root.join("locales/en/main.ftl"),
            "## Pages\n\nnav-home = Home\n# Before a number.\nuser-followers =\n    { $count ->\n        [one] follower\n       *[other] followers\n    }\n",
        )
        .unwrap();
        fs::write(
            root.join("templates/base.html"),
            r#"<a>{{ "nav-home" | t }}</a> {{ "user-followers" | t(count=2) }} {{ "nav-gone" | t }}"#,
        )
        .unwrap();
        fs::write(root.join("src/lib.rs"), "").unwrap();

        let path = init(root, "fr").expect("init");
        let written = fs::read_to_string(&path).unwrap();
        assert!(written.contains("# nav-home = Home"), "{written}");
        assert!(
            written.contains("\n# Before a number.\n# user-followers ="),
            "{written}"
        );
        assert!(written.contains("#        *[other] followers"), "{written}");
        assert!(init(root, "fr").is_err(), "init does not overwrite");

        let report = check(root).expect("check");
        assert_eq!(report.missing["fr"].len(), 2);
        assert_eq!(
            report.undefined.iter().collect::<Vec<_>>(),
            vec!["nav-gone"]
        );
        assert!(!report.is_complete());

        // An id twice in one file would stop the app from starting: check says so.
        let twice = root.join("locales/de/main.ftl");
        fs::create_dir_all(twice.parent().unwrap()).unwrap();
        fs::write(&twice, "nav-home = Start\nnav-home = Anfang\n").unwrap();
        let error = check(root).expect_err("a repeated id").to_string();
        assert!(error.contains("defines nav-home twice"), "{error}");
        fs::remove_file(&twice).unwrap();

        let translated = written.replace("# nav-home = Home", "nav-home = Accueil");
        fs::write(&path, translated).unwrap();
        let report = check(root).expect("check");
        assert_eq!(
            report.missing["fr"].iter().collect::<Vec<_>>(),
            vec!["user-followers"]
        );
    }
}
