//! Flask: `User.get_token` and `User.revoke_token` (chapter 23): the API's
//! tokens. The client holds a random token; the row holds its SHA-256 (`tokens::token_hash`),
//! so a copy of this table gives no working token. A user may hold several, one per client,
//! each revoked on its own; a token past its hour is refused at once (`user::check_token`) and
//! deleted later.

use chrono::{NaiveDateTime, TimeDelta};
use diesel::prelude::*;

use crate::db::DbConn;
use crate::schema::api_tokens;

/// How long a token works (Flask: `get_token(expires_in=3600)`).
pub const LIFETIME: TimeDelta = TimeDelta::hours(1);

/// The most tokens a user holds at once: a new one past this ends their oldest.
pub const MAX_PER_USER: i64 = 50;

/// Stores a new token for `user_id` that works until `now + LIFETIME`. The user's oldest
/// tokens beyond [`MAX_PER_USER`] end in the same transaction.
pub fn create(
    conn: &mut DbConn,
    user_id: i32,
    token_hash: &str,
    now: NaiveDateTime,
) -> QueryResult<()> {
    conn.transaction(|conn| {
        // The insert comes first: a SQLite transaction that starts by writing holds the write
        // lock from its first statement, so it never fails to upgrade a read lock.
        diesel::insert_into(api_tokens::table)
            .values((
                api_tokens::token_hash.eq(token_hash),
                api_tokens::user_id.eq(user_id),
                api_tokens::created_at.eq(now),
                api_tokens::expires_at.eq(now + LIFETIME),
            ))
            .execute(conn)?;
        let newest = api_tokens::table
            .filter(api_tokens::user_id.eq(user_id))
            .order(api_tokens::id.desc())
            .limit(MAX_PER_USER)
            .select(api_tokens::id);
        let kept: Vec<i32> = newest.load(conn)?;
        diesel::delete(
            api_tokens::table
                .filter(api_tokens::user_id.eq(user_id))
                .filter(api_tokens::id.ne_all(kept)),
        )
        .execute(conn)?;
        Ok(())
    })
}

/// Flask: `User.revoke_token`: this token stops working at once.
pub fn revoke(conn: &mut DbConn, token_hash: &str) -> QueryResult<usize> {
    diesel::delete(api_tokens::table.filter(api_tokens::token_hash.eq(token_hash))).execute(conn)
}

/// Every token of the user (their password changed).
pub fn delete_all_for_user(conn: &mut DbConn, user_id: i32) -> QueryResult<usize> {
    diesel::delete(api_tokens::table.filter(api_tokens::user_id.eq(user_id))).execute(conn)
}

/// Tokens past their hour (the background tasks, once a minute).
pub fn delete_expired(conn: &mut DbConn, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::delete(api_tokens::table.filter(api_tokens::expires_at.le(now))).execute(conn)
}
