//! Flask: `export_posts` of `app/tasks.py` (chapter 22): a user's posts as `posts.json`, made
//! by the job runner (`src/jobs.rs`) in the background, mailed through the outbox and kept a day
//! for the profile's download link.
//!
//! - The posts are read in pages of [`PAGE`], oldest first, and written out as they are read.
//! - The progress goes to the task row and to the user's `task_progress` notification at most
//!   once a [`PROGRESS_EVERY`], so the bar of every open page moves (`src/live.rs`) without a
//!   write per post.
//! - The end is one transaction: the job marked done (its lease checked first), the file kept,
//!   the task complete at 100, the notification, and the mail queued. A run that dies before it
//!   commits leaves nothing behind, and the runner runs the job again: the user gets exactly one
//!   mail however many times the job ran.

use std::time::{Duration, Instant};

use diesel::Connection as _;
use fluent_templates::LanguageIdentifier;
use serde::Serialize;

use crate::jobs::{Lease, Permanent};
use crate::mail::Mail;
use crate::models::{self, message, task, user};
use crate::state::State;

/// Posts read at a time.
const PAGE: i64 = 1_000;
/// The longest time between two writes of the progress.
pub const PROGRESS_EVERY: Duration = Duration::from_secs(1);
/// The attachment's name, as in the tutorial.
pub const FILENAME: &str = "posts.json";

/// What the page's script gets as `data` of a `task_progress` notification.
#[derive(Serialize)]
struct Progress<'a> {
    task_id: i32,
    description: &'a str,
    progress: i32,
    failed: bool,
}

fn progress_data(task: &task::Task, progress: i32, failed: bool) -> serde_json::Value {
    serde_json::to_value(Progress {
        task_id: task.id,
        description: &task.description,
        progress,
        failed,
    })
    .unwrap_or(serde_json::Value::Null)
}

/// One post of `posts.json`: its body and its time in ISO 8601, UTC.
#[derive(Serialize)]
struct ExportedPost<'a> {
    body: &'a str,
    timestamp: String,
}

/// The export job: see the module's comment.
pub async fn export_posts(
    state: &State,
    lease: &Lease,
    task_id: i32,
    lang: &str,
) -> anyhow::Result<()> {
    let lang: LanguageIdentifier = lang.parse().unwrap_or_else(|_| crate::i18n::english());
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
    let mut body = String::from("{\"posts\": [");
    let (mut after, mut done, mut reported) = (0, 0_i64, Instant::now());
    loop {
        let page = db
            .run(move |conn| task::posts_of_after(conn, user_id, after, PAGE))
            .await?;
        let Some(&(last, _, _)) = page.last() else {
            break;
        };
        for (_, text, at) in &page {
            if done > 0 {
                body.push_str(", ");
            }
            let post = ExportedPost {
                body: text,
                timestamp: at
                    .and_utc()
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            };
            body.push_str(&serde_json::to_string(&post)?);
            done += 1;
        }
        after = last;
        if reported.elapsed() >= PROGRESS_EVERY {
            reported = Instant::now();
            let percent = (done * 100 / total.max(1)).clamp(0, 99) as i32;
            let data = progress_data(&task, percent, false);
            db.run(move |conn| {
                conn.transaction(|conn| {
                    task::set_progress(conn, task_id, percent)?;
                    message::notify_user(conn, user_id, message::TASK_PROGRESS, &data)
                })
            })
            .await?;
            state.live.changed(user_id);
        }
    }
    body.push_str("]}");

    let (mailer, templates, lease) = (state.mailer.clone(), state.templates.clone(), lease.clone());
    let done_data = progress_data(&task, 100, false);
    db.run(move |conn| {
        conn.transaction(|conn| -> anyhow::Result<()> {
            // Written first: on SQLite the transaction then holds the write lock throughout.
            lease.complete(conn)?;
            let Some(owner) = user::find(conn, user_id)? else {
                return Ok(());
            };
            let now = models::now();
            let export = task::save_export(conn, &task, FILENAME, &body, now)?;
            task::finish(conn, task_id, false)?;
            message::notify_user(conn, user_id, message::TASK_PROGRESS, &done_data)?;
            let context = serde_json::json!({
                "username": owner.username,
                "count": done,
                "lang": lang.to_string(),
            });
            let mail = Mail {
                to: vec![owner.email.clone()],
                subject: crate::i18n::Message::new("email-export-subject").text(&lang),
                text: templates.render("email/export_posts.txt", &lang, &context)?,
                html: Some(templates.render("email/export_posts.html", &lang, &context)?),
                attachment: Some(export),
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
/// "Export failed, please try again" (the cause is in the log, from the runner).
pub async fn failed(state: &State, task_id: i32) {
    let ended = state
        .db
        .run(move |conn| {
            conn.transaction(|conn| {
                let Some(task) = task::find(conn, task_id)? else {
                    return Ok(None);
                };
                task::finish(conn, task_id, true)?;
                let data = progress_data(&task, task.progress, true);
                message::notify_user(conn, task.user_id, message::TASK_PROGRESS, &data)?;
                Ok::<_, diesel::result::Error>(Some(task.user_id))
            })
        })
        .await;
    match ended {
        Ok(Some(user)) => state.live.changed(user),
        Ok(None) => {}
        Err(e) => {
            tracing::warn!(error = %crate::error::chain(&e), "could not mark an export failed")
        }
    }
}
