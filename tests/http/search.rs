//! Chapter 16: full-text search from the navbar, in the database (FTS5 on SQLite, text search on
//! PostgreSQL): what is found, in which order, how it is shown, and that no query is an error.

use crate::common::{Browser, TestApp, spawn_app, spawn_app_with};

/// Publishes each body as `browser`'s user, oldest first.
async fn publish(browser: &mut Browser, bodies: &[&str]) {
    let token = browser.get("/index").await.csrf_token().expect("a form");
    for body in bodies {
        let res = browser
            .post("/index", &[("csrf_token", &token), ("post", body)])
            .await;
        assert_eq!(res.status, 302, "{}", res.body);
    }
}

/// The bodies of the results of `/search?q=<q>` (marks taken out), in order.
async fn results(browser: &mut Browser, q: &str) -> Vec<String> {
    let page = browser
        .get(&format!("/search?q={}", crate::common::encode(q)))
        .await;
    assert_eq!(page.status, 200, "{q:?}: {}", page.body);
    bodies(&page.body)
}

fn bodies(html: &str) -> Vec<String> {
    html.match_indices("class=\"post-body mb-0\"")
        .filter_map(|(i, _)| {
            let rest = &html[i..];
            let start = rest.find('>')? + 1;
            let end = rest.find("</p>")?;
            Some(
                rest[start..end]
                    .replace("<mark>", "")
                    .replace("</mark>", ""),
            )
        })
        .collect()
}

async fn app_with_posts() -> (TestApp, Browser) {
    let app = spawn_app().await;
    let mut susan = app.logged_in("susan", false).await;
    publish(
        &mut susan,
        &[
            "I went running in the park this morning",
            "The café on the corner makes good coffee",
            "Rust programs run fast",
            "A park, a bench and a dog",
            "Running late again: the bus never came",
        ],
    )
    .await;
    (app, susan)
}

#[actix_web::test]
async fn every_word_must_match_regardless_of_case_accents_and_word_form() {
    let (_app, mut susan) = app_with_posts().await;
    assert_eq!(
        results(&mut susan, "PARK morning").await,
        ["I went running in the park this morning"]
    );
    assert_eq!(
        results(&mut susan, "cafe").await,
        ["The café on the corner makes good coffee"]
    );
    // "run" finds "running" and "run" (English word forms); newest first among equals.
    let runs = results(&mut susan, "run").await;
    assert_eq!(runs.len(), 3, "{runs:?}");
    assert!(runs.contains(&"Rust programs run fast".to_owned()));
    assert!(results(&mut susan, "park elephant").await.is_empty());
}

#[actix_web::test]
async fn a_quoted_phrase_matches_as_a_phrase() {
    let (_app, mut susan) = app_with_posts().await;
    assert_eq!(
        results(&mut susan, "\"on the corner\"").await,
        ["The café on the corner makes good coffee"]
    );
    assert_eq!(
        results(&mut susan, "\"good coffee\"").await,
        ["The café on the corner makes good coffee"]
    );
    assert!(results(&mut susan, "\"coffee good\"").await.is_empty());
}

#[actix_web::test]
async fn a_new_post_is_found_at_once_and_a_renamed_author_shows_at_once() {
    let (_app, mut susan) = app_with_posts().await;
    // Searched right after the POST that answered "Your post is now live!".
    publish(&mut susan, &["zebras are striped"]).await;
    let page = susan.get("/search?q=zebras").await.body;
    assert_eq!(bodies(&page), ["zebras are striped"]);
    assert!(page.contains(">susan</a>"));
    assert!(page.contains("<mark>zebras</mark> are striped"), "{page}");

    susan.edit_profile("susanna", "").await;
    let page = susan.get("/search?q=zebras").await.body;
    assert!(
        page.contains(">susanna</a>") && !page.contains(">susan</a>"),
        "{page}"
    );
}

#[actix_web::test]
async fn a_word_searched_again_finds_the_posts_published_and_deleted_since() {
    let (app, mut susan) = app_with_posts().await;
    let mut park = results(&mut susan, "park").await;
    park.sort();
    assert_eq!(
        park,
        [
            "A park, a bench and a dog",
            "I went running in the park this morning"
        ]
    );
    // The ranking of "park" is kept for the next searches; a newer post makes it stale.
    publish(&mut susan, &["The park opened a new gate"]).await;
    let park = results(&mut susan, "park").await;
    assert_eq!(park.len(), 3, "{park:?}");
    assert!(park.contains(&"The park opened a new gate".to_owned()));
    // An older post deleted: the newest post is the same, the kept ranking is used, and the
    // deleted post is not shown from it.
    app.execute_sql("DELETE FROM posts WHERE body = 'A park, a bench and a dog'");
    let mut park = results(&mut susan, "park").await;
    park.sort();
    assert_eq!(
        park,
        [
            "I went running in the park this morning",
            "The park opened a new gate"
        ]
    );
}

#[actix_web::test]
async fn matches_are_marked_and_the_post_is_still_escaped() {
    let app = spawn_app().await;
    let mut susan = app.logged_in("susan", false).await;
    publish(&mut susan, &["<script>alert('x')</script> tag soup"]).await;
    let page = susan.get("/search?q=soup").await.body;
    assert!(
        page.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; tag <mark>soup</mark>"),
        "{page}"
    );
    assert!(!page.contains("<script>alert"));
}

#[actix_web::test]
async fn results_are_paged_with_links_that_keep_the_query() {
    let app = spawn_app_with(&[("POSTS_PER_PAGE", "2")]).await;
    let mut susan = app.logged_in("susan", false).await;
    publish(
        &mut susan,
        &[
            "apple one",
            "apple two",
            "apple three",
            "banana",
            "apple four",
            "apple five",
        ],
    )
    .await;
    let first = susan.get("/search?q=apple").await.body;
    assert_eq!(bodies(&first).len(), 2);
    assert!(
        first.contains("href=\"/search?q=apple&amp;page=2\""),
        "{first}"
    );
    let mut seen = bodies(&first);
    for page in 2..=3 {
        let body = susan
            .get(&format!("/search?q=apple&page={page}"))
            .await
            .body;
        seen.extend(bodies(&body));
    }
    seen.sort();
    assert_eq!(
        seen,
        [
            "apple five",
            "apple four",
            "apple one",
            "apple three",
            "apple two"
        ]
    );
    assert!(bodies(&susan.get("/search?q=apple&page=4").await.body).is_empty());
}

#[actix_web::test]
async fn the_navbar_has_the_box_an_empty_query_goes_to_explore_and_a_login_is_needed() {
    let (app, mut susan) = app_with_posts().await;
    let index = susan.get("/index").await.body;
    assert!(index.contains("action=\"/search\"") && index.contains("name=\"q\""));
    for empty in ["/search", "/search?q=", "/search?q=%20%20"] {
        let res = susan.get(empty).await;
        assert_eq!(res.status, 302, "{empty}");
        assert_eq!(res.location(), Some("/explore"));
    }
    let mut visitor = app.browser();
    let res = visitor.get("/search?q=park").await;
    assert_eq!(res.status, 302);
    assert!(res.location().unwrap().starts_with("/auth/login?next="));
    assert!(
        !visitor
            .get("/auth/login")
            .await
            .body
            .contains("action=\"/search\"")
    );
    // In Spanish too.
    susan.accept_language = Some("es".into());
    let page = susan.get("/search?q=nothingatall").await.body;
    assert!(page.contains("Resultados de la búsqueda") && page.contains("Ningún artículo"));
}

#[actix_web::test]
async fn no_query_is_ever_an_error() {
    let (_app, mut susan) = app_with_posts().await;
    let hostile = [
        "\"",
        "\"\"",
        "park\"",
        "*",
        "park*",
        "-park",
        "^park",
        "(park",
        "park)",
        "NEAR(park dog)",
        "park AND dog",
        "park OR dog",
        "NOT park",
        "park NOT dog",
        "a:b",
        "posts_search:park",
        "'",
        "%",
        "\\",
        ";DROP TABLE posts;--",
        "\u{1}park\u{2}",
        "日本語",
        "😀",
    ];
    for q in hostile {
        let res = susan
            .get(&format!("/search?q={}", crate::common::encode(q)))
            .await;
        assert!(
            res.status == 200 || res.status == 400,
            "{q:?}: {}",
            res.status
        );
        assert!(res.body.contains("<html"), "{q:?}");
    }
    // Operators are words: "park OR elephant" needs all three, and no post has "elephant".
    assert!(results(&mut susan, "park OR elephant").await.is_empty());
    assert!(results(&mut susan, "NEAR(elephant park)").await.is_empty());
    assert_eq!(
        results(&mut susan, "park dog").await,
        ["A park, a bench and a dog"]
    );
    // NUL, invalid UTF-8 and very long queries get a 400 with a reason.
    for bad in ["/search?q=park%00", "/search?q=%FF%FE"] {
        let res = susan.get(bad).await;
        assert_eq!(res.status, 400, "{bad}");
    }
    let long = "park ".repeat(300);
    let res = susan
        .get(&format!("/search?q={}", crate::common::encode(&long)))
        .await;
    assert_eq!(res.status, 400);
    assert!(res.body.contains("too long"), "{}", res.body);
    let many: Vec<String> = (0..20).map(|i| format!("w{i}")).collect();
    let res = susan
        .get(&format!(
            "/search?q={}",
            crate::common::encode(&many.join(" "))
        ))
        .await;
    assert_eq!(res.status, 400);
    assert!(res.body.contains("too many words"), "{}", res.body);
}

#[actix_web::test]
async fn the_best_matches_come_first_among_recent_posts() {
    let app = spawn_app().await;
    let mut susan = app.logged_in("susan", false).await;
    publish(
        &mut susan,
        &[
            "soup soup soup, all about soup",
            "I had lunch today and it was fine, with a little soup on the side",
            "nothing to see",
        ],
    )
    .await;
    // The older post says "soup" four times in few words: it ranks above the newer one.
    assert_eq!(
        results(&mut susan, "soup").await,
        [
            "soup soup soup, all about soup",
            "I had lunch today and it was fine, with a little soup on the side"
        ]
    );
}

#[actix_web::test]
async fn search_reindex_makes_the_index_again_with_its_count() {
    let database = crate::common::TestDatabase::fresh();
    let mut app = spawn_app_with(&[("DATABASE_URL", database.url.as_str())]).await;
    let mut susan = app.logged_in("susan", false).await;
    publish(&mut susan, &["first words", "second words"]).await;
    app.stop().await;

    let work = tempfile::tempdir().unwrap();
    let output = crate::common::microblog_command(
        work.path(),
        &[
            ("DATABASE_URL", database.url.as_str()),
            ("SECRET_KEY", &crate::common::random_hex(32)),
        ],
    )
    .args(["search", "reindex"])
    .output()
    .expect("run");
    let said = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(said.contains("indexed 2 posts"), "{said}");

    let app = spawn_app_with(&[("DATABASE_URL", database.url.as_str())]).await;
    let mut susan = app.browser();
    susan.login("susan", crate::common::PASSWORD, false).await;
    assert_eq!(results(&mut susan, "words").await.len(), 2);
    assert_eq!(results(&mut susan, "second").await, ["second words"]);
}

/// How many posts wait for SQLite's index (PostgreSQL's is written with each post: none).
fn posts_waiting_for_the_index(app: &TestApp) -> i64 {
    use diesel::RunQueryDsl as _;
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let db = app.database();
    let mut conn = db.get().expect("connection");
    match &mut *conn {
        microblog::db::DbConn::Sqlite(c) => {
            diesel::sql_query(
                "SELECT count(*) AS n FROM posts
                 WHERE id > (SELECT indexed_through FROM posts_search_mark)",
            )
            .get_result::<Count>(c)
            .expect("count")
            .n
        }
        microblog::db::DbConn::Postgresql(_) => 0,
    }
}

#[actix_web::test]
async fn new_posts_reach_the_index_within_a_second_even_with_no_search() {
    let app = spawn_app().await;
    let mut susan = app.logged_in("susan", false).await;
    publish(&mut susan, &["one", "two", "three"]).await;
    let started = std::time::Instant::now();
    while posts_waiting_for_the_index(&app) > 0 {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "posts still wait for the index"
        );
        actix_web::rt::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    // Then the search reads the index as it is.
    assert_eq!(results(&mut susan, "two").await, ["two"]);
}

#[actix_web::test]
async fn posts_edited_or_deleted_outside_the_app_are_found_as_they_are_now() {
    let (app, mut susan) = app_with_posts().await;
    // Indexed posts (the search indexed everything published before it) ...
    assert_eq!(
        results(&mut susan, "bench").await,
        ["A park, a bench and a dog"]
    );
    app.execute_sql(
        "UPDATE posts SET body = 'A park, a swing and a cat' WHERE body LIKE 'A park%';
         DELETE FROM posts WHERE body LIKE 'Rust programs%';",
    );
    // ... and posts that no search or catch-up has seen yet: written, changed or deleted in one
    // transaction, so nothing can index them in between.
    app.execute_sql(
        "BEGIN;
         INSERT INTO posts (body, timestamp, user_id, language)
             SELECT 'kept words first', CURRENT_TIMESTAMP, id, 'en' FROM users WHERE username = 'susan';
         INSERT INTO posts (body, timestamp, user_id, language)
             SELECT 'dropped words', CURRENT_TIMESTAMP, id, 'en' FROM users WHERE username = 'susan';
         UPDATE posts SET body = 'kept words changed' WHERE body = 'kept words first';
         DELETE FROM posts WHERE body = 'dropped words';
         COMMIT;",
    );
    assert!(results(&mut susan, "bench").await.is_empty());
    assert_eq!(
        results(&mut susan, "cat").await,
        ["A park, a swing and a cat"]
    );
    assert!(results(&mut susan, "rust").await.is_empty());
    assert_eq!(results(&mut susan, "words").await, ["kept words changed"]);
    assert!(results(&mut susan, "first").await.is_empty());
    assert!(results(&mut susan, "dropped").await.is_empty());
    // The index holds exactly the posts: FTS5's own check of an external-content index.
    if matches!(app.database_url, microblog::config::DatabaseUrl::Sqlite(_)) {
        app.execute_sql(
            "INSERT INTO posts_search (posts_search, rank) VALUES ('integrity-check', 1)",
        );
    }
}
