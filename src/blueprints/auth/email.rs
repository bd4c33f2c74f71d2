//! Flask: `app/auth/email.py`: the password reset mail (chapter 10), and the port's mails for a
//! change of e-mail address (the link to the new address, the notice to the old one).

use chrono::TimeDelta;
use diesel::Connection;
use fluent_templates::LanguageIdentifier;
use serde::Serialize;

use crate::error::AppError;
use crate::i18n::{self, Message};
use crate::jobs::Lease;
use crate::mail::Mail;
use crate::models::{self, email_change, user};
use crate::render::Templates;
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

/// How long after a reset link was mailed no other is sent to that user.
pub const RESEND_AFTER: TimeDelta = TimeDelta::minutes(5);

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
                // Two requests' jobs running at once take turns here, so only one sends a link.
                user::hold(conn, found.id)?;
                let now = models::now();
                if user::has_recent_reset_link(conn, found.id, now - RESEND_AFTER, now)? {
                    // The link mailed minutes ago still works: a new one would only replace
                    // it and fill the mailbox (a loop on the form aimed at someone else).
                    tracing::info!(
                        user = found.id,
                        "no new reset link: the last one is minutes old"
                    );
                    return Ok(false);
                }
                let expires = now + TimeDelta::seconds(timeout);
                let context = ResetMailContext {
                    username: &found.username,
                    link: &link,
                    minutes: (timeout + 59) / 60,
                    lang: lang.to_string(),
                };
                let mut mail = written(&templates, &lang, RESET, &found.email, &context)?;
                (mail.password_reset, mail.holds_link) = (true, true);
                // The mail first: past the address's mails of the day, nothing is sent and the
                // link the user has keeps working.
                if mailer.queue(conn, &mail)?.is_none() {
                    return Ok(false);
                }
                user::replace_reset_link(conn, found.id, &token_hash, now, expires)?;
                Ok(true)
            })
        })
        .await?;
    if queued {
        state.jobs.wake();
    }
    Ok(())
}

/// How long a link that confirms a new e-mail address works.
pub const CONFIRM_EMAIL_WITHIN: TimeDelta = TimeDelta::days(1);

#[derive(Serialize)]
struct ChangeMailContext<'a> {
    username: &'a str,
    /// The address asked for (the confirmation) or now in use (the notice).
    email: &'a str,
    link: &'a str,
    hours: i64,
    lang: String,
}

/// A port addition, done as the reset mail is: mails `email` the link that makes it `user_id`'s
/// address once opened, replacing an older request's link. Nothing is sent if the user is gone
/// or the address became another account's meanwhile.
pub async fn send_email_change_link(
    state: &State,
    lease: &Lease,
    user_id: i32,
    email: String,
    site: String,
    lang: &str,
) -> anyhow::Result<()> {
    let lang: LanguageIdentifier = lang.parse().unwrap_or_else(|_| i18n::english());
    let (token, token_hash) = new_token();
    let link = format!("{site}/auth/confirm_email/{token}");
    let (mailer, templates, lease) = (state.mailer.clone(), state.templates.clone(), lease.clone());
    let queued = state
        .db
        .run(move |conn| {
            conn.transaction(|conn| -> anyhow::Result<bool> {
                // Written first: on SQLite the transaction then holds the write lock throughout.
                lease.complete(conn)?;
                let Some(found) = user::find(conn, user_id)? else {
                    return Ok(false);
                };
                if user::used_by_others(conn, user_id, None, Some(&email))?.1 {
                    return Ok(false);
                }
                let now = models::now();
                let expires = now + CONFIRM_EMAIL_WITHIN;
                let context = ChangeMailContext {
                    username: &found.username,
                    email: &email,
                    link: &link,
                    hours: CONFIRM_EMAIL_WITHIN.num_hours(),
                    lang: lang.to_string(),
                };
                let mut mail = written(&templates, &lang, CONFIRM, &email, &context)?;
                mail.holds_link = true;
                // The mail first: past the address's mails of the day, nothing is stored either.
                if mailer.queue(conn, &mail)?.is_none() {
                    return Ok(false);
                }
                email_change::replace(conn, user_id, &email, &token_hash, now, expires)?;
                Ok(true)
            })
        })
        .await?;
    if queued {
        state.jobs.wake();
    }
    Ok(())
}

/// The notice to the address an account had: it changed, to `new_email` (written with the change
/// itself, so the owner of a taken account hears of it).
pub fn email_changed_notice(
    templates: &Templates,
    lang: &LanguageIdentifier,
    username: &str,
    old_email: &str,
    new_email: &str,
) -> Result<Mail, AppError> {
    let context = ChangeMailContext {
        username,
        email: new_email,
        link: "",
        hours: 0,
        lang: lang.to_string(),
    };
    written(templates, lang, CHANGED, old_email, &context)
}

/// A mail of this blueprint: its subject, and its templates (`email/<name>.txt` and `.html`).
struct Kind {
    subject: &'static str,
    templates: &'static str,
}

const RESET: Kind = Kind {
    subject: "email-reset-subject",
    templates: "reset_password",
};
const CONFIRM: Kind = Kind {
    subject: "email-confirm-subject",
    templates: "confirm_email",
};
const CHANGED: Kind = Kind {
    subject: "email-changed-subject",
    templates: "email_changed",
};

/// The mail `kind` to `to`, in `lang`, written from `context`.
fn written(
    templates: &Templates,
    lang: &LanguageIdentifier,
    kind: Kind,
    to: &str,
    context: &impl Serialize,
) -> Result<Mail, AppError> {
    let name = kind.templates;
    Ok(Mail {
        to: vec![to.to_owned()],
        subject: Message::new(kind.subject).text(lang),
        text: templates.render(&format!("email/{name}.txt"), lang, context)?,
        html: Some(templates.render(&format!("email/{name}.html"), lang, context)?),
        attachment: None,
        password_reset: false,
        holds_link: false,
    })
}
