//! What the main blueprint's templates are given: each page's context, and a post or a user as
//! a template shows them. Handlers (`routes.rs`) read rows and hand them over to these.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use fluent_templates::LanguageIdentifier;
use serde::Serialize;

use crate::activity::ActivityTracker;
use crate::error::AppError;
use crate::form::FormView;
use crate::fragments::{Fragments, PageInputs};
use crate::i18n::Message;
use crate::models::post::PostWithAuthor;
use crate::models::user::{self, avatar_url};
use crate::moment::Moment;
use crate::pagination::{Paginated, Pagination};
use crate::render::{Page, Templates};
use crate::search::Found;
use crate::urls::{encode_component, user_url};

/// A post as `_post.html` shows it to a reader of `lang`.
#[derive(Serialize)]
pub struct PostView {
    id: i32,
    body: String,
    author: String,
    author_url: String,
    avatar: String,
    timestamp: Moment,
    /// The post's language when it is not the reader's: the Translate link is shown.
    translate_from: Option<String>,
    translate_to: String,
    /// Search results only: the body HTML-escaped with the matched words marked.
    highlighted: Option<String>,
    /// A post from another server: its HTML, sanitised when it was received
    /// (`federation::html`), shown as it is.
    body_html: Option<String>,
    /// The reader wrote it: a Delete link.
    own: bool,
    /// The post's language as a BCP 47 tag, for the body's `lang` (a screen reader then reads
    /// it in that language's voice); `None` when unknown or not a valid tag.
    lang: Option<String>,
}

impl PostView {
    /// Post `p` as user `reader` sees it in `lang`.
    pub fn new(p: &PostWithAuthor, lang: &LanguageIdentifier, reader: i32) -> Self {
        let translate_from = p
            .language
            .as_deref()
            .filter(|l| !l.is_empty() && *l != lang.language.as_str())
            .map(str::to_owned);
        Self {
            id: p.id,
            body: p.body.clone(),
            author: p.author.clone(),
            author_url: user_url(&p.author),
            avatar: avatar_url(&p.author_email, 36),
            timestamp: p.timestamp.into(),
            translate_from,
            translate_to: lang.language.as_str().to_owned(),
            highlighted: None,
            body_html: p.body_html.clone(),
            own: p.user_id == reader,
            lang: p.language.as_deref().and_then(language_tag),
        }
    }
}

/// `stored` as a BCP 47 language tag (`es`, `zh-Hant`), canonical; `None` for an empty or
/// malformed one, or `und` (undetermined).
fn language_tag(stored: &str) -> Option<String> {
    let id: LanguageIdentifier = stored.parse().ok()?;
    let tag = id.to_string();
    (tag != "und").then_some(tag)
}

/// What `_post.html` is rendered with.
#[derive(Serialize)]
struct OnePost {
    post: PostView,
}

/// Search results (chapter 16): each post's `_post.html` with its matched words marked. These
/// are not kept (`Fragments`): the marks depend on the query.
pub fn search_results(
    page: &Page,
    found: Paginated<Found>,
    url: &str,
    templates: &Templates,
) -> Result<(Vec<tera::Value>, Pagination), AppError> {
    let pagination = found.links(url);
    let lang = page.lang();
    let reader = page.user().map_or(0, |u| u.id);
    let posts = found
        .items
        .into_iter()
        .map(|f| {
            let mut post = PostView::new(&f.post, &lang, reader);
            post.highlighted = Some(f.highlighted);
            let html = templates.render("_post.html", &lang, &OnePost { post })?;
            Ok(tera::Value::safe_string(&html))
        })
        .collect::<Result<_, AppError>>()?;
    Ok((posts, pagination))
}

/// `search.html`: the query, what was found, and why nothing could be (a query too long).
#[derive(Serialize)]
pub struct SearchContext {
    pub q: String,
    pub posts: Vec<tera::Value>,
    pub pagination: Pagination,
    pub error: Option<Message>,
}

/// A page of posts: each post's `_post.html` ([`Fragments`]) and the links around the page,
/// which is at `url`.
pub fn posts(
    page: &Page,
    rows: Paginated<PostWithAuthor>,
    url: &str,
    fragments: &Fragments,
) -> Result<(Vec<tera::Value>, Pagination), AppError> {
    let pagination = rows.links(url);
    let lang = page.lang();
    let reader = page.user().map_or(0, |u| u.id);
    let posts = fragments.posts(rows.items, &lang, reader, |row| {
        PostView::new(row, &lang, reader)
    })?;
    Ok((posts, pagination))
}

/// `index.html`: the timeline (with the post form) or `/explore` (without).
#[derive(Serialize)]
pub struct PostsContext {
    /// The "Say something" form; absent on `/explore`.
    pub form: Option<FormView>,
    pub posts: Vec<tera::Value>,
    pub pagination: Pagination,
}

/// The timeline page: the post form (empty, or as typed with its errors) and the posts.
pub fn render_index(
    page: &Page,
    timeline: Paginated<PostWithAuthor>,
    fragments: &Fragments,
    form: FormView,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let title = Message::new("title-home");
    posts_page(
        page,
        timeline,
        "/index",
        fragments,
        Some(form),
        title,
        status,
    )
}

/// `index.html` with a page of posts: `/index` (with the form) and `/explore`. A page with
/// only the posts (status 200, no flashed message) is kept for the login it was shown to, and
/// sent again while everything it was made from is the same (`src/fragments.rs`).
pub fn posts_page(
    page: &Page,
    rows: Paginated<PostWithAuthor>,
    url: &str,
    fragments: &Fragments,
    form: Option<FormView>,
    title: Message,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let user = match page.user() {
        Some(user) if status == StatusCode::OK && !page.flash_waiting() => user,
        _ => {
            let (posts, pagination) = posts(page, rows, url, fragments)?;
            let context = PostsContext {
                form,
                posts,
                pagination,
            };
            return page.render_status(status, "index.html", title, &context);
        }
    };
    let (here, csrf_token) = page.here_and_token();
    let pagination = rows.links(url);
    let inputs = PageInputs {
        template: "index.html",
        lang: page.lang(),
        here,
        csrf_token,
        user: user.clone(),
        rows: rows.items,
        pagination,
    };
    if let Some(html) = fragments.page(user.login_session_id, &inputs) {
        return Ok(page.send(status, html));
    }
    let lang = &inputs.lang;
    let posts = fragments.posts(inputs.rows.clone(), lang, user.id, |row| {
        PostView::new(row, lang, user.id)
    })?;
    let context = PostsContext {
        form,
        posts,
        pagination: inputs.pagination.clone(),
    };
    let html = page.render_to_keep("index.html", title, &context)?;
    fragments.keep_page(user.login_session_id, inputs, html.clone());
    Ok(page.send(status, html))
}

/// A user as the profile page and the popup show them.
#[derive(Serialize)]
pub struct ProfileView {
    id: i32,
    pub username: String,
    pub url: String,
    avatar: String,
    avatar_small: String,
    about_me: Option<String>,
    /// A local user's last visit. None for a remote account: this server never sees its visits
    /// (its row's `last_seen` is when it was first fetched).
    last_seen: Option<Moment>,
    followers: i64,
    following: i64,
    is_self: bool,
    is_following: bool,
    is_blocking: bool,
    message_url: String,
    /// An account of another server (`name@host`): no private messages, which would never
    /// leave this one.
    remote: bool,
    /// A remote account's server (`host` of `name@host`).
    server: Option<String>,
    /// A remote account's own page on its server: its actor id, when that is an http(s) URL.
    home_page: Option<String>,
}

impl ProfileView {
    /// `profile` as a page shows it; `actor_id` is a remote account's actor id (`None` for a
    /// local user).
    pub fn new(profile: user::Profile, actor_id: Option<&str>, activity: &ActivityTracker) -> Self {
        let user::Profile {
            user,
            followers,
            following,
            is_self,
            is_following,
            is_blocking,
        } = profile;
        let server = user
            .username
            .split_once('@')
            .map(|(_, host)| host.to_owned());
        // A visit noted in memory but not yet written is fresher than the stored value.
        let last_seen = server.is_none().then(|| {
            activity
                .last_seen(user.id)
                .map_or(user.last_seen, |noted| noted.max(user.last_seen))
                .into()
        });
        Self {
            id: user.id,
            url: user_url(&user.username),
            avatar: avatar_url(&user.email, 128),
            avatar_small: avatar_url(&user.email, 64),
            about_me: user.about_me,
            last_seen,
            followers,
            following,
            is_self,
            is_following,
            is_blocking,
            message_url: format!("/send_message/{}", encode_component(&user.username)),
            remote: server.is_some(),
            home_page: server.as_ref().and(actor_id).and_then(web_page),
            server,
            username: user.username,
        }
    }
}

/// `uri` as a link for a page, when it is an absolute http or https URL with a host: another
/// server's word, so nothing else (`javascript:`, `data:`...) becomes a link.
fn web_page(uri: &str) -> Option<String> {
    let url = url::Url::parse(uri).ok()?;
    let web = matches!(url.scheme(), "http" | "https") && url.host_str().is_some();
    web.then(|| url.to_string())
}

/// `user.html`: the profile and the user's posts.
#[derive(Serialize)]
pub struct UserContext {
    pub user: ProfileView,
    pub posts: Vec<tera::Value>,
    pub pagination: Pagination,
    /// One's own profile: the export that can be downloaded (chapter 22).
    pub export: Option<ExportLink>,
    /// One's own profile: the last export failed.
    pub export_failed: bool,
}

/// Where one's latest export is, and until when.
#[derive(Serialize)]
pub struct ExportLink {
    pub url: String,
    pub until: Moment,
}

/// `user_popup.html`: the hover card.
#[derive(Serialize)]
pub struct PopupContext {
    pub user: ProfileView,
}

#[cfg(test)]
mod tests {
    use actix_web::web;
    use chrono::NaiveDate;

    use super::{PostView, language_tag, web_page};
    use crate::fragments::Fragments;
    use crate::i18n;
    use crate::models::post::PostWithAuthor;
    use crate::render::Templates;

    fn row(id: i32, body: &str, author: &str) -> PostWithAuthor {
        PostWithAuthor {
            id,
            user_id: 1,
            body: body.to_owned(),
            language: Some("es".to_owned()),
            timestamp: NaiveDate::from_ymd_opt(2026, 11, 22)
                .and_then(|d| d.and_hms_opt(13, 5, 0))
                .expect("a valid time"),
            author: author.to_owned(),
            author_email: format!("{author}@example.com"),
            body_html: None,
        }
    }

    /// Only a valid BCP 47 tag becomes a post body's `lang`, in its canonical form.
    #[test]
    fn a_post_language_is_a_lang_only_when_it_is_a_valid_tag() {
        assert_eq!(language_tag("es").as_deref(), Some("es"));
        assert_eq!(language_tag("zh-hant").as_deref(), Some("zh-Hant"));
        assert_eq!(language_tag("pt-br").as_deref(), Some("pt-BR"));
        for bad in [
            "",
            "und",
            "e",
            "english!",
            "en US",
            "\"><script>",
            "toolongtoolong",
        ] {
            assert_eq!(language_tag(bad), None, "{bad:?}");
        }
        let mut post = row(1, "hola a todos", "susan");
        let en = i18n::english();
        let html = serde_json::to_string(&PostView::new(&post, &en, 2)).expect("json");
        assert!(html.contains("\"lang\":\"es\""), "{html}");
        post.language = None;
        let html = serde_json::to_string(&PostView::new(&post, &en, 2)).expect("json");
        assert!(html.contains("\"lang\":null"), "{html}");
    }

    /// A remote account's page is linked only when its actor id is an http(s) URL.
    #[test]
    fn only_http_and_https_pages_are_linked() {
        assert_eq!(
            web_page("https://social.example/users/bob").as_deref(),
            Some("https://social.example/users/bob")
        );
        assert_eq!(
            web_page("http://127.0.0.1:5001/user/bob").as_deref(),
            Some("http://127.0.0.1:5001/user/bob")
        );
        for bad in [
            "javascript:alert(1)",
            "data:text/html,x",
            "ftp://example.org/bob",
            "/user/bob",
            "mailto:bob@example.org",
            "https:",
        ] {
            assert_eq!(web_page(bad), None, "{bad:?}");
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
        let (en, es) = (i18n::english(), "es".parse().expect("es"));
        let first = vec![row(1, "a <b>", "susan"), row(2, "two", "john")];

        let shown = texts(
            &fragments
                .posts(first.clone(), &en, 2, |r| PostView::new(r, &en, 2))
                .expect("render"),
        );
        assert!(shown[0].contains("a &lt;b&gt;") && shown[0].contains(">susan</a>"));
        assert!(shown[0].contains("id=\"post-1\"") && shown[1].contains("id=\"post-2\""));
        assert_eq!(
            texts(
                &fragments
                    .posts(first.clone(), &en, 2, |r| PostView::new(r, &en, 2))
                    .expect("again")
            ),
            shown
        );

        // Readers of the post's own language get no Translate link, others do; each language
        // is kept apart.
        assert!(shown[0].contains("translate-link"));
        let in_spanish = texts(
            &fragments
                .posts(first, &es, 2, |r| PostView::new(r, &es, 2))
                .expect("in Spanish"),
        );
        assert!(!in_spanish[0].contains("translate-link") && in_spanish[0].contains("dijo"));

        let renamed = vec![row(1, "a <b>", "José"), row(2, "two, edited", "john")];
        let again = texts(
            &fragments
                .posts(renamed, &en, 2, |r| PostView::new(r, &en, 2))
                .expect("renamed"),
        );
        assert!(again[0].contains(">José</a>") && again[0].contains("href=\"/user/Jos%C3%A9\""));
        assert!(!again[0].contains("susan"));
        assert!(again[1].contains("two, edited"));

        let long: Vec<_> = (10..15)
            .map(|id| row(id, &format!("post {id}"), "ann"))
            .collect();
        let shown = texts(
            &fragments
                .posts(long, &en, 2, |r| PostView::new(r, &en, 2))
                .expect("long page"),
        );
        assert_eq!(shown.len(), 5);
        for (id, html) in (10..15).zip(&shown) {
            assert!(html.contains(&format!("post {id}")));
        }
        assert!(fragments.kept() <= 3, "kept {}", fragments.kept());

        // Its author sees a Delete link on it, kept apart from what others see; a deleted
        // post's fragments are dropped.
        let fragments =
            Fragments::with_capacity(web::Data::new(Templates::load().expect("templates")), 10);
        let posts = vec![row(1, "mine", "susan")];
        let as_author = texts(
            &fragments
                .posts(posts.clone(), &en, 1, |r| PostView::new(r, &en, 1))
                .expect("as its author"),
        );
        assert!(as_author[0].contains("href=\"/delete_post/1/confirm\""));
        let as_reader = texts(
            &fragments
                .posts(posts, &en, 2, |r| PostView::new(r, &en, 2))
                .expect("as another reader"),
        );
        assert!(!as_reader[0].contains("delete_post"));
        assert_eq!(fragments.kept(), 2);
        fragments.forget(1);
        assert_eq!(fragments.kept(), 0);
    }
}
