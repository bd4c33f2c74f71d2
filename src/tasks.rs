//! Flask's `app/tasks.py`: what each kind of background job does. The runner that claims and
//! retries them is `src/jobs.rs`; a new kind of job is a variant of `jobs::Job` and an arm here.

use actix_web::web;

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
            let exported = crate::export::export_posts(&state, &lease, task_id, &lang).await;
            if let Err(e) = &exported
                && (lease.last_attempt || e.downcast_ref::<crate::jobs::Permanent>().is_some())
            {
                crate::export::failed(&state, task_id).await;
            }
            exported
        }
    }
}
