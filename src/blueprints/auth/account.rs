//! Port addition: the account pages of `/auth` that `app/auth/routes.py` does not have:
//! confirming the password for a fresh login (Flask-Login's `refresh_view`), changing the
//! password, changing the e-mail address (through a link mailed to the new one), the sessions
//! page, which lists the user's logins and ends them, and deleting the account.

use actix_web::{HttpRequest, HttpResponse, web};
use diesel::Connection as _;
use serde::Serialize;

use super::email::email_changed_notice;
use super::forms::{
    CHANGE_EMAIL_FIELDS, CHANGE_PASSWORD_FIELDS, ChangeEmailInput, ChangePasswordInput,
    PasswordInput,
};
use super::routes::{TRY_LATER, next_or_index, too_many_attempts};
use crate::csrf::{CsrfForm, NoFields};
use crate::domain::{Email, NewPassword};
use crate::error::AppError;
use crate::federation;
use crate::flash::{Kind, flash};
use crate::form::FormView;
use crate::i18n::Message;
use crate::login::{self, CurrentUser, FreshUser};
use crate::models::email_change::{self, Confirmed};
use crate::models::job::Job;
use crate::models::user::AuthUser;
use crate::models::{self, login_session, message, user};
use crate::moment::Moment;
use crate::render::{FormContext, Page, redirect};
use crate::state::State;
use crate::throttle::{Account, Attempt};
use crate::tokens::token_hash;
use crate::urls;
use crate::user_agent;

/// Port addition: Flask-Login's `refresh_view` (`/auth/reauthenticate`), GET: confirm the
/// password to make a login fresh again.
pub async fn reauthenticate(page: Page, _user: CurrentUser) -> Result<HttpResponse, AppError> {
    let form = FormView::new(&["password"]);
    page.render(
        "auth/reauthenticate.html",
        Message::new("title-reauthenticate"),
        &FormContext { form },
    )
}

/// Port addition: Flask-Login's `refresh_view`, POST: `confirm_login()` after a correct
/// password.
pub async fn reauthenticate_submit(
    page: Page,
    CurrentUser(user): CurrentUser,
    CsrfForm(input): CsrfForm<PasswordInput>,
    state: web::Data<State>,
) -> Result<HttpResponse, AppError> {
    let form_page = (
        "auth/reauthenticate.html",
        Message::new("title-reauthenticate"),
    );
    let form = FormView::new(&["password"]);
    let attempt =
        match confirm_password(&page, &state, &user, &input.password, form_page, form).await? {
            Ok(attempt) => attempt,
            Err(shown_again) => return Ok(shown_again),
        };
    login::confirm_login(page.request(), &user).await?;
    let mut res = next_or_index(&page);
    attempt.succeeded(&mut res).await;
    Ok(res)
}

/// The page's password form, checked against `user`'s password under the login throttle: the
/// attempt to settle once the request succeeds (`Attempt::succeeded`), or the form shown
/// again, with a 429 while the count is full or "Invalid password." (counted as a failure).
async fn confirm_password<'a>(
    page: &Page,
    state: &'a State,
    user: &AuthUser,
    password: &str,
    (template, title): (&str, Message),
    mut form: FormView,
) -> Result<Result<Attempt<'a>, HttpResponse>, AppError> {
    let attempt = match state
        .throttle
        .begin(page.request(), Account::Id(user.id))
        .await?
    {
        Ok(attempt) => attempt,
        Err(wait) => {
            form.error("password", TRY_LATER);
            return too_many_attempts(page, wait, template, title, form).map(Err);
        }
    };
    let stored = Some(user.password_hash.clone());
    if !state.hasher.verify(password, stored).await? {
        attempt.failed().await;
        form.error("password", Message::new("form-invalid-password"));
        return page.render(template, title, &FormContext { form }).map(Err);
    }
    Ok(Ok(attempt))
}

/// Port addition: `/auth/change_password`, GET (Flask only has the e-mailed reset).
pub async fn change_password(page: Page, _user: CurrentUser) -> Result<HttpResponse, AppError> {
    let form = FormView::new(CHANGE_PASSWORD_FIELDS);
    page.render(
        "auth/change_password.html",
        Message::new("title-change-password"),
        &FormContext { form },
    )
}

/// Port addition: `/auth/change_password`, POST: a new password ends every other login of the
/// user.
pub async fn change_password_submit(
    page: Page,
    CurrentUser(user): CurrentUser,
    CsrfForm(input): CsrfForm<ChangePasswordInput>,
    state: web::Data<State>,
) -> Result<HttpResponse, AppError> {
    let title = || Message::new("title-change-password");
    let mut form = FormView::new(CHANGE_PASSWORD_FIELDS);
    let attempt = match state
        .throttle
        .begin(page.request(), Account::Id(user.id))
        .await?
    {
        Ok(attempt) => attempt,
        Err(wait) => {
            form.error("old_password", TRY_LATER);
            return too_many_attempts(&page, wait, "auth/change_password.html", title(), form);
        }
    };
    let stored = Some(user.password_hash.clone());
    let old_ok = state.hasher.verify(&input.old_password, stored).await?;
    if !old_ok {
        form.error("old_password", Message::new("form-invalid-password"));
    }
    let new = NewPassword::parse(
        &input.password,
        &input.password2,
        &user.username,
        &user.email,
    )
    .map_err(|(first, second)| {
        first.into_iter().for_each(|e| form.error("password", e));
        second.into_iter().for_each(|e| form.error("password2", e));
    });
    let new = match new {
        Ok(new) if old_ok => new,
        _ => {
            let mut res =
                page.render("auth/change_password.html", title(), &FormContext { form })?;
            if old_ok {
                attempt.succeeded(&mut res).await;
            } else {
                attempt.failed().await;
            }
            return Ok(res);
        }
    };
    let hash = state.hasher.hash(new.as_str()).await?;
    let (user_id, keep) = (user.id, user.login_session_id);
    state
        .db
        .run(move |conn| user::set_password(conn, user_id, &hash, Some(keep)))
        .await?;
    page.flash(Kind::Success, Message::new("flash-password-changed"));
    let mut res = redirect("/index");
    attempt.succeeded(&mut res).await;
    Ok(res)
}

/// Port addition: `/auth/change_email`, GET: the new address and the password (a fresh login).
pub async fn change_email(page: Page, _user: FreshUser) -> Result<HttpResponse, AppError> {
    let form = FormView::new(CHANGE_EMAIL_FIELDS);
    page.render(
        "auth/change_email.html",
        Message::new("title-change-email"),
        &FormContext { form },
    )
}

/// Port addition: `/auth/change_email`, POST: with the right password, a link goes to the new
/// address (`Job::ConfirmEmail`), and the address changes only when it is opened. A login or a
/// token someone else got hold of cannot move the account to an address of theirs.
pub async fn change_email_submit(
    page: Page,
    FreshUser(user): FreshUser,
    CsrfForm(input): CsrfForm<ChangeEmailInput>,
    state: web::Data<State>,
) -> Result<HttpResponse, AppError> {
    let title = || Message::new("title-change-email");
    let template = "auth/change_email.html";
    let form = || FormView::new(CHANGE_EMAIL_FIELDS).value("email", &input.email);
    let checked = confirm_password(
        &page,
        &state,
        &user,
        &input.password,
        (template, title()),
        form(),
    );
    let attempt = match checked.await? {
        Ok(attempt) => attempt,
        Err(shown_again) => return Ok(shown_again),
    };
    let mut form = form();
    let email = match Email::parse(&input.email) {
        Ok(email) if email.as_str().eq_ignore_ascii_case(&user.email) => {
            Err(Message::new("form-email-unchanged"))
        }
        other => other,
    };
    let email = match email {
        Ok(email) => {
            let (id, address) = (user.id, email.as_str().to_owned());
            let taken = state
                .db
                .run(move |conn| user::used_by_others(conn, id, None, Some(&address)))
                .await?
                .1;
            if taken {
                Err(Message::new("form-email-taken"))
            } else {
                Ok(email)
            }
        }
        Err(e) => Err(e),
    };
    let email = match email {
        Ok(email) => email,
        Err(e) => {
            form.error("email", e);
            let mut res = page.render(template, title(), &FormContext { form })?;
            attempt.succeeded(&mut res).await;
            return Ok(res);
        }
    };
    let Some(site) = urls::site(&state.config, page.request()) else {
        return Err(AppError::bad_request(Message::new("error-unknown-host")));
    };
    let job = Job::ConfirmEmail {
        user_id: user.id,
        email: email.as_str().to_owned(),
        site,
        lang: page.lang().to_string(),
    };
    state.jobs.enqueue(job).await?;
    let sent = Message::new("flash-email-link-sent").with("email", email.as_str());
    page.flash(Kind::Info, sent);
    let mut res = redirect("/edit_profile");
    attempt.succeeded(&mut res).await;
    Ok(res)
}

/// Port addition: `/auth/confirm_email/<token>`, GET: what the link changes, and a button. A
/// GET uses nothing up (mail scanners and previews open links); a link that is not live goes
/// home with a flash.
pub async fn confirm_email(
    page: Page,
    path: web::Path<String>,
    state: web::Data<State>,
) -> Result<HttpResponse, AppError> {
    let hash = token_hash(&path.into_inner());
    let found = state
        .db
        .run(move |conn| email_change::find(conn, &hash, models::now()))
        .await?;
    let Some((username, email)) = found else {
        page.flash(Kind::Error, Message::new("flash-email-link-dead"));
        return Ok(redirect(after_link(&page)));
    };
    page.render(
        "auth/confirm_email.html",
        Message::new("title-confirm-email"),
        &serde_json::json!({ "username": username, "email": email }),
    )
}

/// Port addition: `/auth/confirm_email/<token>`, POST: the address changes, the link is used
/// up, the user's reset links and API tokens end, and the old address is told, in one
/// transaction.
pub async fn confirm_email_submit(
    page: Page,
    CsrfForm(NoFields {}): CsrfForm<NoFields>,
    path: web::Path<String>,
    state: web::Data<State>,
) -> Result<HttpResponse, AppError> {
    let hash = token_hash(&path.into_inner());
    let (mailer, templates, lang) = (state.mailer.clone(), state.templates.clone(), page.lang());
    let confirmed = state
        .db
        .run(move |conn| {
            conn.transaction(|conn| -> Result<Confirmed, AppError> {
                let confirmed = email_change::confirm(conn, &hash, models::now())?;
                if let Confirmed::Changed { user, old_email } = &confirmed {
                    let notice = email_changed_notice(
                        &templates,
                        &lang,
                        &user.username,
                        old_email,
                        &user.email,
                    )?;
                    mailer.queue_always(conn, &notice)?;
                }
                Ok(confirmed)
            })
        })
        .await?;
    match confirmed {
        Confirmed::Changed { user, .. } => {
            state.jobs.wake();
            let changed = Message::new("flash-email-changed").with("email", user.email);
            page.flash(Kind::Success, changed);
        }
        Confirmed::Taken => page.flash(Kind::Error, Message::new("flash-email-taken-meanwhile")),
        Confirmed::Dead => page.flash(Kind::Error, Message::new("flash-email-link-dead")),
    }
    Ok(redirect(after_link(&page)))
}

/// Where a confirmation link leads once used: home, or the login page for a browser that is
/// not logged in (the link may be opened anywhere), which would only be sent on from home.
fn after_link(page: &Page) -> &'static str {
    if page.user().is_some() {
        "/index"
    } else {
        login::LOGIN_VIEW
    }
}

/// One login as the sessions page lists it.
#[derive(Serialize)]
struct SessionView {
    id: i32,
    created_at: Moment,
    last_used: Moment,
    /// "Chrome on Linux", or the `User-Agent` itself when it is not one we know.
    browser: String,
    /// The whole `User-Agent`, shown on hover.
    user_agent: String,
    remember: bool,
    current: bool,
}

#[derive(Serialize)]
struct SessionsContext {
    sessions: Vec<SessionView>,
}

/// Port addition: `/auth/sessions`, where the user is logged in, with a way out of each.
pub async fn sessions(
    page: Page,
    FreshUser(user): FreshUser,
    state: web::Data<State>,
) -> Result<HttpResponse, AppError> {
    let user_id = user.id;
    let rows = state
        .db
        .run(move |conn| login_session::list_for_user(conn, user_id, models::now()))
        .await?;
    let lang = page.lang();
    let sessions = rows
        .into_iter()
        .map(|row| SessionView {
            id: row.id,
            created_at: row.created_at.into(),
            last_used: state
                .activity
                .last_used(row.id)
                .unwrap_or(row.last_used)
                .into(),
            browser: match user_agent::describe(&row.user_agent) {
                Some((browser, "")) => browser.to_owned(),
                Some((browser, system)) => Message::new("sessions-browser-on")
                    .with("browser", browser)
                    .with("system", system)
                    .text(&lang),
                None if row.user_agent.is_empty() => {
                    Message::new("sessions-unknown-browser").text(&lang)
                }
                // Shown as it came, cut to a line.
                None => row.user_agent.chars().take(60).collect(),
            },
            user_agent: row.user_agent,
            remember: row.remember,
            current: row.id == user.login_session_id,
        })
        .collect();
    page.render(
        "auth/sessions.html",
        Message::new("title-sessions"),
        &SessionsContext { sessions },
    )
}

/// Port addition: `POST /auth/sessions/<id>/logout` ends one login of the user's (the sessions
/// page's "Log out" button).
pub async fn session_logout(
    req: HttpRequest,
    FreshUser(user): FreshUser,
    CsrfForm(NoFields {}): CsrfForm<NoFields>,
    path: web::Path<String>,
    state: web::Data<State>,
) -> Result<HttpResponse, AppError> {
    let id: i32 = path
        .parse()
        .map_err(|_| AppError::bad_request(Message::new("error-not-a-session")))?;
    if id == user.login_session_id {
        login::logout_user(&req).await?;
        return Ok(redirect("/index"));
    }
    let user_id = user.id;
    let deleted = state
        .db
        .run(move |conn| login_session::delete_one(conn, user_id, id))
        .await?;
    if deleted == 0 {
        return Err(AppError::NotFound);
    }
    flash(
        &req,
        Kind::Success,
        Message::new("flash-session-logged-out"),
    );
    Ok(redirect("/auth/sessions"))
}

/// Port addition: `POST /auth/sessions/logout_all`, "Log out everywhere": every login of the
/// user ends, this one included, and every API token.
pub async fn sessions_logout_all(
    req: HttpRequest,
    FreshUser(user): FreshUser,
    CsrfForm(NoFields {}): CsrfForm<NoFields>,
    state: web::Data<State>,
) -> Result<HttpResponse, AppError> {
    let user_id = user.id;
    state
        .db
        .run(move |conn| user::end_every_login(conn, user_id))
        .await?;
    login::logout_user(&req).await?;
    flash(
        &req,
        Kind::Success,
        Message::new("flash-logged-out-everywhere"),
    );
    Ok(redirect(login::LOGIN_VIEW))
}

/// Port addition: `/auth/delete_account`, GET (a fresh login): what will be deleted, the export
/// offered first, and the password.
pub async fn delete_account(page: Page, _user: FreshUser) -> Result<HttpResponse, AppError> {
    let form = FormView::new(&["password"]);
    page.render(
        "auth/delete_account.html",
        Message::new("title-delete-account"),
        &FormContext { form },
    )
}

/// Port addition: `/auth/delete_account`, POST: with the right password, the account and
/// everything that is its own are deleted in one transaction (`federation::erase_account`); every
/// login of the account ends with its rows, this browser is logged out, and the username is
/// free again. A wrong password is a form error, changes nothing, and counts as a failed login.
pub async fn delete_account_submit(
    page: Page,
    FreshUser(user): FreshUser,
    CsrfForm(input): CsrfForm<PasswordInput>,
    state: web::Data<State>,
) -> Result<HttpResponse, AppError> {
    let form_page = (
        "auth/delete_account.html",
        Message::new("title-delete-account"),
    );
    let form = FormView::new(&["password"]);
    let attempt =
        match confirm_password(&page, &state, &user, &input.password, form_page, form).await? {
            Ok(attempt) => attempt,
            Err(shown_again) => return Ok(shown_again),
        };
    let (id, languages) = (user.id, state.languages.codes());
    let federation = state.config.federation.clone();
    let erased = state
        .db
        .run(move |conn| {
            // With a Delete to the servers following them, when federating.
            let erased = federation::erase_account(conn, federation.as_ref(), id, &languages)?;
            // The badges of those they wrote to count without their messages.
            if let Some(erased) = &erased {
                message::recount_unread(conn, &erased.wrote_to)?;
            }
            Ok::<_, diesel::result::Error>(erased)
        })
        .await?;
    state.db.scrub_soon();
    state.jobs.wake();
    state.live.changed(id);
    for reader in erased.map(|e| e.wrote_to).unwrap_or_default() {
        state.live.changed(reader);
    }
    login::logout_user(page.request()).await?;
    page.flash(Kind::Info, Message::new("flash-account-deleted"));
    let mut res = redirect(login::LOGIN_VIEW);
    attempt.succeeded(&mut res).await;
    Ok(res)
}
