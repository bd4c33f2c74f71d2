//! Chapter 22: "Export your posts" as a background job: started by a POST, one at a time, its
//! progress on every page, `posts.json` mailed through the outbox and downloadable for a day, and
//! a failing export that ends failed with the message the user sees.

use std::time::Duration;

use crate::common::{Browser, TestApp, spawn_app_with, wait_for_job};
use crate::smtp::{Received, SmtpServer};

async fn app_mailing_to(smtp: &SmtpServer) -> TestApp {
    let port = smtp.port.to_string();
    spawn_app_with(&[
        ("MAIL_SERVER", "127.0.0.1"),
        ("MAIL_PORT", port.as_str()),
        ("MAIL_DEFAULT_SENDER", "microblog@example.com"),
    ])
    .await
}

async fn publish(browser: &mut Browser, bodies: &[&str]) {
    for body in bodies {
        let res = browser.submit("/index", "/index", &[("post", body)]).await;
        assert_eq!(res.status, 302);
    }
}

/// How many tasks the database holds.
fn task_count(app: &TestApp) -> i64 {
    use diesel::prelude::*;
    let mut conn = app.database().get().unwrap();
    microblog::schema::tasks::table
        .count()
        .get_result(&mut *conn)
        .unwrap()
}

/// The profile's link to the newest export.
fn download_link(profile: &str) -> String {
    let at = profile
        .find("class=\"export-download\" href=\"")
        .expect("a link")
        + 30;
    profile[at..at + profile[at..].find('"').unwrap()].to_owned()
}

/// An export of `user`'s posts launched straight in the database, as `POST /export_posts`
/// does (its task and its job in one transaction).
pub fn launch_export(
    conn: &mut microblog::db::DbConn,
    user: i32,
) -> microblog::models::task::Launched {
    microblog::models::task::launch(
        conn,
        user,
        microblog::models::task::EXPORT_POSTS,
        "Export your posts",
        |task_id| microblog::models::job::Job::ExportPosts {
            task_id,
            lang: "en".into(),
        },
        microblog::models::now(),
    )
    .unwrap()
}

/// The JSON attached to `mail` (the part named posts.json).
fn attachment(mail: &Received) -> serde_json::Value {
    assert!(
        mail.data.contains("filename=\"posts.json\""),
        "no posts.json attached: {}",
        mail.data
    );
    let text = mail.text();
    let start = text.find("{\"posts\"").expect("the JSON in the mail");
    let end = text[start..].rfind('}').unwrap() + start + 1;
    serde_json::from_str(&text[start..end]).unwrap()
}

#[actix_web::test]
async fn an_export_is_started_by_a_post_and_arrives_by_mail_and_for_download() {
    let smtp = SmtpServer::start();
    let app = app_mailing_to(&smtp).await;
    let mut susan = app.logged_in("susan", false).await;
    publish(
        &mut susan,
        &["first <post>", "second \"post\"", "third post"],
    )
    .await;

    // A GET shows what it does and starts nothing; a POST without the token is refused.
    let confirm = susan.get("/export_posts").await;
    assert_eq!(confirm.status, 200);
    assert!(confirm.body.contains("action=\"/export_posts\""));
    assert_eq!(susan.post("/export_posts", &[]).await.status, 400);
    assert_eq!(task_count(&app), 0);
    let profile = susan.get("/user/susan").await.body;
    assert!(profile.contains("action=\"/export_posts\""), "{profile}");

    let res = susan.submit("/user/susan", "/export_posts", &[]).await;
    assert_eq!(res.location(), Some("/user/susan"));
    let mails = smtp.wait_for(1, Duration::from_secs(20)).await;
    assert_eq!(mails[0].rcpt_to, ["<susan@example.com>"]);
    assert!(
        mails[0]
            .header("Subject")
            .unwrap()
            .contains("Your blog posts")
    );
    let json = attachment(&mails[0]);
    let posts = json["posts"].as_array().unwrap();
    let bodies: Vec<&str> = posts.iter().map(|p| p["body"].as_str().unwrap()).collect();
    assert_eq!(bodies, ["first <post>", "second \"post\"", "third post"]);
    for post in posts {
        let at = post["timestamp"].as_str().unwrap();
        assert!(
            chrono::DateTime::parse_from_rfc3339(at).is_ok() && at.ends_with('Z'),
            "{at}"
        );
    }

    // The task is complete at 100, the page's script was told so, and the profile links the
    // file, which only its owner can download.
    let notes: Vec<serde_json::Value> =
        serde_json::from_str(&susan.get("/notifications").await.body).unwrap();
    let progress = notes
        .iter()
        .find(|n| n["name"] == "task_progress")
        .expect("a task_progress notification");
    assert_eq!(progress["data"]["progress"], 100);
    let link = &download_link(&susan.get("/user/susan").await.body);
    // The notification of the end names the file and its expiry, for the page to link it.
    assert_eq!(progress["data"]["download"]["url"], link.as_str());
    let until = progress["data"]["download"]["until"].as_str().unwrap();
    assert!(
        chrono::DateTime::parse_from_rfc3339(until).is_ok(),
        "{until}"
    );
    let file = susan.get(link).await;
    assert_eq!(file.status, 200);
    assert!(
        file.headers
            .get("content-disposition")
            .unwrap()
            .to_str()
            .unwrap()
            .contains("posts.json")
    );
    let downloaded: serde_json::Value = serde_json::from_str(&file.body).unwrap();
    assert_eq!(downloaded, json);
    let mut john = app.logged_in("john", false).await;
    assert_eq!(john.get(link).await.status, 404);
    assert_eq!(john.get("/export_posts/999/posts.json").await.status, 404);
    assert_eq!(john.get("/export_posts/x/posts.json").await.status, 404);
    // A day later it is gone.
    app.execute_sql("UPDATE exports SET expires_at = '2000-01-01 00:00:00'");
    assert_eq!(susan.get(link).await.status, 404);
    assert!(
        !susan
            .get("/user/susan")
            .await
            .body
            .contains("class=\"export-download\"")
    );
}

#[actix_web::test]
async fn one_export_at_a_time_and_every_page_shows_the_running_one() {
    let smtp = SmtpServer::start();
    let app = app_mailing_to(&smtp).await;
    let mut susan = app.logged_in("susan", false).await;
    // An export that is running (its job is elsewhere), at 40%.
    app.execute_sql(
        "INSERT INTO tasks (name, description, user_id, progress, complete, failed, created_at)
         SELECT 'export_posts', 'Export your posts', id, 40, FALSE, FALSE, '2026-01-01 00:00:00'
         FROM users WHERE username = 'susan'",
    );
    for page in ["/index", "/explore", "/user/susan"] {
        let body = susan.get(page).await.body;
        assert!(
            body.contains("class=\"task-progress\">40<"),
            "{page}: {body}"
        );
        assert!(body.contains("aria-valuenow=\"40\""));
    }
    let res = susan.submit("/user/susan", "/export_posts", &[]).await;
    assert_eq!(res.location(), Some("/user/susan"));
    assert!(
        susan
            .flashes("/user/susan")
            .await
            .contains(&"An export task is currently in progress".to_owned())
    );
    assert_eq!(task_count(&app), 1);

    // The rule is the database's: a second unfinished export is refused by its unique index,
    // whatever checks the code made before (two launches, no worker in between).
    let db = crate::common::TestDatabase::fresh();
    let url = microblog::config::DatabaseUrl::parse(&db.url).unwrap();
    let other = microblog::db::Db::connect(&url).unwrap();
    let mut conn = other.get().unwrap();
    {
        use diesel::connection::SimpleConnection as _;
        conn.batch_execute(
            "INSERT INTO users (username, email, password_hash, last_seen)
             VALUES ('ann', 'ann@example.com', 'x', '2026-01-01 00:00:00')",
        )
        .unwrap();
    }
    let launch = |conn: &mut microblog::db::DbConn| launch_export(conn, 1);
    assert!(matches!(
        launch(&mut conn),
        microblog::models::task::Launched::Started(_)
    ));
    assert_eq!(
        launch(&mut conn),
        microblog::models::task::Launched::AlreadyRunning
    );

    // Once the running one is done, an export starts and completes.
    app.execute_sql("UPDATE tasks SET complete = TRUE");
    susan.submit("/user/susan", "/export_posts", &[]).await;
    assert_eq!(task_count(&app), 2);
    smtp.wait_for(1, Duration::from_secs(20)).await;
    // Done: no bar any more.
    app.wait_for_jobs().await;
    assert!(!susan.get("/index").await.body.contains("task-progress"));
}

#[actix_web::test]
async fn an_export_that_keeps_failing_ends_failed_and_says_so() {
    let smtp = SmtpServer::start();
    let app = app_mailing_to(&smtp).await;
    let mut susan = app.logged_in("susan", false).await;
    publish(&mut susan, &["a post"]).await;
    // The file cannot be kept: every attempt fails.
    let sqlite = matches!(app.database_url, microblog::config::DatabaseUrl::Sqlite(_));
    if sqlite {
        app.execute_sql(
            "CREATE TRIGGER full_disk BEFORE INSERT ON exports
             BEGIN SELECT RAISE(ABORT, 'the disk is full'); END;",
        );
    } else {
        app.execute_sql(
            "CREATE FUNCTION full_disk() RETURNS trigger LANGUAGE plpgsql AS
                 $$ BEGIN RAISE EXCEPTION 'the disk is full'; END $$;
             CREATE TRIGGER full_disk BEFORE INSERT ON exports
                 FOR EACH ROW EXECUTE FUNCTION full_disk();",
        );
    }
    susan.submit("/user/susan", "/export_posts", &[]).await;
    let db = app.database();
    wait_for_job(&db, |j| {
        j.kind == "export_posts" && j.attempts == 1 && j.state == "queued"
    })
    .await;
    // The next attempt is the last.
    app.execute_sql("UPDATE jobs SET max_attempts = 2 WHERE kind = 'export_posts'");
    app.wait_for_jobs().await;
    let profile = susan.get("/user/susan").await.body;
    assert!(
        profile.contains("export-failed text-danger mt-2 mb-0\">Export failed, please try again<"),
        "{profile}"
    );
    assert!(!profile.contains("task-progress"));
    assert!(smtp.messages().is_empty());

    // Mended, a new export works.
    app.execute_sql(if sqlite {
        "DROP TRIGGER full_disk"
    } else {
        "DROP TRIGGER full_disk ON exports"
    });
    susan.submit("/user/susan", "/export_posts", &[]).await;
    smtp.wait_for(1, Duration::from_secs(20)).await;
    assert!(
        !susan
            .get("/user/susan")
            .await
            .body
            .contains("class=\"export-failed")
    );
}

#[actix_web::test]
async fn jobs_list_shows_the_queue_as_rq_info_would() {
    let database = crate::common::TestDatabase::fresh();
    let app = spawn_app_with(&[("DATABASE_URL", database.url.as_str())]).await;
    let mut susan = app.logged_in("susan", false).await;
    publish(&mut susan, &["a post"]).await;
    susan.submit("/user/susan", "/export_posts", &[]).await;
    app.wait_for_jobs().await;
    // A job that failed for good, with its error.
    app.execute_sql(
        "INSERT INTO jobs (kind, payload, state, attempts, max_attempts, run_at, last_error,
                           created_at, finished_at)
         VALUES ('send_mail', '{\"kind\":\"send_mail\",\"mail_id\":99}', 'failed', 25, 25,
                 '2026-01-01 00:00:00', 'the mail server said no', '2026-01-01 00:00:00',
                 '2026-01-01 00:00:00')",
    );
    let work = tempfile::tempdir().unwrap();
    let output = crate::common::microblog_command(
        work.path(),
        &[
            ("DATABASE_URL", database.url.as_str()),
            ("SECRET_KEY", &crate::common::random_hex(32)),
        ],
    )
    .args(["jobs", "list"])
    .output()
    .expect("run");
    let said = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let line = |kind: &str, state: &str| {
        said.lines()
            .find(|l| l.contains(kind) && l.contains(state))
            .unwrap_or_else(|| panic!("no {state} {kind} job in:\n{said}"))
            .to_owned()
    };
    assert!(line("export_posts", "done").contains("attempt 1/5"));
    line("send_mail", "done");
    assert!(line("send_mail", "failed").contains("last error: the mail server said no"));

    // The outbox shows what the export's mail carried.
    let settings = [
        ("DATABASE_URL", database.url.as_str()),
        ("SECRET_KEY", &crate::common::random_hex(32)),
    ];
    let listed = crate::common::microblog_command(work.path(), &settings)
        .args(["mail", "list"])
        .output()
        .expect("run");
    let listed = String::from_utf8_lossy(&listed.stdout);
    let id = listed
        .lines()
        .find(|l| l.contains("Your blog posts"))
        .and_then(|l| l.split_whitespace().next())
        .unwrap_or_else(|| panic!("no export mail in:\n{listed}"))
        .to_owned();
    let shown = crate::common::microblog_command(work.path(), &settings)
        .args(["mail", "show", &id])
        .output()
        .expect("run");
    let shown = String::from_utf8_lossy(&shown.stdout);
    let attached = shown
        .lines()
        .find(|l| l.starts_with("Attachment: posts.json (application/json, "))
        .unwrap_or_else(|| panic!("no attachment in:\n{shown}"));
    let size: u64 = attached
        .trim_start_matches("Attachment: posts.json (application/json, ")
        .trim_end_matches(" bytes)")
        .parse()
        .unwrap();
    assert!(size > 20, "{attached}");
}

/// SQL that adds `count` posts of about 100 characters to `username`, numbered from 1.
pub fn many_posts_sql(sqlite: bool, username: &str, count: u32) -> String {
    let (numbers, timestamp) = if sqlite {
        (
            format!(
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {count})"
            ),
            "'2026-01-01 00:00:00'",
        )
    } else {
        (
            format!("WITH n(i) AS (SELECT generate_series(1, {count}))"),
            "TIMESTAMP '2026-01-01 00:00:00'",
        )
    };
    format!(
        "{numbers} INSERT INTO posts (body, timestamp, user_id, language)
         SELECT 'post ' || i || ' of a long archive, written to make the file large enough \
                 to be left out of the mail', {timestamp},
                (SELECT id FROM users WHERE username = '{username}'), 'en'
         FROM n;"
    )
}

#[actix_web::test]
async fn a_large_export_is_linked_instead_of_attached_and_downloads_whole_in_pieces() {
    let smtp = SmtpServer::start();
    let app = app_mailing_to(&smtp).await;
    let mut susan = app.logged_in("susan", false).await;
    // About 6 MB of JSON: more than a mail carries, in 40 pieces.
    let sqlite = matches!(app.database_url, microblog::config::DatabaseUrl::Sqlite(_));
    app.execute_sql(&many_posts_sql(sqlite, "susan", 40_000));

    susan.submit("/user/susan", "/export_posts", &[]).await;
    let mail = smtp.wait_for(1, Duration::from_secs(60)).await.remove(0);
    assert!(!mail.data.contains("posts.json"), "nothing attached");
    assert!(
        mail.text()
            .contains("archive of your 40000 posts that you requested is too large to attach"),
        "{}",
        mail.text()
    );

    let link = &download_link(&susan.get("/user/susan").await.body);
    let file = susan.get(link).await;
    assert_eq!(file.status, 200);
    assert_eq!(
        file.header("content-length"),
        Some(file.body.len().to_string().as_str())
    );
    assert!(
        file.body.starts_with("{\"posts\": [{\"body\":\"post 1 of"),
        "{}",
        &file.body[..80]
    );
    let json: serde_json::Value = serde_json::from_str(&file.body).unwrap();
    let posts = json["posts"].as_array().unwrap();
    assert_eq!(posts.len(), 40_000);
    for (i, post) in posts.iter().enumerate() {
        let body = post["body"].as_str().unwrap();
        assert!(body.starts_with(&format!("post {} of", i + 1)), "{body}");
    }
}

#[actix_web::test]
async fn an_export_whose_last_attempt_never_came_back_ends_failed_at_once() {
    let app = spawn_app_with(&[]).await;
    let mut susan = app.logged_in("susan", false).await;
    // Its process died in the last attempt: the job is running under a lease that ran out.
    app.execute_sql(
        "INSERT INTO tasks (name, description, user_id, progress, complete, failed, created_at)
         SELECT 'export_posts', 'Export your posts', id, 30, FALSE, FALSE, '2026-01-01 00:00:00'
         FROM users WHERE username = 'susan';
         INSERT INTO jobs (kind, payload, state, attempts, max_attempts, run_at, locked_by,
                           locked_until, created_at)
         SELECT 'export_posts', '{\"kind\":\"export_posts\",\"task_id\":' || id || '}',
                'running', 5, 5, '2026-01-01 00:00:00', 'a-dead-worker', '2026-01-01 00:00:00',
                '2026-01-01 00:00:00'
         FROM tasks",
    );
    assert!(susan.get("/index").await.body.contains("task-progress"));

    app.wait_for_jobs().await;

    let profile = susan.get("/user/susan").await.body;
    assert!(profile.contains("class=\"export-failed"), "{profile}");
    assert!(!profile.contains("task-progress"));
    let db = app.database();
    let job: microblog::models::job::JobRow = {
        use diesel::prelude::*;
        let mut conn = db.get().unwrap();
        microblog::schema::jobs::table
            .select(microblog::models::job::JobRow::as_select())
            .first(&mut *conn)
            .unwrap()
    };
    assert_eq!((job.state.as_str(), job.attempts), ("failed", 5));
    // A new export can start.
    let res = susan.submit("/user/susan", "/export_posts", &[]).await;
    assert_eq!(res.location(), Some("/user/susan"));
    assert!(
        !susan
            .flashes("/user/susan")
            .await
            .contains(&"An export task is currently in progress".to_owned())
    );
}

/// How many export files the database holds.
fn export_count(app: &TestApp) -> i64 {
    use diesel::prelude::*;
    let mut conn = app.database().get().unwrap();
    microblog::schema::exports::table
        .count()
        .get_result(&mut *conn)
        .unwrap()
}

#[actix_web::test]
async fn a_loop_on_the_export_button_stops_at_the_days_quota_and_keeps_only_the_newest_file() {
    let smtp = SmtpServer::start();
    let app = app_mailing_to(&smtp).await;
    let mut susan = app.logged_in("susan", false).await;
    publish(&mut susan, &["a post"]).await;

    for run in 1..=3 {
        susan.submit("/user/susan", "/export_posts", &[]).await;
        smtp.wait_for(run, Duration::from_secs(20)).await;
        app.wait_for_jobs().await;
        assert_eq!(
            export_count(&app),
            1,
            "one file kept, the newest (run {run})"
        );
    }
    let newest = download_link(&susan.get("/user/susan").await.body);

    let res = susan.submit("/user/susan", "/export_posts", &[]).await;
    assert_eq!(res.location(), Some("/user/susan"));
    let flashes = susan.flashes("/user/susan").await;
    assert!(
        flashes[0].contains("exported your posts 3 times today")
            && flashes[0].contains("Try again in 24 hours"),
        "{flashes:?}"
    );
    app.wait_for_jobs().await;
    assert_eq!(task_count(&app), 3, "nothing more started");
    assert_eq!(smtp.messages().len(), 3, "no fourth mail");
    assert_eq!(
        susan.get(&newest).await.status,
        200,
        "the newest file still downloads"
    );

    // A day on, the oldest of the three no longer counts.
    app.execute_sql(
        "UPDATE tasks SET created_at = '2000-01-01 00:00:00' WHERE id = (SELECT MIN(id) FROM tasks)",
    );
    susan.submit("/user/susan", "/export_posts", &[]).await;
    smtp.wait_for(4, Duration::from_secs(20)).await;
}

#[actix_web::test]
async fn an_address_gets_a_days_allowance_of_mail_and_reset_mails_keep_a_reserve() {
    use microblog::mail::{Mail, PER_RECIPIENT_PER_DAY, RESET_RESERVE};
    let smtp = SmtpServer::start();
    let app = app_mailing_to(&smtp).await;
    let mail = |password_reset| Mail {
        to: vec!["victim@example.org".to_owned()],
        subject: "Hello".to_owned(),
        text: "Hello".to_owned(),
        html: None,
        attachment: None,
        password_reset,
        holds_link: false,
    };
    let queue = |mail: Mail| {
        let (mailer, db) = (app.state.mailer.clone(), app.state.db.clone());
        async move { db.run(move |conn| mailer.queue(conn, &mail)).await }
    };

    for _ in 0..PER_RECIPIENT_PER_DAY - RESET_RESERVE {
        assert!(queue(mail(false)).await.unwrap().is_some());
    }
    assert!(
        queue(mail(false)).await.unwrap().is_none(),
        "the day's allowance is used"
    );
    for _ in 0..RESET_RESERVE {
        assert!(
            queue(mail(true)).await.unwrap().is_some(),
            "a reset mail still goes"
        );
    }
    assert!(
        queue(mail(true)).await.unwrap().is_none(),
        "and then not even a reset"
    );
    let other = Mail {
        to: vec!["someone.else@example.org".to_owned()],
        ..mail(false)
    };
    assert!(
        queue(other).await.unwrap().is_some(),
        "other addresses are not touched"
    );
}
