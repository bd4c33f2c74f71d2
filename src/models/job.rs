//! The job runner's table (`src/jobs.rs` says how a job runs): the kinds of [`Job`] the app
//! queues, adding one ([`enqueue`]), claiming one under a lease, and ending it. What each kind
//! does is `src/tasks.rs` (Flask's `app/tasks.py`).

use std::time::Duration;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use crate::db::DbConn;
use crate::models;
use crate::schema::jobs;

pub const QUEUED: &str = "queued";
pub const RUNNING: &str = "running";
pub const DONE: &str = "done";
pub const FAILED: &str = "failed";

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = jobs)]
pub struct JobRow {
    pub id: i32,
    pub kind: String,
    pub payload: String,
    pub state: String,
    pub attempts: i32,
    pub max_attempts: i32,
    pub run_at: NaiveDateTime,
    pub locked_by: Option<String>,
    pub locked_until: Option<NaiveDateTime>,
    pub last_error: Option<String>,
    pub created_at: NaiveDateTime,
    pub finished_at: Option<NaiveDateTime>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = jobs)]
pub struct NewJob<'a> {
    pub kind: &'a str,
    pub payload: &'a str,
    pub state: &'a str,
    pub attempts: i32,
    pub max_attempts: i32,
    pub run_at: NaiveDateTime,
    pub created_at: NaiveDateTime,
}

pub fn insert(conn: &mut DbConn, new: &NewJob<'_>) -> QueryResult<i32> {
    diesel::insert_into(jobs::table)
        .values(new)
        .returning(jobs::id)
        .get_result(conn)
}

/// The work the app can queue. Stored as JSON (`{"kind": "send_mail", ...}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Job {
    /// Deliver one mail of the outbox (`mails`).
    SendMail { mail_id: i32 },
    /// Mail a password reset link to `email` if it is a user's; links start with `site`; the
    /// mail is written in `lang`, the language of the page that asked.
    PasswordReset {
        email: String,
        site: String,
        #[serde(default = "english_tag")]
        lang: String,
    },
    /// Mail `user_id` a link to `email` that makes it their address once opened (a port
    /// addition); links start with `site`, the mail is written in `lang`.
    ConfirmEmail {
        user_id: i32,
        email: String,
        site: String,
        lang: String,
    },
    /// Export the posts of task `task_id`'s user to `posts.json` and mail it (chapter 22); the
    /// mail is written in `lang`.
    ExportPosts {
        task_id: i32,
        #[serde(default = "english_tag")]
        lang: String,
    },
    /// Federation: queue a [`Job::Deliver`] of `activity` (JSON) for each server following
    /// local user `signer` (a server's shared inbox once).
    FanOut { signer: i32, activity: String },
    /// Federation: POST `activity` (JSON) to `inbox`, signed by local user `signer` when it is
    /// sent.
    Deliver {
        inbox: String,
        signer: i32,
        activity: String,
        /// The key to sign with when `signer`'s account is deleted: the `Delete` of the
        /// account itself, which must still be signed by its key.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        key: Option<CarriedKey>,
    },
}

/// A deleted account's key, carried by the deliveries of its `Delete` (and gone with them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CarriedKey {
    pub key_id: String,
    pub private_pem: String,
}

impl Job {
    pub fn kind(&self) -> &'static str {
        match self {
            Self::SendMail { .. } => "send_mail",
            Self::PasswordReset { .. } => "password_reset",
            Self::ConfirmEmail { .. } => "confirm_email",
            Self::ExportPosts { .. } => "export_posts",
            Self::FanOut { .. } => "fan_out",
            Self::Deliver { .. } => "deliver",
        }
    }

    /// The longest one attempt may run before it is stopped and counted as failed.
    pub fn time_limit(&self) -> Duration {
        match self {
            // The SMTP connection's own timeouts end a delivery long before this.
            Self::SendMail { .. } | Self::PasswordReset { .. } | Self::ConfirmEmail { .. } => {
                Duration::from_secs(120)
            }
            // 100,000 posts take a few seconds.
            Self::ExportPosts { .. } => Duration::from_secs(600),
            // The client gives up after 10 s (`federation::client::TIMEOUT`).
            Self::FanOut { .. } | Self::Deliver { .. } => Duration::from_secs(60),
        }
    }

    /// Attempts before the job is left `failed`. A mail is tried for about thirteen hours.
    fn max_attempts(&self) -> i32 {
        match self {
            Self::SendMail { .. } => 25,
            Self::PasswordReset { .. } | Self::ConfirmEmail { .. } => 10,
            // Tried again after 1, 2, 4 and 8 seconds, then the user is told it failed.
            Self::ExportPosts { .. } => 5,
            Self::FanOut { .. } => 10,
            // Waits of 1 s doubling to an hour, then hourly: about three days, then the server
            // is given up (Mastodon tries for about a week).
            Self::Deliver { .. } => 80,
        }
    }
}

/// `"en"`, the language of jobs stored before they named one.
fn english_tag() -> String {
    "en".to_owned()
}

/// Writes `job` to the queue, in the caller's transaction if there is one. Wake the worker
/// (`jobs::Jobs::wake`) once the transaction has committed, or it finds the job at its next
/// look.
pub fn enqueue(conn: &mut DbConn, job: &Job) -> QueryResult<i32> {
    let payload = serde_json::to_string(job)
        .map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))?;
    // Due at once by the clock every instance reads (`claim`'s).
    let now = models::db_now(conn)?;
    insert(
        conn,
        &NewJob {
            kind: job.kind(),
            payload: &payload,
            state: QUEUED,
            attempts: 0,
            max_attempts: job.max_attempts(),
            run_at: now,
            created_at: now,
        },
    )
}

/// Due: queued and its time has come, or running under a lease that ran out (its worker died).
macro_rules! due {
    ($now:expr) => {
        jobs::state
            .eq(QUEUED)
            .and(jobs::run_at.le($now))
            .or(jobs::state.eq(RUNNING).and(jobs::locked_until.lt($now)))
    };
}

/// Takes the oldest due job for `worker` until `lease_until`, counting the attempt; `None` when
/// nothing is due.
///
/// On PostgreSQL the candidate row is locked with `FOR UPDATE SKIP LOCKED`, so instances
/// claiming at the same moment each get a different job instead of waiting on one another.
/// SQLite has a single writer; there the update itself checks that the job is still due, and a
/// worker that lost the race looks again.
pub fn claim(
    conn: &mut DbConn,
    worker: &str,
    now: NaiveDateTime,
    lease_until: NaiveDateTime,
) -> QueryResult<Option<JobRow>> {
    // Each backend's own connection: `FOR UPDATE SKIP LOCKED` exists only on PostgreSQL's.
    macro_rules! oldest_due {
        () => {
            jobs::table
                .filter(due!(now))
                .order((jobs::run_at, jobs::id))
                .select(jobs::id)
        };
    }
    macro_rules! take {
        ($c:expr, $id:expr) => {
            diesel::update(jobs::table.find($id).filter(due!(now)))
                .set((
                    jobs::state.eq(RUNNING),
                    jobs::locked_by.eq(worker),
                    jobs::locked_until.eq(lease_until),
                    jobs::attempts.eq(jobs::attempts + 1),
                ))
                .returning(jobs::all_columns)
                .get_result::<JobRow>($c)
                .optional()
        };
    }
    match conn {
        DbConn::Postgresql(pg) => pg.transaction(|pg| {
            match oldest_due!()
                .for_update()
                .skip_locked()
                .first::<i32>(pg)
                .optional()?
            {
                Some(id) => take!(pg, id),
                None => Ok(None),
            }
        }),
        DbConn::Sqlite(lite) => loop {
            let Some(id) = oldest_due!().first::<i32>(lite).optional()? else {
                return Ok(None);
            };
            if let Some(job) = take!(lite, id)? {
                return Ok(Some(job));
            }
        },
    }
}

/// This claim of a running job: the worker and the attempt it claimed. Every change to a claimed
/// job is limited to it, so a run whose lease was lost (and the job claimed again, by another
/// worker or by this one) changes nothing.
macro_rules! held {
    ($id:expr, $worker:expr, $attempt:expr) => {
        jobs::table
            .find($id)
            .filter(jobs::state.eq(RUNNING))
            .filter(jobs::locked_by.eq($worker))
            .filter(jobs::attempts.eq($attempt))
    };
}

/// Moves the lease on; false when the job is no longer this worker's.
pub fn renew(
    conn: &mut DbConn,
    id: i32,
    worker: &str,
    attempt: i32,
    until: NaiveDateTime,
) -> QueryResult<bool> {
    let n = diesel::update(held!(id, worker, attempt))
        .set(jobs::locked_until.eq(until))
        .execute(conn)?;
    Ok(n == 1)
}

/// Whether `worker` still holds job `id` under the claim of `attempt`. Asked with an update
/// that changes nothing, so that, first in a transaction, it also takes SQLite's write lock:
/// a transaction that read first could not write later if another connection wrote between.
pub fn is_held(conn: &mut DbConn, id: i32, worker: &str, attempt: i32) -> QueryResult<bool> {
    let n = diesel::update(held!(id, worker, attempt))
        .set(jobs::locked_until.eq(jobs::locked_until))
        .execute(conn)?;
    Ok(n == 1)
}

/// Fails a job claimed again after its last attempt (which never came back), without counting
/// the claim as an attempt.
pub fn exhaust(
    conn: &mut DbConn,
    id: i32,
    worker: &str,
    attempt: i32,
    error: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let n = diesel::update(held!(id, worker, attempt))
        .set((
            jobs::state.eq(FAILED),
            jobs::attempts.eq(attempt - 1),
            jobs::locked_by.eq(None::<String>),
            jobs::locked_until.eq(None::<NaiveDateTime>),
            jobs::last_error.eq(error),
            jobs::finished_at.eq(now),
        ))
        .execute(conn)?;
    Ok(n == 1)
}

/// Marks the job done; false when it was not this worker's running job (already done by the
/// job itself, inside its own transaction, or lost with the lease).
pub fn complete(
    conn: &mut DbConn,
    id: i32,
    worker: &str,
    attempt: i32,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let n = diesel::update(held!(id, worker, attempt))
        .set((
            jobs::state.eq(DONE),
            jobs::locked_by.eq(None::<String>),
            jobs::locked_until.eq(None::<NaiveDateTime>),
            jobs::finished_at.eq(now),
        ))
        .execute(conn)?;
    Ok(n == 1)
}

/// After a failed attempt: queued again for `retry_at`, or failed for good (`None`), with the
/// error kept either way.
pub fn fail(
    conn: &mut DbConn,
    id: i32,
    worker: &str,
    attempt: i32,
    error: &str,
    retry_at: Option<NaiveDateTime>,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let (state, run_at, finished_at) = match retry_at {
        Some(at) => (QUEUED, at, None),
        None => (FAILED, now, Some(now)),
    };
    let n = diesel::update(held!(id, worker, attempt))
        .set((
            jobs::state.eq(state),
            jobs::run_at.eq(run_at),
            jobs::locked_by.eq(None::<String>),
            jobs::locked_until.eq(None::<NaiveDateTime>),
            jobs::last_error.eq(error),
            jobs::finished_at.eq(finished_at),
        ))
        .execute(conn)?;
    Ok(n == 1)
}

/// Drops from the payload of job `id`, which has ended (done or failed for good), what it must
/// not keep: the private key a deleted account's farewell carried. The job stays readable
/// (`microblog jobs list`) without it.
pub fn forget_secrets(conn: &mut DbConn, id: i32, payload: &str) -> QueryResult<()> {
    let Ok(Job::Deliver {
        inbox,
        signer,
        activity,
        key: Some(_),
    }) = serde_json::from_str::<Job>(payload)
    else {
        return Ok(());
    };
    let kept = Job::Deliver {
        inbox,
        signer,
        activity,
        key: None,
    };
    let payload = serde_json::to_string(&kept)
        .map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))?;
    diesel::update(jobs::table.find(id))
        .set(jobs::payload.eq(payload))
        .execute(conn)
        .map(drop)
}

/// Deletes jobs that finished well before `before`; failed ones stay, with their error, until
/// someone looks.
pub fn delete_done(conn: &mut DbConn, before: NaiveDateTime) -> QueryResult<usize> {
    diesel::delete(
        jobs::table
            .filter(jobs::state.eq(DONE))
            .filter(jobs::finished_at.lt(before)),
    )
    .execute(conn)
}

/// For `microblog jobs list`: every job queued or running, every one failed for good, and the
/// `recent` newest done, in that order (each oldest first).
pub fn overview(conn: &mut DbConn, recent: i64) -> QueryResult<Vec<JobRow>> {
    let mut rows = pending(conn)?;
    rows.extend(
        jobs::table
            .filter(jobs::state.eq(FAILED))
            .order(jobs::id)
            .select(JobRow::as_select())
            .load(conn)?,
    );
    let mut done: Vec<JobRow> = jobs::table
        .filter(jobs::state.eq(DONE))
        .order(jobs::id.desc())
        .limit(recent)
        .select(JobRow::as_select())
        .load(conn)?;
    done.reverse();
    rows.extend(done);
    Ok(rows)
}

/// Jobs not finished yet (queued or running), for tests and the command line.
pub fn pending(conn: &mut DbConn) -> QueryResult<Vec<JobRow>> {
    jobs::table
        .filter(jobs::state.eq_any([QUEUED, RUNNING]))
        .order(jobs::id)
        .select(JobRow::as_select())
        .load(conn)
}
