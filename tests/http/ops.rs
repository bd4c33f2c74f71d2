//! Running it for real (chapters 17-19): the health endpoint, several instances on one
//! database, and moving a site to another database with `microblog db transfer`.

use crate::common::{PASSWORD, TestDatabase, random_hex, spawn_app_with};

#[actix_web::test]
async fn the_health_endpoint_answers_without_touching_the_session() {
    let app = crate::common::spawn_app().await;
    let mut browser = app.browser();

    let res = browser.get("/health").await;

    assert_eq!(res.status, 200);
    assert_eq!(res.body, r#"{"status":"ok"}"#);
    assert!(res.set_cookies.is_empty(), "no cookie for a load balancer");
}

/// Sends `HEAD path` on a connection of its own that the server is asked to close after its
/// answer, and returns all the server wrote; `None` when it was still open after five seconds.
async fn raw_head(address: &str, path: &str, cookie: &str) -> Option<String> {
    let host = address.trim_start_matches("http://").to_owned();
    let request = format!(
        "HEAD {path} HTTP/1.1\r\nHost: {host}\r\nCookie: {cookie}\r\nConnection: close\r\n\r\n"
    );
    actix_web::rt::task::spawn_blocking(move || {
        use std::io::{Read as _, Write as _};
        let mut stream = std::net::TcpStream::connect(&host).expect("connect");
        stream
            .set_read_timeout(Some(std::time::Duration::from_secs(5)))
            .unwrap();
        stream.write_all(request.as_bytes()).expect("send");
        let mut all = Vec::new();
        stream
            .read_to_end(&mut all)
            .ok()
            .map(|_| String::from_utf8_lossy(&all).into_owned())
    })
    .await
    .unwrap()
}

#[actix_web::test]
async fn head_answers_as_get_does_without_the_body_as_flask_does() {
    let app = spawn_app_with(&[]).await;
    let client = awc::Client::builder().disable_redirects().finish();
    let url = |path: &str| format!("{}{path}", app.address);
    for path in [
        "/auth/login",
        "/health",
        "/static/css/microblog.css",
        "/api/openapi.json",
    ] {
        let mut get = client
            .get(url(path))
            .insert_header(("Accept-Encoding", "identity"))
            .send()
            .await
            .unwrap();
        let body = get.body().await.unwrap();
        let head = client
            .head(url(path))
            .insert_header(("Accept-Encoding", "identity"))
            .send()
            .await
            .unwrap();
        assert_eq!(head.status(), 200, "{path}");
        assert_eq!(
            head.headers().get("content-type"),
            get.headers().get("content-type"),
            "{path}"
        );
        let length = head
            .headers()
            .get("content-length")
            .map(|v| v.to_str().unwrap().to_owned());
        assert_eq!(length, Some(body.len().to_string()), "{path}");
        // On the wire: the headers, and not one byte after them.
        let written = raw_head(&app.address, path, "").await.expect("closed");
        assert!(written.starts_with("HTTP/1.1 200"), "{written}");
        assert!(written.ends_with("\r\n\r\n"), "a body was sent: {written}");
    }
    // What a GET would get, a HEAD gets: the login redirect, a 404, the API's 401...
    let head = |path: &'static str| client.head(url(path)).send();
    let login = head("/index").await.unwrap();
    assert_eq!(login.status(), 302);
    assert_eq!(
        login.headers().get("location").unwrap(),
        "/auth/login?next=%2Findex"
    );
    assert_eq!(head("/nothing-here").await.unwrap().status(), 404);
    assert_eq!(head("/api/users/1").await.unwrap().status(), 401);
    // ...and a URL that only takes a POST is a 405, as in Flask.
    let post_only = head("/follow/susan").await.unwrap();
    assert_eq!(post_only.status(), 405);

    // A stream that a GET keeps open for minutes ends with its headers: nothing of it is
    // produced for a HEAD (it would hold one of the user's streams, and the connection).
    let susan = app.logged_in("susan", false).await;
    let written = raw_head(
        &app.address,
        "/notifications/stream",
        &susan.cookie_header(),
    )
    .await
    .expect("the HEAD of the live stream was still open after 5 s");
    assert!(written.starts_with("HTTP/1.1 200"), "{written}");
    assert!(written.contains("text/event-stream"), "{written}");
    assert!(written.ends_with("\r\n\r\n"), "a body was sent: {written}");
}

#[actix_web::test]
async fn a_browser_that_asks_for_gzip_gets_the_same_page_compressed() {
    use std::io::Read as _;

    let app = crate::common::spawn_app().await;
    let susan = app.logged_in("susan", false).await;
    let client = awc::Client::default();
    let fetch = |encoding: &'static str| {
        client
            .get(format!("{}/index", app.address))
            .insert_header(("Cookie", susan.cookie_header()))
            .insert_header(("Accept-Encoding", encoding))
            .send()
    };

    let mut plain = fetch("identity").await.expect("request");
    let plain_body = plain.body().await.expect("body");
    let mut zipped = fetch("gzip, deflate, br, zstd").await.expect("request");
    let zipped_body = zipped.body().await.expect("body");

    assert_eq!(zipped.status(), 200);
    assert_eq!(zipped.headers().get("content-encoding").unwrap(), "gzip");
    assert!(plain.headers().get("content-encoding").is_none());
    let mut page = String::new();
    flate2::read::GzDecoder::new(&zipped_body[..])
        .read_to_string(&mut page)
        .expect("a gzip stream");
    assert!(page.contains("Hi, susan!"), "{page}");
    assert!(
        zipped_body.len() * 2 < plain_body.len(),
        "compressed: {} of {} bytes",
        zipped_body.len(),
        plain_body.len()
    );
    // The pages differ only in their CSRF tokens (64 hex digits each).
    assert_eq!(page.len(), plain_body.len());
}

#[actix_web::test]
async fn two_instances_on_one_database_behave_as_one_site() {
    let database = TestDatabase::fresh();
    let secret = random_hex(32);
    let shared = [
        ("DATABASE_URL", database.url.as_str()),
        ("SECRET_KEY", secret.as_str()),
    ];
    let first = spawn_app_with(&shared).await;
    let second = spawn_app_with(&shared).await;

    // Log in through the first, post through the second, as a load balancer might send them.
    let mut browser = first.logged_in("susan", true).await;
    let mut through_second = second.browser();
    through_second.cookies = browser.cookies.clone();
    let res = through_second
        .submit(
            "/index",
            "/index",
            &[("post", "written through the second")],
        )
        .await;
    assert_eq!(res.status, 302);
    assert!(
        browser
            .get("/explore")
            .await
            .body
            .contains("written through the second")
    );

    // Logging out through the second ends the login on the first too.
    through_second.get("/auth/logout").await;
    assert_eq!(browser.get("/index").await.status, 302);
}

#[actix_web::test]
async fn transfer_copies_every_row_and_keeps_users_logged_in() {
    let secret = random_hex(32);
    let source = TestDatabase::fresh();
    let mut old_site = spawn_app_with(&[
        ("DATABASE_URL", source.url.as_str()),
        ("SECRET_KEY", secret.as_str()),
    ])
    .await;
    let mut susan = old_site.logged_in("susan", true).await;
    let mut john = old_site.logged_in("john", false).await;
    john.submit("/index", "/index", &[("post", "moving house")])
        .await;
    susan.submit("/user/john", "/follow/john", &[]).await;
    // A message, both users' unread counts (notifications), and a block.
    susan
        .submit(
            "/send_message/john",
            "/send_message/john",
            &[("message", "welcome in")],
        )
        .await;
    susan.submit("/user/john", "/block/john", &[]).await;
    // With no mail server, the reset mail stays in the outbox (logged), with its job done.
    old_site
        .browser()
        .submit(
            "/auth/reset_password_request",
            "/auth/reset_password_request",
            &[("email", "john@example.com")],
        )
        .await;
    // An API token of John's.
    let credentials = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        format!("john:{PASSWORD}"),
    );
    let mut token = awc::Client::default()
        .post(format!("{}/api/tokens", old_site.address))
        .insert_header(("Authorization", format!("Basic {credentials}")))
        .send()
        .await
        .unwrap();
    assert_eq!(token.status(), 200);
    let token: serde_json::Value = token.json().await.unwrap();
    let token = token["token"].as_str().unwrap().to_owned();
    old_site.wait_for_jobs().await;
    old_site.stop().await;

    // The target is a second fresh database of the same kind as the test backend.
    let target = TestDatabase::fresh();
    let transfer = || source.transfer_to(&target, &secret);
    let output = transfer();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains(
            "copied 2 users, 1 posts, 1 follows, 2 logins, 1 API tokens, 1 mails, 2 jobs, 1 reset links, \
             1 messages, 2 notifications, 1 blocks, 0 tasks, 0 exports (0 pieces), 0 key pairs \
             and 0 remote accounts"
        ),
        "{stdout}"
    );

    let new_site = spawn_app_with(&[
        ("DATABASE_URL", target.url.as_str()),
        ("SECRET_KEY", secret.as_str()),
    ])
    .await;
    let mut susan_later = new_site.browser();
    susan_later.cookies = susan.cookies.clone();
    let index = susan_later.get("/index").await;
    assert_eq!(index.status, 200, "still logged in after the move");
    // She still follows John, whose post came along; her block keeps it out of her timeline.
    let john_page = susan_later.get("/user/john").await.body;
    assert!(
        john_page.contains("moving house") && john_page.contains("action=\"/unfollow/john\""),
        "the follow and the post came along: {john_page}"
    );
    assert!(
        !index.body.contains("moving house"),
        "the block holds in the timeline"
    );
    // So did John's API token.
    let john_api = awc::Client::default()
        .get(format!("{}/api/users/2", new_site.address))
        .insert_header(("Authorization", format!("Bearer {token}")))
        .send()
        .await
        .unwrap();
    assert_eq!(john_api.status(), 200);
    // The search index came along too (the target's own triggers or column made it).
    let found = susan_later.get("/search?q=house").await;
    assert!(
        found.body.contains("moving <mark>house</mark>"),
        "{}",
        found.body
    );
    // John's unread message came along, and Susan's block still holds.
    let mut john_later = new_site.browser();
    john_later.login("john", PASSWORD, false).await;
    let index = john_later.get("/index").await.body;
    assert!(
        index.contains("class=\"badge text-bg-danger message-count\">1<"),
        "{index}"
    );
    assert!(
        john_later
            .get("/messages")
            .await
            .body
            .contains("welcome in")
    );
    john_later
        .submit(
            "/send_message/susan",
            "/send_message/susan",
            &[("message", "hi")],
        )
        .await;
    assert!(
        john_later
            .flashes("/index")
            .await
            .iter()
            .any(|f| f.contains("cannot send messages")),
        "the block came along"
    );
    // John's reset link, from the copied outbox, works on the new site.
    let outbox =
        microblog::models::mail::newest(&mut new_site.database().get().unwrap(), 1).unwrap();
    let path = outbox[0]
        .text_body
        .split_whitespace()
        .find_map(|word| {
            word.find("/auth/reset_password/")
                .map(|i| word[i..].to_owned())
        })
        .expect("a reset link in the mail");
    assert_eq!(new_site.browser().get(&path).await.status, 200);
    // New rows get new ids after the copied ones.
    let mut ann = new_site.register("ann").await;
    assert_eq!(
        ann.login("ann", PASSWORD, false).await.location(),
        Some("/index")
    );
    let res = ann
        .submit("/index", "/index", &[("post", "first on the new site")])
        .await;
    assert_eq!(res.status, 302);

    // A second transfer into the now non-empty target is refused.
    let again = transfer();
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("not empty"));
}

#[actix_web::test]
async fn seed_says_what_its_usernames_look_like_and_one_of_them_logs_in() {
    let database = TestDatabase::fresh();
    let work = tempfile::tempdir().unwrap();
    let secret = random_hex(32);
    let settings = [
        ("DATABASE_URL", database.url.as_str()),
        ("SECRET_KEY", secret.as_str()),
        ("BCRYPT_COST", "4"),
    ];
    let help = crate::common::microblog_command(work.path(), &settings)
        .args(["seed", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(help.contains("ana.garcia482913x0"), "{help}");

    let seeded = crate::common::microblog_command(work.path(), &settings)
        .args(["seed", "--users", "3", "--posts", "5", "--follows", "2"])
        .args(["--password", PASSWORD])
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&seeded.stdout);
    assert!(seeded.status.success(), "{said}");
    let names: Vec<&str> = said
        .split("for example as ")
        .nth(1)
        .unwrap_or_else(|| panic!("no example in: {said}"))
        .split(" (")
        .next()
        .unwrap()
        .split(" or ")
        .collect();
    assert_eq!(names.len(), 2, "{said}");

    // As a phone keyboard would type it: a capital first letter.
    let app = spawn_app_with(&[("DATABASE_URL", database.url.as_str())]).await;
    let typed = names[0][..1].to_uppercase() + &names[0][1..];
    let mut browser = app.browser();
    let res = browser.login(&typed, PASSWORD, false).await;
    assert_eq!(res.location(), Some("/index"), "{typed}");
    let page = browser.get("/index").await.body;
    assert!(page.contains(&format!("Hi, {}!", names[0])), "{page}");
}

#[actix_web::test]
async fn a_backup_of_the_live_database_is_whole_and_checked() {
    let database = TestDatabase::fresh();
    let app = spawn_app_with(&[("DATABASE_URL", database.url.as_str())]).await;
    let mut susan = app.logged_in("susan", false).await;
    let work = tempfile::tempdir().unwrap();
    let secret = random_hex(32);
    let settings = [
        ("DATABASE_URL", database.url.as_str()),
        ("SECRET_KEY", secret.as_str()),
    ];
    let file = work.path().join("backup.db");
    let sqlite = database.url.starts_with("sqlite");

    // Posts keep coming while the copy is taken.
    let writing = actix_web::rt::spawn(async move {
        for i in 0..20 {
            susan
                .submit("/index", "/index", &[("post", &format!("post {i}"))])
                .await;
        }
    });
    let output = crate::common::microblog_command(work.path(), &settings)
        .args(["db", "backup"])
        .arg(&file)
        .output()
        .unwrap();
    writing.await.unwrap();
    let said = String::from_utf8_lossy(&output.stdout);
    let complained = String::from_utf8_lossy(&output.stderr);
    if !sqlite {
        assert!(!output.status.success());
        assert!(complained.contains("pg_dump"), "{complained}");
        return;
    }
    assert!(output.status.success(), "{said}{complained}");
    assert!(said.contains("integrity ok"), "{said}");
    // The copy is a database of its own, with the user in it.
    use diesel::prelude::*;
    let mut copy = diesel::sqlite::SqliteConnection::establish(file.to_str().unwrap()).unwrap();
    let names: Vec<String> = microblog::schema::users::table
        .select(microblog::schema::users::username)
        .load(&mut copy)
        .unwrap();
    assert_eq!(names, ["susan"]);
    // A file that exists is never overwritten.
    let again = crate::common::microblog_command(work.path(), &settings)
        .args(["db", "backup"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("exists already"));
}

#[actix_web::test]
async fn a_bad_setting_stops_the_command_at_once_with_the_reason_in_words() {
    let work = tempfile::tempdir().unwrap();
    let started = std::time::Instant::now();
    let output = crate::common::microblog_command(
        work.path(),
        &[("LANGUAGES", "en,xx"), ("RUST_BACKTRACE", "1")],
    )
    .args(["db", "upgrade"])
    .output()
    .unwrap();
    let complained = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{complained}");
    assert!(
        complained.starts_with("Error: LANGUAGES: there are no translations for \"xx\""),
        "{complained}"
    );
    assert!(!complained.contains("acktrace"), "{complained}");
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    // No key was generated, no database made (the log folder is made before settings are read,
    // so that reading them can be logged).
    assert!(!work.path().join("instance").exists());
    assert!(!work.path().join("app.db").exists());
}

/// The PostgreSQL server's own certificate file (Debian's cluster has TLS on), read as the
/// test's administrator; `None` on SQLite.
fn postgres_certificate() -> Option<String> {
    use diesel::prelude::*;
    #[derive(QueryableByName)]
    struct Setting {
        #[diesel(sql_type = diesel::sql_types::Text)]
        ssl_cert_file: String,
    }
    let admin = std::env::var("TEST_DATABASE_URL").ok()?;
    let mut conn = diesel::pg::PgConnection::establish(&admin).unwrap();
    let setting: Setting = diesel::sql_query("SHOW ssl_cert_file")
        .get_result(&mut conn)
        .unwrap();
    Some(setting.ssl_cert_file)
}

#[actix_web::test]
async fn over_tls_every_connection_the_app_holds_is_encrypted() {
    use diesel::prelude::*;
    let database = TestDatabase::fresh();
    let Some(admin) = std::env::var("TEST_DATABASE_URL").ok() else {
        return; // PostgreSQL only.
    };
    let name = database.url.rsplit('/').next().unwrap().to_owned();
    let url = format!("{}?sslmode=require", database.url);
    let app = spawn_app_with(&[("DATABASE_URL", url.as_str())]).await;
    let mut susan = app.logged_in("susan", false).await;
    susan
        .submit("/index", "/index", &[("post", "sent over TLS")])
        .await;

    #[derive(QueryableByName, Debug)]
    struct Backend {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        ssl: bool,
        #[diesel(sql_type = diesel::sql_types::Text)]
        query: String,
    }
    let mut conn = diesel::pg::PgConnection::establish(&admin).unwrap();
    let started = std::time::Instant::now();
    loop {
        let backends: Vec<Backend> = diesel::sql_query(
            "SELECT s.ssl, a.query FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid)
             WHERE a.datname = $1",
        )
        .bind::<diesel::sql_types::Text, _>(&name)
        .load(&mut conn)
        .unwrap();
        assert!(backends.iter().all(|b| b.ssl), "{backends:?}");
        // The listener for live notifications is among them.
        if backends.len() >= 2 && backends.iter().any(|b| b.query.starts_with("LISTEN")) {
            break;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "{backends:?}"
        );
        actix_web::rt::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

#[actix_web::test]
async fn verify_full_refuses_a_certificate_for_another_name_at_once() {
    let database = TestDatabase::fresh();
    let Some(certificate) = postgres_certificate() else {
        return; // PostgreSQL only.
    };
    // Debian's certificate names the machine (and localhost), never the address.
    let by_address = database.url.replace("@localhost", "@127.0.0.1");
    let by_name = by_address.replace("@127.0.0.1", "@localhost");
    let work = tempfile::tempdir().unwrap();
    let upgrade = |envs: &[(&str, &str)]| {
        let started = std::time::Instant::now();
        let output = crate::common::microblog_command(work.path(), envs)
            .args(["db", "upgrade"])
            .output()
            .unwrap();
        let said = String::from_utf8_lossy(&output.stdout).into_owned()
            + &String::from_utf8_lossy(&output.stderr);
        (output.status.code(), said, started.elapsed())
    };
    let verify = format!("sslmode=verify-full&sslrootcert={certificate}");
    let refused_in_url = upgrade(&[("DATABASE_URL", &format!("{by_address}?{verify}"))]);
    let refused_by_env = upgrade(&[
        ("DATABASE_URL", &by_address),
        ("PGSSLMODE", "verify-full"),
        ("PGSSLROOTCERT", &certificate),
    ]);
    for (code, said, took) in [refused_in_url, refused_by_env] {
        assert_eq!(code, Some(1), "{said}");
        assert!(
            said.contains("does not match host name \"127.0.0.1\""),
            "{said}"
        );
        assert!(
            took < std::time::Duration::from_secs(5),
            "retried: {took:?}"
        );
    }
    // The same certificate for the name it was made for is accepted.
    let (code, said, _) = upgrade(&[("DATABASE_URL", &format!("{by_name}?{verify}"))]);
    assert_eq!(code, Some(0), "{said}");
}

#[actix_web::test]
async fn instances_whose_clocks_disagree_never_run_one_job_twice() {
    use std::time::{Duration, Instant};
    let database = TestDatabase::fresh();
    let secret = random_hex(32);
    // A mail server that takes the connection and never answers: the mail's job stays running,
    // under its lease, as long as the test lasts.
    let smtp = crate::smtp::SmtpServer::hanging();
    let port = smtp.port.to_string();
    let shared = [
        ("DATABASE_URL", database.url.as_str()),
        ("SECRET_KEY", secret.as_str()),
        ("BCRYPT_COST", "4"),
        ("MAIL_SERVER", "127.0.0.1"),
        ("MAIL_PORT", port.as_str()),
    ];
    let first = spawn_app_with(&shared).await;
    first.register("susan").await;
    first
        .browser()
        .submit(
            "/auth/reset_password_request",
            "/auth/reset_password_request",
            &[("email", "susan@example.com")],
        )
        .await;
    let started = Instant::now();
    while smtp.connections() == 0 {
        assert!(started.elapsed() < Duration::from_secs(20), "no mail sent");
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }

    // A second instance whose clock is ten minutes ahead: by its own clock the first one's
    // lease ran out long ago.
    let mut skewed = shared.to_vec();
    skewed.push(("MICROBLOG_TEST_CLOCK_OFFSET", "600"));
    let second = crate::common::Server::start(&skewed).await;
    // It looks for due jobs at start and every second after.
    actix_web::rt::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(smtp.connections(), 1, "{}", second.output());
}

#[actix_web::test]
async fn a_quick_command_on_postgresql_exits_cleanly_every_time() {
    let database = TestDatabase::fresh();
    if database.url.starts_with("sqlite") {
        return; // About OpenSSL's clean-up at exit, which only PostgreSQL's connections use.
    }
    let work = tempfile::tempdir().unwrap();
    let secret = random_hex(32);
    let settings = [
        ("DATABASE_URL", database.url.as_str()),
        ("SECRET_KEY", secret.as_str()),
    ];
    // A command that ends while the pool is still opening connections in other threads: one run
    // in eight crashed at exit (SIGSEGV) while OpenSSL cleaned up under them.
    for _ in 0..30 {
        let output = crate::common::microblog_command(work.path(), &settings)
            .args(["jobs", "list"])
            .output()
            .unwrap();
        assert_eq!(
            output.status.code(),
            Some(0),
            "{:?} {}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
    }
}
