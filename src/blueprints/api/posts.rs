//! Posts through the API (the Flask app's API has none; a real client needs them): a user's
//! posts, your timeline, one post, and a new one, by the rules of the web site's post form.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};

use super::auth::TokenUser;
use super::errors::{ApiError, ErrorBody};
use super::json::{Body, NewPostJson, PageQuery, PostCollection, PostJson, Window};
use crate::domain::PostBody;
use crate::federation;
use crate::i18n::english;
use crate::models::erase::PostDeletion;
use crate::models::post::{self, Feed, NewPost, PostWithAuthor};
use crate::models::{self, user};
use crate::state::State;
use crate::translate::detect_language;

/// A page of `feed` at `url`; `author`: the feed is this user's, who must exist.
async fn collection(
    feed: Feed,
    author: Option<i32>,
    req: &HttpRequest,
    url: &str,
    state: &State,
) -> Result<HttpResponse, ApiError> {
    let window = Window::parse(req.query_string())?;
    let totals = state.totals.clone();
    let (page, total) = state
        .db
        .run(move |conn| {
            if let Some(id) = author
                && user::find(conn, id)?.is_none()
            {
                return Ok(None);
            }
            let page = post::page(conn, feed, window.number(), window.per_page)?;
            let key = format!("posts {feed:?}");
            let (shown, offset) = (page.items.len(), window.offset());
            let total = totals.of(key, shown, window.per_page, offset, || {
                post::count(conn, feed)
            })?;
            Ok::<_, diesel::result::Error>(Some((page, total)))
        })
        .await?
        .ok_or_else(ApiError::not_found)?;
    let (meta, links) = window.describe(total, url);
    let items = page.items.into_iter().map(PostJson::of).collect();
    Ok(HttpResponse::Ok().json(PostCollection { items, meta, links }))
}

/// A user's posts, newest first.
#[utoipa::path(
    get, path = "/api/users/{id}/posts", tag = "posts",
    summary = "A user's posts, newest first",
    params(
        ("id" = i32, Path, description = "The user's id"),
        PageQuery,
    ),
    responses(
        (status = 200, description = "A page of posts", body = PostCollection),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 404, description = "No such user", body = ErrorBody),
    ),
    security(("token" = [])),
)]
pub async fn get_user_posts(
    _me: TokenUser,
    id: web::Path<i32>,
    req: HttpRequest,
    state: web::Data<State>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let url = format!("/api/users/{id}/posts");
    collection(Feed::Author(id), Some(id), &req, &url, &state).await
}

/// Flask: `User.following_posts()`, the home page's posts: yours and those of whom you follow.
#[utoipa::path(
    get, path = "/api/timeline", tag = "posts",
    summary = "Your timeline: your posts and those of the users you follow, newest first",
    params(PageQuery),
    responses(
        (status = 200, description = "A page of posts", body = PostCollection),
        (status = 401, description = "No valid token", body = ErrorBody),
    ),
    security(("token" = [])),
)]
pub async fn get_timeline(
    me: TokenUser,
    req: HttpRequest,
    state: web::Data<State>,
) -> Result<HttpResponse, ApiError> {
    collection(
        Feed::Timeline(me.user.id),
        None,
        &req,
        "/api/timeline",
        &state,
    )
    .await
}

#[utoipa::path(
    get, path = "/api/posts/{id}", tag = "posts",
    summary = "A post",
    params(("id" = i32, Path, description = "The post's id")),
    responses(
        (status = 200, description = "The post", body = PostJson),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 404, description = "No such post", body = ErrorBody),
    ),
    security(("token" = [])),
)]
pub async fn get_post(
    _me: TokenUser,
    id: web::Path<i32>,
    state: web::Data<State>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let found = state
        .db
        .run(move |conn| post::find(conn, id))
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok(HttpResponse::Ok().json(PostJson::of(found)))
}

/// A port addition: deletes one of your posts, everywhere at once (as `POST /delete_post/<id>`).
#[utoipa::path(
    delete, path = "/api/posts/{id}", tag = "posts",
    summary = "Delete one of your posts",
    params(("id" = i32, Path, description = "The post's id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Someone else's post: nothing changed", body = ErrorBody),
        (status = 404, description = "No such post (or deleted already)", body = ErrorBody),
    ),
    security(("token" = [])),
)]
pub async fn delete_post(
    me: TokenUser,
    id: web::Path<i32>,
    state: web::Data<State>,
) -> Result<HttpResponse, ApiError> {
    let (id, author) = (id.into_inner(), me.user.id);
    let languages = state.languages.codes();
    let (federation, name) = (state.federation.clone(), me.user.username.clone());
    let done = state
        .db
        .run(move |conn| {
            federation::unpublish(conn, federation.as_ref(), id, (author, &name), &languages)
        })
        .await?;
    if let Some(federation) = &state.federation {
        federation.wake();
    }
    match done {
        PostDeletion::Deleted => {
            state.fragments.forget(id);
            state.db.scrub_soon();
            Ok(HttpResponse::NoContent().finish())
        }
        PostDeletion::NotYours => Err(ApiError::forbidden("That post is someone else's.")),
        PostDeletion::Missing => Err(ApiError::not_found()),
    }
}

/// Flask: the post form of `index` (chapter 4), as JSON: the same 1-140 rule, the language
/// detected as on the web.
#[utoipa::path(
    post, path = "/api/posts", tag = "posts",
    summary = "Publish a post",
    request_body = NewPostJson,
    responses(
        (status = 201, description = "Published; `Location` is its URL", body = PostJson,
         headers(("Location" = String, description = "/api/posts/<id>"))),
        (status = 400, description = "The body is missing, empty, too long or of the wrong type", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 415, description = "The body is not JSON", body = ErrorBody),
    ),
    security(("token" = [])),
)]
pub async fn create_post(
    me: TokenUser,
    Body(input): Body<NewPostJson>,
    state: web::Data<State>,
) -> Result<HttpResponse, ApiError> {
    let body = PostBody::parse(&input.body)
        .map_err(|e| ApiError::bad_request(format!("body: {}", e.text(&english()))))?;
    let language = detect_language(body.as_str());
    let timestamp = models::now();
    let user_id = me.user.id;
    let text = body.as_str().to_owned();
    let (federation, author) = (state.federation.clone(), me.user.username.clone());
    let id = state
        .db
        .run(move |conn| {
            let new = NewPost {
                body: &text,
                timestamp,
                user_id,
                language,
            };
            federation::publish(conn, federation.as_ref(), &new, &author)
        })
        .await?;
    if let Some(federation) = &state.federation {
        federation.wake();
    }
    let created = PostJson::of(PostWithAuthor {
        id,
        user_id,
        body: body.as_str().to_owned(),
        timestamp,
        language: language.map(str::to_owned),
        author: me.user.username,
        author_email: me.user.email,
        body_html: None,
    });
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, created.links.self_.clone()))
        .json(created))
}
