//! Flask's `app/tasks.py`: what each kind of background job does. The runner that claims and
//! retries them is `src/jobs.rs`, and it is handed this file's [`Registry`] by `background.rs`
//! (as RQ is handed `app.tasks.export_posts` by name): the runner never names the work. A new
//! kind of job is a variant of `models::job::Job` and an arm in each of `Registry`'s two
//! functions.
//!
//! `export_posts` (chapter 22) is here, as in Flask: a user's posts as `posts.json`, made in the
//! background, mailed through the outbox and kept a day for the profile's download link. The
//! password reset mail is the auth blueprint's (`src/blueprints/auth/email.rs`), as in Flask.
//!
//! - The posts are read in pages of [`PAGE`], oldest first, and each page is written to the
//!   database as one piece of the file (`export_chunks`) as soon as it is read: memory holds
//!   one page, whatever the number of posts.
//! - The progress goes to the task row and to the user's `task_progress` notification at most
//!   once a [`PROGRESS_EVERY`], in the transaction of a piece, so the bar of every open page
//!   moves (`src/live.rs`) without a write per post. Every write checks the job's lease first:
//!   a run that was given up writes nothing more.
//! - The end is one transaction: the job marked done (its lease checked first), the file made
//!   ready, the task complete at 100, the notification, and the mail queued. A run that dies
//!   before it commits leaves an unfinished file that the next run replaces, and the user gets
//!   exactly one mail however many times the job ran.
//! - The mail carries the file if it is at most [`ATTACH_AT_MOST`]; a larger one is only
//!   linked from the profile (mail servers refuse large messages, and the mail is built whole
//!   in memory).

use std::time::{Duration, Instant};

use actix_web::web;
use chrono::SecondsFormat;
use diesel::{Connection as _, QueryResult};
use fluent_templates::LanguageIdentifier;
use serde::Serialize;

use crate::blueprints::auth::email;
use crate::db::DbConn;
use crate::federation;
use crate::i18n::{self, Message};
use crate::jobs::{Lease, Permanent, Tasks};
use crate::mail::Mail;
use crate::models::job::Job;
use crate::models::{self, mail, message, task, user};
use crate::moment::Moment;
use crate::state::State;

/// The app's tasks, as the job runner gets them: what it needs to perform each one.
#[derive(Clone)]
pub struct Registry(pub web::Data<State>);

impl Tasks for Registry {
    async fn perform(&self, job: Job, lease: Lease) -> anyhow::Result<()> {
        let state = &self.0;
        match job {
            Job::SendMail { mail_id } => state.mailer.deliver(&state.db, mail_id).await,
            Job::PasswordReset { email, site, lang } => {
                email::send_password_reset_email(state, &lease, email, site, &lang).await
            }
            Job::ConfirmEmail {
                user_id,
                email,
                site,
                lang,
            } => email::send_email_change_link(state, &lease, user_id, email, site, &lang).await,
            Job::ExportPosts { task_id, lang } => export_posts(state, &lease, task_id, &lang).await,
            Job::FanOut { signer, activity } => match &state.federation {
                Some(federation) => federation.fan_out(&lease, signer, activity).await,
                None => Err(federation::off()),
            },
            Job::Deliver {
                inbox,
                signer,
                activity,
                key,
            } => match &state.federation {
                Some(federation) => federation.deliver(&inbox, signer, &activity, key).await,
                None => Err(federation::off()),
            },
        }
    }

    fn given_up(conn: &mut DbConn, job: &Job) -> QueryResult<Vec<i32>> {
        match job {
            Job::ExportPosts { task_id, .. } => {
                Ok(export_failed(conn, *task_id)?.into_iter().collect())
            }
            // A mail whose last attempt failed is marked so, for `mail list` to say.
            Job::SendMail { mail_id } => {
                mail::give_up(conn, *mail_id, models::now())?;
                Ok(Vec::new())
            }
            Job::PasswordReset { .. }
            | Job::ConfirmEmail { .. }
            | Job::FanOut { .. }
            | Job::Deliver { .. } => Ok(Vec::new()),
        }
    }
}

/// Posts read, and written as one piece of the file, at a time.
const PAGE: i64 = 1_000;
/// The longest time between two writes of the progress.
pub const PROGRESS_EVERY: Duration = Duration::from_secs(1);
/// The attachment's name, as in the tutorial.
pub const FILENAME: &str = "posts.json";
/// The largest file the mail carries as its attachment (about 30,000 posts).
pub const ATTACH_AT_MOST: i64 = 5 * 1024 * 1024;

/// What the page's script gets as `data` of a `task_progress` notification.
#[derive(Serialize)]
struct Progress<'a> {
    task_id: i32,
    description: &'a str,
    progress: i32,
    failed: bool,
    /// The finished file, so the page links it the moment the task ends.
    #[serde(skip_serializing_if = "Option::is_none")]
    download: Option<Download>,
}

/// Where a finished export is, and until when (ISO 8601, UTC: the page writes it in the
/// reader's language and time zone).
#[derive(Serialize)]
struct Download {
    url: String,
    until: String,
}

fn progress_data(
    task: &task::Task,
    progress: i32,
    failed: bool,
    download: Option<Download>,
) -> serde_json::Value {
    serde_json::to_value(Progress {
        task_id: task.id,
        description: &task.description,
        progress,
        failed,
        download,
    })
    .unwrap_or(serde_json::Value::Null)
}

/// One post of `posts.json`: its body and its time in ISO 8601, UTC.
#[derive(Serialize)]
struct ExportedPost<'a> {
    body: &'a str,
    timestamp: String,
}

/// One page of posts as a piece of the file (see `task::FILE_START`).
fn piece(page: &[(i32, String, chrono::NaiveDateTime)], first: bool) -> serde_json::Result<String> {
    let mut piece = String::new();
    for (i, (_, text, at)) in page.iter().enumerate() {
        if i > 0 || !first {
            piece.push_str(task::SEPARATOR);
        }
        let post = ExportedPost {
            body: text,
            timestamp: at.and_utc().to_rfc3339_opts(SecondsFormat::Secs, true),
        };
        piece.push_str(&serde_json::to_string(&post)?);
    }
    Ok(piece)
}

/// Flask: `export_posts(user_id)` (chapter 22), the export job: see the module's comment.
pub async fn export_posts(
    state: &State,
    lease: &Lease,
    task_id: i32,
    lang: &str,
) -> anyhow::Result<()> {
    let lang: LanguageIdentifier = lang.parse().unwrap_or_else(|_| i18n::english());
    let db = &state.db;
    let Some(task) = db.run(move |conn| task::find(conn, task_id)).await? else {
        return Err(Permanent(anyhow::anyhow!("task {task_id} is gone")).into());
    };
    if task.complete && !task.failed {
        // Done by an earlier run whose job was not marked done: nothing more to do.
        let lease = lease.clone();
        db.run(move |conn| lease.complete(conn)).await?;
        return Ok(());
    }
    let user_id = task.user_id;
    let total = db.run(move |conn| task::post_count(conn, user_id)).await?;
    let export = {
        let (lease, task) = (lease.clone(), task.clone());
        db.run(move |conn| {
            conn.transaction(|conn| {
                lease.check(conn)?;
                task::begin_export(conn, &task, FILENAME, models::now())
            })
        })
        .await?
    };
    let mut size = (task::FILE_START.len() + task::FILE_END.len()) as i64;
    let (mut after, mut done, mut seq, mut reported) = (0, 0_i64, 0, Instant::now());
    loop {
        let page = db
            .run(move |conn| task::posts_of_after(conn, user_id, after, PAGE))
            .await?;
        let Some(&(last, _, _)) = page.last() else {
            break;
        };
        let piece = piece(&page, seq == 0)?;
        done += page.len() as i64;
        drop(page);
        size += piece.len() as i64;
        after = last;
        let report = reported.elapsed() >= PROGRESS_EVERY;
        let percent = (done * 100 / total.max(1)).clamp(0, 99) as i32;
        let data = report.then(|| progress_data(&task, percent, false, None));
        let lease = lease.clone();
        db.run(move |conn| {
            conn.transaction(|conn| {
                lease.check(conn)?;
                task::add_chunk(conn, export, seq, &piece)?;
                if let Some(data) = &data {
                    task::set_progress(conn, task_id, percent)?;
                    message::notify_user(conn, user_id, message::TASK_PROGRESS, data)?;
                }
                Ok::<_, diesel::result::Error>(())
            })
        })
        .await?;
        seq += 1;
        if report {
            reported = Instant::now();
            state.live.changed(user_id);
        }
    }

    let (mailer, templates, lease) = (state.mailer.clone(), state.templates.clone(), lease.clone());
    db.run(move |conn| {
        conn.transaction(|conn| -> anyhow::Result<()> {
            // Written first: on SQLite the transaction then holds the write lock throughout.
            lease.complete(conn)?;
            let Some(owner) = user::find(conn, user_id)? else {
                return Ok(());
            };
            let now = models::now();
            task::finish_export(conn, export, size, now)?;
            task::delete_older_exports(conn, user_id, export)?;
            task::finish(conn, task_id, false)?;
            let download = Download {
                url: task::download_path(export),
                until: Moment::from(now + task::KEEP_EXPORT).iso,
            };
            let done_data = progress_data(&task, 100, false, Some(download));
            message::notify_user(conn, user_id, message::TASK_PROGRESS, &done_data)?;
            let attached = size <= ATTACH_AT_MOST;
            let context = serde_json::json!({
                "username": owner.username,
                "count": done,
                "attached": attached,
                "lang": lang.to_string(),
            });
            let mail = Mail {
                to: vec![owner.email.clone()],
                subject: Message::new("email-export-subject").text(&lang),
                text: templates.render("email/export_posts.txt", &lang, &context)?,
                html: Some(templates.render("email/export_posts.html", &lang, &context)?),
                attachment: attached.then_some(export),
                password_reset: false,
                holds_link: false,
            };
            mailer.queue(conn, &mail)?;
            Ok(())
        })
    })
    .await?;
    state.live.changed(user_id);
    state.jobs.wake();
    Ok(())
}

/// The export of `task_id` failed for good: the task ends failed, and the user's pages say
/// "Export failed, please try again" (the cause is in the log, from the runner). Its user, if
/// the task is still there.
pub fn export_failed(conn: &mut DbConn, task_id: i32) -> QueryResult<Option<i32>> {
    let Some(task) = task::find(conn, task_id)? else {
        return Ok(None);
    };
    if task::finish(conn, task_id, true)? == 0 {
        // Done after all (a run that lost its lease committed first).
        return Ok(None);
    }
    let data = progress_data(&task, task.progress, true, None);
    message::notify_user(conn, task.user_id, message::TASK_PROGRESS, &data)?;
    Ok(Some(task.user_id))
}
