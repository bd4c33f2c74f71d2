//! Queries over whole tables, for the command line rather than for pages: `microblog seed`
//! writes many rows a statement, `microblog db transfer` reads and writes every row in pages,
//! ids included.
//!
//! Diesel's `MultiConnection` has no multi-row `INSERT`, so those run on the backend's own
//! connection (`on_backend!`), where each backend has one.

use diesel::connection::SimpleConnection;
use diesel::prelude::*;

use chrono::NaiveDateTime;

use crate::db::{DbConn, on_backend};
use crate::models::actor::RemoteActor;
use crate::models::job::JobRow;
use crate::models::login_session::LoginSession;
use crate::models::mail::MailRow;
use crate::models::message::{MessageRow, NotificationRow};
use crate::models::post::{NewPost, Post};
use crate::models::task::{Export, Task};
use crate::models::user::{NewUser, User};
use crate::schema::{
    actor_keys, api_tokens, blocks, export_chunks, exports, followers, instance_keys, jobs,
    login_sessions, mails, messages, notifications, password_resets, posts, remote_actors, tasks,
    users,
};

/// How many rows each table holds.
#[derive(Debug, PartialEq, Eq)]
pub struct Counts {
    pub users: i64,
    pub posts: i64,
    pub follows: i64,
    pub login_sessions: i64,
    pub api_tokens: i64,
    pub mails: i64,
    pub jobs: i64,
    pub password_resets: i64,
    pub messages: i64,
    pub notifications: i64,
    pub blocks: i64,
    pub tasks: i64,
    pub exports: i64,
    pub export_chunks: i64,
    /// Local users' key pairs (federation).
    pub actor_keys: i64,
    /// The instance actor's key pair: 0 or 1.
    pub instance_keys: i64,
    /// Where remote accounts live, and their keys.
    pub remote_actors: i64,
}

pub fn counts(conn: &mut DbConn) -> QueryResult<Counts> {
    Ok(Counts {
        users: users::table.count().get_result(conn)?,
        posts: posts::table.count().get_result(conn)?,
        follows: followers::table.count().get_result(conn)?,
        login_sessions: login_sessions::table.count().get_result(conn)?,
        api_tokens: api_tokens::table.count().get_result(conn)?,
        mails: mails::table.count().get_result(conn)?,
        jobs: jobs::table.count().get_result(conn)?,
        password_resets: password_resets::table.count().get_result(conn)?,
        messages: messages::table.count().get_result(conn)?,
        notifications: notifications::table.count().get_result(conn)?,
        blocks: blocks::table.count().get_result(conn)?,
        tasks: tasks::table.count().get_result(conn)?,
        exports: exports::table.count().get_result(conn)?,
        export_chunks: export_chunks::table.count().get_result(conn)?,
        actor_keys: actor_keys::table.count().get_result(conn)?,
        instance_keys: instance_keys::table.count().get_result(conn)?,
        remote_actors: remote_actors::table.count().get_result(conn)?,
    })
}

/// A password reset link's row, whole (the app itself only ever reads parts of it).
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = password_resets)]
pub struct ResetLinkRow {
    pub user_id: i32,
    pub token_hash: String,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
}

/// Inserts many new users in one statement.
pub fn insert_users(conn: &mut DbConn, rows: &[NewUser<'_>]) -> QueryResult<usize> {
    on_backend!(conn, c => diesel::insert_into(users::table).values(rows).execute(c))
}

/// Inserts many new posts in one statement.
pub fn insert_posts(conn: &mut DbConn, rows: &[NewPost<'_>]) -> QueryResult<usize> {
    on_backend!(conn, c => diesel::insert_into(posts::table).values(rows).execute(c))
}

/// Adds many `(follower, followed)` pairs in one statement; none may exist yet.
pub fn insert_follows(conn: &mut DbConn, pairs: &[(i32, i32)]) -> QueryResult<usize> {
    let rows: Vec<_> = pairs
        .iter()
        .map(|&(follower, followed)| {
            (
                followers::follower_id.eq(follower),
                followers::followed_id.eq(followed),
            )
        })
        .collect();
    on_backend!(conn, c => diesel::insert_into(followers::table).values(&rows).execute(c))
}

/// Every user id, in order.
pub fn user_ids(conn: &mut DbConn) -> QueryResult<Vec<i32>> {
    users::table.select(users::id).order(users::id).load(conn)
}

/// Every user who follows someone.
pub fn follower_ids(conn: &mut DbConn) -> QueryResult<Vec<i32>> {
    followers::table
        .select(followers::follower_id)
        .distinct()
        .load(conn)
}

/// Up to `limit` users with an id above `after`, in id order.
pub fn users_after(conn: &mut DbConn, after: i32, limit: i64) -> QueryResult<Vec<User>> {
    users::table
        .filter(users::id.gt(after))
        .order(users::id)
        .limit(limit)
        .select(User::as_select())
        .load(conn)
}

/// Up to `limit` posts with an id above `after`, in id order.
pub fn posts_after(conn: &mut DbConn, after: i32, limit: i64) -> QueryResult<Vec<Post>> {
    posts::table
        .filter(posts::id.gt(after))
        .order(posts::id)
        .limit(limit)
        .select(Post::as_select())
        .load(conn)
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

/// Up to `limit` messages with an id above `after`, in id order.
pub fn messages_after(conn: &mut DbConn, after: i32, limit: i64) -> QueryResult<Vec<MessageRow>> {
    messages::table
        .filter(messages::id.gt(after))
        .order(messages::id)
        .limit(limit)
        .select(MessageRow::as_select())
        .load(conn)
}

/// Up to `limit` notifications with an id above `after`, in id order.
pub fn notifications_after(
    conn: &mut DbConn,
    after: i32,
    limit: i64,
) -> QueryResult<Vec<NotificationRow>> {
    notifications::table
        .filter(notifications::id.gt(after))
        .order(notifications::id)
        .limit(limit)
        .select(NotificationRow::as_select())
        .load(conn)
}

/// Up to `limit` blocks after `after`, in key order.
pub fn blocks_after(
    conn: &mut DbConn,
    after: (i32, i32),
    limit: i64,
) -> QueryResult<Vec<(i32, i32)>> {
    blocks::table
        .filter(
            blocks::blocker_id.gt(after.0).or(blocks::blocker_id
                .eq(after.0)
                .and(blocks::blocked_id.gt(after.1))),
        )
        .order((blocks::blocker_id, blocks::blocked_id))
        .limit(limit)
        .select((blocks::blocker_id, blocks::blocked_id))
        .load(conn)
}

/// Up to `limit` tasks with an id above `after`, in id order.
pub fn tasks_after(conn: &mut DbConn, after: i32, limit: i64) -> QueryResult<Vec<Task>> {
    tasks::table
        .filter(tasks::id.gt(after))
        .order(tasks::id)
        .limit(limit)
        .select(Task::as_select())
        .load(conn)
}

/// Up to `limit` exports with an id above `after`, in id order.
pub fn exports_after(conn: &mut DbConn, after: i32, limit: i64) -> QueryResult<Vec<Export>> {
    exports::table
        .filter(exports::id.gt(after))
        .order(exports::id)
        .limit(limit)
        .select(Export::as_select())
        .load(conn)
}

/// A piece of an export's file, whole.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = export_chunks)]
pub struct ExportChunkRow {
    pub export_id: i32,
    pub seq: i32,
    pub body: String,
}

/// Up to `limit` pieces of export files after `(export_id, seq)`, in that order (pieces of
/// about 150 KB: a few at a time).
pub fn export_chunks_after(
    conn: &mut DbConn,
    (export, seq): (i32, i32),
    limit: i64,
) -> QueryResult<Vec<ExportChunkRow>> {
    export_chunks::table
        .filter(
            export_chunks::export_id
                .gt(export)
                .or(export_chunks::export_id
                    .eq(export)
                    .and(export_chunks::seq.gt(seq))),
        )
        .order((export_chunks::export_id, export_chunks::seq))
        .limit(limit)
        .select(ExportChunkRow::as_select())
        .load(conn)
}

/// Writes pieces of export files.
pub fn insert_export_chunks(conn: &mut DbConn, rows: &[ExportChunkRow]) -> QueryResult<usize> {
    on_backend!(conn, c => diesel::insert_into(export_chunks::table).values(rows).execute(c))
}

/// Writes task rows, ids included.
pub fn insert_task_rows(conn: &mut DbConn, rows: &[Task]) -> QueryResult<usize> {
    on_backend!(conn, c => diesel::insert_into(tasks::table).values(rows).execute(c))
}

/// Writes export rows, ids included.
pub fn insert_export_rows(conn: &mut DbConn, rows: &[Export]) -> QueryResult<usize> {
    on_backend!(conn, c => diesel::insert_into(exports::table).values(rows).execute(c))
}

/// Writes message rows, ids included.
pub fn insert_message_rows(conn: &mut DbConn, rows: &[MessageRow]) -> QueryResult<usize> {
    on_backend!(conn, c => diesel::insert_into(messages::table).values(rows).execute(c))
}

/// Writes notification rows, ids included.
pub fn insert_notification_rows(conn: &mut DbConn, rows: &[NotificationRow]) -> QueryResult<usize> {
    on_backend!(conn, c => diesel::insert_into(notifications::table).values(rows).execute(c))
}

/// Writes `(blocker, blocked)` pairs.
pub fn insert_blocks(conn: &mut DbConn, pairs: &[(i32, i32)]) -> QueryResult<usize> {
    let rows: Vec<_> = pairs
        .iter()
        .map(|&(blocker, blocked)| {
            (
                blocks::blocker_id.eq(blocker),
                blocks::blocked_id.eq(blocked),
            )
        })
        .collect();
    on_backend!(conn, c => diesel::insert_into(blocks::table).values(&rows).execute(c))
}

/// Up to `limit` logins with an id above `after`, in id order.
pub fn login_sessions_after(
    conn: &mut DbConn,
    after: i32,
    limit: i64,
) -> QueryResult<Vec<LoginSession>> {
    login_sessions::table
        .filter(login_sessions::id.gt(after))
        .order(login_sessions::id)
        .limit(limit)
        .select(LoginSession::as_select())
        .load(conn)
}

/// An API token's row, whole.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = api_tokens)]
pub struct ApiTokenRow {
    pub id: i32,
    pub token_hash: String,
    pub user_id: i32,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
}

/// Up to `limit` API tokens with an id above `after`, in id order.
pub fn api_tokens_after(
    conn: &mut DbConn,
    after: i32,
    limit: i64,
) -> QueryResult<Vec<ApiTokenRow>> {
    api_tokens::table
        .filter(api_tokens::id.gt(after))
        .order(api_tokens::id)
        .limit(limit)
        .select(ApiTokenRow::as_select())
        .load(conn)
}

/// Inserts whole API token rows, ids included.
pub fn insert_api_token_rows(conn: &mut DbConn, rows: &[ApiTokenRow]) -> QueryResult<usize> {
    on_backend!(conn, c => diesel::insert_into(api_tokens::table).values(rows).execute(c))
}

/// Up to `limit` mails with an id above `after`, in id order.
pub fn mails_after(conn: &mut DbConn, after: i32, limit: i64) -> QueryResult<Vec<MailRow>> {
    mails::table
        .filter(mails::id.gt(after))
        .order(mails::id)
        .limit(limit)
        .select(MailRow::as_select())
        .load(conn)
}

/// Up to `limit` jobs with an id above `after`, in id order.
pub fn jobs_after(conn: &mut DbConn, after: i32, limit: i64) -> QueryResult<Vec<JobRow>> {
    jobs::table
        .filter(jobs::id.gt(after))
        .order(jobs::id)
        .limit(limit)
        .select(JobRow::as_select())
        .load(conn)
}

/// Up to `limit` reset links of users with an id above `after`, in user order.
pub fn reset_links_after(
    conn: &mut DbConn,
    after: i32,
    limit: i64,
) -> QueryResult<Vec<ResetLinkRow>> {
    password_resets::table
        .filter(password_resets::user_id.gt(after))
        .order(password_resets::user_id)
        .limit(limit)
        .select(ResetLinkRow::as_select())
        .load(conn)
}

/// A local user's key pair's row, whole.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = actor_keys)]
pub struct ActorKeyRow {
    pub user_id: i32,
    pub public_key_pem: String,
    pub private_key_pem: String,
    pub created_at: NaiveDateTime,
}

/// The instance actor's key pair's row, whole.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = instance_keys)]
pub struct InstanceKeyRow {
    pub id: i32,
    pub public_key_pem: String,
    pub private_key_pem: String,
    pub created_at: NaiveDateTime,
}

/// Up to `limit` key pairs of users with an id above `after`, in user order.
pub fn actor_keys_after(
    conn: &mut DbConn,
    after: i32,
    limit: i64,
) -> QueryResult<Vec<ActorKeyRow>> {
    actor_keys::table
        .filter(actor_keys::user_id.gt(after))
        .order(actor_keys::user_id)
        .limit(limit)
        .select(ActorKeyRow::as_select())
        .load(conn)
}

/// The instance actor's key pair rows with an id above `after` (there is at most one).
pub fn instance_keys_after(
    conn: &mut DbConn,
    after: i32,
    limit: i64,
) -> QueryResult<Vec<InstanceKeyRow>> {
    instance_keys::table
        .filter(instance_keys::id.gt(after))
        .order(instance_keys::id)
        .limit(limit)
        .select(InstanceKeyRow::as_select())
        .load(conn)
}

/// Up to `limit` remote accounts' rows with a user id above `after`, in user order.
pub fn remote_actors_after(
    conn: &mut DbConn,
    after: i32,
    limit: i64,
) -> QueryResult<Vec<RemoteActor>> {
    remote_actors::table
        .filter(remote_actors::user_id.gt(after))
        .order(remote_actors::user_id)
        .limit(limit)
        .select(RemoteActor::as_select())
        .load(conn)
}

pub fn insert_actor_key_rows(conn: &mut DbConn, rows: &[ActorKeyRow]) -> QueryResult<usize> {
    on_backend!(conn, c => diesel::insert_into(actor_keys::table).values(rows).execute(c))
}

pub fn insert_instance_key_rows(conn: &mut DbConn, rows: &[InstanceKeyRow]) -> QueryResult<usize> {
    on_backend!(conn, c => diesel::insert_into(instance_keys::table).values(rows).execute(c))
}

pub fn insert_remote_actor_rows(conn: &mut DbConn, rows: &[RemoteActor]) -> QueryResult<usize> {
    on_backend!(conn, c => diesel::insert_into(remote_actors::table).values(rows).execute(c))
}

/// Inserts whole user rows, ids included.
pub fn insert_user_rows(conn: &mut DbConn, rows: &[User]) -> QueryResult<usize> {
    on_backend!(conn, c => diesel::insert_into(users::table).values(rows).execute(c))
}

/// Inserts whole post rows, ids included.
pub fn insert_post_rows(conn: &mut DbConn, rows: &[Post]) -> QueryResult<usize> {
    on_backend!(conn, c => diesel::insert_into(posts::table).values(rows).execute(c))
}

/// Inserts whole login rows, ids included.
pub fn insert_login_session_rows(conn: &mut DbConn, rows: &[LoginSession]) -> QueryResult<usize> {
    on_backend!(conn, c => diesel::insert_into(login_sessions::table).values(rows).execute(c))
}

/// Inserts whole mail rows, ids included.
pub fn insert_mail_rows(conn: &mut DbConn, rows: &[MailRow]) -> QueryResult<usize> {
    on_backend!(conn, c => diesel::insert_into(mails::table).values(rows).execute(c))
}

/// Inserts whole job rows, ids included.
pub fn insert_job_rows(conn: &mut DbConn, rows: &[JobRow]) -> QueryResult<usize> {
    on_backend!(conn, c => diesel::insert_into(jobs::table).values(rows).execute(c))
}

/// Inserts whole reset link rows.
pub fn insert_reset_link_rows(conn: &mut DbConn, rows: &[ResetLinkRow]) -> QueryResult<usize> {
    on_backend!(conn, c => diesel::insert_into(password_resets::table).values(rows).execute(c))
}

/// After rows were inserted with their ids, moves PostgreSQL's id sequences past them so the
/// next insert gets a new id. SQLite's AUTOINCREMENT keeps track by itself.
pub fn reset_id_sequences(conn: &mut DbConn) -> QueryResult<()> {
    if let DbConn::Postgresql(pg) = conn {
        for table in [
            "users",
            "posts",
            "login_sessions",
            "api_tokens",
            "mails",
            "jobs",
            "messages",
            "notifications",
            "tasks",
            "exports",
        ] {
            pg.batch_execute(&format!(
                "SELECT setval(pg_get_serial_sequence('{table}', 'id'), \
                 COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
            ))?;
        }
    }
    Ok(())
}
