//! Flask: `app/main/routes.py`.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};

use super::forms::{
    DeletePostInput, EDIT_PROFILE_FIELDS, EditProfileInput, POST_FIELDS, PostInput,
};
use super::views::{self, PopupContext, ProfileView, UserContext};
use crate::csrf;
use crate::csrf::{CsrfForm, NoFields};
use crate::error::{AppError, chain};
use crate::federation;
use crate::flash::{Kind, flash};
use crate::form::{FormView, parse_urlencoded};
use crate::i18n::{self, Message};
use crate::login::{CurrentUser, LoginRequired};
use crate::models::erase::PostDeletion;
use crate::models::post::{self, Feed, NewPost};
use crate::models::translation::{self, Spent};
use crate::models::{self, actor, task, user};
use crate::pagination::{PageNumber, Paginated};
use crate::render::{FormContext, Page, redirect};
use crate::search::{self as full_text, Query};
use crate::state::State;
use crate::translate::{Failure, detect_language};
use crate::urls::{encode_component, safe_next, user_url};

/// Flask: main.index (chapters 1-9), GET: the post form and the timeline (own posts and those
/// of followed users). The login check and the timeline are read in one trip to the database
/// (on PostgreSQL, in one statement once the session holds the user's id).
pub async fn index(
    login: LoginRequired,
    number: PageNumber,
    state: web::Data<State>,
) -> Result<HttpResponse, AppError> {
    let per_page = state.config.posts_per_page;
    let (page, timeline) = login.timeline(number, per_page).await?;
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
    let federation = state.federation.clone();
    let author = user.username.clone();
    state
        .db
        .run(move |conn| {
            let new = NewPost {
                body: body.as_str(),
                timestamp: models::now(),
                user_id,
                language: detect_language(body.as_str()),
            };
            // With its sending to other servers, when federating.
            federation::publish(conn, federation.as_ref(), &new, &author)
        })
        .await?;
    if let Some(federation) = &state.federation {
        federation.wake();
    }
    page.flash(Kind::Success, Message::new("flash-post-live"));
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
        .read(move |conn, me| post::page(conn, Feed::Explore(me), number, per_page))
        .await?;
    let title = Message::new("title-explore");
    let fragments = &state.fragments;
    views::posts_page(
        &page,
        everyone,
        "/explore",
        fragments,
        None,
        title,
        StatusCode::OK,
    )
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
    let now = models::now();
    let (page, found) = login
        .read(move |conn, me| {
            let Some(profile) = user::profile(conn, me, &username)? else {
                return Ok(None);
            };
            let actor_id = actor::actor_id_of(conn, &profile.user)?;
            let posts = post::page(conn, Feed::Author(profile.user.id), number, per_page)?;
            // One's own profile: the latest export to download, and whether the last one failed.
            let exports = if profile.is_self {
                Some((
                    models::task::latest_export(conn, me, now)?,
                    models::task::last_export_failed(conn, me)?,
                ))
            } else {
                None
            };
            Ok(Some((profile, actor_id, posts, exports)))
        })
        .await?;
    let (profile, actor_id, posts, exports) = found.ok_or(AppError::NotFound)?;
    let profile = ProfileView::new(profile, actor_id.as_deref(), &state.activity);
    let (posts, pagination) = views::posts(&page, posts, &profile.url, &state.fragments)?;
    let title = Message::new("title-user").with("username", profile.username.as_str());
    let (export, export_failed) = match exports {
        Some((latest, failed)) => (
            latest.map(|(id, until)| views::ExportLink {
                url: task::download_path(id),
                until: until.into(),
            }),
            failed,
        ),
        None => (None, false),
    };
    let context = UserContext {
        user: profile,
        posts,
        pagination,
        export,
        export_failed,
    };
    let mut response = page.render("user.html", title, &context)?;
    // The same URL answers ActivityPub JSON to servers (`blueprints::federation`): a cache
    // must not give one the other's answer.
    response
        .headers_mut()
        .append(header::VARY, header::HeaderValue::from_static("Accept"));
    Ok(response)
}

/// Flask: main.user_popup (chapter 20): the hover card, an HTML fragment without the layout.
pub async fn user_popup(
    login: LoginRequired,
    path: web::Path<String>,
    state: web::Data<State>,
) -> Result<HttpResponse, AppError> {
    let username = path.into_inner();
    let (page, found) = login
        .read(move |conn, me| {
            let Some(profile) = user::profile(conn, me, &username)? else {
                return Ok(None);
            };
            let actor_id = actor::actor_id_of(conn, &profile.user)?;
            Ok(Some((profile, actor_id)))
        })
        .await?;
    let (profile, actor_id) = found.ok_or(AppError::NotFound)?;
    let user = ProfileView::new(profile, actor_id.as_deref(), &state.activity);
    page.render_fragment("user_popup.html", &PopupContext { user })
}

/// Flask: main.edit_profile (chapter 6), GET: the form, filled in.
pub async fn edit_profile(login: LoginRequired) -> Result<HttpResponse, AppError> {
    let (page, stored) = login.read(user::find).await?;
    let stored = stored.ok_or(AppError::NotFound)?;
    let form = FormView::new(EDIT_PROFILE_FIELDS)
        .value("username", &stored.username)
        .value("about_me", stored.about_me.as_deref().unwrap_or_default());
    page.render(
        "edit_profile.html",
        Message::new("title-edit-profile"),
        &FormContext { form },
    )
}

/// Flask: main.edit_profile (chapter 6), POST. The username stays unique; keeping your own is
/// fine.
pub async fn edit_profile_submit(
    page: Page,
    CurrentUser(me): CurrentUser,
    CsrfForm(input): CsrfForm<EditProfileInput>,
    state: web::Data<State>,
) -> Result<HttpResponse, AppError> {
    let show_again = |form: FormView| {
        page.render(
            "edit_profile.html",
            Message::new("title-edit-profile"),
            &FormContext { form },
        )
    };
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
        form.error("username", Message::new("form-username-taken"));
        return show_again(form);
    }
    page.flash(Kind::Success, Message::new("flash-changes-saved"));
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
    change_following(&req, (me.id, &me.username), path.into_inner(), &state, true).await
}

/// Flask: main.unfollow (chapter 8).
pub async fn unfollow(
    req: HttpRequest,
    CurrentUser(me): CurrentUser,
    CsrfForm(NoFields {}): CsrfForm<NoFields>,
    path: web::Path<String>,
    state: web::Data<State>,
) -> Result<HttpResponse, AppError> {
    change_following(
        &req,
        (me.id, &me.username),
        path.into_inner(),
        &state,
        false,
    )
    .await
}

/// The user named `username` that `me` acts on (follows, blocks...), or where to send `me`
/// instead: to `/index` with "User ... not found.", or back to their own profile with the
/// message `itself` when they name themselves.
pub(super) async fn other_user(
    req: &HttpRequest,
    state: &State,
    me: i32,
    username: String,
    itself: &'static str,
) -> Result<Result<user::User, HttpResponse>, AppError> {
    let name = username.clone();
    let Some(target) = state
        .db
        .run(move |conn| user::find_by_username(conn, &name))
        .await?
    else {
        let message = Message::new("flash-user-not-found").with("username", username);
        flash(req, Kind::Error, message);
        return Ok(Err(redirect("/index")));
    };
    if target.id == me {
        flash(req, Kind::Error, Message::new(itself));
        return Ok(Err(redirect(&user_url(&target.username))));
    }
    Ok(Ok(target))
}

/// Follows or unfollows `username` for user `me`, with the Flask app's messages.
async fn change_following(
    req: &HttpRequest,
    (me, my_name): (i32, &str),
    username: String,
    state: &State,
    follow: bool,
) -> Result<HttpResponse, AppError> {
    let itself = if follow {
        "flash-cannot-follow-self"
    } else {
        "flash-cannot-unfollow-self"
    };
    let target = match other_user(req, state, me, username.clone(), itself).await? {
        Ok(target) => target,
        Err(elsewhere) => return Ok(elsewhere),
    };
    let back = user_url(&target.username);
    let target_id = target.id;
    // A remote account hears of it by a Follow or an Undo, sent by a job.
    let remote = state
        .federation
        .as_ref()
        .filter(|_| actor::is_remote_name(&target.username));
    match remote {
        Some(federation) => {
            federation.follow(me, my_name, target_id, follow).await?;
        }
        None if follow => {
            state
                .db
                .run(move |conn| user::follow(conn, me, target_id))
                .await?;
        }
        None => {
            state
                .db
                .run(move |conn| user::unfollow(conn, me, target_id))
                .await?;
        }
    }
    if follow {
        let message = Message::new("flash-following").with("username", username);
        flash(req, Kind::Success, message);
    } else {
        let message = Message::new("flash-not-following").with("username", username);
        flash(req, Kind::Success, message);
    }
    Ok(redirect(&back))
}

/// Flask: main.search (chapter 16): `GET /search?q=`, the posts holding every word, best
/// first (`src/search.rs`), a page at a time with links that keep `q`. An empty `q` goes to
/// `/explore`, as Flask's `if not g.search_form.validate()`.
pub async fn search(
    req: HttpRequest,
    login: LoginRequired,
    number: PageNumber,
    state: web::Data<State>,
) -> Result<HttpResponse, AppError> {
    let pairs = match parse_urlencoded(req.query_string().as_bytes()) {
        Ok(pairs) => pairs,
        Err(bad) => {
            // Anonymous visitors are sent to log in first, as for any other query.
            login.read(|_, _| Ok(())).await?;
            return Err(bad);
        }
    };
    let typed = pairs
        .into_iter()
        .find(|(name, _)| name == "q")
        .map(|(_, q)| q.trim().to_owned())
        .unwrap_or_default();
    if typed.is_empty() {
        login.read(|_, _| Ok(())).await?;
        return Ok(redirect("/explore"));
    }
    // `@name@host`: an account of another server, found by WebFinger (`docs/24`).
    if let Some(federation) = &state.federation
        && typed.starts_with('@')
        && federation::parse_handle(&typed).is_some()
    {
        let (page, ()) = login.read(|_, _| Ok(())).await?;
        if let Some(found) = federation.resolve_handle(&typed).await? {
            return Ok(redirect(&user_url(&found.username)));
        }
        // Nobody: the search page says why, with the handle still in its box to correct.
        let why = Message::new("search-handle-not-found").with("handle", typed.as_str());
        let url = format!("/search?q={}", encode_component(&typed));
        let context = views::SearchContext {
            q: typed,
            posts: Vec::new(),
            pagination: Paginated::<()>::empty().links(&url),
            error: Some(why),
        };
        let title = Message::new("title-search");
        return page.render_status(StatusCode::NOT_FOUND, "search.html", title, &context);
    }
    let query = Query::parse(&typed);
    let per_page = state.config.posts_per_page;
    let asked = query.clone();
    let windows = state.search_windows.clone();
    let (page, found) = login
        .read(move |conn, _| match &asked {
            Ok(query) => Paginated::read(number, per_page, |limit, offset| {
                full_text::find(conn, &windows, query, limit, offset)
            })
            .map(Some),
            Err(_) => Ok(None),
        })
        .await?;
    let url = format!("/search?q={}", encode_component(&typed));
    let (posts, pagination, error, status) = match (found, query) {
        (Some(found), _) => {
            let (posts, pagination) = views::search_results(&page, found, &url, &state.templates)?;
            (posts, pagination, None, StatusCode::OK)
        }
        (None, Err(why)) => {
            let none = Paginated::<()>::empty().links(&url);
            (Vec::new(), none, Some(why), StatusCode::BAD_REQUEST)
        }
        (None, Ok(_)) => unreachable!("a query that parsed is searched"),
    };
    let context = views::SearchContext {
        q: typed,
        posts,
        pagination,
        error,
    };
    page.render_status(
        status,
        "search.html",
        Message::new("title-search"),
        &context,
    )
}

/// The language menu (port addition, chapter 13): `lang` becomes this browser's language, kept
/// in a cookie for a year, and the visitor goes back to the page (`next`) they were on. It
/// changes nothing but that browser's own preference, so it needs no login and no CSRF token:
/// it works on every page, error pages and first visits included.
pub async fn set_language(
    body: web::Bytes,
    state: web::Data<State>,
) -> Result<HttpResponse, AppError> {
    let pairs = parse_urlencoded(&body)?;
    let field = |name: &str| {
        pairs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    let asked = field("lang").unwrap_or_default();
    let Some(lang) = state.languages.find(asked) else {
        // Shown back cut short: the field could be a megabyte.
        let shown: String = asked.chars().take(40).collect();
        return Err(AppError::bad_request(
            Message::new("error-unknown-language").with("lang", shown),
        ));
    };
    let cookie = actix_web::cookie::Cookie::build(i18n::COOKIE, lang.to_string())
        .path("/")
        .http_only(true)
        .secure(state.config.session_cookie_secure)
        .same_site(actix_web::cookie::SameSite::Lax)
        .max_age(actix_web::cookie::time::Duration::days(365))
        .finish();
    let back = safe_next(field("next")).unwrap_or_else(|| "/index".to_owned());
    let mut res = redirect(&back);
    res.add_cookie(&cookie)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("setting the language cookie: {e}")))?;
    Ok(res)
}

/// The most characters `/translate` accepts: a post is at most 140, a message alike.
pub const MAX_TRANSLATE_CHARS: usize = 1_000;

/// What the Translate link sends (Flask's `request.get_json()` in `translate_text`).
#[derive(serde::Deserialize)]
struct TranslateRequest {
    text: String,
    source_language: String,
    dest_language: String,
}

/// `en`, `es`, `zh-Hans`, `pt-BR`: a language tag short enough to pass to a service.
fn is_language_code(code: &str) -> bool {
    let mut parts = code.split('-');
    let first = parts.next().unwrap_or_default();
    code.len() <= 20
        && (2..=3).contains(&first.len())
        && first.chars().all(|c| c.is_ascii_alphabetic())
        && parts.all(|p| (1..=8).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric()))
}

/// Flask: main.translate_text (chapter 14): POST JSON `{text, source_language,
/// dest_language}`, answer `{"text": ...}`. Only for a logged-in user, only JSON, and only with
/// the page's CSRF token in the `X-CSRFToken` header: another site cannot make a visitor's
/// browser spend the site's translation budget; and each user has an allowance
/// (`translate::BURST`), so no one user can either. A service that is missing, failing or slow
/// answers with an error text the page shows in place of the translation.
pub async fn translate_text(
    req: HttpRequest,
    CurrentUser(me): CurrentUser,
    body: web::Bytes,
    state: web::Data<State>,
) -> Result<HttpResponse, AppError> {
    let lang = i18n::for_request(&req);
    let is_json = req
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<mime::Mime>().ok())
        .is_some_and(|m| m.essence_str() == mime::APPLICATION_JSON.essence_str());
    if !is_json {
        return Err(AppError::bad_request(Message::new("error-translate-json")));
    }
    if !csrf::header_is_valid(&req) {
        return Err(AppError::bad_request(Message::new("error-translate-csrf")));
    }
    let asked: TranslateRequest = serde_json::from_slice(&body).map_err(|e| {
        AppError::bad_request(Message::new("error-translate-body").with("detail", e.to_string()))
    })?;
    let text = asked.text.trim();
    if text.is_empty() {
        return Err(AppError::bad_request(Message::new("error-translate-empty")));
    }
    if text.chars().count() > MAX_TRANSLATE_CHARS {
        return Err(AppError::bad_request(
            Message::new("error-translate-too-long").with("max", MAX_TRANSLATE_CHARS as i64),
        ));
    }
    let source = asked.source_language.trim();
    if !source.is_empty() && !is_language_code(source) {
        let message = Message::new("error-translate-language").with("field", "source_language");
        return Err(AppError::bad_request(message));
    }
    let dest = asked.dest_language.trim();
    if !is_language_code(dest) {
        let message = Message::new("error-translate-language").with("field", "dest_language");
        return Err(AppError::bad_request(message));
    }
    if let Err(wait) = state.translator.allow(me.id) {
        let message = Message::new("error-translate-too-many").text(&lang);
        return Ok(HttpResponse::TooManyRequests()
            .insert_header((
                actix_web::http::header::RETRY_AFTER,
                wait.as_secs_f64().ceil().max(1.0).to_string(),
            ))
            .json(serde_json::json!({ "error": "Too Many Requests", "message": message })));
    }
    if !state.translator.is_configured() {
        let answer = Message::new("translate-not-configured").text(&lang);
        return Ok(HttpResponse::Ok().json(serde_json::json!({ "text": answer })));
    }
    // A text translated before is answered from the cache, free; otherwise its characters are
    // counted against the user's and the site's budgets of the day first.
    let key = translation::cache_key(text, source, dest);
    let characters = text.chars().count() as i64;
    let (user_cap, site_cap) = (
        state.config.translate_user_daily_chars,
        state.config.translate_site_daily_chars,
    );
    let now = models::now();
    let looked_up = {
        let key = key.clone();
        state
            .db
            .run(move |conn| {
                if let Some(done) = translation::cached(conn, &key)? {
                    return Ok(Err(done));
                }
                let spent =
                    translation::spend(conn, me.id, characters, now.date(), user_cap, site_cap);
                spent.map(Ok)
            })
            .await?
    };
    let refused = match looked_up {
        Err(cached) => return Ok(HttpResponse::Ok().json(serde_json::json!({ "text": cached }))),
        Ok(Spent::Granted) => None,
        Ok(Spent::UserCap) => {
            Some(Message::new("error-translate-user-daily").with("max", user_cap))
        }
        Ok(Spent::SiteCap) => Some(Message::new("error-translate-site-daily")),
    };
    if let Some(why) = refused {
        // Until midnight, UTC, when the day's budgets start again.
        let tomorrow = (now.date() + chrono::TimeDelta::days(1)).and_time(chrono::NaiveTime::MIN);
        let wait = (tomorrow - now).num_seconds().max(1);
        return Ok(HttpResponse::TooManyRequests()
            .insert_header((actix_web::http::header::RETRY_AFTER, wait.to_string()))
            .json(
                serde_json::json!({ "error": "Too Many Requests", "message": why.text(&lang) }),
            ));
    }
    let answer = match state.translator.translate(text, source, dest).await {
        Ok(translated) => {
            let (key, kept) = (key.clone(), translated.clone());
            let stored = state
                .db
                .run(move |conn| translation::store(conn, &key, &kept, models::now()))
                .await;
            if let Err(e) = stored {
                tracing::warn!(error = %chain(&e), "could not keep a translation");
            }
            translated
        }
        Err(Failure::NotConfigured) => Message::new("translate-not-configured").text(&lang),
        Err(e @ Failure::Service(_)) => {
            tracing::warn!(error = %e, "translation failed");
            let (user, day) = (me.id, now.date());
            let refunded = state
                .db
                .run(move |conn| translation::refund(conn, user, characters, day))
                .await;
            if let Err(e) = refunded {
                tracing::warn!(error = %chain(&e), "could not give back a failed translation's budget");
            }
            Message::new("translate-failed").text(&lang)
        }
    };
    Ok(HttpResponse::Ok().json(serde_json::json!({ "text": answer })))
}

/// `/health` (port addition, chapters 17-19): for load balancers and process managers. 200 when
/// the database answers, 503 when it does not. Touches no session and sets no cookie.
pub async fn health(state: web::Data<State>) -> Result<HttpResponse, AppError> {
    Ok(match state.db.ping().await {
        Ok(()) => HttpResponse::Ok().json(serde_json::json!({"status": "ok"})),
        Err(e) => {
            tracing::warn!(error = %chain(&e), "health check failed");
            HttpResponse::ServiceUnavailable()
                .json(serde_json::json!({"status": "unavailable", "error": "database"}))
        }
    })
}

/// A post's or a message's id in a URL: digits that make a number above 0; anything else names
/// nothing (a 404).
pub(super) fn id_in_path(path: &str) -> Result<i32, AppError> {
    path.parse::<i32>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or(AppError::NotFound)
}

/// The page a request came from, when it is a page of this site (the `Referer`'s path and
/// query, if it passes the rules of a safe `next`).
fn came_from(req: &HttpRequest) -> Option<String> {
    let referer = req.headers().get(header::REFERER)?.to_str().ok()?;
    let rest = referer
        .strip_prefix("http://")
        .or_else(|| referer.strip_prefix("https://"))?;
    let (host, here) = rest.split_at(rest.find('/')?);
    if host != req.connection_info().host() {
        return None;
    }
    // A fragment is never sent, but a hand-made header may hold one.
    let here = here.split('#').next().unwrap_or(here);
    safe_next(Some(here))
}

/// `GET /delete_post/<id>/confirm` (a port addition): the page that asks before one of your
/// posts is deleted, with the post and a button; it works without JavaScript. It comes back to
/// the page the Delete link was on.
pub async fn confirm_delete_post(
    page: Page,
    CurrentUser(me): CurrentUser,
    path: web::Path<String>,
    state: web::Data<State>,
) -> Result<HttpResponse, AppError> {
    let id = id_in_path(&path)?;
    let found = state.db.run(move |conn| post::find(conn, id)).await?;
    let post = found.ok_or(AppError::NotFound)?;
    if post.user_id != me.id {
        return Err(AppError::Forbidden);
    }
    let context = serde_json::json!({
        "post": views::PostView::new(&post, &page.lang(), me.id),
        "next": came_from(page.request()).unwrap_or_else(|| "/index".to_owned()),
    });
    page.render(
        "delete_post.html",
        Message::new("title-delete-post"),
        &context,
    )
}

/// `POST /delete_post/<id>` (a port addition): deletes one of your posts everywhere at once
/// (timelines, counts, search, the API, later exports, kept translations), then goes back to
/// the page it came from (a safe `next`), else `/index`. Someone else's post: 403, nothing
/// changed; no such post (or deleted meanwhile): 404.
pub async fn delete_post(
    page: Page,
    CurrentUser(me): CurrentUser,
    CsrfForm(input): CsrfForm<DeletePostInput>,
    path: web::Path<String>,
    state: web::Data<State>,
) -> Result<HttpResponse, AppError> {
    let id = id_in_path(&path)?;
    let languages = state.languages.codes();
    // Servers that follow the author are sent a Delete, queued with the deletion.
    let federation = state.federation.clone();
    let done = state
        .db
        .run(move |conn| {
            let me = (me.id, me.username.as_str());
            federation::unpublish(conn, federation.as_ref(), id, me, &languages)
        })
        .await?;
    if let Some(federation) = &state.federation {
        federation.wake();
    }
    match done {
        PostDeletion::Deleted => {}
        PostDeletion::NotYours => return Err(AppError::Forbidden),
        PostDeletion::Missing => return Err(AppError::NotFound),
    }
    state.fragments.forget(id);
    state.db.scrub_soon();
    page.flash(Kind::Success, Message::new("flash-post-deleted"));
    let next = safe_next(Some(&input.next)).unwrap_or_else(|| "/index".to_owned());
    Ok(redirect(&next))
}
