//! Flask-Login, in this port. `docs/05-user-logins.md` explains each piece and why.
//!
//! | Flask-Login              | here                                                          |
//! |--------------------------|---------------------------------------------------------------|
//! | `LoginManager`           | [`LoginManager`], in the app's data                           |
//! | `UserMixin`              | `models::user::AuthUser`                                      |
//! | `@login.user_loader`     | [`load_user`] (`loader.rs`): one query, cached per request    |
//! | `current_user`           | [`MaybeUser`] (`extractors.rs`); `current_user` in templates  |
//! | `@login_required`        | [`CurrentUser`], or [`LoginRequired`] for a page that reads   |
//! | `@fresh_login_required`  | [`FreshUser`]                                                 |
//! | `login_user(u, remember)`| [`login_user`]                                                |
//! | `logout_user()`          | [`logout_user`]                                               |
//! | `confirm_login()`        | [`confirm_login`]                                             |
//! | `login.login_view`       | [`LOGIN_VIEW`]; `refresh_view` is [`REFRESH_VIEW`]            |
//! | `remember_token` cookie  | [`REMEMBER_COOKIE`] (`remember.rs`)                           |
//! | `session_protection`     | `SESSION_PROTECTION` (basic, strong, off), in `loader.rs`     |
//!
//! The identity kept in the (encrypted) session cookie is not the user id but a random token
//! naming a row of `login_sessions`; deleting the row ends the login even for a copied cookie.

mod extractors;
mod loader;
mod remember;

pub use extractors::{CurrentUser, FreshUser, LoginRequired, MaybeUser};
pub use loader::{cached_user, load_user};
pub use remember::{REMEMBER_COOKIE, remember_cookie_middleware};

use actix_identity::{Identity, IdentityExt};
use actix_session::SessionExt;
use actix_web::cookie::Key;
use actix_web::http::header;
use actix_web::{HttpMessage, HttpRequest, web};

use crate::activity::ActivityTracker;
use crate::config::{Config, SessionProtection};
use crate::csrf;
use crate::db::Db;
use crate::error::AppError;
use crate::i18n::Message;
use crate::models;
use crate::models::login_session::{self, NewLoginSession};
use crate::models::user::{AuthUser, User};
use crate::tokens::{new_token, token_hash};
use remember::RememberAction;

/// Flask-Login's `login_view`: where anonymous visitors of protected pages are sent.
pub const LOGIN_VIEW: &str = "/auth/login";
/// Flask-Login's `refresh_view`: where a login that is not fresh confirms the password.
pub const REFRESH_VIEW: &str = "/auth/reauthenticate";
/// Flask-Login's `login_message`.
pub const LOGIN_MESSAGE: Message = Message::new("flash-login-required");
/// Flask-Login's `needs_refresh_message`.
pub const REFRESH_MESSAGE: Message = Message::new("flash-reauthenticate");
/// A login without "remember me" ends after this long unused.
pub const IDLE_LIFETIME: chrono::Duration = chrono::Duration::hours(24);

/// Who `load_user` found for this request (`None`: anonymous), kept in its extensions.
#[derive(Clone)]
struct Loaded(Option<AuthUser>);

/// Where the session remembers whether the password was typed in it.
const FRESH_KEY: &str = "_fresh";
/// Where the session remembers whose login it holds (Flask-Login's `_user_id`): the login
/// token alone says it only once the database is asked, and `/index` reads the user's timeline
/// in the same statement as the login (`LoginRequired::timeline`).
const USER_ID_KEY: &str = "_user_id";
const USER_AGENT_MAX: usize = 256;

/// Settings and state of the login system (Flask-Login's `LoginManager`), registered in the
/// app's data by `create_app` for the extractors to find.
#[derive(Clone)]
pub struct LoginManager {
    key: Key,
    remember_days: i64,
    secure_cookies: bool,
    protection: SessionProtection,
    db: Db,
    /// Where each login's use is noted (`before_request`'s `last_seen`).
    activity: ActivityTracker,
}

impl LoginManager {
    pub fn new(config: &Config, db: Db, activity: ActivityTracker) -> Self {
        Self {
            key: Key::from(&config.keys.remember),
            remember_days: config.remember_cookie_days,
            secure_cookies: config.session_cookie_secure,
            protection: config.session_protection,
            db,
            activity,
        }
    }
}

/// The login manager registered for this app.
fn manager(req: &HttpRequest) -> Result<web::Data<LoginManager>, AppError> {
    req.app_data::<web::Data<LoginManager>>()
        .cloned()
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("LoginManager is not registered")))
}

fn user_agent(req: &HttpRequest) -> String {
    user_agent_chars(req).collect()
}

/// Whether this request comes from the client a login recorded (as [`user_agent`] reads it).
fn from_user_agent(req: &HttpRequest, recorded: &str) -> bool {
    user_agent_chars(req).eq(recorded.chars())
}

/// The `User-Agent`, as far as it is kept.
fn user_agent_chars(req: &HttpRequest) -> impl Iterator<Item = char> + '_ {
    let ua = req
        .headers()
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    ua.chars().take(USER_AGENT_MAX)
}

/// The login token this browser holds: the session's identity, or the remember-me cookie's.
fn current_token(req: &HttpRequest, key: &Key) -> Option<String> {
    req.get_identity()
        .ok()
        .and_then(|i| i.id().ok())
        .or_else(|| remember::token(req, key))
}

/// Flask-Login's `login_user(user, remember=...)`: creates a login session row, puts its token in
/// the session cookie (and in the remember-me cookie if asked), and marks the login fresh.
pub async fn login_user(req: &HttpRequest, user: &User, remember: bool) -> Result<(), AppError> {
    let lm = manager(req)?;
    // Logging in again in the same browser replaces the old login rather than leaving it behind.
    if let Some(old) = current_token(req, &lm.key) {
        let old_hash = token_hash(&old);
        lm.db
            .run(move |conn| login_session::delete_by_token_hash(conn, &old_hash))
            .await?;
    }
    let (token, hash) = new_token();
    let now = models::now();
    let expires_at = if remember {
        now + chrono::Duration::days(lm.remember_days)
    } else {
        now + IDLE_LIFETIME
    };
    let (user_id, ua) = (user.id, user_agent(req));
    lm.db
        .run(move |conn| {
            login_session::create(
                conn,
                &NewLoginSession {
                    token_hash: &hash,
                    user_id,
                    created_at: now,
                    last_used: now,
                    expires_at,
                    remember,
                    user_agent: &ua,
                },
            )
        })
        .await?;
    // `Identity::login` also renews the session, as Flask-Login's login_user does.
    Identity::login(&req.extensions(), token.clone())
        .map_err(|e| AppError::Internal(anyhow::anyhow!("storing the login: {e}")))?;
    let session = req.get_session();
    session
        .insert(FRESH_KEY, true)
        .and_then(|()| session.insert(USER_ID_KEY, user_id))
        .map_err(|e| {
            AppError::Internal(anyhow::anyhow!("storing the login in the session: {e}"))
        })?;
    // A new login gets a new CSRF token: one learned before logging in is useless after.
    csrf::rotate(req);
    let action = if remember {
        RememberAction::Set(token)
    } else {
        RememberAction::Clear
    };
    req.extensions_mut().insert(action);
    req.extensions_mut().remove::<Loaded>();
    Ok(())
}

/// Marks the current login fresh again after the password was confirmed, and records this
/// client as the login's own (Flask-Login's `confirm_login()`).
pub async fn confirm_login(req: &HttpRequest, user: &AuthUser) -> Result<(), AppError> {
    let lm = manager(req)?;
    let (id, ua) = (user.login_session_id, user_agent(req));
    lm.db
        .run(move |conn| login_session::set_user_agent(conn, id, &ua))
        .await?;
    req.get_session()
        .insert(FRESH_KEY, true)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("marking the login fresh: {e}")))
}

/// Flask-Login's `logout_user()`, but the login really ends: its row is deleted, so the session
/// cookie and the remember-me cookie are worthless even if they were copied. Other browsers of
/// the same user stay logged in.
pub async fn logout_user(req: &HttpRequest) -> Result<(), AppError> {
    let lm = manager(req)?;
    let mut hashes: Vec<String> = Vec::new();
    if let Some(token) = req.get_identity().ok().and_then(|i| i.id().ok()) {
        hashes.push(token_hash(&token));
    }
    if let Some(token) = remember::token(req, &lm.key) {
        hashes.push(token_hash(&token));
    }
    if !hashes.is_empty() {
        lm.db
            .run(move |conn| {
                hashes
                    .iter()
                    .try_for_each(|h| login_session::delete_by_token_hash(conn, h).map(drop))
            })
            .await?;
    }
    forget_login(req, req.get_identity().ok());
    req.extensions_mut().insert(Loaded(None));
    csrf::rotate(req);
    Ok(())
}

/// Drops a dead login from this browser: the identity keys and the remember-me cookie.
fn forget_login(req: &HttpRequest, identity: Option<Identity>) {
    if let Some(identity) = identity {
        identity.logout();
    }
    let session = req.get_session();
    session.remove(FRESH_KEY);
    session.remove(USER_ID_KEY);
    if req.cookie(REMEMBER_COOKIE).is_some() {
        req.extensions_mut().insert(RememberAction::Clear);
    }
}
