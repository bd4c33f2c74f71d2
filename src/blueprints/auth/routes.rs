//! Flask: `app/auth/routes.py`: logging in and out, registering, and the mailed password
//! reset. The port's account pages (re-authentication, password change, sessions) are
//! `account.rs`.

use actix_session::SessionExt as _;
use actix_web::http::{Method, StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};

use super::forms::{
    LOGIN_FIELDS, LoginInput, REGISTER_FIELDS, RESET_PASSWORD_FIELDS,
    RESET_PASSWORD_REQUEST_FIELDS, RegisterInput, ResetPasswordInput, ResetPasswordRequestInput,
};
use crate::csrf::CsrfForm;
use crate::error::AppError;
use crate::flash::Kind;
use crate::form::FormView;
use crate::i18n::Message;
use crate::login;
use crate::models;
use crate::models::job::Job;
use crate::models::user::{self, NewUser, User};
use crate::password;
use crate::render::{FormContext, Page, redirect};
use crate::state::State;
use crate::throttle::Account;
use crate::tokens::token_hash;
use crate::urls::{self, next_param, with_next};

pub(super) const TRY_LATER: Message = Message::new("form-try-later");

fn sign_in() -> Message {
    Message::new("title-sign-in")
}

fn register_title() -> Message {
    Message::new("title-register")
}

/// A password form shown again after too many attempts: 429, with `Retry-After`.
pub(super) fn too_many_attempts(
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
pub(super) fn next_or_index(page: &Page) -> HttpResponse {
    redirect(&next_param(page.request()).unwrap_or_else(|| "/index".to_owned()))
}

/// The session key of the name typed in a failed login, shown once in the form that follows
/// (Flask's form comes back empty after its redirect; retyping a name on a phone is a chore).
const TYPED_NAME: &str = "_login_name";

/// Flask: auth.login (chapter 5), GET.
pub async fn login(page: Page) -> Result<HttpResponse, AppError> {
    if page.user().is_some() {
        return Ok(redirect("/index"));
    }
    let mut form = FormView::new(LOGIN_FIELDS);
    let session = page.request().get_session();
    // Looked for first: `remove` would mark every session changed, and re-send its cookie.
    if session.contains_key(TYPED_NAME)
        && let Ok(Some(name)) = session.remove_as::<String>(TYPED_NAME).transpose()
    {
        form = form.value("username", &name);
    }
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
    // The name is looked up first (a cheap query), so the counts are the account's, by its id.
    let name = credentials.username.clone();
    let found = state
        .db
        .run(move |conn| user::find_by_login_name(conn, &name))
        .await?;
    let account = Account::found_or_typed(found.as_ref().map(|u| u.id), &credentials.username);
    let attempt = match state.throttle.begin(page.request(), account).await? {
        Ok(attempt) => attempt,
        Err(wait) => {
            let mut form = FormView::new(LOGIN_FIELDS).value("username", &credentials.username);
            form.error("username", Message::new("form-too-many-logins"));
            return too_many_attempts(&page, wait, "auth/login.html", sign_in(), form);
        }
    };

    let found = password::authenticate(&state.hasher, found, &credentials.password).await?;
    let Some(found) = found else {
        attempt.failed().await;
        page.flash(Kind::Error, Message::new("flash-invalid-login"));
        // At most a username's length: the session lives in a cookie.
        let typed: String = credentials.username.chars().take(64).collect();
        if let Err(e) = page.request().get_session().insert(TYPED_NAME, typed) {
            tracing::warn!(error = %e, "could not keep the typed username");
        }
        let back = match next_param(page.request()) {
            Some(next) => with_next(login::LOGIN_VIEW, &next),
            None => login::LOGIN_VIEW.to_owned(),
        };
        return Ok(redirect(&back));
    };

    login::login_user(page.request(), &found, credentials.remember).await?;
    let mut res = next_or_index(&page);
    attempt.succeeded(&mut res).await;
    Ok(res)
}

/// Flask: auth.logout (chapter 5). The login's row is deleted, so its cookies die everywhere.
/// A GET logs out too, as in the Flask app (the navbar's Logout is a plain link), unless the
/// browser says another site sent it there (`Sec-Fetch-Site: cross-site`): a link or a redirect
/// on any page of the web must not end a login, so that visitor gets a "Log out?" button
/// instead. A POST from another site carries no cookie (they are `SameSite=Lax`).
pub async fn logout(page: Page, req: HttpRequest) -> Result<HttpResponse, AppError> {
    if req.method() == Method::GET && is_cross_site(&req) && page.user().is_some() {
        return page.render(
            "auth/logout.html",
            Message::new("title-logout"),
            &serde_json::json!({}),
        );
    }
    login::logout_user(&req).await?;
    page.flash(Kind::Info, Message::new("flash-logged-out"));
    Ok(redirect("/index"))
}

/// The browser came here from another site's link, form or redirect (Fetch Metadata). A
/// bookmark, a typed address (`none`) and clients that do not send the header are not.
fn is_cross_site(req: &HttpRequest) -> bool {
    req.headers()
        .get("Sec-Fetch-Site")
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"cross-site"))
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
        .begin(
            page.request(),
            Account::ResetMailTo(email.as_str().to_lowercase()),
        )
        .await?
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
    attempt.failed().await;
    let email = email.as_str().to_owned();
    let lang = page.lang().to_string();
    state
        .jobs
        .enqueue(Job::PasswordReset { email, site, lang })
        .await?;
    page.flash(Kind::Info, Message::new("flash-check-email"));
    Ok(redirect(login::LOGIN_VIEW))
}

/// The answer to a link that is not live: home (the login page, for a visitor), with one
/// message saying why and linking to a new one.
fn dead_link(page: &Page) -> HttpResponse {
    page.flash_with_link(
        Kind::Error,
        Message::new("flash-reset-link-dead"),
        "/auth/reset_password_request",
        Message::new("flash-reset-link-ask"),
    );
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
