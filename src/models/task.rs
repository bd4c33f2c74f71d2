//! Flask: the `Task` model and `User.launch_task`, `get_tasks_in_progress`,
//! `get_task_in_progress` (chapter 22): a user's long-running work, seen on every page while it
//! runs, and what an export made (`exports`, kept a day).

use chrono::{NaiveDateTime, TimeDelta};
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error::DatabaseError};
use serde::Serialize;

use crate::db::DbConn;
use crate::models::job::{self, Job};
use crate::models::mail;
use crate::schema::{export_chunks, exports, mails, tasks};

/// The task of "Export your posts".
pub const EXPORT_POSTS: &str = "export_posts";
/// How long an export can be downloaded from the profile.
pub const KEEP_EXPORT: TimeDelta = TimeDelta::days(1);

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = tasks)]
pub struct Task {
    pub id: i32,
    pub name: String,
    pub description: String,
    pub user_id: i32,
    pub progress: i32,
    pub complete: bool,
    pub failed: bool,
    pub created_at: NaiveDateTime,
}

/// The most tasks of one name a user may start in [`QUOTA_WINDOW`]: a person exports their
/// posts a few times a day at most; a script looping on the button would fill a mailbox.
pub const QUOTA: i64 = 3;
/// The window of [`QUOTA`].
pub const QUOTA_WINDOW: TimeDelta = TimeDelta::days(1);

/// What launching a task came to.
#[derive(Debug, PartialEq, Eq)]
pub enum Launched {
    /// The task and its job are written (the job's id).
    Started(i32),
    /// A task of that name is still running for the user.
    AlreadyRunning,
    /// The user started [`QUOTA`] tasks of that name in the last [`QUOTA_WINDOW`]: the next may
    /// start at this time.
    OverQuota(NaiveDateTime),
}

/// Flask: `User.launch_task(name, description)`: the task row and the job that does it, in
/// one transaction. A second unfinished task of the same name for the user is refused by the
/// database's unique index, not by a check that another request could slip past; past the
/// user's [`QUOTA`] of the day, nothing is started.
pub fn launch(
    conn: &mut DbConn,
    user: i32,
    name: &str,
    description: &str,
    make_job: impl FnOnce(i32) -> Job,
    now: NaiveDateTime,
) -> QueryResult<Launched> {
    let mut over_quota = None;
    let inserted = conn.transaction(|conn| {
        // Written first (on SQLite the transaction then holds the write lock throughout), then
        // counted with the day's others; one over the quota is rolled back.
        let id: i32 = diesel::insert_into(tasks::table)
            .values((
                tasks::name.eq(name),
                tasks::description.eq(description),
                tasks::user_id.eq(user),
                tasks::progress.eq(0),
                tasks::complete.eq(false),
                tasks::failed.eq(false),
                tasks::created_at.eq(now),
            ))
            .returning(tasks::id)
            .get_result(conn)?;
        // The day's earlier tasks, newest first (tasks stay a week, so they are all here).
        let earlier: Vec<NaiveDateTime> = tasks::table
            .filter(tasks::user_id.eq(user))
            .filter(tasks::name.eq(name))
            .filter(tasks::id.ne(id))
            // One that failed was not the user's doing, and gave them nothing.
            .filter(tasks::failed.eq(false))
            .filter(tasks::created_at.gt(now - QUOTA_WINDOW))
            .order(tasks::created_at.desc())
            .limit(QUOTA)
            .select(tasks::created_at)
            .load(conn)?;
        if earlier.len() as i64 >= QUOTA {
            // The next fits a day after the oldest of the quota's tasks.
            over_quota = earlier.last().map(|oldest| *oldest + QUOTA_WINDOW);
            return Err(diesel::result::Error::RollbackTransaction);
        }
        job::enqueue(conn, &make_job(id))
    });
    match (inserted, over_quota) {
        (Ok(job), _) => Ok(Launched::Started(job)),
        (Err(diesel::result::Error::RollbackTransaction), Some(next)) => {
            Ok(Launched::OverQuota(next))
        }
        (Err(DatabaseError(DatabaseErrorKind::UniqueViolation, _)), _) => {
            Ok(Launched::AlreadyRunning)
        }
        (Err(e), _) => Err(e),
    }
}

pub fn find(conn: &mut DbConn, id: i32) -> QueryResult<Option<Task>> {
    tasks::table
        .find(id)
        .select(Task::as_select())
        .first(conn)
        .optional()
}

/// Up to `limit` of `user`'s posts with an id above `after`, oldest first: `(id, body,
/// timestamp)`, for an export read page by page.
pub fn posts_of_after(
    conn: &mut DbConn,
    user: i32,
    after: i32,
    limit: i64,
) -> QueryResult<Vec<(i32, String, NaiveDateTime)>> {
    use crate::schema::posts;
    posts::table
        .filter(posts::user_id.eq(user))
        .filter(posts::id.gt(after))
        .order(posts::id)
        .limit(limit)
        .select((posts::id, posts::body, posts::timestamp))
        .load(conn)
}

/// How many posts `user` has.
pub fn post_count(conn: &mut DbConn, user: i32) -> QueryResult<i64> {
    use crate::schema::posts;
    posts::table
        .filter(posts::user_id.eq(user))
        .count()
        .get_result(conn)
}

/// Writes a running task's progress (0-100).
pub fn set_progress(conn: &mut DbConn, id: i32, progress: i32) -> QueryResult<usize> {
    diesel::update(tasks::table.find(id).filter(tasks::complete.eq(false)))
        .set(tasks::progress.eq(progress.clamp(0, 100)))
        .execute(conn)
}

/// Ends a task: done (progress 100, even if an earlier run had given it up as failed), or
/// failed (its progress kept; never a task already done).
pub fn finish(conn: &mut DbConn, id: i32, failed: bool) -> QueryResult<usize> {
    let task = diesel::update(tasks::table.find(id));
    if failed {
        diesel::update(tasks::table.find(id).filter(tasks::complete.eq(false)))
            .set((tasks::complete.eq(true), tasks::failed.eq(true)))
            .execute(conn)
    } else {
        task.set((
            tasks::complete.eq(true),
            tasks::failed.eq(false),
            tasks::progress.eq(100),
        ))
        .execute(conn)
    }
}

/// An export's file: its pieces are in `export_chunks` (see [`FILE_START`]).
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = exports)]
pub struct Export {
    pub id: i32,
    pub task_id: i32,
    pub user_id: i32,
    pub filename: String,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    /// Every piece is written and the task is done.
    pub ready: bool,
    /// The whole file's length in bytes.
    pub size: i64,
}

/// The file is `FILE_START`, its pieces in order, then `FILE_END`; a piece is posts as JSON
/// separated by `SEPARATOR`, and every piece after the first starts with `SEPARATOR`, so the
/// pieces are only put end to end.
pub const FILE_START: &str = "{\"posts\": [";
pub const SEPARATOR: &str = ", ";
pub const FILE_END: &str = "]}";

/// Starts the file of `task`'s export, to be filled with [`add_chunk`] and made ready by
/// [`finish_export`]; its id. What an earlier run of the task left unfinished is deleted first
/// (a run that lost its lease and still writes then fails on the missing export).
pub fn begin_export(
    conn: &mut DbConn,
    task: &Task,
    filename: &str,
    now: NaiveDateTime,
) -> QueryResult<i32> {
    // Its pieces go with it (ON DELETE CASCADE).
    diesel::delete(
        exports::table
            .filter(exports::task_id.eq(task.id))
            .filter(exports::ready.eq(false)),
    )
    .execute(conn)?;
    diesel::insert_into(exports::table)
        .values((
            exports::task_id.eq(task.id),
            exports::user_id.eq(task.user_id),
            exports::filename.eq(filename),
            exports::created_at.eq(now),
            // Deleted by the housekeeping a day on if it is never finished.
            exports::expires_at.eq(now + KEEP_EXPORT),
            exports::ready.eq(false),
            exports::size.eq(0),
        ))
        .returning(exports::id)
        .get_result(conn)
}

/// Writes piece `seq` (0, 1, ...) of an unfinished export.
pub fn add_chunk(conn: &mut DbConn, export: i32, seq: i32, body: &str) -> QueryResult<usize> {
    diesel::insert_into(export_chunks::table)
        .values((
            export_chunks::export_id.eq(export),
            export_chunks::seq.eq(seq),
            export_chunks::body.eq(body),
        ))
        .execute(conn)
}

/// Where the owner downloads export `id`.
pub fn download_path(id: i32) -> String {
    format!("/export_posts/{id}/posts.json")
}

/// Makes an export's file downloadable for [`KEEP_EXPORT`] from `now`.
pub fn finish_export(
    conn: &mut DbConn,
    export: i32,
    size: i64,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(exports::table.find(export))
        .set((
            exports::ready.eq(true),
            exports::size.eq(size),
            exports::created_at.eq(now),
            exports::expires_at.eq(now + KEEP_EXPORT),
        ))
        .execute(conn)
}

/// Deletes `user`'s finished exports but `keep` (the newest is the one a person wants; a
/// script exporting again and again must not pile up copies), except those a queued mail still
/// carries as its attachment.
pub fn delete_older_exports(conn: &mut DbConn, user: i32, keep: i32) -> QueryResult<usize> {
    let waiting = mails::table
        .filter(mails::status.eq(mail::QUEUED))
        .filter(mails::attachment_export_id.is_not_null())
        .select(mails::attachment_export_id.assume_not_null());
    // Their pieces go with them (ON DELETE CASCADE).
    diesel::delete(
        exports::table
            .filter(exports::user_id.eq(user))
            .filter(exports::id.ne(keep))
            .filter(exports::ready.eq(true))
            .filter(exports::id.ne_all(waiting)),
    )
    .execute(conn)
}

/// A finished export, without its pieces.
pub fn find_export(conn: &mut DbConn, id: i32) -> QueryResult<Option<Export>> {
    exports::table
        .find(id)
        .filter(exports::ready.eq(true))
        .select(Export::as_select())
        .first(conn)
        .optional()
}

/// Piece `seq` of export `export`; `None` past the last.
pub fn chunk(conn: &mut DbConn, export: i32, seq: i32) -> QueryResult<Option<String>> {
    export_chunks::table
        .find((export, seq))
        .select(export_chunks::body)
        .first(conn)
        .optional()
}

/// A finished export's whole file, for a mail's attachment (the export chose to attach only a
/// file of a few MiB).
pub fn export_file(conn: &mut DbConn, id: i32) -> QueryResult<Option<(String, String)>> {
    let Some(export) = find_export(conn, id)? else {
        return Ok(None);
    };
    let pieces: Vec<String> = export_chunks::table
        .filter(export_chunks::export_id.eq(id))
        .order(export_chunks::seq)
        .select(export_chunks::body)
        .load(conn)?;
    let file = format!("{FILE_START}{}{FILE_END}", pieces.concat());
    Ok(Some((export.filename, file)))
}

/// The user's newest export that can still be downloaded at `now`, without its body.
pub fn latest_export(
    conn: &mut DbConn,
    user: i32,
    now: NaiveDateTime,
) -> QueryResult<Option<(i32, NaiveDateTime)>> {
    exports::table
        .filter(exports::user_id.eq(user))
        .filter(exports::ready.eq(true))
        .filter(exports::expires_at.gt(now))
        .order(exports::id.desc())
        .select((exports::id, exports::expires_at))
        .first(conn)
        .optional()
}

/// Whether the user's newest export task ended failed.
pub fn last_export_failed(conn: &mut DbConn, user: i32) -> QueryResult<bool> {
    let newest: Option<bool> = tasks::table
        .filter(tasks::user_id.eq(user))
        .filter(tasks::name.eq(EXPORT_POSTS))
        .order(tasks::id.desc())
        .select(tasks::failed)
        .first(conn)
        .optional()?;
    Ok(newest.unwrap_or(false))
}

/// How long past its day an export may wait for its mail: the mail job's retries last about
/// thirteen hours.
const WAIT_FOR_MAIL: TimeDelta = TimeDelta::days(1);

/// Deletes the exports past their day that no queued mail still carries (an unfinished one
/// too), and every export a day past that, whatever became of its mail.
pub fn delete_expired_exports(conn: &mut DbConn, now: NaiveDateTime) -> QueryResult<usize> {
    let waiting = mails::table
        .filter(mails::status.eq(mail::QUEUED))
        .filter(mails::attachment_export_id.is_not_null())
        .select(mails::attachment_export_id.assume_not_null());
    // Their pieces go with them (ON DELETE CASCADE).
    diesel::delete(
        exports::table.filter(
            exports::expires_at
                .le(now - WAIT_FOR_MAIL)
                .or(exports::expires_at.le(now).and(exports::id.ne_all(waiting))),
        ),
    )
    .execute(conn)
}

/// How long an ended task is kept: its "Export failed" stays on the profile until then, or
/// until the next export.
pub const KEEP_ENDED_TASK: TimeDelta = TimeDelta::days(7);

/// Deletes tasks that ended before `before` and have no export left.
pub fn delete_ended_tasks(conn: &mut DbConn, before: NaiveDateTime) -> QueryResult<usize> {
    diesel::delete(
        tasks::table
            .filter(tasks::complete.eq(true))
            .filter(tasks::created_at.lt(before))
            .filter(tasks::id.ne_all(exports::table.select(exports::task_id))),
    )
    .execute(conn)
}
