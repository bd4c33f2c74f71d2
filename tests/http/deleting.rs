//! Taking back what one wrote (a port addition): a post, a message, a whole account, and
//! deleted means gone, from every page, the API and, on SQLite, the database's files.

use std::time::Duration;

use crate::common::{
    Browser, PASSWORD, TestApp, TestDatabase, flashes_of, spawn_app, spawn_app_with,
};

/// The id of the post holding `text` on `html` (`<article ... id="post-N">`).
fn post_id(html: &str, text: &str) -> i32 {
    let at = html
        .find(text)
        .unwrap_or_else(|| panic!("no {text:?} in {html}"));
    let start = html[..at].rfind("<article class=\"post").expect("a post");
    let start = start + html[start..].find("id=\"post-").unwrap() + 9;
    let digits: String = html[start..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().unwrap()
}

/// A token for `username`, from `POST /api/tokens`.
async fn token(app: &TestApp, username: &str) -> String {
    let mut res = awc::Client::default()
        .post(format!("{}/api/tokens", app.address))
        .basic_auth(username, PASSWORD)
        .send()
        .await
        .unwrap();
    let json: serde_json::Value = res.json().await.unwrap();
    json["token"].as_str().expect("a token").to_owned()
}

/// The status of `method path` sent with `token`.
async fn api_status(app: &TestApp, method: &str, path: &str, token: &str) -> u16 {
    let method = actix_web::http::Method::from_bytes(method.as_bytes()).unwrap();
    awc::Client::default()
        .request(method, format!("{}{path}", app.address))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn publish(browser: &mut Browser, text: &str) {
    let res = browser.submit("/index", "/index", &[("post", text)]).await;
    assert_eq!(res.location(), Some("/index"), "{}", res.body);
}

/// How many rows of `table` match `condition`.
fn count(app: &TestApp, table: &str, condition: &str) -> i64 {
    use diesel::prelude::*;
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let db = app.database();
    let mut conn = db.get().unwrap();
    let sql = format!("SELECT COUNT(*) AS n FROM {table} WHERE {condition}");
    let row: Count = match &mut *conn {
        microblog::db::DbConn::Sqlite(c) => diesel::sql_query(&sql).get_result(c),
        microblog::db::DbConn::Postgresql(c) => diesel::sql_query(&sql).get_result(c),
    }
    .unwrap();
    row.n
}

#[actix_web::test]
async fn the_author_deletes_a_post_after_a_confirmation_and_it_is_gone_everywhere() {
    let app = spawn_app().await;
    let mut susan = app.logged_in("susan", false).await;
    let mut john = app.logged_in("john", false).await;
    publish(
        &mut susan,
        "Today I wrote a long post about xylophones and the music we played at school",
    )
    .await;
    publish(&mut susan, "another post that stays").await;
    john.submit("/user/susan", "/follow/susan", &[]).await;
    let explore = susan.get("/explore").await.body;
    let id = post_id(
        &explore,
        "Today I wrote a long post about xylophones and the music we played at school",
    );
    let kept = post_id(&explore, "another post that stays");
    // A translation kept of it into Spanish, as the Translate link would have stored.
    let key = microblog::models::translation::cache_key(
        "Today I wrote a long post about xylophones and the music we played at school",
        "en",
        "es",
    );
    app.execute_sql(&format!(
        "INSERT INTO translations (key_hash, translated, created_at)
         VALUES ('{key}', 'un artículo sobre xilófonos', '2026-12-01 00:00:00')"
    ));

    // Only its author gets a Delete link, and the page that asks comes back where it was.
    assert!(explore.contains(&format!("href=\"/delete_post/{id}/confirm\"")));
    assert!(
        !john
            .get("/explore")
            .await
            .body
            .contains(&format!("/delete_post/{id}/"))
    );
    let referer = format!("{}/explore?page=1", app.address);
    let confirm = susan
        .get_with(
            &format!("/delete_post/{id}/confirm"),
            &[("Referer", &referer)],
        )
        .await;
    assert_eq!(confirm.status, 200);
    assert!(
        confirm.body.contains(
            "Today I wrote a long post about xylophones and the music we played at school"
        )
    );
    assert!(
        confirm
            .body
            .contains(r#"name="next" value="/explore?page=1""#)
    );
    assert_eq!(
        john.get(&format!("/delete_post/{id}/confirm")).await.status,
        403
    );

    // Someone else's post: 403, and nothing changes. A GET: 405.
    let res = john
        .submit("/index", &format!("/delete_post/{id}"), &[])
        .await;
    assert_eq!(res.status, 403);
    assert_eq!(susan.get(&format!("/delete_post/{id}")).await.status, 405);
    assert!(john.get("/index").await.body.contains("xylophones"));

    let res = susan
        .submit(
            &format!("/delete_post/{id}/confirm"),
            &format!("/delete_post/{id}"),
            &[("next", "/explore?page=1")],
        )
        .await;
    assert_eq!(
        res.location(),
        Some("/explore?page=1"),
        "{} {}",
        res.status,
        res.body
    );
    assert_eq!(
        flashes_of(&susan.get("/explore?page=1").await.body),
        ["Your post has been deleted."]
    );
    // Gone from the timelines, the profile, search, the API and the translation cache.
    for page in ["/index", "/explore", "/user/susan", "/search?q=xylophones"] {
        let body = john.get(page).await.body;
        assert!(!body.contains("about xylophones"), "{page}: {body}");
        assert!(!body.contains("about <mark>xylophones"), "{page}: {body}");
    }
    assert!(
        john.get("/user/susan")
            .await
            .body
            .contains("another post that stays")
    );
    let johns = token(&app, "john").await;
    assert_eq!(
        api_status(&app, "GET", &format!("/api/posts/{id}"), &johns).await,
        404
    );
    assert_eq!(
        api_status(&app, "GET", &format!("/api/posts/{kept}"), &johns).await,
        200
    );
    assert_eq!(
        count(&app, "translations", &format!("key_hash = '{key}'")),
        0
    );
    // A second time, it is not there: 404. A next that leaves the site goes home.
    let res = susan
        .submit(
            "/index",
            &format!("/delete_post/{kept}"),
            &[("next", "//evil.example")],
        )
        .await;
    assert_eq!(res.location(), Some("/index"));
    let again = susan
        .submit("/index", &format!("/delete_post/{id}"), &[])
        .await;
    assert_eq!(again.status, 404);
}

#[actix_web::test]
async fn ids_that_are_not_posts_are_404_and_two_deletions_at_once_make_one() {
    let app = spawn_app().await;
    let mut susan = app.logged_in("susan", false).await;
    for id in ["999999", "abc", "-1", "0", "99999999999999999999", "1.5"] {
        let res = susan
            .submit("/index", &format!("/delete_post/{id}"), &[])
            .await;
        assert_eq!(res.status, 404, "{id}");
        assert_eq!(
            susan
                .get(&format!("/delete_post/{id}/confirm"))
                .await
                .status,
            404,
            "{id}"
        );
        let res = susan
            .submit("/index", &format!("/delete_message/{id}"), &[])
            .await;
        assert_eq!(res.status, 404, "{id}");
    }

    publish(&mut susan, "deleted twice at once").await;
    let id = post_id(&susan.get("/index").await.body, "deleted twice at once");
    let token = susan.get("/index").await.csrf_token().unwrap();
    let fields = [("csrf_token", token.as_str()), ("submit", "Delete")];
    let path = format!("/delete_post/{id}");
    let mut other = susan.clone_session();
    let (one, two) =
        futures_util::future::join(susan.post(&path, &fields), other.post(&path, &fields)).await;
    let mut statuses = [one.status, two.status];
    statuses.sort_unstable();
    assert_eq!(statuses, [302, 404]);
}

#[actix_web::test]
async fn the_api_deletes_ones_own_posts_only() {
    let app = spawn_app().await;
    let mut susan = app.logged_in("susan", false).await;
    app.register("john").await;
    publish(&mut susan, "written for the API to delete").await;
    let id = post_id(
        &susan.get("/index").await.body,
        "written for the API to delete",
    );
    let (hers, his) = (token(&app, "susan").await, token(&app, "john").await);
    let path = format!("/api/posts/{id}");
    assert_eq!(api_status(&app, "DELETE", &path, &his).await, 403);
    assert_eq!(api_status(&app, "GET", &path, &his).await, 200);
    assert_eq!(api_status(&app, "DELETE", &path, &hers).await, 204);
    assert_eq!(api_status(&app, "DELETE", &path, &hers).await, 404);
    assert_eq!(api_status(&app, "GET", &path, &his).await, 404);
    assert_eq!(
        api_status(&app, "DELETE", "/api/posts/99999", &hers).await,
        404
    );
    let document = awc::Client::default()
        .get(format!("{}/api/openapi.json", app.address))
        .send()
        .await
        .unwrap()
        .body()
        .await
        .unwrap();
    let document: serde_json::Value = serde_json::from_slice(&document).unwrap();
    let delete = &document["paths"]["/api/posts/{id}"]["delete"];
    for status in ["204", "401", "403", "404"] {
        assert!(
            delete["responses"][status].is_object(),
            "{status}: {delete}"
        );
    }
}

#[actix_web::test]
async fn a_message_leaves_the_recipients_list_and_only_theirs() {
    let app = spawn_app().await;
    let mut susan = app.logged_in("susan", false).await;
    let mut john = app.logged_in("john", false).await;
    let path = "/send_message/susan";
    john.submit(path, path, &[("message", "a message to take back")])
        .await;
    let page = susan.get("/messages").await.body;
    let at = page
        .find("action=\"/delete_message/")
        .expect("a Delete button")
        + 24;
    let id: i32 = page[at..at + page[at..].find('"').unwrap()]
        .parse()
        .unwrap();
    // Not the sender's to delete from her list.
    let res = john
        .submit("/index", &format!("/delete_message/{id}"), &[])
        .await;
    assert_eq!(res.status, 404);
    let res = susan
        .submit("/messages", &format!("/delete_message/{id}"), &[])
        .await;
    assert_eq!(res.location(), Some("/messages"));
    let page = susan.get("/messages").await.body;
    assert_eq!(flashes_of(&page), ["The message has been deleted."]);
    assert!(!page.contains("a message to take back"));
}

/// The site's SQLite files, as bytes: the database and its write-ahead log.
fn sqlite_files(app: &TestApp) -> Option<Vec<u8>> {
    let microblog::config::DatabaseUrl::Sqlite(path) = &app.database_url else {
        return None;
    };
    let mut bytes = std::fs::read(path).unwrap();
    let wal = format!("{}-wal", path.display());
    bytes.extend(std::fs::read(wal).unwrap_or_default());
    Some(bytes)
}

fn holds(bytes: &[u8], word: &str) -> bool {
    bytes.windows(word.len()).any(|w| w == word.as_bytes())
}

#[actix_web::test]
async fn deleting_an_account_takes_everything_of_it_down_to_the_database_files() {
    let app = spawn_app().await;
    let name = "zebediah_quuxly";
    let mut zeb = app.logged_in(name, false).await;
    let mut other_browser = app.browser();
    other_browser.login(name, PASSWORD, true).await;
    let mut john = app.logged_in("john", false).await;
    publish(&mut zeb, "flibbertigibbet is my favourite word").await;
    let path = format!("/user/{name}");
    john.submit(&path, &format!("/follow/{name}"), &[]).await;
    zeb.submit("/user/john", "/follow/john", &[]).await;
    let to_john = "/send_message/john";
    zeb.submit(to_john, to_john, &[("message", "snollygoster between us")])
        .await;
    let to_zeb = format!("/send_message/{name}");
    john.submit(&to_zeb, &to_zeb, &[("message", "hello to you")])
        .await;
    let zebs_token = token(&app, name).await;
    // A reset link and its mail, waiting for them.
    app.browser()
        .submit(
            "/auth/reset_password_request",
            "/auth/reset_password_request",
            &[("email", &format!("{name}@example.com"))],
        )
        .await;
    app.wait_for_jobs().await;
    let secret_words = [name, "flibbertigibbet", "snollygoster"];
    if let Some(bytes) = sqlite_files(&app) {
        for word in secret_words {
            assert!(holds(&bytes, word), "{word} is in the files before");
        }
    }

    // The page says what goes, and offers the export first; a wrong password changes nothing.
    let page = zeb.get("/auth/delete_account").await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("action=\"/export_posts\"")
            || page.body.contains("href=\"/export_posts\"")
    );
    let res = zeb
        .submit(
            "/auth/delete_account",
            "/auth/delete_account",
            &[("password", "wrong password!")],
        )
        .await;
    assert_eq!(res.status, 200);
    assert!(res.body.contains("Invalid password"), "{}", res.body);
    assert_eq!(count(&app, "users", &format!("username = '{name}'")), 1);

    let res = zeb
        .submit(
            "/auth/delete_account",
            "/auth/delete_account",
            &[("password", PASSWORD)],
        )
        .await;
    assert_eq!(res.location(), Some("/auth/login"));
    assert_eq!(
        flashes_of(&zeb.get("/auth/login").await.body),
        ["Your account has been deleted."]
    );
    assert_eq!(
        zeb.get("/index").await.status,
        302,
        "this browser is logged out"
    );
    assert_eq!(
        other_browser.get("/index").await.status,
        302,
        "so is the other"
    );
    assert_eq!(
        api_status(&app, "GET", "/api/users", &zebs_token).await,
        401
    );
    assert_eq!(john.get(&path).await.status, 404);
    let johns = john.get("/user/john").await.body;
    assert!(
        johns.contains("<span class=\"followers-count\">0</span>"),
        "{johns}"
    );
    assert!(
        johns.contains("<span class=\"following-count\">0</span>"),
        "{johns}"
    );
    // John's badge no longer counts the message they sent him.
    let index = john.get("/index").await.body;
    assert!(
        index.contains(r#"class="badge text-bg-danger message-count" hidden>0<"#),
        "{index}"
    );
    assert!(!john.get("/messages").await.body.contains("snollygoster"));

    // Nothing of theirs is left in any table.
    let email = format!("{name}@example.com");
    for (table, condition) in [
        ("users", format!("username = '{name}'")),
        ("posts", "body LIKE '%flibbertigibbet%'".to_owned()),
        (
            "messages",
            "body LIKE '%snollygoster%' OR body = 'hello to you'".to_owned(),
        ),
        ("followers", "1 = 1".to_owned()),
        (
            "login_sessions",
            "user_id NOT IN (SELECT id FROM users)".to_owned(),
        ),
        (
            "api_tokens",
            "user_id NOT IN (SELECT id FROM users)".to_owned(),
        ),
        (
            "password_resets",
            "user_id NOT IN (SELECT id FROM users)".to_owned(),
        ),
        (
            "notifications",
            "user_id NOT IN (SELECT id FROM users)".to_owned(),
        ),
        (
            "username_keys",
            "user_id NOT IN (SELECT id FROM users)".to_owned(),
        ),
        ("mails", format!("lower(recipients) = '{email}'")),
        ("jobs", format!("payload LIKE '%{email}%'")),
    ] {
        assert_eq!(count(&app, table, &condition), 0, "{table}");
    }

    // And, on SQLite, not in the files either, a few seconds later (the app still running).
    if sqlite_files(&app).is_some() {
        let started = std::time::Instant::now();
        loop {
            let bytes = sqlite_files(&app).unwrap();
            let left: Vec<&str> = secret_words
                .iter()
                .chain([&email.as_str()])
                .copied()
                .filter(|w| holds(&bytes, w))
                .collect();
            if left.is_empty() {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "still in the files: {left:?}"
            );
            actix_web::rt::time::sleep(Duration::from_millis(200)).await;
        }
    }

    // The name is free again.
    app.register(name).await;
}

#[actix_web::test]
async fn an_account_deleted_while_its_export_runs_leaves_no_file_and_no_mail() {
    let app = spawn_app().await;
    let mut susan = app.logged_in("susan", false).await;
    let sqlite = matches!(app.database_url, microblog::config::DatabaseUrl::Sqlite(_));
    // Indexed for search as the app does it (the index must hold what it will be told to
    // forget).
    app.execute_sql(&crate::exports::many_posts_sql(sqlite, "susan", 60_000));
    susan.submit("/user/susan", "/export_posts", &[]).await;
    // Under way: some of the file is written.
    let started = std::time::Instant::now();
    while count(&app, "export_chunks", "1 = 1") == 0 {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the export never started"
        );
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
    }
    let res = susan
        .submit(
            "/auth/delete_account",
            "/auth/delete_account",
            &[("password", PASSWORD)],
        )
        .await;
    assert_eq!(
        res.location(),
        Some("/auth/login"),
        "{} {}",
        res.status,
        res.body
    );
    actix_web::rt::time::sleep(Duration::from_secs(2)).await;
    app.wait_for_jobs().await;
    for table in ["exports", "export_chunks", "tasks", "posts", "jobs"] {
        let condition = if table == "jobs" {
            "kind = 'export_posts'"
        } else {
            "1 = 1"
        };
        assert_eq!(count(&app, table, condition), 0, "{table}");
    }
    assert_eq!(
        count(&app, "mails", "lower(recipients) = 'susan@example.com'"),
        0
    );
    assert_eq!(app.browser().get("/auth/login").await.status, 200);
}

#[actix_web::test]
async fn an_administrator_deletes_an_account_from_the_command_line() {
    let database = TestDatabase::fresh();
    let app = spawn_app_with(&[("DATABASE_URL", database.url.as_str())]).await;
    let mut susan = app.logged_in("susan", false).await;
    publish(&mut susan, "written before the admin came").await;
    let work = tempfile::tempdir().unwrap();
    let secret = crate::common::random_hex(32);
    let settings = [
        ("DATABASE_URL", database.url.as_str()),
        ("SECRET_KEY", secret.as_str()),
    ];
    let output = crate::common::microblog_command(work.path(), &settings)
        .args(["user", "delete", "susan"])
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(said.contains("deleted user susan"), "{said}");
    assert_eq!(susan.get("/index").await.status, 302, "logged out at once");
    assert_eq!(count(&app, "posts", "1 = 1"), 0);
    let missing = crate::common::microblog_command(work.path(), &settings)
        .args(["user", "delete", "nobody"])
        .output()
        .unwrap();
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("there is no user \"nobody\""));
}

/// Posts deleted one after another while another connection keeps emptying the log
/// (`db::empty_log`): no deletion is refused ("database is locked"), each says what it did.
#[test]
fn deletions_go_on_while_the_log_is_emptied() {
    use microblog::db::{Db, empty_log};
    use microblog::models::erase::{PostDeletion, delete_post};
    use microblog::models::{self, post, user};
    let database = TestDatabase::fresh();
    let url = microblog::config::DatabaseUrl::parse(&database.url).unwrap();
    let db = Db::connect(&url).unwrap();
    let mut conn = db.get().unwrap();
    let new = |name: &'static str| user::NewUser {
        username: name,
        email: if name == "susan" {
            "susan@example.com"
        } else {
            "john@example.com"
        },
        password_hash: "x",
        last_seen: models::now(),
        about_me: None,
    };
    let susan = user::create(&mut conn, &new("susan")).unwrap().unwrap().id;
    let john = user::create(&mut conn, &new("john")).unwrap().unwrap().id;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (other, stop_too) = (db.clone(), stop.clone());
    let emptier = std::thread::spawn(move || {
        let mut conn = other.get().unwrap();
        while !stop_too.load(std::sync::atomic::Ordering::Relaxed) {
            empty_log(&mut conn).unwrap();
        }
    });
    let languages = ["en".to_owned(), "es".to_owned()];
    for _ in 0..100 {
        let id = post::create(
            &mut conn,
            &post::NewPost {
                body: "hello",
                timestamp: models::now(),
                user_id: susan,
                language: Some("en"),
            },
        )
        .unwrap();
        let mut delete = |who| delete_post(&mut conn, id, who, &languages).unwrap();
        assert_eq!(delete(john), PostDeletion::NotYours);
        assert_eq!(delete(susan), PostDeletion::Deleted);
        assert_eq!(delete(susan), PostDeletion::Missing);
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    emptier.join().unwrap();
}
