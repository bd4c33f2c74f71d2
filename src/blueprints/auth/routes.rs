//! Flask: `app/auth/routes.py`.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;

use super::forms::{
    CHANGE_PASSWORD_FIELDS, ChangePasswordInput, LOGIN_FIELDS, LoginInput, PasswordInput,
    REGISTER_FIELDS, RESET_PASSWORD_FIELDS, RESET_PASSWORD_REQUEST_FIELDS, RegisterInput,
    ResetPasswordInput, ResetPasswordRequestInput,
};
use crate::csrf::{CsrfForm, NoFields};
use crate::domain::NewPassword;
use crate::error::AppError;
use crate::flash::{Kind, flash};
use crate::form::FormView;
use crate::i18n::Message;
use crate::jobs::Job;
use crate::login::{self, CurrentUser, FreshUser};
use crate::models::{self, login_session, user, user::NewUser, user::User};
use crate::moment::Moment;
use crate::render::{FormContext, Page, redirect};
use crate::state::State;
use crate::tokens::token_hash;
use crate::urls::{self, next_param, with_next};

const TRY_LATER: Message = Message::new("form-try-later");

fn sign_in() -> Message {
    Message::new("title-sign-in")
}

fn register_title() -> Message {
    Message::new("title-register")
}

/// A password form shown again after too many attempts: 429, with `Retry-After`.
fn too_many_attempts(
    page: &Page,
    wait: std::time::Duration,
    template: &str,
    title: Message,
    form: FormView,
) -> Result<HttpResponse, AppError> {
    let mut res = page.render_status(
        StatusCode::TOO_MANY_REQUESTS,
        template,
        title,
        &FormContext { form },
    )?;
    res.headers_mut().insert(
        header::RETRY_AFTER,
        header::HeaderValue::from(wait.as_secs().max(1)),
    );
    Ok(res)
}

/// Where to go after a password was confirmed: the safe `next`, or `/index`.
fn next_or_index(page: &Page) -> HttpResponse {
    redirect(&next_param(page.request()).unwrap_or_else(|| "/index".to_owned()))
}

/// Flask: auth.login (chapter 5), GET.
pub async fn login(page: Page) -> Result<HttpResponse, AppError> {
    if page.user().is_some() {
        return Ok(redirect("/index"));
    }
    let form = FormView::new(LOGIN_FIELDS);
    page.render("auth/login.html", sign_in(), &FormContext { form })
}

/// Flask: auth.login (chapter 5), POST: check the password, then `login_user`.
pub async fn login_submit(
    page: Page,
    CsrfForm(input): CsrfForm<LoginInput>,
    state: web::Data<State>,
) -> Result<HttpResponse, AppError> {
    if page.user().is_some() {
        return Ok(redirect("/index"));
    }
    let credentials = match input.parse() {
        Ok(credentials) => credentials,
        Err(form) => return page.render("auth/login.html", sign_in(), &FormContext { form }),
    };
    let attempt = match state.throttle.begin(page.request(), &credentials.username) {
        Ok(attempt) => attempt,
        Err(wait) => {
            let mut form = FormView::new(LOGIN_FIELDS).value("username", &credentials.username);
            form.error("username", Message::new("form-too-many-logins"));
            return too_many_attempts(&page, wait, "auth/login.html", sign_in(), form);
        }
    };

    let found = crate::password::authenticate(
        &state.db,
        &state.hasher,
        &credentials.username,
        &credentials.password,
    )
    .await?;
    let Some(found) = found else {
        attempt.failed();
        page.flash(Kind::Error, Message::new("flash-invalid-login"));
        let back = match next_param(page.request()) {
            Some(next) => with_next(login::LOGIN_VIEW, &next),
            None => login::LOGIN_VIEW.to_owned(),
        };
        return Ok(redirect(&back));
    };

    login::login_user(page.request(), &found, credentials.remember).await?;
    let mut res = next_or_index(&page);
    attempt.succeeded(&mut res);
    Ok(res)
}

/// Flask: auth.logout (chapter 5). The login's row is deleted, so its cookies die everywhere.
/// A GET logs out too, as in the Flask app: the navbar's Logout is a plain link.
pub async fn logout(req: HttpRequest) -> Result<HttpResponse, AppError> {
    login::logout_user(&req).await?;
    Ok(redirect("/index"))
}

/// Flask: auth.register (chapter 5), GET.
pub async fn register(page: Page) -> Result<HttpResponse, AppError> {
    if page.user().is_some() {
        return Ok(redirect("/index"));
    }
    let form = FormView::new(REGISTER_FIELDS);
    page.render(
        "auth/register.html",
        register_title(),
        &FormContext { form },
    )
}

/// Flask: auth.register (chapter 5), POST.
pub async fn register_submit(
    page: Page,
    CsrfForm(input): CsrfForm<RegisterInput>,
    state: web::Data<State>,
) -> Result<HttpResponse, AppError> {
    if page.user().is_some() {
        return Ok(redirect("/index"));
    }
    let show_again = |form: FormView| {
        page.render(
            "auth/register.html",
            register_title(),
            &FormContext { form },
        )
    };
    // Uniqueness is checked even when other fields are wrong, so every message shows at once.
    let (name, email) = (
        input.username.trim().to_owned(),
        input.email.trim().to_owned(),
    );
    let (name_taken, email_taken) = state
        .db
        .run(move |conn| user::already_used(conn, &name, &email))
        .await?;
    let (mut form, registration) = input.parse();
    if name_taken {
        form.error("username", Message::new("form-username-taken"));
    }
    if email_taken {
        form.error("email", Message::new("form-email-taken"));
    }
    let Some(registration) = registration.filter(|_| form.is_valid()) else {
        return show_again(form);
    };

    let hash = state.hasher.hash(registration.password.as_str()).await?;
    // Someone may have registered the name or the address since the check above: then the
    // unique indexes refuse the insert, and the form says which of the two was taken.
    let refused = state
        .db
        .run(move |conn| {
            let new = NewUser {
                username: registration.username.as_str(),
                email: registration.email.as_str(),
                password_hash: &hash,
                last_seen: models::now(),
                about_me: None,
            };
            if user::create(conn, &new)?.is_some() {
                return Ok(None);
            }
            user::already_used(conn, new.username, new.email).map(Some)
        })
        .await?;
    if let Some((name_taken, email_taken)) = refused {
        // Neither found any more means the row was deleted meanwhile: say the name, as before.
        if name_taken || !email_taken {
            form.error("username", Message::new("form-username-taken"));
        }
        if email_taken {
            form.error("email", Message::new("form-email-taken"));
        }
        return show_again(form);
    }
    page.flash(Kind::Success, Message::new("flash-registered"));
    Ok(redirect(login::LOGIN_VIEW))
}

/// Flask-Login's `refresh_view`, GET: confirm the password to make a login fresh again.
pub async fn reauthenticate(page: Page, _user: CurrentUser) -> Result<HttpResponse, AppError> {
    let form = FormView::new(&["password"]);
    page.render(
        "auth/reauthenticate.html",
        Message::new("title-reauthenticate"),
        &FormContext { form },
    )
}

/// Flask-Login's `refresh_view`, POST: `confirm_login()` after a correct password.
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

/// `/auth/change_password`, GET (port addition: Flask only has the e-mailed reset).
pub async fn change_password(page: Page, _user: CurrentUser) -> Result<HttpResponse, AppError> {
    let form = FormView::new(CHANGE_PASSWORD_FIELDS);
    page.render(
        "auth/change_password.html",
        Message::new("title-change-password"),
        &FormContext { form },
    )
}

/// `/auth/change_password`, POST: a new password ends every other login of the user.
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

/// Reset tokens are 64 characters; anything much longer is not worth a query.
const LONGEST_TOKEN: usize = 128;

/// Flask: auth.reset_password_request (chapter 10), GET.
pub async fn reset_password_request(page: Page) -> Result<HttpResponse, AppError> {
    if page.user().is_some() {
        return Ok(redirect("/index"));
    }
    let form = FormView::new(RESET_PASSWORD_REQUEST_FIELDS);
    page.render(
        "auth/reset_password_request.html",
        Message::new("title-reset-password-request"),
        &FormContext { form },
    )
}

/// Flask: auth.reset_password_request, POST. The same answer for every address, in the same
/// time: the request only queues a job, which looks the address up and mails a link if it is a
/// user's.
pub async fn reset_password_request_submit(
    page: Page,
    CsrfForm(input): CsrfForm<ResetPasswordRequestInput>,
    state: web::Data<State>,
) -> Result<HttpResponse, AppError> {
    if page.user().is_some() {
        return Ok(redirect("/index"));
    }
    let template = "auth/reset_password_request.html";
    let title = || Message::new("title-reset-password-request");
    let email = match input.parse() {
        Ok(email) => email,
        Err(form) => return page.render(template, title(), &FormContext { form }),
    };
    let Some(site) = urls::site(&state.config, page.request()) else {
        tracing::warn!(
            host = ?page.request().headers().get(header::HOST),
            "a password reset was asked for under a host name this site does not serve; \
             set SERVER_NAME (or ALLOWED_HOSTS) to the site's public name"
        );
        return Err(AppError::bad_request(Message::new("error-unknown-host")));
    };
    let attempt = match state
        .throttle
        .begin(page.request(), &format!("reset:{}", email.as_str()))
    {
        Ok(attempt) => attempt,
        Err(wait) => {
            let mut form =
                FormView::new(RESET_PASSWORD_REQUEST_FIELDS).value("email", email.as_str());
            form.error("email", TRY_LATER);
            return too_many_attempts(&page, wait, template, title(), form);
        }
    };
    // Every request counts, as a wrong password does: each may send a mail.
    attempt.failed();
    let email = email.as_str().to_owned();
    let lang = page.lang().to_string();
    state
        .jobs
        .enqueue(Job::PasswordReset { email, site, lang })
        .await?;
    page.flash(Kind::Info, Message::new("flash-check-email"));
    Ok(redirect(login::LOGIN_VIEW))
}

/// The answer to a link that is not live: home, with a flash saying why.
fn dead_link(page: &Page) -> HttpResponse {
    page.flash(Kind::Error, Message::new("flash-reset-link-dead"));
    redirect("/index")
}

/// The user whose live reset link holds `token`.
async fn reset_link_owner(state: &State, token: &str) -> Result<Option<User>, AppError> {
    if token.len() > LONGEST_TOKEN {
        return Ok(None);
    }
    let hash = token_hash(token);
    state
        .db
        .run(move |conn| user::find_by_reset_link(conn, &hash, models::now()))
        .await
}

/// Flask: auth.reset_password (chapter 10), GET: the form. Only looks at the link: mail scanners
/// and link previews open links, and must not use them up.
pub async fn reset_password(
    page: Page,
    token: web::Path<String>,
    state: web::Data<State>,
) -> Result<HttpResponse, AppError> {
    if page.user().is_some() {
        return Ok(redirect("/index"));
    }
    if reset_link_owner(&state, &token).await?.is_none() {
        return Ok(dead_link(&page));
    }
    let form = FormView::new(RESET_PASSWORD_FIELDS);
    page.render(
        "auth/reset_password.html",
        Message::new("title-reset-password"),
        &FormContext { form },
    )
}

/// Flask: auth.reset_password, POST: the new password, which uses the link up and ends every
/// login of the user.
pub async fn reset_password_submit(
    page: Page,
    token: web::Path<String>,
    CsrfForm(input): CsrfForm<ResetPasswordInput>,
    state: web::Data<State>,
) -> Result<HttpResponse, AppError> {
    if page.user().is_some() {
        return Ok(redirect("/index"));
    }
    let Some(owner) = reset_link_owner(&state, &token).await? else {
        return Ok(dead_link(&page));
    };
    let new = match input.parse(&owner.username, &owner.email) {
        Ok(new) => new,
        Err(form) => {
            return page.render(
                "auth/reset_password.html",
                Message::new("title-reset-password"),
                &FormContext { form },
            );
        }
    };
    let hash = state.hasher.hash(new.as_str()).await?;
    let link = token_hash(&token);
    let reset = state
        .db
        .run(move |conn| user::reset_password(conn, &link, models::now(), &hash))
        .await?;
    if reset.is_none() {
        // Used or replaced while the password was being hashed.
        return Ok(dead_link(&page));
    }
    page.flash(Kind::Success, Message::new("flash-password-reset"));
    Ok(redirect(login::LOGIN_VIEW))
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

/// `/auth/sessions` (port addition): where the user is logged in, with a way out of each.
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
            browser: match crate::user_agent::describe(&row.user_agent) {
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

/// Ends one login of the user's (the sessions page's "Log out" button).
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

/// "Log out everywhere": every login of the user ends, this one included, and every API token.
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
