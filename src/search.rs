//! Flask: `app/search.py` and the `SearchableMixin` of `app/models.py` (chapter 16), without
//! Elasticsearch: the database is the search engine, and keeps the index itself, so there is no
//! `add_to_index` to forget and nothing to run beside the app. PostgreSQL's text search
//! (`posts.search`) is a generated column, written with each post. SQLite's FTS5
//! (`posts_search`) is written in batches: the posts above `posts_search_mark.indexed_through`
//! wait for it, and [`catch_up`] adds them before every search and once a second (the
//! migrations `*_search` and `*_search_in_batches`), so a search finds every post published
//! before it and publishing costs no index write.
//!
//! What a user types is never handed to the engine as a query language: [`Query::parse`] keeps
//! only words and quoted phrases, and each is passed as a quoted literal.
//!
//! Results: every word must match. Among the [`WINDOW`] newest matching posts, the best
//! matches come first: relevance (BM25 without its word weights on SQLite, from the marks,
//! [`scored_by_marks`]; `ts_rank` on PostgreSQL) weighted by how new
//! the post is within that window, from 1.5 for the newest down to 0.5 ([`rank`]). Past the
//! window, the older matches follow newest first. So a common word answers in the time of 500
//! rows, not of every post that holds it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection as _;
use diesel::prelude::*;
use diesel::sql_types::{Array, Bool, Double, Integer, Text};

use crate::db::{DbConn, on_backend};
use crate::i18n::Message;
use crate::models::post::{self, PostWithAuthor};
use crate::render::push_escaped;
use crate::schema::posts;

/// The newest matches that are ranked by relevance.
pub const WINDOW: i64 = 500;
/// The longest query, in characters.
pub const MAX_CHARS: usize = 500;
/// The most words and phrases a query may hold.
pub const MAX_TERMS: usize = 16;

/// Marks put around matched words by the engine, turned into `<mark>` by [`highlight_html`].
/// Control characters: they cannot come from a search box.
const START: char = '\u{1}';
const STOP: char = '\u{2}';

/// A search as the engines are given it: words and phrases, each of letters and digits only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    /// Each is one word, or several for a quoted phrase.
    terms: Vec<Vec<String>>,
}

impl Query {
    /// What someone typed: words, and `"quoted phrases"`. Everything that is not a letter or a
    /// digit separates words (as both engines' tokenizers do), so `*`, `-`, `^`, `(`, `:`, a lone
    /// `"` and the like are never operators; `AND`, `OR`, `NOT` and `NEAR` are words.
    pub fn parse(typed: &str) -> Result<Self, Message> {
        if typed.chars().count() > MAX_CHARS {
            return Err(Message::new("search-too-long").with("max", MAX_CHARS as i64));
        }
        let words = |text: &str| -> Vec<String> {
            text.split(|c: char| !c.is_alphanumeric())
                .filter(|w| !w.is_empty())
                .map(str::to_lowercase)
                .collect()
        };
        let mut terms = Vec::new();
        // Between quotes (odd pieces) is a phrase; an unclosed quote runs to the end.
        for (i, piece) in typed.split('"').enumerate() {
            if i % 2 == 1 {
                let phrase = words(piece);
                if !phrase.is_empty() {
                    terms.push(phrase);
                }
            } else {
                terms.extend(words(piece).into_iter().map(|w| vec![w]));
            }
        }
        let mut seen = std::collections::HashSet::new();
        terms.retain(|t| seen.insert(t.clone()));
        if terms.len() > MAX_TERMS {
            return Err(Message::new("search-too-many-words").with("max", MAX_TERMS as i64));
        }
        Ok(Self { terms })
    }

    /// Whether nothing is left to look for (`"***"`).
    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// The query in both engines' syntax: each term a double-quoted string (FTS5 strings;
    /// phrases for `websearch_to_tsquery`), joined by spaces, which both read as AND.
    fn quoted(&self) -> String {
        self.terms
            .iter()
            .map(|t| format!("\"{}\"", t.join(" ")))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

#[derive(QueryableByName)]
struct Id {
    #[diesel(sql_type = Integer)]
    id: i32,
}

/// A match of the window, with its relevance (higher is better).
#[derive(QueryableByName)]
struct Scored {
    #[diesel(sql_type = Integer)]
    id: i32,
    #[diesel(sql_type = Double)]
    relevance: f64,
}

/// BM25's weight of how often the words occur, and of how long the post is against the
/// window's average (the usual constants, as FTS5's `bm25()` uses).
const K1: f64 = 1.2;
const B: f64 = 0.75;

/// SQLite's window, ranked from its marks: each post's relevance is BM25 without the inverse
/// document frequency, from the number of marked matches and the post's length in words.
/// `bm25()` itself would count, for every query, each of the posts that hold each word (144,000
/// for a common word at a million posts, about 2.5 ms a word). The price: in a query of
/// several words, a rare word counts no more than a common one. The marked bodies are read one
/// by one and not kept: only the page's are needed, and [`find`] asks for those.
fn scored_by_marks(window: impl Iterator<Item = QueryResult<Marked>>) -> QueryResult<Vec<Scored>> {
    let mut counted = Vec::with_capacity(WINDOW as usize);
    for marked in window {
        let Marked { id, marked } = marked?;
        let hits = marked.matches(START).count() as f64;
        let length = marked
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .count()
            .max(1) as f64;
        counted.push((id, hits, length));
    }
    let average = counted.iter().map(|c| c.2).sum::<f64>() / counted.len().max(1) as f64;
    Ok(counted
        .into_iter()
        .map(|(id, hits, length)| Scored {
            id,
            relevance: hits * (K1 + 1.0) / (hits + K1 * (1.0 - B + B * length / average)),
        })
        .collect())
}

#[derive(QueryableByName)]
struct Marked {
    #[diesel(sql_type = Integer)]
    id: i32,
    #[diesel(sql_type = Text)]
    marked: String,
}

/// A post found, with its body marked where it matched.
#[derive(Debug)]
pub struct Found {
    pub post: PostWithAuthor,
    /// The body, HTML-escaped, the matched words in `<mark>`.
    pub highlighted: String,
}

/// The ranked windows of recent searches, kept in this instance's memory: ranking a common
/// word's window reads 500 posts (most of a search's time), and a popular word is searched by
/// many at once. A window is used again only while no post newer than it has been published
/// and for at most [`Windows::KEEP`]; a post deleted meanwhile is missing from the page (its row
/// is read afresh), never shown. Cheap to clone.
#[derive(Clone, Default)]
pub struct Windows {
    kept: Arc<Mutex<HashMap<String, Window>>>,
}

struct Window {
    /// The newest post id when the window was ranked.
    newest: i32,
    at: Instant,
    ranked: Arc<[i32]>,
}

impl Windows {
    /// How long a window is used at most.
    pub const KEEP: Duration = Duration::from_secs(10);
    /// Windows kept at once; past it, the old ones are forgotten.
    const MOST: usize = 1_000;

    fn get(&self, text: &str, newest: i32) -> Option<Arc<[i32]>> {
        let kept = self.kept.lock().unwrap_or_else(PoisonError::into_inner);
        kept.get(text)
            .filter(|w| w.newest == newest && w.at.elapsed() < Self::KEEP)
            .map(|w| w.ranked.clone())
    }

    fn put(&self, text: String, newest: i32, ranked: Arc<[i32]>) {
        let mut kept = self.kept.lock().unwrap_or_else(PoisonError::into_inner);
        if kept.len() >= Self::MOST {
            kept.retain(|_, w| w.at.elapsed() < Self::KEEP);
        }
        let at = Instant::now();
        kept.insert(text, Window { newest, at, ranked });
    }
}

/// Up to `limit` matches of `query` from `offset` on, best first (see the module's comment);
/// the window ranked by an earlier search is used again from `windows` when it still holds.
pub fn find(
    conn: &mut DbConn,
    windows: &Windows,
    query: &Query,
    limit: i64,
    offset: i64,
) -> QueryResult<Vec<Found>> {
    if query.is_empty() {
        return Ok(Vec::new());
    }
    // A search that cannot add the newest posts (another process holding the write lock for
    // seconds) still answers, from the index as it is.
    if let Err(e) = catch_up(conn) {
        tracing::warn!(error = %e, "could not add new posts to the search index");
    }
    let text = query.quoted();
    let newest = post::newest_id(conn)?;
    let ranked = match windows.get(&text, newest) {
        Some(ranked) => ranked,
        None => {
            let ranked: Arc<[i32]> = rank(on_backend!(conn, c => c.sql_window(&text))?).into();
            windows.put(text.clone(), newest, ranked.clone());
            ranked
        }
    };
    let mut ids: Vec<i32> = ranked
        .iter()
        .skip(usize::try_from(offset).unwrap_or(usize::MAX))
        .take(usize::try_from(limit).unwrap_or(0))
        .copied()
        .collect();
    let wanted = usize::try_from(limit).unwrap_or(0);
    if ranked.len() as i64 == WINDOW
        && ids.len() < wanted
        && let Some(&oldest) = ranked.iter().min()
    {
        let skip = (offset - WINDOW).max(0);
        let more = wanted - ids.len();
        ids.extend(older(conn, &text, oldest, more as i64, skip)?);
    }
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let marked = marks(conn, &text, &ids)?;
    let rows = post::with_authors(conn, &ids)?;
    let mut found: Vec<Found> = rows
        .into_iter()
        .map(|post| {
            let highlighted = marked
                .iter()
                .find(|m| m.id == post.id)
                .map_or_else(|| highlight_html(&post.body), |m| highlight_html(&m.marked));
            Found { post, highlighted }
        })
        .collect();
    found.sort_by_key(|f| ids.iter().position(|&id| id == f.post.id));
    Ok(found)
}

/// The window's ids, best first: each match's relevance times its weight, 1.5 for the newest
/// down to 0.5 for the oldest of a full window (`window` comes newest first).
fn rank(window: Vec<Scored>) -> Vec<i32> {
    let mut weighed: Vec<(f64, i32)> = window
        .into_iter()
        .enumerate()
        .map(|(i, m)| (m.relevance * (1.5 - (i + 1) as f64 / WINDOW as f64), m.id))
        .collect();
    weighed.sort_by(|a, b| b.0.total_cmp(&a.0).then(b.1.cmp(&a.1)));
    weighed.into_iter().map(|(_, id)| id).collect()
}

/// SQLite: adds the posts published since the last call to the index, in one transaction (see
/// the module's comment); says how many. PostgreSQL's index is always up to date. Writes only
/// the index, so a page that must only read may call it.
pub fn catch_up(conn: &mut DbConn) -> QueryResult<usize> {
    #[derive(QueryableByName)]
    struct Behind {
        #[diesel(sql_type = Bool)]
        behind: bool,
    }
    let DbConn::Sqlite(c) = conn else {
        return Ok(0);
    };
    let Behind { behind } = diesel::sql_query(
        "SELECT (SELECT coalesce(max(id), 0) FROM posts) > indexed_through AS behind
         FROM posts_search_mark",
    )
    .get_result(c)?;
    if !behind {
        return Ok(0);
    }
    // The write lock first: the posts are read and the mark moved with no writer in between,
    // and another instance that got here first leaves nothing to do.
    c.immediate_transaction(|c| {
        let added = diesel::sql_query(
            "INSERT INTO posts_search (rowid, body)
             SELECT id, body FROM posts WHERE id > (SELECT indexed_through FROM posts_search_mark)",
        )
        .execute(c)?;
        mark_all_indexed(c)?;
        Ok(added)
    })
}

/// Every post there is now is in SQLite's index.
fn mark_all_indexed(c: &mut diesel::SqliteConnection) -> QueryResult<usize> {
    diesel::sql_query(
        "UPDATE posts_search_mark
         SET indexed_through = max(indexed_through, (SELECT coalesce(max(id), 0) FROM posts))",
    )
    .execute(c)
}

/// The three queries, in each backend's SQL.
trait Engine {
    /// The newest [`WINDOW`] matches, newest first, with their relevance.
    fn sql_window(&mut self, text: &str) -> QueryResult<Vec<Scored>>;
    fn sql_older(&mut self, text: &str, before: i32, limit: i64, skip: i64)
    -> QueryResult<Vec<Id>>;
    fn sql_marks(&mut self, text: &str, ids: &[i32]) -> QueryResult<Vec<Marked>>;
}

impl Engine for diesel::SqliteConnection {
    fn sql_window(&mut self, text: &str) -> QueryResult<Vec<Scored>> {
        let window = diesel::sql_query(
            "SELECT rowid AS id, highlight(posts_search, 0, char(1), char(2)) AS marked
             FROM posts_search WHERE posts_search MATCH ?1 ORDER BY rowid DESC LIMIT ?2",
        )
        .bind::<Text, _>(text)
        .bind::<diesel::sql_types::BigInt, _>(WINDOW)
        .load_iter::<Marked, diesel::connection::DefaultLoadingMode>(self)?;
        scored_by_marks(window)
    }

    fn sql_older(
        &mut self,
        text: &str,
        before: i32,
        limit: i64,
        skip: i64,
    ) -> QueryResult<Vec<Id>> {
        diesel::sql_query(
            "SELECT rowid AS id FROM posts_search WHERE posts_search MATCH ?1 AND rowid < ?2
             ORDER BY rowid DESC LIMIT ?3 OFFSET ?4",
        )
        .bind::<Text, _>(text)
        .bind::<Integer, _>(before)
        .bind::<diesel::sql_types::BigInt, _>(limit)
        .bind::<diesel::sql_types::BigInt, _>(skip)
        .load(self)
    }

    fn sql_marks(&mut self, text: &str, ids: &[i32]) -> QueryResult<Vec<Marked>> {
        // FTS5 reads the matches between the lowest and the highest id only; the `+` keeps it
        // from taking `IN` as its own constraint, for which it would read every match. Read
        // newest first, it starts from the end of the word's list, where a page of the window
        // lies: 3 to 7 times faster for a common word than from the lowest id up
        // (docs/performance.md).
        let (low, high) = (ids.iter().min(), ids.iter().max());
        let ids = serde_json::to_string(ids).unwrap_or_else(|_| "[]".to_owned());
        diesel::sql_query(
            "SELECT rowid AS id, highlight(posts_search, 0, char(1), char(2)) AS marked
             FROM posts_search
             WHERE posts_search MATCH ?1 AND rowid BETWEEN ?2 AND ?3
                 AND +rowid IN (SELECT value FROM json_each(?4))
             ORDER BY rowid DESC",
        )
        .bind::<Text, _>(text)
        .bind::<Integer, _>(low.copied().unwrap_or(0))
        .bind::<Integer, _>(high.copied().unwrap_or(0))
        .bind::<Text, _>(ids)
        .load(self)
    }
}

/// The query of a search on PostgreSQL: the words without accents, as the column holds them.
/// Written in each WHERE clause, not as a function in FROM, so that the planner folds it to a
/// constant and estimates from the column's statistics.
const PG_QUERY: &str = "websearch_to_tsquery('english'::regconfig, microblog_unaccent($1))";

impl Engine for diesel::PgConnection {
    /// The window is found one of two ways, as the word is common or not. PostgreSQL's planner
    /// cannot tell: a word missing from its statistics (a rare one, or a new one) is guessed to
    /// be in 0.5% of the posts, and it would then read every post newest first looking for it
    /// (0.8 s at a million posts). So the newest posts are read first, at most 10 windows' worth:
    /// a common word fills the window there. If it does not, the GIN index alone gives every
    /// match, and the newest of them are kept.
    fn sql_window(&mut self, text: &str) -> QueryResult<Vec<Scored>> {
        let mut window: Vec<Id> = diesel::sql_query(format!(
            "SELECT id FROM (SELECT id, search FROM posts ORDER BY id DESC LIMIT $3) AS recent
             WHERE search @@ {PG_QUERY} ORDER BY id DESC LIMIT $2"
        ))
        .bind::<Text, _>(text)
        .bind::<diesel::sql_types::BigInt, _>(WINDOW)
        .bind::<diesel::sql_types::BigInt, _>(10 * WINDOW)
        .load(self)?;
        if (window.len() as i64) < WINDOW {
            window = self.transaction(|c| {
                // Only the GIN index may be used: it finds a rare word's few posts at once.
                c.batch_execute(
                    "SET LOCAL enable_seqscan = off; SET LOCAL enable_indexscan = off",
                )?;
                diesel::sql_query(format!(
                    "SELECT id FROM posts WHERE search @@ {PG_QUERY} ORDER BY id DESC LIMIT $2"
                ))
                .bind::<Text, _>(text)
                .bind::<diesel::sql_types::BigInt, _>(WINDOW)
                .load(c)
            })?;
        }
        let ids: Vec<i32> = window.into_iter().map(|r| r.id).collect();
        diesel::sql_query(format!(
            "SELECT p.id, ts_rank(p.search, {PG_QUERY})::float8 AS relevance
             FROM posts p WHERE p.id = ANY($2) ORDER BY p.id DESC"
        ))
        .bind::<Text, _>(text)
        .bind::<Array<Integer>, _>(ids)
        .load(self)
    }

    fn sql_older(
        &mut self,
        text: &str,
        before: i32,
        limit: i64,
        skip: i64,
    ) -> QueryResult<Vec<Id>> {
        diesel::sql_query(format!(
            "SELECT p.id FROM posts p WHERE p.search @@ {PG_QUERY} AND p.id < $2
             ORDER BY p.id DESC LIMIT $3 OFFSET $4"
        ))
        .bind::<Text, _>(text)
        .bind::<Integer, _>(before)
        .bind::<diesel::sql_types::BigInt, _>(limit)
        .bind::<diesel::sql_types::BigInt, _>(skip)
        .load(self)
    }

    fn sql_marks(&mut self, text: &str, ids: &[i32]) -> QueryResult<Vec<Marked>> {
        // ts_headline reads the text as written: the words as typed are marked too, so "café"
        // is marked for "café" (a search for "cafe" finds it but leaves it unmarked).
        diesel::sql_query(format!(
            "SELECT p.id, ts_headline('english'::regconfig, p.body,
                 {PG_QUERY} || websearch_to_tsquery('english'::regconfig, $1),
                 'HighlightAll=true, StartSel=' || chr(1) || ', StopSel=' || chr(2)) AS marked
             FROM posts p WHERE p.id = ANY($2)"
        ))
        .bind::<Text, _>(text)
        .bind::<Array<Integer>, _>(ids)
        .load(self)
    }
}

fn older(
    conn: &mut DbConn,
    text: &str,
    before: i32,
    limit: i64,
    skip: i64,
) -> QueryResult<Vec<i32>> {
    let rows = on_backend!(conn, c => c.sql_older(text, before, limit, skip))?;
    Ok(rows.into_iter().map(|r| r.id).collect())
}

fn marks(conn: &mut DbConn, text: &str, ids: &[i32]) -> QueryResult<Vec<Marked>> {
    on_backend!(conn, c => c.sql_marks(text, ids))
}

/// `marked` HTML-escaped, with the engine's marks as `<mark>`...`</mark>`. A mark left open is
/// closed, a stray closing one dropped.
pub fn highlight_html(marked: &str) -> String {
    let mut html = String::with_capacity(marked.len() + 32);
    let mut open = false;
    for c in marked.chars() {
        match c {
            START if !open => {
                html.push_str("<mark>");
                open = true;
            }
            STOP if open => {
                html.push_str("</mark>");
                open = false;
            }
            START | STOP => {}
            c => push_escaped(&mut html, c),
        }
    }
    if open {
        html.push_str("</mark>");
    }
    html
}

/// `microblog search reindex`: the index made again from the posts, `progress` told of each
/// batch. On SQLite the FTS5 index is emptied and filled in one transaction; on PostgreSQL each
/// post's column is computed again.
pub fn reindex(conn: &mut DbConn, progress: impl Fn(u64)) -> QueryResult<()> {
    const BATCH: i64 = 10_000;
    match conn {
        // The ids are read inside the transaction, which holds the write lock: a post published
        // meanwhile waits, and is indexed by the next catch-up.
        DbConn::Sqlite(c) => c.immediate_transaction(|c| {
            let ids: Vec<i32> = posts::table.select(posts::id).order(posts::id).load(c)?;
            diesel::sql_query("INSERT INTO posts_search (posts_search) VALUES ('delete-all')")
                .execute(c)?;
            for chunk in ids.chunks(BATCH as usize) {
                let (first, last) = (chunk[0], chunk[chunk.len() - 1]);
                diesel::sql_query(
                    "INSERT INTO posts_search (rowid, body)
                     SELECT id, body FROM posts WHERE id BETWEEN ?1 AND ?2",
                )
                .bind::<Integer, _>(first)
                .bind::<Integer, _>(last)
                .execute(c)?;
                progress(chunk.len() as u64);
            }
            mark_all_indexed(c)?;
            diesel::sql_query("INSERT INTO posts_search (posts_search) VALUES ('optimize')")
                .execute(c)?;
            Ok(())
        }),
        DbConn::Postgresql(c) => {
            let ids: Vec<i32> = posts::table.select(posts::id).order(posts::id).load(c)?;
            for chunk in ids.chunks(BATCH as usize) {
                let (first, last) = (chunk[0], chunk[chunk.len() - 1]);
                // Writing a post computes its generated column again.
                diesel::sql_query("UPDATE posts SET body = body WHERE id BETWEEN $1 AND $2")
                    .bind::<Integer, _>(first)
                    .bind::<Integer, _>(last)
                    .execute(c)?;
                progress(chunk.len() as u64);
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(typed: &str) -> String {
        Query::parse(typed).unwrap().quoted()
    }

    #[test]
    fn a_kept_window_is_used_only_while_no_newer_post_is_published() {
        let windows = Windows::default();
        assert!(windows.get("\"park\"", 7).is_none());
        windows.put("\"park\"".to_owned(), 7, Arc::from([5, 3]));
        assert_eq!(windows.get("\"park\"", 7).as_deref(), Some(&[5, 3][..]));
        assert!(windows.get("\"park\"", 8).is_none());
        assert!(windows.get("\"dog\"", 7).is_none());
    }

    #[test]
    fn queries_keep_only_words_and_phrases() {
        assert_eq!(terms("Hello World"), r#""hello" "world""#);
        assert_eq!(
            terms(r#"say "hello world" now"#),
            r#""say" "hello world" "now""#
        );
        assert_eq!(terms(r#"a lone " quote"#), r#""a" "lone" "quote""#);
        assert_eq!(
            terms("NEAR(a b) AND -c OR ^d* NOT e:f"),
            r#""near" "a" "b" "and" "c" "or" "d" "not" "e" "f""#
        );
        assert_eq!(terms("café don't"), r#""café" "don" "t""#);
        assert!(Query::parse("*** ( ) \"\"").unwrap().is_empty());
        assert!(Query::parse(&"a".repeat(MAX_CHARS + 1)).is_err());
        let many: Vec<String> = (0..=MAX_TERMS).map(|i| format!("w{i}")).collect();
        assert!(Query::parse(&many.join(" ")).is_err());
        assert_eq!(terms("again again AGAIN"), r#""again""#);
    }

    #[test]
    fn more_matches_and_fewer_words_rank_higher() {
        let window = [
            "\u{1}soup\u{2} soup",
            "\u{1}soup\u{2} and \u{1}soup\u{2}",
            "a \u{1}soup\u{2} of many other words",
        ]
        .iter()
        .enumerate()
        .map(|(i, marked)| Marked {
            id: i as i32 + 1,
            marked: (*marked).to_owned(),
        })
        .collect::<Vec<_>>();
        let scored = scored_by_marks(window.into_iter().map(Ok)).unwrap();
        assert!(
            scored[1].relevance > scored[0].relevance,
            "two matches beat one"
        );
        assert!(
            scored[0].relevance > scored[2].relevance,
            "a shorter post beats a longer one"
        );
    }

    #[test]
    fn highlights_are_escaped_and_balanced() {
        assert_eq!(
            highlight_html("a \u{1}<b>\u{2} & \u{1}c"),
            "a <mark>&lt;b&gt;</mark> &amp; <mark>c</mark>"
        );
        assert_eq!(highlight_html("\u{2}x\u{1}\u{1}y\u{2}"), "x<mark>y</mark>");
    }
}
