//! Chapter 5: register, log in, log out, `login_required`, `next`.

use crate::common::{PASSWORD, flashes_of, spawn_app, spawn_app_with};

#[actix_web::test]
async fn anonymous_visit_to_index_redirects_to_login_with_next_and_flash() {
    let app = spawn_app().await;
    let mut browser = app.browser();

    let res = browser.get("/index").await;

    assert_eq!(res.status, 302);
    assert_eq!(res.location(), Some("/auth/login?next=%2Findex"));
    let flashes = browser.flashes("/auth/login").await;
    assert_eq!(flashes, vec!["Please log in to access this page."]);
}

#[actix_web::test]
async fn anonymous_visit_keeps_the_query_string_in_next() {
    let app = spawn_app().await;
    let mut browser = app.browser();

    for (path, next) in [
        ("/explore?page=2", "/auth/login?next=%2Fexplore%3Fpage%3D2"),
        ("/", "/auth/login?next=%2F"),
    ] {
        let res = browser.get(path).await;
        assert_eq!(res.status, 302);
        assert_eq!(res.location(), Some(next));
    }
}

#[actix_web::test]
async fn after_login_the_user_lands_on_the_page_they_asked_for() {
    let app = spawn_app().await;
    let mut browser = app.register("susan").await;

    let form = browser.get("/auth/login?next=%2Fexplore%3Fpage%3D2").await;
    let token = form.csrf_token().unwrap();
    let res = browser
        .post(
            "/auth/login?next=%2Fexplore%3Fpage%3D2",
            &[
                ("csrf_token", &token),
                ("username", "susan"),
                ("password", PASSWORD),
            ],
        )
        .await;

    assert_eq!(res.status, 302);
    assert_eq!(res.location(), Some("/explore?page=2"));
}

#[actix_web::test]
async fn a_next_that_leaves_the_site_is_ignored() {
    let app = spawn_app().await;
    app.register("susan").await;

    for next in [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example",
        "javascript:alert(1)",
        "/index\r\nSet-Cookie:%20x=y",
    ] {
        let mut browser = app.browser();
        let url = format!("/auth/login?next={}", crate::common::encode(next));
        let res = browser
            .submit(&url, &url, &[("username", "susan"), ("password", PASSWORD)])
            .await;
        assert_eq!(res.status, 302, "{next}");
        assert_eq!(res.location(), Some("/index"), "{next}");
    }
}

#[actix_web::test]
async fn a_registered_user_logs_in_and_is_greeted_on_index() {
    let app = spawn_app().await;
    let mut browser = app.register("susan").await;
    let flashes = browser.flashes("/auth/login").await;
    assert_eq!(
        flashes,
        vec!["Congratulations, you are now a registered user!"]
    );

    let res = browser.login("susan", PASSWORD, false).await;
    assert_eq!(res.location(), Some("/index"));
    let index = browser.get("/index").await;

    assert_eq!(index.status, 200);
    assert!(index.body.contains("Hi, susan!"));
    assert!(index.body.contains("/auth/logout"), "navbar shows Logout");
    assert!(
        !index.body.contains("href=\"/auth/login\""),
        "navbar hides Login"
    );
}

#[actix_web::test]
async fn registration_errors_are_shown_next_to_the_fields_with_the_input_kept() {
    let app = spawn_app().await;
    app.register("susan").await;
    let mut browser = app.browser();

    let res = browser
        .submit(
            "/auth/register",
            "/auth/register",
            &[
                ("username", "susan"),
                ("email", "SUSAN@example.com"),
                ("password", PASSWORD),
                ("password2", "something else"),
            ],
        )
        .await;

    assert_eq!(res.status, 200);
    assert!(res.body.contains("Please use a different username."));
    assert!(res.body.contains("Field must be equal to password."));
    assert!(
        res.body.contains("value=\"SUSAN@example.com\""),
        "input kept"
    );
    assert!(!res.body.contains(PASSWORD), "passwords are never echoed");

    let res = browser
        .submit(
            "/auth/register",
            "/auth/register",
            &[
                ("username", "john"),
                ("email", "SUSAN@example.com"),
                ("password", PASSWORD),
                ("password2", PASSWORD),
            ],
        )
        .await;
    assert!(res.body.contains("Please use a different email address."));

    let res = browser
        .submit(
            "/auth/register",
            "/auth/register",
            &[
                ("username", ""),
                ("email", "not-an-email"),
                ("password", ""),
                ("password2", ""),
            ],
        )
        .await;
    assert!(res.body.contains("This field is required."));
    assert!(res.body.contains("Invalid email address."));
}

#[actix_web::test]
async fn weak_passwords_are_refused_with_a_reason() {
    let app = spawn_app().await;
    let mut browser = app.browser();

    for (password, reason) in [
        ("short1", "This password is too short."),
        ("12345678901234", "This password is entirely numeric."),
        ("password123", "This password is too common."),
        ("susan-the-great", "too similar to the username"),
    ] {
        let res = browser
            .submit(
                "/auth/register",
                "/auth/register",
                &[
                    ("username", "susan"),
                    ("email", "susan@example.com"),
                    ("password", password),
                    ("password2", password),
                ],
            )
            .await;
        assert_eq!(res.status, 200, "{password}");
        assert!(res.body.contains(reason), "{password}: {}", res.body);
    }
}

#[actix_web::test]
async fn every_character_of_a_long_password_counts() {
    let app = spawn_app().await;
    let long: String = (0..1000u32)
        .map(|i| char::from(b'a' + (i * 7 % 26) as u8))
        .collect();
    assert_eq!(long.chars().count(), 1000);
    let mut browser = app.browser();
    let res = browser
        .submit(
            "/auth/register",
            "/auth/register",
            &[
                ("username", "susan"),
                ("email", "susan@example.com"),
                ("password", &long),
                ("password2", &long),
            ],
        )
        .await;
    assert_eq!(res.status, 302, "{}", res.body);

    let almost = format!("{}#", &long[..999]);
    let res = browser.login("susan", &almost, false).await;
    assert_eq!(
        res.location(),
        Some("/auth/login"),
        "last character differs"
    );
    let res = browser.login("susan", &long, false).await;
    assert_eq!(res.location(), Some("/index"));
}

#[actix_web::test]
async fn a_password_over_a_thousand_characters_is_a_form_error() {
    let app = spawn_app().await;
    let mut browser = app.browser();
    let huge = "xq".repeat(600);

    let res = browser
        .submit(
            "/auth/register",
            "/auth/register",
            &[
                ("username", "susan"),
                ("email", "susan@example.com"),
                ("password", &huge),
                ("password2", &huge),
            ],
        )
        .await;

    assert_eq!(res.status, 200);
    assert!(res.body.contains("This password is too long."));
}

#[actix_web::test]
async fn wrong_password_and_unknown_user_look_the_same() {
    let app = spawn_app().await;
    app.register("susan").await;

    let mut answers = Vec::new();
    for (username, password) in [("susan", "wrong password!"), ("nobody", PASSWORD)] {
        let mut browser = app.browser();
        let res = browser.login(username, password, false).await;
        let next = browser.get(res.location().unwrap()).await;
        answers.push((
            res.status,
            res.location().map(str::to_owned),
            flashes_of(&next.body),
        ));
    }

    assert_eq!(answers[0], answers[1]);
    assert_eq!(answers[0].2, vec!["Invalid username or password"]);
}

#[actix_web::test]
async fn the_username_typed_survives_a_wrong_password_once() {
    let app = spawn_app().await;
    app.register("susan").await;
    let mut browser = app.browser();

    let res = browser.login("Susan", "wrong password!", false).await;
    assert_eq!(res.location(), Some("/auth/login"));
    let form = browser.get("/auth/login").await.body;
    assert!(form.contains(r#"name="username" value="Susan""#), "{form}");
    // The login field is not capitalised or corrected by a phone's keyboard.
    assert!(form.contains(r#"autocapitalize="none""#), "{form}");
    let again = browser.get("/auth/login").await.body;
    assert!(again.contains(r#"name="username" value="""#), "{again}");
}

#[actix_web::test]
async fn usernames_are_one_name_whatever_their_case_at_login_and_in_the_api() {
    let app = spawn_app().await;
    app.register("alice").await;

    // Any case logs in, as the one account.
    for typed in ["ALICE", "Alice", "alice"] {
        let mut browser = app.browser();
        let res = browser.login(typed, PASSWORD, false).await;
        assert_eq!(res.location(), Some("/index"), "{typed}");
        let page = browser.get("/index").await.body;
        assert!(page.contains("Hi, alice!"), "{typed}: {page}");
    }
    // Another name that only looks alike is not a login.
    let mut browser = app.browser();
    let res = browser.login("aIice", PASSWORD, false).await;
    assert_eq!(res.location(), Some("/auth/login"));

    // A token by HTTP Basic, in another case.
    let token = awc::Client::default()
        .post(format!("{}/api/tokens", app.address))
        .basic_auth("ALICE", PASSWORD)
        .send()
        .await
        .unwrap();
    assert_eq!(token.status().as_u16(), 200);

    // Registering, renaming and the API refuse the name in another case.
    let res = app
        .browser()
        .submit(
            "/auth/register",
            "/auth/register",
            &[
                ("username", "Alice"),
                ("email", "other@example.com"),
                ("password", PASSWORD),
                ("password2", PASSWORD),
            ],
        )
        .await;
    assert!(res.body.contains("Please use a different username."));
    let mut bob = app.logged_in("bob", false).await;
    let res = bob.edit_profile("ALICE", "").await;
    assert!(res.body.contains("Please use a different username."));
    let res = awc::Client::default()
        .post(format!("{}/api/users", app.address))
        .send_json(&serde_json::json!({
            "username": "aLiCe", "email": "third@example.com", "password": PASSWORD
        }))
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 400);
}

#[actix_web::test]
async fn two_names_differing_only_in_case_from_before_the_rule_both_keep_logging_in() {
    // A database from before usernames were unique in any case, holding "Alice" and "alice".
    let database = crate::common::TestDatabase::fresh();
    let mut app = spawn_app_with(&[("DATABASE_URL", database.url.as_str())]).await;
    app.register("Alice").await;
    app.stop().await;
    let hash: String = {
        use diesel::prelude::*;
        use microblog::schema::users;
        let db = app.database();
        let mut conn = db.get().unwrap();
        users::table
            .select(users::password_hash)
            .first(&mut *conn)
            .unwrap()
    };
    // One statement batch: each connection of the test's own would migrate again first.
    app.execute_sql(&format!(
        "DROP INDEX ix_users_username_lower; ALTER TABLE users DROP COLUMN case_twin;
         DELETE FROM __diesel_schema_migrations WHERE version = '20261207000016';
         INSERT INTO users (username, email, password_hash, last_seen)
         VALUES ('alice', 'twin@example.com', '{hash}', '2026-01-01 00:00:00');"
    ));

    // The next start migrates: both accounts are still there, each logs in by its exact name,
    // and another case finds the older one.
    let app = spawn_app_with(&[("DATABASE_URL", database.url.as_str())]).await;
    for (typed, greeted) in [("alice", "alice"), ("Alice", "Alice"), ("ALICE", "Alice")] {
        let mut browser = app.browser();
        let res = browser.login(typed, PASSWORD, false).await;
        assert_eq!(res.location(), Some("/index"), "{typed}");
        let page = browser.get("/index").await.body;
        assert!(page.contains(&format!("Hi, {greeted}!")), "{typed}: {page}");
    }
    // The younger one may rename itself, and then keeps to the rule.
    let mut twin = app.browser();
    twin.login("alice", PASSWORD, false).await;
    let res = twin.edit_profile("ALICE", "").await;
    assert!(res.body.contains("Please use a different username."));
    let res = twin.edit_profile("alice2", "").await;
    assert_eq!(res.location(), Some("/edit_profile"));
    let res = twin.edit_profile("ALICE2", "").await;
    assert_eq!(
        res.location(),
        Some("/edit_profile"),
        "its own name in another case"
    );
}

#[actix_web::test]
async fn a_logged_in_user_is_sent_from_the_auth_pages_to_index() {
    let app = spawn_app().await;
    let mut browser = app.logged_in("susan", false).await;

    for path in ["/auth/login", "/auth/register"] {
        let res = browser.get(path).await;
        assert_eq!(res.status, 302, "{path}");
        assert_eq!(res.location(), Some("/index"), "{path}");
    }
}

#[actix_web::test]
async fn logout_redirects_to_index_which_then_asks_for_a_login() {
    let app = spawn_app().await;
    let mut browser = app.logged_in("susan", false).await;

    let res = browser.get("/auth/logout").await;
    assert_eq!(res.status, 302);
    assert_eq!(res.location(), Some("/index"));

    let res = browser.get("/index").await;
    assert_eq!(res.location(), Some("/auth/login?next=%2Findex"));
    // One message, the one that says what happened.
    assert_eq!(
        browser.flashes("/auth/login?next=%2Findex").await,
        vec!["You have been logged out."]
    );
    // A later visit that needs a login still says so.
    browser.get("/explore").await;
    assert_eq!(
        browser.flashes("/auth/login?next=%2Fexplore").await,
        vec!["Please log in to access this page."]
    );
}

#[actix_web::test]
async fn logout_by_post_works_too() {
    let app = spawn_app().await;
    let mut browser = app.logged_in("susan", false).await;

    let res = browser.post("/auth/logout", &[]).await;
    assert_eq!(res.location(), Some("/index"));
    assert_eq!(browser.get("/index").await.status, 302);
}

#[actix_web::test]
async fn a_logout_link_on_another_site_asks_first_and_only_a_press_of_the_button_logs_out() {
    let app = spawn_app().await;
    let mut browser = app.logged_in("susan", false).await;
    let cross_site = [("Sec-Fetch-Site", "cross-site")];

    // Another site's link, image or redirect to /auth/logout: a page that asks, nothing ended.
    let res = browser.get_with("/auth/logout", &cross_site).await;
    assert_eq!(res.status, 200);
    assert!(
        res.body.contains("Another site sent you here"),
        "{}",
        res.body
    );
    assert!(res.body.contains(r#"action="/auth/logout""#));
    assert_eq!(browser.get("/index").await.status, 200, "still logged in");

    // A bookmark or a typed address, a link on this site, and a client that sends no
    // Fetch Metadata all log out at once, as the Flask app does.
    for site in ["none", "same-origin"] {
        let mut browser = app.browser();
        browser.login("susan", PASSWORD, false).await;
        let res = browser
            .get_with("/auth/logout", &[("Sec-Fetch-Site", site)])
            .await;
        assert_eq!(res.location(), Some("/index"), "{site}");
        assert_eq!(browser.get("/index").await.status, 302, "{site}");
    }

    // The button of the page that asked.
    let res = browser.post("/auth/logout", &[("submit", "Logout")]).await;
    assert_eq!(res.location(), Some("/index"));
    assert_eq!(browser.get("/index").await.status, 302);
}

#[actix_web::test]
async fn a_flash_message_is_shown_exactly_once() {
    let app = spawn_app().await;
    let mut browser = app.logged_in("susan", false).await;
    let res = browser
        .submit("/index", "/index", &[("post", "my first post")])
        .await;
    assert_eq!(res.location(), Some("/index"));

    assert_eq!(
        browser.flashes("/index").await,
        vec!["Your post is now live!"]
    );
    assert!(browser.flashes("/index").await.is_empty());
}

#[actix_web::test]
async fn registrations_racing_for_one_address_in_any_case_make_one_user_and_say_it_is_taken() {
    let app = spawn_app().await;
    let mut browsers: Vec<_> = (0..8).map(|_| app.browser()).collect();
    let names: Vec<String> = (0..8).map(|i| format!("racer{i}")).collect();
    // One address in eight cases: those that pass the app's look at the same moment meet the
    // database's unique index on the lower-cased address.
    let emails: Vec<String> = [
        "same", "Same", "sAme", "SAme", "saMe", "SaMe", "sAMe", "SAMe",
    ]
    .iter()
    .map(|local| format!("{local}@example.com"))
    .collect();
    let forms: Vec<[(&str, &str); 4]> = names
        .iter()
        .zip(&emails)
        .map(|(name, email)| {
            [
                ("username", name.as_str()),
                ("email", email.as_str()),
                ("password", PASSWORD),
                ("password2", PASSWORD),
            ]
        })
        .collect();
    let sent = browsers
        .iter_mut()
        .zip(&forms)
        .map(|(browser, fields)| browser.submit("/auth/register", "/auth/register", fields));
    let results = futures_util::future::join_all(sent).await;
    let registered = results.iter().filter(|res| res.status == 302).count();
    assert_eq!(registered, 1, "exactly one registration wins");
    for res in results.iter().filter(|res| res.status != 302) {
        assert_eq!(res.status, 200, "{}", res.body);
        assert!(res.body.contains("Please use a different email address."));
        assert!(
            !res.body.contains("Please use a different username."),
            "the name was free: only the address is blamed"
        );
    }
}

#[actix_web::test]
async fn an_address_with_a_capital_beyond_ascii_is_still_found_taken() {
    let app = spawn_app().await;
    let register = |name: &'static str| {
        let mut browser = app.browser();
        async move {
            let fields = [
                ("username", name),
                ("email", "Ärger@example.com"),
                ("password", PASSWORD),
                ("password2", PASSWORD),
            ];
            browser
                .submit("/auth/register", "/auth/register", &fields)
                .await
        }
    };
    assert_eq!(register("first").await.status, 302);
    let again = register("second").await;
    assert_eq!(again.status, 200);
    assert!(again.body.contains("Please use a different email address."));
    assert!(!again.body.contains("Please use a different username."));
}

#[actix_web::test]
async fn look_alike_usernames_are_taken_whatever_their_case_width_or_script() {
    let app = spawn_app().await;
    app.register("susan").await;
    app.register("mary").await;
    let mut browser = app.browser();
    // Upper case, full-width letters, a Cyrillic "ѕ", and "rn" for "m" against "mary".
    for (i, name) in ["SUSAN", "ｓｕｓａｎ", "ѕusan", "rnary"].iter().enumerate() {
        let email = format!("look{i}@example.com");
        let res = browser
            .submit(
                "/auth/register",
                "/auth/register",
                &[
                    ("username", name),
                    ("email", &email),
                    ("password", PASSWORD),
                    ("password2", PASSWORD),
                ],
            )
            .await;
        assert_eq!(res.status, 200, "{name} was accepted");
        assert!(
            res.body.contains("Please use a different username."),
            "{name}"
        );
    }

    // A rename to a look-alike of someone else's name is refused too; one's own, in another
    // case, is fine.
    let mut john = app.logged_in("john", false).await;
    let res = john.edit_profile("Susan", "").await;
    assert!(
        res.body.contains("Please use a different username."),
        "{}",
        res.body
    );
    let mut susan = app.browser();
    susan.login("susan", PASSWORD, false).await;
    let res = susan.edit_profile("Susan", "").await;
    assert_eq!(res.location(), Some("/edit_profile"), "{}", res.body);
}
