//! Chapters 6, 8, 9 and 20: profiles, avatars, editing, followers, timelines, popups.

use crate::common::{spawn_app, spawn_app_with};

/// The `datetime` of the first `<time>` after `marker`.
fn time_after(body: &str, marker: &str) -> String {
    let from = body.find(marker).expect("marker") + marker.len();
    let start = body[from..].find("datetime=\"").expect("a time") + from + "datetime=\"".len();
    body[start..start + 20].to_owned()
}

#[actix_web::test]
async fn a_profile_shows_avatar_about_me_last_seen_counts_and_posts() {
    let app = spawn_app().await;
    let mut susan = app.logged_in("susan", false).await;
    susan.edit_profile("susan", "I <3 Rust").await;
    susan
        .submit("/index", "/index", &[("post", "hello from susan")])
        .await;
    let mut john = app.logged_in("john", false).await;

    let res = john.get("/user/susan").await;

    assert_eq!(res.status, 200);
    let body = &res.body;
    assert!(body.contains("https://www.gravatar.com/avatar/"), "{body}");
    assert!(body.contains("User: susan"));
    assert!(body.contains("I &lt;3 Rust"));
    assert!(body.contains("Last seen on:"));
    assert!(body.contains("<span class=\"followers-count\">0</span> followers"));
    assert!(body.contains("hello from susan"));
    assert!(body.contains("action=\"/follow/susan\""), "a follow button");
    assert!(!body.contains("Edit your profile"));
}

#[actix_web::test]
async fn the_avatar_is_gravatars_md5_of_the_lowercased_email() {
    let app = spawn_app().await;
    let mut browser = app.logged_in("susan", false).await;

    let body = browser.get("/user/susan").await.body;

    // hashlib.md5(b"susan@example.com").hexdigest(), as the Flask app computes it.
    assert!(
        body.contains(
            "https://www.gravatar.com/avatar/f3fc30174d7fd74ab6ca3c36d198fcb9?d=identicon&amp;s=128"
        ),
        "{body}"
    );
}

#[actix_web::test]
async fn your_own_profile_links_to_edit_profile_and_has_no_follow_button() {
    let app = spawn_app().await;
    let mut susan = app.logged_in("susan", false).await;

    let body = susan.get("/user/susan").await.body;

    assert!(body.contains("href=\"/edit_profile\""));
    assert!(!body.contains("action=\"/follow/susan\""));
}

#[actix_web::test]
async fn an_unknown_user_is_a_404_for_the_profile_and_the_popup() {
    let app = spawn_app().await;
    let mut browser = app.logged_in("susan", false).await;

    let res = browser.get("/user/nobody").await;
    assert_eq!(res.status, 404);
    // The error page is in the layout and knows who is logged in: the login check made in the
    // profile's trip to the database is kept for it.
    assert!(
        res.body
            .contains("id=\"current-user\" href=\"/user/susan\""),
        "{}",
        res.body
    );
    assert_eq!(browser.get("/user/nobody/popup").await.status, 404);
}

#[actix_web::test]
async fn following_shows_their_posts_on_index_and_unfollowing_hides_them() {
    let app = spawn_app().await;
    let mut john = app.logged_in("john", false).await;
    john.submit("/index", "/index", &[("post", "news from john")])
        .await;
    let mut susan = app.logged_in("susan", false).await;
    susan
        .submit("/index", "/index", &[("post", "news from susan")])
        .await;
    assert!(!susan.get("/index").await.body.contains("news from john"));

    let res = susan.submit("/user/john", "/follow/john", &[]).await;
    assert_eq!(res.location(), Some("/user/john"));
    let profile = susan.get("/user/john").await.body;
    assert!(crate::common::flashes_of(&profile).contains(&"You are following john!".to_owned()));
    assert!(profile.contains("<span class=\"followers-count\">1</span> follower,"));
    assert!(profile.contains("action=\"/unfollow/john\""));
    let index = susan.get("/index").await.body;
    assert!(index.contains("news from john"), "{index}");
    assert!(index.contains("news from susan"));

    let res = susan.submit("/user/john", "/unfollow/john", &[]).await;
    assert_eq!(res.location(), Some("/user/john"));
    assert_eq!(
        susan.flashes("/index").await,
        vec!["You are not following john."]
    );
    let index = susan.get("/index").await.body;
    assert!(!index.contains("news from john"));
}

#[actix_web::test]
async fn the_timeline_mixes_own_and_followed_posts_newest_first() {
    let app = spawn_app().await;
    let mut john = app.logged_in("john", false).await;
    let mut susan = app.logged_in("susan", false).await;
    susan.submit("/user/john", "/follow/john", &[]).await;
    susan.submit("/index", "/index", &[("post", "one")]).await;
    john.submit("/index", "/index", &[("post", "two")]).await;
    susan.submit("/index", "/index", &[("post", "three")]).await;

    let body = susan.get("/index").await.body;
    let at = |text: &str| body.find(&format!(">{text}</p>")).expect(text);

    assert!(at("three") < at("two") && at("two") < at("one"));
}

#[actix_web::test]
async fn following_yourself_or_nobody_is_refused_with_the_flask_messages() {
    let app = spawn_app().await;
    let mut susan = app.logged_in("susan", false).await;

    let res = susan.submit("/index", "/follow/susan", &[]).await;
    assert_eq!(res.location(), Some("/user/susan"));
    assert_eq!(
        susan.flashes("/index").await,
        vec!["You cannot follow yourself!"]
    );

    let res = susan.submit("/index", "/unfollow/susan", &[]).await;
    assert_eq!(res.location(), Some("/user/susan"));
    assert_eq!(
        susan.flashes("/index").await,
        vec!["You cannot unfollow yourself!"]
    );

    let res = susan.submit("/index", "/follow/nobody", &[]).await;
    assert_eq!(res.location(), Some("/index"));
    assert_eq!(
        susan.flashes("/index").await,
        vec!["User nobody not found."]
    );
}

#[actix_web::test]
async fn a_flash_naming_a_huge_username_keeps_the_session_cookie_small_and_the_user_logged_in() {
    let app = spawn_app().await;
    let mut susan = app.logged_in("susan", false).await;
    let name = "a".repeat(3_500);

    let res = susan
        .submit("/index", &format!("/follow/{name}"), &[])
        .await;
    assert_eq!(res.location(), Some("/index"));
    for line in res.headers.get_all("set-cookie") {
        assert!(line.len() <= 4_096, "a Set-Cookie of {} bytes", line.len());
    }

    let index = susan.get("/index").await;
    assert_eq!(index.status, 200, "still logged in");
    let flashes = crate::common::flashes_of(&index.body);
    assert_eq!(flashes.len(), 1, "{flashes:?}");
    assert!(flashes[0].starts_with("User aaa"), "{flashes:?}");
    assert!(flashes[0].ends_with("a not found."), "{flashes:?}");
    assert!(flashes[0].chars().count() <= 200, "{flashes:?}");
}

#[actix_web::test]
async fn follow_by_get_is_a_405_and_without_csrf_a_400() {
    let app = spawn_app().await;
    app.register("john").await;
    let mut susan = app.logged_in("susan", false).await;

    assert_eq!(susan.get("/follow/john").await.status, 405);
    assert_eq!(
        susan
            .post("/follow/john", &[("submit", "Follow")])
            .await
            .status,
        400
    );
    assert!(
        susan
            .get("/user/john")
            .await
            .body
            .contains("<span class=\"followers-count\">0</span>")
    );
}

#[actix_web::test]
async fn concurrent_follow_clicks_make_one_follow_and_no_error() {
    let app = spawn_app().await;
    app.register("john").await;
    let mut susan = app.logged_in("susan", false).await;
    let token = susan.get("/user/john").await.csrf_token().unwrap();
    let cookie = susan
        .cookies
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("; ");

    let client = awc::Client::builder().disable_redirects().finish();
    let clicks = (0..12).map(|_| {
        client
            .post(format!("{}/follow/john", app.address))
            .insert_header(("Cookie", cookie.clone()))
            .insert_header(("User-Agent", crate::common::BROWSER))
            .send_form(&[("csrf_token", token.as_str()), ("submit", "Follow")])
    });
    let results = futures_util::future::join_all(clicks).await;

    for res in results {
        assert_eq!(res.unwrap().status().as_u16(), 302);
    }
    let body = susan.get("/user/john").await.body;
    assert!(
        body.contains("<span class=\"followers-count\">1</span> follower,"),
        "{body}"
    );
}

#[actix_web::test]
async fn edit_profile_is_prefilled_and_saves_with_a_flash() {
    let app = spawn_app().await;
    let mut susan = app.logged_in("susan", false).await;

    let form = susan.get("/edit_profile").await.body;
    assert!(form.contains("value=\"susan\""));

    let res = susan.edit_profile("susan", "Hello there").await;
    assert_eq!(res.location(), Some("/edit_profile"));
    let form = susan.get("/edit_profile").await.body;
    assert!(crate::common::flashes_of(&form).contains(&"Your changes have been saved.".to_owned()));
    assert!(form.contains(">Hello there</textarea>"));
}

#[actix_web::test]
async fn edit_profile_refuses_a_taken_username_and_an_overlong_about_me() {
    let app = spawn_app().await;
    app.register("john").await;
    let mut susan = app.logged_in("susan", false).await;

    let res = susan.edit_profile("john", "").await;
    assert_eq!(res.status, 200);
    assert!(res.body.contains("Please use a different username."));

    let long = "x".repeat(141);
    let res = susan.edit_profile("susan", &long).await;
    assert_eq!(res.status, 200);
    assert!(
        res.body
            .contains("Field cannot be longer than 140 characters.")
    );
    assert!(res.body.contains(&long), "input kept");
}

#[actix_web::test]
async fn two_users_renaming_to_one_name_at_once_make_one_winner_and_no_error() {
    let app = spawn_app().await;
    let mut susan = app.logged_in("susan", false).await;
    let mut john = app.logged_in("john", false).await;
    let (a, b) = futures_util::future::join(
        susan.edit_profile("alice", ""),
        john.edit_profile("alice", ""),
    )
    .await;
    let mut statuses = [a.status, b.status];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 302], "{} / {}", a.body, b.body);
    let refused = if a.status == 200 { &a } else { &b };
    assert!(refused.body.contains("Please use a different username."));
    assert_eq!(susan.get("/user/alice").await.status, 200);
}

#[actix_web::test]
async fn a_renamed_user_is_found_at_the_new_name_and_stays_logged_in() {
    let app = spawn_app().await;
    let mut susan = app.logged_in("susan", false).await;

    susan.edit_profile("José", "").await;

    let index = susan.get("/index").await;
    assert!(index.body.contains("Hi, José!"));
    assert!(index.body.contains("href=\"/user/Jos%C3%A9\""));
    assert_eq!(susan.get("/user/Jos%C3%A9").await.status, 200);
    assert_eq!(susan.get("/user/susan").await.status, 404);
}

#[actix_web::test]
async fn posts_seen_before_a_rename_show_the_new_name_everywhere() {
    let app = spawn_app().await;
    let mut susan = app.logged_in("susan", false).await;
    susan
        .submit("/index", "/index", &[("post", "i <3 <b>html</b>")])
        .await;
    let mut john = app.logged_in("john", false).await;
    let before = john.get("/explore").await.body;
    assert!(before.contains(">susan</a>") && before.contains("i &lt;3 &lt;b&gt;html&lt;/b&gt;"));

    susan.edit_profile("José", "").await;

    for page in ["/explore", "/user/Jos%C3%A9", "/explore"] {
        let body = john.get(page).await.body;
        assert!(body.contains("href=\"/user/Jos%C3%A9\""), "{page}: {body}");
        assert!(body.contains(">José</a>"), "{page}");
        assert!(!body.contains(">susan</a>"), "{page} shows the old name");
        assert!(
            body.contains("i &lt;3 &lt;b&gt;html&lt;/b&gt;"),
            "{page} escapes"
        );
    }
}

#[actix_web::test]
async fn the_popup_is_a_fragment_with_counts_and_a_follow_button() {
    let app = spawn_app().await;
    app.register("john").await;
    let mut susan = app.logged_in("susan", false).await;
    susan
        .submit("/index", "/index", &[("post", "keep my flash")])
        .await;

    let res = susan.get("/user/john/popup").await;

    assert_eq!(res.status, 200);
    assert!(!res.body.contains("<html"), "no layout");
    assert!(res.body.contains("0 followers, 0 following."));
    assert!(res.body.contains("action=\"/follow/john\""));
    assert!(res.body.contains("name=\"csrf_token\""));
    assert_eq!(
        susan.flashes("/index").await,
        vec!["Your post is now live!"],
        "the popup leaves flashes for the next page"
    );
}

#[actix_web::test]
async fn a_profiles_posts_are_paginated() {
    let app = spawn_app_with(&[("POSTS_PER_PAGE", "2")]).await;
    let mut susan = app.logged_in("susan", false).await;
    for i in 1..=3 {
        susan
            .submit("/index", "/index", &[("post", &format!("note {i}"))])
            .await;
    }

    let page1 = susan.get("/user/susan").await.body;
    assert!(page1.contains("note 3") && page1.contains("note 2") && !page1.contains("note 1"));
    assert!(page1.contains("href=\"/user/susan?page=2\""));
    let page2 = susan.get("/user/susan?page=2").await.body;
    assert!(page2.contains("note 1"));
}

#[actix_web::test]
async fn last_seen_is_fresh_to_the_minute_without_a_write() {
    let app = spawn_app().await;
    let mut john = app.logged_in("john", false).await;
    let mut susan = app.logged_in("susan", false).await;
    let registered = time_after(&susan.get("/user/john").await.body, "Last seen on:");

    // Registration and the visit below fall in different seconds.
    actix_web::rt::time::sleep(std::time::Duration::from_millis(1100)).await;
    john.get("/index").await;
    let seen = time_after(&susan.get("/user/john").await.body, "Last seen on:");

    assert!(seen > registered, "{seen} > {registered}");
}
