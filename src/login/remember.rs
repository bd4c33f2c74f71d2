//! Flask-Login's `remember_token` cookie: a long-lived, encrypted cookie holding the same login
//! token as the session, set only when "Remember Me" is ticked. A browser that comes back with
//! it but without a session is logged in again, not fresh (`loader.rs`).

use actix_web::body::MessageBody;
use actix_web::cookie::{Cookie, CookieJar, Key, SameSite};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpRequest, web};

use super::{Loaded, LoginManager};

/// The long-lived cookie set only when "remember me" is ticked.
pub const REMEMBER_COOKIE: &str = "remember_token";

/// What the response should do with the remember-me cookie, as `login_user` and `logout_user`
/// decided it (they have no response to write to; this middleware does).
#[derive(Clone)]
pub(super) enum RememberAction {
    Set(String),
    Clear,
}

/// The token of the remember-me cookie, if it is there and was made with our key.
pub(super) fn token(req: &HttpRequest, key: &Key) -> Option<String> {
    let cookie = req.cookie(REMEMBER_COOKIE)?;
    let mut jar = CookieJar::new();
    jar.add_original(cookie);
    jar.private(key)
        .get(REMEMBER_COOKIE)
        .map(|c| c.value().to_owned())
}

/// Writes (or removes) the remember-me cookie as the handler decided, and keeps pages of a
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
