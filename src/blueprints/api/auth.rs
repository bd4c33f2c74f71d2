//! Flask: `app/api/auth.py` (chapter 23): Flask-HTTPAuth's `basic_auth` (a username and
//! password, only to get a token) and `token_auth` (the token, for everything else).

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use base64::Engine as _;

use super::errors::ApiError;
use crate::models::{
    self,
    user::{self, User},
};
use crate::state::State;
use crate::tokens::token_hash;

/// The `WWW-Authenticate` of a 401 from `POST /api/tokens` (Flask-HTTPAuth's default realm).
pub const BASIC_CHALLENGE: &str = "Basic realm=\"Authentication Required\"";
/// The `WWW-Authenticate` of a 401 from every endpoint that takes a token.
pub const BEARER_CHALLENGE: &str = "Bearer realm=\"Authentication Required\"";

/// What follows `scheme` and its space in the request's `Authorization` header. HTTP says a
/// scheme's name is matched whatever its case, and Flask-HTTPAuth does so: `bearer <token>` is a
/// token, as `Bearer <token>` is. (actix-web-httpauth only knows `Bearer` and `Basic` as written, which
/// is why this header is read here.)
fn credentials<'a>(req: &'a HttpRequest, scheme: &str) -> Option<&'a str> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (given, rest) = value.trim().split_once(' ')?;
    let rest = rest.trim();
    (given.eq_ignore_ascii_case(scheme) && !rest.is_empty()).then_some(rest)
}

/// Flask-HTTPAuth's `basic_auth`: the username and password of an `Authorization: Basic`
/// header (`username:password` in base64), if it holds both. Checking them is the caller's
/// work (throttled, as logins are).
pub fn basic_credentials(req: &HttpRequest) -> Option<(String, String)> {
    let encoded = credentials(req, "Basic")?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .ok()?;
    let pair = String::from_utf8(decoded).ok()?;
    let (username, password) = pair.split_once(':')?;
    let username = username.trim();
    (!username.is_empty() && !password.is_empty())
        .then(|| (username.to_owned(), password.to_owned()))
}

/// Flask: `@token_auth.login_required` and `token_auth.current_user()`: the user whose
/// unexpired token came as `Authorization: Bearer <token>`. Anything else is a 401 with
/// [`BEARER_CHALLENGE`], before the handler runs. The login cookies are never read: a page of
/// another site can make a browser send them, never this header. (Only `POST /api/tokens`
/// looks at one cookie: the login throttle's `device`, as the login form does.)
pub struct TokenUser {
    pub user: User,
    /// What is stored for the token, to revoke it.
    pub token_hash: String,
}

impl FromRequest for TokenUser {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let token = credentials(req, "Bearer").map(str::to_owned);
        let state = req.app_data::<web::Data<State>>().cloned();
        let req = req.clone();
        Box::pin(async move {
            let (Some(token), Some(state)) = (token, state) else {
                return Err(ApiError::unauthorized(BEARER_CHALLENGE));
            };
            let hash = token_hash(&token);
            let looked_up = hash.clone();
            let user = state
                .db
                .run(move |conn| user::check_token(conn, &looked_up, models::now()))
                .await?;
            match user {
                Some(user) => Ok(Self {
                    user,
                    token_hash: hash,
                }),
                // A wrong token counts for its address; past the count, a 429.
                None => match state.throttle.wrong_token(&req).await? {
                    Some(wait) => Err(ApiError::too_many_tokens(wait)),
                    None => Err(ApiError::unauthorized(BEARER_CHALLENGE)),
                },
            }
        })
    }
}
