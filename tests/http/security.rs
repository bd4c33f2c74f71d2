//! CSRF, security headers and hostile input.

use crate::common::{PASSWORD, spawn_app};

#[actix_web::test]
async fn a_post_without_a_csrf_token_is_refused_and_stores_nothing() {
    let app = spawn_app().await;
    let mut browser = app.logged_in("susan", false).await;

    let res = browser.post("/index", &[("post", "forged post")]).await;
    assert_eq!(res.status, 400);
    let res = browser
        .post("/index", &[("csrf_token", "0000"), ("post", "forged post")])
        .await;
    assert_eq!(res.status, 400);
    assert!(res.body.contains("CSRF token"), "the reason is shown");
    // The page is the site's, with the navbar of the user who is logged in.
    assert!(res.body.contains(r#"href="/user/susan""#), "{}", res.body);
    assert!(res.body.contains(r#"href="/auth/logout""#));
    assert!(!res.body.contains(r#"href="/auth/login""#));

    assert!(!browser.get("/explore").await.body.contains("forged post"));
}

#[actix_web::test]
async fn a_registration_without_a_csrf_token_creates_no_user() {
    let app = spawn_app().await;
    let mut browser = app.browser();

    let res = browser
        .post(
            "/auth/register",
            &[
                ("username", "mallory"),
                ("email", "m@example.com"),
                ("password", PASSWORD),
                ("password2", PASSWORD),
            ],
        )
        .await;

    assert_eq!(res.status, 400);
    let login = browser.login("mallory", PASSWORD, false).await;
    assert_eq!(login.location(), Some("/auth/login"), "no such user");
}

#[actix_web::test]
async fn a_csrf_token_from_another_session_is_refused() {
    let app = spawn_app().await;
    let mut susan = app.logged_in("susan", false).await;
    let mut john = app.logged_in("john", false).await;
    let johns_token = john.get("/index").await.csrf_token().unwrap();

    let res = susan
        .post(
            "/index",
            &[("csrf_token", &johns_token), ("post", "forged")],
        )
        .await;

    assert_eq!(res.status, 400);
}

#[actix_web::test]
async fn every_response_carries_the_security_headers() {
    let app = spawn_app().await;
    let mut browser = app.browser();

    for path in [
        "/auth/login",
        "/no/such/page",
        "/static/css/microblog.css",
        "/index",
    ] {
        let res = browser.get(path).await;
        assert_eq!(
            res.header("x-content-type-options"),
            Some("nosniff"),
            "{path}"
        );
        assert_eq!(res.header("x-frame-options"), Some("DENY"), "{path}");
        assert!(
            res.header("content-security-policy")
                .is_some_and(|csp| csp.contains("frame-ancestors 'none'")),
            "{path}"
        );
        assert!(res.header("referrer-policy").is_some(), "{path}");
    }
}

#[actix_web::test]
async fn pages_for_a_logged_in_user_are_not_stored_by_caches() {
    let app = spawn_app().await;
    let mut anonymous = app.browser();
    assert_ne!(
        anonymous.get("/auth/login").await.header("cache-control"),
        Some("no-store")
    );

    let mut browser = app.logged_in("susan", false).await;
    for path in ["/index", "/explore", "/no/such/page"] {
        assert_eq!(
            browser.get(path).await.header("cache-control"),
            Some("no-store"),
            "{path}"
        );
    }
}

/// `/explore` lists every post; it must list none.
async fn assert_no_post_is_stored(browser: &mut crate::common::Browser) {
    let explore = browser.get("/explore").await.body;
    assert!(!explore.contains("class=\"post-body"), "a post was stored");
}

#[actix_web::test]
async fn invalid_utf8_and_nul_bytes_get_a_400_and_store_nothing() {
    let app = spawn_app().await;
    let mut browser = app.logged_in("susan", false).await;
    let token = browser.get("/index").await.csrf_token().unwrap();

    let res = browser
        .post_raw(
            "/index",
            format!("csrf_token={token}&post=bad%FF%FEbytes").into_bytes(),
        )
        .await;
    assert_eq!(res.status, 400);
    let mut raw = format!("csrf_token={token}&post=raw").into_bytes();
    raw.extend_from_slice(&[0xC3, 0x28]);
    assert_eq!(browser.post_raw("/index", raw).await.status, 400);
    let res = browser
        .post_raw(
            "/index",
            format!("csrf_token={token}&post=nul%00byte").into_bytes(),
        )
        .await;
    assert_eq!(res.status, 400);

    assert_no_post_is_stored(&mut browser).await;
}

#[actix_web::test]
async fn a_body_over_one_megabyte_gets_a_413_and_stores_nothing() {
    let app = spawn_app().await;
    let mut browser = app.logged_in("susan", false).await;
    let token = browser.get("/index").await.csrf_token().unwrap();
    let body = format!("csrf_token={token}&post=hi&padding={}", "x".repeat(1 << 20));

    let res = browser.post_raw("/index", body.into_bytes()).await;

    assert_eq!(res.status, 413);
    assert_no_post_is_stored(&mut browser).await;
}

#[actix_web::test]
async fn odd_page_numbers_never_give_a_server_error() {
    let app = spawn_app().await;
    let mut browser = app.logged_in("susan", false).await;
    browser
        .submit("/index", "/index", &[("post", "hello")])
        .await;

    for page in [
        "0",
        "-1",
        "abc",
        "1.5",
        "99999999999999999999999",
        "9223372036854775807",
        "%FF",
    ] {
        for path in ["/index", "/explore"] {
            let res = browser.get(&format!("{path}?page={page}")).await;
            assert_eq!(res.status, 200, "{path}?page={page}");
        }
    }
}

#[actix_web::test]
async fn an_overlong_username_or_email_is_a_form_error_not_a_database_error() {
    let app = spawn_app().await;
    let mut browser = app.browser();
    let long_name = "n".repeat(65);
    let long_email = format!("{}@example.com", "e".repeat(120));

    let res = browser
        .submit(
            "/auth/register",
            "/auth/register",
            &[
                ("username", &long_name),
                ("email", &long_email),
                ("password", PASSWORD),
                ("password2", PASSWORD),
            ],
        )
        .await;

    assert_eq!(res.status, 200);
    assert!(
        res.body
            .contains("Field must be between 1 and 64 characters long.")
    );
    assert!(
        res.body
            .contains("Field cannot be longer than 120 characters.")
    );
}
