//! The API described: an OpenAPI 3 document made from the handlers' annotations and the JSON
//! types (utoipa), at `/api/openapi.json`, and a page that reads it and lets a visitor try
//! each request, at `/api/docs`: a page of the site, in its layout and the reader's language.
//! The page's template and script are files of the binary, so they work offline and under the
//! site's strict Content-Security-Policy (no inline script, nothing from another site).

use std::sync::LazyLock;

use actix_web::HttpResponse;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::{posts, tokens, users};
use crate::error::AppError;
use crate::i18n::Message;
use crate::render::Page;

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
        posts::delete_post,
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

/// The words `static/js/api-docs.js` writes, by their key in `locales/` (the script names each
/// by what follows `api-js-`).
const SCRIPT_WORDS: &[&str] = &[
    "api-js-server-unreachable",
    "api-js-asking",
    "api-js-new-token",
    "api-js-no-token",
    "api-js-revoked",
    "api-js-no-auth",
    "api-js-needs",
    "api-js-or",
    "api-js-auth-bearer",
    "api-js-auth-basic",
    "api-js-name",
    "api-js-in",
    "api-js-required",
    "api-js-type",
    "api-js-description",
    "api-js-yes",
    "api-js-no",
    "api-js-status",
    "api-js-body",
    "api-js-required-body",
    "api-js-optional",
    "api-js-header",
    "api-js-try-it",
    "api-js-body-json",
    "api-js-basic-note",
    "api-js-send",
    "api-js-no-body",
    "api-js-request-failed",
    "api-js-parameters",
    "api-js-request-body",
    "api-js-responses",
    "api-js-auth-short",
    "api-js-no-auth-short",
    "api-js-reading",
    "api-js-unreadable",
    "api-js-seconds",
];

/// `GET /api/docs`: the page (`templates/api/docs.html`) in the site's layout and the reader's
/// language; its script reads the document.
pub async fn page(page: Page) -> Result<HttpResponse, AppError> {
    let lang = page.lang();
    let words: serde_json::Map<String, serde_json::Value> = SCRIPT_WORDS
        .iter()
        .map(|key| {
            let name = key.trim_start_matches("api-js-").to_owned();
            (name, Message::new(key).text(&lang).into())
        })
        .collect();
    let words = serde_json::Value::Object(words).to_string();
    page.render(
        "api/docs.html",
        Message::new("api-title"),
        &serde_json::json!({ "words": words }),
    )
}
