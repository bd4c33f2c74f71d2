//! The binary itself: what a newcomer sees on the first `cargo run`, what `db upgrade` says, a
//! mistyped database path, and request heads no browser would send.

use std::collections::HashSet;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use crate::common::{Browser, Server, microblog_command};

/// The migrations the binary carries for SQLite, by folder name, oldest first.
fn sqlite_migrations() -> Vec<String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/sqlite");
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// The names of the `name=value` fields on a log line.
fn field_names(line: &str) -> Vec<&str> {
    line.split(|c: char| c.is_whitespace() || c == '{' || c == '}')
        .filter_map(|word| word.split_once('=').map(|(name, _)| name))
        .filter(|name| !name.is_empty())
        .collect()
}

#[actix_web::test]
async fn a_first_run_in_an_empty_folder_says_where_it_serves_and_where_its_files_are() {
    let server = Server::start(&[]).await;
    let mut browser = Browser::at(&server.address);
    assert_eq!(browser.get("/auth/login").await.status, 200);
    actix_web::rt::time::sleep(Duration::from_millis(200)).await;

    let output = server.output();
    let lines: Vec<&str> = output.lines().collect();
    assert!(!output.contains("Error"), "{output}");
    let (start, requests) = lines.split_at(
        lines
            .iter()
            .position(|l| l.contains("request{"))
            .unwrap_or(lines.len()),
    );
    assert_eq!(start.len(), 3, "only the useful lines:\n{output}");
    assert!(start[0].contains("generated a new secret key in instance/secret_key"));
    assert!(start[1].contains(&format!(
        "applied {} migration(s) to sqlite:///app.db",
        sqlite_migrations().len()
    )));
    let serving = format!("serving on http://127.0.0.1:{}", server.port);
    assert!(start[2].contains(&serving), "{output}");
    assert!(start[2].contains("app.db") && start[2].contains("instance/secret_key"));
    // The process to stop with `kill -TERM` when several run (docs/17-19-deployment.md).
    assert!(
        start[2].contains(&format!("(process {}, ", server.child.id())),
        "{output}"
    );

    let login_page = requests
        .iter()
        .find(|l| l.contains("target=/auth/login"))
        .unwrap_or_else(|| panic!("no access line for the login page:\n{output}"));
    assert!(login_page.contains("status=200"), "{login_page}");
    for line in requests {
        let names = field_names(line);
        let unique: HashSet<&&str> = names.iter().collect();
        assert_eq!(unique.len(), names.len(), "a field twice: {line}");
    }
    assert!(server.work.path().join("app.db").exists());
    let logs: Vec<_> = std::fs::read_dir(server.work.path().join("logs"))
        .unwrap()
        .collect();
    assert_eq!(logs.len(), 1, "one log file");
}

#[actix_web::test]
async fn a_reset_link_opened_is_never_written_to_the_log() {
    let server = Server::start(&[]).await;
    let mut browser = Browser::at(&server.address);
    let token = "a-live-reset-token-that-works-like-a-password";
    browser.get(&format!("/auth/reset_password/{token}")).await;
    actix_web::rt::time::sleep(Duration::from_millis(200)).await;

    let output = server.output();
    assert!(
        output.contains("target=/auth/reset_password/<token>"),
        "the request is logged, without its token:\n{output}"
    );
    let mut logged = output;
    for file in std::fs::read_dir(server.work.path().join("logs")).unwrap() {
        logged.push_str(&std::fs::read_to_string(file.unwrap().path()).unwrap());
    }
    assert!(!logged.contains(token), "{logged}");
}

#[actix_web::test]
async fn db_upgrade_says_which_migrations_it_applied_then_that_nothing_was_pending() {
    let work = tempfile::tempdir().unwrap();
    let upgrade = || {
        microblog_command(work.path(), &[("LOG_TO_STDOUT", "1")])
            .args(["db", "upgrade"])
            .output()
            .unwrap()
    };

    let first = upgrade();
    let said = String::from_utf8_lossy(&first.stdout);
    assert!(first.status.success(), "{said}");
    let migrations = sqlite_migrations();
    assert!(
        said.contains(&format!("applied {} migration(s)", migrations.len())),
        "{said}"
    );
    for name in &migrations {
        assert!(said.contains(name.as_str()), "{name} not named: {said}");
    }

    let second = upgrade();
    let said = String::from_utf8_lossy(&second.stdout);
    assert!(second.status.success());
    assert!(said.contains("sqlite:///app.db is up to date"), "{said}");
}

#[actix_web::test]
async fn a_sqlite_path_in_a_missing_folder_is_refused_and_no_folder_is_made() {
    let work = tempfile::tempdir().unwrap();
    let missing = work.path().join("no/such/folder");
    let url = format!("sqlite:///{}/app.db", missing.display());

    for args in [&["db", "upgrade"][..], &[]] {
        let output = microblog_command(work.path(), &[("DATABASE_URL", &url), ("PORT", "0")])
            .args(args)
            .output()
            .unwrap();
        let said = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{args:?} succeeded");
        assert!(
            said.contains(&missing.display().to_string()),
            "{args:?}: {said}"
        );
    }
    assert!(!work.path().join("no").exists(), "a folder was made");
}

/// Sends `head` as a whole request and returns the status code of the answer.
fn status_of(port: u16, head: &[u8]) -> u16 {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    // The server may answer and close before it has read everything.
    let _ = stream.write_all(head);
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let text = String::from_utf8_lossy(&answer);
    text.split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no status line: {text:?}"))
}

#[actix_web::test]
async fn oversized_request_heads_get_431_or_400_the_server_goes_on_and_logs_no_error() {
    let server = Server::start(&[("LOG_TO_STDOUT", "1"), ("RUST_LOG", "info")]).await;
    let big = "a".repeat(100_000);
    let many: String = (0..500).map(|i| format!("X-Header-{i}: v\r\n")).collect();
    let heads = [
        (
            "a 100 KB cookie",
            format!("GET / HTTP/1.1\r\nHost: x\r\nCookie: session={big}\r\n\r\n"),
        ),
        (
            "a 100 KB header",
            format!("GET / HTTP/1.1\r\nHost: x\r\nX-Big: {big}\r\n\r\n"),
        ),
        (
            "500 headers",
            format!("GET / HTTP/1.1\r\nHost: x\r\n{many}\r\n"),
        ),
        (
            "a 100 KB URL",
            format!("GET /{big} HTTP/1.1\r\nHost: x\r\n\r\n"),
        ),
        (
            "a broken request line",
            "NOT HTTP AT ALL\r\n\r\n".to_owned(),
        ),
    ];

    for (what, head) in &heads {
        let status = status_of(server.port, head.as_bytes());
        assert!([400, 431].contains(&status), "{what}: {status}");
    }
    let mut browser = Browser::at(&server.address);
    assert_eq!(browser.get("/health").await.status, 200, "still serving");
    assert_eq!(browser.get("/auth/login").await.status, 200);

    actix_web::rt::time::sleep(Duration::from_millis(200)).await;
    let output = server.output();
    assert!(!output.contains("ERROR"), "{output}");
    assert!(
        output.contains("WARN"),
        "the malformed ones are noted: {output}"
    );
}

/// `microblog translate check` run in the project folder passes; in a project where Spanish
/// lacks a message, it names it and exits with status 1; `translate init` starts a language.
#[test]
fn translate_check_fails_on_a_missing_message_and_init_starts_a_language() {
    let project = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let ours = microblog_command(project, &[])
        .args(["translate", "check"])
        .output()
        .expect("run");
    let said = String::from_utf8_lossy(&ours.stdout);
    assert!(
        ours.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&ours.stderr)
    );
    assert!(said.contains("es: 0 missing, 0 unused"), "{said}");

    let work = tempfile::tempdir().unwrap();
    let root = work.path();
    for dir in ["locales/en", "locales/es", "templates", "src"] {
        std::fs::create_dir_all(root.join(dir)).unwrap();
    }
    std::fs::write(
        root.join("locales/en/main.ftl"),
        "nav-home = Home\nnav-explore = Explore\n",
    )
    .unwrap();
    std::fs::write(
        root.join("locales/es/main.ftl"),
        "nav-home = Inicio\nnav-old = Viejo\n",
    )
    .unwrap();
    std::fs::write(
        root.join("templates/base.html"),
        r#"{{ "nav-home" | t }} {{ "nav-explore" | t }}"#,
    )
    .unwrap();
    let check = microblog_command(root, &[])
        .args(["translate", "check"])
        .output()
        .expect("run");
    let said = String::from_utf8_lossy(&check.stdout);
    assert_eq!(check.status.code(), Some(1), "{said}");
    assert!(said.contains("es: 1 missing, 1 unused"), "{said}");
    assert!(
        said.contains("missing: nav-explore") && said.contains("unused: nav-old"),
        "{said}"
    );

    let init = microblog_command(root, &[])
        .args(["translate", "init", "fr"])
        .output()
        .expect("run");
    assert!(
        init.status.success(),
        "{}",
        String::from_utf8_lossy(&init.stderr)
    );
    let french = std::fs::read_to_string(root.join("locales/fr/main.ftl")).unwrap();
    assert!(french.contains("# nav-explore = Explore"), "{french}");
    let again = microblog_command(root, &[])
        .args(["translate", "init", "fr"])
        .output()
        .expect("run");
    assert_eq!(again.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));
}
