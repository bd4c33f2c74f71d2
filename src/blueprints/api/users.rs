//! Flask: `app/api/users.py` (chapter 23): users, their followers and whom they follow, a new
//! user, and a change to one's own.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};

use super::auth::TokenUser;
use super::errors::{ApiError, ErrorBody};
use super::json::{Body, NewUserJson, PageQuery, UserChangeJson, UserCollection, UserJson, Window};
use crate::domain::{ABOUT_ME_MAX, Email, NewPassword, Username, too_long};
use crate::i18n::{Message, english};
use crate::models;
use crate::models::job::Job;
use crate::models::user::{self, AccountChange, Listing, NewUser};
use crate::pagination::MAX_PAGE;
use crate::state::State;
use crate::throttle::Account;
use crate::urls;

/// The reasons a body was refused, one per field, in English as the statuses' names are.
#[derive(Default)]
struct Problems(Vec<String>);

impl Problems {
    fn add(&mut self, field: &str, reason: Message) {
        self.0.push(format!("{field}: {}", reason.text(&english())));
    }

    /// The reasons for a name and an address another user has, as the web's forms give them.
    fn taken(&mut self, name: bool, email: bool) {
        if name {
            self.add("username", Message::new("form-username-taken"));
        }
        if email {
            self.add("email", Message::new("form-email-taken"));
        }
    }

    fn error(self) -> ApiError {
        ApiError::bad_request(self.0.join(" "))
    }

    fn check(self) -> Result<(), ApiError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(self.error())
        }
    }
}

/// `about_me` as the profile form takes it: trimmed, at most 140 characters, empty is none;
/// and, as a post, no control characters but line breaks and tabs (the form's decoder already
/// refuses a NUL, which JSON can carry and PostgreSQL cannot store).
fn about_me(raw: &str, problems: &mut Problems) -> Option<String> {
    let text = raw.trim();
    if text.chars().count() > ABOUT_ME_MAX {
        problems.add("about_me", too_long(ABOUT_ME_MAX));
    }
    if text
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        problems.add("about_me", Message::new("form-control-characters"));
    }
    (!text.is_empty()).then(|| text.to_owned())
}

/// Flask: `get_user`.
#[utoipa::path(
    get, path = "/api/users/{id}", tag = "users",
    summary = "A user",
    params(("id" = i32, Path, description = "The user's id")),
    responses(
        (status = 200, description = "The user; `email` only in your own", body = UserJson),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 404, description = "No such user", body = ErrorBody),
    ),
    security(("token" = [])),
)]
pub async fn get_user(
    me: TokenUser,
    id: web::Path<i32>,
    state: web::Data<State>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let found = state
        .db
        .run(move |conn| user::find_with_counts(conn, id))
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok(HttpResponse::Ok().json(UserJson::of(found, id == me.user.id)))
}

/// A page of users of `listing` at `url`.
async fn collection(
    me: &TokenUser,
    listing: Listing,
    req: &HttpRequest,
    url: &str,
    state: &State,
) -> Result<HttpResponse, ApiError> {
    let window = Window::parse(req.query_string())?;
    let exists = match listing {
        Listing::Everyone => None,
        Listing::FollowersOf(id) | Listing::FollowedBy(id) => Some(id),
    };
    let totals = state.totals.clone();
    let (users, total) = state
        .db
        .run(move |conn| {
            if let Some(id) = exists
                && user::find(conn, id)?.is_none()
            {
                return Ok(None);
            }
            // Past the deepest page, nothing is read (`pagination::MAX_PAGE`).
            let limit = if window.page > MAX_PAGE {
                0
            } else {
                window.per_page
            };
            let users = user::list(conn, listing, limit, window.offset())?;
            let key = format!("users {listing:?}");
            let total = if window.page > MAX_PAGE {
                totals
                    .get(&key)
                    .map_or_else(|| user::count(conn, listing), Ok)?
            } else {
                let (shown, offset) = (users.len(), window.offset());
                totals.of(key, shown, window.per_page, offset, || {
                    user::count(conn, listing)
                })?
            };
            Ok::<_, diesel::result::Error>(Some((user::with_counts(conn, users)?, total)))
        })
        .await?
        .ok_or_else(ApiError::not_found)?;
    let (meta, links) = window.describe(total, url);
    let items = users
        .into_iter()
        .map(|u| {
            let own = u.user.id == me.user.id;
            UserJson::of(u, own)
        })
        .collect();
    Ok(HttpResponse::Ok().json(UserCollection { items, meta, links }))
}

/// Flask: `get_users`.
#[utoipa::path(
    get, path = "/api/users", tag = "users",
    summary = "All users, in id order",
    params(PageQuery),
    responses(
        (status = 200, description = "A page of users", body = UserCollection),
        (status = 401, description = "No valid token", body = ErrorBody),
    ),
    security(("token" = [])),
)]
pub async fn get_users(
    me: TokenUser,
    req: HttpRequest,
    state: web::Data<State>,
) -> Result<HttpResponse, ApiError> {
    collection(&me, Listing::Everyone, &req, "/api/users", &state).await
}

/// Flask: `get_followers`.
#[utoipa::path(
    get, path = "/api/users/{id}/followers", tag = "users",
    summary = "Who follows a user",
    params(
        ("id" = i32, Path, description = "The user's id"),
        PageQuery,
    ),
    responses(
        (status = 200, description = "A page of users", body = UserCollection),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 404, description = "No such user", body = ErrorBody),
    ),
    security(("token" = [])),
)]
pub async fn get_followers(
    me: TokenUser,
    id: web::Path<i32>,
    req: HttpRequest,
    state: web::Data<State>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let url = format!("/api/users/{id}/followers");
    collection(&me, Listing::FollowersOf(id), &req, &url, &state).await
}

/// Flask: `get_following`.
#[utoipa::path(
    get, path = "/api/users/{id}/following", tag = "users",
    summary = "Whom a user follows",
    params(
        ("id" = i32, Path, description = "The user's id"),
        PageQuery,
    ),
    responses(
        (status = 200, description = "A page of users", body = UserCollection),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 404, description = "No such user", body = ErrorBody),
    ),
    security(("token" = [])),
)]
pub async fn get_following(
    me: TokenUser,
    id: web::Path<i32>,
    req: HttpRequest,
    state: web::Data<State>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let url = format!("/api/users/{id}/following");
    collection(&me, Listing::FollowedBy(id), &req, &url, &state).await
}

/// Flask: `create_user`: registration, with the registration form's rules.
#[utoipa::path(
    post, path = "/api/users", tag = "users",
    summary = "Register a new user",
    description = "No token needed. The registration form's rules apply: a username of letters, \
                   digits, `.`, `_` and `-`; a valid address; a password of at least 8 characters \
                   that is not too common. Other fields are ignored.",
    request_body = NewUserJson,
    responses(
        (status = 201, description = "Created; `Location` is its URL", body = UserJson,
         headers(("Location" = String, description = "/api/users/<id>"))),
        (status = 400, description = "A field is missing, of the wrong type, or breaks a rule; or the name or address is taken", body = ErrorBody),
        (status = 415, description = "The body is not JSON", body = ErrorBody),
    ),
)]
pub async fn create_user(
    Body(input): Body<NewUserJson>,
    state: web::Data<State>,
) -> Result<HttpResponse, ApiError> {
    let mut problems = Problems::default();
    let username = exact(&input.username)
        .and_then(Username::parse)
        .map_err(|e| problems.add("username", e));
    let email = exact(&input.email)
        .and_then(Email::parse)
        .map_err(|e| problems.add("email", e));
    let password = NewPassword::parse(
        &input.password,
        &input.password,
        &input.username,
        &input.email,
    )
    .map_err(|(first, _)| first.into_iter().for_each(|e| problems.add("password", e)));
    let about = about_me(input.about_me.as_deref().unwrap_or(""), &mut problems);
    // Uniqueness is checked even when other fields are wrong, so every reason comes at once; a
    // name or address that failed its rules is not looked up.
    let (name, address) = (
        username.as_ref().ok().map(|u| u.as_str().to_owned()),
        email.as_ref().ok().map(|e| e.as_str().to_owned()),
    );
    let (name_taken, email_taken) = state
        .db
        .run(move |conn| {
            Ok::<_, diesel::result::Error>((
                name.map_or(Ok(false), |n| user::username_taken(conn, &n))?,
                address.map_or(Ok(false), |a| user::email_taken(conn, &a))?,
            ))
        })
        .await?;
    problems.taken(name_taken, email_taken);
    problems.check()?;
    // Each is `Err` only with a problem reported, and there is none.
    let (Ok(username), Ok(email), Ok(password)) = (username, email, password) else {
        return Err(ApiError::bad_request("The user is not valid."));
    };
    let hash = state.hasher.hash(password.as_str()).await?;
    let created = state
        .db
        .run(move |conn| {
            let new = NewUser {
                username: username.as_str(),
                email: email.as_str(),
                password_hash: &hash,
                last_seen: models::now(),
                about_me: about.as_deref(),
            };
            if let Some(created) = user::create(conn, &new)?
                && let Some(found) = user::find_with_counts(conn, created.id)?
            {
                return Ok(Ok(found));
            }
            user::already_used(conn, new.username, new.email).map(Err)
        })
        .await?;
    // Taken between the check and the insert, by a request that was faster: the unique indexes
    // refused the insert, and the answer names what was taken, as the check's would. Neither
    // found any more means the row was deleted meanwhile: the name is said, as the
    // registration form says it.
    let created = created.map_err(|(name_taken, email_taken)| {
        let mut problems = Problems::default();
        problems.taken(name_taken || !email_taken, email_taken);
        problems.error()
    })?;
    let location = format!("/api/users/{}", created.user.id);
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, location))
        .json(UserJson::of(created, true)))
}

/// Flask: `update_user`: only one's own.
#[utoipa::path(
    put, path = "/api/users/{id}", tag = "users",
    summary = "Change your username, address or about me",
    description = "Only your own user. A field left out keeps its value; an empty `about_me` \
                   clears it. A new `email` needs your current `password` and is not yours at \
                   once: a link is mailed to it, and the address changes when it is opened \
                   (your API tokens then end). The password is changed on the web site.",
    params(("id" = i32, Path, description = "Your user's id")),
    request_body = UserChangeJson,
    responses(
        (status = 200, description = "The user as changed", body = UserJson),
        (status = 400, description = "A field breaks a rule, or the name or address is taken", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not your user", body = ErrorBody),
        (status = 415, description = "The body is not JSON", body = ErrorBody),
        (status = 429, description = "Too many wrong passwords; wait Retry-After seconds", body = ErrorBody),
    ),
    security(("token" = [])),
)]
pub async fn update_user(
    req: HttpRequest,
    me: TokenUser,
    id: web::Path<i32>,
    Body(input): Body<UserChangeJson>,
    state: web::Data<State>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    if id != me.user.id {
        return Err(ApiError::forbidden("You can only change your own user."));
    }
    let mut problems = Problems::default();
    // A name sent back as it is changes nothing (and keeps its key, or its lack of one).
    let username = match &input.username {
        Some(raw) => exact(raw)
            .and_then(Username::parse)
            .map(|name| (name.as_str() != me.user.username).then_some(name))
            .map_err(|e| problems.add("username", e)),
        None => Ok(None),
    };
    let email = match &input.email {
        Some(raw) => exact(raw)
            .and_then(Email::parse)
            .map(|email| (!email.as_str().eq_ignore_ascii_case(&me.user.email)).then_some(email))
            .map_err(|e| problems.add("email", e)),
        None => Ok(None),
    };
    // A client that sends back the address it read changes nothing, and needs no password.
    if matches!(email, Ok(Some(_))) && input.password.is_none() {
        problems.add("password", Message::new("api-password-for-email"));
    }
    let about = input
        .about_me
        .as_deref()
        .map(|raw| about_me(raw, &mut problems));
    problems.check()?;
    // Each is `Err` only with a problem reported, and there is none.
    let (username, email) = (username.ok().flatten(), email.ok().flatten());
    let (name, address) = (
        username.as_ref().map(|u| u.as_str().to_owned()),
        email.as_ref().map(|e| e.as_str().to_owned()),
    );
    let (name_taken, email_taken) = state
        .db
        .run(move |conn| user::used_by_others(conn, id, name.as_deref(), address.as_deref()))
        .await?;
    let mut problems = Problems::default();
    problems.taken(name_taken, email_taken);
    problems.check()?;
    if let Some(email) = &email {
        confirm_new_email(&req, &me, email, input.password.as_deref(), &state).await?;
    }
    let changed = state
        .db
        .run(move |conn| {
            let change = AccountChange {
                username: username.as_ref().map(Username::as_str),
                about_me: about.as_ref().map(Option::as_deref),
            };
            if !user::update_account(conn, id, &change)? {
                return Ok(None);
            }
            user::find_with_counts(conn, id)
        })
        .await?
        .ok_or_else(|| {
            ApiError::bad_request("username or email: taken by another user meanwhile.")
        })?;
    Ok(HttpResponse::Ok().json(UserJson::of(changed, true)))
}

/// A new address for `me`, as the web's `/auth/change_email` takes it: only with the right
/// password (counted by the login throttle), and only through the link mailed to it
/// (`Job::ConfirmEmail`). A token alone, leaked from a client, cannot move the account.
async fn confirm_new_email(
    req: &HttpRequest,
    me: &TokenUser,
    email: &Email,
    password: Option<&str>,
    state: &State,
) -> Result<(), ApiError> {
    let attempt = state
        .throttle
        .begin(req, Account::Id(me.user.id))
        .await?
        .map_err(ApiError::too_many)?;
    let stored = Some(me.user.password_hash.clone());
    if !state
        .hasher
        .verify(password.unwrap_or_default(), stored)
        .await?
    {
        attempt.failed().await;
        let mut problems = Problems::default();
        problems.add("password", Message::new("form-invalid-password"));
        return problems.check();
    }
    attempt.forgiven().await;
    let Some(site) = urls::site(&state.config, req) else {
        return Err(ApiError::bad_request(
            Message::new("error-unknown-host").text(&english()),
        ));
    };
    let job = Job::ConfirmEmail {
        user_id: me.user.id,
        email: email.as_str().to_owned(),
        site,
        lang: english().to_string(),
    };
    state.jobs.enqueue(job).await?;
    Ok(())
}

/// A name or an address as sent: the web forms forgive spaces around it, the API says so (its
/// document's pattern has none), so a client learns what it sent.
fn exact(raw: &str) -> Result<&str, Message> {
    if raw.trim() == raw {
        Ok(raw)
    } else {
        Err(Message::new("api-spaces-around"))
    }
}
