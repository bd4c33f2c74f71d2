//! The API described: an OpenAPI 3 document made from the handlers' annotations and the JSON
//! types (utoipa), at `/api/openapi.json`, and a page that reads it and lets a visitor try
//! each request, at `/api/docs`. The page and its script are files of the binary, so they work
//! offline and under the site's strict Content-Security-Policy (no inline script, nothing from
//! another site).

use std::sync::LazyLock;

use actix_web::HttpResponse;
use actix_web::http::header;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::{posts, tokens, users};
use crate::assets::StaticFiles;
use crate::error::AppError;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "microblog API",
        description = "The Flask Mega-Tutorial's API (chapter 23), and posts. Get a token from \
                       `POST /api/tokens` with your username and password (HTTP Basic), then send \
                       it as `Authorization: Bearer <token>`. Every error is JSON: \
                       `{\"error\": <the status's name>, \"message\": <why>}`."
    ),
    paths(
        tokens::get_token,
        tokens::revoke_token,
        users::get_users,
        users::create_user,
        users::get_user,
        users::update_user,
        users::get_followers,
        users::get_following,
        posts::get_user_posts,
        posts::get_timeline,
        posts::get_post,
        posts::create_post,
    ),
    modifiers(&Schemes),
    tags(
        (name = "tokens", description = "Tokens: an hour each, several per user, revocable"),
        (name = "users", description = "Users, their followers and whom they follow"),
        (name = "posts", description = "Posts: a user's, your timeline, a new one"),
    )
)]
struct ApiDoc;

/// The two ways to authenticate: `basic` (only for a token) and `token`.
struct Schemes;

impl Modify for Schemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "basic",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Basic)),
        );
        components.add_security_scheme(
            "token",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}

/// Built once: the document is the same for the life of the process.
static DOCUMENT: LazyLock<String> = LazyLock::new(|| {
    ApiDoc::openapi()
        .to_pretty_json()
        .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
});

/// `GET /api/openapi.json`.
pub async fn openapi() -> HttpResponse {
    HttpResponse::Ok()
        .content_type(mime::APPLICATION_JSON)
        .body(DOCUMENT.as_str())
}

/// `GET /api/docs`: the page (`static/api/docs.html`); its script reads the document.
pub async fn page() -> Result<HttpResponse, AppError> {
    let file = StaticFiles::get("api/docs.html").ok_or(AppError::NotFound)?;
    Ok(HttpResponse::Ok()
        .content_type(mime::TEXT_HTML_UTF_8)
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .body(file.data.into_owned()))
}
