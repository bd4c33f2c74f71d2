//! Faults: the real binary, killed with SIGKILL in the middle of a burst of posts,
//! restarts cleanly with every acknowledged post stored; SIGTERM and Ctrl-C let in-flight
//! requests finish.

use std::cell::Cell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use microblog::config::DatabaseUrl;
use microblog::db::Db;

use crate::common::{Browser, PASSWORD, Server, TestDatabase, random_hex};

/// The binary serving `database_url` with `secret`, logging only warnings.
async fn serve(database_url: &str, secret: &str, bcrypt_cost: &str) -> Server {
    Server::start(&[
        ("DATABASE_URL", database_url),
        ("SECRET_KEY", secret),
        ("BCRYPT_COST", bcrypt_cost),
        ("LOG_TO_STDOUT", "1"),
        ("RUST_LOG", "warn"),
    ])
    .await
}

async fn logged_in(address: &str, username: &str) -> Browser {
    let mut browser = Browser::at(address);
    browser.register(username).await;
    let res = browser.login(username, PASSWORD, false).await;
    assert_eq!(res.location(), Some("/index"));
    browser
}

fn stored_bodies(database_url: &str) -> Vec<String> {
    use diesel::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Body {
        #[diesel(sql_type = diesel::sql_types::Text)]
        body: String,
    }
    let db = Db::connect(&DatabaseUrl::parse(database_url).unwrap()).unwrap();
    let mut conn = db.get().unwrap();
    diesel::sql_query("SELECT body FROM posts")
        .load::<Body>(&mut *conn)
        .unwrap()
        .into_iter()
        .map(|b| b.body)
        .collect()
}

#[actix_web::test]
async fn sigkill_in_a_burst_of_posts_loses_no_acknowledged_post() {
    let database = TestDatabase::fresh();
    let secret = random_hex(32);
    let server = serve(&database.url, &secret, "4").await;
    let mut browser = logged_in(&server.address, "susan").await;
    let token = browser.get("/index").await.csrf_token().unwrap();
    let cookie = browser.cookie_header();

    let client = awc::Client::builder()
        .disable_redirects()
        .timeout(Duration::from_secs(10))
        .finish();
    let acknowledged = Rc::new(Cell::new(0usize));
    let posts = (0..300).map(|i| {
        let (client, cookie, token, acknowledged) = (
            client.clone(),
            cookie.clone(),
            token.clone(),
            Rc::clone(&acknowledged),
        );
        let url = format!("{}/index", server.address);
        async move {
            let body = format!("burst post {i}");
            let res = client
                .post(url)
                .insert_header(("Cookie", cookie))
                .insert_header(("User-Agent", crate::common::BROWSER))
                .send_form(&[("csrf_token", token.as_str()), ("post", body.as_str())])
                .await;
            let ok = matches!(res, Ok(r) if r.status().as_u16() == 302);
            if ok {
                acknowledged.set(acknowledged.get() + 1);
            }
            ok.then_some(body)
        }
    });
    let burst = actix_web::rt::spawn(futures_util::future::join_all(posts));
    while acknowledged.get() < 30 {
        actix_web::rt::time::sleep(Duration::from_millis(2)).await;
    }
    server.signal("-KILL");
    let results = burst.await.unwrap();
    let acked: Vec<String> = results.into_iter().flatten().collect();
    assert!(acked.len() >= 30, "{}", acked.len());
    assert!(
        acked.len() < 300,
        "the kill came after the burst, proving nothing"
    );
    drop(server);

    let restarted = serve(&database.url, &secret, "4").await;
    let stored = stored_bodies(&database.url);
    for body in &acked {
        assert!(stored.contains(body), "acknowledged but lost: {body}");
    }
    // The restarted server serves the same user and posts.
    let mut again = Browser::at(&restarted.address);
    again.cookies = browser.cookies.clone();
    let index = again.get("/index").await;
    assert_eq!(index.status, 200);
    assert!(index.body.contains("burst post"));
}

#[actix_web::test]
async fn sigterm_lets_a_request_in_flight_finish_then_exits_cleanly() {
    stop_during_a_login("-TERM").await;
}

#[actix_web::test]
async fn ctrl_c_lets_a_request_in_flight_finish_too() {
    stop_during_a_login("-INT").await;
}

/// Sends `signal` while a login (bcrypt at cost 11) is under way: it is answered, then the
/// server exits with success and no longer answers.
async fn stop_during_a_login(signal: &str) {
    let database = TestDatabase::fresh();
    let secret = random_hex(32);
    // A real bcrypt cost makes the login take long enough to be in flight.
    let mut server = serve(&database.url, &secret, "11").await;
    logged_in(&server.address, "susan").await;
    let mut browser = Browser::at(&server.address);
    let token = browser.get("/auth/login").await.csrf_token().unwrap();
    let cookie = browser.cookie_header();

    let client = awc::Client::builder()
        .disable_redirects()
        .timeout(Duration::from_secs(60))
        .finish();
    let login = client
        .post(format!("{}/auth/login", server.address))
        .insert_header(("Cookie", cookie))
        .send_form(&[
            ("csrf_token", token.as_str()),
            ("username", "susan"),
            ("password", PASSWORD),
        ]);
    let in_flight = actix_web::rt::spawn(login);
    actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    server.signal(signal);

    let res = in_flight.await.unwrap().expect("the login was answered");
    assert_eq!(res.status().as_u16(), 302);
    assert_eq!(res.headers().get("location").unwrap(), "/index");
    let started = Instant::now();
    let status = loop {
        if let Some(status) = server.child.try_wait().unwrap() {
            break status;
        }
        assert!(started.elapsed() < Duration::from_secs(40), "did not exit");
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "{status:?}");
    assert!(
        Browser::at(&server.address)
            .try_get("/health")
            .await
            .is_err()
    );
}
