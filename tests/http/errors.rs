//! Chapter 7: error pages in the layout, JSON for JSON clients, and a failing handler.

use crate::common::spawn_app;

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

/// A tiny SMTP server on loopback that keeps the first message it receives.
fn fake_smtp_server() -> (u16, std::sync::mpsc::Receiver<String>) {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut writer = stream;
        writer.write_all(b"220 fake ESMTP\r\n").unwrap();
        let mut message = String::new();
        let mut in_data = false;
        let mut line = String::new();
        while reader.read_line(&mut line).unwrap_or(0) > 0 {
            if in_data {
                if line == ".\r\n" {
                    in_data = false;
                    writer.write_all(b"250 queued\r\n").unwrap();
                } else {
                    message.push_str(&line);
                }
            } else {
                let verb = line.get(..4).unwrap_or_default().to_ascii_uppercase();
                let reply: &[u8] = match verb.as_str() {
                    "EHLO" | "HELO" => b"250 fake\r\n",
                    "DATA" => {
                        in_data = true;
                        b"354 go ahead\r\n"
                    }
                    "QUIT" => {
                        writer.write_all(b"221 bye\r\n").unwrap();
                        break;
                    }
                    _ => b"250 ok\r\n",
                };
                writer.write_all(reply).unwrap();
            }
            line.clear();
        }
        let _ = sender.send(message);
    });
    (port, receiver)
}

#[actix_web::test]
async fn an_unexpected_error_is_mailed_to_the_admins() {
    let (port, inbox) = fake_smtp_server();
    let port = port.to_string();
    let app = crate::common::spawn_app_with(&[
        ("MAIL_SERVER", "127.0.0.1"),
        ("MAIL_PORT", &port),
        ("ADMINS", "admin@example.com"),
    ])
    .await;
    let mut browser = app.logged_in("susan", false).await;

    app.execute_sql("DROP TABLE posts");
    assert_eq!(browser.get("/explore").await.status, 500);

    let message = inbox
        .recv_timeout(std::time::Duration::from_secs(10))
        .expect("a failure report");
    assert!(message.contains("Subject: Microblog Failure"), "{message}");
    assert!(message.contains("admin@example.com"), "{message}");
    assert!(message.contains("GET /explore"), "{message}");
}
