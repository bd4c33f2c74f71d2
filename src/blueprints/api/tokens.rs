//! Flask: `app/api/tokens.py` (chapter 23): a token for a username and password, and its
//! revocation.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};

use super::auth::{BASIC_CHALLENGE, TokenUser, basic_credentials};
use super::errors::{ApiError, ErrorBody};
use super::json::TokenJson;
use crate::models::{self, api_token, user};
use crate::password;
use crate::state::State;
use crate::throttle::Account;
use crate::tokens::new_api_token;

/// Flask: `get_token` (`@basic_auth.login_required`). Each call makes a new token, so each
/// client holds its own and revoking one leaves the others working. Wrong passwords count
/// against the same limits as the login form's.
#[utoipa::path(
    post, path = "/api/tokens", tag = "tokens",
    summary = "Get a token",
    description = "Send your username and password with HTTP Basic; the token works for an hour. \
                   Each call makes a new token. Too many wrong passwords: 429 with Retry-After.",
    responses(
        (status = 200, description = "A new token", body = TokenJson),
        (status = 401, description = "Wrong or missing username or password", body = ErrorBody),
        (status = 429, description = "Too many wrong passwords; wait Retry-After seconds", body = ErrorBody),
    ),
    security(("basic" = [])),
)]
pub async fn get_token(
    req: HttpRequest,
    state: web::Data<State>,
) -> Result<HttpResponse, ApiError> {
    let Some((username, typed)) = basic_credentials(&req) else {
        return Err(ApiError::unauthorized(BASIC_CHALLENGE));
    };
    let name = username.clone();
    let found = state
        .db
        .run(move |conn| user::find_by_login_name(conn, &name))
        .await?;
    let account = Account::found_or_typed(found.as_ref().map(|u| u.id), &username);
    let attempt = state
        .throttle
        .begin(&req, account)
        .await?
        .map_err(ApiError::too_many)?;
    let found = password::authenticate(&state.hasher, found, &typed).await?;
    let Some(found) = found else {
        attempt.failed().await;
        return Err(ApiError::unauthorized(BASIC_CHALLENGE));
    };
    attempt.forgiven().await;
    let (token, hash) = new_api_token();
    state
        .db
        .run(move |conn| api_token::create(conn, found.id, &hash, models::now()))
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(TokenJson { token }))
}

/// Flask: `revoke_token` (`@token_auth.login_required`): this token stops working at once.
#[utoipa::path(
    delete, path = "/api/tokens", tag = "tokens",
    summary = "Revoke this token",
    responses(
        (status = 204, description = "Revoked"),
        (status = 401, description = "No valid token", body = ErrorBody),
    ),
    security(("token" = [])),
)]
pub async fn revoke_token(
    me: TokenUser,
    state: web::Data<State>,
) -> Result<HttpResponse, ApiError> {
    state
        .db
        .run(move |conn| api_token::revoke(conn, &me.token_hash))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
