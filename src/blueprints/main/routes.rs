//! Flask: `app/main/routes.py`.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;

use super::forms::{POST_FIELDS, PostInput};
use crate::config::Config;
use crate::csrf::CsrfForm;
use crate::db::Db;
use crate::domain::page_number;
use crate::error::AppError;
use crate::flash::flash;
use crate::form::FormView;
use crate::login::CurrentUser;
use crate::models::{self, post, post::NewPost};
use crate::render::{Page, redirect};

/// A post as templates show it.
#[derive(Serialize)]
struct PostView {
    id: i32,
    body: String,
    author: String,
    /// ISO 8601 in UTC, for machines (`<time datetime>`).
    timestamp: String,
    /// Readable UTC date, for people (and pages without JavaScript).
    when: String,
}

/// Flask-SQLAlchemy's `Pagination`, as far as the templates need it.
#[derive(Serialize)]
struct Pagination {
    page: i64,
    next_url: Option<String>,
    prev_url: Option<String>,
}

#[derive(Serialize)]
struct PostsPage {
    /// The "Say something" form; absent on `/explore`.
    form: Option<FormView>,
    posts: Vec<PostView>,
    pagination: Pagination,
}

/// Loads page `page` of posts (of one author, or everyone's) with the links around it.
async fn posts_page(
    db: &Db,
    config: &Config,
    author: Option<i32>,
    page: i64,
    base_url: &str,
) -> Result<(Vec<PostView>, Pagination), AppError> {
    let (limit, offset) = models::page_window(page, config.posts_per_page);
    let mut rows = db
        .run(move |conn| post::page(conn, author, limit, offset))
        .await?;
    let has_next = rows.len() as i64 > config.posts_per_page;
    rows.truncate(config.posts_per_page as usize);
    let posts = rows
        .into_iter()
        .map(|p| PostView {
            id: p.id,
            body: p.body,
            author: p.author,
            timestamp: p.timestamp.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
            when: p.timestamp.format("%Y-%m-%d %H:%M UTC").to_string(),
        })
        .collect();
    let pagination = Pagination {
        page,
        next_url: has_next.then(|| format!("{base_url}?page={}", page + 1)),
        prev_url: (page > 1).then(|| format!("{base_url}?page={}", page - 1)),
    };
    Ok((posts, pagination))
}

/// Renders `/index` with a form (empty, or as typed with its errors).
async fn render_index(
    (page, req, db, config): (&Page, &HttpRequest, &Db, &Config),
    user_id: i32,
    form: FormView,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let number = page_number(req.query_string());
    let (posts, pagination) = posts_page(db, config, Some(user_id), number, "/index").await?;
    page.render_status(
        status,
        "index.html",
        "Home",
        &PostsPage {
            form: Some(form),
            posts,
            pagination,
        },
    )
}

/// Flask: main.index (chapters 1-9), GET: the post form and the user's posts.
pub async fn index(
    req: HttpRequest,
    page: Page,
    CurrentUser(user): CurrentUser,
    db: web::Data<Db>,
    config: web::Data<Config>,
) -> Result<HttpResponse, AppError> {
    let form = FormView::new(POST_FIELDS);
    render_index((&page, &req, &db, &config), user.id, form, StatusCode::OK).await
}

/// Flask: main.index (chapter 9), POST: publish a post, then Post/Redirect/Get.
pub async fn index_submit(
    req: HttpRequest,
    page: Page,
    CurrentUser(user): CurrentUser,
    CsrfForm(input): CsrfForm<PostInput>,
    db: web::Data<Db>,
    config: web::Data<Config>,
) -> Result<HttpResponse, AppError> {
    let body = match input.parse() {
        Ok(body) => body,
        Err(form) => {
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            return render_index((&page, &req, &db, &config), user.id, form, status).await;
        }
    };
    let user_id = user.id;
    db.run(move |conn| {
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
    flash(&req, "Your post is now live!");
    Ok(redirect("/index"))
}

/// Flask: main.explore (chapter 9): everyone's posts, newest first.
pub async fn explore(
    req: HttpRequest,
    page: Page,
    _user: CurrentUser,
    db: web::Data<Db>,
    config: web::Data<Config>,
) -> Result<HttpResponse, AppError> {
    let number = page_number(req.query_string());
    let (posts, pagination) = posts_page(&db, &config, None, number, "/explore").await?;
    page.render(
        "index.html",
        "Explore",
        &PostsPage {
            form: None,
            posts,
            pagination,
        },
    )
}
