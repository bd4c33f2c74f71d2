//! Chapter 9: posting from `/index`, the timeline and `/explore`, newest first, a page at a time.

use crate::common::spawn_app;

#[actix_web::test]
async fn posts_appear_on_index_and_explore_newest_first() {
    let app = spawn_app().await;
    let mut susan = app.logged_in("susan", false).await;
    let mut john = app.logged_in("john", false).await;
    susan
        .submit("/index", "/index", &[("post", "first from susan")])
        .await;
    john.submit("/index", "/index", &[("post", "john says <b>hi</b>")])
        .await;
    susan
        .submit("/index", "/index", &[("post", "second from susan")])
        .await;

    let index = susan.get("/index").await.body;
    let first = index.find("first from susan").expect("own post");
    let second = index.find("second from susan").expect("own post");
    assert!(second < first, "newest first");
    assert!(
        !index.contains("john says"),
        "index shows the user's own posts"
    );

    let explore = susan.get("/explore").await.body;
    assert!(
        explore.contains("john says &lt;b&gt;hi&lt;/b&gt;"),
        "escaped"
    );
    assert!(explore.find("second from susan").unwrap() < explore.find("john says").unwrap());
}

#[actix_web::test]
async fn posts_are_paginated_with_older_and_newer_links() {
    let app = spawn_app_with_small_pages().await;
    let mut browser = app.logged_in("susan", false).await;
    for i in 1..=5 {
        browser
            .submit("/index", "/index", &[("post", &format!("post number {i}"))])
            .await;
    }

    let page1 = browser.get("/index").await.body;
    assert!(page1.contains("post number 5") && page1.contains("post number 4"));
    assert!(!page1.contains("post number 3"));
    assert!(page1.contains("href=\"/index?page=2\""));

    // Each page holds its own posts, newest first, on the timeline and on /explore alike.
    for path in ["/index?page=2", "/explore?page=2"] {
        let page2 = browser.get(path).await.body;
        let (three, two) = (page2.find("post number 3"), page2.find("post number 2"));
        assert!(three.is_some() && two.is_some() && three < two, "{path}");
        assert!(!page2.contains("post number 4") && !page2.contains("post number 1"));
    }

    let page3 = browser.get("/index?page=3").await.body;
    assert!(page3.contains("post number 1"));
    assert!(page3.contains("href=\"/index?page=2\""), "newer link");

    // A page past the end (typed, or an old link) is empty, and "Newer posts" goes back to the
    // last page that has posts, not to the empty page before it; past the deepest page too.
    for path in [
        "/index?page=9",
        "/index?page=99999999999",
        "/explore?page=1001",
    ] {
        let past_the_end = browser.get(path).await;
        assert_eq!(past_the_end.status, 200, "{path}");
        let body = &past_the_end.body;
        assert!(!body.contains("post number"), "{path}");
        assert!(body.contains("No posts here yet."), "{path}");
        let list = path.split('?').next().unwrap();
        assert!(
            body.contains(&format!("rel=\"prev\" href=\"{list}?page=3\"")),
            "{path}: {body}"
        );
        assert!(body.contains("Older posts") && !body.contains("rel=\"next\" href=\"/"));
    }

    // A list with nothing in it offers no page to go to from past its end.
    let mut newcomer = app.logged_in("john", false).await;
    let empty = newcomer.get("/user/john?page=2").await.body;
    assert!(!empty.contains("Newer posts"), "{empty}");
    let timeline = newcomer.get("/index?page=2").await.body;
    assert!(timeline.contains("No posts here yet.") && !timeline.contains("Newer posts"));
}

async fn spawn_app_with_small_pages() -> crate::common::TestApp {
    crate::common::spawn_app_with(&[("POSTS_PER_PAGE", "2")]).await
}

#[actix_web::test]
async fn a_post_that_is_too_long_or_empty_is_a_form_error_and_not_stored() {
    let app = spawn_app().await;
    let mut browser = app.logged_in("susan", false).await;

    let long = "é".repeat(141);
    for (body, message) in [
        (
            long.as_str(),
            "Field must be between 1 and 140 characters long.",
        ),
        ("   ", "This field is required."),
        (
            "hidden\u{1}marks\u{2}",
            "This field cannot hold control characters.",
        ),
    ] {
        let res = browser.submit("/index", "/index", &[("post", body)]).await;
        assert_eq!(res.status, 422);
        assert!(res.body.contains(message), "{}", res.body);
    }
    let ok = "é".repeat(140);
    let res = browser.submit("/index", "/index", &[("post", &ok)]).await;
    assert_eq!(res.status, 302);
    let explore = browser.get("/explore").await.body;
    assert_eq!(explore.matches("class=\"post-body").count(), 1);
}

/// `/index` and `/explore` are kept whole for each login and sent again while nothing they show
/// has changed (`src/fragments.rs`): each change below must show on the very next page.
#[actix_web::test]
async fn a_page_sent_again_shows_every_change_at_once() {
    let app = spawn_app().await;
    let mut susan = app.logged_in("susan", false).await;
    let mut john = app.logged_in("john", false).await;
    susan.submit("/user/john", "/follow/john", &[]).await;
    john.submit("/index", "/index", &[("post", "a post by john")])
        .await;
    // The page that shows "You are following john!" once.
    assert!(
        susan
            .get("/index")
            .await
            .body
            .contains("You are following john!")
    );
    let first = susan.get("/index").await.body;
    assert!(first.contains("a post by john"), "{first}");
    assert_eq!(susan.get("/index").await.body, first, "the same page again");

    // A new post of someone followed.
    john.submit("/index", "/index", &[("post", "another by john")])
        .await;
    let page = susan.get("/index").await.body;
    assert!(page.contains("another by john"), "{page}");
    // The author renamed.
    john.edit_profile("johnny", "").await;
    let page = susan.get("/index").await.body;
    assert!(
        page.contains(">johnny</a>") && !page.contains(">john</a>"),
        "{page}"
    );
    // A message: the navbar's unread count.
    let path = "/send_message/susan";
    john.submit(path, path, &[("message", "hello")]).await;
    let page = susan.get("/index").await.body;
    assert!(
        page.contains("class=\"badge text-bg-danger message-count\">1</span>"),
        "{page}"
    );
    // Another language, and back.
    let page = susan
        .get_with("/index", &[("Accept-Language", "es")])
        .await
        .body;
    assert!(page.contains("<html lang=\"es\">"), "{page}");
    let page = susan.get("/index").await.body;
    assert!(page.contains("<html lang=\"en\">"), "{page}");
    // A flashed message is shown once, on the page after the post, and not kept.
    susan
        .submit("/index", "/index", &[("post", "susan's own post")])
        .await;
    let page = susan.get("/index").await.body;
    assert!(page.contains("Your post is now live!"), "{page}");
    let page = susan.get("/index").await.body;
    assert!(!page.contains("Your post is now live!"), "{page}");
    assert!(page.contains("susan&#39;s own post"), "{page}");
    // Each login has its own page, with its own CSRF token.
    let mut again = app.browser();
    again.login("susan", crate::common::PASSWORD, false).await;
    let other = again.get("/index").await;
    assert_ne!(other.csrf_token(), susan.get("/index").await.csrf_token());
    // /explore, kept too, shows the newest post.
    assert!(susan.get("/explore").await.body.contains("susan"));
    john.submit("/index", "/index", &[("post", "the newest of all")])
        .await;
    assert!(
        susan
            .get("/explore")
            .await
            .body
            .contains("the newest of all")
    );
}

/// A post's body carries its language (`lang`), so a screen reader reads it in that language's
/// voice; a post whose language is not known has none (the page's language applies).
#[actix_web::test]
async fn a_post_body_says_its_language_when_it_is_known() {
    let app = spawn_app().await;
    let mut susan = app.logged_in("susan", false).await;
    let spoken = "Hola a todos, hoy es un buen día para escribir en el blog";
    susan.submit("/index", "/index", &[("post", spoken)]).await;
    susan.submit("/index", "/index", &[("post", "42 :)")]).await;

    for path in ["/index", "/explore", "/user/susan"] {
        let body = susan.get(path).await.body;
        assert!(
            body.contains(&format!("-body\" lang=\"es\">{spoken}</p>")),
            "{path}: {body}"
        );
        assert!(body.contains("-body\">42 :)</p>"), "{path}: {body}");
    }
    let found = susan.get("/search?q=escribir").await.body;
    assert!(found.contains("-body\" lang=\"es\">"), "{found}");
}
