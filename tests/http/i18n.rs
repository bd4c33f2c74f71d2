//! Chapter 13: the site in the browser's language (English or Spanish), the language menu,
//! plurals, mails in the asker's language; and what users stumbled on while every template was
//! open (flash colours, the sessions page, the empty timeline, the password hint).

use std::time::Duration;

use diesel::prelude::*;

use crate::common::{Browser, PASSWORD, TestApp, flashes_of, spawn_app, spawn_app_with};
use crate::smtp::SmtpServer;

/// A logged-in browser that asks for Spanish.
async fn in_spanish(app: &TestApp, username: &str) -> Browser {
    let mut browser = app.logged_in(username, false).await;
    browser.accept_language = Some("es-ES,es;q=0.9,en;q=0.5".into());
    browser
}

#[actix_web::test]
async fn a_browser_asking_for_spanish_gets_every_page_in_spanish() {
    let app = spawn_app().await;
    let mut susan = in_spanish(&app, "susan").await;

    let index = susan.get("/index").await;
    assert_eq!(index.status, 200);
    assert!(index.body.contains("<html lang=\"es\">"), "{}", index.body);
    for words in [
        "¡Hola, susan!",
        ">Inicio<",
        ">Explorar<",
        "Di algo",
        ">Enviar<",
        ">Salir<",
    ] {
        assert!(index.body.contains(words), "{words}: {}", index.body);
    }
    assert!(!index.body.contains("Say something"));
    // A shared cache keeps one copy per language.
    assert!(
        index
            .header("vary")
            .unwrap_or_default()
            .contains("Accept-Language")
    );

    // A form error and a flash, in Spanish.
    let token = index.csrf_token().unwrap();
    let empty = susan
        .post("/index", &[("csrf_token", &token), ("post", "  ")])
        .await;
    assert_eq!(empty.status, 422);
    assert!(
        empty.body.contains("Este campo es obligatorio."),
        "{}",
        empty.body
    );
    let posted = susan
        .post("/index", &[("csrf_token", &token), ("post", "hola")])
        .await;
    assert_eq!(posted.status, 302);
    assert_eq!(
        susan.flashes("/index").await,
        ["¡Tu artículo ha sido publicado!"]
    );

    // Pages of anonymous visitors, and error pages.
    let mut visitor = app.browser();
    visitor.accept_language = Some("es".into());
    let login = visitor.get("/auth/login").await;
    for words in [
        ">Ingresar</h1>",
        "Nombre de usuario",
        "Contraseña",
        "Recordarme",
        "¿Usuario nuevo?",
    ] {
        assert!(login.body.contains(words), "{words}: {}", login.body);
    }
    let missing = visitor.get("/no/such/page").await;
    assert_eq!(missing.status, 404);
    assert!(missing.body.contains("No encontrado"), "{}", missing.body);
    assert!(missing.body.contains("<html lang=\"es\">"));
    assert!(
        missing.set_cookie("session").is_none(),
        "a 404 starts no session"
    );
    assert!(
        missing
            .header("vary")
            .unwrap_or_default()
            .contains("Accept-Language")
    );
    let redirected = visitor.get("/explore").await;
    assert_eq!(redirected.status, 302);
    assert_eq!(
        visitor.flashes("/auth/login").await,
        ["Por favor ingresa para acceder a esta página."]
    );
}

#[actix_web::test]
async fn the_language_is_the_best_match_by_quality_and_english_otherwise() {
    let app = spawn_app().await;
    let cases = [
        ("es", "es"),
        ("en;q=0.3, es;q=0.9", "es"),
        ("es-MX", "es"),
        ("fr, de;q=0.8", "en"),
        ("fr, es;q=0.1", "es"),
        ("es;q=0, en;q=0.5", "en"),
        ("", "en"),
        (";;q=x, *, ,,", "en"),
    ];
    for (header, expected) in cases {
        let mut browser = app.browser();
        browser.accept_language = (!header.is_empty()).then(|| header.to_owned());
        let page = browser.get("/auth/login").await;
        assert_eq!(page.status, 200, "{header}");
        assert!(
            page.body.contains(&format!("<html lang=\"{expected}\">")),
            "{header:?} should give {expected}"
        );
    }
}

#[actix_web::test]
async fn the_language_menu_overrides_the_browser_and_works_logged_out() {
    let app = spawn_app().await;
    let mut visitor = app.browser();
    visitor.accept_language = Some("en".into());
    let login = visitor.get("/auth/login").await;
    assert!(login.body.contains("action=\"/language\""));
    assert!(login.body.contains(">Español</button>"));

    let chosen = visitor
        .post("/language", &[("lang", "es"), ("next", "/auth/register")])
        .await;
    assert_eq!(chosen.status, 302);
    assert_eq!(chosen.location(), Some("/auth/register"));
    let cookie = chosen.set_cookie("lang").expect("a lang cookie");
    assert_eq!(cookie.value(), "es");
    assert_eq!(cookie.http_only(), Some(true));
    let register = visitor.get("/auth/register").await;
    assert!(register.body.contains("<html lang=\"es\">"));
    assert!(register.body.contains("Repetir la contraseña"));

    // Back to English; a `next` off the site goes home; an unknown language is refused.
    let back = visitor
        .post("/language", &[("lang", "en"), ("next", "//evil.example/")])
        .await;
    assert_eq!(back.location(), Some("/index"));
    assert!(
        visitor
            .get("/auth/login")
            .await
            .body
            .contains("<html lang=\"en\">")
    );
    let unknown = visitor.post("/language", &[("lang", "xx")]).await;
    assert_eq!(unknown.status, 400);
    assert!(
        unknown.body.contains("not available in xx"),
        "{}",
        unknown.body
    );
    // The menu of a page answering a POST comes back home, not to a URL that only takes POSTs.
    assert!(unknown.body.contains("name=\"next\" value=\"/index\""));
    let garbage = visitor.post_raw("/language", b"lang=%FF".to_vec()).await;
    assert_eq!(garbage.status, 400);
}

#[actix_web::test]
async fn plurals_are_right_in_both_languages() {
    let app = spawn_app().await;
    let mut susan = app.logged_in("susan", false).await;
    let mut john = app.logged_in("john", false).await;
    let token = john.get("/user/susan").await.csrf_token().unwrap();
    john.post(
        "/follow/susan",
        &[("csrf_token", &token), ("submit", "Follow")],
    )
    .await;

    let english = susan.get("/user/susan").await.body;
    assert!(
        english.contains("<span class=\"followers-count\">1</span> follower,"),
        "{english}"
    );
    assert!(english.contains("<span class=\"following-count\">0</span> following."));
    let johns = susan.get("/user/john").await.body;
    assert!(johns.contains("<span class=\"followers-count\">0</span> followers,"));

    susan.accept_language = Some("es".into());
    let spanish = susan.get("/user/susan").await.body;
    assert!(
        spanish.contains("<span class=\"followers-count\">1</span> seguidor,"),
        "{spanish}"
    );
    let johns = susan.get("/user/john").await.body;
    assert!(johns.contains("<span class=\"followers-count\">0</span> seguidores,"));
    assert!(johns.contains("Usuario: john"));
}

#[actix_web::test]
async fn a_post_is_shown_in_each_readers_language_from_the_cache() {
    let app = spawn_app().await;
    let mut susan = app.logged_in("susan", false).await;
    let token = susan.get("/index").await.csrf_token().unwrap();
    susan
        .post("/index", &[("csrf_token", &token), ("post", "one post")])
        .await;
    // The same post, kept once per language: English, Spanish, English again.
    for (lang, said) in [
        ("en", ">said <time"),
        ("es", ">dijo <time"),
        ("en", ">said <time"),
    ] {
        susan.accept_language = Some(lang.into());
        let page = susan.get("/explore").await.body;
        assert!(page.contains(said), "{lang}: {page}");
    }
}

/// The language each post is written in, as stored.
fn languages(app: &TestApp) -> Vec<(String, Option<String>)> {
    use microblog::schema::posts;
    let mut conn = app.database().get().expect("connection");
    posts::table
        .order(posts::id)
        .select((posts::body, posts::language))
        .load(&mut *conn)
        .expect("posts")
}

#[actix_web::test]
async fn each_post_gets_its_language_and_other_readers_a_translate_link() {
    let app = spawn_app().await;
    let mut juan = app.logged_in("juan", false).await;
    let token = juan.get("/index").await.csrf_token().unwrap();
    let spanish = "Hoy hace muy buen tiempo en la ciudad y vamos a pasear por el parque.";
    let english = "The weather is lovely today and we are going for a walk in the park.";
    for body in [spanish, english, "ok"] {
        let res = juan
            .post("/index", &[("csrf_token", &token), ("post", body)])
            .await;
        assert_eq!(res.status, 302);
    }
    assert_eq!(
        languages(&app),
        [
            (spanish.to_owned(), Some("es".to_owned())),
            (english.to_owned(), Some("en".to_owned())),
            // Too short to tell: unknown, and never offered for translation.
            ("ok".to_owned(), None),
        ]
    );

    let in_english = juan.get("/explore").await.body;
    assert_eq!(
        in_english.matches("class=\"translate-link\"").count(),
        1,
        "{in_english}"
    );
    assert!(in_english.contains("data-from=\"es\" data-to=\"en\">Translate</a>"));
    juan.accept_language = Some("es".into());
    let in_spanish = juan.get("/explore").await.body;
    assert_eq!(in_spanish.matches("class=\"translate-link\"").count(), 1);
    assert!(in_spanish.contains("data-from=\"en\" data-to=\"es\">Traducir</a>"));
    // The words the page's JavaScript writes, in the page's language.
    assert!(
        in_spanish
            .contains("data-text-translate-failed=\"Error: no se pudo contactar al servidor.\"")
    );
}

#[actix_web::test]
async fn the_reset_mail_is_written_in_the_language_of_the_page_that_asked() {
    let smtp = SmtpServer::start();
    let port = smtp.port.to_string();
    let app = spawn_app_with(&[
        ("MAIL_SERVER", "127.0.0.1"),
        ("MAIL_PORT", port.as_str()),
        ("MAIL_DEFAULT_SENDER", "microblog@example.com"),
    ])
    .await;
    app.register("susan").await;
    let mut visitor = app.browser();
    visitor.accept_language = Some("es".into());
    let res = visitor
        .submit(
            "/auth/reset_password_request",
            "/auth/reset_password_request",
            &[("email", "susan@example.com")],
        )
        .await;
    assert_eq!(res.status, 302);
    assert_eq!(
        visitor.flashes("/auth/login").await,
        ["Busca en tu correo las instrucciones para restablecer tu contraseña"]
    );
    let mail = smtp.wait_for(1, Duration::from_secs(20)).await.remove(0);
    assert_eq!(
        decoded(&mail.header("Subject").expect("a subject")),
        "[Microblog] Restablece tu contraseña"
    );
    let text = mail.text();
    assert!(text.contains("Hola susan:"), "{text}");
    assert!(text.contains("durante 10 minutos"), "{text}");
}

/// A header with its RFC 2047 words (`=?utf-8?b?...?=`) decoded.
fn decoded(header: &str) -> String {
    use base64::Engine as _;
    let mut out = String::new();
    let mut rest = header;
    while let Some(start) = rest.find("=?utf-8?b?") {
        out.push_str(&rest[..start]);
        let word = &rest[start + "=?utf-8?b?".len()..];
        let end = word.find("?=").expect("an encoded word's end");
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(&word[..end])
            .expect("base64");
        out.push_str(&String::from_utf8(bytes).expect("UTF-8"));
        rest = &word[end + 2..];
    }
    out.push_str(rest);
    out
}

#[actix_web::test]
async fn flash_messages_are_coloured_by_kind() {
    let app = spawn_app().await;
    let mut susan = app.logged_in("susan", false).await;
    let token = susan.get("/index").await.csrf_token().unwrap();
    susan
        .post("/index", &[("csrf_token", &token), ("post", "hello")])
        .await;
    let page = susan.get("/index").await.body;
    assert!(
        page.contains(
            "alert alert-success flash flash-success\" role=\"alert\">Your post is now live!"
        ),
        "{page}"
    );

    let mut stranger = app.browser();
    stranger.login("susan", "wrong password", false).await;
    let page = stranger.get("/auth/login").await.body;
    assert!(
        page.contains(
            "alert-danger flash flash-error\" role=\"alert\">Invalid username or password"
        )
    );
    stranger.get("/index").await;
    let page = stranger.get("/auth/login").await.body;
    assert!(page.contains("alert-info flash flash-info\" role=\"alert\">Please log in"));
    assert_eq!(flashes_of(&page), ["Please log in to access this page."]);
}

#[actix_web::test]
async fn the_sessions_page_names_browsers_and_writes_dates_like_other_pages() {
    let app = spawn_app().await;
    let mut laptop = app.register("susan").await;
    laptop.user_agent = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) \
                         Chrome/131.0.0.0 Safari/537.36"
        .into();
    laptop.login("susan", PASSWORD, false).await;
    let page = laptop.get("/auth/sessions").await.body;
    assert!(
        page.contains(">Chrome on Linux <span class=\"badge"),
        "{page}"
    );
    assert!(page.contains("title=\"Mozilla/5.0 (X11; Linux x86_64)"));
    assert!(page.contains("data-relative>"), "dates as on posts: {page}");
    assert!(!page.contains("<table"), "a list, which fits a phone");
    laptop.accept_language = Some("es".into());
    let page = laptop.get("/auth/sessions").await.body;
    assert!(page.contains(">Chrome en Linux <span class=\"badge text-bg-success\">este navegador"));
}

#[actix_web::test]
async fn a_new_users_empty_timeline_says_what_to_do_and_shows_no_pager() {
    let app = spawn_app().await;
    let mut susan = app.logged_in("susan", false).await;
    let index = susan.get("/index").await.body;
    assert!(index.contains("class=\"empty-timeline"), "{index}");
    assert!(index.contains("<a href=\"/explore\">Explore</a>"));
    assert!(
        !index.contains("class=\"pagination\""),
        "no pager with nothing to page"
    );

    // The password rules sit under the password field, which points at them.
    let mut visitor = app.browser();
    let register = visitor.get("/auth/register").await.body;
    let field = register.find("id=\"password\"").expect("password field");
    let hint = register.find("id=\"password-hint\"").expect("hint");
    let second = register.find("id=\"password2\"").expect("second field");
    assert!(field < hint && hint < second, "{register}");
    assert!(register.contains("aria-describedby=\"password-hint\""));

    // The placeholder shown when Gravatar cannot be reached is the site's own.
    let placeholder = visitor.get("/static/img/avatar.svg").await;
    assert_eq!(placeholder.status, 200);
    assert!(placeholder.body.starts_with("<svg"));

    // The site's icon: named by every page, and where browsers look when a page names none.
    assert!(register.contains(r#"<link rel="icon" href="/static/img/favicon.svg""#));
    let icon = visitor.get("/static/img/favicon.svg").await;
    assert_eq!(icon.status, 200);
    assert!(icon.body.starts_with("<svg"));
    let ico = visitor.get("/favicon.ico").await;
    assert_eq!(ico.status, 200);
    assert_eq!(ico.header("content-type"), Some("image/x-icon"));
}
