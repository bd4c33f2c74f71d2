//! Flask: `app/main/routes.py`.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};

use super::forms::{EDIT_PROFILE_FIELDS, EditProfileInput, POST_FIELDS, PostInput};
use super::views::{self, PopupContext, PostsContext, ProfileView, UserContext};
use crate::csrf::{CsrfForm, NoFields};
use crate::error::AppError;
use crate::flash::flash;
use crate::form::FormView;
use crate::login::{CurrentUser, LoginRequired};
use crate::models::post::{self, Feed, NewPost};
use crate::models::{self, user};
use crate::pagination::PageNumber;
use crate::render::{FormContext, Page, redirect};
use crate::state::State;
use crate::urls::user_url;

/// Flask: main.index (chapters 1-9), GET: the post form and the timeline (own posts and those
/// of followed users). The login check and the timeline are read in one trip to the database.
pub async fn index(
    login: LoginRequired,
    number: PageNumber,
    state: web::Data<State>,
) -> Result<HttpResponse, AppError> {
    let per_page = state.config.posts_per_page;
    let (page, timeline) = login
        .read(move |conn, me| post::page(conn, Feed::Timeline(me), number, per_page))
        .await?;
    let form = FormView::new(POST_FIELDS);
    views::render_index(&page, timeline, &state.fragments, form, StatusCode::OK)
}

/// Flask: main.index (chapter 9), POST: publish a post, then Post/Redirect/Get.
pub async fn index_submit(
    page: Page,
    CurrentUser(user): CurrentUser,
    CsrfForm(input): CsrfForm<PostInput>,
    number: PageNumber,
    state: web::Data<State>,
) -> Result<HttpResponse, AppError> {
    let user_id = user.id;
    let body = match input.parse() {
        Ok(body) => body,
        Err(form) => {
            let per_page = state.config.posts_per_page;
            let timeline = state
                .db
                .run(move |conn| post::page(conn, Feed::Timeline(user_id), number, per_page))
                .await?;
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            return views::render_index(&page, timeline, &state.fragments, form, status);
        }
    };
    state
        .db
        .run(move |conn| {
            post::create(
                conn,
                &NewPost {
                    body: body.as_str(),
                    timestamp: models::now(),
                    user_id,
                },
            )
        })
        .await?;
    page.flash("Your post is now live!");
    Ok(redirect("/index"))
}

/// Flask: main.explore (chapter 9): everyone's posts, newest first.
pub async fn explore(
    login: LoginRequired,
    number: PageNumber,
    state: web::Data<State>,
) -> Result<HttpResponse, AppError> {
    let per_page = state.config.posts_per_page;
    let (page, everyone) = login
        .read(move |conn, _| post::page(conn, Feed::Everyone, number, per_page))
        .await?;
    let (posts, pagination) = views::posts(everyone, "/explore", &state.fragments)?;
    let context = PostsContext {
        form: None,
        posts,
        pagination,
    };
    page.render("index.html", "Explore", &context)
}

/// Flask: main.user (chapter 6): the profile and the user's posts, paginated; with the login
/// check, one trip to the database.
pub async fn user(
    login: LoginRequired,
    path: web::Path<String>,
    number: PageNumber,
    state: web::Data<State>,
) -> Result<HttpResponse, AppError> {
    let username = path.into_inner();
    let per_page = state.config.posts_per_page;
    let (page, found) = login
        .read(move |conn, me| {
            let Some(profile) = user::profile(conn, me, &username)? else {
                return Ok(None);
            };
            let posts = post::page(conn, Feed::Author(profile.user.id), number, per_page)?;
            Ok(Some((profile, posts)))
        })
        .await?;
    let (profile, posts) = found.ok_or(AppError::NotFound)?;
    let profile = ProfileView::new(profile, &state.activity);
    let (posts, pagination) = views::posts(posts, &profile.url, &state.fragments)?;
    let title = profile.username.clone();
    let context = UserContext {
        user: profile,
        posts,
        pagination,
    };
    page.render("user.html", &title, &context)
}

/// Flask: main.user_popup (chapter 20): the hover card, an HTML fragment without the layout.
pub async fn user_popup(
    login: LoginRequired,
    path: web::Path<String>,
    state: web::Data<State>,
) -> Result<HttpResponse, AppError> {
    let username = path.into_inner();
    let (page, found) = login
        .read(move |conn, me| user::profile(conn, me, &username))
        .await?;
    let profile = found.ok_or(AppError::NotFound)?;
    let user = ProfileView::new(profile, &state.activity);
    page.render_fragment("user_popup.html", &PopupContext { user })
}

/// Flask: main.edit_profile (chapter 6), GET: the form, filled in.
pub async fn edit_profile(login: LoginRequired) -> Result<HttpResponse, AppError> {
    let (page, stored) = login.read(user::find).await?;
    let stored = stored.ok_or(AppError::NotFound)?;
    let form = FormView::new(EDIT_PROFILE_FIELDS)
        .value("username", &stored.username)
        .value("about_me", stored.about_me.as_deref().unwrap_or_default());
    page.render("edit_profile.html", "Edit Profile", &FormContext { form })
}

/// Flask: main.edit_profile (chapter 6), POST. The username stays unique; keeping your own is
/// fine.
pub async fn edit_profile_submit(
    page: Page,
    CurrentUser(me): CurrentUser,
    CsrfForm(input): CsrfForm<EditProfileInput>,
    state: web::Data<State>,
) -> Result<HttpResponse, AppError> {
    let show_again =
        |form: FormView| page.render("edit_profile.html", "Edit Profile", &FormContext { form });
    let (mut form, change) = input.parse();
    let Some(change) = change else {
        return show_again(form);
    };
    let id = me.id;
    let saved = state
        .db
        .run(move |conn| {
            user::update_profile(
                conn,
                id,
                change.username.as_str(),
                change.about_me.as_deref(),
            )
        })
        .await?;
    if !saved {
        form.error("username", "Please use a different username.");
        return show_again(form);
    }
    page.flash("Your changes have been saved.");
    Ok(redirect("/edit_profile"))
}

/// Flask: main.follow (chapter 8).
pub async fn follow(
    req: HttpRequest,
    CurrentUser(me): CurrentUser,
    CsrfForm(NoFields {}): CsrfForm<NoFields>,
    path: web::Path<String>,
    state: web::Data<State>,
) -> Result<HttpResponse, AppError> {
    change_following(&req, me.id, path.into_inner(), &state, true).await
}

/// Flask: main.unfollow (chapter 8).
pub async fn unfollow(
    req: HttpRequest,
    CurrentUser(me): CurrentUser,
    CsrfForm(NoFields {}): CsrfForm<NoFields>,
    path: web::Path<String>,
    state: web::Data<State>,
) -> Result<HttpResponse, AppError> {
    change_following(&req, me.id, path.into_inner(), &state, false).await
}

/// Follows or unfollows `username` for user `me`, with the Flask app's messages.
async fn change_following(
    req: &HttpRequest,
    me: i32,
    username: String,
    state: &State,
    follow: bool,
) -> Result<HttpResponse, AppError> {
    let name = username.clone();
    let Some(target) = state
        .db
        .run(move |conn| user::find_by_username(conn, &name))
        .await?
    else {
        flash(req, format!("User {username} not found."));
        return Ok(redirect("/index"));
    };
    let back = user_url(&target.username);
    if target.id == me {
        let verb = if follow { "follow" } else { "unfollow" };
        flash(req, format!("You cannot {verb} yourself!"));
        return Ok(redirect(&back));
    }
    let target_id = target.id;
    if follow {
        state
            .db
            .run(move |conn| user::follow(conn, me, target_id))
            .await?;
        flash(req, format!("You are following {username}!"));
    } else {
        state
            .db
            .run(move |conn| user::unfollow(conn, me, target_id))
            .await?;
        flash(req, format!("You are not following {username}."));
    }
    Ok(redirect(&back))
}

/// `/health` (port addition, chapters 17-19): for load balancers and process managers. 200 when
/// the database answers, 503 when it does not. Touches no session and sets no cookie.
pub async fn health(state: web::Data<State>) -> Result<HttpResponse, AppError> {
    Ok(match state.db.ping().await {
        Ok(()) => HttpResponse::Ok().json(serde_json::json!({"status": "ok"})),
        Err(e) => {
            tracing::warn!(error = %crate::error::chain(&e), "health check failed");
            HttpResponse::ServiceUnavailable()
                .json(serde_json::json!({"status": "unavailable", "error": "database"}))
        }
    })
}
