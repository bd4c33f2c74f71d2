//! Flask: `app/auth/email.py`: the password reset mail (chapter 10).

use chrono::TimeDelta;
use diesel::Connection;
use fluent_templates::LanguageIdentifier;
use serde::Serialize;

use crate::i18n::{self, Message};
use crate::jobs::Lease;
use crate::mail::Mail;
use crate::models::{self, user};
use crate::state::State;
use crate::tokens::new_token;

#[derive(Serialize)]
struct ResetMailContext<'a> {
    username: &'a str,
    link: &'a str,
    minutes: i64,
    /// `<html lang>` of the HTML part.
    lang: String,
}

/// Flask's `send_password_reset_email(user)`, run as a job so the request that asked answers in
/// the same time whether or not the address is a user's. If it is, a new link replaces the
/// user's older one and its mail goes to the outbox; the job completes in the same transaction,
/// so running it twice cannot send two links.
pub async fn send_password_reset_email(
    state: &State,
    lease: &Lease,
    email: String,
    site: String,
    lang: &str,
) -> anyhow::Result<()> {
    let lang: LanguageIdentifier = lang.parse().unwrap_or_else(|_| i18n::english());
    let (token, token_hash) = new_token();
    let link = format!("{site}/auth/reset_password/{token}");
    let timeout = state.config.password_reset_timeout;
    let (mailer, templates, lease) = (state.mailer.clone(), state.templates.clone(), lease.clone());
    let queued = state
        .db
        .run(move |conn| {
            conn.transaction(|conn| -> anyhow::Result<bool> {
                // Written first: on SQLite the transaction then holds the write lock throughout.
                lease.complete(conn)?;
                let Some(found) = user::find_by_email(conn, &email)? else {
                    return Ok(false);
                };
                let now = models::now();
                let expires = now + TimeDelta::seconds(timeout);
                user::replace_reset_link(conn, found.id, &token_hash, now, expires)?;
                let context = ResetMailContext {
                    username: &found.username,
                    link: &link,
                    minutes: (timeout + 59) / 60,
                    lang: lang.to_string(),
                };
                let mail = Mail {
                    to: vec![found.email.clone()],
                    subject: Message::new("email-reset-subject").text(&lang),
                    text: templates.render("email/reset_password.txt", &lang, &context)?,
                    html: Some(templates.render("email/reset_password.html", &lang, &context)?),
                    attachment: None,
                };
                mailer.queue(conn, &mail)?;
                Ok(true)
            })
        })
        .await?;
    if queued {
        state.jobs.wake();
    }
    Ok(())
}
