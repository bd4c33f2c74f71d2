//! The background job runner (what the tutorial does with Redis and an RQ worker, here on a
//! table of the app's own database, so no other server is needed).
//!
//! A [`Job`] (`models::job`) is written to the `jobs` table, usually in the same transaction as
//! what asks for it, and every app instance runs a worker ([`Jobs::run`]) that claims due jobs
//! and has the app's [`Tasks`] perform them. The runner knows the queue, not the work: the app
//! hands it its tasks (`tasks::Registry`), as RQ is handed a function's name.
//! What the runner promises:
//!
//! - **Durable.** A job is a row: it survives a restart, a crash, even SIGKILL.
//! - **Claimed under a lease.** A worker holds a job while `locked_until` is ahead and moves it on
//!   every [`RENEW_EVERY`] while the job runs. If the worker dies, the lease runs out and another
//!   worker (or the same app, restarted) claims the job again after at most [`LEASE`].
//! - **One worker at a time.** On PostgreSQL a claim locks the row with `FOR UPDATE SKIP LOCKED`,
//!   so several instances on one database never take the same job; on SQLite the claim is one
//!   conditional update (SQLite has a single writer). Every later change names the claim (worker
//!   and attempt), so a run whose lease was lost can no longer renew, complete or fail the job.
//! - **At least once.** A job can run again after a crash in the middle, so each job's effects
//!   are idempotent: a mail is marked sent and not sent again; work that only writes to the
//!   database completes its job in the same transaction ([`Lease::complete`]).
//! - **Retried with backoff**: after a failure, attempt *n* waits 2^(*n*-1) seconds (at most an
//!   hour) until the job's `max_attempts`; then the job is `failed`, its last error kept. An
//!   error wrapped in [`Permanent`] fails the job at once (no retry can help).
//! - **Time-limited.** An attempt that runs past its job's [`Job::time_limit`] is stopped and
//!   counts as failed; its lease is no longer renewed, so anything it still tries to commit is
//!   refused.
//! - **Given up together.** When a job fails for good, what waits on it (a user's task) ends in
//!   the same transaction ([`Tasks::given_up`]). A job whose last attempt never came back (the
//!   process died, or the failure could not be written) is failed when its lease runs out,
//!   instead of running again after every restart.
//! - **One clock.** Leases and due times are read from the database's clock
//!   (`models::db_now`), never the machine's: instances whose clocks disagree by minutes still
//!   agree on when a lease has run out, so none takes a job another still holds.
//! - **Drivable by hand**: [`Jobs::run_due`] runs what is due, then returns (tests).
//!
//! The kinds of job are `models::job::Job`; what each does is in `src/tasks.rs` (Flask's
//! `app/tasks.py`).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use chrono::TimeDelta;
use diesel::{Connection as _, QueryResult};
use rand::RngCore;
use tokio::sync::{Notify, Semaphore};

use crate::db::{Db, DbConn};
use crate::error::{AppError, chain};
use crate::live::Live;
use crate::models;
use crate::models::job::{self, Job};

/// How long a claim lasts without renewal: how soon the job of a dead worker runs again.
/// Several times [`RENEW_EVERY`], so a renewal held up (a busy pool, a locked SQLite) does not
/// lose a lease that is in use.
pub const LEASE: Duration = Duration::from_secs(30);
/// How often a running job's lease is moved on.
pub const RENEW_EVERY: Duration = Duration::from_secs(5);
/// How often a worker looks for due jobs when nobody wakes it (jobs queued by other instances,
/// retries coming due).
pub const POLL: Duration = Duration::from_secs(1);
/// Jobs one worker runs at the same time.
pub const CONCURRENCY: usize = 4;
/// The longest wait between two attempts.
const MAX_BACKOFF_SECS: i64 = 3600;

/// What the app does with its jobs (`tasks::Registry`), handed to the runner by the app.
pub trait Tasks {
    /// Performs one claimed job. A job that writes to the database completes itself in its own
    /// transaction ([`Lease::complete`]); otherwise the runner marks it done when this returns.
    fn perform(&self, job: Job, lease: Lease) -> impl Future<Output = anyhow::Result<()>>;

    /// What ends when `job` fails for good, in the transaction that records it (so the job's
    /// state and what waits on it commit together); the users whose pages changed. It takes no
    /// `self`: it runs inside `Db::run`'s closure, on a thread of the pool, where only what the
    /// database holds is at hand.
    fn given_up(conn: &mut DbConn, job: &Job) -> QueryResult<Vec<i32>>;
}

/// A failure no retry can mend (an address the mail server refuses for good): the job fails at
/// once.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct Permanent(pub anyhow::Error);

/// A job claimed by a worker: what the job needs to complete itself inside its own transaction.
#[derive(Debug, Clone)]
pub struct Lease {
    pub job_id: i32,
    worker: Arc<str>,
    attempt: i32,
}

impl Lease {
    /// Marks the job done as part of the caller's transaction, so the job's writes and its
    /// completion commit together (and a second run finds nothing to do). Fails, rolling the
    /// transaction back, if the lease was lost to another worker.
    pub fn complete(&self, conn: &mut DbConn) -> QueryResult<()> {
        let now = models::db_now(conn)?;
        if job::complete(conn, self.job_id, &self.worker, self.attempt, now)? {
            Ok(())
        } else {
            Err(diesel::result::Error::RollbackTransaction)
        }
    }

    /// Fails, rolling the caller's transaction back, if the lease was lost: a run that was
    /// given up writes nothing more. Put it first in a transaction that writes: it is a write
    /// itself, so on SQLite the transaction then holds the write lock throughout.
    pub fn check(&self, conn: &mut DbConn) -> QueryResult<()> {
        if job::is_held(conn, self.job_id, &self.worker, self.attempt)? {
            Ok(())
        } else {
            Err(diesel::result::Error::RollbackTransaction)
        }
    }
}

/// This instance's worker: its name in the `jobs` table, and the bell that wakes it.
#[derive(Clone)]
pub struct Jobs {
    db: Db,
    worker: Arc<str>,
    bell: Arc<Notify>,
    /// Told which users' pages changed when a job is given up.
    live: Live,
    /// [`Job::time_limit`], shorter in tests.
    time_limit: fn(&Job) -> Duration,
}

impl Jobs {
    pub fn new(db: Db, live: Live) -> Self {
        let mut id = [0u8; 6];
        rand::rng().fill_bytes(&mut id);
        Self {
            db,
            worker: format!("{}-{}", std::process::id(), hex::encode(id)).into(),
            bell: Arc::new(Notify::new()),
            live,
            time_limit: Job::time_limit,
        }
    }

    /// Queues `job` in a transaction of its own and wakes the worker.
    pub async fn enqueue(&self, job: Job) -> Result<i32, AppError> {
        let id = self.db.run(move |conn| job::enqueue(conn, &job)).await?;
        self.wake();
        Ok(id)
    }

    /// Tells the worker that a job is waiting (it looks at once instead of at its next poll).
    pub fn wake(&self) {
        self.bell.notify_one();
    }

    /// Claims due jobs and has `tasks` perform them, at most [`CONCURRENCY`] at once, until
    /// the task running it is dropped.
    pub async fn run<T: Tasks + Clone + 'static>(self, tasks: T) {
        let slots = Arc::new(Semaphore::new(CONCURRENCY));
        loop {
            while let Ok(slot) = slots.clone().try_acquire_owned() {
                match self.claim::<T>().await {
                    Ok(Some(row)) => {
                        let (me, tasks) = (self.clone(), tasks.clone());
                        actix_web::rt::spawn(async move {
                            me.execute(row, &tasks).await;
                            drop(slot);
                            me.wake();
                        });
                    }
                    Ok(None) => break,
                    Err(e) => {
                        tracing::warn!(error = %chain(&e), "could not look for due jobs");
                        break;
                    }
                }
            }
            // A wake-up rung while no one waited is kept, so none is lost.
            let _ = tokio::time::timeout(POLL, self.bell.notified()).await;
        }
    }

    /// Performs due jobs one after another until none is due; returns how many ran.
    pub async fn run_due<T: Tasks>(&self, tasks: &T) -> Result<usize, AppError> {
        let mut ran = 0;
        while let Some(row) = self.claim::<T>().await? {
            self.execute(row, tasks).await;
            ran += 1;
        }
        Ok(ran)
    }

    /// Claims the oldest due job. A job claimed past its last attempt (that attempt never came
    /// back: its process died, or its failure could not be written) is failed instead, with
    /// what waits on it, and the next due job is claimed.
    async fn claim<T: Tasks>(&self) -> Result<Option<job::JobRow>, AppError> {
        let worker = self.worker.clone();
        let (claimed, given_up) = self
            .db
            .run(move |conn| {
                let mut given_up = Vec::new();
                loop {
                    let now = models::db_now(conn)?;
                    let Some(row) = job::claim(conn, &worker, now, now + lease())? else {
                        return Ok::<_, diesel::result::Error>((None, given_up));
                    };
                    if row.attempts <= row.max_attempts {
                        return Ok((Some(row), given_up));
                    }
                    tracing::error!(
                        job = row.id, kind = %row.kind,
                        "job failed for good: its last attempt ended without a result"
                    );
                    let error = "the last attempt ended without a result (its worker stopped)";
                    given_up.extend(conn.transaction(|conn| {
                        job::exhaust(conn, row.id, &worker, row.attempts, error, now)?;
                        job::forget_secrets(conn, row.id, &row.payload)?;
                        given_up_with::<T>(conn, &row)
                    })?);
                }
            })
            .await?;
        self.changed(given_up);
        Ok(claimed)
    }

    fn changed(&self, users: Vec<i32>) {
        for user in users {
            self.live.changed(user);
        }
    }

    /// Performs one claimed job, renewing its lease meanwhile, and records how it went.
    async fn execute<T: Tasks>(&self, row: job::JobRow, tasks: &T) {
        let lease = Lease {
            job_id: row.id,
            worker: self.worker.clone(),
            attempt: row.attempts,
        };
        let outcome = match serde_json::from_str::<Job>(&row.payload) {
            Ok(job) => {
                let limit = (self.time_limit)(&job);
                // Stopped when this is dropped, even if `perform` panics.
                let _renewing = AbortOnDrop(actix_web::rt::spawn(
                    self.clone().renew(row.id, row.attempts),
                ));
                match tokio::time::timeout(limit, tasks.perform(job, lease)).await {
                    Ok(outcome) => outcome,
                    Err(_) => Err(anyhow::anyhow!(
                        "stopped after {} s, its time limit",
                        limit.as_secs_f64()
                    )),
                }
            }
            Err(e) => Err(Permanent(anyhow::anyhow!("unreadable job: {e}")).into()),
        };
        let (id, worker, attempt) = (row.id, self.worker.clone(), row.attempts);
        let payload = row.payload.clone();
        let recorded = match outcome {
            Ok(()) => self
                .db
                .run(move |conn| {
                    let now = models::db_now(conn)?;
                    if job::complete(conn, id, &worker, attempt, now)? {
                        job::forget_secrets(conn, id, &payload)?;
                    }
                    Ok::<_, diesel::result::Error>(())
                })
                .await
                .map(|_| ()),
            Err(error) => {
                let text = chain(error.as_ref());
                let permanent = error.downcast_ref::<Permanent>().is_some();
                let retry_in =
                    (!permanent && row.attempts < row.max_attempts).then(|| backoff(row.attempts));
                match retry_in {
                    Some(wait) => tracing::warn!(
                        job = id, kind = %row.kind, attempt = row.attempts, error = %text,
                        "job failed; trying again in {} s", wait.num_seconds()
                    ),
                    None => tracing::error!(
                        job = id, kind = %row.kind, attempt = row.attempts, error = %text,
                        "job failed for good"
                    ),
                }
                let given_up = self
                    .db
                    .run(move |conn| {
                        conn.transaction(|conn| {
                            let now = models::db_now(conn)?;
                            let retry_at = retry_in.map(|w| now + w);
                            let held = job::fail(conn, id, &worker, attempt, &text, retry_at, now)?;
                            if held && retry_at.is_none() {
                                job::forget_secrets(conn, id, &row.payload)?;
                                given_up_with::<T>(conn, &row)
                            } else {
                                Ok(Vec::new())
                            }
                        })
                    })
                    .await;
                given_up.map(|users| self.changed(users))
            }
        };
        if let Err(e) = recorded {
            // The lease runs out and the job is claimed again: at least once.
            tracing::warn!(job = id, error = %chain(&e), "could not record how a job went");
        }
    }

    /// Moves the lease of job `id` (claimed at `attempt`) on every [`RENEW_EVERY`] until aborted
    /// or the lease is lost.
    async fn renew(self, id: i32, attempt: i32) {
        loop {
            actix_web::rt::time::sleep(RENEW_EVERY).await;
            let worker = self.worker.clone();
            let renewed = self
                .db
                .run(move |conn| {
                    let until = models::db_now(conn)? + lease();
                    job::renew(conn, id, &worker, attempt, until)
                })
                .await;
            match renewed {
                Ok(true) => {}
                Ok(false) => {
                    tracing::warn!(job = id, "lost the lease of a running job");
                    return;
                }
                Err(e) => tracing::warn!(job = id, error = %chain(&e), "could not renew a lease"),
            }
        }
    }
}

/// What ends with a job given up ([`Tasks::given_up`]), in the transaction that fails it; the
/// users whose pages changed.
fn given_up_with<T: Tasks>(conn: &mut DbConn, row: &job::JobRow) -> QueryResult<Vec<i32>> {
    match serde_json::from_str::<Job>(&row.payload) {
        Ok(job) => T::given_up(conn, &job),
        Err(_) => Ok(Vec::new()),
    }
}

fn lease() -> TimeDelta {
    TimeDelta::from_std(LEASE).unwrap_or(TimeDelta::seconds(30))
}

/// A spawned task that is aborted when this is dropped.
struct AbortOnDrop(actix_web::rt::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The wait after failed attempt `attempt` (1, 2, ...): 1 s, 2 s, 4 s, ... at most an hour.
fn backoff(attempt: i32) -> TimeDelta {
    let exponent = u32::try_from(attempt.saturating_sub(1))
        .unwrap_or(0)
        .min(20);
    TimeDelta::seconds((1i64 << exponent).min(MAX_BACKOFF_SECS))
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;
    use std::rc::Rc;

    use super::*;
    use crate::config::DatabaseUrl;

    fn database(dir: &tempfile::TempDir) -> Db {
        Db::connect(&DatabaseUrl::Sqlite(dir.path().join("jobs.db"))).unwrap()
    }

    /// The app's tasks in a test: each job does what the closure says, and nothing waits on
    /// a job.
    struct Doing<P>(P);

    impl<P, F> Tasks for Doing<P>
    where
        P: Fn(Job, Lease) -> F,
        F: Future<Output = anyhow::Result<()>>,
    {
        fn perform(&self, job: Job, lease: Lease) -> impl Future<Output = anyhow::Result<()>> {
            (self.0)(job, lease)
        }

        fn given_up(_: &mut DbConn, _: &Job) -> QueryResult<Vec<i32>> {
            Ok(Vec::new())
        }
    }

    /// The tasks of a test that only claims.
    type Idle = Doing<fn(Job, Lease) -> std::future::Ready<anyhow::Result<()>>>;

    fn mail_job(id: i32) -> Job {
        Job::SendMail { mail_id: id }
    }

    async fn rows(db: &Db) -> Vec<job::JobRow> {
        db.run(|conn| {
            use crate::schema::jobs::dsl::*;
            use diesel::prelude::*;
            jobs.order(id).select(job::JobRow::as_select()).load(conn)
        })
        .await
        .unwrap()
    }

    #[test]
    fn the_wait_doubles_from_one_second_to_at_most_an_hour() {
        let waits: Vec<i64> = [1, 2, 3, 12, 13, 25]
            .map(|n| backoff(n).num_seconds())
            .to_vec();
        assert_eq!(waits, [1, 2, 4, 2048, 3600, 3600]);
    }

    #[actix_web::test]
    async fn a_job_that_succeeds_runs_once_and_is_done() {
        let dir = tempfile::tempdir().unwrap();
        let jobs = Jobs::new(database(&dir), Live::default());
        jobs.enqueue(mail_job(7)).await.unwrap();
        let seen = Rc::new(Cell::new(0));

        let ran = jobs
            .run_due(&Doing(|job, _| {
                let seen = seen.clone();
                async move {
                    assert_eq!(job, mail_job(7));
                    seen.set(seen.get() + 1);
                    Ok(())
                }
            }))
            .await
            .unwrap();

        assert_eq!((ran, seen.get()), (1, 1));
        let row = &rows(&jobs.db).await[0];
        assert_eq!(row.state, job::DONE);
        assert_eq!(row.locked_by, None);
        assert!(row.finished_at.is_some());
    }

    #[actix_web::test]
    async fn a_failing_job_waits_longer_after_each_attempt_and_keeps_its_error() {
        let dir = tempfile::tempdir().unwrap();
        let jobs = Jobs::new(database(&dir), Live::default());
        jobs.enqueue(mail_job(1)).await.unwrap();

        jobs.run_due(&Doing(|_, _| async {
            Err(anyhow::anyhow!("mail server down"))
        }))
        .await
        .unwrap();

        let row = &rows(&jobs.db).await[0];
        assert_eq!(row.state, job::QUEUED);
        assert_eq!(row.attempts, 1);
        assert_eq!(row.last_error.as_deref(), Some("mail server down"));
        let wait = row.run_at - models::now();
        assert!(wait > TimeDelta::zero(), "not due again at once: {wait}");
        // Not due yet: a second look runs nothing.
        let again = jobs.run_due(&Doing(|_, _| async { Ok(()) })).await.unwrap();
        assert_eq!(again, 0);
    }

    #[actix_web::test]
    async fn a_job_is_failed_for_good_after_its_last_attempt_or_a_permanent_error() {
        let dir = tempfile::tempdir().unwrap();
        let jobs = Jobs::new(database(&dir), Live::default());
        jobs.enqueue(mail_job(1)).await.unwrap();
        jobs.enqueue(mail_job(2)).await.unwrap();
        jobs.db
            .run(|conn| {
                use crate::schema::jobs::dsl::*;
                use diesel::prelude::*;
                diesel::update(jobs.filter(id.eq(1)))
                    .set(attempts.eq(max_attempts - 1))
                    .execute(conn)
            })
            .await
            .unwrap();

        jobs.run_due(&Doing(|job, _| async move {
            match job {
                Job::SendMail { mail_id: 1 } => Err(anyhow::anyhow!("still down")),
                _ => Err(Permanent(anyhow::anyhow!("550 no such mailbox")).into()),
            }
        }))
        .await
        .unwrap();

        let rows = rows(&jobs.db).await;
        assert_eq!(rows[0].state, job::FAILED);
        assert_eq!(rows[0].last_error.as_deref(), Some("still down"));
        assert_eq!(rows[1].state, job::FAILED);
        assert_eq!(rows[1].attempts, 1);
    }

    #[actix_web::test]
    async fn a_job_whose_worker_died_is_claimed_again_when_its_lease_runs_out() {
        let dir = tempfile::tempdir().unwrap();
        let db = database(&dir);
        let (dead, alive) = (
            Jobs::new(db.clone(), Live::default()),
            Jobs::new(db.clone(), Live::default()),
        );
        dead.enqueue(mail_job(1)).await.unwrap();
        let claimed = dead.claim::<Idle>().await.unwrap().expect("a due job");
        // The dead worker's lease holds: nobody else may take the job.
        assert!(alive.claim::<Idle>().await.unwrap().is_none());

        db.run(|conn| {
            use crate::schema::jobs::dsl::*;
            use diesel::prelude::*;
            diesel::update(jobs)
                .set(locked_until.eq(models::now() - TimeDelta::seconds(1)))
                .execute(conn)
        })
        .await
        .unwrap();
        let ran = alive
            .run_due(&Doing(|_, _| async { Ok(()) }))
            .await
            .unwrap();

        assert_eq!(ran, 1);
        let row = &rows(&db).await[0];
        assert_eq!((row.state.as_str(), row.attempts), (job::DONE, 2));
        // The worker that lost its lease can no longer change the job.
        let stale = Lease {
            job_id: claimed.id,
            worker: dead.worker.clone(),
            attempt: claimed.attempts,
        };
        let result = db.run(move |conn| stale.complete(conn)).await;
        assert!(result.is_err());
    }

    #[actix_web::test]
    async fn a_run_whose_lease_ran_out_cannot_touch_the_claim_that_followed_even_on_one_worker() {
        let dir = tempfile::tempdir().unwrap();
        let db = database(&dir);
        let jobs = Jobs::new(db.clone(), Live::default());
        jobs.enqueue(mail_job(1)).await.unwrap();
        let first = jobs.claim::<Idle>().await.unwrap().expect("a due job");
        let expire = || {
            db.run(|conn| {
                use crate::schema::jobs::dsl::*;
                use diesel::prelude::*;
                diesel::update(jobs)
                    .set(locked_until.eq(models::now() - TimeDelta::seconds(1)))
                    .execute(conn)
            })
        };
        expire().await.unwrap();
        let second = jobs.claim::<Idle>().await.unwrap().expect("claimed again");
        assert_eq!((first.id, second.attempts), (second.id, 2));

        let stale = Lease {
            job_id: first.id,
            worker: jobs.worker.clone(),
            attempt: first.attempts,
        };
        assert!(db.run(move |conn| stale.complete(conn)).await.is_err());
        let current = Lease {
            job_id: second.id,
            worker: jobs.worker.clone(),
            attempt: second.attempts,
        };
        db.run(move |conn| current.complete(conn)).await.unwrap();
        assert_eq!(rows(&db).await[0].state, job::DONE);
    }

    #[actix_web::test]
    async fn a_job_that_hangs_is_stopped_at_its_time_limit_and_its_late_result_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let mut jobs = Jobs::new(database(&dir), Live::default());
        jobs.time_limit = |_| Duration::from_millis(200);
        jobs.enqueue(mail_job(1)).await.unwrap();
        let late = Arc::new(std::sync::Mutex::new(None));

        let started = std::time::Instant::now();
        let db = jobs.db.clone();
        jobs.run_due(&Doing(|_, lease: Lease| {
            let (db, late) = (db.clone(), late.clone());
            async move {
                // Stuck in the database past the limit, then trying to commit its result.
                db.run(move |conn| {
                    std::thread::sleep(Duration::from_millis(700));
                    *late.lock().unwrap() = Some(lease.complete(conn).is_ok());
                    Ok::<_, diesel::result::Error>(())
                })
                .await?;
                Ok(())
            }
        }))
        .await
        .unwrap();

        assert!(started.elapsed() < Duration::from_millis(650));
        let row = &rows(&jobs.db).await[0];
        assert_eq!((row.state.as_str(), row.attempts), (job::QUEUED, 1));
        assert!(
            row.last_error.as_deref().unwrap().contains("time limit"),
            "{row:?}"
        );
        actix_web::rt::time::sleep(Duration::from_millis(900)).await;
        assert_eq!(
            *late.lock().unwrap(),
            Some(false),
            "the late result is refused"
        );
        assert_eq!(rows(&jobs.db).await[0].state, job::QUEUED);
    }

    #[actix_web::test]
    async fn a_job_whose_last_attempt_never_came_back_is_failed_instead_of_run_again() {
        let dir = tempfile::tempdir().unwrap();
        let jobs = Jobs::new(database(&dir), Live::default());
        jobs.enqueue(mail_job(1)).await.unwrap();
        // Claimed for its last attempt by a worker that died.
        jobs.claim::<Idle>().await.unwrap().expect("a due job");
        jobs.db
            .run(|conn| {
                use crate::schema::jobs::dsl::*;
                use diesel::prelude::*;
                diesel::update(jobs)
                    .set((
                        max_attempts.eq(1),
                        locked_until.eq(models::now() - TimeDelta::seconds(1)),
                    ))
                    .execute(conn)
            })
            .await
            .unwrap();

        let ran = jobs
            .run_due(&Doing(|_, _| async {
                panic!("a job past its last attempt ran")
            }))
            .await
            .unwrap();

        assert_eq!(ran, 0);
        let row = &rows(&jobs.db).await[0];
        assert_eq!((row.state.as_str(), row.attempts), (job::FAILED, 1));
        assert!(
            row.last_error
                .as_deref()
                .unwrap()
                .contains("without a result")
        );
    }
}
