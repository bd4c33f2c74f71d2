//! What the steps of a page do in a browser, done through HTTP just before the command that
//! needs it: the page's own words say what the student did, and the HTTP tests check what the
//! browser shows on the way (`tests/http/`).

use crate::Student;
use crate::common::{Browser, PASSWORD};
use microblog::config::DatabaseUrl;
use microblog::db::Db;

/// A browser of `username`, registered (through the form) and logged in.
async fn logged_in(student: &Student, username: &str) -> Browser {
    let mut browser = Browser::at(&student.address());
    browser.register(username).await;
    let res = browser.login(username, PASSWORD, false).await;
    assert_eq!(res.status, 302, "login of {username}: {}", res.body);
    browser
}

/// Waits until the app's job runner has done what was asked (a mail written, an export).
async fn wait_for_jobs(student: &Student) {
    let url = format!("sqlite:///{}", student.cwd().join("app.db").display());
    let db = Db::connect(&DatabaseUrl::parse(&url).expect("a URL")).expect("the database");
    crate::common::wait_for_jobs(&db).await;
}

/// Whether any of the database's files (`app.db*`) holds `word`.
fn word_in_files(student: &Student, word: &str) -> bool {
    std::fs::read_dir(student.cwd())
        .expect("the folder")
        .flatten()
        .filter(|f| f.file_name().to_string_lossy().starts_with("app.db"))
        .any(|f| {
            std::fs::read(f.path())
                .unwrap_or_default()
                .windows(word.len())
                .any(|w| w == word.as_bytes())
        })
}

/// Waits (at most ten seconds) until a file in `logs/` has a line holding `word`.
async fn wait_for_log_line(student: &Student, word: &str) {
    let logs = student.cwd().join("logs");
    for _ in 0..100 {
        let found = std::fs::read_dir(&logs)
            .into_iter()
            .flatten()
            .flatten()
            .any(|f| {
                std::fs::read_to_string(f.path())
                    .unwrap_or_default()
                    .lines()
                    .any(|line| line.contains(word))
            });
        if found {
            return;
        }
        actix_web::rt::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!(
        "no line with {word} in {} after ten seconds",
        logs.display()
    );
}

/// Does in a browser what the page's steps before `command` do there.
pub async fn before(page: &str, command: &str, student: &mut Student) {
    match (page, command) {
        ("24-federation.md", c) if c.contains("/.well-known/webfinger") => {
            Browser::at(&student.address()).register("susan").await;
        }
        ("04-database.md", c) if c.starts_with("sqlite3 app.db \"SELECT") => {
            Browser::at(&student.address()).register("susan").await;
        }
        ("07-error-handling.md", c) if c.starts_with("sqlite3 broken.db") => {
            let browser = logged_in(student, "susan").await;
            student.browsers.insert("susan".to_owned(), browser);
        }
        ("07-error-handling.md", c) if c.starts_with("grep ERROR") => {
            let browser = student.browsers.get_mut("susan").expect("susan's browser");
            let res = browser.get("/index").await;
            assert_eq!(res.status, 500);
            assert!(
                res.body.contains("An unexpected error has occurred"),
                "{}",
                res.body
            );
            // The log is written by a thread of its own: a student reads the page before
            // typing `grep`, so give that thread the moment a person would.
            wait_for_log_line(student, "ERROR").await;
        }
        ("10-email-support.md", "cargo run -- mail list") => {
            let mut browser = Browser::at(&student.address());
            browser.register("susan").await;
            let res = browser
                .submit(
                    "/auth/reset_password_request",
                    "/auth/reset_password_request",
                    &[("email", "susan@example.com")],
                )
                .await;
            assert_eq!(res.status, 302, "{}", res.body);
            wait_for_jobs(student).await;
        }
        ("16-full-text-search.md", "cargo run -- search reindex") => {
            let mut browser = logged_in(student, "susan").await;
            for body in [
                "I went running in the park this morning",
                "The café on the corner makes good coffee",
                "Rust programs run fast",
            ] {
                let res = browser.submit("/index", "/index", &[("post", body)]).await;
                assert_eq!(res.status, 302, "{}", res.body);
            }
        }
        ("20-some-javascript-magic.md", c) if c.contains("/popup") => {
            let mut susan = logged_in(student, "susan").await;
            let res = susan
                .submit("/index", "/index", &[("post", "My first post")])
                .await;
            assert_eq!(res.status, 302, "{}", res.body);
            let john = logged_in(student, "john").await;
            student
                .values
                .insert("session".to_owned(), john.cookies["session"].clone());
        }
        ("21-user-notifications.md", c) if c.contains("/notifications") => {
            let mut susan = logged_in(student, "susan").await;
            let mut john = logged_in(student, "john").await;
            let res = john
                .submit(
                    "/send_message/susan",
                    "/send_message/susan",
                    &[("message", "Hi susan!")],
                )
                .await;
            assert_eq!(res.status, 302, "{}", res.body);
            assert_eq!(susan.get("/messages").await.status, 200);
            student
                .values
                .insert("session".to_owned(), susan.cookies["session"].clone());
        }
        ("22-background-jobs.md", "cargo run -- mail list") => {
            let mut susan = logged_in(student, "susan").await;
            for body in ["One", "Two", "Three"] {
                let post = format!("Post number {body}, for the export");
                let res = susan.submit("/index", "/index", &[("post", &post)]).await;
                assert_eq!(res.status, 302, "{}", res.body);
            }
            let res = susan.submit("/export_posts", "/export_posts", &[]).await;
            assert_eq!(res.status, 302, "{}", res.body);
            wait_for_jobs(student).await;
        }
        ("deleting.md", c) if c.starts_with("curl -u 'susan:<password>'") => {
            let susan = logged_in(student, "susan").await;
            student.browsers.insert("susan".to_owned(), susan);
            student
                .values
                .insert("password".to_owned(), PASSWORD.to_owned());
        }
        ("deleting.md", c) if c.starts_with("grep -a -c quokkaburger") => {
            let susan = student.browsers.get_mut("susan").expect("susan's browser");
            let post = "Tonight: a quokkaburger at the corner";
            let res = susan.submit("/index", "/index", &[("post", post)]).await;
            assert_eq!(res.status, 302, "{}", res.body);
            let page = susan.get("/index").await;
            let at = page.body.find("/delete_post/").expect("a Delete link");
            let id: String = page.body[at + "/delete_post/".len()..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            let confirm = format!("/delete_post/{id}/confirm");
            let res = susan
                .submit(&confirm, &format!("/delete_post/{id}"), &[])
                .await;
            assert_eq!(res.status, 302, "{}", res.body);
            // "A few seconds later": the write-ahead log is cut back a moment after the answer.
            // The student waits; up to fifteen seconds here, then the page's command tells.
            let started = std::time::Instant::now();
            while started.elapsed() < std::time::Duration::from_secs(15)
                && word_in_files(student, "quokkaburger")
            {
                actix_web::rt::time::sleep(std::time::Duration::from_millis(200)).await;
            }
        }
        _ => {}
    }
}
