//! Revocable logins, remember me and session protection.

use crate::common::{PASSWORD, spawn_app, spawn_app_with};

const NEW_PASSWORD: &str = "a brand new passphrase";

#[actix_web::test]
async fn a_session_cookie_copied_before_logout_is_worthless_after_it() {
    let app = spawn_app().await;
    let mut browser = app.logged_in("susan", false).await;
    let copied = browser.cookies.clone();

    browser.get("/auth/logout").await;
    let mut thief = app.browser();
    thief.cookies = copied;
    let res = thief.get("/index").await;

    assert_eq!(res.status, 302);
    assert_eq!(res.location(), Some("/auth/login?next=%2Findex"));
}

/// The pages that check the login in the same trip to the database as their own query
/// (`LoginRequired`) refuse a revoked login exactly as the others do, and show nothing of it.
#[actix_web::test]
async fn pages_checking_the_login_with_their_query_refuse_a_revoked_login() {
    let app = spawn_app().await;
    let mut browser = app.logged_in("susan", false).await;
    let pages = [
        ("/index?page=2", "/auth/login?next=%2Findex%3Fpage%3D2"),
        ("/explore?page=2", "/auth/login?next=%2Fexplore%3Fpage%3D2"),
        ("/user/susan", "/auth/login?next=%2Fuser%2Fsusan"),
        (
            "/user/susan/popup",
            "/auth/login?next=%2Fuser%2Fsusan%2Fpopup",
        ),
    ];
    for (path, _) in pages {
        assert_eq!(
            browser.get(path).await.status,
            200,
            "{path} while logged in"
        );
    }
    let copied = browser.cookies.clone();
    browser.get("/auth/logout").await;

    for (path, login_page) in pages {
        let mut thief = app.browser();
        thief.cookies = copied.clone();
        let res = thief.get(path).await;
        assert_eq!(res.status, 302, "{path}");
        assert_eq!(res.location(), Some(login_page), "{path}");
        assert!(!res.body.contains("susan"), "{path}: {}", res.body);
        assert_eq!(
            thief.flashes(login_page).await,
            ["Please log in to access this page."],
            "{path}"
        );
    }
}

#[actix_web::test]
async fn remember_me_keeps_the_user_logged_in_after_the_browser_drops_its_session_cookie() {
    let app = spawn_app().await;
    let mut browser = app.logged_in("susan", true).await;
    assert!(browser.cookies.contains_key("remember_token"));

    // Closing the browser forgets session cookies; the remember-me cookie has a max-age.
    browser.cookies.remove("session");
    let res = browser.get("/index").await;

    assert_eq!(res.status, 200, "{:?}", res.location());
    assert!(res.body.contains("Hi, susan!"));
    assert!(
        browser.cookies.contains_key("session"),
        "the session is restored"
    );
}

/// `/index` reads the login and the timeline together once the session says whose login it
/// holds; a login restored from the remember-me cookie does not say it at first, and a login
/// of someone else in the same browser says it anew.
#[actix_web::test]
async fn a_login_restored_by_remember_me_shows_the_timeline_on_every_page() {
    let app = spawn_app().await;
    let mut browser = app.logged_in("susan", true).await;
    browser
        .submit("/index", "/index", &[("post", "susan remembers")])
        .await;
    browser.cookies.remove("session");

    for round in ["restored", "after"] {
        let res = browser.get("/index").await;
        assert_eq!(res.status, 200, "{round}: {:?}", res.location());
        assert!(res.body.contains("Hi, susan!"), "{round}");
        assert!(res.body.contains("susan remembers"), "{round}");
    }
    let past_the_end = browser.get("/index?page=5").await;
    assert_eq!(past_the_end.status, 200);
    assert!(
        past_the_end
            .body
            .contains("rel=\"prev\" href=\"/index?page=1\"")
    );

    // Logged out there, and in as someone else in the same browser: that user's timeline.
    browser.get("/auth/logout").await;
    app.register("john").await;
    browser.login("john", PASSWORD, false).await;
    let johns = browser.get("/index").await;
    assert!(johns.body.contains("Hi, john!"), "{}", johns.body);
    assert!(!johns.body.contains("susan remembers"));
}

#[actix_web::test]
async fn without_remember_me_dropping_the_session_cookie_logs_the_user_out() {
    let app = spawn_app().await;
    let mut browser = app.logged_in("susan", false).await;
    assert!(!browser.cookies.contains_key("remember_token"));

    browser.cookies.remove("session");
    let res = browser.get("/index").await;

    assert_eq!(res.status, 302);
}

#[actix_web::test]
async fn a_remember_me_cookie_copied_before_logout_is_worthless_after_it() {
    let app = spawn_app().await;
    let mut browser = app.logged_in("susan", true).await;
    let remember = browser.cookies["remember_token"].clone();

    let res = browser.get("/auth/logout").await;
    assert!(
        res.set_cookie("remember_token").is_some(),
        "logout removes the remember-me cookie"
    );
    let mut thief = app.browser();
    thief.cookies.insert("remember_token".into(), remember);
    let res = thief.get("/index").await;

    assert_eq!(res.status, 302);
}

#[actix_web::test]
async fn logging_out_in_one_browser_leaves_the_other_logged_in() {
    let app = spawn_app().await;
    let mut laptop = app.logged_in("susan", false).await;
    let mut phone = app.browser();
    phone.login("susan", PASSWORD, true).await;

    laptop.get("/auth/logout").await;

    assert_eq!(laptop.get("/index").await.status, 302);
    assert_eq!(phone.get("/index").await.status, 200);
}

#[actix_web::test]
async fn a_password_change_ends_the_other_sessions_but_not_this_one() {
    let app = spawn_app().await;
    let mut laptop = app.logged_in("susan", false).await;
    let mut phone = app.browser();
    phone.login("susan", PASSWORD, true).await;

    let res = laptop.change_password(NEW_PASSWORD).await;
    assert_eq!(res.status, 302, "{}", res.body);

    assert_eq!(laptop.get("/index").await.status, 200);
    assert_eq!(phone.get("/index").await.status, 302);
    let mut fresh = app.browser();
    assert_eq!(
        fresh.login("susan", PASSWORD, false).await.location(),
        Some("/auth/login")
    );
    assert_eq!(
        fresh.login("susan", NEW_PASSWORD, false).await.location(),
        Some("/index")
    );
}

#[actix_web::test]
async fn a_password_change_needs_the_current_password() {
    let app = spawn_app().await;
    let mut browser = app.logged_in("susan", false).await;

    let res = browser
        .submit(
            "/auth/change_password",
            "/auth/change_password",
            &[
                ("old_password", "not my password"),
                ("password", NEW_PASSWORD),
                ("password2", NEW_PASSWORD),
            ],
        )
        .await;

    assert_eq!(res.status, 200);
    assert!(res.body.contains("Invalid password."));
    let mut other = app.browser();
    assert_eq!(
        other.login("susan", PASSWORD, false).await.location(),
        Some("/index")
    );
}

#[actix_web::test]
async fn the_sessions_page_lists_each_login_and_can_end_another_one() {
    let app = spawn_app().await;
    let mut laptop = app.logged_in("susan", false).await;
    let mut phone = app.browser();
    phone.user_agent = "PhoneBrowser/2.0".into();
    phone.login("susan", PASSWORD, true).await;

    let page = laptop.get("/auth/sessions").await;
    assert_eq!(page.status, 200);
    assert_eq!(page.body.matches("class=\"login-session ").count(), 2);
    assert!(page.body.contains("PhoneBrowser/2.0"));
    let phone_row = page.body.find("PhoneBrowser/2.0").unwrap();
    let id_start = page.body[..phone_row].rfind("id=\"session-").unwrap() + "id=\"session-".len();
    let id: String = page.body[id_start..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();

    let res = laptop
        .submit(
            "/auth/sessions",
            &format!("/auth/sessions/{id}/logout"),
            &[],
        )
        .await;
    assert_eq!(res.location(), Some("/auth/sessions"));

    assert_eq!(phone.get("/index").await.status, 302);
    assert_eq!(laptop.get("/index").await.status, 200);
}

#[actix_web::test]
async fn log_out_everywhere_ends_every_login_including_this_one() {
    let app = spawn_app().await;
    let mut laptop = app.logged_in("susan", false).await;
    let mut phone = app.browser();
    phone.login("susan", PASSWORD, true).await;

    let res = laptop
        .submit("/auth/sessions", "/auth/sessions/logout_all", &[])
        .await;
    assert_eq!(res.location(), Some("/auth/login"));

    assert_eq!(laptop.get("/index").await.status, 302);
    assert_eq!(phone.get("/index").await.status, 302);
}

#[actix_web::test]
async fn one_user_cannot_end_another_users_session() {
    let app = spawn_app().await;
    let mut susan = app.logged_in("susan", false).await;
    let mut john = app.logged_in("john", false).await;
    let page = susan.get("/auth/sessions").await.body;
    let start = page.find("id=\"session-").unwrap() + "id=\"session-".len();
    let susans: String = page[start..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();

    let res = john
        .submit(
            "/auth/sessions",
            &format!("/auth/sessions/{susans}/logout"),
            &[],
        )
        .await;

    assert_eq!(res.status, 404);
    assert_eq!(susan.get("/index").await.status, 200);
}

#[actix_web::test]
async fn a_session_of_a_deleted_user_makes_an_anonymous_visitor() {
    let app = spawn_app().await;
    let mut browser = app.logged_in("susan", true).await;

    app.execute_sql("DELETE FROM users WHERE username = 'susan'");
    let res = browser.get("/index").await;

    assert_eq!(res.status, 302);
    assert_eq!(res.location(), Some("/auth/login?next=%2Findex"));
    assert_eq!(browser.get("/auth/login").await.status, 200);
}

#[actix_web::test]
async fn a_tampered_or_foreign_cookie_makes_an_anonymous_visitor() {
    let app = spawn_app().await;
    let browser = app.logged_in("susan", true).await;
    let other_app = spawn_app().await;
    let mut foreign = other_app.logged_in("susan", true).await;

    let session = browser.cookies["session"].clone();
    let mut flipped: Vec<char> = session.chars().collect();
    let mid = flipped.len() / 2;
    flipped[mid] = if flipped[mid] == 'A' { 'B' } else { 'A' };
    let mut tampered = app.browser();
    tampered
        .cookies
        .insert("session".into(), flipped.into_iter().collect());
    tampered
        .cookies
        .insert("remember_token".into(), "forged".into());
    assert_eq!(tampered.get("/index").await.status, 302);

    // Cookies made with another app's key are not ours.
    let mut stranger = app.browser();
    stranger.cookies = std::mem::take(&mut foreign.cookies);
    assert_eq!(stranger.get("/index").await.status, 302);
    assert_eq!(stranger.get("/auth/login").await.status, 200);
}

#[actix_web::test]
async fn strong_protection_drops_a_login_used_from_another_client() {
    let app = spawn_app_with(&[("SESSION_PROTECTION", "strong")]).await;
    let mut browser = app.logged_in("susan", true).await;
    let mut thief = app.browser();
    thief.cookies = browser.cookies.clone();
    thief.user_agent = "SomethingElse/9".into();

    assert_eq!(thief.get("/index").await.status, 302);
    assert_eq!(
        browser.get("/index").await.status,
        200,
        "the owner stays logged in"
    );
}

#[actix_web::test]
async fn basic_protection_keeps_the_login_but_asks_for_the_password_again() {
    let app = spawn_app().await;
    let browser = app.logged_in("susan", false).await;
    let mut moved = app.browser();
    moved.cookies = browser.cookies.clone();
    moved.user_agent = "SomethingElse/9".into();

    assert_eq!(moved.get("/index").await.status, 200);
    let res = moved.get("/auth/sessions").await;
    assert_eq!(res.status, 302);
    assert_eq!(
        res.location(),
        Some("/auth/reauthenticate?next=%2Fauth%2Fsessions")
    );
    assert_eq!(
        moved.flashes("/index").await,
        vec!["Please reauthenticate to access this page."]
    );

    let url = "/auth/reauthenticate?next=%2Fauth%2Fsessions";
    let res = moved.submit(url, url, &[("password", PASSWORD)]).await;
    assert_eq!(res.location(), Some("/auth/sessions"));
    assert_eq!(moved.get("/auth/sessions").await.status, 200);
}

#[actix_web::test]
async fn no_protection_ignores_a_change_of_client() {
    let app = spawn_app_with(&[("SESSION_PROTECTION", "off")]).await;
    let browser = app.logged_in("susan", false).await;
    let mut moved = app.browser();
    moved.cookies = browser.cookies.clone();
    moved.user_agent = "SomethingElse/9".into();

    assert_eq!(moved.get("/auth/sessions").await.status, 200);
}

#[actix_web::test]
async fn a_login_restored_by_remember_me_is_not_fresh() {
    let app = spawn_app().await;
    let mut browser = app.logged_in("susan", true).await;
    assert_eq!(
        browser.get("/auth/sessions").await.status,
        200,
        "fresh after login"
    );

    browser.cookies.remove("session");
    assert_eq!(browser.get("/index").await.status, 200);
    let res = browser.get("/auth/sessions").await;

    assert_eq!(res.status, 302);
    assert!(res.location().unwrap().starts_with("/auth/reauthenticate"));
}

#[actix_web::test]
async fn cookies_have_safe_flags_and_bounded_lifetimes() {
    let app = spawn_app_with(&[("REMEMBER_COOKIE_DURATION", "7")]).await;
    let mut browser = app.register("susan").await;

    let res = browser.login("susan", PASSWORD, true).await;

    let session = res.set_cookie("session").expect("session cookie");
    assert_eq!(session.http_only(), Some(true));
    assert_eq!(session.same_site(), Some(actix_web::cookie::SameSite::Lax));
    assert!(
        session.max_age().is_none() && session.expires().is_none(),
        "browser-session cookie"
    );
    let remember = res.set_cookie("remember_token").expect("remember cookie");
    assert_eq!(remember.http_only(), Some(true));
    assert_eq!(
        remember.max_age(),
        Some(actix_web::cookie::time::Duration::days(7))
    );
    assert!(!remember.value().contains(&browser.cookies["session"]));
}

/// The statement `/index` reads on PostgreSQL (it runs on either database): the login and the
/// timeline together, found only for the user the session names, and only while the login is
/// alive; the same page as the timeline read on its own.
#[actix_web::test]
async fn the_login_and_timeline_statement_finds_a_login_only_for_its_user() {
    use microblog::models::login_session::{self, NewLoginSession};
    use microblog::models::post::{self, Feed};
    use microblog::models::user;
    use microblog::pagination::PageNumber;

    let app = spawn_app().await;
    let mut susan = app.logged_in("susan", false).await;
    susan
        .submit("/index", "/index", &[("post", "susan writes")])
        .await;
    let mut john = app.logged_in("john", false).await;
    john.submit("/user/susan", "/follow/susan", &[]).await;
    let db = app.database();
    let mut conn = db.get().unwrap();
    let mut id = |name| user::find_by_username(&mut conn, name).unwrap().unwrap().id;
    let (susan_id, john_id) = (id("susan"), id("john"));
    let now = microblog::models::now();
    login_session::create(
        &mut conn,
        &NewLoginSession {
            token_hash: "johns-login",
            user_id: john_id,
            created_at: now,
            last_used: now,
            expires_at: now + chrono::Duration::hours(1),
            remember: false,
            user_agent: "test",
        },
    )
    .unwrap();
    let mut read = |user_id, number, at| {
        login_session::find_active_with_timeline(
            &mut conn,
            "johns-login",
            at,
            user_id,
            PageNumber(number),
            25,
        )
        .unwrap()
    };

    assert!(
        read(susan_id, 1, now).is_none(),
        "john's login named as susan's"
    );
    let later = now + chrono::Duration::hours(2);
    assert!(read(john_id, 1, later).is_none(), "expired");
    let (login, page) = read(john_id, 1, now).expect("john's login");
    assert_eq!(login.user_id, john_id);
    assert_eq!(login.username, "john");
    let (_, past_the_end) = read(john_id, 2000, now).expect("john's login");
    assert!(past_the_end.items.is_empty());
    assert_eq!(past_the_end.newer, Some(1));

    let alone = post::page(&mut conn, Feed::Timeline(john_id), PageNumber(1), 25).unwrap();
    assert_eq!(page.items, alone.items);
    assert_eq!((page.has_next, page.newer), (alone.has_next, alone.newer));
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.items[0].body, "susan writes");
}
