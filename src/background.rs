//! Work that runs beside the requests, all of it here: the job runner (`src/jobs.rs`, which
//! performs queued jobs such as mails as soon as they are queued), new posts added to SQLite's
//! search index once a second (`search::catch_up`; a search also does it first), and
//! housekeeping once a minute and once more when the server stops. Each housekeeping task is a
//! few lines in [`run_once`]; a failing one is logged and tried again at the next round, and
//! never stops the others or the server.
//!
//! | task                         | what for                                              |
//! |------------------------------|-------------------------------------------------------|
//! | write the noted activity     | `last_seen` and each login's last use (`src/activity.rs`) |
//! | delete expired logins        | `login_sessions` keeps only logins that can still be used |
//! | delete expired reset links   | `password_resets` keeps only links that still work    |
//! | delete expired address changes | `email_changes` keeps only links that still work    |
//! | delete old translations      | a month of them, and today's counts of characters     |
//! | delete finished jobs         | `jobs` keeps a day of done jobs, and every failed one |
//! | delete expired exports       | an export's file is kept a day (and while its mail waits) |
//! | delete ended tasks           | a week after it started, with its export gone         |
//! | forget idle throttle counts  | memory does not grow with every name a guesser tries  |

use std::time::Duration;

use actix_web::web;

use chrono::TimeDelta;

use crate::error::{AppError, chain};
use crate::models::{self, email_change, job, login_session, translation, user};
use crate::search;
use crate::state::State;
use crate::tasks;

/// How often the tasks run.
pub const EVERY: Duration = Duration::from_secs(60);
/// How long a done job stays in the table.
const KEEP_DONE_JOBS: TimeDelta = TimeDelta::days(1);

/// Runs every task once (tests can call it instead of waiting a minute).
pub async fn run_once(state: &State) {
    logged(state.activity.flush(&state.db).await, "record activity");
    let now = models::now();
    let db = &state.db;
    logged(
        db.run(move |conn| login_session::delete_expired(conn, now))
            .await,
        "delete expired logins",
    );
    logged(
        db.run(move |conn| models::api_token::delete_expired(conn, now))
            .await,
        "delete expired API tokens",
    );
    logged(
        db.run(move |conn| user::delete_expired_reset_links(conn, now))
            .await,
        "delete expired reset links",
    );
    logged(
        db.run(move |conn| email_change::delete_expired(conn, now))
            .await,
        "delete expired address changes",
    );
    logged(
        db.run(move |conn| translation::delete_old(conn, now)).await,
        "delete old translations and their daily counts",
    );
    logged(
        db.run(move |conn| job::delete_done(conn, now - KEEP_DONE_JOBS))
            .await,
        "delete finished jobs",
    );
    logged(
        db.run(move |conn| models::task::delete_expired_exports(conn, now))
            .await,
        "delete expired exports",
    );
    logged(
        db.run(move |conn| {
            models::task::delete_ended_tasks(conn, now - models::task::KEEP_ENDED_TASK)
        })
        .await,
        "delete ended tasks",
    );
    logged(
        state.throttle.forget_idle().await,
        "forget idle throttle counts",
    );
}

/// A task that failed is logged, and tried again at the next round.
fn logged<T>(result: Result<T, AppError>, task: &str) {
    if let Err(e) = result {
        tracing::warn!(error = %chain(&e), "could not {task}");
    }
}

/// The job runner of this instance, until the task running it is dropped.
pub async fn run_jobs(state: web::Data<State>) {
    state.jobs.clone().run(tasks::Registry(state.clone())).await;
}

/// How often new posts are added to the search index (SQLite's; PostgreSQL's needs nothing).
pub const INDEX_EVERY: Duration = Duration::from_secs(1);

/// Adds new posts to the search index every [`INDEX_EVERY`], until the task running this is
/// dropped. Without it the first search after a busy hour would index that hour's posts.
pub async fn run_search_index(state: web::Data<State>) {
    let mut tick = tokio::time::interval(INDEX_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        logged(
            state.db.run(search::catch_up).await,
            "add new posts to the search index",
        );
    }
}

/// Runs the tasks every [`EVERY`], until the task running this is dropped.
pub async fn run(state: web::Data<State>) {
    let mut tick = tokio::time::interval(EVERY);
    // The first tick is at once; the app has just started.
    tick.tick().await;
    loop {
        tick.tick().await;
        run_once(&state).await;
    }
}

/// What must not be lost when the server stops: the activity noted since the last round.
pub async fn at_stop(state: &State) {
    logged(state.activity.flush(&state.db).await, "record activity");
}
