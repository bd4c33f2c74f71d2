//! Flask: the `User` model (chapters 4-6).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::schema::{followers, users};

diesel::define_sql_function!(fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text);

#[derive(Debug, Clone, Queryable, Selectable, Identifiable, Insertable)]
#[diesel(table_name = users)]
pub struct User {
    pub id: i32,
    pub username: String,
    pub email: String,
    pub password_hash: String,
    pub about_me: Option<String>,
    pub last_seen: NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = users)]
pub struct NewUser<'a> {
    pub username: &'a str,
    pub email: &'a str,
    pub password_hash: &'a str,
    pub last_seen: NaiveDateTime,
}

pub fn find_by_username(conn: &mut DbConn, name: &str) -> QueryResult<Option<User>> {
    users::table
        .filter(users::username.eq(name))
        .select(User::as_select())
        .first(conn)
        .optional()
}

pub fn find(conn: &mut DbConn, id: i32) -> QueryResult<Option<User>> {
    users::table
        .find(id)
        .select(User::as_select())
        .first(conn)
        .optional()
}

pub fn username_taken(conn: &mut DbConn, name: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        users::table.filter(users::username.eq(name)),
    ))
    .get_result(conn)
}

/// Addresses differing only in case belong to the same person.
pub fn email_taken(conn: &mut DbConn, email: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        users::table.filter(lower(users::email).eq(email.to_lowercase())),
    ))
    .get_result(conn)
}

pub fn create(conn: &mut DbConn, new: &NewUser<'_>) -> QueryResult<User> {
    diesel::insert_into(users::table)
        .values(new)
        .returning(users::all_columns)
        .get_result(conn)
}

pub fn set_password_hash(conn: &mut DbConn, id: i32, hash: &str) -> QueryResult<usize> {
    diesel::update(users::table.find(id))
        .set(users::password_hash.eq(hash))
        .execute(conn)
}

/// Flask: `User.avatar(size)` (chapter 6): the Gravatar image for this e-mail address.
pub fn avatar_url(email: &str, size: u32) -> String {
    use md5::{Digest, Md5};
    const BASE: &str = "https://www.gravatar.com/avatar/";
    const OPTIONS: &str = "?d=identicon&s=";
    let email = email.trim();
    // Addresses are nearly always lower case already; only the others need a copy.
    let digest = if email.chars().any(char::is_uppercase) {
        Md5::digest(email.to_lowercase().as_bytes())
    } else {
        Md5::digest(email.as_bytes())
    };
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut url = String::with_capacity(BASE.len() + 32 + OPTIONS.len() + 4);
    url.push_str(BASE);
    for byte in digest {
        url.push(char::from(HEX[usize::from(byte >> 4)]));
        url.push(char::from(HEX[usize::from(byte & 0xf)]));
    }
    url.push_str(OPTIONS);
    url.push_str(&size.to_string());
    url
}

/// Flask: `edit_profile` (chapter 6). `Ok(false)` when the new name is taken.
pub fn update_profile(
    conn: &mut DbConn,
    id: i32,
    username: &str,
    about_me: Option<&str>,
) -> QueryResult<bool> {
    let result = diesel::update(users::table.find(id))
        .set((users::username.eq(username), users::about_me.eq(about_me)))
        .execute(conn);
    match result {
        Ok(_) => Ok(true),
        Err(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        )) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Flask: `User.follow` (chapter 8). Following twice is the same as following once, even when
/// two requests race: the second insert meets the primary key and is ignored.
pub fn follow(conn: &mut DbConn, follower: i32, followed: i32) -> QueryResult<()> {
    let result = diesel::insert_into(followers::table)
        .values((
            followers::follower_id.eq(follower),
            followers::followed_id.eq(followed),
        ))
        .execute(conn);
    match result {
        Ok(_)
        | Err(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        )) => Ok(()),
        Err(e) => Err(e),
    }
}

/// Flask: `User.unfollow` (chapter 8).
pub fn unfollow(conn: &mut DbConn, follower: i32, followed: i32) -> QueryResult<usize> {
    diesel::delete(
        followers::table
            .filter(followers::follower_id.eq(follower))
            .filter(followers::followed_id.eq(followed)),
    )
    .execute(conn)
}

/// Flask: `User.is_following` (chapter 8).
pub fn is_following(conn: &mut DbConn, follower: i32, followed: i32) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        followers::table
            .filter(followers::follower_id.eq(follower))
            .filter(followers::followed_id.eq(followed)),
    ))
    .get_result(conn)
}

/// Flask: `User.followers_count()` and `User.following_count()`.
pub fn follow_counts(conn: &mut DbConn, id: i32) -> QueryResult<(i64, i64)> {
    let followers = followers::table
        .filter(followers::followed_id.eq(id))
        .count()
        .get_result(conn)?;
    let following = followers::table
        .filter(followers::follower_id.eq(id))
        .count()
        .get_result(conn)?;
    Ok((followers, following))
}

/// Inserts many users in one statement (`microblog seed`, `db transfer`).
pub fn insert_many(conn: &mut DbConn, rows: &[NewUser<'_>]) -> QueryResult<usize> {
    // Diesel's multi-backend has no multi-row INSERT; each backend has its own.
    let query = diesel::insert_into(users::table).values(rows);
    match conn {
        DbConn::Sqlite(c) => query.execute(c),
        DbConn::Postgresql(c) => query.execute(c),
    }
}

/// Every user id, in order (`microblog seed` picks authors and follows among them).
pub fn all_ids(conn: &mut DbConn) -> QueryResult<Vec<i32>> {
    users::table.select(users::id).order(users::id).load(conn)
}

/// Adds many follow pairs in one statement; pairs must not exist yet.
pub fn follow_many(conn: &mut DbConn, pairs: &[(i32, i32)]) -> QueryResult<usize> {
    let rows: Vec<_> = pairs
        .iter()
        .map(|&(follower, followed)| {
            (
                followers::follower_id.eq(follower),
                followers::followed_id.eq(followed),
            )
        })
        .collect();
    let query = diesel::insert_into(followers::table).values(rows);
    match conn {
        DbConn::Sqlite(c) => query.execute(c),
        DbConn::Postgresql(c) => query.execute(c),
    }
}

/// Up to `limit` users with an id above `after`, in id order (copying a whole table in pages).
pub fn page_after(conn: &mut DbConn, after: i32, limit: i64) -> QueryResult<Vec<User>> {
    users::table
        .filter(users::id.gt(after))
        .order(users::id)
        .limit(limit)
        .select(User::as_select())
        .load(conn)
}

/// Inserts whole rows, ids included (`db transfer`).
pub fn insert_rows(conn: &mut DbConn, rows: &[User]) -> QueryResult<usize> {
    let query = diesel::insert_into(users::table).values(rows);
    match conn {
        DbConn::Sqlite(c) => query.execute(c),
        DbConn::Postgresql(c) => query.execute(c),
    }
}

pub fn count(conn: &mut DbConn) -> QueryResult<i64> {
    users::table.count().get_result(conn)
}

/// Up to `limit` follow pairs after `after`, in key order.
pub fn follows_after(
    conn: &mut DbConn,
    after: (i32, i32),
    limit: i64,
) -> QueryResult<Vec<(i32, i32)>> {
    followers::table
        .filter(
            followers::follower_id.gt(after.0).or(followers::follower_id
                .eq(after.0)
                .and(followers::followed_id.gt(after.1))),
        )
        .order((followers::follower_id, followers::followed_id))
        .limit(limit)
        .select((followers::follower_id, followers::followed_id))
        .load(conn)
}

/// Every user who follows someone (`microblog seed` leaves them as they are).
pub fn follower_ids(conn: &mut DbConn) -> QueryResult<Vec<i32>> {
    followers::table
        .select(followers::follower_id)
        .distinct()
        .load(conn)
}

pub fn follows_count(conn: &mut DbConn) -> QueryResult<i64> {
    followers::table.count().get_result(conn)
}

#[cfg(test)]
mod tests {
    use super::avatar_url;

    /// Gravatar's own example: the MD5 of the trimmed, lower-cased address.
    #[test]
    fn avatars_hash_the_trimmed_lowercased_address() {
        let expected = "https://www.gravatar.com/avatar/0bc83cb571cd1c50ba6f3e8a78ef1346\
                        ?d=identicon&s=80";
        assert_eq!(avatar_url("MyEmailAddress@example.com ", 80), expected);
        assert_eq!(avatar_url("myemailaddress@example.com", 80), expected);
    }
}
