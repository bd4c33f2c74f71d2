//! Flask-Login's `user_loader`: who is making this request?

use actix_identity::{Identity, IdentityExt};
use actix_session::SessionExt;
use actix_web::{HttpMessage, HttpRequest};
use chrono::NaiveDateTime;

use super::{
    FRESH_KEY, IDLE_LIFETIME, Loaded, LoginManager, USER_ID_KEY, forget_login, from_user_agent,
    manager, remember,
};
use crate::config::SessionProtection;
use crate::error::AppError;
use crate::models;
use crate::models::login_session::{self, ActiveLogin, Activity};
use crate::models::user::{AuthUser, RunningTask};
use crate::tokens::token_hash;

/// Flask-Login's `user_loader` and `_load_user`: who is making this request?
///
/// The session cookie's identity (or, failing that, the remember-me cookie) names a login token;
/// one indexed query finds its row and user. The answer is cached in the request's extensions, so
/// asking twice costs one query. A stale, revoked or tampered cookie makes an anonymous visitor.
pub async fn load_user(req: &HttpRequest) -> Result<Option<AuthUser>, AppError> {
    if let Some(Loaded(user)) = req.extensions().get::<Loaded>() {
        return Ok(user.clone());
    }
    let lm = manager(req)?;
    let user = match Claim::read(req, &lm) {
        None => None,
        Some(claim) => {
            let (hash, now) = (claim.hash.clone(), claim.now);
            let found = lm
                .db
                .run(move |conn| login_session::find_active(conn, &hash, now))
                .await?;
            claim.settle(req, &lm, found)?
        }
    };
    req.extensions_mut().insert(Loaded(user.clone()));
    Ok(user)
}

/// The user `load_user` already found for this request, without asking the database
/// (for error pages, which are built after the handler ran).
pub fn cached_user(req: &HttpRequest) -> Option<AuthUser> {
    req.extensions().get::<Loaded>().and_then(|l| l.0.clone())
}

/// What the cookies say about who this is, before the database has been asked: the login
/// token from the session's identity or, failing that, from the remember-me cookie.
pub(super) struct Claim {
    token: String,
    /// SHA-256 of the token: what `login_sessions` stores.
    pub(super) hash: String,
    from_remember: bool,
    identity: Option<Identity>,
    /// Whose login the session says it holds, when the token came from the session.
    pub(super) user_id: Option<i32>,
    pub(super) now: NaiveDateTime,
}

impl Claim {
    /// `None` for a visitor without a login token (anonymous; no query needed).
    pub(super) fn read(req: &HttpRequest, lm: &LoginManager) -> Option<Self> {
        let identity = req.get_identity().ok();
        let session_token = identity.as_ref().and_then(|i| i.id().ok());
        let (token, from_remember, user_id) = match session_token {
            Some(token) => {
                let user_id = req.get_session().get::<i32>(USER_ID_KEY).ok().flatten();
                (token, false, user_id)
            }
            None => (remember::token(req, &lm.key)?, true, None),
        };
        Some(Self {
            hash: token_hash(&token),
            token,
            from_remember,
            identity,
            user_id,
            now: models::now(),
        })
    }

    /// Decides with what `find_active` found: the logged-in user, or `None` (and the dead login
    /// forgotten in this browser). Session protection, freshness and activity are handled here.
    pub(super) fn settle(
        self,
        req: &HttpRequest,
        lm: &LoginManager,
        found: Option<ActiveLogin>,
    ) -> Result<Option<AuthUser>, AppError> {
        let Self {
            token,
            from_remember,
            identity,
            user_id,
            now,
            ..
        } = self;
        let Some(login) = found else {
            // Revoked, expired or never ours: forget it in this browser.
            forget_login(req, identity);
            return Ok(None);
        };

        let session = req.get_session();
        let same_client = from_user_agent(req, &login.user_agent);
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
        // A login restored from the remember-me cookie, or kept from before the session held it.
        if user_id != Some(login.user_id) {
            let _ = session.insert(USER_ID_KEY, login.user_id);
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
            unread_messages: login
                .unread_json
                .and_then(|json| json.parse().ok())
                .unwrap_or(0),
            task: login
                .running_export
                .map(|(id, description, progress)| RunningTask {
                    id,
                    description,
                    progress,
                }),
        }))
    }
}
