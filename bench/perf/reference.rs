//! The reference page, the minimal page of the same shape as `/index` to compare against: the
//! session says who is logged in, one query reads that user's 25-post timeline joined with the
//! authors (the same query `/index` runs), and a two-template Tera page shows it. `/everyone` is
//! the same page over everyone's posts: the page query `/explore` runs for a reader who blocks
//! nobody (the bench's reader), without the short statement before it that asks whether they do. It is this same executable,
//! run as `perf reference-server` ([`start`] runs it, [`serve`] is what it runs).

use std::path::Path;
use std::process::Command;

use actix_session::storage::CookieSessionStore;
use actix_session::{Session, SessionMiddleware};
use actix_web::cookie::Key;
use actix_web::{App, HttpResponse, HttpServer, web};
use microblog::config::DatabaseUrl;
use microblog::db::Db;
use microblog::models::post::{self, Feed};
use microblog::models::user;
use microblog::pagination::PageNumber;

use crate::site::{Process, free_port};

const BASE: &str = "<!doctype html><html><head><title>{{ title }}</title></head>\
    <body><nav>{{ user }}</nav>{% block content %}{% endblock content %}</body></html>";
const PAGE: &str = "{% extends \"base.html\" %}{% block content %}{% for p in posts %}\
    <article><b>{{ p.author }}</b> {{ p.body }} <time>{{ p.timestamp }}</time></article>{% endfor %}\
    {% endblock content %}";

/// Starts this executable as `perf reference-server` on the SQLite file `db`, as a process of
/// its own, and waits until it answers.
pub async fn start(db: &Path) -> anyhow::Result<Process> {
    start_on(&format!("sqlite:///{}", db.display())).await
}

/// [`start`] on the database at `url` (SQLite or PostgreSQL, as `DATABASE_URL` names them).
pub async fn start_on(url: &str) -> anyhow::Result<Process> {
    let port = free_port();
    let mut command = Command::new(std::env::current_exe()?);
    command.args(["reference-server", url, &port.to_string()]);
    Process::start(command, port, "/login?name=reader").await
}

#[derive(serde::Serialize)]
struct PostView {
    author: String,
    body: String,
    timestamp: String,
}

async fn page(
    feed: impl FnOnce(i32) -> Feed,
    session: Session,
    db: web::Data<Db>,
    tera: web::Data<tera::Tera>,
) -> actix_web::Result<HttpResponse> {
    let Some(user_id) = session.get::<i32>("user")? else {
        return Ok(HttpResponse::Unauthorized().finish());
    };
    let feed = feed(user_id);
    let rows = db
        .run(move |conn| post::page(conn, feed, PageNumber(1), 25))
        .await
        .map_err(actix_web::error::ErrorInternalServerError)?;
    let posts: Vec<PostView> = rows
        .items
        .into_iter()
        .map(|p| PostView {
            author: p.author,
            body: p.body,
            timestamp: p.timestamp.to_string(),
        })
        .collect();
    let mut context = tera::Context::new();
    context.insert("title", "Home");
    context.insert("user", &user_id);
    context.insert("posts", &posts);
    let html = tera
        .render("page.html", &context)
        .map_err(actix_web::error::ErrorInternalServerError)?;
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(html))
}

/// `/login?name=<user>`: remembers that user in the session (no password: a baseline).
async fn login(
    query: web::Query<std::collections::HashMap<String, String>>,
    session: Session,
    db: web::Data<Db>,
) -> actix_web::Result<HttpResponse> {
    let name = query.get("name").cloned().unwrap_or_default();
    let found = db
        .run(move |conn| user::find_by_username(conn, &name))
        .await
        .map_err(actix_web::error::ErrorInternalServerError)?;
    let Some(found) = found else {
        return Ok(HttpResponse::NotFound().finish());
    };
    session.insert("user", found.id)?;
    Ok(HttpResponse::Ok().finish())
}

pub fn serve(url: &str, port: u16) -> anyhow::Result<()> {
    let db = web::Data::new(Db::connect(&DatabaseUrl::parse(url)?)?);
    let mut tera = tera::Tera::new();
    tera.add_raw_templates(vec![("base.html", BASE), ("page.html", PAGE)])
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let tera = web::Data::new(tera);
    let key = Key::generate();
    actix_web::rt::System::new().block_on(async move {
        HttpServer::new(move || {
            App::new()
                .app_data(db.clone())
                .app_data(tera.clone())
                .wrap(SessionMiddleware::new(
                    CookieSessionStore::default(),
                    key.clone(),
                ))
                .route("/", web::get().to(|s, d, t| page(Feed::Timeline, s, d, t)))
                .route(
                    "/everyone",
                    web::get().to(|s, d, t| page(|_| Feed::Everyone, s, d, t)),
                )
                .route("/login", web::get().to(login))
        })
        .bind(("127.0.0.1", port))?
        .run()
        .await
    })?;
    Ok(())
}
