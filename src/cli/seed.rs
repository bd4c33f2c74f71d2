//! `microblog seed`: fills the database with realistic fake users, posts and follows, so
//! pagination, timelines and (later) search can be seen with real amounts of data.
//!
//! Every seeded user has the same password (printed at the end), hashed once. Rows go in with
//! multi-row INSERTs inside large transactions: 100k users and 1M posts take a few minutes.

use std::collections::HashSet;

use anyhow::Context as _;
use chrono::Duration;
use diesel::Connection;
use indicatif::{ProgressBar, ProgressStyle};
use rand::Rng;
use rand::seq::IndexedRandom;

use crate::config::Config;
use crate::db::{Db, DbConn};
use crate::domain::PostBody;
use crate::models::{self, bulk, post, user};
use crate::password::hash_blocking;
use crate::search;

/// Rows per INSERT statement (well under SQLite's and PostgreSQL's limits on bound values).
const ROWS_PER_STATEMENT: usize = 1_000;
/// Rows per transaction.
const ROWS_PER_TRANSACTION: usize = 50_000;
/// Posts are spread over this many days before now.
const DAYS_OF_HISTORY: i64 = 365;

/// What to add.
#[derive(Debug, Clone, Copy)]
pub struct Amounts {
    pub users: usize,
    pub posts: usize,
    /// Follow relationships in all (each user follows about `follows / users` others).
    pub follows: usize,
}

const FIRST: &[&str] = &[
    "ana", "ben", "carla", "david", "elena", "farid", "grace", "hugo", "ines", "jamal", "kira",
    "leo", "maria", "nico", "olga", "pablo", "quinn", "rosa", "sam", "tara", "umar", "vera", "wei",
    "ximena", "yuki", "zoe", "susan", "john", "miguel", "amara", "bruno", "chloe",
];
const LAST: &[&str] = &[
    "smith", "garcia", "chen", "muller", "rossi", "silva", "kowalski", "nguyen", "okafor",
    "haddad", "tanaka", "dubois", "novak", "jensen", "costa", "ivanova", "patel", "kim",
];
const WORDS: &[&str] = &[
    "rust",
    "flask",
    "python",
    "coffee",
    "morning",
    "bug",
    "fixed",
    "finally",
    "learning",
    "today",
    "template",
    "database",
    "query",
    "index",
    "cookie",
    "session",
    "login",
    "deploy",
    "server",
    "weekend",
    "reading",
    "chapter",
    "tutorial",
    "students",
    "great",
    "slow",
    "fast",
    "tests",
    "green",
    "red",
    "refactor",
    "borrow",
    "checker",
    "lifetime",
    "async",
    "await",
    "pagination",
    "followers",
    "timeline",
    "avatar",
    "profile",
    "markdown",
    "the",
    "a",
    "is",
    "was",
    "my",
    "our",
    "with",
    "and",
    "why",
    "how",
    "new",
    "old",
    "again",
    "never",
    "always",
    "love",
    "hate",
    "ship",
    "it",
    "works",
    "on",
    "machine",
    "cloud",
    "sqlite",
    "postgres",
];

/// A progress bar for command-line work on `len` rows.
pub(super) fn progress_bar(len: usize, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(len as u64);
    bar.set_style(
        ProgressStyle::with_template("{msg:>8} [{bar:40}] {pos}/{len} ({per_sec}, eta {eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_message(what.to_owned());
    bar
}

fn sentence(rng: &mut impl Rng) -> String {
    let words = rng.random_range(3..=18);
    let mut text = String::new();
    for i in 0..words {
        let word = WORDS.choose(rng).copied().unwrap_or("rust");
        if i > 0 {
            text.push(' ');
        }
        text.push_str(word);
    }
    if let Some(first) = text.get(..1) {
        text = first.to_uppercase() + &text[1..];
    }
    text.push(['.', '!', '?'][rng.random_range(0..3)]);
    text.chars().take(PostBody::MAX).collect()
}

/// `microblog seed`: adds `amounts` of fake data to the database, and says what it did.
pub(super) fn run(config: &Config, amounts: Amounts, password: &str) -> anyhow::Result<()> {
    let db = Db::connect(&config.database_url)?;
    let hash = hash_blocking(password, config.bcrypt_cost)?;
    let started = std::time::Instant::now();
    let examples = seed(&db, amounts, &hash)?;
    search::catch_up(&mut *db.get()?).context("indexing the posts for search")?;
    user::add_missing_username_keys(&mut *db.get()?).context("writing the username keys")?;
    // What autovacuum would do soon after, done now: PostgreSQL plans its queries from
    // statistics (ANALYZE), and the search index's newest entries wait in a pending list that
    // every search reads until VACUUM moves them into the index.
    if let DbConn::Postgresql(conn) = &mut *db.get()? {
        use diesel::RunQueryDsl as _;
        diesel::sql_query("VACUUM ANALYZE")
            .execute(conn)
            .context("VACUUM ANALYZE")?;
    }
    println!(
        "seeded {} users, {} posts and up to {} follows in {:.1} s; every seeded user's \
         password is {password:?}",
        amounts.users,
        amounts.posts,
        amounts.follows,
        started.elapsed().as_secs_f64()
    );
    if !examples.is_empty() {
        println!(
            "log in as any of them at /auth/login, for example as {} (with the password above)",
            examples.join(" or ")
        );
    }
    Ok(())
}

/// Adds `amounts` of fake data. Every new user gets `password_hash`. Returns the names of the
/// first two new users.
fn seed(db: &Db, amounts: Amounts, password_hash: &str) -> anyhow::Result<Vec<String>> {
    let mut conn = db.get()?;
    let mut rng = rand::rng();
    let now = models::now();
    // Names carry a number unique to this run, so seeding twice adds new users.
    let run = rng.random_range(0..1_000_000u32);

    let progress = progress_bar(amounts.users, "users");
    let mut done = 0;
    let mut examples = Vec::new();
    while done < amounts.users {
        let take = ROWS_PER_TRANSACTION.min(amounts.users - done);
        let names: Vec<(String, String)> = (done..done + take)
            .map(|i| {
                let first = FIRST[i % FIRST.len()];
                let last = LAST[(i / FIRST.len()) % LAST.len()];
                let name = format!("{first}.{last}{run}x{i}");
                let email = format!("{name}@example.com");
                (name, email)
            })
            .collect();
        if examples.is_empty() {
            examples = names.iter().take(2).map(|(name, _)| name.clone()).collect();
        }
        conn.transaction(|conn| {
            for chunk in names.chunks(ROWS_PER_STATEMENT) {
                let rows: Vec<_> = chunk
                    .iter()
                    .map(|(name, email)| user::NewUser {
                        username: name,
                        email,
                        password_hash,
                        last_seen: now - Duration::minutes(rng.random_range(0..60 * 24 * 30)),
                        about_me: None,
                    })
                    .collect();
                bulk::insert_users(conn, &rows)?;
                progress.inc(chunk.len() as u64);
            }
            Ok::<_, diesel::result::Error>(())
        })
        .context("inserting users")?;
        done += take;
    }
    progress.finish();

    let ids = bulk::user_ids(&mut conn).context("listing users")?;
    anyhow::ensure!(
        !ids.is_empty() || amounts.posts == 0,
        "there are no users to write posts"
    );

    let progress = progress_bar(amounts.posts, "posts");
    let mut done = 0;
    while done < amounts.posts {
        let take = ROWS_PER_TRANSACTION.min(amounts.posts - done);
        let bodies: Vec<(String, i32, chrono::NaiveDateTime)> = (0..take)
            .map(|_| {
                let author = *ids.choose(&mut rng).unwrap_or(&ids[0]);
                let age = Duration::seconds(rng.random_range(0..DAYS_OF_HISTORY * 24 * 3600));
                (sentence(&mut rng), author, now - age)
            })
            .collect();
        conn.transaction(|conn| {
            for chunk in bodies.chunks(ROWS_PER_STATEMENT) {
                let rows: Vec<_> = chunk
                    .iter()
                    .map(|(body, user_id, timestamp)| post::NewPost {
                        body,
                        timestamp: *timestamp,
                        user_id: *user_id,
                        // The sentences are made of English words.
                        language: Some("en"),
                    })
                    .collect();
                bulk::insert_posts(conn, &rows)?;
                progress.inc(chunk.len() as u64);
            }
            Ok::<_, diesel::result::Error>(())
        })
        .context("inserting posts")?;
        done += take;
    }
    progress.finish();

    // Each follower gets distinct targets, so no pair is inserted twice in this run; pairs that
    // an earlier run made are skipped by starting from users with no follows of their own.
    let progress = progress_bar(amounts.follows, "follows");
    let per_user = amounts
        .follows
        .div_ceil(ids.len().max(1))
        .min(ids.len().saturating_sub(1));
    let mut pairs = Vec::with_capacity(ROWS_PER_TRANSACTION);
    let already_following: HashSet<i32> = bulk::follower_ids(&mut conn)
        .context("listing who follows already")?
        .into_iter()
        .collect();
    let mut made = 0;
    for &follower in &ids {
        if made >= amounts.follows || per_user == 0 {
            break;
        }
        if already_following.contains(&follower) {
            continue;
        }
        let mut chosen = HashSet::new();
        while chosen.len() < per_user.min(amounts.follows - made) {
            let followed = *ids.choose(&mut rng).unwrap_or(&follower);
            if followed != follower {
                chosen.insert(followed);
            }
        }
        made += chosen.len();
        pairs.extend(chosen.into_iter().map(|followed| (follower, followed)));
        if pairs.len() >= ROWS_PER_TRANSACTION {
            insert_follows(&mut conn, &mut pairs, &progress)?;
        }
    }
    insert_follows(&mut conn, &mut pairs, &progress)?;
    progress.finish();
    Ok(examples)
}

fn insert_follows(
    conn: &mut DbConn,
    pairs: &mut Vec<(i32, i32)>,
    progress: &ProgressBar,
) -> anyhow::Result<()> {
    conn.transaction(|conn| {
        for chunk in pairs.chunks(ROWS_PER_STATEMENT) {
            bulk::insert_follows(conn, chunk)?;
            progress.inc(chunk.len() as u64);
        }
        Ok::<_, diesel::result::Error>(())
    })
    .context("inserting follows")?;
    pairs.clear();
    Ok(())
}
