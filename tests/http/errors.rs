//! Chapter 7: error pages in the layout, JSON for JSON clients, and a failing handler.

use std::time::Duration;

use crate::common::spawn_app;
use crate::smtp::SmtpServer;

#[actix_web::test]
async fn an_unknown_page_is_a_404_in_the_site_layout_with_the_current_user() {
    let app = spawn_app().await;
    let mut browser = app.logged_in("susan", false).await;

    let res = browser.get("/no/such/page").await;

    assert_eq!(res.status, 404);
    assert!(res.body.contains("<h1>Not Found</h1>"));
    assert!(
        res.body
            .contains("id=\"current-user\" href=\"/user/susan\""),
        "navbar shows the user"
    );
}

#[actix_web::test]
async fn a_json_client_gets_errors_as_json() {
    let app = spawn_app().await;
    let client = awc::Client::default();

    let mut res = client
        .get(format!("{}/no/such/page", app.address))
        .insert_header(("Accept", "application/json"))
        .send()
        .await
        .unwrap();

    assert_eq!(res.status().as_u16(), 404);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body, serde_json::json!({"error": "Not Found"}));
}

#[actix_web::test]
async fn a_wrong_method_is_a_405_page() {
    let app = spawn_app().await;
    let mut browser = app.browser();

    let res = browser.get("/auth/sessions/logout_all").await;

    assert_eq!(res.status, 405);
    assert!(res.body.contains("Method Not Allowed"));
}

#[actix_web::test]
async fn a_failing_handler_shows_the_500_page_and_the_server_keeps_serving() {
    let app = spawn_app().await;
    let mut browser = app.logged_in("susan", false).await;

    app.execute_sql("DROP TABLE posts");
    let res = browser.get("/index").await;

    assert_eq!(res.status, 500);
    assert!(res.body.contains("An unexpected error has occurred"));
    assert!(
        !res.body.contains("posts"),
        "no internals leak: {}",
        res.body
    );
    assert_eq!(browser.get("/auth/logout").await.status, 302);
    assert_eq!(app.browser().get("/auth/login").await.status, 200);
}

#[actix_web::test]
async fn an_unexpected_error_is_mailed_to_the_admins_and_a_storm_is_capped() {
    let smtp = SmtpServer::start();
    let port = smtp.port.to_string();
    let app = crate::common::spawn_app_with(&[
        ("MAIL_SERVER", "127.0.0.1"),
        ("MAIL_PORT", &port),
        ("ADMINS", "admin@example.com,ops@example.com"),
    ])
    .await;
    let mut browser = app.logged_in("susan", false).await;

    app.execute_sql("DROP TABLE posts");
    assert_eq!(browser.get("/explore").await.status, 500);

    let report = smtp.wait_for(1, Duration::from_secs(20)).await.remove(0);
    assert_eq!(
        report.header("Subject").as_deref(),
        Some("Microblog Failure")
    );
    assert_eq!(report.rcpt_to, ["<admin@example.com>", "<ops@example.com>"]);
    assert!(report.text().contains("GET /explore"), "{}", report.text());
    // The causes in words, as the log line has them, not the program's own notation.
    let text = report.text();
    let missing_table = ["no such table: posts", "relation \"posts\" does not exist"];
    assert!(
        text.contains("database query failed: ") && missing_table.iter().any(|m| text.contains(m)),
        "{text}"
    );
    assert!(!text.contains("DatabaseError("), "{text}");

    for _ in 0..30 {
        assert_eq!(browser.get("/explore").await.status, 500);
    }
    app.wait_for_jobs().await;
    let reports = smtp.messages().len();
    assert_eq!(reports, 10, "at most ten reports in ten minutes");
}
