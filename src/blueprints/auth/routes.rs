//! Flask: `app/auth/routes.py`.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::NaiveDateTime;
use serde::Serialize;

use super::forms::{
    CHANGE_PASSWORD_FIELDS, ChangePasswordInput, LOGIN_FIELDS, LoginInput, PasswordInput,
    REGISTER_FIELDS, RegisterInput,
};
use crate::csrf::{CsrfForm, NoFields};
use crate::db::Db;
use crate::domain::NewPassword;
use crate::error::AppError;
use crate::flash::flash;
use crate::form::FormView;
use crate::login::{self, CurrentUser, FreshUser, LoginManager, MaybeUser, safe_next};
use crate::models::{self, login_session, user, user::NewUser};
use crate::password::Hasher;
use crate::render::{Page, redirect};
use crate::throttle::LoginThrottle;

#[derive(Serialize)]
struct FormPage {
    form: FormView,
}

const TRY_LATER: &str = "Too many attempts. Please wait a minute and try again.";

/// A password form shown again after too many attempts: 429, with `Retry-After`.
fn too_many_attempts(
    page: &Page,
    wait: std::time::Duration,
    template: &str,
    title: &str,
    form: FormView,
) -> Result<HttpResponse, AppError> {
    let mut res = page.render_status(
        StatusCode::TOO_MANY_REQUESTS,
        template,
        title,
        &FormPage { form },
    )?;
    res.headers_mut().insert(
        header::RETRY_AFTER,
        header::HeaderValue::from(wait.as_secs().max(1)),
    );
    Ok(res)
}

/// The `next` query parameter, if it is a safe local path.
fn next_param(req: &HttpRequest) -> Option<String> {
    let pairs = crate::form::parse_urlencoded(req.query_string().as_bytes()).ok()?;
    let next = pairs.into_iter().find(|(k, _)| k == "next").map(|(_, v)| v);
    safe_next(next.as_deref())
}

/// Flask: auth.login (chapter 5), GET.
pub async fn login(page: Page, user: MaybeUser) -> Result<HttpResponse, AppError> {
    if user.0.is_some() {
        return Ok(redirect("/index"));
    }
    let form = FormView::new(LOGIN_FIELDS);
    page.render("auth/login.html", "Sign In", &FormPage { form })
}

/// Flask: auth.login (chapter 5), POST: check the password, then `login_user`.
pub async fn login_submit(
    req: HttpRequest,
    page: Page,
    user: MaybeUser,
    CsrfForm(input): CsrfForm<LoginInput>,
    db: web::Data<Db>,
    hasher: web::Data<Hasher>,
    throttle: web::Data<LoginThrottle>,
) -> Result<HttpResponse, AppError> {
    if user.0.is_some() {
        return Ok(redirect("/index"));
    }
    let credentials = match input.parse() {
        Ok(credentials) => credentials,
        Err(form) => return page.render("auth/login.html", "Sign In", &FormPage { form }),
    };
    let attempt = match throttle.begin(&req, &credentials.username) {
        Ok(attempt) => attempt,
        Err(wait) => {
            let mut form = FormView::new(LOGIN_FIELDS).value("username", &credentials.username);
            form.error(
                "username",
                "Too many login attempts. Please wait a minute and try again.",
            );
            return too_many_attempts(&page, wait, "auth/login.html", "Sign In", form);
        }
    };

    let name = credentials.username.clone();
    let found = db
        .run(move |conn| user::find_by_username(conn, &name))
        .await?;
    // An unknown user costs a bcrypt check too: same answer, same time.
    let stored = found.as_ref().map(|u| u.password_hash.clone());
    let valid = hasher.verify(&credentials.password, stored).await?;
    let (Some(found), true) = (found, valid) else {
        attempt.failed();
        flash(&req, "Invalid username or password");
        let back = match next_param(&req) {
            Some(next) => format!("/auth/login?next={}", crate::form::encode_component(&next)),
            None => "/auth/login".to_owned(),
        };
        return Ok(redirect(&back));
    };

    login::login_user(&req, &found, credentials.remember).await?;
    let mut res = redirect(&next_param(&req).unwrap_or_else(|| "/index".to_owned()));
    attempt.succeeded(&mut res);
    Ok(res)
}

/// Flask: auth.logout (chapter 5). The login's row is deleted, so its cookies die everywhere.
pub async fn logout(req: HttpRequest) -> Result<HttpResponse, AppError> {
    login::logout_user(&req).await?;
    Ok(redirect("/index"))
}

/// Flask: auth.register (chapter 5), GET.
pub async fn register(page: Page, user: MaybeUser) -> Result<HttpResponse, AppError> {
    if user.0.is_some() {
        return Ok(redirect("/index"));
    }
    let form = FormView::new(REGISTER_FIELDS);
    page.render("auth/register.html", "Register", &FormPage { form })
}

/// Flask: auth.register (chapter 5), POST.
pub async fn register_submit(
    req: HttpRequest,
    page: Page,
    user: MaybeUser,
    CsrfForm(input): CsrfForm<RegisterInput>,
    db: web::Data<Db>,
    hasher: web::Data<Hasher>,
) -> Result<HttpResponse, AppError> {
    if user.0.is_some() {
        return Ok(redirect("/index"));
    }
    let show_again =
        |form: FormView| page.render("auth/register.html", "Register", &FormPage { form });
    // Uniqueness is checked even when other fields are wrong, so every message shows at once.
    let (name, email) = (
        input.username.trim().to_owned(),
        input.email.trim().to_owned(),
    );
    let (name_taken, email_taken) = db
        .run(move |conn| {
            Ok::<_, diesel::result::Error>((
                user::username_taken(conn, &name)?,
                user::email_taken(conn, &email)?,
            ))
        })
        .await?;
    let (mut form, registration) = input.parse();
    if name_taken {
        form.error("username", "Please use a different username.");
    }
    if email_taken {
        form.error("email", "Please use a different email address.");
    }
    let Some(registration) = registration.filter(|_| form.is_valid()) else {
        return show_again(form);
    };

    let hash = hasher.hash(registration.password.as_str()).await?;
    let created = db
        .run(move |conn| {
            let new = NewUser {
                username: registration.username.as_str(),
                email: registration.email.as_str(),
                password_hash: &hash,
                last_seen: models::now(),
            };
            match user::create(conn, &new) {
                Ok(_) => Ok(true),
                // Someone took the name or address between our check and the insert.
                Err(diesel::result::Error::DatabaseError(
                    diesel::result::DatabaseErrorKind::UniqueViolation,
                    _,
                )) => Ok(false),
                Err(e) => Err(e),
            }
        })
        .await?;
    if !created {
        form.error("username", "Please use a different username.");
        return show_again(form);
    }
    flash(&req, "Congratulations, you are now a registered user!");
    Ok(redirect("/auth/login"))
}

/// Flask-Login's `refresh_view`, GET: confirm the password to make a login fresh again.
pub async fn reauthenticate(page: Page, _user: CurrentUser) -> Result<HttpResponse, AppError> {
    let form = FormView::new(&["password"]);
    page.render(
        "auth/reauthenticate.html",
        "Confirm your password",
        &FormPage { form },
    )
}

/// Flask-Login's `refresh_view`, POST: `confirm_login()` after a correct password.
pub async fn reauthenticate_submit(
    req: HttpRequest,
    page: Page,
    CurrentUser(user): CurrentUser,
    CsrfForm(input): CsrfForm<PasswordInput>,
    hasher: web::Data<Hasher>,
    throttle: web::Data<LoginThrottle>,
) -> Result<HttpResponse, AppError> {
    let mut form = FormView::new(&["password"]);
    let attempt = match throttle.begin(&req, &user.username) {
        Ok(attempt) => attempt,
        Err(wait) => {
            form.error("password", TRY_LATER);
            let title = "Confirm your password";
            return too_many_attempts(&page, wait, "auth/reauthenticate.html", title, form);
        }
    };
    if !hasher
        .verify(&input.password, Some(user.password_hash.clone()))
        .await?
    {
        attempt.failed();
        form.error("password", "Invalid password.");
        return page.render(
            "auth/reauthenticate.html",
            "Confirm your password",
            &FormPage { form },
        );
    }
    login::confirm_login(&req, &user).await?;
    let mut res = redirect(&next_param(&req).unwrap_or_else(|| "/index".to_owned()));
    attempt.succeeded(&mut res);
    Ok(res)
}

/// `/auth/change_password`, GET (port addition: Flask only has the e-mailed reset).
pub async fn change_password(page: Page, _user: CurrentUser) -> Result<HttpResponse, AppError> {
    let form = FormView::new(CHANGE_PASSWORD_FIELDS);
    page.render(
        "auth/change_password.html",
        "Change password",
        &FormPage { form },
    )
}

/// `/auth/change_password`, POST: a new password ends every other login of the user.
pub async fn change_password_submit(
    req: HttpRequest,
    page: Page,
    CurrentUser(user): CurrentUser,
    CsrfForm(input): CsrfForm<ChangePasswordInput>,
    db: web::Data<Db>,
    hasher: web::Data<Hasher>,
    throttle: web::Data<LoginThrottle>,
) -> Result<HttpResponse, AppError> {
    let title = "Change password";
    let mut form = FormView::new(CHANGE_PASSWORD_FIELDS);
    let attempt = match throttle.begin(&req, &user.username) {
        Ok(attempt) => attempt,
        Err(wait) => {
            form.error("old_password", TRY_LATER);
            return too_many_attempts(&page, wait, "auth/change_password.html", title, form);
        }
    };
    let old_ok = hasher
        .verify(&input.old_password, Some(user.password_hash.clone()))
        .await?;
    if !old_ok {
        form.error("old_password", "Invalid password.");
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
            let mut res = page.render("auth/change_password.html", title, &FormPage { form })?;
            if old_ok {
                attempt.succeeded(&mut res);
            } else {
                attempt.failed();
            }
            return Ok(res);
        }
    };
    let hash = hasher.hash(new.as_str()).await?;
    let (user_id, keep) = (user.id, user.login_session_id);
    db.run(move |conn| {
        use diesel::Connection;
        conn.transaction(|conn| {
            user::set_password_hash(conn, user_id, &hash)?;
            login_session::delete_all_for_user(conn, user_id, Some(keep))
        })
    })
    .await?;
    flash(
        &req,
        "Your password has been changed. Your other sessions were logged out.",
    );
    let mut res = redirect("/index");
    attempt.succeeded(&mut res);
    Ok(res)
}

/// One login as the sessions page lists it.
#[derive(Serialize)]
struct SessionView {
    id: i32,
    created_at: String,
    last_used: String,
    user_agent: String,
    remember: bool,
    current: bool,
}

#[derive(Serialize)]
struct SessionsPage {
    sessions: Vec<SessionView>,
}

fn utc(t: NaiveDateTime) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// `/auth/sessions` (port addition): where the user is logged in, with a way out of each.
pub async fn sessions(
    page: Page,
    FreshUser(user): FreshUser,
    db: web::Data<Db>,
    lm: web::Data<LoginManager>,
) -> Result<HttpResponse, AppError> {
    let user_id = user.id;
    let rows = db
        .run(move |conn| login_session::list_for_user(conn, user_id, models::now()))
        .await?;
    let sessions = rows
        .into_iter()
        .map(|row| SessionView {
            id: row.id,
            created_at: utc(row.created_at),
            last_used: utc(lm.activity.last_used(row.id).unwrap_or(row.last_used)),
            user_agent: if row.user_agent.is_empty() {
                "Unknown browser".to_owned()
            } else {
                row.user_agent
            },
            remember: row.remember,
            current: row.id == user.login_session_id,
        })
        .collect();
    page.render(
        "auth/sessions.html",
        "Your sessions",
        &SessionsPage { sessions },
    )
}

/// Ends one login of the user's (the sessions page's "Log out" button).
pub async fn session_logout(
    req: HttpRequest,
    FreshUser(user): FreshUser,
    CsrfForm(NoFields {}): CsrfForm<NoFields>,
    path: web::Path<String>,
    db: web::Data<Db>,
) -> Result<HttpResponse, AppError> {
    let id: i32 = path
        .parse()
        .map_err(|_| AppError::bad_request("That is not a session number."))?;
    if id == user.login_session_id {
        login::logout_user(&req).await?;
        return Ok(redirect("/index"));
    }
    let user_id = user.id;
    let deleted = db
        .run(move |conn| login_session::delete_one(conn, user_id, id))
        .await?;
    if deleted == 0 {
        return Err(AppError::NotFound);
    }
    flash(&req, "That session has been logged out.");
    Ok(redirect("/auth/sessions"))
}

/// "Log out everywhere": every login of the user ends, this one included.
pub async fn sessions_logout_all(
    req: HttpRequest,
    FreshUser(user): FreshUser,
    CsrfForm(NoFields {}): CsrfForm<NoFields>,
    db: web::Data<Db>,
) -> Result<HttpResponse, AppError> {
    let user_id = user.id;
    db.run(move |conn| login_session::delete_all_for_user(conn, user_id, None))
        .await?;
    login::logout_user(&req).await?;
    flash(&req, "You have been logged out everywhere.");
    Ok(redirect("/auth/login"))
}
