//! Revocable logins: one row per logged-in browser. The browser holds a random token; the row
//! holds its SHA-256. Deleting the row ends that login everywhere it was copied
//! (`docs/05-user-logins.md`).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::{DbConn, on_backend};
use crate::models::message::UNREAD;
use crate::models::post::{self, Feed, PostWithAuthor};
use crate::models::task::EXPORT_POSTS;
use crate::pagination::{PageNumber, Paginated};
use crate::schema::{login_sessions, notifications, posts, tasks, users};

#[derive(Debug, Clone, Queryable, Selectable, Identifiable, Insertable)]
#[diesel(table_name = login_sessions)]
pub struct LoginSession {
    pub id: i32,
    pub token_hash: String,
    pub user_id: i32,
    pub created_at: NaiveDateTime,
    pub last_used: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub remember: bool,
    pub user_agent: String,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = login_sessions)]
pub struct NewLoginSession<'a> {
    pub token_hash: &'a str,
    pub user_id: i32,
    pub created_at: NaiveDateTime,
    pub last_used: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub remember: bool,
    pub user_agent: &'a str,
}

/// When a login was last used, as noted in memory by the activity tracker.
#[derive(Debug, Clone, Copy)]
pub struct Activity {
    pub session_id: i32,
    pub user_id: i32,
    pub at: NaiveDateTime,
    /// Where to move the expiry of a session without "remember me" (it slides with use).
    pub idle_expiry: Option<NaiveDateTime>,
}

pub fn create(conn: &mut DbConn, new: &NewLoginSession<'_>) -> QueryResult<LoginSession> {
    diesel::insert_into(login_sessions::table)
        .values(new)
        .returning(login_sessions::all_columns)
        .get_result(conn)
}

/// What the login check needs from a login row and its user: only these columns are read, since
/// every page view runs the check.
#[derive(Debug, Queryable)]
pub struct ActiveLogin {
    pub session_id: i32,
    pub remember: bool,
    pub user_agent: String,
    pub user_id: i32,
    pub username: String,
    pub email: String,
    pub password_hash: String,
    /// The user's `unread_message_count` notification, as stored (JSON), if they have one.
    pub unread_json: Option<String>,
    /// The user's export that is running, if one is: `(task id, description, progress)`.
    pub running_export: Option<(i32, String, i32)>,
}

/// The login check's `FROM` and `WHERE`: the unexpired login with this token, joined with its
/// user (under the name `$me`), the user's unread count and running export. Shared by
/// [`find_active`] and [`find_active_with_timeline`]; a macro, since its type cannot be named.
macro_rules! active_login {
    ($me:expr, $token_hash:expr, $now:expr) => {
        login_sessions::table
            .inner_join($me.on($me.field(users::id).eq(login_sessions::user_id)))
            .left_join(
                notifications::table.on(notifications::user_id
                    .eq(login_sessions::user_id)
                    .and(notifications::name.eq(UNREAD))),
            )
            .left_join(
                tasks::table.on(tasks::user_id
                    .eq(login_sessions::user_id)
                    .and(tasks::name.eq(EXPORT_POSTS))
                    .and(tasks::complete.eq(false))),
            )
            .filter(login_sessions::token_hash.eq($token_hash))
            .filter(login_sessions::expires_at.gt($now))
    };
}

/// The columns of an [`ActiveLogin`], from [`active_login!`].
macro_rules! active_login_columns {
    ($me:expr) => {
        (
            login_sessions::id,
            login_sessions::remember,
            login_sessions::user_agent,
            $me.field(users::id),
            $me.field(users::username),
            $me.field(users::email),
            $me.field(users::password_hash),
            notifications::payload_json.nullable(),
            (tasks::id, tasks::description, tasks::progress).nullable(),
        )
    };
}

/// Flask-Login's `user_loader`, one indexed query: the unexpired login with this token, its user,
/// and the user's unread count for the navbar's badge (one more unique-index lookup, not a count).
pub fn find_active(
    conn: &mut DbConn,
    token_hash: &str,
    now: NaiveDateTime,
) -> QueryResult<Option<ActiveLogin>> {
    let me = diesel::alias!(users as me);
    on_backend!(conn, c => active_login!(me, token_hash, now)
        .select(active_login_columns!(me))
        .first(c)
        .optional())
}

/// [`find_active`] and page `number` of `user_id`'s timeline (`post::page` of
/// [`Feed::Timeline`]) in one statement: the login row with the page's posts joined to it, for
/// `/index` on PostgreSQL, where every statement is a trip to the database server
/// (`docs/performance.md`).
///
/// `user_id` is whom the session says the login is of; the statement only finds the login if
/// it is. `None`: no such login of that user (the caller asks [`find_active`] then, which
/// decides).
pub fn find_active_with_timeline(
    conn: &mut DbConn,
    token_hash: &str,
    now: NaiveDateTime,
    user_id: i32,
    number: PageNumber,
    per_page: i64,
) -> QueryResult<Option<(ActiveLogin, Paginated<PostWithAuthor>)>> {
    let (me, own, candidates) = diesel::alias!(users as me, users as own, posts as candidates);
    let mut login = None;
    let page = Paginated::read(number, per_page, |limit, offset| {
        if login.is_some() {
            // Later calls, the probes for the last page after a page past the end: the timeline
            // alone.
            return post::rows(conn, Feed::Timeline(user_id), limit, offset).map_err(Stop::Db);
        }
        // The login row once for each post, or once with no post for an empty page: the token,
        // the unread count and the running export each match at most one row (unique indexes
        // on `token_hash`, on the notification's user and name, and on a user's running task).
        let rows: Vec<(ActiveLogin, Option<PostWithAuthor>)> = on_backend!(conn, c =>
            active_login!(me, token_hash, now)
                .filter(login_sessions::user_id.eq(user_id))
                .left_join(posts::table.on(posts::id.eq_any(post::timeline_ids!(
                    candidates, own, user_id, limit, offset
                ))))
                .left_join(users::table.on(users::id.eq(posts::user_id)))
                .select((active_login_columns!(me), Option::<PostWithAuthor>::as_select()))
                .order((posts::timestamp.desc(), posts::id.desc()))
                .load(c))
        .map_err(Stop::Db)?;
        let mut rows = rows.into_iter();
        let (found, first) = rows.next().ok_or(Stop::NoLogin)?;
        login = Some(found);
        Ok(first
            .into_iter()
            .chain(rows.filter_map(|(_, post)| post))
            .collect())
    });
    match page {
        // `Paginated::read` reads at least once, so a page read has its login.
        Ok(page) => Ok(login.map(|login| (login, page))),
        Err(Stop::NoLogin) => Ok(None),
        Err(Stop::Db(e)) => Err(e),
    }
}

/// Why [`find_active_with_timeline`] stopped reading.
enum Stop {
    /// No such login of that user: nothing more to read.
    NoLogin,
    Db(diesel::result::Error),
}

pub fn list_for_user(
    conn: &mut DbConn,
    user_id: i32,
    now: NaiveDateTime,
) -> QueryResult<Vec<LoginSession>> {
    login_sessions::table
        .filter(login_sessions::user_id.eq(user_id))
        .filter(login_sessions::expires_at.gt(now))
        .order(login_sessions::last_used.desc())
        .select(LoginSession::as_select())
        .load(conn)
}

/// Records the client a login is used from (after the user confirmed the password there).
pub fn set_user_agent(conn: &mut DbConn, id: i32, user_agent: &str) -> QueryResult<usize> {
    diesel::update(login_sessions::table.find(id))
        .set(login_sessions::user_agent.eq(user_agent))
        .execute(conn)
}

pub fn delete_by_token_hash(conn: &mut DbConn, token_hash: &str) -> QueryResult<usize> {
    diesel::delete(login_sessions::table.filter(login_sessions::token_hash.eq(token_hash)))
        .execute(conn)
}

/// Ends one of this user's logins; 0 if it is not theirs.
pub fn delete_one(conn: &mut DbConn, user_id: i32, id: i32) -> QueryResult<usize> {
    diesel::delete(
        login_sessions::table
            .filter(login_sessions::id.eq(id))
            .filter(login_sessions::user_id.eq(user_id)),
    )
    .execute(conn)
}

/// Ends every login of this user except `keep` (after a password change), or all of them.
pub fn delete_all_for_user(
    conn: &mut DbConn,
    user_id: i32,
    keep: Option<i32>,
) -> QueryResult<usize> {
    let mut query = diesel::delete(login_sessions::table)
        .filter(login_sessions::user_id.eq(user_id))
        .into_boxed();
    if let Some(id) = keep {
        query = query.filter(login_sessions::id.ne(id));
    }
    query.execute(conn)
}

pub fn delete_expired(conn: &mut DbConn, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::delete(login_sessions::table.filter(login_sessions::expires_at.le(now))).execute(conn)
}

/// Writes a batch of noted activity in one transaction: each login's `last_used` (and sliding
/// expiry) and each user's `last_seen`.
pub fn record_activity(conn: &mut DbConn, batch: &[Activity]) -> QueryResult<()> {
    conn.transaction(|conn| {
        for a in batch {
            let target = login_sessions::table.find(a.session_id);
            match a.idle_expiry {
                Some(expiry) => diesel::update(target)
                    .set((
                        login_sessions::last_used.eq(a.at),
                        login_sessions::expires_at.eq(expiry),
                    ))
                    .execute(conn)?,
                None => diesel::update(target)
                    .set(login_sessions::last_used.eq(a.at))
                    .execute(conn)?,
            };
            diesel::update(users::table.find(a.user_id))
                .set(users::last_seen.eq(a.at))
                .filter(users::last_seen.lt(a.at))
                .execute(conn)?;
        }
        Ok(())
    })
}
