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
use crate::limits;
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
    modifiers(&Schemes, &Errors),
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

/// The errors every operation of a kind can answer, added to each where its own annotation has
/// not described them: a 400 where a query or a body is read, a 401 and a 429 (too many wrong
/// tokens from one address) where a token is needed, a 404 where an id is in the path, a 413 and
/// a 415 where a body is read. Each with the error body.
struct Errors;

impl Modify for Errors {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::path::ParameterIn;
        use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
        let error = |why: &str| {
            ResponseBuilder::new()
                .description(why)
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("ErrorBody")))
                        .build(),
                )
                .build()
        };
        for item in openapi.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
            ];
            for op in operations.into_iter().flatten() {
                let is_in = |place: ParameterIn| {
                    op.parameters
                        .iter()
                        .flatten()
                        .any(|p| p.parameter_in == place)
                };
                let (query, path) = (is_in(ParameterIn::Query), is_in(ParameterIn::Path));
                let body = op.request_body.is_some();
                let token =
                    serde_json::to_string(&op.security).is_ok_and(|s| s.contains("\"token\""));
                let mut add = |status: &str, why: &str| {
                    op.responses
                        .responses
                        .entry(status.to_owned())
                        .or_insert_with(|| error(why).into());
                };
                if query || body {
                    add(
                        "400",
                        "A parameter or a field is not what this operation takes; `message` says which",
                    );
                }
                if token {
                    add("401", "No valid token");
                    add(
                        "429",
                        "Too many wrong tokens from your address; wait Retry-After seconds",
                    );
                }
                if path {
                    add("404", "No such user or post");
                }
                if body {
                    add(
                        "413",
                        &format!("The body is larger than {} KiB", limits::MAX_BODY >> 10),
                    );
                    add("415", "The body is not JSON");
                }
            }
        }
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
