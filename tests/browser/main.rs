//! Browser tests: real headless Chromium driven over WebDriver, as a student uses the site.
//!
//! They need Debian's `chromium` and `chromium-driver`, so they are skipped by `cargo test` and
//! run with `cargo test --test browser -- --ignored` (`.ci/run` installs both and runs them).

#[allow(dead_code)]
#[path = "../http/common.rs"]
mod common;
mod pages;
mod remote;

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::actions::{InputSource, MouseActions, PointerAction};
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;

use common::{TestApp, spawn_app_with};

const NEEDS: &str = "needs chromium and chromedriver: cargo test --test browser -- --ignored";

/// A headless Chromium behind its own chromedriver, closed when dropped.
struct Chrome {
    driver: Child,
    client: Option<Client>,
    _profile: tempfile::TempDir,
}

impl Drop for Chrome {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// The screen a browser shows pages on.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Screen {
    /// A laptop's window, 1280x900.
    Desktop,
    /// A phone, 390x844 at three device pixels per CSS pixel, with touch and a phone's browser
    /// name (Chromium's mobile emulation): `<meta name="viewport">` applies, as on a phone.
    Phone,
    /// The narrowest phone in common use: 360x740 at three device pixels per CSS pixel, as
    /// `Phone` otherwise.
    NarrowPhone,
}

impl Chrome {
    async fn start() -> Self {
        Self::start_as(Screen::Desktop).await
    }

    async fn start_as(screen: Screen) -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let driver_path = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into());
        let driver = Command::new(&driver_path)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {driver_path} ({NEEDS}): {e}"));
        let profile = tempfile::tempdir().unwrap();
        let mut chrome = Self {
            driver,
            client: None,
            _profile: profile,
        };
        let mut options = serde_json::json!({
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--no-first-run", "--window-size=1280,900", "--lang=en-US",
                format!("--user-data-dir={}", chrome._profile.path().display()),
            ],
        });
        let phone = match screen {
            Screen::Desktop => None,
            Screen::Phone => Some((390, 844)),
            Screen::NarrowPhone => Some((360, 740)),
        };
        if let Some((width, height)) = phone {
            options["mobileEmulation"] = serde_json::json!({
                "deviceMetrics": { "width": width, "height": height, "pixelRatio": 3.0, "touch": true },
                "userAgent": "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 \
                              (KHTML, like Gecko) Chrome/130.0 Mobile Safari/537.36",
            });
        }
        if let Ok(binary) = std::env::var("CHROME_BINARY") {
            options["binary"] = binary.into();
        } else if std::path::Path::new("/usr/bin/chromium").exists() {
            options["binary"] = "/usr/bin/chromium".into();
        }
        let mut caps = serde_json::Map::new();
        caps.insert("goog:chromeOptions".into(), options);
        let url = format!("http://127.0.0.1:{port}");
        for _ in 0..100 {
            // chromedriver speaks plain HTTP on loopback: no TLS needed.
            let mut builder = ClientBuilder::new(HttpConnector::new());
            builder.capabilities(caps.clone());
            if let Ok(client) = builder.connect(&url).await {
                chrome.client = Some(client);
                return chrome;
            }
            actix_web::rt::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("chromedriver did not start ({NEEDS})");
    }

    fn client(&self) -> &Client {
        self.client.as_ref().expect("a session")
    }

    async fn close(mut self) {
        if let Some(client) = self.client.take() {
            let _ = client.close().await;
        }
    }
}

/// A person at the browser: types into fields by their `name` and presses buttons.
struct Person<'a> {
    c: &'a Client,
    base: String,
}

impl Person<'_> {
    async fn open(&self, path: &str) {
        self.c.goto(&format!("{}{path}", self.base)).await.unwrap();
    }

    async fn fill(&self, name: &str, text: &str) {
        let field = self
            .c
            .find(Locator::Css(&format!("[name=\"{name}\"]")))
            .await
            .unwrap();
        field.clear().await.unwrap();
        field.send_keys(text).await.unwrap();
    }

    /// Clicks what `css` names and waits for the page it leads to. A click on a submit button
    /// can return before the browser has loaded the next page (and some forms post back to the
    /// same URL), so this waits until the old page's `<html>` element has gone stale.
    async fn press(&self, css: &str) {
        let element = self.c.find(Locator::Css(css)).await.unwrap();
        self.click_and_wait(element).await;
    }

    /// Waits up to `seconds` for what `css` names to appear (JavaScript put it there).
    async fn appears(&self, css: &str, seconds: u64, what: &str) -> fantoccini::elements::Element {
        self.c
            .wait()
            .at_most(Duration::from_secs(seconds))
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{what}: {e}"))
    }

    /// Clicks what `css` names when the click changes the page in place (JavaScript).
    async fn press_without_navigation(&self, css: &str) {
        self.c
            .find(Locator::Css(css))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
    }

    async fn click_and_wait(&self, element: fantoccini::elements::Element) {
        let old_page = self.c.find(Locator::Css("html")).await.unwrap();
        // In the middle of the screen first: an emulated phone does not scroll to what is
        // clicked below the fold, and the click would land on nothing. At once: Bootstrap makes
        // scrolling smooth, and a click during the glide lands where the element is not yet.
        let arg = serde_json::to_value(&element).unwrap();
        self.c
            .execute(
                "arguments[0].scrollIntoView({ block: 'center', behavior: 'instant' });",
                vec![arg],
            )
            .await
            .unwrap();
        element.click().await.unwrap();
        let started = std::time::Instant::now();
        while old_page.tag_name().await.is_ok() {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "no new page after a click"
            );
            actix_web::rt::time::sleep(Duration::from_millis(25)).await;
        }
        self.c
            .wait()
            .for_element(Locator::Css("body"))
            .await
            .unwrap();
    }

    async fn path(&self) -> String {
        let url = self.c.current_url().await.unwrap();
        match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_owned(),
        }
    }

    async fn text(&self, css: &str) -> String {
        self.c
            .find(Locator::Css(css))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    /// Saves a screenshot as `$SCREENSHOT_DIR/<name>.png` when that variable is set, to look at
    /// what the test saw.
    async fn snapshot(&self, name: &str) {
        if let Ok(dir) = std::env::var("SCREENSHOT_DIR") {
            let png = self.c.screenshot().await.unwrap();
            std::fs::write(std::path::Path::new(&dir).join(format!("{name}.png")), png).unwrap();
        }
    }

    async fn page_text(&self) -> String {
        self.text("body").await
    }

    async fn register_and_log_in(&self, username: &str) {
        self.open("/auth/register").await;
        self.fill("username", username).await;
        self.fill("email", &format!("{username}@example.com")).await;
        self.fill("password", common::PASSWORD).await;
        self.fill("password2", common::PASSWORD).await;
        self.press("button[name=submit]").await;
        assert_eq!(self.path().await, "/auth/login");
        assert!(
            self.page_text()
                .await
                .contains("Congratulations, you are now a registered user!")
        );
        self.fill("username", username).await;
        self.fill("password", common::PASSWORD).await;
        self.press("button[name=submit]").await;
        assert_eq!(self.path().await, "/index");
    }
}

async fn app_with_small_pages() -> TestApp {
    spawn_app_with(&[("POSTS_PER_PAGE", "3")]).await
}

#[actix_web::test]
#[ignore = "needs chromium and chromedriver: cargo test --test browser -- --ignored"]
async fn a_student_registers_logs_in_and_posts_with_a_relative_date() {
    let app = app_with_small_pages().await;
    let chrome = Chrome::start().await;
    let me = Person {
        c: chrome.client(),
        base: app.address.clone(),
    };

    me.register_and_log_in("susan").await;
    assert!(me.page_text().await.contains("Hi, susan!"));
    me.fill("post", "My first post from a real browser").await;
    me.press("button[name=submit]").await;

    assert_eq!(me.path().await, "/index");
    let text = me.page_text().await;
    assert!(text.contains("Your post is now live!"), "{text}");
    assert!(text.contains("My first post from a real browser"));
    // JavaScript replaced the UTC date with a relative one ("now", "1 second ago", ...).
    me.snapshot("index").await;
    let when = me.text("article.post time").await;
    assert!(!when.contains("UTC"), "{when}");
    chrome.close().await;
}

#[actix_web::test]
#[ignore = "needs chromium and chromedriver: cargo test --test browser -- --ignored"]
async fn following_brings_posts_to_the_timeline_and_older_posts_are_a_click_away() {
    let app = app_with_small_pages().await;
    let mut john = app.logged_in("john", false).await;
    for i in 1..=4 {
        john.submit("/index", "/index", &[("post", &format!("john post {i}"))])
            .await;
    }
    let chrome = Chrome::start().await;
    let me = Person {
        c: chrome.client(),
        base: app.address.clone(),
    };
    me.register_and_log_in("susan").await;
    assert!(!me.page_text().await.contains("john post"));

    me.open("/user/john").await;
    me.press("form[action=\"/follow/john\"] button").await;
    assert_eq!(me.path().await, "/user/john");
    assert!(me.page_text().await.contains("You are following john!"));
    me.snapshot("profile").await;

    me.open("/index").await;
    let page1 = me.page_text().await;
    assert!(
        page1.contains("john post 4") && !page1.contains("john post 1"),
        "{page1}"
    );
    me.press("a[rel=next]").await;
    assert_eq!(me.path().await, "/index?page=2");
    assert!(me.page_text().await.contains("john post 1"));
    chrome.close().await;
}

#[actix_web::test]
#[ignore = "needs chromium and chromedriver: cargo test --test browser -- --ignored"]
async fn hovering_a_username_shows_the_popup_and_logging_out_closes_index() {
    let app = app_with_small_pages().await;
    let mut john = app.logged_in("john", false).await;
    john.submit("/index", "/index", &[("post", "hover over my name")])
        .await;
    let chrome = Chrome::start().await;
    let c = chrome.client();
    let me = Person {
        c,
        base: app.address.clone(),
    };
    me.register_and_log_in("susan").await;

    me.open("/explore").await;
    let link = c.find(Locator::Css("a.user-popup")).await.unwrap();
    let hover = MouseActions::new("mouse".into()).then(PointerAction::MoveToElement {
        element: link,
        duration: None,
        x: 0.0,
        y: 0.0,
    });
    c.perform_actions(hover).await.unwrap();
    let card = me.appears(".user-popup-box", 10, "the popup appears").await;
    me.snapshot("popup").await;
    let card_text = card.text().await.unwrap();
    assert!(card_text.contains("john"), "{card_text}");
    assert!(
        card_text.contains("0 followers, 0 following."),
        "{card_text}"
    );
    let follow = card
        .find(Locator::Css("button[name=submit]"))
        .await
        .unwrap();
    me.click_and_wait(follow).await;
    assert_eq!(me.path().await, "/user/john");
    assert!(me.page_text().await.contains("You are following john!"));

    me.press("a[href=\"/auth/logout\"]").await;
    me.open("/index").await;
    assert_eq!(me.path().await, "/auth/login?next=%2Findex");
    assert!(
        me.page_text()
            .await
            .contains("Please log in to access this page.")
    );
    chrome.close().await;
}

/// A LibreTranslate on a free port of this process that answers after a short wait (so the
/// spinner can be seen), with the text upper-cased.
fn slow_libretranslate() -> (String, actix_web::dev::ServerHandle) {
    use actix_web::{App, HttpResponse, HttpServer, web};
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let server = HttpServer::new(|| {
        App::new().route(
            "/translate",
            web::post().to(|body: web::Json<serde_json::Value>| async move {
                actix_web::rt::time::sleep(Duration::from_millis(1500)).await;
                let text = body["q"].as_str().unwrap_or("?").to_uppercase();
                HttpResponse::Ok().json(serde_json::json!({ "translatedText": text }))
            }),
        )
    })
    .workers(1)
    .listen(listener)
    .unwrap()
    .run();
    let handle = server.handle();
    actix_web::rt::spawn(server);
    (url, handle)
}

#[actix_web::test]
#[ignore = "needs chromium and chromedriver: cargo test --test browser -- --ignored"]
async fn a_click_on_translate_shows_a_spinner_then_the_translation_and_the_menu_switches_language()
{
    let (translator, server) = slow_libretranslate();
    let app = spawn_app_with(&[("LIBRETRANSLATE_URL", translator.as_str())]).await;
    let mut juan = app.logged_in("juan", false).await;
    let spanish = "Hoy hace muy buen tiempo en la ciudad y vamos a pasear por el parque.";
    juan.submit("/index", "/index", &[("post", spanish)]).await;

    let chrome = Chrome::start().await;
    let c = chrome.client();
    let me = Person {
        c,
        base: app.address.clone(),
    };
    me.register_and_log_in("susan").await;
    me.open("/explore").await;
    me.press_without_navigation("a.translate-link").await;
    me.appears(
        "article.post .spinner-border",
        5,
        "a spinner while the service works",
    )
    .await;
    let translation = me
        .appears(
            "article.post .translation",
            10,
            "the translation replaces the link",
        )
        .await;
    assert_eq!(translation.text().await.unwrap(), spanish.to_uppercase());
    assert!(c.find(Locator::Css("a.translate-link")).await.is_err());
    me.snapshot("translated").await;

    // The language menu: the same page in Spanish, its dates too, and no Translate link under a
    // post in the reader's own language.
    me.press("footer button[value=es]").await;
    assert_eq!(me.path().await, "/explore");
    let text = me.page_text().await;
    assert!(text.contains("Explorar") && text.contains("dijo"), "{text}");
    assert!(c.find(Locator::Css("a.translate-link")).await.is_err());
    let when = me.text("article.post time").await;
    assert!(when.contains("ahora") || when.contains("hace"), "{when}");
    // The full date on hover, as docs/12-dates-and-times.md quotes it: "3 de diciembre de 2026
    // a las 9:30".
    let full = c
        .find(Locator::Css("article.post time"))
        .await
        .unwrap()
        .attr("title")
        .await
        .unwrap()
        .unwrap_or_default();
    let (date, time) = full
        .split_once(" a las ")
        .unwrap_or_else(|| panic!("{full}"));
    assert!(date.contains(" de 20") && time.contains(':'), "{full}");
    me.snapshot("spanish").await;

    // Gravatar cannot be reached from here: the avatar falls back to the site's placeholder.
    let avatar = me
        .appears("img.avatar[data-placeholder]", 20, "a placeholder avatar")
        .await;
    let src = avatar.attr("src").await.unwrap().unwrap_or_default();
    assert!(src.ends_with("/static/img/avatar.svg"), "{src}");
    chrome.close().await;
    server.stop(false).await;
}

/// How long until `read` gives `wanted`, polling; panics after `seconds`.
async fn until<F, Fut, T>(seconds: u64, what: &str, wanted: T, read: F) -> Duration
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = T>,
    T: PartialEq + std::fmt::Debug,
{
    let started = std::time::Instant::now();
    loop {
        let got = read().await;
        if got == wanted {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < Duration::from_secs(seconds),
            "{what}: still {got:?}, not {wanted:?}"
        );
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
    }
}

#[actix_web::test]
#[ignore = "needs chromium and chromedriver: cargo test --test browser -- --ignored"]
async fn the_badge_changes_live_in_every_tab_over_one_stream() {
    let app = app_with_small_pages().await;
    let mut john = app.logged_in("john", false).await;
    let chrome = Chrome::start().await;
    let c = chrome.client();
    let me = Person {
        c,
        base: app.address.clone(),
    };
    me.register_and_log_in("susan").await;
    let badge = || async {
        let element = c.find(Locator::Css("#message_count")).await.unwrap();
        let hidden = element.attr("hidden").await.unwrap().is_some();
        let text = element.text().await.unwrap_or_default();
        (!hidden).then_some(text)
    };
    assert_eq!(badge().await, None);

    // Ten tabs of the site: one stream among them, and pages still load (HTTP/1.1 allows the
    // browser six connections to the site).
    let first = c.window().await.unwrap();
    let mut tabs = vec![first.clone()];
    for _ in 1..10 {
        let tab = c.new_window(true).await.unwrap().handle;
        c.switch_to_window(tab.clone()).await.unwrap();
        me.open("/index").await;
        tabs.push(tab);
    }
    let streams = || async { app.state.live.open_streams() };
    until(10, "one stream for ten tabs", 1, streams).await;
    actix_web::rt::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        app.state.live.open_streams(),
        1,
        "a tab opened a second stream"
    );
    me.open("/explore").await;
    assert_eq!(me.path().await, "/explore");
    me.open("/index").await;

    // A message: the badge of this tab (not the one holding the stream) and of the first.
    let sent = std::time::Instant::now();
    let path = "/send_message/susan";
    john.submit(path, path, &[("message", "are you there?")])
        .await;
    until(5, "the badge of the tenth tab", Some("1".to_owned()), badge).await;
    let took = sent.elapsed();
    eprintln!("the badge of a tab without the stream changed {took:?} after the message");
    assert!(took < Duration::from_secs(2), "the badge took {took:?}");
    c.switch_to_window(first.clone()).await.unwrap();
    until(2, "the badge of the first tab", Some("1".to_owned()), badge).await;
    me.snapshot("badge").await;

    // The tab holding the stream closes: another takes it over at once. The server notices
    // the closed stream when its next keep-alive cannot be written.
    c.close_window().await.unwrap();
    c.switch_to_window(tabs[9].clone()).await.unwrap();
    actix_web::rt::time::sleep(Duration::from_millis(500)).await;
    john.submit(path, path, &[("message", "still there?")])
        .await;
    until(
        5,
        "the badge after the hand-over",
        Some("2".to_owned()),
        badge,
    )
    .await;
    until(
        30,
        "one stream again after the first tab closed",
        1,
        streams,
    )
    .await;

    // Reading the messages clears the badge in the other tabs too.
    me.open("/messages").await;
    assert!(me.page_text().await.contains("still there?"));
    c.switch_to_window(tabs[5].clone()).await.unwrap();
    until(5, "the badge of another tab after reading", None, badge).await;
    chrome.close().await;
}

#[actix_web::test]
#[ignore = "needs chromium and chromedriver: cargo test --test browser -- --ignored"]
async fn the_export_bar_moves_to_100_without_a_reload() {
    let app = spawn_app_with(&[]).await;
    let chrome = Chrome::start().await;
    let c = chrome.client();
    let me = Person {
        c,
        base: app.address.clone(),
    };
    me.register_and_log_in("susan").await;
    // Enough posts for an export of several seconds (marked as indexed for search on SQLite,
    // so no indexing holds the write lock meanwhile).
    let sqlite = matches!(app.database_url, microblog::config::DatabaseUrl::Sqlite(_));
    let (numbers, at, mark) = if sqlite {
        (
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 150000)",
            "'2026-01-01 00:00:00'",
            "UPDATE posts_search_mark SET indexed_through = (SELECT MAX(id) FROM posts);",
        )
    } else {
        (
            "WITH n(i) AS (SELECT generate_series(1, 150000))",
            "TIMESTAMP '2026-01-01 00:00:00'",
            "",
        )
    };
    app.execute_sql(&format!(
        "BEGIN; {numbers} INSERT INTO posts (body, timestamp, user_id, language)
         SELECT 'post number ' || i, {at}, (SELECT id FROM users WHERE username = 'susan'), 'en'
         FROM n; {mark} COMMIT;"
    ));

    me.open("/user/susan").await;
    me.press("form[action=\"/export_posts\"] button").await;
    assert_eq!(me.path().await, "/user/susan");
    me.appears(".task[data-task] .progress-bar", 5, "the task's bar")
        .await;
    // The running task's box is read right by a screen reader too.
    let found = pages::problems(&me, &pages::axe_source()).await;
    assert!(found.is_empty(), "{found:?}");
    // A mark on this page: a reload would lose it.
    c.execute("window.notReloaded = true;", vec![])
        .await
        .unwrap();
    // The value and the bar's width, read at one moment.
    let read = || async {
        let both = c
            .execute(
                "const box = document.querySelector('.task');
                 return [box.querySelector('.task-progress').textContent,
                         box.querySelector('.progress-bar').style.width];",
                vec![],
            )
            .await
            .unwrap();
        let shown: i64 = both[0].as_str().unwrap().parse().unwrap();
        (shown, both[1].as_str().unwrap_or_default().to_owned())
    };
    let mut seen = Vec::new();
    let started = std::time::Instant::now();
    loop {
        let (shown, width) = read().await;
        assert_eq!(
            width,
            format!("{shown}%"),
            "the bar's width follows its value"
        );
        if seen.last() != Some(&shown) {
            seen.push(shown);
        }
        if shown == 100 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the bar stopped at {seen:?}"
        );
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        seen.iter().any(|p| *p > 0 && *p < 100),
        "the bar moved through values on its way: {seen:?}"
    );
    let done = c.find(Locator::Css(".task.alert-success")).await.is_ok();
    assert!(done, "the box turns green at 100");
    // It says so, links the file and writes its expiry as a date in the reader's words; the
    // flash that said the export had started is gone.
    let link = me
        .appears(".task .export-download", 5, "the download link")
        .await;
    let href = link.attr("href").await.unwrap().unwrap();
    assert!(
        href.starts_with("/export_posts/") && href.ends_with("/posts.json"),
        "{href}"
    );
    let line = me.text(".task .export-ready").await;
    assert!(line.starts_with("Done: your posts are ready."), "{line}");
    let until = me.text(".task .export-ready time").await;
    assert!(!until.ends_with('Z') && until.contains(' '), "{until}");
    assert!(
        !me.page_text()
            .await
            .contains("Your posts are being exported"),
        "{}",
        me.page_text().await
    );
    let kept = c
        .execute("return window.notReloaded === true;", vec![])
        .await
        .unwrap();
    assert_eq!(kept, serde_json::Value::Bool(true), "no reload");
    me.snapshot("export-done").await;
    chrome.close().await;
}

#[actix_web::test]
#[ignore = "needs chromium and chromedriver: cargo test --test browser -- --ignored"]
async fn the_api_docs_page_gets_a_token_tries_a_request_and_revokes_the_token() {
    let app = spawn_app_with(&[]).await;
    let chrome = Chrome::start().await;
    let c = chrome.client();
    let me = Person {
        c,
        base: app.address.clone(),
    };
    me.register_and_log_in("susan").await;
    me.open("/api/docs").await;
    // The script read /api/openapi.json and made a card of each operation.
    let card = "[data-operation=\"GET /api/users/{id}\"]";
    me.appears(card, 10, "the card of GET /api/users/{id}")
        .await;
    me.fill("username", "susan").await;
    me.fill("password", common::PASSWORD).await;
    me.press_without_navigation("#token-get").await;
    let token = || async {
        c.execute(
            "return document.getElementById('token').value.length;",
            vec![],
        )
        .await
        .unwrap()
        .as_u64()
        .unwrap_or(0)
    };
    until(10, "the token", 32, token).await;

    let id = c
        .find(Locator::Css(&format!("{card} input[name=\"id\"]")))
        .await
        .unwrap();
    id.send_keys("1").await.unwrap();
    // A click in the page's script, not at a point: the card may be far down, under others.
    let send = || async {
        c.execute(
            &format!("document.querySelector('{card} .try-send').click();"),
            vec![],
        )
        .await
        .unwrap();
    };
    send().await;
    let status = || async { me.text(&format!("{card} .try-status")).await };
    until(10, "the response", "200 OK".to_owned(), status).await;
    let body = me.text(&format!("{card} .try-body")).await;
    assert!(body.contains("\"username\": \"susan\""), "{body}");
    me.snapshot("api-docs").await;

    // Revoked: the same request is now refused, in JSON.
    c.execute("document.getElementById('token-revoke').click();", vec![])
        .await
        .unwrap();
    until(10, "the token cleared", 0, token).await;
    send().await;
    until(10, "the refusal", "401 Unauthorized".to_owned(), status).await;
    chrome.close().await;
}

/// The newest link to `path_prefix` in the outbox (with no mail server, that is where it is read).
fn link_in_outbox(app: &TestApp, path_prefix: &str) -> String {
    use diesel::prelude::*;
    use microblog::schema::mails;
    let mut conn = app.database().get().unwrap();
    let texts: Vec<String> = mails::table
        .order(mails::id.desc())
        .select(mails::text_body)
        .load(&mut *conn)
        .unwrap();
    texts
        .iter()
        .flat_map(|t| t.split_whitespace())
        .find(|w| w.contains(path_prefix))
        .unwrap_or_else(|| panic!("no {path_prefix} link in {texts:?}"))
        .to_owned()
}

#[actix_web::test]
#[ignore = "needs chromium and chromedriver: cargo test --test browser -- --ignored"]
async fn a_new_address_is_confirmed_from_the_link_mailed_to_it() {
    let app = app_with_small_pages().await;
    let chrome = Chrome::start().await;
    let me = Person {
        c: chrome.client(),
        base: app.address.clone(),
    };
    me.register_and_log_in("susan").await;

    me.open("/edit_profile").await;
    me.press("a[href=\"/auth/change_email\"]").await;
    assert_eq!(me.path().await, "/auth/change_email");
    me.fill("email", "susan@new.example").await;
    me.fill("password", common::PASSWORD).await;
    me.snapshot("change_email").await;
    me.press("button[name=submit]").await;
    assert_eq!(me.path().await, "/edit_profile");
    let text = me.page_text().await;
    assert!(
        text.contains("We sent a link to susan@new.example"),
        "{text}"
    );

    app.wait_for_jobs().await;
    let link = link_in_outbox(&app, "/auth/confirm_email/");
    me.c.goto(&link).await.unwrap();
    assert!(me.page_text().await.contains("will be susan@new.example"));
    me.snapshot("confirm_email").await;
    me.press("button[name=submit]").await;
    assert_eq!(me.path().await, "/index");
    assert!(
        me.page_text()
            .await
            .contains("Your email address is now susan@new.example.")
    );
    chrome.close().await;
}

#[actix_web::test]
#[ignore = "needs chromium and chromedriver: cargo test --test browser -- --ignored"]
async fn a_logout_link_on_another_site_asks_before_logging_out() {
    let app = app_with_small_pages().await;
    // Another site: a page on `localhost` (the app is on 127.0.0.1, another site to a browser)
    // with a link to the app's logout.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let logout = format!("{}/auth/logout", app.address);
    let server = actix_web::HttpServer::new(move || {
        let page = format!("<!doctype html><title>Elsewhere</title><a id=\"trap\" href=\"{logout}\">win a prize</a>");
        actix_web::App::new().default_service(actix_web::web::to(move || {
            let page = page.clone();
            async move { actix_web::HttpResponse::Ok().content_type("text/html").body(page) }
        }))
    })
    .workers(1)
    .listen(listener)
    .unwrap()
    .run();
    let handle = server.handle();
    actix_web::rt::spawn(server);

    let chrome = Chrome::start().await;
    let me = Person {
        c: chrome.client(),
        base: app.address.clone(),
    };
    me.register_and_log_in("susan").await;
    me.c.goto(&format!("http://localhost:{port}/"))
        .await
        .unwrap();
    me.press("#trap").await;
    assert_eq!(me.path().await, "/auth/logout");
    assert!(me.page_text().await.contains("Another site sent you here"));
    me.snapshot("logout_confirm").await;
    me.open("/index").await;
    assert_eq!(me.path().await, "/index", "still logged in");

    me.c.goto(&format!("http://localhost:{port}/"))
        .await
        .unwrap();
    me.press("#trap").await;
    me.press("button[name=submit]").await;
    me.open("/index").await;
    assert_eq!(
        me.path().await,
        "/auth/login?next=%2Findex",
        "logged out by the button"
    );
    handle.stop(false).await;
    chrome.close().await;
}
