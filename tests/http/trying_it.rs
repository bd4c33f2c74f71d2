//! What the "Trying it" steps of the guide (`docs/`) say a browser shows, where no other test
//! here checked it: the page's words, its status, its redirect. (The steps' commands are run
//! by `tests/guide/`.)

use crate::common::{flashes_of, spawn_app};

/// Chapter 9, step 3: `?page=0` and `?page=abc` are page 1, never an error.
#[actix_web::test]
async fn page_numbers_that_are_no_page_are_page_one() {
    let app = spawn_app().await;
    let mut susan = app.logged_in("susan", false).await;
    susan
        .submit("/index", "/index", &[("post", "the only post")])
        .await;
    for path in ["/index?page=0", "/index?page=abc", "/explore?page=-3"] {
        let res = susan.get(path).await;
        assert_eq!(res.status, 200, "{path}");
        assert!(res.body.contains("the only post"), "{path}");
    }
}

/// Chapter 11, step 2: the register form sent empty marks each field red, with its message
/// under it.
#[actix_web::test]
async fn an_empty_registration_marks_every_field_with_its_message() {
    let app = spawn_app().await;
    let mut browser = app.browser();
    let res = browser
        .submit(
            "/auth/register",
            "/auth/register",
            &[
                ("username", ""),
                ("email", ""),
                ("password", ""),
                ("password2", ""),
            ],
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    for field in ["username", "email", "password", "password2"] {
        let at = res
            .body
            .find(&format!("name=\"{field}\""))
            .unwrap_or_else(|| panic!("no field {field}"));
        let input_start = res.body[..at].rfind('<').unwrap();
        let input = &res.body[input_start..at + res.body[at..].find('>').unwrap()];
        assert!(input.contains("is-invalid"), "{field}: {input}");
    }
    assert_eq!(res.body.matches("This field is required.").count(), 4);
}

/// Chapter 12, step 3: without JavaScript, each date reads as UTC (`2026-12-03 09:30 UTC`),
/// inside the `<time>` the script rewrites.
#[actix_web::test]
async fn without_javascript_dates_read_in_utc() {
    let app = spawn_app().await;
    let mut susan = app.logged_in("susan", false).await;
    susan
        .submit("/index", "/index", &[("post", "a date")])
        .await;
    for path in ["/index", "/user/susan"] {
        let body = susan.get(path).await.body;
        let at = body.find("<time datetime=\"").expect("a date") + "<time datetime=\"".len();
        let iso = &body[at..at + 20];
        assert!(iso.ends_with('Z') && iso.as_bytes()[10] == b'T', "{iso}");
        let shown = format!("{} {} UTC</time>", &iso[..10], &iso[11..16]);
        assert!(body[at..].contains(&shown), "{path}: {shown}");
    }
}

/// Chapter 13, step 2: Español comes back as the same page in Spanish, for a year.
#[actix_web::test]
async fn the_language_menu_keeps_its_choice_a_year() {
    let app = spawn_app().await;
    let mut browser = app.browser();
    let res = browser
        .post("/language", &[("lang", "es"), ("next", "/auth/login")])
        .await;
    assert_eq!(res.location(), Some("/auth/login"));
    let cookie = res.set_cookie("lang").expect("a lang cookie");
    assert_eq!(cookie.value(), "es");
    assert_eq!(cookie.max_age().map(|age| age.whole_days()), Some(365));
    assert!(
        browser
            .get("/auth/login")
            .await
            .body
            .contains("<h1>Ingresar</h1>")
    );
}

/// Chapter 16, step 3: all the words, or a page that says none holds them.
#[actix_web::test]
async fn a_search_no_post_matches_says_so() {
    let app = spawn_app().await;
    let mut susan = app.logged_in("susan", false).await;
    susan
        .submit(
            "/index",
            "/index",
            &[("post", "I went running in the park this morning")],
        )
        .await;
    let found = susan.get("/search?q=PARK+morning").await.body;
    assert!(found.contains("<mark>park</mark>"), "{found}");
    let none = susan.get("/search?q=park+elephant").await;
    assert_eq!(none.status, 200);
    assert!(none.body.contains("No posts hold all of these words."));
    assert!(!none.body.contains("went running"));
}

/// Chapter 8, step 2, and chapter 21, step 5: one's own counts after a follow, and the buttons
/// on another's profile.
#[actix_web::test]
async fn a_profile_shows_the_counts_and_the_buttons_the_steps_press() {
    let app = spawn_app().await;
    app.register("john").await;
    let mut susan = app.logged_in("susan", false).await;
    let john = susan.get("/user/john").await.body;
    for button in [">Follow<", ">Send private message<", ">Block<"] {
        assert!(john.contains(button), "{button}");
    }
    susan.submit("/user/john", "/follow/john", &[]).await;
    let own = susan.get("/user/susan").await.body;
    assert!(own.contains("<span class=\"followers-count\">0</span> followers,"));
    assert!(own.contains("1</span> following."), "{own}");
    assert!(
        !own.contains(">Follow<"),
        "no Follow button on one's own profile"
    );
}

/// Chapter 22, step 2: the flash of an export started.
#[actix_web::test]
async fn an_export_started_says_so() {
    let app = spawn_app().await;
    let mut susan = app.logged_in("susan", false).await;
    let res = susan.submit("/export_posts", "/export_posts", &[]).await;
    assert_eq!(res.status, 302);
    let page = susan.get(res.location().unwrap()).await.body;
    assert!(
        flashes_of(&page)
            .contains(&"Your posts are being exported. The file will be mailed to you.".into()),
        "{:?}",
        flashes_of(&page)
    );
}

/// Deleting, step 1: the page that asks, then the flash on the page the link was on.
#[actix_web::test]
async fn deleting_a_post_asks_first() {
    let app = spawn_app().await;
    let mut susan = app.logged_in("susan", false).await;
    susan
        .submit("/index", "/index", &[("post", "a post to go")])
        .await;
    let explore = susan.get("/explore").await.body;
    let at = explore.find("/delete_post/").expect("a Delete link") + "/delete_post/".len();
    let id: String = explore[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    let confirm = susan
        .get_with(
            &format!("/delete_post/{id}/confirm"),
            &[("Referer", &format!("{}/explore", app.address))],
        )
        .await;
    assert_eq!(confirm.status, 200);
    for words in ["Delete this post?", "a post to go", "Delete the post"] {
        assert!(confirm.body.contains(words), "{words}");
    }
    let token = confirm.csrf_token().unwrap();
    let next = "/explore";
    let res = susan
        .post(
            &format!("/delete_post/{id}"),
            &[
                ("csrf_token", &token),
                ("next", next),
                ("submit", "Delete the post"),
            ],
        )
        .await;
    assert_eq!(res.location(), Some(next));
    let back = susan.get(next).await.body;
    assert_eq!(flashes_of(&back), ["Your post has been deleted."]);
    assert!(!back.contains("a post to go"));
}
