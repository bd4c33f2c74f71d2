//! What a page shows against what a command printed, in trycmd's notation: `[..]` in a line is
//! any text, a line `...` is any number of lines. A placeholder such as `<token>` in the output
//! is a value a later command of the page types (`Bearer <token>`): it matches a word (no
//! spaces) and is kept under its name; once known, it matches only that value.
//!
//! The headers of an HTTP answer (the lines after `HTTP/1.1 ...` up to the blank line) match
//! in any order, since HTTP gives them none and the app sends them in a new order each time;
//! a `...` among them stands for the headers the page leaves out.

use std::collections::{BTreeMap, BTreeSet};

/// The values the page's placeholders stand for, by name.
pub type Values = BTreeMap<String, String>;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Text(char),
    Any,
    Value(String),
}

/// A line of the page as pieces. `<name>` is a placeholder when `name` is one of `names` (the
/// placeholders the page's commands use); otherwise it is text, as in `<h1>`.
fn pieces(line: &str, names: &BTreeSet<String>) -> Vec<Piece> {
    let mut out = Vec::new();
    let mut rest = line;
    while let Some(c) = rest.chars().next() {
        if let Some(after) = rest.strip_prefix("[..]") {
            out.push(Piece::Any);
            rest = after;
            continue;
        }
        if c == '<'
            && let Some(close) = rest.find('>')
            && names.contains(&rest[1..close])
        {
            out.push(Piece::Value(rest[1..close].to_owned()));
            rest = &rest[close + 1..];
            continue;
        }
        out.push(Piece::Text(c));
        rest = &rest[c.len_utf8()..];
    }
    out
}

fn line_matches(pattern: &[Piece], text: &[char], values: &Values) -> Option<Values> {
    let Some((first, rest)) = pattern.split_first() else {
        return text.is_empty().then(|| values.clone());
    };
    match first {
        Piece::Text(c) => {
            if text.first() == Some(c) {
                line_matches(rest, &text[1..], values)
            } else {
                None
            }
        }
        Piece::Any => (0..=text.len()).find_map(|n| line_matches(rest, &text[n..], values)),
        Piece::Value(name) => {
            if let Some(known) = values.get(name) {
                let known: Vec<char> = known.chars().collect();
                return text
                    .starts_with(&known)
                    .then(|| line_matches(rest, &text[known.len()..], values))
                    .flatten();
            }
            let word = text.iter().take_while(|c| !c.is_whitespace()).count();
            (1..=word).find_map(|n| {
                let mut more = values.clone();
                more.insert(name.clone(), text[..n].iter().collect());
                line_matches(rest, &text[n..], &more)
            })
        }
    }
}

/// Whether `actual` is what `expected` shows, and the placeholders' values if it is.
pub fn matches(
    expected: &[String],
    actual: &[String],
    names: &BTreeSet<String>,
    values: &Values,
) -> Option<Values> {
    let expected: Vec<Option<Vec<Piece>>> = expected
        .iter()
        .map(|line| (line.trim() != "...").then(|| pieces(line.trim_end(), names)))
        .collect();
    let actual: Vec<Vec<char>> = actual
        .iter()
        .map(|line| line.trim_end().chars().collect())
        .collect();
    lines_match(&expected, &actual, values)
}

fn lines_match(
    expected: &[Option<Vec<Piece>>],
    actual: &[Vec<char>],
    values: &Values,
) -> Option<Values> {
    let Some((first, rest)) = expected.split_first() else {
        return actual.is_empty().then(|| values.clone());
    };
    match first {
        None => (0..=actual.len()).find_map(|n| lines_match(rest, &actual[n..], values)),
        Some(pattern) => {
            let (line, others) = actual.split_first()?;
            let values = line_matches(pattern, line, values)?;
            if line.starts_with(&['H', 'T', 'T', 'P', '/']) {
                let wanted = rest.iter().take_while(|l| !is_blank(l)).count();
                let given = others.iter().take_while(|l| !l.is_empty()).count();
                let values = headers_match(&rest[..wanted], &others[..given], &values)?;
                return lines_match(&rest[wanted..], &others[given..], &values);
            }
            lines_match(rest, others, &values)
        }
    }
}

fn is_blank(line: &Option<Vec<Piece>>) -> bool {
    line.as_ref().is_some_and(Vec::is_empty)
}

/// The page's headers against those sent, in any order: each header shown matches one sent,
/// and every header sent is shown unless a `...` says some are left out.
fn headers_match(
    expected: &[Option<Vec<Piece>>],
    actual: &[Vec<char>],
    values: &Values,
) -> Option<Values> {
    fn pick(
        shown: &[&Vec<Piece>],
        free: &mut [bool],
        actual: &[Vec<char>],
        values: &Values,
    ) -> Option<Values> {
        let Some((first, rest)) = shown.split_first() else {
            return Some(values.clone());
        };
        for i in 0..actual.len() {
            if !free[i] {
                continue;
            }
            if let Some(more) = line_matches(first, &actual[i], values) {
                free[i] = false;
                if let Some(done) = pick(rest, free, actual, &more) {
                    return Some(done);
                }
                free[i] = true;
            }
        }
        None
    }
    let some_left_out = expected.iter().any(Option::is_none);
    let shown: Vec<&Vec<Piece>> = expected.iter().flatten().collect();
    if !some_left_out && shown.len() != actual.len() {
        return None;
    }
    pick(&shown, &mut vec![true; actual.len()], actual, values)
}

/// The placeholders a command types: `<name>`, a lower-case name.
pub fn placeholders(command: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = command;
    while let Some(open) = rest.find('<') {
        rest = &rest[open + 1..];
        let Some(close) = rest.find('>') else {
            break;
        };
        let name = &rest[..close];
        let is_name = name.chars().next().is_some_and(|c| c.is_ascii_lowercase())
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if is_name {
            out.push(name.to_owned());
            rest = &rest[close + 1..];
        }
    }
    out
}

#[cfg(test)]
fn lines(text: &str) -> Vec<String> {
    text.lines().map(str::to_owned).collect()
}

#[test]
fn any_text_any_lines_and_placeholders() {
    let none = BTreeSet::new();
    let empty = Values::new();
    let ok = |e: &str, a: &str| matches(&lines(e), &lines(a), &none, &empty).is_some();
    assert!(ok(
        "HTTP/1.1 302 Found\n...\nlocation: /x\n...",
        "HTTP/1.1 302 Found\na: 1\nlocation: /x\nb: 2"
    ));
    assert!(ok(
        "[..] INFO serving on [..]",
        "2026-12-03T09:30:00Z  INFO serving on http://x"
    ));
    assert!(ok("<h1>Ingresar</h1>", "<h1>Ingresar</h1>"));
    assert!(ok("...", ""));
    assert!(!ok("a", "a\nb"));
    assert!(!ok("a\n...\nc", "a\nb"));
    assert!(!ok("[..] ERROR", "x WARN"));
    assert!(ok(
        "HTTP/1.1 200 OK\nb: 2\na: [..]\n\nbody",
        "HTTP/1.1 200 OK\na: 1\nb: 2\n\nbody"
    ));
    assert!(ok(
        "HTTP/1.1 200 OK\n...\na: 1",
        "HTTP/1.1 200 OK\nb: 2\na: 1\nc: 3"
    ));
    assert!(!ok("HTTP/1.1 200 OK\na: 1", "HTTP/1.1 200 OK\nb: 2\na: 1"));
    assert!(!ok(
        "HTTP/1.1 200 OK\na: 1\n\nx",
        "HTTP/1.1 200 OK\na: 1\n\ny"
    ));

    let names: BTreeSet<String> = ["token".to_owned()].into();
    let found = matches(
        &lines("{\"token\":\"<token>\"}"),
        &lines("{\"token\":\"6f1e\"}"),
        &names,
        &empty,
    )
    .expect("matches");
    assert_eq!(found["token"], "6f1e");
    assert!(matches(&lines("<token>"), &lines("6f1f"), &names, &found).is_none());
    assert!(matches(&lines("<token>"), &lines("two words"), &names, &empty).is_none());
    assert_eq!(
        placeholders("curl -H 'Bearer <token>' x/<id> | grep '<h1'"),
        ["token", "id"]
    );
}
