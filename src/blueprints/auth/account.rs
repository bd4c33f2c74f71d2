//! Port addition: the account pages of `/auth` that `app/auth/routes.py` does not have:
//! confirming the password for a fresh login (Flask-Login's `refresh_view`), changing the
//! password, and the sessions page, which lists the user's logins and ends them.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;

use super::forms::{CHANGE_PASSWORD_FIELDS, ChangePasswordInput, PasswordInput};
use super::routes::{TRY_LATER, next_or_index, too_many_attempts};
use crate::csrf::{CsrfForm, NoFields};
use crate::domain::NewPassword;
use crate::error::AppError;
use crate::flash::{Kind, flash};
use crate::form::FormView;
use crate::i18n::Message;
use crate::login::{self, CurrentUser, FreshUser};
use crate::models::{self, login_session, user};
use crate::moment::Moment;
use crate::render::{FormContext, Page, redirect};
use crate::state::State;
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
    let title = || Message::new("title-reauthenticate");
    let mut form = FormView::new(&["password"]);
    let attempt = match state.throttle.begin(page.request(), &user.username) {
        Ok(attempt) => attempt,
        Err(wait) => {
            form.error("password", TRY_LATER);
            return too_many_attempts(&page, wait, "auth/reauthenticate.html", title(), form);
        }
    };
    let stored = Some(user.password_hash.clone());
    if !state.hasher.verify(&input.password, stored).await? {
        attempt.failed();
        form.error("password", Message::new("form-invalid-password"));
        return page.render("auth/reauthenticate.html", title(), &FormContext { form });
    }
    login::confirm_login(page.request(), &user).await?;
    let mut res = next_or_index(&page);
    attempt.succeeded(&mut res);
    Ok(res)
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
    let attempt = match state.throttle.begin(page.request(), &user.username) {
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
                attempt.succeeded(&mut res);
            } else {
                attempt.failed();
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
    attempt.succeeded(&mut res);
    Ok(res)
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
