//! Work that runs beside the requests, all of it here: once a minute, and once more when the
//! server stops. Each task is a few lines in [`run_once`]; a failing one is logged and tried
//! again at the next round, and never stops the others or the server.
//!
//! | task                         | what for                                              |
//! |------------------------------|-------------------------------------------------------|
//! | write the noted activity     | `last_seen` and each login's last use (`src/activity.rs`) |
//! | delete expired logins        | `login_sessions` keeps only logins that can still be used |
//! | forget idle throttle counts  | memory does not grow with every name a guesser tries  |

use std::time::Duration;

use actix_web::web;

use crate::error::chain;
use crate::models::{self, login_session};
use crate::state::State;

/// How often the tasks run.
pub const EVERY: Duration = Duration::from_secs(60);

/// Runs every task once (tests can call it instead of waiting a minute).
pub async fn run_once(state: &State) {
    if let Err(e) = state.activity.flush(&state.db).await {
        tracing::warn!(error = %chain(&e), "could not record activity");
    }
    let now = models::now();
    let expired = state
        .db
        .run(move |conn| login_session::delete_expired(conn, now))
        .await;
    if let Err(e) = expired {
        tracing::warn!(error = %chain(&e), "could not delete expired logins");
    }
    state.throttle.forget_idle();
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
    if let Err(e) = state.activity.flush(&state.db).await {
        tracing::warn!(error = %chain(&e), "could not record activity");
    }
}
