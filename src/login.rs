//! Flask-Login, in this port. `docs/05-user-logins.md` explains each piece and why.
//!
//! | Flask-Login              | here                                                        |
//! |--------------------------|-------------------------------------------------------------|
//! | `@login.user_loader`     | [`load_user`]: one query per request, cached in extensions  |
//! | `current_user`           | [`MaybeUser`]; `current_user` in every template             |
//! | `@login_required`        | [`CurrentUser`] in a handler's signature                    |
//! | `@fresh_login_required`  | [`FreshUser`]                                               |
//! | `login_user(u, remember)`| [`login_user`]                                              |
//! | `logout_user()`          | [`logout_user`]                                             |
//! | `login.login_view`       | [`LOGIN_VIEW`]; `refresh_view` is [`REFRESH_VIEW`]          |
//! | `remember_token` cookie  | [`REMEMBER_COOKIE`], written by [`remember_cookie_middleware`] |
//! | `session_protection`     | `SESSION_PROTECTION` (basic, strong, off)                    |
//!
//! The identity kept in the (encrypted) session cookie is not the user id but a random token
//! naming a row of `login_sessions`; deleting the row ends the login even for a copied cookie.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_identity::{Identity, IdentityExt};
use actix_session::SessionExt;
use actix_web::body::MessageBody;
use actix_web::cookie::{Cookie, CookieJar, Key, SameSite};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::{FromRequest, HttpMessage, HttpRequest, HttpResponse, web};
use chrono::NaiveDateTime;
use rand::RngCore;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::future::Future;
use std::pin::Pin;

use crate::config::{Config, SessionProtection};
use crate::db::{Db, DbConn};
use crate::error::AppError;
use crate::flash::flash;
use crate::models::login_session::{self, ActiveLogin, Activity, NewLoginSession};
use crate::models::{self, user::User};

/// Flask-Login's `login_view`: where anonymous visitors of protected pages are sent.
pub const LOGIN_VIEW: &str = "/auth/login";
/// Flask-Login's `refresh_view`: where a login that is not fresh confirms the password.
pub const REFRESH_VIEW: &str = "/auth/reauthenticate";
/// The long-lived cookie set only when "remember me" is ticked.
pub const REMEMBER_COOKIE: &str = "remember_token";
/// Flask-Login's `login_message`.
pub const LOGIN_MESSAGE: &str = "Please log in to access this page.";
/// Flask-Login's `needs_refresh_message`.
pub const REFRESH_MESSAGE: &str = "Please reauthenticate to access this page.";
/// A login without "remember me" ends after this long unused.
pub const IDLE_LIFETIME: chrono::Duration = chrono::Duration::hours(24);
/// How often noted activity is written to the database.
pub const ACTIVITY_FLUSH_EVERY: Duration = Duration::from_secs(60);

const FRESH_KEY: &str = "_fresh";
const USER_AGENT_MAX: usize = 256;

/// Settings and state of the login system (Flask-Login's `LoginManager`), in the app's data.
#[derive(Clone)]
pub struct LoginManager {
    key: Key,
    remember_days: i64,
    secure_cookies: bool,
    protection: SessionProtection,
    pub activity: ActivityTracker,
}

impl LoginManager {
    pub fn new(config: &Config) -> Self {
        Self {
            key: Key::from(&config.secret_key),
            remember_days: config.remember_cookie_days,
            secure_cookies: config.session_cookie_secure,
            protection: config.session_protection,
            activity: ActivityTracker::default(),
        }
    }
}

/// The logged-in user as handlers and templates see it.
#[derive(Debug, Clone, Serialize)]
pub struct AuthUser {
    pub id: i32,
    pub username: String,
    pub email: String,
    #[serde(skip)]
    pub password_hash: String,
    /// The `login_sessions` row this request is logged in through.
    #[serde(skip)]
    pub login_session_id: i32,
    /// False when the login was restored from the remember-me cookie or used from another
    /// client under `basic` protection (Flask-Login's `login_fresh()`).
    pub fresh: bool,
}

/// What `load_user` found, cached in the request's extensions.
#[derive(Clone)]
struct Loaded(Option<AuthUser>);

/// What the response should do with the remember-me cookie.
#[derive(Clone)]
enum RememberAction {
    Set(String),
    Clear,
}

/// A new random login token and the hash stored for it.
fn new_token() -> (String, String) {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let token = hex::encode(bytes);
    let hash = token_hash(&token);
    (token, hash)
}

fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn user_agent(req: &HttpRequest) -> String {
    let ua = req
        .headers()
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    ua.chars().take(USER_AGENT_MAX).collect()
}

fn manager(req: &HttpRequest) -> Result<web::Data<LoginManager>, AppError> {
    req.app_data::<web::Data<LoginManager>>()
        .cloned()
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("LoginManager is not registered")))
}

fn db(req: &HttpRequest) -> Result<web::Data<Db>, AppError> {
    req.app_data::<web::Data<Db>>()
        .cloned()
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("Db is not registered")))
}

/// The token of the remember-me cookie, if it is there and was made with our key.
fn remember_token(req: &HttpRequest, key: &Key) -> Option<String> {
    let cookie = req.cookie(REMEMBER_COOKIE)?;
    let mut jar = CookieJar::new();
    jar.add_original(cookie);
    jar.private(key)
        .get(REMEMBER_COOKIE)
        .map(|c| c.value().to_owned())
}

/// Flask-Login's `user_loader` and `_load_user`: who is making this request?
///
/// The session cookie's identity (or, failing that, the remember-me cookie) names a login token;
/// one indexed query finds its row and user. The answer is cached in the request's extensions, so
/// asking twice costs one query. A stale, revoked or tampered cookie makes an anonymous visitor.
pub async fn load_user(req: &HttpRequest) -> Result<Option<AuthUser>, AppError> {
    if let Some(Loaded(user)) = req.extensions().get::<Loaded>() {
        return Ok(user.clone());
    }
    let user = load_uncached(req).await?;
    req.extensions_mut().insert(Loaded(user.clone()));
    Ok(user)
}

/// The user `load_user` already found for this request, without asking the database
/// (for error pages, which are built after the handler ran).
pub fn cached_user(req: &HttpRequest) -> Option<AuthUser> {
    req.extensions().get::<Loaded>().and_then(|l| l.0.clone())
}

async fn load_uncached(req: &HttpRequest) -> Result<Option<AuthUser>, AppError> {
    let lm = manager(req)?;
    let Some(claim) = Claim::read(req, &lm) else {
        return Ok(None);
    };
    let (hash, now) = (claim.hash.clone(), claim.now);
    let found = db(req)?
        .run(move |conn| login_session::find_active(conn, &hash, now))
        .await?;
    claim.settle(req, &lm, found)
}

/// What the cookies say about who this is, before the database has been asked: the login
/// token from the session's identity or, failing that, from the remember-me cookie.
struct Claim {
    token: String,
    /// SHA-256 of the token: what `login_sessions` stores.
    hash: String,
    from_remember: bool,
    identity: Option<Identity>,
    now: NaiveDateTime,
}

impl Claim {
    /// `None` for a visitor without a login token (anonymous; no query needed).
    fn read(req: &HttpRequest, lm: &LoginManager) -> Option<Self> {
        let identity = req.get_identity().ok();
        let session_token = identity.as_ref().and_then(|i| i.id().ok());
        let (token, from_remember) = match session_token {
            Some(token) => (token, false),
            None => (remember_token(req, &lm.key)?, true),
        };
        Some(Self {
            hash: token_hash(&token),
            token,
            from_remember,
            identity,
            now: models::now(),
        })
    }

    /// Decides with what `find_active` found: the logged-in user, or `None` (and the dead login
    /// forgotten in this browser). Session protection, freshness and activity are handled here.
    fn settle(
        self,
        req: &HttpRequest,
        lm: &LoginManager,
        found: Option<ActiveLogin>,
    ) -> Result<Option<AuthUser>, AppError> {
        let Self {
            token,
            from_remember,
            identity,
            now,
            ..
        } = self;
        let Some(login) = found else {
            // Revoked, expired or never ours: forget it in this browser.
            forget_login(req, identity);
            return Ok(None);
        };

        let session = req.get_session();
        let same_client = login.user_agent == user_agent(req);
        let stored_fresh = session.get::<bool>(FRESH_KEY).ok().flatten();
        let mut fresh = !from_remember && stored_fresh == Some(true);
        if !same_client {
            match lm.protection {
                SessionProtection::Off => {}
                SessionProtection::Basic => fresh = false,
                SessionProtection::Strong => {
                    tracing::info!(
                        user_id = login.user_id,
                        "login used from another client; dropped"
                    );
                    forget_login(req, identity);
                    return Ok(None);
                }
            }
        }
        if from_remember {
            // Flask-Login restores the session from the remember cookie, marked not fresh.
            Identity::login(&req.extensions(), token)
                .map_err(|e| AppError::Internal(anyhow::anyhow!("restoring the login: {e}")))?;
        }
        // Written only when it changes, so a page view does not re-send the session cookie.
        if !fresh && stored_fresh != Some(false) {
            let _ = session.insert(FRESH_KEY, false);
        }

        lm.activity.note(Activity {
            session_id: login.session_id,
            user_id: login.user_id,
            at: now,
            idle_expiry: (!login.remember).then(|| now + IDLE_LIFETIME),
        });
        Ok(Some(AuthUser {
            id: login.user_id,
            username: login.username,
            email: login.email,
            password_hash: login.password_hash,
            login_session_id: login.session_id,
            fresh,
        }))
    }
}

/// Drops a dead login from this browser: the identity keys and the remember-me cookie.
fn forget_login(req: &HttpRequest, identity: Option<Identity>) {
    if let Some(identity) = identity {
        identity.logout();
    }
    req.get_session().remove(FRESH_KEY);
    if req.cookie(REMEMBER_COOKIE).is_some() {
        req.extensions_mut().insert(RememberAction::Clear);
    }
}

/// Flask-Login's `login_user(user, remember=...)`: creates a login session row, puts its token in
/// the session cookie (and in the remember-me cookie if asked), and marks the login fresh.
pub async fn login_user(req: &HttpRequest, user: &User, remember: bool) -> Result<(), AppError> {
    let lm = manager(req)?;
    // Logging in again in the same browser replaces the old login rather than leaving it behind.
    if let Some(old) = current_token(req, &lm.key) {
        let old_hash = token_hash(&old);
        db(req)?
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
    db(req)?
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
    req.get_session()
        .insert(FRESH_KEY, true)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("marking the login fresh: {e}")))?;
    // A new login gets a new CSRF token: one learned before logging in is useless after.
    crate::csrf::rotate(req);
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
    let (id, ua) = (user.login_session_id, user_agent(req));
    db(req)?
        .run(move |conn| login_session::set_user_agent(conn, id, &ua))
        .await?;
    req.get_session()
        .insert(FRESH_KEY, true)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("marking the login fresh: {e}")))
}

fn current_token(req: &HttpRequest, key: &Key) -> Option<String> {
    req.get_identity()
        .ok()
        .and_then(|i| i.id().ok())
        .or_else(|| remember_token(req, key))
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
    if let Some(token) = remember_token(req, &lm.key) {
        hashes.push(token_hash(&token));
    }
    if !hashes.is_empty() {
        db(req)?
            .run(move |conn| {
                hashes
                    .iter()
                    .try_for_each(|h| login_session::delete_by_token_hash(conn, h).map(drop))
            })
            .await?;
    }
    forget_login(req, req.get_identity().ok());
    req.extensions_mut().insert(Loaded(None));
    crate::csrf::rotate(req);
    Ok(())
}

/// Applies what the handler decided about the remember-me cookie, and keeps pages of a
/// logged-in user out of shared caches. Registered once, in `create_app`.
pub async fn remember_cookie_middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let mut res = next.call(req).await?;
    let action = res.request().extensions().get::<RememberAction>().cloned();
    let logged_in = matches!(
        res.request().extensions().get::<Loaded>(),
        Some(Loaded(Some(_)))
    );
    if let Some(action) = action
        && let Some(lm) = res.request().app_data::<web::Data<LoginManager>>().cloned()
    {
        let mut jar = CookieJar::new();
        match action {
            RememberAction::Set(token) => {
                let cookie = Cookie::build(REMEMBER_COOKIE, token)
                    .path("/")
                    .http_only(true)
                    .secure(lm.secure_cookies)
                    .same_site(SameSite::Lax)
                    .max_age(actix_web::cookie::time::Duration::days(lm.remember_days))
                    .finish();
                jar.private_mut(&lm.key).add(cookie);
            }
            RememberAction::Clear => {
                let mut cookie = Cookie::build(REMEMBER_COOKIE, "").path("/").finish();
                cookie.make_removal();
                jar.add(cookie);
            }
        }
        for cookie in jar.delta() {
            res.response_mut().add_cookie(cookie)?;
        }
    }
    if logged_in {
        res.headers_mut().insert(
            header::CACHE_CONTROL,
            header::HeaderValue::from_static("no-store"),
        );
    }
    Ok(res)
}

/// Anyone: `Some` user when logged in (Flask-Login's `current_user`, anonymous or not).
pub struct MaybeUser(pub Option<AuthUser>);

/// Login required (Flask-Login's `@login_required`): anonymous visitors are redirected to the
/// login page with `next` set to where they were going.
pub struct CurrentUser(pub AuthUser);

/// A fresh login required (`@fresh_login_required`): the password must have been typed in this
/// session, not restored from the remember-me cookie.
pub struct FreshUser(pub AuthUser);

type BoxedFuture<T> = Pin<Box<dyn Future<Output = Result<T, actix_web::Error>>>>;

impl FromRequest for MaybeUser {
    type Error = actix_web::Error;
    type Future = BoxedFuture<Self>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { Ok(Self(load_user(&req).await?)) })
    }
}

impl FromRequest for CurrentUser {
    type Error = actix_web::Error;
    type Future = BoxedFuture<Self>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            match load_user(&req).await? {
                Some(user) => Ok(Self(user)),
                None => Err(redirect_away(&req, LOGIN_VIEW, LOGIN_MESSAGE)),
            }
        })
    }
}

impl FromRequest for FreshUser {
    type Error = actix_web::Error;
    type Future = BoxedFuture<Self>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            match load_user(&req).await? {
                Some(user) if user.fresh => Ok(Self(user)),
                Some(_) => Err(redirect_away(&req, REFRESH_VIEW, REFRESH_MESSAGE)),
                None => Err(redirect_away(&req, LOGIN_VIEW, LOGIN_MESSAGE)),
            }
        })
    }
}

/// Login required (`@login_required`) for a handler that reads the database anyway: the login
/// is checked in the same trip to the database as the handler's own reading, by
/// [`LoginRequired::read`]. A trip to the blocking thread pool costs about as much CPU as the
/// query itself, so the pages read most (`/index`, `/explore`, profiles) make one instead of two
/// (docs/performance.md). Visitors without a login token are redirected before the handler runs,
/// as with [`CurrentUser`]; a revoked or expired login, once the trip has found it so.
pub struct LoginRequired {
    req: HttpRequest,
    claim: Claim,
}

impl FromRequest for LoginRequired {
    type Error = actix_web::Error;
    type Future = std::future::Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let claim = manager(req).map_err(actix_web::Error::from).and_then(|lm| {
            Claim::read(req, &lm).ok_or_else(|| redirect_away(req, LOGIN_VIEW, LOGIN_MESSAGE))
        });
        std::future::ready(claim.map(|claim| Self {
            req: req.clone(),
            claim,
        }))
    }
}

impl LoginRequired {
    /// Checks the login (`user_loader`) and, if it is alive, runs `read` with the user's id, in
    /// one trip to the database. `read` must only read: under `SESSION_PROTECTION=strong` a login
    /// used from another client is refused after the trip, and what `read` found is dropped.
    pub async fn read<T, F>(self, db: &Db, read: F) -> actix_web::Result<(AuthUser, T)>
    where
        F: FnOnce(&mut DbConn, i32) -> diesel::QueryResult<T> + Send + 'static,
        T: Send + 'static,
    {
        let lm = manager(&self.req)?;
        let (hash, now) = (self.claim.hash.clone(), self.claim.now);
        let (found, value) = db
            .run(move |conn| {
                let Some(login) = login_session::find_active(conn, &hash, now)? else {
                    return Ok::<_, diesel::result::Error>((None, None));
                };
                let value = read(conn, login.user_id)?;
                Ok((Some(login), Some(value)))
            })
            .await?;
        let user = self.claim.settle(&self.req, &lm, found)?;
        self.req.extensions_mut().insert(Loaded(user.clone()));
        match (user, value) {
            (Some(user), Some(value)) => Ok((user, value)),
            _ => Err(redirect_away(&self.req, LOGIN_VIEW, LOGIN_MESSAGE)),
        }
    }
}

/// Flask-Login's `unauthorized()`: flash, then redirect to `view?next=<this path and query>`.
/// A POST has no page to come back to, so it gets no `next`.
fn redirect_away(req: &HttpRequest, view: &str, message: &str) -> actix_web::Error {
    flash(req, message);
    let location = if req.method() == actix_web::http::Method::GET {
        let target = match req.query_string() {
            "" => req.path().to_owned(),
            q => format!("{}?{q}", req.path()),
        };
        format!("{view}?next={}", crate::form::encode_component(&target))
    } else {
        view.to_owned()
    };
    actix_web::error::InternalError::from_response(
        "login required",
        HttpResponse::Found()
            .insert_header((header::LOCATION, location))
            .finish(),
    )
    .into()
}

/// The `next` parameter, kept only if it is a path on this site (CONTRACT.md section 7): one
/// leading `/`, no `//`, no backslash, no scheme, no control characters.
pub fn safe_next(next: Option<&str>) -> Option<String> {
    let next = next?;
    let ok = next.starts_with('/')
        && !next.contains("//")
        && !next.contains('\\')
        && !next.chars().any(char::is_control);
    ok.then(|| next.to_owned())
}

/// Notes in memory when each login was last used, so a page view costs no database write;
/// [`ActivityTracker::flush`] writes the latest of each once a minute (`last_used`, the sliding
/// expiry of logins without "remember me", and the user's `last_seen`).
#[derive(Clone, Default)]
pub struct ActivityTracker {
    pending: Arc<Mutex<HashMap<i32, Activity>>>,
}

impl ActivityTracker {
    fn note(&self, activity: Activity) {
        if let Ok(mut pending) = self.pending.lock() {
            pending.insert(activity.session_id, activity);
        }
    }

    /// The noted time of a login not yet written, if any.
    pub fn last_used(&self, session_id: i32) -> Option<NaiveDateTime> {
        self.pending.lock().ok()?.get(&session_id).map(|a| a.at)
    }

    /// The latest noted visit of a user not yet written, if any (so `last_seen` is fresh to the
    /// minute without a write per page view).
    pub fn last_seen(&self, user_id: i32) -> Option<NaiveDateTime> {
        self.pending
            .lock()
            .ok()?
            .values()
            .filter(|a| a.user_id == user_id)
            .map(|a| a.at)
            .max()
    }

    /// Writes what was noted since the last flush, and deletes expired logins.
    pub async fn flush(&self, db: &Db) -> Result<usize, AppError> {
        let batch: Vec<Activity> = match self.pending.lock() {
            Ok(mut pending) => pending.drain().map(|(_, a)| a).collect(),
            Err(_) => return Ok(0),
        };
        let count = batch.len();
        db.run(move |conn| {
            if !batch.is_empty() {
                login_session::record_activity(conn, &batch)?;
            }
            login_session::delete_expired(conn, models::now())
        })
        .await?;
        Ok(count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_safe_next_targets() {
        for good in ["/index", "/user/susan?page=2", "/explore#top", "/a:b"] {
            assert_eq!(safe_next(Some(good)).as_deref(), Some(good), "{good}");
        }
        for bad in [
            "https://evil.example",
            "//evil.example",
            "/\\evil.example",
            "javascript:alert(1)",
            "/ok\r\nSet-Cookie: x",
            "index",
            "",
        ] {
            assert_eq!(safe_next(Some(bad)), None, "{bad:?}");
        }
    }
}
