//! Flask: the `User` model (chapters 4-6 and 8): a user, their followers, and who they follow.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error::DatabaseError};
use serde::Serialize;
use unicode_normalization::UnicodeNormalization as _;

use crate::db::{DbConn, on_backend};
use crate::models::{api_token, login_session, lower, message};
use crate::schema::{
    api_tokens, email_changes, followers, password_resets, posts, username_keys, users,
};

#[derive(Debug, Clone, Queryable, Selectable, Identifiable, Insertable)]
#[diesel(table_name = users)]
pub struct User {
    pub id: i32,
    pub username: String,
    pub email: String,
    pub password_hash: String,
    pub about_me: Option<String>,
    pub last_seen: NaiveDateTime,
    /// When the user last opened `/messages` (chapter 21); newer messages are unread.
    pub last_message_read_time: Option<NaiveDateTime>,
    /// One of two accounts whose names differ only in case, both made before usernames were
    /// unique whatever their case: it keeps its name (and logs in with it exactly) until it is
    /// renamed. The unique index on the lower-cased name leaves such accounts out.
    pub case_twin: bool,
    /// The same for addresses: one of two accounts whose addresses differ only in case, both
    /// made before addresses were unique whatever their case. It keeps its address until it
    /// changes it; the unique index on the lower-cased address leaves such accounts out.
    pub email_case_twin: bool,
}

/// Flask-Login's `current_user` (the `UserMixin` part of Flask's `User`): the logged-in user
/// as handlers and templates see it, found by `login::load_user` through one login session.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuthUser {
    pub id: i32,
    pub username: String,
    pub email: String,
    #[serde(skip)]
    pub password_hash: String,
    /// The `login_sessions` row this request is logged in through.
    #[serde(skip)]
    pub login_session_id: i32,
    /// False when the login was restored from the remember-me cookie or used from another
    /// client under `basic` protection (Flask-Login's `login_fresh()`).
    pub fresh: bool,
    /// Messages received since the user last read them (Flask: `unread_message_count()`), for
    /// the navbar's badge.
    pub unread_messages: i64,
    /// Flask: `current_user.get_tasks_in_progress()` (chapter 22), shown on every page.
    pub task: Option<RunningTask>,
}

/// A task that is running, as every page shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunningTask {
    pub id: i32,
    pub description: String,
    pub progress: i32,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = users)]
// `None` is written as NULL, not as DEFAULT: SQLite takes many rows in one INSERT only then.
#[diesel(treat_none_as_default_value = false)]
pub struct NewUser<'a> {
    pub username: &'a str,
    pub email: &'a str,
    pub password_hash: &'a str,
    pub last_seen: NaiveDateTime,
    pub about_me: Option<&'a str>,
}

pub fn find_by_username(conn: &mut DbConn, name: &str) -> QueryResult<Option<User>> {
    // No username holds a NUL (`Username::parse`), and PostgreSQL's text cannot: looking one up
    // there would be an error instead of "no such user".
    if name.contains('\0') {
        return Ok(None);
    }
    users::table
        .filter(users::username.eq(name))
        .select(User::as_select())
        .first(conn)
        .optional()
}

/// The user who logs in as `name` typed in any case ("ALICE" or "alice" for "Alice"): the
/// account with exactly that name, else the one whose name is `name` in another case. Phone
/// keyboards capitalise the first letter; the name is still the same.
pub fn find_by_login_name(conn: &mut DbConn, name: &str) -> QueryResult<Option<User>> {
    if let Some(user) = find_by_username(conn, name)? {
        return Ok(Some(user));
    }
    // Names that fold alike share a key, and a key is one account's: at most one candidate,
    // then kept only if the two names differ in case alone (not "Ian" for "lan").
    let fold = |s: &str| s.nfkc().collect::<String>().to_lowercase();
    let candidates: Vec<User> = users::table
        .inner_join(username_keys::table)
        .filter(username_keys::name_key.eq(username_key(name)))
        .select(User::as_select())
        .load(conn)?;
    Ok(candidates
        .into_iter()
        .find(|u| fold(&u.username) == fold(name)))
}

/// The user with this address, whatever its case (Flask: `User.query.filter_by(email=...)`):
/// the account with exactly that address, else the one whose address is `email` in another
/// case. Of accounts that had one address in different cases before addresses were unique in any
/// case (`User::email_case_twin`), each is found by its own address, and another case finds the
/// older.
pub fn find_by_email(conn: &mut DbConn, email: &str) -> QueryResult<Option<User>> {
    users::table
        .filter(lower(users::email).eq(lower(email)))
        .order((users::email.ne(email), users::email_case_twin, users::id))
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

/// Flask: `User.check_token` (chapter 23): the user holding this unexpired API token (its
/// SHA-256, `tokens::token_hash`).
pub fn check_token(
    conn: &mut DbConn,
    token_hash: &str,
    now: NaiveDateTime,
) -> QueryResult<Option<User>> {
    api_tokens::table
        .inner_join(users::table)
        .filter(api_tokens::token_hash.eq(token_hash))
        .filter(api_tokens::expires_at.gt(now))
        .select(User::as_select())
        .first(conn)
        .optional()
}

/// The form in which two usernames are the same name: NFKC, lower case, then Unicode's
/// confusables skeleton (UTS #39), lower-cased again. "Susan", "susan", "ｓｕｓａｎ" and "ѕusan"
/// (a Cyrillic ѕ) are one name, so nobody registers a name that passes for someone else's.
pub fn username_key(name: &str) -> String {
    let folded = name.nfkc().collect::<String>().to_lowercase();
    unicode_security::skeleton(&folded)
        .collect::<String>()
        .to_lowercase()
}

/// Whether `name`, or a name that looks the same ([`username_key`]), is a user's.
pub fn username_taken(conn: &mut DbConn, name: &str) -> QueryResult<bool> {
    // As in `find_by_username`: no user's name holds a NUL, and PostgreSQL could not look one up.
    if name.contains('\0') {
        return Ok(false);
    }
    diesel::select(
        diesel::dsl::exists(users::table.filter(users::username.eq(name))).or(diesel::dsl::exists(
            username_keys::table.filter(username_keys::name_key.eq(username_key(name))),
        )),
    )
    .get_result(conn)
}

/// Writes `user_id`'s [`username_key`], replacing the one of their former name; fails on the
/// unique index when another user has it.
fn set_username_key(conn: &mut DbConn, user_id: i32, name: &str) -> QueryResult<()> {
    diesel::delete(username_keys::table.find(user_id)).execute(conn)?;
    diesel::insert_into(username_keys::table)
        .values((
            username_keys::user_id.eq(user_id),
            username_keys::name_key.eq(username_key(name)),
        ))
        .execute(conn)?;
    Ok(())
}

/// Writes the [`username_key`] of every user who has none (users made before the keys, or by
/// `microblog seed` and `db transfer`), at each start. A key another user holds already (two
/// look-alike names from before the rule) is left out: both keep their names.
pub fn add_missing_username_keys(conn: &mut DbConn) -> QueryResult<usize> {
    let missing: Vec<(i32, String)> = users::table
        .left_join(username_keys::table)
        .filter(username_keys::user_id.is_null())
        // The older of two look-alikes gets the key.
        .order(users::id)
        .select((users::id, users::username))
        .load(conn)?;
    // One transaction: SQLite then writes its file once, not once per user.
    conn.transaction(|conn| {
        let mut added = 0;
        for (id, name) in missing {
            let key = username_key(&name);
            added += on_backend!(conn, c => diesel::insert_into(username_keys::table)
                .values((username_keys::user_id.eq(id), username_keys::name_key.eq(&key)))
                .on_conflict_do_nothing()
                .execute(c))?;
        }
        Ok(added)
    })
}

/// Whether an account has this address in any case: addresses differing only in case belong to
/// the same person. An old case twin's address counts (`User::email_case_twin`), though the
/// unique index leaves it out.
pub fn email_taken(conn: &mut DbConn, email: &str) -> QueryResult<bool> {
    if email.contains('\0') {
        return Ok(false);
    }
    diesel::select(diesel::dsl::exists(
        users::table.filter(lower(users::email).eq(lower(email))),
    ))
    .get_result(conn)
}

/// Whether a new user could not have this username, and this address (Flask's
/// `RegistrationForm.validate_username` and `validate_email`).
pub fn already_used(conn: &mut DbConn, username: &str, email: &str) -> QueryResult<(bool, bool)> {
    Ok((username_taken(conn, username)?, email_taken(conn, email)?))
}

/// Whether a write failed only because a unique column (a username, an address, a follow pair)
/// already holds the value.
fn unless_taken<T>(result: QueryResult<T>) -> QueryResult<Option<T>> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Flask: `db.session.add(user)` at registration. `None` when the name or the address was
/// taken meanwhile (the form checked both just before, but another request may have been
/// faster).
pub fn create(conn: &mut DbConn, new: &NewUser<'_>) -> QueryResult<Option<User>> {
    unless_taken(conn.transaction(|conn| {
        let user: User = diesel::insert_into(users::table)
            .values(new)
            .returning(users::all_columns)
            .get_result(conn)?;
        set_username_key(conn, user.id, &user.username)?;
        Ok(user)
    }))
}

/// Flask: `User.set_password` (and the commit after it). Every login of the user ends but
/// `keep` (the browser that changed the password, if any), and any password reset link dies, in
/// the same transaction: a password someone else learned stops working everywhere at once.
pub fn set_password(conn: &mut DbConn, id: i32, hash: &str, keep: Option<i32>) -> QueryResult<()> {
    conn.transaction(|conn| {
        diesel::update(users::table.find(id))
            .set(users::password_hash.eq(hash))
            .execute(conn)?;
        login_session::delete_all_for_user(conn, id, keep)?;
        api_token::delete_all_for_user(conn, id)?;
        delete_reset_links(conn, id)?;
        delete_address_change(conn, id)?;
        Ok(())
    })
}

/// Ends the user's address change waiting for its link (`models::email_change`): a password
/// changed, or every login ended, ends a change someone else may have asked for with a stolen
/// login.
fn delete_address_change(conn: &mut DbConn, id: i32) -> QueryResult<usize> {
    diesel::delete(email_changes::table.filter(email_changes::user_id.eq(id))).execute(conn)
}

/// "Log out everywhere": every login of the user and every API token end, in one transaction.
pub fn end_every_login(conn: &mut DbConn, id: i32) -> QueryResult<()> {
    conn.transaction(|conn| {
        login_session::delete_all_for_user(conn, id, None)?;
        api_token::delete_all_for_user(conn, id)?;
        delete_address_change(conn, id)?;
        Ok(())
    })
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

/// Flask: `edit_profile` (chapter 6). `Ok(false)` when the new name belongs to someone else.
pub fn update_profile(
    conn: &mut DbConn,
    id: i32,
    username: &str,
    about_me: Option<&str>,
) -> QueryResult<bool> {
    let updated = conn.transaction(|conn| {
        // Written first: on SQLite the transaction then holds the write lock throughout.
        diesel::update(users::table.find(id))
            .set(users::about_me.eq(about_me))
            .execute(conn)?;
        let before: String = users::table.find(id).select(users::username).first(conn)?;
        // A name kept as it was keeps its key (or has none: one of two look-alikes from before
        // the keys, which must still be able to save its profile).
        if before == username {
            return Ok(());
        }
        // A new name is held to the rule, even by an account that kept an older case twin.
        diesel::update(users::table.find(id))
            .set((users::username.eq(username), users::case_twin.eq(false)))
            .execute(conn)?;
        set_username_key(conn, id, username)
    });
    Ok(unless_taken(updated)?.is_some())
}

/// Flask: `User.follow` (chapter 8). Following twice is the same as following once, even when
/// two requests race: the second insert meets the primary key and is ignored.
pub fn follow(conn: &mut DbConn, follower: i32, followed: i32) -> QueryResult<()> {
    let inserted = diesel::insert_into(followers::table)
        .values((
            followers::follower_id.eq(follower),
            followers::followed_id.eq(followed),
        ))
        .execute(conn);
    unless_taken(inserted).map(drop)
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

/// A profile as the profile page and the popup show it: the user, their follower and following
/// counts (Flask: `User.followers_count()`, `User.following_count()`), and what they are to the
/// visitor.
#[derive(Debug)]
pub struct Profile {
    pub user: User,
    pub followers: i64,
    pub following: i64,
    /// The visitor is this user.
    pub is_self: bool,
    /// The visitor follows this user.
    pub is_following: bool,
    /// The visitor blocks this user's messages.
    pub is_blocking: bool,
}

/// `username`'s profile as user `me` sees it.
pub fn profile(conn: &mut DbConn, me: i32, username: &str) -> QueryResult<Option<Profile>> {
    let Some(user) = find_by_username(conn, username)? else {
        return Ok(None);
    };
    let followers = followers::table
        .filter(followers::followed_id.eq(user.id))
        .count()
        .get_result(conn)?;
    let following = followers::table
        .filter(followers::follower_id.eq(user.id))
        .count()
        .get_result(conn)?;
    let is_following = is_following(conn, me, user.id)?;
    let is_blocking = message::is_blocked(conn, me, user.id)?;
    Ok(Some(Profile {
        is_blocking,
        is_self: user.id == me,
        user,
        followers,
        following,
        is_following,
    }))
}

// Password reset links (chapter 10). The link holds a random token; the row holds its SHA-256
// and when it expires. A user has at most one row, so a newer request kills the older link;
// using the link deletes the row, and so does any new password (`set_password`).

/// Holds the user's row until the transaction ends (an update that changes nothing): jobs that
/// read and then write one user's data take turns on PostgreSQL, whose transactions would
/// otherwise each read what the other has not yet committed. SQLite has one writer anyway.
pub fn hold(conn: &mut DbConn, id: i32) -> QueryResult<()> {
    diesel::update(users::table.find(id))
        .set(users::id.eq(users::id))
        .execute(conn)?;
    Ok(())
}

/// Whether the user was mailed a reset link after `since` that still works at `now`.
pub fn has_recent_reset_link(
    conn: &mut DbConn,
    user_id: i32,
    since: NaiveDateTime,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        password_resets::table
            .filter(password_resets::user_id.eq(user_id))
            .filter(password_resets::created_at.gt(since))
            .filter(password_resets::expires_at.gt(now)),
    ))
    .get_result(conn)
}

/// Makes `token_hash` the user's only live reset link, until `expires_at`.
pub fn replace_reset_link(
    conn: &mut DbConn,
    user_id: i32,
    token_hash: &str,
    now: NaiveDateTime,
    expires_at: NaiveDateTime,
) -> QueryResult<()> {
    conn.transaction(|conn| {
        delete_reset_links(conn, user_id)?;
        diesel::insert_into(password_resets::table)
            .values((
                password_resets::user_id.eq(user_id),
                password_resets::token_hash.eq(token_hash),
                password_resets::created_at.eq(now),
                password_resets::expires_at.eq(expires_at),
            ))
            .execute(conn)?;
        Ok(())
    })
}

/// The user a live link belongs to (the reset page's GET, which must not use the link up).
pub fn find_by_reset_link(
    conn: &mut DbConn,
    token_hash: &str,
    now: NaiveDateTime,
) -> QueryResult<Option<User>> {
    password_resets::table
        .inner_join(users::table)
        .filter(password_resets::token_hash.eq(token_hash))
        .filter(password_resets::expires_at.gt(now))
        .select(User::as_select())
        .first(conn)
        .optional()
}

/// Uses the link: deletes it and sets the new password (which ends every login of the user), in
/// one transaction. `None` when the link was not live (used meanwhile, replaced or expired).
pub fn reset_password(
    conn: &mut DbConn,
    token_hash: &str,
    now: NaiveDateTime,
    password_hash: &str,
) -> QueryResult<Option<i32>> {
    conn.transaction(|conn| {
        // The delete comes first: it is what makes a link single-use when two requests race.
        let user_id = diesel::delete(
            password_resets::table
                .filter(password_resets::token_hash.eq(token_hash))
                .filter(password_resets::expires_at.gt(now)),
        )
        .returning(password_resets::user_id)
        .get_result::<i32>(conn)
        .optional()?;
        if let Some(id) = user_id {
            set_password(conn, id, password_hash, None)?;
        }
        Ok(user_id)
    })
}

pub fn delete_reset_links(conn: &mut DbConn, user_id: i32) -> QueryResult<usize> {
    diesel::delete(password_resets::table.filter(password_resets::user_id.eq(user_id)))
        .execute(conn)
}

pub fn delete_expired_reset_links(conn: &mut DbConn, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::delete(password_resets::table.filter(password_resets::expires_at.le(now))).execute(conn)
}

/// A user with the counts the API shows (Flask: `User.to_dict()`, chapter 23).
#[derive(Debug)]
pub struct WithCounts {
    pub user: User,
    pub posts: i64,
    pub followers: i64,
    pub following: i64,
}

/// Which users an API collection lists, in id order.
#[derive(Debug, Clone, Copy)]
pub enum Listing {
    Everyone,
    /// Who follows this user.
    FollowersOf(i32),
    /// Whom this user follows.
    FollowedBy(i32),
}

/// Up to `limit` users of a listing from `offset` on.
pub fn list(
    conn: &mut DbConn,
    listing: Listing,
    limit: i64,
    offset: i64,
) -> QueryResult<Vec<User>> {
    match listing {
        Listing::Everyone => users::table
            .order(users::id)
            .limit(limit)
            .offset(offset)
            .select(User::as_select())
            .load(conn),
        Listing::FollowersOf(id) => users::table
            .inner_join(followers::table.on(followers::follower_id.eq(users::id)))
            .filter(followers::followed_id.eq(id))
            .order(users::id)
            .limit(limit)
            .offset(offset)
            .select(User::as_select())
            .load(conn),
        Listing::FollowedBy(id) => users::table
            .inner_join(followers::table.on(followers::followed_id.eq(users::id)))
            .filter(followers::follower_id.eq(id))
            .order(users::id)
            .limit(limit)
            .offset(offset)
            .select(User::as_select())
            .load(conn),
    }
}

/// How many users a listing holds in all.
pub fn count(conn: &mut DbConn, listing: Listing) -> QueryResult<i64> {
    match listing {
        Listing::Everyone => users::table.count().get_result(conn),
        Listing::FollowersOf(id) => followers::table
            .filter(followers::followed_id.eq(id))
            .count()
            .get_result(conn),
        Listing::FollowedBy(id) => followers::table
            .filter(followers::follower_id.eq(id))
            .count()
            .get_result(conn),
    }
}

/// `users` with their counts, in the same order: three grouped counts, whatever their number.
pub fn with_counts(conn: &mut DbConn, users: Vec<User>) -> QueryResult<Vec<WithCounts>> {
    use diesel::dsl::count_star;
    use std::collections::HashMap;
    let ids: Vec<i32> = users.iter().map(|u| u.id).collect();
    let posts: HashMap<i32, i64> = posts::table
        .filter(posts::user_id.eq_any(&ids))
        .group_by(posts::user_id)
        .select((posts::user_id, count_star()))
        .load(conn)?
        .into_iter()
        .collect();
    let followers: HashMap<i32, i64> = followers::table
        .filter(followers::followed_id.eq_any(&ids))
        .group_by(followers::followed_id)
        .select((followers::followed_id, count_star()))
        .load(conn)?
        .into_iter()
        .collect();
    let following: HashMap<i32, i64> = followers::table
        .filter(followers::follower_id.eq_any(&ids))
        .group_by(followers::follower_id)
        .select((followers::follower_id, count_star()))
        .load(conn)?
        .into_iter()
        .collect();
    Ok(users
        .into_iter()
        .map(|user| WithCounts {
            posts: posts.get(&user.id).copied().unwrap_or(0),
            followers: followers.get(&user.id).copied().unwrap_or(0),
            following: following.get(&user.id).copied().unwrap_or(0),
            user,
        })
        .collect())
}

/// One user and their counts, as `GET /api/users/<id>` shows them.
pub fn find_with_counts(conn: &mut DbConn, id: i32) -> QueryResult<Option<WithCounts>> {
    let Some(user) = find(conn, id)? else {
        return Ok(None);
    };
    Ok(with_counts(conn, vec![user])?.pop())
}

/// What `PUT /api/users/<id>` changes at once; `None` keeps the value. The address is not here:
/// it changes only through the link mailed to the new one (`models::email_change`).
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = users)]
pub struct AccountChange<'a> {
    pub username: Option<&'a str>,
    /// `Some(None)` clears it.
    pub about_me: Option<Option<&'a str>>,
}

/// Whether someone other than `me` has this username, and this address (any case).
pub fn used_by_others(
    conn: &mut DbConn,
    me: i32,
    username: Option<&str>,
    email: Option<&str>,
) -> QueryResult<(bool, bool)> {
    let name_taken = match username {
        Some(name) => diesel::select(
            diesel::dsl::exists(
                users::table
                    .filter(users::username.eq(name))
                    .filter(users::id.ne(me)),
            )
            .or(diesel::dsl::exists(
                username_keys::table
                    .filter(username_keys::name_key.eq(username_key(name)))
                    .filter(username_keys::user_id.ne(me)),
            )),
        )
        .get_result(conn)?,
        None => false,
    };
    let email_taken = match email {
        Some(email) => diesel::select(diesel::dsl::exists(
            users::table
                .filter(lower(users::email).eq(lower(email)))
                .filter(users::id.ne(me)),
        ))
        .get_result(conn)?,
        None => false,
    };
    Ok((name_taken, email_taken))
}

/// Flask: `User.from_dict(data, new_user=False)` and its commit, in one statement. `Ok(false)`
/// when the name or the address was taken meanwhile.
pub fn update_account(conn: &mut DbConn, id: i32, change: &AccountChange<'_>) -> QueryResult<bool> {
    if change.username.is_none() && change.about_me.is_none() {
        return Ok(true);
    }
    let updated = conn.transaction(|conn| {
        diesel::update(users::table.find(id))
            .set(change)
            .execute(conn)?;
        let Some(name) = change.username else {
            return Ok(());
        };
        diesel::update(users::table.find(id))
            .set(users::case_twin.eq(false))
            .execute(conn)?;
        set_username_key(conn, id, name)
    });
    Ok(unless_taken(updated)?.is_some())
}

#[cfg(test)]
mod tests {
    use super::{avatar_url, username_key};

    #[test]
    fn look_alike_names_have_one_key_and_different_names_keep_theirs() {
        let susan = username_key("susan");
        for same in ["Susan", "SUSAN", "ｓｕｓａｎ", "ѕusan"] {
            assert_eq!(username_key(same), susan, "{same}");
        }
        assert_eq!(username_key("rnary"), username_key("mary"));
        assert_ne!(username_key("susan2"), susan);
        assert_ne!(username_key("john"), susan);
    }

    /// Gravatar's own example: the MD5 of the trimmed, lower-cased address.
    #[test]
    fn avatars_hash_the_trimmed_lowercased_address() {
        let expected = "https://www.gravatar.com/avatar/0bc83cb571cd1c50ba6f3e8a78ef1346\
                        ?d=identicon&s=80";
        assert_eq!(avatar_url("MyEmailAddress@example.com ", 80), expected);
        assert_eq!(avatar_url("myemailaddress@example.com", 80), expected);
    }
}
