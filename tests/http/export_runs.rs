//! Chapter 22's export on the job runner, through the real binary: killed in the middle and
//! restarted, queued before a start, and shared by two processes on one database. Each export
//! ends complete once, and its user gets exactly one mail.

use std::time::Duration;

use diesel::connection::SimpleConnection as _;
use diesel::prelude::*;
use microblog::db::{Db, DbConn};
use microblog::models::job::JobRow;
use microblog::schema::{export_chunks, exports, jobs, tasks};

use crate::common::{Browser, PASSWORD, Server, TestDatabase, wait_for_jobs};
use crate::exports::{launch_export, many_posts_sql};
use crate::smtp::SmtpServer;

/// The binary on `database`, mailing through `smtp`.
async fn serve(database: &TestDatabase, smtp: &SmtpServer) -> Server {
    let port = smtp.port.to_string();
    Server::start(&[
        ("DATABASE_URL", database.url.as_str()),
        ("SECRET_KEY", "a-secret-key-for-the-export-run-tests"),
        ("BCRYPT_COST", "4"),
        ("MAIL_SERVER", "127.0.0.1"),
        ("MAIL_PORT", port.as_str()),
        ("MAIL_DEFAULT_SENDER", "microblog@example.com"),
        ("RUST_LOG", "warn"),
    ])
    .await
}

fn connect(database: &TestDatabase) -> Db {
    Db::connect(&microblog::config::DatabaseUrl::parse(&database.url).unwrap()).unwrap()
}

fn is_sqlite(db: &Db) -> bool {
    matches!(&*db.get().unwrap(), DbConn::Sqlite(_))
}

fn export_jobs(db: &Db) -> Vec<JobRow> {
    jobs::table
        .filter(jobs::kind.eq("export_posts"))
        .order(jobs::id)
        .select(JobRow::as_select())
        .load(&mut *db.get().unwrap())
        .unwrap()
}

/// `(complete, failed)` of every task, in id order.
fn task_states(db: &Db) -> Vec<(bool, bool)> {
    tasks::table
        .order(tasks::id)
        .select((tasks::complete, tasks::failed))
        .load(&mut *db.get().unwrap())
        .unwrap()
}

async fn start_export(browser: &mut Browser, username: &str) {
    let res = browser
        .submit(&format!("/user/{username}"), "/export_posts", &[])
        .await;
    assert_eq!(res.status, 302);
}

#[actix_web::test]
async fn an_export_killed_in_the_middle_completes_after_a_restart_with_exactly_one_mail() {
    let smtp = SmtpServer::start();
    let database = TestDatabase::fresh();
    let db = connect(&database);
    let sqlite = is_sqlite(&db);
    let mut doomed = serve(&database, &smtp).await;
    let mut browser = Browser::at(&doomed.address);
    browser.register("susan").await;
    browser.login("susan", PASSWORD, false).await;
    // 100,000 posts: a hundred pieces. On SQLite they are marked as indexed for search, so
    // that no indexing holds the write lock meanwhile.
    let mark = if sqlite {
        "UPDATE posts_search_mark SET indexed_through = (SELECT MAX(id) FROM posts);"
    } else {
        ""
    };
    db.get()
        .unwrap()
        .batch_execute(&format!(
            "BEGIN; {} {mark} COMMIT;",
            many_posts_sql(sqlite, "susan", 100_000)
        ))
        .unwrap();

    // A new connection: the insert can outlast the server's keep-alive.
    let mut browser = browser.clone_session();
    start_export(&mut browser, "susan").await;
    // Some pieces are written...
    let started = std::time::Instant::now();
    loop {
        let pieces: i64 = export_chunks::table
            .count()
            .get_result(&mut *db.get().unwrap())
            .unwrap();
        if pieces >= 2 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no piece written"
        );
        actix_web::rt::time::sleep(Duration::from_millis(10)).await;
    }
    // ...then no write can pass, and the process is killed while the export waits.
    let mut blocker = db.get().unwrap();
    blocker
        .batch_execute(if sqlite {
            "BEGIN IMMEDIATE"
        } else {
            "BEGIN; LOCK TABLE export_chunks IN EXCLUSIVE MODE"
        })
        .unwrap();
    assert_eq!(task_states(&db), [(false, false)], "still in the middle");
    assert_eq!(export_jobs(&db)[0].state, "running");
    doomed.child.kill().unwrap();
    doomed.child.wait().unwrap();
    blocker.batch_execute("ROLLBACK").unwrap();
    drop(blocker);
    assert!(smtp.messages().is_empty());

    // Restarted, the job is claimed again once its lease runs out, and completes.
    let restarted = serve(&database, &smtp).await;
    let mail = smtp.wait_for(1, Duration::from_secs(90)).await.remove(0);
    assert_eq!(mail.rcpt_to, ["<susan@example.com>"]);
    assert!(mail.text().contains("100000 posts"), "{}", mail.text());
    wait_for_jobs(&db).await;
    actix_web::rt::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(smtp.messages().len(), 1, "exactly one mail");
    assert_eq!(task_states(&db), [(true, false)]);
    let job = &export_jobs(&db)[0];
    assert_eq!((job.state.as_str(), job.attempts), ("done", 2));
    // One file, whole: what the dead run left was replaced.
    let files: Vec<(i32, bool)> = exports::table
        .select((exports::id, exports::ready))
        .load(&mut *db.get().unwrap())
        .unwrap();
    assert_eq!(files.len(), 1);
    assert!(files[0].1);
    let mut browser = Browser::at(&restarted.address);
    browser.login("susan", PASSWORD, false).await;
    let file = browser
        .get(&format!("/export_posts/{}/posts.json", files[0].0))
        .await;
    let json: serde_json::Value = serde_json::from_str(&file.body).unwrap();
    let posts = json["posts"].as_array().unwrap();
    assert_eq!(posts.len(), 100_000);
    assert!(
        posts[99_999]["body"]
            .as_str()
            .unwrap()
            .starts_with("post 100000 of")
    );
}

#[actix_web::test]
async fn exports_queued_while_the_app_was_down_run_when_it_starts() {
    let smtp = SmtpServer::start();
    let database = TestDatabase::fresh();
    let db = connect(&database);
    let mut first = serve(&database, &smtp).await;
    let names = ["ann", "bob", "cid"];
    for name in names {
        let mut browser = Browser::at(&first.address);
        browser.register(name).await;
        browser.login(name, PASSWORD, false).await;
        let res = browser
            .submit("/index", "/index", &[("post", "a post")])
            .await;
        assert_eq!(res.status, 302);
    }
    first.signal("-TERM");
    first.child.wait().unwrap();
    // Three exports asked for as the app went down: their tasks and jobs are written, and no
    // worker is running.
    for id in 1..=3 {
        let launched = launch_export(&mut db.get().unwrap(), id);
        assert!(matches!(
            launched,
            microblog::models::task::Launched::Started(_)
        ));
    }

    let _second = serve(&database, &smtp).await;
    let mails = smtp.wait_for(3, Duration::from_secs(30)).await;
    wait_for_jobs(&db).await;

    let mut to: Vec<String> = mails.iter().map(|m| m.rcpt_to.join(",")).collect();
    to.sort();
    assert_eq!(
        to,
        names.map(|n| format!("<{n}@example.com>")).to_vec(),
        "one mail each"
    );
    assert_eq!(task_states(&db), [(true, false); 3]);
    assert!(
        export_jobs(&db)
            .iter()
            .all(|j| j.state == "done" && j.attempts == 1)
    );
}

#[actix_web::test]
async fn two_processes_on_one_database_run_each_export_once() {
    let smtp = SmtpServer::start();
    let database = TestDatabase::fresh();
    let db = connect(&database);
    let sqlite = is_sqlite(&db);
    let servers = [serve(&database, &smtp).await, serve(&database, &smtp).await];
    let names: Vec<String> = (0..12).map(|i| format!("user{i}")).collect();
    let mut browsers = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let mut browser = Browser::at(&servers[i % 2].address);
        browser.register(name).await;
        browser.login(name, PASSWORD, false).await;
        browsers.push(browser);
    }
    for name in &names {
        db.get()
            .unwrap()
            .batch_execute(&many_posts_sql(sqlite, name, 2_000))
            .unwrap();
    }

    // Every export asked for at once, half through each process.
    futures_util::future::join_all(
        browsers
            .iter_mut()
            .zip(&names)
            .map(|(browser, name)| start_export(browser, name)),
    )
    .await;
    let mails = smtp.wait_for(12, Duration::from_secs(60)).await;
    wait_for_jobs(&db).await;
    actix_web::rt::time::sleep(Duration::from_secs(2)).await;

    assert_eq!(smtp.messages().len(), 12, "each mail once");
    let mut to: Vec<String> = mails.iter().map(|m| m.rcpt_to.join(",")).collect();
    to.sort();
    to.dedup();
    assert_eq!(to.len(), 12);
    assert_eq!(task_states(&db), [(true, false); 12]);
    let jobs = export_jobs(&db);
    assert_eq!(jobs.len(), 12);
    for job in &jobs {
        assert_eq!((job.state.as_str(), job.attempts), ("done", 1), "{job:?}");
    }
    let files: i64 = exports::table
        .count()
        .get_result(&mut *db.get().unwrap())
        .unwrap();
    assert_eq!(files, 12);
}
