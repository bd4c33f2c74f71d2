//! Flask: the `Message` and `Notification` models and `User.add_notification`,
//! `User.unread_message_count` (chapter 21), and blocks (a port addition): one user refusing
//! another's messages.
//!
//! The unread count is stored as the user's `unread_message_count` notification, written in the
//! transaction that changes it (a message sent, the messages read, a block). So a page reads it
//! with the login, in the same query (`login_session::find_active`), and the live stream and
//! `/notifications` read the same row.

use chrono::{NaiveDateTime, TimeDelta};
use diesel::prelude::*;
use serde::Serialize;

use crate::db::{DbConn, on_backend};
use crate::models;
use crate::pagination::{PageNumber, Paginated};
use crate::schema::{blocks, messages, notifications, users};

/// The notification holding a user's unread count (the tutorial's name).
pub const UNREAD: &str = "unread_message_count";

/// The notification of a task's progress (the tutorial's name), `data` being
/// `{"task_id", "description", "progress", "failed"}`.
pub const TASK_PROGRESS: &str = "task_progress";

/// The channel of PostgreSQL's `NOTIFY` that every notification written is announced on, its
/// payload the user's id: each instance's live hub (`src/live.rs`) listens on it.
pub const LIVE_CHANNEL: &str = "microblog_live";

/// The sending budget: at most this many messages ...
pub const BUDGET: i64 = 10;
/// ... in this much time, per sender.
pub const BUDGET_WINDOW: TimeDelta = TimeDelta::minutes(1);

/// A message row, whole (for `db transfer`).
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = messages)]
pub struct MessageRow {
    pub id: i32,
    pub sender_id: i32,
    pub recipient_id: i32,
    pub body: String,
    pub timestamp: NaiveDateTime,
}

/// A notification row, whole: what `/notifications` and the live stream send, as
/// `{"name", "data", "timestamp"}`.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = notifications)]
pub struct NotificationRow {
    pub id: i32,
    pub name: String,
    pub user_id: i32,
    /// Unix time in seconds.
    pub timestamp: f64,
    pub payload_json: String,
}

/// A notification as the page's script gets it.
#[derive(Debug, Clone, Serialize)]
pub struct Notification {
    pub name: String,
    pub data: serde_json::Value,
    pub timestamp: f64,
}

impl From<NotificationRow> for Notification {
    fn from(row: NotificationRow) -> Self {
        Self {
            data: serde_json::from_str(&row.payload_json).unwrap_or(serde_json::Value::Null),
            name: row.name,
            timestamp: row.timestamp,
        }
    }
}

/// A received message with its sender, for `/messages`.
#[derive(Debug, Clone, Queryable)]
pub struct Received {
    pub id: i32,
    pub body: String,
    pub timestamp: NaiveDateTime,
    pub sender: String,
    pub sender_email: String,
}

/// What became of a message someone tried to send.
#[derive(Debug, PartialEq, Eq)]
pub enum Sent {
    Sent,
    /// The recipient blocks the sender.
    Blocked,
    /// The sender used up [`BUDGET`]; the next message may go after this long.
    TooFast(TimeDelta),
}

/// Unix time in seconds, as notifications hold it.
pub fn unix_seconds(at: NaiveDateTime) -> f64 {
    at.and_utc().timestamp_micros() as f64 / 1e6
}

/// Runs `f(conn, now)` in a transaction that no other change of these users' messages or
/// notifications runs beside. Its first statements write the users' rows without changing them
/// (in id order, so two users writing to each other cannot deadlock): PostgreSQL locks those
/// rows, SQLite takes its write lock before anything is read. `now` is read once the locks are
/// held, so the times written for a user only grow: a message is never older than a read that
/// committed before it, and a stream that saw a notification's time misses none written after.
fn for_users<T>(
    conn: &mut DbConn,
    users_to_lock: &[i32],
    f: impl FnOnce(&mut DbConn, NaiveDateTime) -> QueryResult<T>,
) -> QueryResult<T> {
    let mut ids = users_to_lock.to_vec();
    ids.sort_unstable();
    ids.dedup();
    conn.transaction(|conn| {
        for id in ids {
            diesel::update(users::table.find(id))
                .set(users::id.eq(users::id))
                .execute(conn)?;
        }
        f(conn, models::now())
    })
}

/// Whether `blocker` blocks `blocked`.
pub fn is_blocked(conn: &mut DbConn, blocker: i32, blocked: i32) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(blocks::table.find((blocker, blocked)))).get_result(conn)
}

/// Sends `body` from `sender` to `recipient` unless the recipient blocks the sender or the
/// sender is over budget; the recipient's unread count is updated in the same transaction. Both
/// users are locked: the recipient for the count, the sender for the budget (parallel sends to
/// several people are counted one after the other).
pub fn send(conn: &mut DbConn, sender: i32, recipient: i32, body: &str) -> QueryResult<Sent> {
    for_users(conn, &[sender, recipient], |conn, now| {
        if is_blocked(conn, recipient, sender)? {
            return Ok(Sent::Blocked);
        }
        let recent: Vec<NaiveDateTime> = messages::table
            .filter(messages::sender_id.eq(sender))
            .filter(messages::timestamp.gt(now - BUDGET_WINDOW))
            .order(messages::timestamp.asc())
            .select(messages::timestamp)
            .limit(BUDGET)
            .load(conn)?;
        if recent.len() as i64 >= BUDGET {
            // The oldest of them leaves the window first.
            let wait = recent[0] + BUDGET_WINDOW - now;
            return Ok(Sent::TooFast(wait.max(TimeDelta::seconds(1))));
        }
        diesel::insert_into(messages::table)
            .values((
                messages::sender_id.eq(sender),
                messages::recipient_id.eq(recipient),
                messages::body.eq(body),
                messages::timestamp.eq(now),
            ))
            .execute(conn)?;
        refresh_unread(conn, recipient, now)?;
        Ok(Sent::Sent)
    })
}

/// How many messages `user` received since they last read them, from users they do not block.
fn unread_of(conn: &mut DbConn, user: i32) -> QueryResult<i64> {
    let since: Option<NaiveDateTime> = users::table
        .find(user)
        .select(users::last_message_read_time)
        .first(conn)?;
    let mut query = messages::table
        .filter(messages::recipient_id.eq(user))
        .filter(diesel::dsl::not(diesel::dsl::exists(
            blocks::table
                .filter(blocks::blocker_id.eq(user))
                .filter(blocks::blocked_id.eq(messages::sender_id)),
        )))
        .into_boxed();
    if let Some(since) = since {
        query = query.filter(messages::timestamp.gt(since));
    }
    query.count().get_result(conn)
}

/// Flask: `User.add_notification(name, data)`: the user's one notification of that name now
/// says `data`, stamped `now`, or a microsecond after the user's newest notification if the
/// clock says otherwise: the times of a user's notifications only grow, as readers of `since`
/// need. Called in [`for_users`] with the user locked.
fn notify(
    conn: &mut DbConn,
    user: i32,
    name: &str,
    data: &serde_json::Value,
    now: NaiveDateTime,
) -> QueryResult<()> {
    let payload = data.to_string();
    let newest: Option<f64> = notifications::table
        .filter(notifications::user_id.eq(user))
        .select(diesel::dsl::max(notifications::timestamp))
        .first(conn)?;
    let at = newest.map_or(unix_seconds(now), |t| unix_seconds(now).max(t + 1e-6));
    on_backend!(conn, c => diesel::insert_into(notifications::table)
        .values((
            notifications::name.eq(name),
            notifications::user_id.eq(user),
            notifications::timestamp.eq(at),
            notifications::payload_json.eq(&payload),
        ))
        .on_conflict((notifications::user_id, notifications::name))
        .do_update()
        .set((
            notifications::timestamp.eq(at),
            notifications::payload_json.eq(&payload),
        ))
        .execute(c))?;
    // Other instances' live streams hear of it when the transaction commits (`src/live.rs`).
    if let DbConn::Postgresql(c) = conn {
        diesel::sql_query("SELECT pg_notify($1, $2)")
            .bind::<diesel::sql_types::Text, _>(LIVE_CHANNEL)
            .bind::<diesel::sql_types::Text, _>(user.to_string())
            .execute(c)?;
    }
    Ok(())
}

/// [`notify`] on its own: the user locked, the time read under the lock.
pub fn notify_user(
    conn: &mut DbConn,
    user: i32,
    name: &str,
    data: &serde_json::Value,
) -> QueryResult<()> {
    for_users(conn, &[user], |conn, now| {
        notify(conn, user, name, data, now)
    })
}

/// Counts the unread messages of each of `users` again (messages were deleted), in one
/// transaction of its own, the users locked as for a new message.
pub fn recount_unread(conn: &mut DbConn, users: &[i32]) -> QueryResult<()> {
    for_users(conn, users, |conn, now| {
        users
            .iter()
            .try_for_each(|user| refresh_unread(conn, *user, now).map(drop))
    })
}

/// Counts `user`'s unread messages again into their `unread_message_count` notification.
fn refresh_unread(conn: &mut DbConn, user: i32, now: NaiveDateTime) -> QueryResult<i64> {
    let unread = unread_of(conn, user)?;
    notify(conn, user, UNREAD, &serde_json::json!(unread), now)?;
    Ok(unread)
}

/// Flask's `messages()`: a page of the messages `user` received, newest first, without those of
/// users they block; and `current_user.last_message_read_time = datetime.utcnow()` with
/// `add_notification('unread_message_count', 0)`, in the same transaction, so no message is
/// marked read that the page does not count in.
pub fn read_page(
    conn: &mut DbConn,
    user: i32,
    number: PageNumber,
    per_page: i64,
) -> QueryResult<Paginated<Received>> {
    for_users(conn, &[user], |conn, now| {
        let page = received(conn, user, number, per_page)?;
        diesel::update(users::table.find(user))
            .set(users::last_message_read_time.eq(now))
            .execute(conn)?;
        refresh_unread(conn, user, now)?;
        Ok(page)
    })
}

/// A page of the messages `user` received, newest first, without those of users they block.
fn received(
    conn: &mut DbConn,
    user: i32,
    number: PageNumber,
    per_page: i64,
) -> QueryResult<Paginated<Received>> {
    Paginated::read(number, per_page, |limit, offset| {
        messages::table
            .inner_join(users::table.on(users::id.eq(messages::sender_id)))
            .filter(messages::recipient_id.eq(user))
            .filter(diesel::dsl::not(diesel::dsl::exists(
                blocks::table
                    .filter(blocks::blocker_id.eq(user))
                    .filter(blocks::blocked_id.eq(messages::sender_id)),
            )))
            .order((messages::timestamp.desc(), messages::id.desc()))
            .select((
                messages::id,
                messages::body,
                messages::timestamp,
                users::username,
                users::email,
            ))
            .limit(limit)
            .offset(offset)
            .load(conn)
    })
}

/// Flask: `current_user.notifications.filter(Notification.timestamp > since)`, oldest first.
pub fn notifications_since(
    conn: &mut DbConn,
    user: i32,
    since: f64,
) -> QueryResult<Vec<Notification>> {
    let rows: Vec<NotificationRow> = notifications::table
        .filter(notifications::user_id.eq(user))
        .filter(notifications::timestamp.gt(since))
        .order(notifications::timestamp.asc())
        .select(NotificationRow::as_select())
        .load(conn)?;
    Ok(rows.into_iter().map(Notification::from).collect())
}

/// `blocker` blocks (or, with `block` false, unblocks) `blocked`; the blocker's unread count
/// changes with it.
pub fn set_blocked(conn: &mut DbConn, blocker: i32, blocked: i32, block: bool) -> QueryResult<()> {
    for_users(conn, &[blocker], |conn, now| {
        if block {
            on_backend!(conn, c => diesel::insert_into(blocks::table)
                .values((blocks::blocker_id.eq(blocker), blocks::blocked_id.eq(blocked)))
                .on_conflict_do_nothing()
                .execute(c))?;
        } else {
            diesel::delete(blocks::table.find((blocker, blocked))).execute(conn)?;
        }
        refresh_unread(conn, blocker, now)?;
        Ok(())
    })
}
