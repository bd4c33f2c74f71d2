//! Flask: `app/api/` (chapter 23), the REST API: tokens, users, posts, every error in JSON,
//! and the API described by an OpenAPI document. `docs/23-apis.md` walks through it.
//!
//! | Flask                                   | here                                  |
//! |-----------------------------------------|---------------------------------------|
//! | `app/api/auth.py` (Flask-HTTPAuth)      | `auth.rs`: [`auth::TokenUser`]        |
//! | `app/api/tokens.py`                     | `tokens.rs`                           |
//! | `app/api/users.py`                      | `users.rs`                            |
//! | `app/api/errors.py`                     | `errors.rs`: [`errors::ApiError`]     |
//! | `to_dict`, `from_dict`, `PaginatedAPIMixin` | `json.rs`                         |
//! | (none)                                  | `posts.rs`, `docs.rs`                 |

mod auth;
mod docs;
mod errors;
mod json;
mod posts;
mod tokens;
mod users;

use actix_web::web;

use crate::limits;

/// Ids in paths are digits: anything else under a known path is an unknown URL (404).
const ID: &str = "{id:\\d+}";

/// A resource whose other methods are a 405 naming the `allow`ed ones (without this, the
/// scope's 404 would answer them).
fn resource(path: &str, allow: &'static str) -> actix_web::Resource {
    web::resource(path).default_service(web::to(move || errors::method_not_allowed(allow)))
}

pub fn config(cfg: &mut web::ServiceConfig) {
    let json = web::JsonConfig::default()
        .limit(limits::MAX_BODY)
        .error_handler(|e, _| errors::ApiError::json(&e).into());
    let user = |tail: &str| format!("/users/{ID}{tail}");
    cfg.service(
        web::scope("/api")
            .app_data(json)
            // An id too large for a number is no user or post: a 404 in our words, not the
            // parser's.
            .app_data(
                web::PathConfig::default()
                    .error_handler(|_, _| errors::ApiError::not_found().into()),
            )
            .service(
                resource("/tokens", "POST, DELETE")
                    .route(web::post().to(tokens::get_token))
                    .route(web::delete().to(tokens::revoke_token)),
            )
            .service(
                resource("/users", "GET, HEAD, POST")
                    .route(web::get().to(users::get_users))
                    .route(web::post().to(users::create_user)),
            )
            .service(
                resource(&user(""), "GET, HEAD, PUT")
                    .route(web::get().to(users::get_user))
                    .route(web::put().to(users::update_user)),
            )
            .service(
                resource(&user("/followers"), "GET, HEAD")
                    .route(web::get().to(users::get_followers)),
            )
            .service(
                resource(&user("/following"), "GET, HEAD")
                    .route(web::get().to(users::get_following)),
            )
            .service(
                resource(&user("/posts"), "GET, HEAD").route(web::get().to(posts::get_user_posts)),
            )
            .service(resource("/timeline", "GET, HEAD").route(web::get().to(posts::get_timeline)))
            .service(resource("/posts", "POST").route(web::post().to(posts::create_post)))
            .service(
                resource(&format!("/posts/{ID}"), "GET, HEAD, DELETE")
                    .route(web::get().to(posts::get_post))
                    .route(web::delete().to(posts::delete_post)),
            )
            .service(resource("/openapi.json", "GET, HEAD").route(web::get().to(docs::openapi)))
            .service(resource("/docs", "GET, HEAD").route(web::get().to(docs::page)))
            .default_service(web::to(errors::not_found)),
    );
}
