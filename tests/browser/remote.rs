//! An account of another server as a person sees it (`docs/24-federation.md`): on the narrowest
//! phone and on a desktop, in English and in Spanish. Its profile names its server instead of a
//! "Last seen" this server cannot know, links to its own page there, has a Block button, and
//! wraps its long `name@host` only where a name may break; its post says its language; a handle
//! that finds nobody is said so, the handle kept in the box. Every page fits the screen and
//! passes axe-core.

use std::time::{Duration, Instant};

use fantoccini::Locator;
use fantoccini::key::Key;

use super::pages::{axe_source, choose_language, log_in, long_name, problems};
use super::{Chrome, Person, Screen, common};
use common::{TestApp, encode, spawn_federated, wait_for_jobs};

/// Where the text of the element `css` names wraps: how many lines, and each wrap that is not
/// at a space, after `_` or `.`, or before `@` (the eight characters either side).
async fn wraps(me: &Person<'_>, css: &str) -> (u64, Vec<String>) {
    let element = me.c.find(Locator::Css(css)).await.unwrap();
    let arg = serde_json::to_value(&element).unwrap();
    let found =
        me.c.execute(
            "const walker = document.createTreeWalker(arguments[0], NodeFilter.SHOW_TEXT);
             const chars = [];
             for (let node = walker.nextNode(); node; node = walker.nextNode()) {
               for (let i = 0; i < node.data.length; i++) {
                 const range = document.createRange();
                 range.setStart(node, i);
                 range.setEnd(node, i + 1);
                 const rect = range.getClientRects()[0];
                 if (rect) chars.push({ c: node.data[i], top: rect.top });
               }
             }
             let lines = chars.length ? 1 : 0;
             const bad = [];
             for (let i = 1; i < chars.length; i++) {
               if (chars[i].top <= chars[i - 1].top + 2) continue;
               lines++;
               const before = chars[i - 1].c, at = chars[i].c;
               const fine = /\\s/.test(before) || /\\s/.test(at) || before === '_' ||
                 before === '.' || at === '@';
               if (!fine) {
                 const text = (from, to) => chars.slice(from, to).map((x) => x.c).join('');
                 bad.push(text(Math.max(0, i - 8), i) + '|' + text(i, i + 8));
               }
             }
             return { lines, bad };",
            vec![arg],
        )
        .await
        .unwrap();
    let bad = found["bad"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|b| b.as_str().unwrap_or_default().to_owned())
        .collect();
    (found["lines"].as_u64().unwrap_or_default(), bad)
}

/// Waits until `path` of `app`, seen by `browser`, holds `text`, running both apps' jobs (a
/// delivery from one to the other).
async fn until_seen(apps: [&TestApp; 2], browser: &mut common::Browser, path: &str, text: &str) {
    let started = Instant::now();
    loop {
        for app in apps {
            wait_for_jobs(&app.database()).await;
        }
        if browser.get(path).await.body.contains(text) {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "{text:?} never reached {path}"
        );
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A public `Create(Note)` by `actor` with a content warning and the blocks a Mastodon post may
/// hold.
fn rich_note(app: &TestApp, name: &str, actor: &str) -> String {
    let id = format!("{}/post/rich-{name}", app.address);
    serde_json::json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{id}/activity"),
        "type": "Create",
        "actor": actor,
        "object": {
            "id": id,
            "type": "Note",
            "attributedTo": actor,
            "summary": "Spoilers: the last chapter",
            "content": "<h2>Chapter 24</h2><p>What happens:</p>\
                <ul><li>the servers meet</li><li>they sign everything</li></ul>\
                <blockquote><p>Trust, but verify.</p></blockquote>\
                <pre><code>curl -H 'Accept: application/activity+json' https://example.social/user/susan_with_a_very_long_name_that_runs_on</code></pre>",
            "published": "2026-12-07T08:00:00Z",
            "to": ["https://www.w3.org/ns/activitystreams#Public"],
        },
    })
    .to_string()
}

#[actix_web::test]
#[ignore = "needs chromium and chromedriver: cargo test --test browser -- --ignored"]
async fn a_remote_account_on_a_narrow_phone_and_a_desktop_in_both_languages() {
    let axe = axe_source();
    let ours = spawn_federated(&[]).await;
    let theirs = spawn_federated(&[]).await;
    // The longest name a remote account may have here: `name@127.0.0.1:port` in 64 characters.
    let server = theirs.address.trim_start_matches("http://").to_owned();
    let mut name = long_name("Maximiliana");
    name.truncate(microblog::domain::Username::MAX - 1 - server.len());
    let name = name.trim_end_matches('_').to_owned();
    let mut them = theirs.logged_in(&name, false).await;
    let handle = format!("{name}@{server}");
    let page = microblog::urls::user_url(&handle);
    let actor = format!("{}/user/{name}", theirs.address);

    // Susan finds the account and follows it; its post in Spanish reaches her.
    let mut susan = ours.logged_in("susan", false).await;
    let res = susan
        .get(&format!("/search?q={}", encode(&format!("@{handle}"))))
        .await;
    assert_eq!(res.location(), Some(page.as_str()), "{}", res.body);
    let follow = format!("/follow/{}", encode(&handle));
    assert_eq!(susan.submit(&page, &follow, &[]).await.status, 302);
    let spoken = "Hola a todos, hoy escribo desde el otro servidor";
    // The Follow is delivered (a job here), and stored there when it arrives.
    wait_for_jobs(&ours.database()).await;
    them.submit("/index", "/index", &[("post", spoken)]).await;
    until_seen([&ours, &theirs], &mut susan, "/index", spoken).await;
    // And a post as Mastodon writes them, behind a content warning: a heading, a list, a quote
    // and code, which our own posts (plain text) never have.
    let rich = rich_note(&theirs, &name, &actor);
    let [date, digest, signature] = common::signed_headers(
        ours.address.trim_start_matches("http://"),
        "/inbox",
        rich.as_bytes(),
        &format!("{actor}#main-key"),
        &common::private_key(&theirs, &name),
        std::time::SystemTime::now(),
    );
    let res = awc::Client::new()
        .post(format!("{}/inbox", ours.address))
        .insert_header(("Content-Type", "application/activity+json"))
        .insert_header(("Date", date))
        .insert_header(("Digest", digest))
        .insert_header(("Signature", signature))
        .send_body(rich)
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 202);

    let nobody = format!("@nobody@{server}");
    let mut report = Vec::new();
    for screen in [Screen::NarrowPhone, Screen::Desktop] {
        let chrome = Chrome::start_as(screen).await;
        let me = Person {
            c: chrome.client(),
            base: ours.address.clone(),
        };
        log_in(&me, "susan").await;
        for lang in ["en", "es"] {
            let (server_line, block, last_seen, not_found) = match lang {
                "en" => ("An account on", "Block", "Last seen", "No account"),
                _ => (
                    "Una cuenta de",
                    "Bloquear",
                    "Última visita",
                    "No se encontró ninguna cuenta",
                ),
            };
            let here = format!("{screen:?}, {lang}");
            choose_language(&me, lang).await;
            let mut check = async |shot: &str| {
                me.snapshot(&format!("{shot}-{screen:?}-{lang}").to_lowercase())
                    .await;
                for problem in problems(&me, &axe).await {
                    report.push(format!("{shot}, {here}: {problem}"));
                }
            };

            me.open(&page).await;
            check("remote-profile").await;
            let text = me.page_text().await;
            assert!(!text.contains(last_seen), "{here}: {text}");
            assert!(
                text.contains(&format!("{server_line} {server}.")),
                "{here}: {text}"
            );
            let link = me.c.find(Locator::Css("a.remote-page")).await.unwrap();
            assert_eq!(
                link.attr("href").await.unwrap().as_deref(),
                Some(actor.as_str())
            );
            assert_eq!(
                link.attr("rel").await.unwrap().as_deref(),
                Some("nofollow noopener")
            );
            assert!(link.text().await.unwrap().contains(&server), "{here}");
            assert_eq!(me.text("form.block-form button").await, block, "{here}");
            assert!(
                me.c.find(Locator::Css(".send-message")).await.is_err(),
                "{here}: no private messages to another server"
            );
            assert_eq!(
                me.c.find(Locator::Css(".remote-body"))
                    .await
                    .unwrap()
                    .attr("lang")
                    .await
                    .unwrap()
                    .as_deref(),
                Some("es"),
                "{here}"
            );
            // The name wraps only between its parts and before its server.
            for css in ["main h1", "a.post-author"] {
                let (lines, bad) = wraps(&me, css).await;
                assert!(
                    bad.is_empty(),
                    "{here}, {css}: wrapped inside a word: {bad:?}"
                );
                if screen == Screen::NarrowPhone {
                    assert!(lines > 1, "{here}, {css}: on one line of 360 px?");
                }
            }

            me.open("/index").await;
            check("remote-index").await;
            // The warned post: closed, its text hidden until the reader opens it.
            let hidden = "Trust, but verify.";
            assert!(!me.page_text().await.contains(hidden), "{here}");
            me.press_without_navigation(".remote-body details > summary")
                .await;
            assert!(me.page_text().await.contains(hidden), "{here}");
            check("remote-warning-open").await;

            // A handle that finds nobody: the search page says so, the handle in its box.
            if screen == Screen::Desktop {
                let field = me.c.find(Locator::Css("nav input[name=q]")).await.unwrap();
                field
                    .send_keys(&format!("{nobody}{}", char::from(Key::Enter)))
                    .await
                    .unwrap();
                let started = Instant::now();
                while !me.path().await.starts_with("/search") {
                    assert!(started.elapsed() < Duration::from_secs(20), "no search");
                    actix_web::rt::time::sleep(Duration::from_millis(50)).await;
                }
            } else {
                me.open(&format!("/search?q={}", encode(&nobody))).await;
            }
            check("handle-not-found").await;
            let typed =
                me.c.find(Locator::Css("main input[name=q]"))
                    .await
                    .unwrap()
                    .prop("value")
                    .await
                    .unwrap();
            assert_eq!(typed.as_deref(), Some(nobody.as_str()), "{here}");
            let alert = me.text("main .alert").await;
            assert!(
                alert.contains(not_found) && alert.contains(&nobody),
                "{here}: {alert}"
            );
        }

        if screen == Screen::Desktop {
            // Blocked: the post leaves her timeline and Explore; unblocked, it is back.
            choose_language(&me, "en").await;
            me.open(&page).await;
            me.press("form.block-form button").await;
            let text = me.page_text().await;
            assert!(
                text.contains(&format!(
                    "You have blocked {handle}: their posts no longer reach you."
                )),
                "{text}"
            );
            assert_eq!(me.text("form.block-form button").await, "Unblock");
            for path in ["/index", "/explore"] {
                me.open(path).await;
                assert!(!me.page_text().await.contains(spoken), "{path}");
            }
            me.open(&page).await;
            assert!(
                me.page_text().await.contains(spoken),
                "still on the profile"
            );
            me.press("form.block-form button").await;
            me.open("/index").await;
            assert!(me.page_text().await.contains(spoken));
        }
        chrome.close().await;
    }
    assert!(report.is_empty(), "{}", report.join("\n"));
}
