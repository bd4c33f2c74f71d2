//! Flask: `app/main/routes.py`.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{Datelike, NaiveDateTime, Timelike};
use diesel::QueryResult;
use serde::Serialize;

use super::forms::{EDIT_PROFILE_FIELDS, EditProfileInput, POST_FIELDS, PostInput};
use crate::config::Config;
use crate::csrf::{CsrfForm, NoFields};
use crate::db::{Db, DbConn};
use crate::domain::page_number;
use crate::error::AppError;
use crate::flash::flash;
use crate::form::FormView;
use crate::fragments::Fragments;
use crate::login::{AuthUser, CurrentUser, LoginManager, LoginRequired};
use crate::models::post::{Feed, NewPost, PostWithAuthor};
use crate::models::user::{self, User, avatar_url};
use crate::models::{self, post};
use crate::render::{Page, redirect};

/// `/user/<name>`, with the name percent-encoded.
fn user_url(username: &str) -> String {
    let mut url = String::with_capacity("/user/".len() + username.len());
    url.push_str("/user/");
    crate::form::push_encoded_component(&mut url, username);
    url
}

/// A date for machines (ISO 8601, UTC) and for people without JavaScript (readable UTC).
#[derive(Serialize)]
struct Moment {
    iso: String,
    utc: String,
}

impl From<NaiveDateTime> for Moment {
    /// Digits are written one by one rather than with `format!` or chrono's `format`, which
    /// interpret a pattern and pad each number every time: a page shows 25 of these, and
    /// formatting them showed up as 4% of `/index`'s CPU time in a profile.
    fn from(t: NaiveDateTime) -> Self {
        let (date, time) = (t.date(), t.time());
        // `2026-11-22`; years outside 0..=9999 (which we never store) still come out right.
        let mut day = String::with_capacity(10);
        match u32::try_from(date.year()) {
            Ok(y) if y <= 9999 => push_digits(&mut day, y, 4),
            _ => day.push_str(&date.year().to_string()),
        }
        for (sep, n) in [('-', date.month()), ('-', date.day())] {
            day.push(sep);
            push_digits(&mut day, n, 2);
        }
        let mut iso = String::with_capacity(day.len() + 10);
        let mut utc = String::with_capacity(day.len() + 10);
        iso.push_str(&day);
        utc.push_str(&day);
        for (sep, n) in [('T', time.hour()), (':', time.minute())] {
            iso.push(sep);
            utc.push(if sep == 'T' { ' ' } else { sep });
            push_digits(&mut iso, n, 2);
            push_digits(&mut utc, n, 2);
        }
        iso.push(':');
        push_digits(&mut iso, time.second(), 2);
        iso.push('Z');
        utc.push_str(" UTC");
        Self { iso, utc }
    }
}

/// Appends the last `width` decimal digits of `n`, zero-padded.
fn push_digits(out: &mut String, n: u32, width: u32) {
    for place in (0..width).rev() {
        let digit = n / 10u32.pow(place) % 10;
        out.push(char::from(b'0' + digit as u8));
    }
}

/// A post as `_post.html` shows it.
#[derive(Serialize)]
struct PostView {
    id: i32,
    body: String,
    author: String,
    author_url: String,
    avatar: String,
    timestamp: Moment,
}

impl PostView {
    fn new(p: &PostWithAuthor) -> Self {
        Self {
            id: p.id,
            body: p.body.clone(),
            author: p.author.clone(),
            author_url: user_url(&p.author),
            avatar: avatar_url(&p.author_email, 36),
            timestamp: p.timestamp.into(),
        }
    }
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
    /// Each post's `_post.html` ([`Fragments`]).
    posts: Vec<tera::Value>,
    pagination: Pagination,
}

/// Page `number` of a feed as read from the database: up to one row more than shown (see
/// `models::page_window`), which tells whether a next page exists.
struct FeedPage {
    number: i64,
    per_page: i64,
    rows: Vec<PostWithAuthor>,
}

impl FeedPage {
    /// Reads the page; runs inside a trip to the database.
    fn read(conn: &mut DbConn, feed: Feed, number: i64, per_page: i64) -> QueryResult<Self> {
        let (limit, offset) = models::page_window(number, per_page);
        let rows = post::page(conn, feed, limit, offset)?;
        Ok(Self {
            number,
            per_page,
            rows,
        })
    }

    /// The posts' HTML, and the links to the pages around (at `base_url`).
    fn view(
        mut self,
        base_url: &str,
        fragments: &Fragments,
    ) -> Result<(Vec<tera::Value>, Pagination), AppError> {
        let has_next = self.rows.len() as i64 > self.per_page;
        self.rows.truncate(self.per_page as usize);
        let posts = fragments.posts(self.rows, PostView::new)?;
        let page = self.number;
        let pagination = Pagination {
            page,
            next_url: has_next.then(|| format!("{base_url}?page={}", page + 1)),
            prev_url: (page > 1).then(|| format!("{base_url}?page={}", page - 1)),
        };
        Ok((posts, pagination))
    }
}

/// The timeline page: the post form (empty, or as typed with its errors) and the posts.
fn render_index(
    page: &Page,
    timeline: FeedPage,
    fragments: &Fragments,
    form: FormView,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let (posts, pagination) = timeline.view("/index", fragments)?;
    let ctx = PostsPage {
        form: Some(form),
        posts,
        pagination,
    };
    page.render_status(status, "index.html", "Home", &ctx)
}

/// Flask: main.index (chapters 1-9), GET: the post form and the timeline (own posts and those
/// of followed users). The login check and the timeline are read in one trip to the database.
pub async fn index(
    req: HttpRequest,
    login: LoginRequired,
    db: web::Data<Db>,
    fragments: web::Data<Fragments>,
    config: web::Data<Config>,
) -> actix_web::Result<HttpResponse> {
    let (number, per_page) = (page_number(req.query_string()), config.posts_per_page);
    let (user, timeline) = login
        .read(&db, move |conn, me| {
            FeedPage::read(conn, Feed::Timeline(me), number, per_page)
        })
        .await?;
    let page = Page::new(req, Some(user));
    let form = FormView::new(POST_FIELDS);
    Ok(render_index(
        &page,
        timeline,
        &fragments,
        form,
        StatusCode::OK,
    )?)
}

/// Flask: main.index (chapter 9), POST: publish a post, then Post/Redirect/Get.
pub async fn index_submit(
    req: HttpRequest,
    page: Page,
    CurrentUser(user): CurrentUser,
    CsrfForm(input): CsrfForm<PostInput>,
    db: web::Data<Db>,
    fragments: web::Data<Fragments>,
    config: web::Data<Config>,
) -> Result<HttpResponse, AppError> {
    let user_id = user.id;
    let body = match input.parse() {
        Ok(body) => body,
        Err(form) => {
            let (number, per_page) = (page_number(req.query_string()), config.posts_per_page);
            let timeline = db
                .run(move |conn| FeedPage::read(conn, Feed::Timeline(user_id), number, per_page))
                .await?;
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            return render_index(&page, timeline, &fragments, form, status);
        }
    };
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
    login: LoginRequired,
    db: web::Data<Db>,
    fragments: web::Data<Fragments>,
    config: web::Data<Config>,
) -> actix_web::Result<HttpResponse> {
    let (number, per_page) = (page_number(req.query_string()), config.posts_per_page);
    let (user, everyone) = login
        .read(&db, move |conn, _| {
            FeedPage::read(conn, Feed::Everyone, number, per_page)
        })
        .await?;
    let (posts, pagination) = everyone.view("/explore", &fragments)?;
    let ctx = PostsPage {
        form: None,
        posts,
        pagination,
    };
    Ok(Page::new(req, Some(user)).render("index.html", "Explore", &ctx)?)
}

/// A user as the profile page and the popup show them.
#[derive(Serialize)]
struct Profile {
    id: i32,
    username: String,
    url: String,
    avatar: String,
    avatar_small: String,
    about_me: Option<String>,
    last_seen: Moment,
    followers: i64,
    following: i64,
    is_self: bool,
    is_following: bool,
}

/// A profile as stored: the user, their follower and following counts, and whether the
/// visitor follows them.
struct StoredProfile {
    user: User,
    followers: i64,
    following: i64,
    is_following: bool,
}

impl StoredProfile {
    /// Reads `username` as user `me` sees them; runs inside a trip to the database.
    fn read(conn: &mut DbConn, me: i32, username: &str) -> QueryResult<Option<Self>> {
        let Some(user) = user::find_by_username(conn, username)? else {
            return Ok(None);
        };
        let (followers, following) = user::follow_counts(conn, user.id)?;
        let is_following = user::is_following(conn, me, user.id)?;
        Ok(Some(Self {
            user,
            followers,
            following,
            is_following,
        }))
    }

    fn view(self, lm: &LoginManager, me: &AuthUser) -> Profile {
        let Self { user, .. } = self;
        // A visit noted in memory but not yet written is fresher than the stored value.
        let last_seen = lm
            .activity
            .last_seen(user.id)
            .map_or(user.last_seen, |noted| noted.max(user.last_seen));
        Profile {
            id: user.id,
            url: user_url(&user.username),
            avatar: avatar_url(&user.email, 128),
            avatar_small: avatar_url(&user.email, 64),
            about_me: user.about_me,
            last_seen: last_seen.into(),
            followers: self.followers,
            following: self.following,
            is_self: user.id == me.id,
            is_following: self.is_following,
            username: user.username,
        }
    }
}

#[derive(Serialize)]
struct UserPage {
    user: Profile,
    /// Each post's `_post.html` ([`Fragments`]).
    posts: Vec<tera::Value>,
    pagination: Pagination,
}

/// Flask: main.user (chapter 6): the profile and the user's posts, paginated; with the login
/// check, one trip to the database.
pub async fn user(
    req: HttpRequest,
    login: LoginRequired,
    path: web::Path<String>,
    db: web::Data<Db>,
    fragments: web::Data<Fragments>,
    config: web::Data<Config>,
    lm: web::Data<LoginManager>,
) -> actix_web::Result<HttpResponse> {
    let username = path.into_inner();
    let (number, per_page) = (page_number(req.query_string()), config.posts_per_page);
    let (me, found) = login
        .read(&db, move |conn, me| {
            let Some(profile) = StoredProfile::read(conn, me, &username)? else {
                return Ok(None);
            };
            let feed = Feed::Author(profile.user.id);
            let posts = FeedPage::read(conn, feed, number, per_page)?;
            Ok(Some((profile, posts)))
        })
        .await?;
    let (profile, posts) = found.ok_or(AppError::NotFound)?;
    let profile = profile.view(&lm, &me);
    let (posts, pagination) = posts.view(&profile.url, &fragments)?;
    let title = profile.username.clone();
    let ctx = UserPage {
        user: profile,
        posts,
        pagination,
    };
    Ok(Page::new(req, Some(me)).render("user.html", &title, &ctx)?)
}

#[derive(Serialize)]
struct PopupPage {
    user: Profile,
}

/// Flask: main.user_popup (chapter 20): the hover card, an HTML fragment without the layout.
pub async fn user_popup(
    req: HttpRequest,
    login: LoginRequired,
    path: web::Path<String>,
    db: web::Data<Db>,
    lm: web::Data<LoginManager>,
) -> actix_web::Result<HttpResponse> {
    let username = path.into_inner();
    let (me, found) = login
        .read(&db, move |conn, me| {
            StoredProfile::read(conn, me, &username)
        })
        .await?;
    let profile = found.ok_or(AppError::NotFound)?.view(&lm, &me);
    Ok(
        Page::new(req, Some(me))
            .render_fragment("user_popup.html", &PopupPage { user: profile })?,
    )
}

#[derive(Serialize)]
struct FormPage {
    form: FormView,
}

/// Flask: main.edit_profile (chapter 6), GET: the form, filled in.
pub async fn edit_profile(
    page: Page,
    CurrentUser(me): CurrentUser,
    db: web::Data<Db>,
) -> Result<HttpResponse, AppError> {
    let id = me.id;
    let stored = db
        .run(move |conn| user::find(conn, id))
        .await?
        .ok_or(AppError::NotFound)?;
    let form = FormView::new(EDIT_PROFILE_FIELDS)
        .value("username", &stored.username)
        .value("about_me", stored.about_me.as_deref().unwrap_or_default());
    page.render("edit_profile.html", "Edit Profile", &FormPage { form })
}

/// Flask: main.edit_profile (chapter 6), POST. The username stays unique; keeping your own is
/// fine.
pub async fn edit_profile_submit(
    req: HttpRequest,
    page: Page,
    CurrentUser(me): CurrentUser,
    CsrfForm(input): CsrfForm<EditProfileInput>,
    db: web::Data<Db>,
) -> Result<HttpResponse, AppError> {
    let show_again =
        |form: FormView| page.render("edit_profile.html", "Edit Profile", &FormPage { form });
    let (mut form, change) = input.parse();
    let Some(change) = change else {
        return show_again(form);
    };
    let id = me.id;
    let renamed = change.username.as_str() != me.username;
    let saved = db
        .run(move |conn| {
            if renamed && user::username_taken(conn, change.username.as_str())? {
                return Ok(false);
            }
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
    flash(&req, "Your changes have been saved.");
    Ok(redirect("/edit_profile"))
}

/// Flask: main.follow (chapter 8).
pub async fn follow(
    req: HttpRequest,
    CurrentUser(me): CurrentUser,
    CsrfForm(NoFields {}): CsrfForm<NoFields>,
    path: web::Path<String>,
    db: web::Data<Db>,
) -> Result<HttpResponse, AppError> {
    change_following(&req, &me, path.into_inner(), &db, true).await
}

/// Flask: main.unfollow (chapter 8).
pub async fn unfollow(
    req: HttpRequest,
    CurrentUser(me): CurrentUser,
    CsrfForm(NoFields {}): CsrfForm<NoFields>,
    path: web::Path<String>,
    db: web::Data<Db>,
) -> Result<HttpResponse, AppError> {
    change_following(&req, &me, path.into_inner(), &db, false).await
}

/// Follows or unfollows `username`, with the Flask app's messages.
async fn change_following(
    req: &HttpRequest,
    me: &AuthUser,
    username: String,
    db: &Db,
    follow: bool,
) -> Result<HttpResponse, AppError> {
    let name = username.clone();
    let Some(target) = db
        .run(move |conn| user::find_by_username(conn, &name))
        .await?
    else {
        flash(req, format!("User {username} not found."));
        return Ok(redirect("/index"));
    };
    let back = user_url(&target.username);
    if target.id == me.id {
        let verb = if follow { "follow" } else { "unfollow" };
        flash(req, format!("You cannot {verb} yourself!"));
        return Ok(redirect(&back));
    }
    let (me_id, target_id) = (me.id, target.id);
    if follow {
        db.run(move |conn| user::follow(conn, me_id, target_id))
            .await?;
        flash(req, format!("You are following {username}!"));
    } else {
        db.run(move |conn| user::unfollow(conn, me_id, target_id))
            .await?;
        flash(req, format!("You are not following {username}."));
    }
    Ok(redirect(&back))
}

/// `/health` (port addition, chapters 17-19): for load balancers and process managers. 200 when
/// the database answers, 503 when it does not. Touches no session and sets no cookie.
pub async fn health(db: web::Data<Db>) -> HttpResponse {
    match db.ping().await {
        Ok(()) => HttpResponse::Ok().json(serde_json::json!({"status": "ok"})),
        Err(e) => {
            tracing::warn!(error = %crate::error::chain(&e), "health check failed");
            HttpResponse::ServiceUnavailable()
                .json(serde_json::json!({"status": "unavailable", "error": "database"}))
        }
    }
}

#[cfg(test)]
mod tests {
    use actix_web::web;
    use chrono::NaiveDate;

    use super::{Moment, PostView};
    use crate::fragments::Fragments;
    use crate::models::post::PostWithAuthor;
    use crate::render::Templates;

    fn row(id: i32, body: &str, author: &str) -> PostWithAuthor {
        PostWithAuthor {
            id,
            body: body.to_owned(),
            timestamp: NaiveDate::from_ymd_opt(2026, 11, 22)
                .and_then(|d| d.and_hms_opt(13, 5, 0))
                .expect("a valid time"),
            author: author.to_owned(),
            author_email: format!("{author}@example.com"),
        }
    }

    fn texts(html: &[tera::Value]) -> Vec<String> {
        html.iter().map(ToString::to_string).collect()
    }

    /// A kept post is used only while its row is unchanged, and the cache never grows past
    /// its capacity, even for a page longer than it.
    #[test]
    fn kept_posts_follow_their_rows_and_stay_within_capacity() {
        let templates = web::Data::new(Templates::load().expect("templates"));
        let fragments = Fragments::with_capacity(templates, 3);
        let first = vec![row(1, "a <b>", "susan"), row(2, "two", "john")];

        let shown = texts(
            &fragments
                .posts(first.clone(), PostView::new)
                .expect("render"),
        );
        assert!(shown[0].contains("a &lt;b&gt;") && shown[0].contains(">susan</a>"));
        assert!(shown[0].contains("id=\"post-1\"") && shown[1].contains("id=\"post-2\""));
        assert_eq!(
            texts(&fragments.posts(first, PostView::new).expect("again")),
            shown
        );

        let renamed = vec![row(1, "a <b>", "José"), row(2, "two, edited", "john")];
        let again = texts(&fragments.posts(renamed, PostView::new).expect("renamed"));
        assert!(again[0].contains(">José</a>") && again[0].contains("href=\"/user/Jos%C3%A9\""));
        assert!(!again[0].contains("susan"));
        assert!(again[1].contains("two, edited"));

        let long: Vec<_> = (10..15)
            .map(|id| row(id, &format!("post {id}"), "ann"))
            .collect();
        let shown = texts(&fragments.posts(long, PostView::new).expect("long page"));
        assert_eq!(shown.len(), 5);
        for (id, html) in (10..15).zip(&shown) {
            assert!(html.contains(&format!("post {id}")));
        }
        assert!(fragments.kept() <= 3, "kept {}", fragments.kept());
    }

    /// The hand-written digits say what chrono's formatting says, padding included.
    #[test]
    fn moments_read_like_chronos_own_formatting() {
        let times = [
            (2026, 11, 22, 5, 5, 23),
            (2001, 1, 2, 0, 0, 0),
            (1999, 12, 31, 23, 59, 59),
            (987, 6, 7, 8, 9, 10),
        ];
        for (y, mo, d, h, mi, s) in times {
            let t = NaiveDate::from_ymd_opt(y, mo, d)
                .and_then(|d| d.and_hms_opt(h, mi, s))
                .expect("a valid time");
            let moment = Moment::from(t);
            assert_eq!(moment.iso, t.format("%Y-%m-%dT%H:%M:%SZ").to_string());
            assert_eq!(moment.utc, t.format("%Y-%m-%d %H:%M UTC").to_string());
        }
    }
}
