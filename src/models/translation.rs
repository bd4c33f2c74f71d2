//! The translation service's budget (chapter 14's Translate link, made safe to leave open): the
//! translations it made, so a text asked for twice is paid for once, and the characters sent to
//! it each day, by user and for the whole site, for the daily caps. In the database, so several
//! instances of the site share one cache and one budget.

use chrono::{NaiveDate, NaiveDateTime, TimeDelta};
use diesel::prelude::*;
use sha2::{Digest, Sha256};

use crate::db::{DbConn, on_backend};
use crate::schema::{translation_usage, translations};

/// The `user_id` of the whole site's count.
const SITE: i32 = 0;
/// How long a translation is kept for the next reader who asks.
pub const KEEP_TRANSLATION: TimeDelta = TimeDelta::days(30);

/// What identifies a translation in the cache: the SHA-256 of the source language (empty:
/// unknown), the destination and the text.
pub fn cache_key(text: &str, source: &str, dest: &str) -> String {
    let mut hasher = Sha256::new();
    for part in [source, dest, text] {
        hasher.update(part.as_bytes());
        // A separator no language code holds, so ("ab", "c") and ("a", "bc") differ.
        hasher.update([0]);
    }
    hex::encode(hasher.finalize())
}

/// The translation made earlier for `key_hash` (the text and its two languages, hashed), if any.
pub fn cached(conn: &mut DbConn, key_hash: &str) -> QueryResult<Option<String>> {
    translations::table
        .find(key_hash)
        .select(translations::translated)
        .first(conn)
        .optional()
}

/// Forgets the translations kept under these keys (of posts being deleted).
pub fn forget(conn: &mut DbConn, keys: &[String]) -> QueryResult<usize> {
    let mut deleted = 0;
    // A few hundred at a time: both databases cap the values one statement may bind.
    for chunk in keys.chunks(500) {
        deleted += diesel::delete(translations::table.filter(translations::key_hash.eq_any(chunk)))
            .execute(conn)?;
    }
    Ok(deleted)
}

/// Keeps a translation the service made. Two readers asking at once both store it: the second
/// changes nothing.
pub fn store(
    conn: &mut DbConn,
    key_hash: &str,
    translated: &str,
    now: NaiveDateTime,
) -> QueryResult<()> {
    on_backend!(conn, c => diesel::insert_into(translations::table)
        .values((
            translations::key_hash.eq(key_hash),
            translations::translated.eq(translated),
            translations::created_at.eq(now),
        ))
        .on_conflict_do_nothing()
        .execute(c))?;
    Ok(())
}

/// What a request for `characters` more of today's budget came to.
#[derive(Debug, PartialEq, Eq)]
pub enum Spent {
    /// Counted: the service may be called.
    Granted,
    /// The user has had their `user_cap` characters today.
    UserCap,
    /// The whole site has had its `site_cap` characters today.
    SiteCap,
}

/// Counts `characters` for `user` and for the site on `day`, unless that would take either
/// past its cap, in one transaction.
pub fn spend(
    conn: &mut DbConn,
    user: i32,
    characters: i64,
    day: NaiveDate,
    user_cap: i64,
    site_cap: i64,
) -> QueryResult<Spent> {
    conn.transaction(|conn| {
        // The site's row is written first (adding nothing): on SQLite the transaction then holds
        // the write lock, and on PostgreSQL the row's lock, so requests spending at the same
        // moment take turns and the caps hold.
        add(conn, SITE, 0, day)?;
        if used(conn, SITE, day)? + characters > site_cap {
            return Ok(Spent::SiteCap);
        }
        if used(conn, user, day)? + characters > user_cap {
            return Ok(Spent::UserCap);
        }
        add(conn, SITE, characters, day)?;
        add(conn, user, characters, day)?;
        Ok(Spent::Granted)
    })
}

/// Gives back `characters` spent for a translation the service did not make (it failed, or
/// was too slow): an outage must not use up the day's budgets.
pub fn refund(conn: &mut DbConn, user: i32, characters: i64, day: NaiveDate) -> QueryResult<()> {
    conn.transaction(|conn| {
        add(conn, SITE, -characters, day)?;
        add(conn, user, -characters, day)
    })
}

/// Adds `characters` (less than nothing, for a refund) to `user`'s count of `day`.
fn add(conn: &mut DbConn, user: i32, characters: i64, day: NaiveDate) -> QueryResult<()> {
    on_backend!(conn, c => diesel::insert_into(translation_usage::table)
        .values((
            translation_usage::day.eq(day),
            translation_usage::user_id.eq(user),
            translation_usage::characters.eq(characters),
        ))
        .on_conflict((translation_usage::day, translation_usage::user_id))
        .do_update()
        .set(translation_usage::characters.eq(translation_usage::characters + characters))
        .execute(c))?;
    Ok(())
}

/// `user`'s count of `day`.
fn used(conn: &mut DbConn, user: i32, day: NaiveDate) -> QueryResult<i64> {
    translation_usage::table
        .find((day, user))
        .select(translation_usage::characters)
        .first(conn)
        .optional()
        .map(Option::unwrap_or_default)
}

/// Deletes the counts of days before `today` and the translations past their
/// [`KEEP_TRANSLATION`] (the housekeeping, once a minute).
pub fn delete_old(conn: &mut DbConn, now: NaiveDateTime) -> QueryResult<usize> {
    let counts =
        diesel::delete(translation_usage::table.filter(translation_usage::day.lt(now.date())))
            .execute(conn)?;
    let kept = diesel::delete(
        translations::table.filter(translations::created_at.lt(now - KEEP_TRANSLATION)),
    )
    .execute(conn)?;
    Ok(counts + kept)
}
