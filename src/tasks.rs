//! Flask's `app/tasks.py`: what each kind of background job does. The runner that claims and
//! retries them is `src/jobs.rs`; a new kind of job is a variant of `jobs::Job` and an arm here.

use actix_web::web;
use diesel::QueryResult;

use crate::db::DbConn;

use crate::blueprints::auth::email;
use crate::jobs::{Job, Lease};
use crate::state::State;

/// Performs one job for the runner.
pub async fn perform(state: web::Data<State>, job: Job, lease: Lease) -> anyhow::Result<()> {
    match job {
        Job::SendMail { mail_id } => state.mailer.deliver(&state.db, mail_id).await,
        Job::PasswordReset { email, site, lang } => {
            email::send_password_reset_email(&state, &lease, email, site, &lang).await
        }
        Job::ExportPosts { task_id, lang } => {
            crate::export::export_posts(&state, &lease, task_id, &lang).await
        }
    }
}

/// What ends when a job fails for good, in the transaction that records it (so the job's state
/// and its task's commit together); the users whose pages changed.
pub fn given_up(conn: &mut DbConn, job: &Job) -> QueryResult<Vec<i32>> {
    match job {
        Job::ExportPosts { task_id, .. } => {
            Ok(crate::export::failed(conn, *task_id)?.into_iter().collect())
        }
        Job::SendMail { .. } | Job::PasswordReset { .. } => Ok(Vec::new()),
    }
}
