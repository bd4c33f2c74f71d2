//! Page views cost no database write; `last_seen` and each login's `last_used` are noted in
//! memory and written in batches (once a minute, and when the server stops).

use diesel::RunQueryDsl;
use diesel::sql_types::BigInt;
use microblog::config::DatabaseUrl;
use microblog::models::{login_session, now, user};

use crate::common::spawn_app;

#[derive(diesel::QueryableByName)]
struct Version {
    #[diesel(sql_type = BigInt)]
    data_version: i64,
}

#[actix_web::test]
async fn page_views_write_nothing_to_the_database() {
    let app = spawn_app().await;
    let mut browser = app.logged_in("susan", true).await;
    browser
        .submit("/index", "/index", &[("post", "hello")])
        .await;
    let db = app.database();
    let mut conn = db.get().unwrap();
    let seen_before = user::find_by_username(&mut conn, "susan")
        .unwrap()
        .unwrap()
        .last_seen;
    // SQLite's data_version changes whenever another connection commits a write.
    let version = |conn: &mut microblog::db::DbConn| {
        diesel::sql_query("PRAGMA data_version")
            .get_result::<Version>(conn)
            .unwrap()
            .data_version
    };
    let is_sqlite = matches!(app.database_url, DatabaseUrl::Sqlite(_));
    let before = is_sqlite.then(|| version(&mut conn));

    for path in [
        "/index",
        "/explore",
        "/index?page=2",
        "/auth/sessions",
        "/no/such/page",
    ] {
        browser.get(path).await;
    }
    browser.cookies.remove("session");
    assert_eq!(
        browser.get("/index").await.status,
        200,
        "restored by remember me"
    );

    if let Some(before) = before {
        assert_eq!(version(&mut conn), before, "a page view committed a write");
    }
    let seen_after = user::find_by_username(&mut conn, "susan")
        .unwrap()
        .unwrap()
        .last_seen;
    assert_eq!(seen_after, seen_before);
}

#[actix_web::test]
async fn activity_is_written_when_the_server_stops() {
    let mut app = spawn_app().await;
    let mut browser = app.logged_in("susan", false).await;
    let db = app.database();
    let registered = user::find_by_username(&mut db.get().unwrap(), "susan")
        .unwrap()
        .unwrap();

    assert_eq!(browser.get("/index").await.status, 200);
    app.stop().await;

    let mut conn = db.get().unwrap();
    let susan = user::find_by_username(&mut conn, "susan").unwrap().unwrap();
    assert!(susan.last_seen > registered.last_seen, "last_seen moved on");
    let logins = login_session::list_for_user(&mut conn, susan.id, now()).unwrap();
    assert_eq!(logins.len(), 1);
    assert!(
        logins[0].last_used > logins[0].created_at,
        "last_used moved on"
    );
    assert!(
        logins[0].expires_at > logins[0].last_used,
        "idle expiry slid forward"
    );
}

#[actix_web::test]
async fn a_page_view_does_not_resend_the_session_cookie() {
    let app = spawn_app().await;
    let mut browser = app.logged_in("susan", false).await;
    browser.get("/index").await;

    let res = browser.get("/index").await;

    assert_eq!(res.status, 200);
    assert!(
        res.set_cookie("session").is_none(),
        "the session did not change"
    );
}
