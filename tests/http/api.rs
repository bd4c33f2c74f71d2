//! Chapter 23: the REST API, driven as the tutorial's httpie and curl examples and a client
//! program would: tokens, users, posts, and every error as JSON with its status.

use actix_web::http::header;
use base64::Engine as _;
use serde_json::{Value, json};

use crate::common::{PASSWORD, TestApp, spawn_app};

/// How a request authenticates.
#[derive(Clone, Copy)]
enum Auth<'a> {
    Anonymous,
    Basic(&'a str, &'a str),
    Bearer(&'a str),
}

struct Reply {
    status: u16,
    headers: header::HeaderMap,
    text: String,
    json: Value,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The error body every refusal has, checked for its status's name.
    fn assert_error(&self, status: u16, error: &str) {
        assert_eq!(self.status, status, "{}", self.text);
        assert_eq!(self.json["error"], error, "{}", self.text);
        // Every error says why, as the document promises.
        assert!(
            self.json["message"].as_str().is_some_and(|m| !m.is_empty()),
            "no message: {}",
            self.text
        );
        assert!(
            self.header("content-type")
                .is_some_and(|t| t.starts_with("application/json")),
            "not JSON: {:?}",
            self.headers
        );
    }
}

/// A client of the API: no cookies, only what each call sends.
struct Client {
    base: String,
    http: awc::Client,
}

impl Client {
    fn of(app: &TestApp) -> Self {
        Self {
            base: app.address.clone(),
            http: awc::Client::builder()
                .disable_redirects()
                .timeout(std::time::Duration::from_secs(60))
                .finish(),
        }
    }

    async fn send(
        &self,
        method: &str,
        path: &str,
        auth: Auth<'_>,
        body: Option<(&str, Vec<u8>)>,
    ) -> Reply {
        let method = actix_web::http::Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        match auth {
            Auth::Anonymous => {}
            Auth::Basic(user, password) => {
                let pair =
                    base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
                req = req.insert_header((header::AUTHORIZATION, format!("Basic {pair}")));
            }
            Auth::Bearer(token) => {
                req = req.insert_header((header::AUTHORIZATION, format!("Bearer {token}")));
            }
        }
        let mut res = match body {
            Some((content_type, bytes)) => req
                .insert_header((header::CONTENT_TYPE, content_type))
                .send_body(bytes)
                .await
                .expect("request"),
            None => req.send().await.expect("request"),
        };
        let bytes = res.body().limit(8 << 20).await.expect("body");
        let text = String::from_utf8_lossy(&bytes).into_owned();
        Reply {
            status: res.status().as_u16(),
            headers: res.headers().clone(),
            json: serde_json::from_str(&text).unwrap_or(Value::Null),
            text,
        }
    }

    async fn get(&self, path: &str, token: &str) -> Reply {
        self.send("GET", path, Auth::Bearer(token), None).await
    }

    async fn json(&self, method: &str, path: &str, auth: Auth<'_>, body: Value) -> Reply {
        let bytes = serde_json::to_vec(&body).unwrap();
        self.send(method, path, auth, Some(("application/json", bytes)))
            .await
    }

    /// `curl -u user:password -X POST /api/tokens`: the token.
    async fn token(&self, user: &str, password: &str) -> String {
        let res = self
            .send("POST", "/api/tokens", Auth::Basic(user, password), None)
            .await;
        assert_eq!(res.status, 200, "{}", res.text);
        res.json["token"].as_str().expect("a token").to_owned()
    }

    /// Registers `name` through the API; returns its id.
    async fn register(&self, name: &str) -> i64 {
        let res = self
            .json(
                "POST",
                "/api/users",
                Auth::Anonymous,
                json!({"username": name, "email": format!("{name}@example.com"), "password": PASSWORD}),
            )
            .await;
        assert_eq!(res.status, 201, "{}", res.text);
        res.json["id"].as_i64().expect("an id")
    }
}

#[actix_web::test]
async fn a_token_comes_from_the_password_works_for_an_hour_and_each_is_revoked_alone() {
    let app = spawn_app().await;
    let api = Client::of(&app);
    let id = api.register("susan").await;

    let first = api.token("susan", PASSWORD).await;
    assert_eq!(first.len(), 32);
    assert!(first.chars().all(|c| c.is_ascii_hexdigit()));
    // One per client: a second token leaves the first working.
    let second = api.token("susan", PASSWORD).await;
    assert_ne!(first, second);
    for token in [&first, &second] {
        let me = api.get(&format!("/api/users/{id}"), token).await;
        assert_eq!(me.status, 200, "{}", me.text);
        assert_eq!(me.json["username"], "susan");
    }
    // Only the hash is stored.
    let stored = app.state.db.clone();
    let hashes: Vec<String> = stored
        .run(|conn| {
            use diesel::prelude::*;
            microblog::schema::api_tokens::table
                .select(microblog::schema::api_tokens::token_hash)
                .load::<String>(conn)
        })
        .await
        .unwrap();
    assert_eq!(hashes.len(), 2);
    assert!(!hashes.contains(&first) && !hashes.contains(&second));

    let revoked = api
        .send("DELETE", "/api/tokens", Auth::Bearer(&first), None)
        .await;
    assert_eq!(revoked.status, 204, "{}", revoked.text);
    let refused = api.get(&format!("/api/users/{id}"), &first).await;
    refused.assert_error(401, "Unauthorized");
    assert_eq!(
        refused.header("www-authenticate"),
        Some("Bearer realm=\"Authentication Required\"")
    );
    assert_eq!(
        refused.json,
        json!({"error": "Unauthorized", "message":
            "Send a valid token: Authorization: Bearer <token> (POST /api/tokens gives one)."})
    );
    assert_eq!(
        api.get(&format!("/api/users/{id}"), &second).await.status,
        200
    );

    // Past its hour, refused at once (not at the next clean-up).
    app.execute_sql("UPDATE api_tokens SET expires_at = '2000-01-01 00:00:00'");
    api.get(&format!("/api/users/{id}"), &second)
        .await
        .assert_error(401, "Unauthorized");
}

#[actix_web::test]
async fn wrong_or_missing_credentials_are_a_401_in_json_with_the_challenge() {
    let app = spawn_app().await;
    let api = Client::of(&app);
    api.register("susan").await;
    for auth in [
        Auth::Anonymous,
        Auth::Basic("susan", "wrong password"),
        Auth::Basic("nobody", PASSWORD),
        Auth::Basic("susan", ""),
        Auth::Bearer("not-basic"),
    ] {
        let res = api.send("POST", "/api/tokens", auth, None).await;
        res.assert_error(401, "Unauthorized");
        assert_eq!(
            res.header("www-authenticate"),
            Some("Basic realm=\"Authentication Required\"")
        );
    }
    for token in ["", "0123456789abcdef0123456789abcdef", "x y z"] {
        let res = api.get("/api/users", token).await;
        res.assert_error(401, "Unauthorized");
    }
    // A garbled Authorization header is a 401 too, never a 500.
    let res = awc::Client::default()
        .get(format!("{}/api/users", app.address))
        .insert_header((header::AUTHORIZATION, "Bearer"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    // A cookie login does not open the API: only the header does.
    let mut browser = app.browser();
    assert_eq!(browser.login("susan", PASSWORD, false).await.status, 302);
    let res = browser.get("/api/users").await;
    assert_eq!(res.status, 401);
    assert!(
        res.header("content-type")
            .unwrap()
            .starts_with("application/json")
    );
}

#[actix_web::test]
async fn the_authorization_scheme_is_read_whatever_its_case_as_flask_httpauth_does() {
    let app = spawn_app().await;
    let api = Client::of(&app);
    let id = api.register("susan").await;
    let raw = |method: &str, path: &str, authorization: String| {
        let method = actix_web::http::Method::from_bytes(method.as_bytes()).unwrap();
        awc::Client::default()
            .request(method, format!("{}{path}", app.address))
            .insert_header((header::AUTHORIZATION, authorization))
            .send()
    };
    let pair = base64::engine::general_purpose::STANDARD.encode(format!("susan:{PASSWORD}"));
    for scheme in ["basic", "BASIC"] {
        let mut res = raw("POST", "/api/tokens", format!("{scheme}  {pair}"))
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{scheme}");
        let body: Value = res.json().await.unwrap();
        let token = body["token"].as_str().unwrap().to_owned();
        for given in [format!("bearer {token}"), format!("BEARER  {token} ")] {
            let res = raw("GET", &format!("/api/users/{id}"), given.clone())
                .await
                .unwrap();
            assert_eq!(res.status(), 200, "{given:?}");
        }
    }
    // The scheme must still be the right one, whole, and followed by a space (not a tab).
    let token = api.token("susan", PASSWORD).await;
    for given in [
        format!("Token {token}"),
        format!("Bearer{token}"),
        format!("Basic {token}"),
        format!("Bearer\t{token}"),
    ] {
        let res = raw("GET", &format!("/api/users/{id}"), given.clone())
            .await
            .unwrap();
        assert_eq!(res.status(), 401, "{given:?}");
    }
    let res = raw("POST", "/api/tokens", format!("Bearer {pair}"))
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    // A password may hold a colon: only the first one ends the username.
    let password = "correct:horse battery staple";
    let res = api
        .json(
            "POST",
            "/api/users",
            Auth::Anonymous,
            json!({"username": "colon", "email": "colon@example.com", "password": password}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    api.token("colon", password).await;
}

#[actix_web::test]
async fn token_requests_share_the_login_forms_counts_of_wrong_passwords() {
    let app = spawn_app().await;
    let api = Client::of(&app);
    api.register("susan").await;
    // Wrong passwords on the web form...
    let mut browser = crate::common::Browser::at(&app.address);
    for _ in 0..5 {
        assert_eq!(browser.login("susan", "guess", false).await.status, 302);
    }
    // ...count against the API from the same address: even the right password waits.
    let res = api
        .send("POST", "/api/tokens", Auth::Basic("susan", PASSWORD), None)
        .await;
    res.assert_error(429, "Too Many Requests");
    let wait: u64 = res.header("retry-after").unwrap().parse().unwrap();
    assert!(wait >= 1);
    assert!(res.json["message"].as_str().unwrap().contains("try again"));
}

#[actix_web::test]
async fn a_user_is_shown_as_the_tutorial_shows_it_and_only_its_owner_sees_the_address() {
    let app = spawn_app().await;
    let api = Client::of(&app);
    let susan = api.register("susan").await;
    let john = api.register("john").await;
    let token = api.token("susan", PASSWORD).await;
    app.execute_sql(&format!(
        "INSERT INTO followers (follower_id, followed_id) VALUES ({john}, {susan});
         INSERT INTO posts (body, timestamp, user_id, language) VALUES ('hi', '2026-12-01 10:00:00', {susan}, 'en');"
    ));

    let me = api.get(&format!("/api/users/{susan}"), &token).await;
    assert_eq!(me.status, 200, "{}", me.text);
    let user = &me.json;
    assert_eq!(user["id"], susan);
    assert_eq!(user["username"], "susan");
    assert_eq!(user["email"], "susan@example.com");
    assert_eq!(user["about_me"], Value::Null);
    assert_eq!(
        (
            user["post_count"].clone(),
            user["follower_count"].clone(),
            user["following_count"].clone()
        ),
        (json!(1), json!(1), json!(0))
    );
    let seen = user["last_seen"].as_str().unwrap();
    assert!(chrono::DateTime::parse_from_rfc3339(seen).is_ok(), "{seen}");
    assert_eq!(user["_links"]["self"], format!("/api/users/{susan}"));
    assert_eq!(
        user["_links"]["followers"],
        format!("/api/users/{susan}/followers")
    );
    assert_eq!(
        user["_links"]["following"],
        format!("/api/users/{susan}/following")
    );
    assert!(
        user["_links"]["avatar"]
            .as_str()
            .unwrap()
            .starts_with("https://www.gravatar.com/avatar/")
    );

    let other = api.get(&format!("/api/users/{john}"), &token).await;
    assert_eq!(other.json["following_count"], 1);
    assert!(other.json.get("email").is_none(), "{}", other.text);

    api.get("/api/users/999999", &token)
        .await
        .assert_error(404, "Not Found");
    // Not a number, or too large for an id: no such URL.
    for path in ["/api/users/abc", "/api/users/99999999999999999999"] {
        api.get(path, &token).await.assert_error(404, "Not Found");
    }
}

#[actix_web::test]
async fn collections_are_paginated_with_meta_and_links() {
    let app = spawn_app().await;
    let api = Client::of(&app);
    let mut ids = Vec::new();
    for n in 0..12 {
        ids.push(api.register(&format!("user{n}")).await);
    }
    let token = api.token("user0", PASSWORD).await;

    let first = api.get("/api/users", &token).await;
    assert_eq!(first.status, 200, "{}", first.text);
    assert_eq!(first.json["items"].as_array().unwrap().len(), 10);
    assert_eq!(
        first.json["_meta"],
        json!({"page": 1, "per_page": 10, "total_pages": 2, "total_items": 12})
    );
    assert_eq!(
        first.json["_links"]["self"],
        "/api/users?page=1&per_page=10"
    );
    assert_eq!(
        first.json["_links"]["next"],
        "/api/users?page=2&per_page=10"
    );
    assert_eq!(first.json["_links"]["prev"], Value::Null);
    assert_eq!(first.json["items"][0]["id"], ids[0]);

    let last = api.get("/api/users?page=3&per_page=5", &token).await;
    assert_eq!(last.json["items"].as_array().unwrap().len(), 2);
    assert_eq!(last.json["_links"]["next"], Value::Null);
    assert_eq!(last.json["_links"]["prev"], "/api/users?page=2&per_page=5");
    // per_page is at most 100, at least 1; a page that is no number is a 400.
    let capped = api.get("/api/users?per_page=500", &token).await;
    assert_eq!(capped.json["_meta"]["per_page"], 100);
    let low = api.get("/api/users?page=-2&per_page=-3", &token).await;
    assert_eq!(low.json["_meta"]["page"], 1);
    assert_eq!(low.json["_meta"]["per_page"], 1);
    let nonsense = api.get("/api/users?page=x", &token).await;
    assert_eq!(nonsense.status, 400);

    // user1 and user2 follow user0, who follows user3.
    app.execute_sql(&format!(
        "INSERT INTO followers (follower_id, followed_id) VALUES ({a}, {me}), ({b}, {me}), ({me}, {c});",
        a = ids[1],
        b = ids[2],
        c = ids[3],
        me = ids[0]
    ));
    let followers = api
        .get(&format!("/api/users/{}/followers", ids[0]), &token)
        .await;
    let names: Vec<&str> = followers.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["user1", "user2"]);
    assert_eq!(followers.json["_meta"]["total_items"], 2);
    let following = api
        .get(&format!("/api/users/{}/following", ids[0]), &token)
        .await;
    assert_eq!(following.json["items"][0]["username"], "user3");
    assert_eq!(following.json["items"][0]["follower_count"], 1);
    api.get("/api/users/999999/followers", &token)
        .await
        .assert_error(404, "Not Found");
}

#[actix_web::test]
async fn a_new_user_gets_201_and_its_location_and_must_pass_the_registration_rules() {
    let app = spawn_app().await;
    let api = Client::of(&app);
    // The tutorial's httpie example, with a password that passes our rules; the fields that
    // must not be set from outside are ignored.
    let res = api
        .json(
            "POST",
            "/api/users",
            Auth::Anonymous,
            json!({
                "username": "alice", "email": "alice@example.com", "password": PASSWORD,
                "about_me": "Hello, my name is Alice.",
                "id": 999, "password_hash": "x", "token": "y", "post_count": 7
            }),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    let id = res.json["id"].as_i64().unwrap();
    assert_ne!(id, 999);
    assert_eq!(
        res.header("location"),
        Some(format!("/api/users/{id}").as_str())
    );
    assert_eq!(res.json["about_me"], "Hello, my name is Alice.");
    assert_eq!(res.json["post_count"], 0);
    // The password is the one sent (the hash was not taken from the body).
    api.token("alice", PASSWORD).await;

    let cases = [
        (
            json!({"email": "b@example.com", "password": PASSWORD}),
            "username",
        ),
        (
            json!({"username": 5, "email": "b@example.com", "password": PASSWORD}),
            "username: a string is expected, not integer",
        ),
        (
            json!({"username": "alice", "email": "b@example.com", "password": PASSWORD}),
            "username: Please use a different username.",
        ),
        (
            json!({"username": "bob", "email": "ALICE@example.com", "password": PASSWORD}),
            "email: Please use a different email address.",
        ),
        (
            json!({"username": "b o b", "email": "b@example.com", "password": PASSWORD}),
            "username:",
        ),
        (
            json!({"username": "bob", "email": "not an address", "password": PASSWORD}),
            "email:",
        ),
        (
            json!({"username": "bob", "email": "b@example.com", "password": "dog"}),
            "password:",
        ),
        (
            json!({"username": "bob", "email": "b@example.com", "password": PASSWORD, "about_me": "x".repeat(141)}),
            "about_me:",
        ),
        (json!(["not", "an", "object"]), "a JSON object"),
        // JSON can carry a NUL, which PostgreSQL cannot store or look up: a 400, not a 500.
        (
            json!({"username": "a\u{0}b", "email": "b@example.com", "password": PASSWORD}),
            "username:",
        ),
        (
            json!({"username": "bob", "email": "b\u{0}@example.com", "password": PASSWORD}),
            "email:",
        ),
        (
            json!({"username": "bob", "email": "b@example.com", "password": PASSWORD, "about_me": "x\u{0}"}),
            "about_me:",
        ),
    ];
    for (body, expected) in cases {
        let res = api
            .json("POST", "/api/users", Auth::Anonymous, body.clone())
            .await;
        res.assert_error(400, "Bad Request");
        let message = res.json["message"].as_str().unwrap_or_default();
        assert!(message.contains(expected), "{body}: {message}");
    }
    // Nothing of the refused requests was stored.
    let users = api
        .get("/api/users", &api.token("alice", PASSWORD).await)
        .await;
    assert_eq!(users.json["_meta"]["total_items"], 1);
}

#[actix_web::test]
async fn sign_ups_racing_for_one_address_in_any_case_make_one_user_and_get_the_checks_400() {
    let app = spawn_app().await;
    let api = Client::of(&app);
    // One address in eight cases: those that pass the look at the same moment meet the
    // database's unique index on the lower-cased address, and are told what the look says.
    let bodies: Vec<Value> = [
        "same", "Same", "sAme", "SAme", "saMe", "SaMe", "sAMe", "SAMe",
    ]
    .iter()
    .enumerate()
    .map(|(i, local)| {
        json!({
            "username": format!("racer{i}"),
            "email": format!("{local}@example.com"),
            "password": PASSWORD,
        })
    })
    .collect();
    let sent = bodies
        .iter()
        .map(|body| api.json("POST", "/api/users", Auth::Anonymous, body.clone()));
    let replies = futures_util::future::join_all(sent).await;
    let created = replies.iter().filter(|reply| reply.status == 201).count();
    assert_eq!(created, 1, "exactly one sign-up wins");
    for reply in replies.iter().filter(|reply| reply.status != 201) {
        reply.assert_error(400, "Bad Request");
        assert_eq!(
            reply.json["message"], "email: Please use a different email address.",
            "{}",
            reply.text
        );
    }
}

#[actix_web::test]
async fn a_user_changes_only_their_own_and_the_rules_still_hold() {
    let app = spawn_app().await;
    let api = Client::of(&app);
    let susan = api.register("susan").await;
    let john = api.register("john").await;
    let token = api.token("susan", PASSWORD).await;
    let at = format!("/api/users/{susan}");

    let res = api
        .json(
            "PUT",
            &at,
            Auth::Bearer(&token),
            json!({"about_me": "Hi!", "email": "s@example.org", "password": PASSWORD}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.json["about_me"], "Hi!");
    // A new address is only the user's once the link mailed to it is opened.
    assert_eq!(res.json["email"], "susan@example.com");
    assert_eq!(res.json["username"], "susan");
    // Left out: kept; empty about_me: cleared.
    let res = api
        .json(
            "PUT",
            &at,
            Auth::Bearer(&token),
            json!({"username": "susan2", "about_me": ""}),
        )
        .await;
    assert_eq!(res.json["username"], "susan2");
    assert_eq!(res.json["about_me"], Value::Null);
    assert_eq!(res.json["email"], "susan@example.com");
    // The web profile shows the change.
    let mut browser = app.browser();
    assert_eq!(browser.login("susan2", PASSWORD, false).await.status, 302);

    api.json(
        "PUT",
        &format!("/api/users/{john}"),
        Auth::Bearer(&token),
        json!({"about_me": "hacked"}),
    )
    .await
    .assert_error(403, "Forbidden");
    api.json(
        "PUT",
        &at,
        Auth::Bearer(&token),
        json!({"username": "john"}),
    )
    .await
    .assert_error(400, "Bad Request");
    api.json(
        "PUT",
        &at,
        Auth::Bearer(&token),
        json!({"email": "JOHN@example.com"}),
    )
    .await
    .assert_error(400, "Bad Request");
    api.json(
        "PUT",
        &at,
        Auth::Bearer(&token),
        json!({"username": "has space", "about_me": "kept?"}),
    )
    .await
    .assert_error(400, "Bad Request");
    // A refused change changes nothing.
    let me = api.get(&at, &token).await;
    assert_eq!(
        (me.json["username"].clone(), me.json["about_me"].clone()),
        (json!("susan2"), Value::Null)
    );
    api.json("PUT", &at, Auth::Anonymous, json!({"about_me": "x"}))
        .await
        .assert_error(401, "Unauthorized");
}

#[actix_web::test]
async fn posts_through_the_api_follow_the_post_forms_rules_and_show_everywhere() {
    let app = spawn_app().await;
    let api = Client::of(&app);
    let susan = api.register("susan").await;
    let john = api.register("john").await;
    let token = api.token("susan", PASSWORD).await;
    let johns = api.token("john", PASSWORD).await;

    let res = api
        .json(
            "POST",
            "/api/posts",
            Auth::Bearer(&token),
            json!({"body": "  Hola, ¿cómo estás? Hoy hace muy buen tiempo en la ciudad.  "}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    let id = res.json["id"].as_i64().unwrap();
    assert_eq!(
        res.header("location"),
        Some(format!("/api/posts/{id}").as_str())
    );
    assert_eq!(
        res.json["body"],
        "Hola, ¿cómo estás? Hoy hace muy buen tiempo en la ciudad."
    );
    assert_eq!(res.json["language"], "es");
    assert_eq!(res.json["author_id"], susan);
    assert_eq!(res.json["_links"]["author"], format!("/api/users/{susan}"));

    let one = api.get(&format!("/api/posts/{id}"), &johns).await;
    assert_eq!(one.json, res.json);
    let hers = api.get(&format!("/api/users/{susan}/posts"), &johns).await;
    assert_eq!(hers.json["items"][0]["id"], id);
    assert_eq!(hers.json["_meta"]["total_items"], 1);
    // John's timeline has it once he follows her; the web page shows it too.
    assert_eq!(
        api.get("/api/timeline", &johns).await.json["_meta"]["total_items"],
        0
    );
    app.execute_sql(&format!(
        "INSERT INTO followers (follower_id, followed_id) VALUES ({john}, {susan});"
    ));
    let timeline = api.get("/api/timeline", &johns).await;
    assert_eq!(timeline.json["items"][0]["id"], id);
    assert_eq!(
        timeline.json["_links"]["self"],
        "/api/timeline?page=1&per_page=10"
    );
    let mut browser = app.browser();
    assert_eq!(browser.login("john", PASSWORD, false).await.status, 302);
    assert!(browser.get("/index").await.body.contains("muy buen tiempo"));

    for (body, expected) in [
        (json!({"body": "   "}), "body:"),
        (json!({"body": "x".repeat(141)}), "body:"),
        (json!({"body": "bell \u{7}"}), "body:"),
        (
            json!({"body": 42}),
            "body: a string is expected, not integer",
        ),
        (json!({}), "body: required"),
    ] {
        let res = api
            .json("POST", "/api/posts", Auth::Bearer(&token), body.clone())
            .await;
        res.assert_error(400, "Bad Request");
        assert!(
            res.json["message"].as_str().unwrap().contains(expected),
            "{body}: {}",
            res.text
        );
    }
    assert_eq!(
        api.get(&format!("/api/users/{susan}/posts"), &token)
            .await
            .json["_meta"]["total_items"],
        1
    );
    api.get("/api/posts/999999", &token)
        .await
        .assert_error(404, "Not Found");
    api.get("/api/users/999999/posts", &token)
        .await
        .assert_error(404, "Not Found");
}

#[actix_web::test]
async fn every_error_under_api_is_json_with_its_status_never_a_page_or_a_500() {
    let app = spawn_app().await;
    let api = Client::of(&app);
    api.register("susan").await;
    let token = api.token("susan", PASSWORD).await;
    let bearer = Auth::Bearer(&token);

    api.send("GET", "/api/nothing-here", bearer, None)
        .await
        .assert_error(404, "Not Found");
    api.send("GET", "/api", bearer, None)
        .await
        .assert_error(404, "Not Found");
    let wrong = api.send("PATCH", "/api/tokens", bearer, None).await;
    wrong.assert_error(405, "Method Not Allowed");
    assert_eq!(wrong.header("allow"), Some("POST, DELETE"));
    api.send("DELETE", "/api/users", bearer, None)
        .await
        .assert_error(405, "Method Not Allowed");
    api.send("POST", "/api/timeline", bearer, None)
        .await
        .assert_error(405, "Method Not Allowed");

    let form = Some(("application/x-www-form-urlencoded", b"body=hello".to_vec()));
    let res = api.send("POST", "/api/posts", bearer, form).await;
    res.assert_error(415, "Unsupported Media Type");
    let none = api.send("POST", "/api/users", Auth::Anonymous, None).await;
    none.assert_error(415, "Unsupported Media Type");
    for broken in [&b"{\"body\": "[..], b"not json", b"", &[0xff, 0xfe][..]] {
        let res = api
            .send(
                "POST",
                "/api/posts",
                bearer,
                Some(("application/json", broken.to_vec())),
            )
            .await;
        res.assert_error(400, "Bad Request");
    }
    let huge = serde_json::to_vec(&json!({"body": "x".repeat(2 << 20)})).unwrap();
    let res = api
        .send(
            "POST",
            "/api/posts",
            bearer,
            Some(("application/json", huge)),
        )
        .await;
    res.assert_error(413, "Payload Too Large");

    // Headers too large: 431, in JSON too.
    let res = awc::Client::default()
        .get(format!("{}/api/users", app.address))
        .insert_header(("X-Padding", "x".repeat(20 << 10)))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 431);
    assert!(
        res.headers()
            .get("content-type")
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );

    // JSON even for a browser that asks for HTML.
    let mut browser = app.browser();
    let res = browser.get("/api/users/1").await;
    assert_eq!(res.status, 401);
    assert!(
        res.header("content-type")
            .unwrap()
            .starts_with("application/json")
    );
    let res = browser.get("/api/nothing").await;
    assert_eq!(res.status, 404);
    assert!(!res.body.contains("<html"), "{}", res.body);
}

#[actix_web::test]
async fn the_openapi_document_describes_every_route_and_the_docs_page_is_served_from_the_binary() {
    let app = spawn_app().await;
    let api = Client::of(&app);
    let res = api
        .send("GET", "/api/openapi.json", Auth::Anonymous, None)
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    let doc = &res.json;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let mut described: Vec<String> = Vec::new();
    for (path, operations) in doc["paths"].as_object().unwrap() {
        for method in operations.as_object().unwrap().keys() {
            described.push(format!("{} {path}", method.to_uppercase()));
        }
    }
    described.sort();
    let mut expected = vec![
        "POST /api/tokens",
        "DELETE /api/tokens",
        "GET /api/users",
        "POST /api/users",
        "GET /api/users/{id}",
        "PUT /api/users/{id}",
        "GET /api/users/{id}/followers",
        "GET /api/users/{id}/following",
        "GET /api/users/{id}/posts",
        "GET /api/timeline",
        "POST /api/posts",
        "GET /api/posts/{id}",
        "DELETE /api/posts/{id}",
    ];
    expected.sort();
    assert_eq!(described, expected);
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(schemes["basic"]["scheme"], "basic");
    assert_eq!(schemes["token"]["scheme"], "bearer");
    let user = &doc["components"]["schemas"]["UserJson"]["properties"];
    for field in [
        "id",
        "username",
        "last_seen",
        "about_me",
        "post_count",
        "follower_count",
        "following_count",
        "_links",
    ] {
        assert!(user.get(field).is_some(), "UserJson lacks {field}");
    }
    // Every described route answers (with 401 without a token), none is a 404.
    for operation in &expected {
        let (method, path) = operation.split_once(' ').unwrap();
        let path = path.replace("{id}", "1");
        let res = api.send(method, &path, Auth::Anonymous, None).await;
        assert!(
            matches!(res.status, 401 | 415),
            "{operation}: {}",
            res.status
        );
    }

    let mut browser = app.browser();
    let page = browser.get("/api/docs").await;
    assert_eq!(page.status, 200);
    assert!(
        page.header("content-type")
            .unwrap()
            .starts_with("text/html")
    );
    assert!(page.body.contains("/static/js/api-docs.js"));
    assert!(!page.body.contains("<script>"), "an inline script");
    assert!(
        !page.body.contains("https://"),
        "something from another site"
    );
    let csp = page.header("content-security-policy").unwrap();
    assert!(csp.contains("default-src 'self'") && !csp.contains("unsafe-inline"));
    let script = browser.get("/static/js/api-docs.js").await;
    assert_eq!(script.status, 200);
    assert!(script.body.contains("/api/openapi.json"));

    // A page of the site: its navbar, and the reader's language, the script's words included.
    assert!(page.body.contains(r#"class="navbar"#) && page.body.contains(r#"href="/explore""#));
    let spanish = browser
        .get_with("/api/docs", &[("Accept-Language", "es")])
        .await
        .body;
    assert!(spanish.contains("<h1>API de microblog</h1>"), "{spanish}");
    assert!(
        spanish.contains("&quot;try-it&quot;:&quot;Pruébalo&quot;"),
        "{spanish}"
    );
}

#[actix_web::test]
async fn a_password_change_and_log_out_everywhere_end_every_token_of_the_user() {
    let app = spawn_app().await;
    let api = Client::of(&app);
    let id = api.register("susan").await;
    let token = api.token("susan", PASSWORD).await;
    let mut browser = app.browser();
    assert_eq!(browser.login("susan", PASSWORD, false).await.status, 302);
    let res = browser.change_password("a brand new passphrase").await;
    assert_eq!(res.status, 302, "{}", res.body);
    api.get(&format!("/api/users/{id}"), &token)
        .await
        .assert_error(401, "Unauthorized");
    let token = api.token("susan", "a brand new passphrase").await;
    // "Log out everywhere" ends the tokens too.
    let res = browser
        .submit("/auth/sessions", "/auth/sessions/logout_all", &[])
        .await;
    assert_eq!(res.location(), Some("/auth/login"), "{}", res.body);
    api.get(&format!("/api/users/{id}"), &token)
        .await
        .assert_error(401, "Unauthorized");
}

#[actix_web::test]
async fn a_flood_of_sign_ups_is_refused_past_the_hash_queue_and_a_login_still_gets_its_token() {
    // bcrypt at cost 9 (about 30 ms a hash): 150 sign-ups at once cannot all wait in the queue.
    let app = crate::common::spawn_app_with(&[("BCRYPT_COST", "9")]).await;
    let api = Client::of(&app);
    api.register("susan").await;

    let flood = (0..150).map(|i| {
        let api = &api;
        async move {
            let name = format!("flood{i}");
            let body = json!({"username": name, "email": format!("{name}@example.com"),
                              "password": PASSWORD});
            api.json("POST", "/api/users", Auth::Anonymous, body).await
        }
    });
    let login = async {
        // Sent while the flood waits: a check of an account's password goes first.
        actix_web::rt::time::sleep(std::time::Duration::from_millis(100)).await;
        api.send("POST", "/api/tokens", Auth::Basic("susan", PASSWORD), None)
            .await
    };
    let (replies, login) =
        futures_util::future::join(futures_util::future::join_all(flood), login).await;

    assert_eq!(login.status, 200, "{}", login.text);
    let refused: Vec<&Reply> = replies.iter().filter(|r| r.status == 503).collect();
    let created = replies.iter().filter(|r| r.status == 201).count();
    assert_eq!(created + refused.len(), 150, "only 201s and 503s");
    assert!(!refused.is_empty(), "a flood meets the bound");
    assert!(created >= 40, "a class's worth still gets in: {created}");
    for reply in refused {
        reply.assert_error(503, "Service Unavailable");
        assert!(
            reply.json["message"]
                .as_str()
                .unwrap()
                .contains("try again")
        );
        assert_eq!(reply.header("retry-after"), Some("5"));
    }
}

#[actix_web::test]
async fn what_the_document_does_not_allow_is_a_400_in_our_words() {
    let app = spawn_app().await;
    let api = Client::of(&app);
    let id = api.register("susan").await;
    let token = api.token("susan", PASSWORD).await;

    // A page that is no whole number: 400, naming it. Whole numbers are kept within bounds.
    for query in ["per_page=x", "page=1.5", "per_page=9223372036854775808"] {
        let res = api.get(&format!("/api/users?{query}"), &token).await;
        res.assert_error(400, "Bad Request");
        let name = query.split('=').next().unwrap();
        assert!(
            res.json["message"].as_str().unwrap().starts_with(name),
            "{}",
            res.text
        );
    }
    let res = api.get("/api/users?per_page=1000&page=-3", &token).await;
    assert_eq!(res.status, 200);
    assert_eq!(res.json["_meta"]["per_page"], 100);

    // A field of the wrong type, null included: 400 naming the field, nothing stored.
    let path = format!("/api/users/{id}");
    for (body, field) in [
        (json!({"username": null}), "username"),
        (json!({"about_me": 5}), "about_me"),
        (json!({"email": ["a@b.c"]}), "email"),
    ] {
        let res = api.json("PUT", &path, Auth::Bearer(&token), body).await;
        res.assert_error(400, "Bad Request");
        let message = res.json["message"].as_str().unwrap();
        assert!(message.starts_with(&format!("{field}: ")), "{message}");
        assert!(!message.contains("line 1"), "{message}");
    }
    let res = api
        .json(
            "POST",
            "/api/posts",
            Auth::Bearer(&token),
            json!({"body": {}}),
        )
        .await;
    res.assert_error(400, "Bad Request");
    assert_eq!(
        res.json["message"], "body: a string is expected, not map",
        "{}",
        res.text
    );
    let res = api
        .json(
            "POST",
            "/api/users",
            Auth::Anonymous,
            json!({"username": "x"}),
        )
        .await;
    assert_eq!(res.json["message"], "email: required", "{}", res.text);
    let res = api
        .json(
            "PUT",
            &path,
            Auth::Bearer(&token),
            json!({"username": " susan2"}),
        )
        .await;
    res.assert_error(400, "Bad Request");
    assert_eq!(api.get(&path, &token).await.json["username"], "susan");

    // An id too large for a number is no user, and the parser's words stay inside.
    let res = api
        .json(
            "PUT",
            "/api/users/2147483648",
            Auth::Bearer(&token),
            json!({}),
        )
        .await;
    res.assert_error(404, "Not Found");
    assert!(!res.text.contains("parse"), "{}", res.text);
}

#[actix_web::test]
async fn made_up_tokens_from_one_address_are_refused_with_a_429_and_a_right_one_never_is() {
    let app = spawn_app().await;
    let api = Client::of(&app);
    api.register("susan").await;
    let token = api.token("susan", PASSWORD).await;
    let mut statuses = Vec::new();
    for i in 0..40 {
        let res = api.get("/api/users", &format!("{i:032x}")).await;
        statuses.push(res.status);
        if res.status == 429 {
            assert!(res.header("retry-after").is_some());
            assert!(
                res.json["message"]
                    .as_str()
                    .unwrap()
                    .contains("wrong token")
            );
        }
    }
    assert!(statuses[..30].iter().all(|s| *s == 401), "{statuses:?}");
    assert!(statuses[30..].iter().all(|s| *s == 429), "{statuses:?}");
    // The right token still works from the same address.
    assert_eq!(api.get("/api/users", &token).await.status, 200);
}
