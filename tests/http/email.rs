//! Chapter 10: password reset through a mailed link, over a real SMTP conversation with the test
//! mail server; the outbox when the mail server is down, killed, shared or absent.

use std::time::Duration;

use crate::common::{
    Browser, PASSWORD, Server, TestApp, TestDatabase, flashes_of, microblog_command,
    spawn_app_with, wait_for_job, wait_for_jobs,
};
use crate::smtp::{Received, SmtpServer, free_port};

const NEW_PASSWORD: &str = "a brand new secret";
const CHECK_YOUR_EMAIL: &str = "Check your email for the instructions to reset your password";
const MAIL_WAIT: Duration = Duration::from_secs(20);

async fn app_mailing_to(port: u16, extra: &[(&str, &str)]) -> TestApp {
    let port = port.to_string();
    let mut settings = vec![
        ("MAIL_SERVER", "127.0.0.1"),
        ("MAIL_PORT", port.as_str()),
        ("MAIL_DEFAULT_SENDER", "microblog@example.com"),
    ];
    settings.extend_from_slice(extra);
    spawn_app_with(&settings).await
}

/// Asks for a reset link for `email` as an anonymous visitor, and checks the answer every
/// address gets.
async fn request_reset(browser: &mut Browser, email: &str) {
    let res = browser
        .submit(
            "/auth/reset_password_request",
            "/auth/reset_password_request",
            &[("email", email)],
        )
        .await;
    assert_eq!(res.status, 302, "{}", res.body);
    assert_eq!(res.location(), Some("/auth/login"));
    assert_eq!(browser.flashes("/auth/login").await, [CHECK_YOUR_EMAIL]);
}

/// The reset link in a mail, as a path on the site at `address`.
fn reset_path(mail: &Received, address: &str) -> String {
    let links = mail.links("/auth/reset_password/");
    assert_eq!(links.len(), 1, "one reset link: {}", mail.text());
    links[0]
        .strip_prefix(address)
        .unwrap_or_else(|| panic!("{} is not on {address}", links[0]))
        .to_owned()
}

/// Posts a new password to a link that may be dead (its form cannot be opened): the CSRF token
/// comes from another form.
async fn post_new_password(browser: &mut Browser, path: &str) -> crate::common::Response {
    let token = browser.get("/auth/login").await.csrf_token().unwrap();
    browser
        .post(
            path,
            &[
                ("csrf_token", &token),
                ("password", NEW_PASSWORD),
                ("password2", NEW_PASSWORD),
            ],
        )
        .await
}

async fn set_new_password(browser: &mut Browser, path: &str) -> crate::common::Response {
    browser
        .submit(
            path,
            path,
            &[("password", NEW_PASSWORD), ("password2", NEW_PASSWORD)],
        )
        .await
}

#[actix_web::test]
async fn a_user_resets_a_forgotten_password_through_the_mailed_link() {
    let smtp = SmtpServer::start();
    let app = app_mailing_to(smtp.port, &[]).await;
    app.register("susan").await;
    let mut elsewhere = app.browser();
    assert_eq!(elsewhere.login("susan", PASSWORD, true).await.status, 302);
    let mut browser = app.browser();

    let login = browser.get("/auth/login").await;
    assert!(login.body.contains("href=\"/auth/reset_password_request\""));
    request_reset(&mut browser, "Susan@Example.com").await;
    let mail = smtp.wait_for(1, MAIL_WAIT).await.remove(0);

    assert_eq!(
        mail.header("Subject").as_deref(),
        Some("[Microblog] Reset Your Password")
    );
    assert_eq!(
        mail.header("From").as_deref(),
        Some("microblog@example.com")
    );
    assert_eq!(mail.header("To").as_deref(), Some("susan@example.com"));
    assert_eq!(mail.rcpt_to, ["<susan@example.com>"]);
    assert!(mail.header("Message-ID").is_some());
    assert!(
        mail.header("Content-Type")
            .unwrap()
            .starts_with("multipart/alternative"),
        "text and HTML parts"
    );
    assert!(mail.text().contains("Dear susan,"), "{}", mail.text());
    let path = reset_path(&mail, &app.address);

    // Opening the link (a mail scanner, a preview, the user) uses nothing up.
    for _ in 0..2 {
        let form = browser.get(&path).await;
        assert_eq!(form.status, 200);
        assert!(form.body.contains("name=\"password2\""));
    }
    let res = set_new_password(&mut browser, &path).await;
    assert_eq!(res.status, 302, "{}", res.body);
    assert_eq!(res.location(), Some("/auth/login"));
    assert_eq!(
        browser.flashes("/auth/login").await,
        ["Your password has been reset."]
    );

    let old = browser.login("susan", PASSWORD, false).await;
    assert_eq!(
        old.location(),
        Some("/auth/login"),
        "the old password is refused"
    );
    let new = browser.login("susan", NEW_PASSWORD, false).await;
    assert_eq!(new.location(), Some("/index"), "the new password works");
    let other = elsewhere.get("/index").await;
    assert_eq!(other.status, 302, "the other browser's login ended");
    assert!(other.location().unwrap().starts_with("/auth/login"));

    let mut again = app.browser();
    let used = again.get(&path).await;
    assert_eq!(used.location(), Some("/index"), "the link works once");
    let posted = post_new_password(&mut again, &path).await;
    assert_eq!(posted.status, 302);
    assert_eq!(posted.location(), Some("/index"));
    assert_eq!(
        again.login("susan", NEW_PASSWORD, false).await.location(),
        Some("/index")
    );
}

#[actix_web::test]
async fn a_newer_request_a_password_change_and_time_each_kill_a_link() {
    let smtp = SmtpServer::start();
    let app = app_mailing_to(smtp.port, &[("PASSWORD_RESET_TIMEOUT", "5")]).await;
    let mut susan = app.logged_in("susan", false).await;
    let mut browser = app.browser();

    request_reset(&mut browser, "susan@example.com").await;
    let first = reset_path(&smtp.wait_for(1, MAIL_WAIT).await[0], &app.address);
    // Five minutes on (no link is mailed sooner after another), she asks again.
    app.execute_sql("UPDATE password_resets SET created_at = '2000-01-01 00:00:00'");
    request_reset(&mut browser, "susan@example.com").await;
    let second = reset_path(&smtp.wait_for(2, MAIL_WAIT).await[1], &app.address);

    let dead = browser.get(&first).await;
    assert_eq!(
        dead.location(),
        Some("/index"),
        "a newer link kills the older one"
    );
    // Home sends a visitor on to the login page, where one message says why, with a link to
    // ask for a new one (and no "Please log in").
    let home = browser.get("/index").await;
    let flashes = browser.flashes(home.location().unwrap()).await;
    assert_eq!(flashes.len(), 1, "{flashes:?}");
    assert!(flashes[0].contains("no longer valid"), "{flashes:?}");
    assert!(
        flashes[0].contains(
            r#"<a class="alert-link" href="/auth/reset_password_request">Ask for a new one.</a>"#
        ),
        "{flashes:?}"
    );
    assert_eq!(browser.get(&second).await.status, 200);

    actix_web::rt::time::sleep(Duration::from_millis(5500)).await;
    assert_eq!(
        browser.get(&second).await.location(),
        Some("/index"),
        "expired"
    );
    let res = post_new_password(&mut browser, &second).await;
    assert_eq!(res.location(), Some("/index"));
    assert_eq!(
        browser.login("susan", PASSWORD, false).await.location(),
        Some("/index"),
        "an expired link changed nothing"
    );

    // A password changed by its owner kills a live link too.
    app.execute_sql("UPDATE password_resets SET created_at = '2000-01-01 00:00:00'");
    request_reset(&mut app.browser(), "susan@example.com").await;
    let third = reset_path(&smtp.wait_for(3, MAIL_WAIT).await[2], &app.address);
    let changed = susan.change_password(NEW_PASSWORD).await;
    assert_eq!(changed.location(), Some("/index"));
    assert_eq!(app.browser().get(&third).await.location(), Some("/index"));
}

#[actix_web::test]
async fn every_address_gets_the_same_answer_and_only_a_user_gets_a_mail() {
    let smtp = SmtpServer::start();
    let app = app_mailing_to(smtp.port, &[]).await;
    app.register("susan").await;

    request_reset(&mut app.browser(), "nobody@example.com").await;
    request_reset(&mut app.browser(), "susan@example.com").await;
    app.wait_for_jobs().await;

    let mails = smtp.messages();
    assert_eq!(mails.len(), 1, "{mails:?}");
    assert_eq!(mails[0].rcpt_to, ["<susan@example.com>"]);
}

#[actix_web::test]
async fn the_reset_pages_check_their_input_and_send_logged_in_users_home() {
    let smtp = SmtpServer::start();
    let app = app_mailing_to(smtp.port, &[]).await;
    let mut susan = app.logged_in("susan", false).await;
    let mut browser = app.browser();

    let bad = browser
        .submit(
            "/auth/reset_password_request",
            "/auth/reset_password_request",
            &[("email", "not an address")],
        )
        .await;
    assert_eq!(bad.status, 200);
    assert!(bad.body.contains("Invalid email address."));
    assert!(bad.body.contains("value=\"not an address\""));

    request_reset(&mut browser, "susan@example.com").await;
    let path = reset_path(&smtp.wait_for(1, MAIL_WAIT).await[0], &app.address);
    let weak = browser
        .submit(
            &path,
            &path,
            &[("password", "susan"), ("password2", "other")],
        )
        .await;
    assert_eq!(weak.status, 200, "the form again, with its messages");
    assert!(weak.body.contains("invalid-feedback"), "{}", weak.body);
    assert_eq!(
        browser.get(&path).await.status,
        200,
        "a refused password uses nothing up"
    );

    for page in ["/auth/reset_password_request", path.as_str()] {
        assert_eq!(susan.get(page).await.location(), Some("/index"), "{page}");
    }
    for junk in [
        "/auth/reset_password/nonsense",
        "/auth/reset_password/%00%ff",
    ] {
        assert_eq!(browser.get(junk).await.location(), Some("/index"), "{junk}");
    }
    let long = format!("/auth/reset_password/{}", "a".repeat(5000));
    assert_eq!(browser.get(&long).await.location(), Some("/index"));
}

#[actix_web::test]
async fn reset_requests_are_throttled_per_address() {
    let smtp = SmtpServer::start();
    let app = app_mailing_to(smtp.port, &[]).await;
    app.register("susan").await;
    let mut browser = app.browser();

    for _ in 0..5 {
        request_reset(&mut browser, "susan@example.com").await;
    }
    let refused = browser
        .submit(
            "/auth/reset_password_request",
            "/auth/reset_password_request",
            &[("email", "susan@example.com")],
        )
        .await;

    assert_eq!(refused.status, 429);
    assert!(refused.header("Retry-After").is_some());
    assert!(refused.body.contains("Too many attempts"));
    app.wait_for_jobs().await;
    // The first request's link still works: the next four sent nothing more.
    assert_eq!(smtp.messages().len(), 1);
}

#[actix_web::test]
async fn a_reset_loop_aimed_at_one_address_mails_one_link_per_five_minutes() {
    let smtp = SmtpServer::start();
    let app = app_mailing_to(smtp.port, &[]).await;
    app.register("susan").await;

    // Asked again and again, each time by a new browser, within what the throttle allows.
    for _ in 0..4 {
        request_reset(&mut app.browser(), "susan@example.com").await;
    }
    app.wait_for_jobs().await;
    assert_eq!(smtp.messages().len(), 1, "one link while it is young");

    app.execute_sql("UPDATE password_resets SET created_at = '2000-01-01 00:00:00'");
    request_reset(&mut app.browser(), "susan@example.com").await;
    app.wait_for_jobs().await;
    assert_eq!(
        smtp.messages().len(),
        2,
        "a new one once five minutes have passed"
    );
}

#[actix_web::test]
async fn a_forged_host_header_never_reaches_a_link() {
    let smtp = SmtpServer::start();
    let app = app_mailing_to(smtp.port, &[]).await;
    app.register("susan").await;
    let mut forger = app.browser();
    forger.host = Some("evil.example".to_owned());

    let page = forger.get("/auth/reset_password_request").await;
    let token = page.csrf_token().unwrap();
    let res = forger
        .post(
            "/auth/reset_password_request",
            &[("csrf_token", &token), ("email", "susan@example.com")],
        )
        .await;
    assert_eq!(res.status, 400, "{}", res.body);
    assert!(res.body.contains("host name"), "{}", res.body);
    app.wait_for_jobs().await;
    assert!(smtp.messages().is_empty(), "no mail for a forged host");

    // With SERVER_NAME set, links name it whatever the request says.
    let named = app_mailing_to(smtp.port, &[("SERVER_NAME", "microblog.example")]).await;
    named.register("susan").await;
    let mut forger = named.browser();
    forger.host = Some("evil.example".to_owned());
    request_reset(&mut forger, "susan@example.com").await;
    let mail = smtp.wait_for(1, MAIL_WAIT).await.remove(0);
    let links = mail.links("/auth/reset_password/");
    assert!(
        links[0].starts_with("http://microblog.example/auth/reset_password/"),
        "{links:?}"
    );
}

#[actix_web::test]
async fn a_mail_queued_while_the_mail_server_is_down_arrives_once_it_is_up() {
    let port = free_port();
    let app = app_mailing_to(port, &[]).await;
    app.register("susan").await;

    request_reset(&mut app.browser(), "susan@example.com").await;
    // Wait for a failed attempt to be recorded.
    let db = app.database();
    wait_for_job(&db, |job| job.last_error.is_some()).await;
    let smtp = SmtpServer::start_on(port);

    let mail = smtp.wait_for(1, MAIL_WAIT).await.remove(0);
    assert_eq!(mail.rcpt_to, ["<susan@example.com>"]);
    app.wait_for_jobs().await;
    actix_web::rt::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(smtp.messages().len(), 1, "sent once");
    let path = reset_path(&mail, &app.address);
    assert_eq!(
        set_new_password(&mut app.browser(), &path).await.location(),
        Some("/auth/login")
    );
}

#[actix_web::test]
async fn a_mail_whose_job_gives_up_is_marked_failed_in_the_outbox() {
    // No mail server ever answers on this port.
    let app = app_mailing_to(free_port(), &[]).await;
    app.register("susan").await;
    request_reset(&mut app.browser(), "susan@example.com").await;
    let db = app.database();
    wait_for_job(&db, |job| {
        job.kind == "send_mail" && job.last_error.is_some()
    })
    .await;
    // Its last attempt, due now.
    app.execute_sql(
        "UPDATE jobs SET attempts = max_attempts - 1, run_at = '2000-01-01 00:00:00'
         WHERE kind = 'send_mail'",
    );
    app.state.jobs.wake();
    app.wait_for_jobs().await;
    let mut conn = db.get().unwrap();
    let jobs = microblog::models::bulk::jobs_after(&mut conn, 0, 10).unwrap();
    let job = jobs.iter().find(|j| j.kind == "send_mail").unwrap();
    assert_eq!(job.state, "failed", "{jobs:?}");
    let mail = &microblog::models::mail::newest(&mut conn, 1).unwrap()[0];
    assert_eq!(mail.status, "failed");
}

#[actix_web::test]
async fn a_mail_the_server_refuses_for_good_fails_at_once_with_the_reason_kept() {
    let smtp = SmtpServer::refusing();
    let app = app_mailing_to(smtp.port, &[]).await;
    app.register("susan").await;

    request_reset(&mut app.browser(), "susan@example.com").await;
    app.wait_for_jobs().await;

    let mut conn = app.database().get().unwrap();
    let mail = &microblog::models::mail::newest(&mut conn, 1).unwrap()[0];
    assert_eq!(mail.status, "failed");
    let failed: Vec<_> = microblog::models::bulk::jobs_after(&mut conn, 0, 10)
        .unwrap()
        .into_iter()
        .filter(|j| j.kind == "send_mail")
        .collect();
    assert_eq!(failed[0].state, "failed");
    assert_eq!(failed[0].attempts, 1, "no retry");
    assert!(
        failed[0].last_error.as_deref().unwrap().contains("550"),
        "{failed:?}"
    );
}

#[actix_web::test]
async fn two_instances_on_one_database_send_each_mail_once() {
    let smtp = SmtpServer::start();
    let database = TestDatabase::fresh();
    let url = database.url.clone();
    let first = app_mailing_to(smtp.port, &[("DATABASE_URL", &url)]).await;
    let second = app_mailing_to(smtp.port, &[("DATABASE_URL", &url)]).await;
    let names: Vec<String> = (0..16).map(|i| format!("user{i}")).collect();
    for name in &names {
        first.register(name).await;
    }

    // Each user asks once (a second link within minutes is not sent), half through each.
    for (i, name) in names.iter().enumerate() {
        let app = if i % 2 == 0 { &first } else { &second };
        request_reset(&mut app.browser(), &format!("{name}@example.com")).await;
    }
    smtp.wait_for(16, MAIL_WAIT).await;
    first.wait_for_jobs().await;
    // Time for a second delivery of any mail, if there were to be one.
    actix_web::rt::time::sleep(Duration::from_secs(2)).await;

    let mails = smtp.messages();
    assert_eq!(mails.len(), 16, "each mail once");
    let mut ids: Vec<String> = mails
        .iter()
        .filter_map(|m| m.header("Message-ID"))
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 16);
}

#[actix_web::test]
async fn a_mail_whose_server_was_killed_before_sending_arrives_after_a_restart() {
    let hanging = SmtpServer::hanging();
    let smtp = SmtpServer::start();
    let database = TestDatabase::fresh();
    let serve = |port: u16| {
        let (url, port) = (database.url.clone(), port.to_string());
        async move {
            Server::start(&[
                ("DATABASE_URL", url.as_str()),
                ("SECRET_KEY", "a-secret-key-for-the-restart-test"),
                ("BCRYPT_COST", "4"),
                ("MAIL_SERVER", "127.0.0.1"),
                ("MAIL_PORT", port.as_str()),
                ("MAIL_DEFAULT_SENDER", "microblog@example.com"),
                ("RUST_LOG", "warn"),
            ])
            .await
        }
    };
    let mut doomed = serve(hanging.port).await;
    let mut browser = Browser::at(&doomed.address);
    browser.register("susan").await;
    request_reset(&mut browser, "susan@example.com").await;
    // The mail's job is claimed and stuck talking to the mail server: kill the server then.
    let db =
        microblog::db::Db::connect(&microblog::config::DatabaseUrl::parse(&database.url).unwrap())
            .unwrap();
    wait_for_job(&db, |job| job.kind == "send_mail" && job.state == "running").await;
    doomed.child.kill().unwrap();
    doomed.child.wait().unwrap();
    assert!(hanging.messages().is_empty());

    let restarted = serve(smtp.port).await;
    let mail = smtp.wait_for(1, Duration::from_secs(60)).await.remove(0);

    assert_eq!(mail.rcpt_to, ["<susan@example.com>"]);
    let path = reset_path(&mail, &doomed.address);
    let mut browser = Browser::at(&restarted.address);
    assert_eq!(
        set_new_password(&mut browser, &path).await.location(),
        Some("/auth/login")
    );
    wait_for_jobs(&db).await;
    assert_eq!(smtp.messages().len(), 1);
}

#[actix_web::test]
async fn with_no_mail_server_the_link_is_in_the_log_and_in_mail_list() {
    let database = TestDatabase::fresh();
    let settings = [
        ("DATABASE_URL", database.url.as_str()),
        ("SECRET_KEY", "a-secret-key-for-the-no-mail-test"),
        ("BCRYPT_COST", "4"),
    ];
    let server = Server::start(&settings).await;
    let mut browser = Browser::at(&server.address);
    browser.register("susan").await;

    request_reset(&mut browser, "susan@example.com").await;
    let started = std::time::Instant::now();
    let link = loop {
        let output = server.output();
        if let Some(i) = output.find(&format!("{}/auth/reset_password/", server.address)) {
            break output[i..].split_whitespace().next().unwrap().to_owned();
        }
        assert!(
            started.elapsed() < MAIL_WAIT,
            "no link in the log: {output}"
        );
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    };
    let output = server.output();
    assert!(
        output.contains("INFO") && output.contains("mail not sent (no MAIL_SERVER is set)"),
        "{output}"
    );
    assert!(output.contains("susan@example.com"), "{output}");
    assert!(
        output.contains("[Microblog] Reset Your Password"),
        "{output}"
    );

    let path = link.strip_prefix(&server.address).unwrap();
    assert_eq!(browser.get(path).await.status, 200);

    let list = microblog_command(server.work.path(), &settings)
        .args(["mail", "list"])
        .output()
        .unwrap();
    let listed = String::from_utf8_lossy(&list.stdout);
    assert!(list.status.success(), "{listed}");
    assert!(listed.contains("logged"), "{listed}");
    assert!(listed.contains("susan@example.com"), "{listed}");
    assert!(
        listed.contains("[Microblog] Reset Your Password"),
        "{listed}"
    );
    let id = listed.split_whitespace().next().unwrap();
    let show = microblog_command(server.work.path(), &settings)
        .args(["mail", "show", id])
        .output()
        .unwrap();
    let shown = String::from_utf8_lossy(&show.stdout);
    assert!(shown.contains(&link), "{shown}");
    let missing = microblog_command(server.work.path(), &settings)
        .args(["mail", "show", "9999"])
        .output()
        .unwrap();
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no mail 9999"));

    let flashes = flashes_of(&browser.get("/auth/login").await.body);
    assert!(flashes.is_empty());
}

/// The address the database holds for `username`.
fn address_of(app: &TestApp, username: &str) -> String {
    use diesel::prelude::*;
    use microblog::schema::users;
    let mut conn = app.database().get().unwrap();
    users::table
        .filter(users::username.eq(username))
        .select(users::email)
        .first(&mut *conn)
        .unwrap()
}

/// The confirmation link in a mail, as a path on the site at `address`.
fn confirm_path(mail: &Received, address: &str) -> String {
    let links = mail.links("/auth/confirm_email/");
    assert_eq!(links.len(), 1, "one confirmation link: {}", mail.text());
    links[0].strip_prefix(address).unwrap().to_owned()
}

#[actix_web::test]
async fn an_address_changes_only_through_the_link_mailed_to_it_and_the_old_one_is_told() {
    let smtp = SmtpServer::start();
    let app = app_mailing_to(smtp.port, &[]).await;
    app.register("john").await;
    let mut susan = app.logged_in("susan", false).await;
    assert!(
        susan
            .get("/edit_profile")
            .await
            .body
            .contains("href=\"/auth/change_email\"")
    );
    let change =
        |email: &'static str, password: &'static str| [("email", email), ("password", password)];

    // A wrong password, and an address that is another account's: form errors, nothing sent.
    let wrong = susan
        .submit(
            "/auth/change_email",
            "/auth/change_email",
            &change("new@example.com", "nope nope"),
        )
        .await;
    assert!(wrong.body.contains("Invalid password."), "{}", wrong.body);
    let taken = susan
        .submit(
            "/auth/change_email",
            "/auth/change_email",
            &change("JOHN@example.com", PASSWORD),
        )
        .await;
    assert!(
        taken.body.contains("Please use a different email address."),
        "{}",
        taken.body
    );

    // A reset link mailed to the old address, and an API token, before the change.
    request_reset(&mut app.browser(), "susan@example.com").await;
    let reset = reset_path(&smtp.wait_for(1, MAIL_WAIT).await[0], &app.address);
    let mut token_page = awc::Client::new()
        .post(format!("{}/api/tokens", app.address))
        .basic_auth("susan", PASSWORD)
        .send()
        .await
        .unwrap();
    assert_eq!(token_page.status(), 200);
    let token: serde_json::Value = token_page.json().await.unwrap();
    let token = token["token"].as_str().unwrap().to_owned();
    let api_status = || async {
        awc::Client::new()
            .get(format!("{}/api/users", app.address))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    };
    assert_eq!(api_status().await, 200);

    let asked = susan
        .submit(
            "/auth/change_email",
            "/auth/change_email",
            &change("susan.new@example.com", PASSWORD),
        )
        .await;
    assert_eq!(asked.location(), Some("/edit_profile"));
    let flashes = susan.flashes("/edit_profile").await;
    assert!(flashes[0].contains("susan.new@example.com"), "{flashes:?}");
    let mails = smtp.wait_for(2, MAIL_WAIT).await;
    assert_eq!(mails[1].rcpt_to, ["<susan.new@example.com>"]);
    let path = confirm_path(&mails[1], &app.address);
    assert_eq!(
        address_of(&app, "susan"),
        "susan@example.com",
        "nothing changed yet"
    );

    // Opening the link (a mail scanner, a preview) shows what it does and uses nothing up.
    let mut elsewhere = app.browser();
    for _ in 0..2 {
        let page = elsewhere.get(&path).await;
        assert_eq!(page.status, 200);
        assert!(page.body.contains("susan.new@example.com"));
    }
    let done = elsewhere.submit(&path, &path, &[]).await;
    assert_eq!(
        done.location(),
        Some("/auth/login"),
        "not logged in there: to the login page"
    );
    assert_eq!(
        elsewhere.flashes("/auth/login").await,
        ["Your email address is now susan.new@example.com."]
    );
    assert_eq!(address_of(&app, "susan"), "susan.new@example.com");

    // The old address is told; its reset link is dead; so is the API token.
    let mails = smtp.wait_for(3, MAIL_WAIT).await;
    assert_eq!(mails[2].rcpt_to, ["<susan@example.com>"]);
    assert!(
        mails[2].text().contains("susan.new@example.com"),
        "{}",
        mails[2].text()
    );
    assert_eq!(app.browser().get(&reset).await.location(), Some("/index"));
    assert_eq!(
        api_status().await,
        401,
        "the token given out under the old address ended"
    );
    // The link works once.
    let again = elsewhere.get(&path).await;
    assert_eq!(again.location(), Some("/auth/login"));
    let flashes = elsewhere.flashes("/auth/login").await;
    assert!(flashes[0].contains("no longer valid"), "{flashes:?}");
}

#[actix_web::test]
async fn the_api_changes_an_address_only_with_the_password_and_through_the_mailed_link() {
    let smtp = SmtpServer::start();
    let app = app_mailing_to(smtp.port, &[]).await;
    app.register("susan").await;
    let client = awc::Client::new();
    let mut res = client
        .post(format!("{}/api/tokens", app.address))
        .basic_auth("susan", PASSWORD)
        .send()
        .await
        .unwrap();
    let token: serde_json::Value = res.json().await.unwrap();
    let token = token["token"].as_str().unwrap().to_owned();
    let id: i64 = {
        use diesel::prelude::*;
        let mut conn = app.database().get().unwrap();
        microblog::schema::users::table
            .select(microblog::schema::users::id)
            .first::<i32>(&mut *conn)
            .unwrap()
            .into()
    };
    let put = |body: serde_json::Value| {
        client
            .put(format!("{}/api/users/{id}", app.address))
            .bearer_auth(&token)
            .send_json(&body)
    };

    let mut without = put(serde_json::json!({"email": "thief@example.org"}))
        .await
        .unwrap();
    assert_eq!(without.status(), 400);
    let body: serde_json::Value = without.json().await.unwrap();
    assert!(
        body["message"].as_str().unwrap().starts_with("password:"),
        "{body}"
    );
    let mut wrong =
        put(serde_json::json!({"email": "thief@example.org", "password": "guess guess"}))
            .await
            .unwrap();
    assert_eq!(wrong.status(), 400);
    let body: serde_json::Value = wrong.json().await.unwrap();
    assert_eq!(body["message"], "password: Invalid password.");

    let mut right = put(
        serde_json::json!({"email": "susan@new.example", "password": PASSWORD, "about_me": "hi"}),
    )
    .await
    .unwrap();
    assert_eq!(right.status(), 200);
    let user: serde_json::Value = right.json().await.unwrap();
    assert_eq!(
        user["email"], "susan@example.com",
        "not changed until confirmed"
    );
    assert_eq!(user["about_me"], "hi", "the other fields change at once");
    let mails = smtp.wait_for(1, MAIL_WAIT).await;
    assert_eq!(mails[0].rcpt_to, ["<susan@new.example>"]);
    confirm_path(&mails[0], &app.address);
    assert_eq!(address_of(&app, "susan"), "susan@example.com");
}

#[actix_web::test]
async fn a_delivered_mail_that_held_a_link_keeps_no_copy_of_it_in_the_outbox() {
    use diesel::prelude::*;
    use microblog::schema::mails;
    let smtp = SmtpServer::start();
    let app = app_mailing_to(smtp.port, &[]).await;
    app.register("susan").await;
    request_reset(&mut app.browser(), "susan@example.com").await;
    let path = reset_path(&smtp.wait_for(1, MAIL_WAIT).await[0], &app.address);
    app.wait_for_jobs().await;

    let mut conn = app.database().get().unwrap();
    let (text, html): (String, Option<String>) = mails::table
        .select((mails::text_body, mails::html_body))
        .first(&mut *conn)
        .unwrap();
    let token = path.rsplit('/').next().unwrap();
    assert!(!text.contains(token) && html.is_none(), "{text}");
    assert_eq!(text, microblog::models::mail::TEXT_NOT_KEPT);
    // The link itself still works: it is the recipient's now.
    assert_eq!(app.browser().get(&path).await.status, 200);
}

#[actix_web::test]
async fn a_changed_password_ends_an_address_change_waiting_for_its_link() {
    let smtp = SmtpServer::start();
    let app = app_mailing_to(smtp.port, &[]).await;
    let mut susan = app.logged_in("susan", false).await;
    // Someone with her login and password asks for their own address...
    let asked = susan
        .submit(
            "/auth/change_email",
            "/auth/change_email",
            &[("email", "thief@example.org"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(asked.location(), Some("/edit_profile"));
    let path = confirm_path(&smtp.wait_for(1, MAIL_WAIT).await[0], &app.address);
    // ... and she changes her password before the link is opened.
    assert_eq!(
        susan.change_password(NEW_PASSWORD).await.location(),
        Some("/index")
    );

    let mut thief = app.browser();
    assert_eq!(
        thief.get(&path).await.location(),
        Some("/auth/login"),
        "the link is dead"
    );
    assert_eq!(address_of(&app, "susan"), "susan@example.com");
}

/// Each user's name and whether it is marked an old case twin of another's address, by id.
fn address_twin_marks(app: &TestApp) -> Vec<(String, bool)> {
    use diesel::prelude::*;
    use microblog::schema::users;
    let mut conn = app.database().get().unwrap();
    users::table
        .order(users::id)
        .select((users::username, users::email_case_twin))
        .load(&mut *conn)
        .unwrap()
}

#[actix_web::test]
async fn two_addresses_differing_only_in_case_from_before_the_rule_both_keep_their_accounts() {
    // A database from before addresses were unique in any case: alice has alice@example.com,
    // and bob, made after her, Alice@example.com.
    let smtp = SmtpServer::start();
    let database = TestDatabase::fresh();
    let settings = [("DATABASE_URL", database.url.as_str())];
    let mut app = app_mailing_to(smtp.port, &settings).await;
    app.register("alice").await;
    app.stop().await;
    let hash = microblog::password::hash_blocking(PASSWORD, 4).unwrap();
    // One statement batch: each connection of the test's own would migrate again first.
    app.execute_sql(&format!(
        "DROP INDEX ix_users_email_lower; ALTER TABLE users DROP COLUMN email_case_twin;
         DELETE FROM __diesel_schema_migrations WHERE version = '20261207000018';
         INSERT INTO users (username, email, password_hash, last_seen)
         VALUES ('bob', 'Alice@example.com', '{hash}', '2026-01-01 00:00:00');"
    ));

    // The next start migrates: the younger is marked, and both log in.
    let app = app_mailing_to(smtp.port, &settings).await;
    let marks = address_twin_marks(&app);
    assert_eq!(marks, [("alice".into(), false), ("bob".into(), true)]);
    for name in ["alice", "bob"] {
        let res = app.browser().login(name, PASSWORD, false).await;
        assert_eq!(res.location(), Some("/index"), "{name}");
    }

    // A reset request finds the account with the address as typed, else the older one; each
    // resets its own password through its own link.
    request_reset(&mut app.browser(), "ALICE@example.com").await;
    let mails = smtp.wait_for(1, MAIL_WAIT).await;
    assert_eq!(mails[0].rcpt_to, ["<alice@example.com>"]);
    assert!(
        mails[0].text().contains("Dear alice,"),
        "{}",
        mails[0].text()
    );
    request_reset(&mut app.browser(), "Alice@example.com").await;
    let mails = smtp.wait_for(2, MAIL_WAIT).await;
    assert_eq!(mails[1].rcpt_to, ["<Alice@example.com>"]);
    assert!(mails[1].text().contains("Dear bob,"), "{}", mails[1].text());
    for (mail, name) in mails.iter().zip(["alice", "bob"]) {
        let mut browser = app.browser();
        let path = reset_path(mail, &app.address);
        let res = set_new_password(&mut browser, &path).await;
        assert_eq!(res.location(), Some("/auth/login"), "{name}");
        let res = browser.login(name, NEW_PASSWORD, false).await;
        assert_eq!(res.location(), Some("/index"), "{name}");
    }

    // The database holds the rule for every new address: a third in another case is refused.
    {
        use diesel::connection::SimpleConnection;
        let mut conn = app.database().get().unwrap();
        let third = conn.batch_execute(&format!(
            "INSERT INTO users (username, email, password_hash, last_seen)
             VALUES ('carol', 'ALICE@EXAMPLE.COM', '{hash}', '2026-01-01 00:00:00')"
        ));
        assert!(third.is_err(), "the unique index let a third one in");
    }

    // A new address clears the mark: it is held to the rule.
    let mut bob = app.browser();
    bob.login("bob", NEW_PASSWORD, false).await;
    let asked = bob
        .submit(
            "/auth/change_email",
            "/auth/change_email",
            &[("email", "bob@example.com"), ("password", NEW_PASSWORD)],
        )
        .await;
    assert_eq!(asked.location(), Some("/edit_profile"), "{}", asked.body);
    let path = confirm_path(&smtp.wait_for(3, MAIL_WAIT).await[2], &app.address);
    assert_eq!(
        bob.submit(&path, &path, &[]).await.location(),
        Some("/index")
    );
    assert_eq!(address_of(&app, "bob"), "bob@example.com");
    let marks = address_twin_marks(&app);
    assert_eq!(marks, [("alice".into(), false), ("bob".into(), false)]);
}
