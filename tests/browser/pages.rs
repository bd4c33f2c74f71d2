//! Every page as real people see it: on a phone and on a desktop, in English and in Spanish,
//! with the longest names and words the forms allow. Each page must fit the screen's width and
//! pass axe-core (the accessibility checker) with no violation at all.
//!
//! axe-core is not part of the app (its Content-Security-Policy would refuse it): the test
//! injects it into each page over WebDriver. `.ci/run` installs it from npm; to run this test
//! yourself, `npm install --prefix target/axe axe-core@4.14`, or point `AXE_CORE_JS` at an
//! `axe.min.js`.

use super::{Chrome, Person, Screen, common, link_in_outbox};
use common::{PASSWORD, TestApp, spawn_app_with};

/// The longest usernames the forms allow (64 characters: letters, digits, `.`, `_`, `-`).
pub(super) fn long_name(first: &str) -> String {
    let mut name = first.to_owned();
    while name.len() < 64 {
        name.push_str("_bartholomew");
    }
    name.truncate(64);
    name
}

/// A word of `len` characters with no place to break it, as a pasted link or a key would be.
fn unbroken(len: usize) -> String {
    "Supercalifragilisticexpialidocious"
        .chars()
        .cycle()
        .take(len)
        .collect()
}

/// axe-core's script, from `AXE_CORE_JS` or where `.ci/run` installs it.
pub(super) fn axe_source() -> String {
    let path = std::env::var("AXE_CORE_JS").unwrap_or_else(|_| {
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/target/axe/node_modules/axe-core/axe.min.js"
        )
        .to_owned()
    });
    std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "axe-core is not at {path} ({e}): npm install --prefix target/axe axe-core@4.14, \
             or set AXE_CORE_JS"
        )
    })
}

/// What is wrong with the page the browser shows: content wider than the screen, and every
/// axe-core violation (any impact), each with the elements it names.
pub(super) async fn problems(me: &Person<'_>, axe: &str) -> Vec<String> {
    let mut found = Vec::new();
    let wide = me
        .c
        .execute(
            "const root = document.documentElement;
             const width = root.clientWidth;
             if (root.scrollWidth <= width) return null;
             const wide = [...document.body.querySelectorAll('*')]
               .filter((e) => e.getBoundingClientRect().right > width + 1)
               .filter((e) => ![...e.children].some((c) => c.getBoundingClientRect().right > width + 1))
               .slice(0, 5)
               .map((e) => e.tagName.toLowerCase() + (e.className ? '.' + e.className : ''));
             return root.scrollWidth + ' px wide on a ' + width + ' px screen: ' + wide.join(', ');",
            vec![],
        )
        .await
        .unwrap();
    if let Some(wide) = wide.as_str() {
        found.push(wide.to_owned());
    }
    me.c.execute(axe, vec![]).await.unwrap();
    let violations =
        me.c.execute_async(
            "const done = arguments[arguments.length - 1];
             axe.run(document, { resultTypes: ['violations'] })
               .then((r) => done(r.violations.map((v) => v.id + ' (' + v.impact + '): ' +
                 v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | '))))
               .catch((e) => done(['axe failed: ' + e]));",
            vec![],
        )
        .await
        .unwrap();
    for v in violations.as_array().into_iter().flatten() {
        found.push(v.as_str().unwrap_or_default().to_owned());
    }
    found
}

/// Logs `me` in as `username` (registered already).
pub(super) async fn log_in(me: &Person<'_>, username: &str) {
    me.open("/auth/login").await;
    me.fill("username", username).await;
    me.fill("password", PASSWORD).await;
    me.press("button[name=submit]").await;
    assert_eq!(me.path().await, "/index");
}

/// Switches the site's language with the menu at the foot of every page.
pub(super) async fn choose_language(me: &Person<'_>, tag: &str) {
    me.open("/explore").await;
    me.press(&format!("footer button[name=lang][value={tag}]"))
        .await;
}

/// Opens the card of the first username link of the page, as a pointer resting on it does (a
/// phone's emulated touch screen has no hover, so the event is sent by script), and waits for it.
async fn show_popup(me: &Person<'_>) {
    me.c.execute(
        "document.querySelector('a.user-popup')
           .dispatchEvent(new MouseEvent('mouseover', { bubbles: true }));",
        vec![],
    )
    .await
    .unwrap();
    me.appears(".user-popup-box", 10, "the popup").await;
}

/// A form sent without its CSRF token (as a page kept open past its session would): the 400.
async fn post_without_token(me: &Person<'_>) {
    me.open("/index").await;
    me.c.execute(
        "document.querySelector('form[action=\"/index\"] input[name=csrf_token]').value = 'x';",
        vec![],
    )
    .await
    .unwrap();
    me.fill("post", "a post that will not be stored").await;
    me.press("form[action=\"/index\"] button[name=submit]")
        .await;
}

/// The site with two users of the longest names, who follow each other, and write the longest
/// words: a post, an about-me and a message. Returns the app and both names.
async fn site_with_long_names() -> (TestApp, String, String) {
    let app = spawn_app_with(&[("POSTS_PER_PAGE", "5")]).await;
    let (first, second) = (long_name("Maximiliana"), long_name("Wolfgang"));
    let mut one = app.logged_in(&first, false).await;
    let mut two = app.logged_in(&second, false).await;
    one.edit_profile(&first, &unbroken(140)).await;
    for browser in [&mut one, &mut two] {
        browser
            .submit("/index", "/index", &[("post", &unbroken(140))])
            .await;
        browser
            .submit(
                "/index",
                "/index",
                &[(
                    "post",
                    "Hello world! My first post on microblog, searchable.",
                )],
            )
            .await;
    }
    let path = format!("/user/{first}");
    two.submit(&path, &format!("/follow/{first}"), &[]).await;
    let path = format!("/user/{second}");
    one.submit(&path, &format!("/follow/{second}"), &[]).await;
    let path = format!("/send_message/{first}");
    two.submit(&path, &path, &[("message", &unbroken(140))])
        .await;
    (app, first, second)
}

#[actix_web::test]
#[ignore = "needs chromium and chromedriver: cargo test --test browser -- --ignored"]
async fn every_page_fits_a_phone_and_a_desktop_in_both_languages_with_no_axe_violation() {
    let axe = axe_source();
    let (app, me_name, other) = site_with_long_names().await;
    // The post of 140 characters without a space, for the page that asks before deleting it.
    let long_post = {
        use diesel::prelude::*;
        use microblog::schema::{posts, users};
        let mut conn = app.database().get().unwrap();
        posts::table
            .inner_join(users::table)
            .filter(users::username.eq(&me_name))
            .filter(posts::body.eq(unbroken(140)))
            .select(posts::id)
            .first::<i32>(&mut *conn)
            .unwrap()
    };
    // A live reset link, for the page that chooses a new password.
    let mut visitor = app.browser();
    visitor
        .submit(
            "/auth/reset_password_request",
            "/auth/reset_password_request",
            &[("email", &format!("{other}@example.com"))],
        )
        .await;
    app.wait_for_jobs().await;
    let reset = link_in_outbox(&app, "/auth/reset_password/");
    let reset = reset.strip_prefix(&app.address).unwrap().to_owned();

    let logged_in: Vec<(&str, String)> = vec![
        ("index", "/index".to_owned()),
        ("explore", "/explore".to_owned()),
        ("profile", format!("/user/{me_name}")),
        ("other-profile", format!("/user/{other}")),
        ("edit-profile", "/edit_profile".to_owned()),
        ("messages", "/messages".to_owned()),
        ("send-message", format!("/send_message/{other}")),
        ("search", "/search?q=searchable".to_owned()),
        ("sessions", "/auth/sessions".to_owned()),
        ("change-password", "/auth/change_password".to_owned()),
        ("api-docs", "/api/docs".to_owned()),
        ("not-found", "/no/such/page".to_owned()),
        ("delete-post", format!("/delete_post/{long_post}/confirm")),
        ("delete-account", "/auth/delete_account".to_owned()),
    ];
    let logged_out: Vec<(&str, String)> = vec![
        ("login", "/auth/login".to_owned()),
        ("register", "/auth/register".to_owned()),
        ("reset-request", "/auth/reset_password_request".to_owned()),
        ("reset", reset),
        ("api-docs-visitor", "/api/docs".to_owned()),
        ("not-found-visitor", "/no/such/page".to_owned()),
    ];

    let mut report = Vec::new();
    for screen in [Screen::Phone, Screen::Desktop] {
        let chrome = Chrome::start_as(screen).await;
        let me = Person {
            c: chrome.client(),
            base: app.address.clone(),
        };
        let mut sender = app.browser();
        sender.login(&other, PASSWORD, false).await;
        let path = format!("/send_message/{me_name}");
        sender
            .submit(&path, &path, &[("message", "are you there?")])
            .await;
        log_in(&me, &me_name).await;
        // The unread count is on screen without opening the menu, once (the messages are
        // unread until the messages page is opened, below).
        me.open("/explore").await;
        let visible =
            me.c.execute(
                "const badges = [...document.querySelectorAll('.message-count')]
                   .filter((b) => b.getClientRects().length && Number(b.textContent) > 0);
                 return badges.length;",
                vec![],
            )
            .await
            .unwrap();
        if visible.as_u64() != Some(1) {
            report.push(format!(
                "{screen:?}: {visible} unread badges on screen, not 1"
            ));
        }

        for lang in ["en", "es"] {
            choose_language(&me, lang).await;
            let mut check = async |name: &str| {
                me.snapshot(&format!("{name}-{screen:?}-{lang}").to_lowercase())
                    .await;
                for problem in problems(&me, &axe).await {
                    report.push(format!("{name}, {screen:?}, {lang}: {problem}"));
                }
            };
            for (name, path) in &logged_in {
                me.open(path).await;
                if name == &"api-docs" {
                    me.appears(".api-operation", 10, "the API's operations")
                        .await;
                }
                check(name).await;
            }
            me.open("/explore").await;
            show_popup(&me).await;
            check("popup").await;
            post_without_token(&me).await;
            check("bad-request").await;
        }
        me.open("/auth/logout").await;
        for lang in ["en", "es"] {
            choose_language(&me, lang).await;
            for (name, path) in &logged_out {
                me.open(path).await;
                me.snapshot(&format!("{name}-{screen:?}-{lang}").to_lowercase())
                    .await;
                for problem in problems(&me, &axe).await {
                    report.push(format!("{name}, {screen:?}, {lang}: {problem}"));
                }
            }
        }
        chrome.close().await;
    }
    assert!(report.is_empty(), "{}", report.join("\n"));
}

#[actix_web::test]
#[ignore = "needs chromium and chromedriver: cargo test --test browser -- --ignored"]
async fn the_post_box_counts_as_the_server_does_and_keeps_a_paste_that_is_too_long() {
    let app = spawn_app_with(&[]).await;
    let chrome = Chrome::start_as(Screen::Phone).await;
    let me = Person {
        c: chrome.client(),
        base: app.address.clone(),
    };
    me.register_and_log_in("susan").await;
    assert_eq!(me.text("#post-counter").await, "0 / 140");
    // A line break goes to the server as two characters, and counts as two.
    me.fill("post", "two\nlines").await;
    assert_eq!(me.text("#post-counter").await, "10 / 140");
    let long = unbroken(150);
    me.fill("post", &long).await;
    assert_eq!(me.text("#post-counter").await, "150 / 140 (10 too many)");
    let red =
        me.c.execute(
            "return document.getElementById('post-counter').classList.contains('text-danger');",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(red, serde_json::Value::Bool(true));
    me.snapshot("post-counter-over").await;
    // Sent anyway: the server says why, and the text is still there to shorten.
    me.press("form[action=\"/index\"] button[name=submit]")
        .await;
    let text = me.page_text().await;
    assert!(
        text.contains("Field must be between 1 and 140 characters long."),
        "{text}"
    );
    let kept =
        me.c.execute("return document.getElementById('post').value;", vec![])
            .await
            .unwrap();
    assert_eq!(kept.as_str(), Some(long.as_str()));
    chrome.close().await;
}

#[actix_web::test]
#[ignore = "needs chromium and chromedriver: cargo test --test browser -- --ignored"]
async fn a_post_is_deleted_from_the_page_it_is_on_after_a_question() {
    let app = spawn_app_with(&[]).await;
    let chrome = Chrome::start_as(Screen::Phone).await;
    let me = Person {
        c: chrome.client(),
        base: app.address.clone(),
    };
    me.register_and_log_in("susan").await;
    me.fill("post", "a post I will regret").await;
    me.press("form[action=\"/index\"] button[name=submit]")
        .await;
    me.open("/explore").await;
    me.press("a.delete-post").await;
    assert!(me.path().await.ends_with("/confirm"), "{}", me.path().await);
    assert!(me.page_text().await.contains("a post I will regret"));
    me.snapshot("delete-post-confirm").await;
    me.press("form[action^=\"/delete_post/\"] button[name=submit]")
        .await;
    assert_eq!(me.path().await, "/explore");
    let text = me.page_text().await;
    assert!(text.contains("Your post has been deleted."), "{text}");
    assert!(!text.contains("a post I will regret"), "{text}");
    chrome.close().await;
}
