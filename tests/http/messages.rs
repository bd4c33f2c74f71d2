//! Chapter 21: private messages, the unread badge, `/notifications`, blocks, the sending budget,
//! and the live stream (within an instance, and across two on PostgreSQL).

use std::time::{Duration, Instant};

use actix_web::http::header;
use futures_util::StreamExt as _;

use crate::common::{Browser, TestApp, spawn_app, spawn_app_with};

/// Sends `text` from `from` to `to` through the form; the response of the POST.
async fn send(from: &mut Browser, to: &str, text: &str) -> crate::common::Response {
    let path = format!("/send_message/{to}");
    from.submit(&path, &path, &[("message", text)]).await
}

/// The badge's number on `/index`, `None` when it is hidden.
async fn badge(browser: &mut Browser) -> Option<String> {
    let body = browser.get("/index").await.body;
    let at = body.find("id=\"message_count\"").expect("a badge");
    let tag = &body[at..at + body[at..].find('>').unwrap()];
    let text = &body[at + tag.len() + 1..];
    let text = &text[..text.find('<').unwrap()];
    (!tag.contains(" hidden")).then(|| text.to_owned())
}

/// The message bodies of a page of `/messages`, in order.
fn message_bodies(html: &str) -> Vec<String> {
    html.match_indices("class=\"message-body mb-0\">")
        .map(|(i, m)| {
            let rest = &html[i + m.len()..];
            rest[..rest.find("</p>").unwrap()].to_owned()
        })
        .collect()
}

async fn two_users() -> (TestApp, Browser, Browser) {
    let app = spawn_app().await;
    let susan = app.logged_in("susan", false).await;
    let john = app.logged_in("john", false).await;
    (app, susan, john)
}

#[actix_web::test]
async fn a_message_is_sent_with_the_flask_flash_and_redirect() {
    let (_app, mut susan, mut john) = two_users().await;
    let profile = john.get("/user/susan").await.body;
    assert!(
        profile.contains("href=\"/send_message/susan\""),
        "{profile}"
    );
    let popup = john.get("/user/susan/popup").await.body;
    assert!(popup.contains("href=\"/send_message/susan\""), "{popup}");
    assert!(
        !susan
            .get("/user/susan")
            .await
            .body
            .contains("/send_message/")
    );

    let form = john.get("/send_message/susan").await;
    assert_eq!(form.status, 200);
    assert!(form.body.contains("name=\"message\""));
    let res = send(&mut john, "susan", "hello susan").await;
    assert_eq!(res.status, 302);
    assert_eq!(res.location(), Some("/user/susan"));
    assert!(
        john.flashes("/user/susan")
            .await
            .contains(&"Your message has been sent.".to_owned())
    );
    assert_eq!(
        message_bodies(&susan.get("/messages").await.body),
        ["hello susan"]
    );

    // Unknown recipients are a 404, on GET and POST; oneself is refused.
    assert_eq!(john.get("/send_message/nobody").await.status, 404);
    let token = john.get("/index").await.csrf_token().unwrap();
    let res = john
        .post(
            "/send_message/nobody",
            &[("csrf_token", &token), ("message", "x")],
        )
        .await;
    assert_eq!(res.status, 404);
    let res = john
        .post(
            "/send_message/john",
            &[("csrf_token", &token), ("message", "me")],
        )
        .await;
    assert_eq!(res.location(), Some("/user/john"));
    assert!(
        john.flashes("/user/john")
            .await
            .iter()
            .any(|f| f.contains("cannot send messages to yourself"))
    );
    // No CSRF token: refused, nothing sent.
    let res = john
        .post("/send_message/susan", &[("message", "forged")])
        .await;
    assert_eq!(res.status, 400);
    // Empty and too long: the form again with the reason, the text kept.
    let res = send(&mut john, "susan", "   ").await;
    assert_eq!(res.status, 422);
    assert!(res.body.contains("This field is required."), "{}", res.body);
    let long = "x".repeat(141);
    let res = send(&mut john, "susan", &long).await;
    assert_eq!(res.status, 422);
    assert!(res.body.contains(&long));
    // An anonymous visitor is sent to log in.
    let res = Browser::at(&john.base).get("/send_message/susan").await;
    assert_eq!(res.status, 302);
    assert!(res.location().unwrap().starts_with("/auth/login?next="));
    assert_eq!(
        message_bodies(&susan.get("/messages").await.body),
        ["hello susan"]
    );
}

#[actix_web::test]
async fn the_badge_counts_unread_messages_and_reading_them_clears_it() {
    let (_app, mut susan, mut john) = two_users().await;
    assert_eq!(badge(&mut susan).await, None);
    send(&mut john, "susan", "one").await;
    assert_eq!(badge(&mut susan).await.as_deref(), Some("1"));
    send(&mut john, "susan", "two").await;
    assert_eq!(badge(&mut susan).await.as_deref(), Some("2"));
    // The page that reads them shows no badge already.
    let page = susan.get("/messages").await.body;
    assert_eq!(message_bodies(&page), ["two", "one"]);
    assert!(
        page.contains("class=\"badge text-bg-danger message-count\" hidden>"),
        "{page}"
    );
    // The phone's badge beside the menu's button too.
    assert!(
        page.contains(
            "<a class=\"navbar-unread d-lg-none ms-auto me-2\" href=\"/messages\" hidden>"
        ),
        "{page}"
    );
    assert_eq!(badge(&mut susan).await, None);
    send(&mut john, "susan", "three").await;
    assert_eq!(badge(&mut susan).await.as_deref(), Some("1"));
    // The sender's own badge is untouched.
    assert_eq!(badge(&mut john).await, None);
}

#[actix_web::test]
async fn messages_are_paged_newest_first_with_links_that_work() {
    let (app, mut susan, _john) = two_users().await;
    // 30 messages from john, written straight to the table (more than the sending budget).
    let mut sql = String::new();
    for i in 0..30 {
        sql.push_str(&format!(
            "INSERT INTO messages (sender_id, recipient_id, body, timestamp)
             SELECT j.id, s.id, 'message {i}', '2026-01-01 10:{i:02}:00'
             FROM users j, users s WHERE j.username = 'john' AND s.username = 'susan';"
        ));
    }
    app.execute_sql(&sql);
    let first = susan.get("/messages").await.body;
    let bodies = message_bodies(&first);
    assert_eq!(bodies.len(), 25);
    assert_eq!(bodies[0], "message 29");
    assert!(first.contains("href=\"/messages?page=2\""), "{first}");
    let second = susan.get("/messages?page=2").await.body;
    assert_eq!(
        message_bodies(&second),
        [
            "message 4",
            "message 3",
            "message 2",
            "message 1",
            "message 0"
        ]
    );
    assert!(second.contains("href=\"/messages?page=1\""));
    assert!(!second.contains("/messages?page=3"));
}

#[actix_web::test]
async fn notifications_since_a_time_as_the_tutorials_script_polls() {
    let (_app, mut susan, mut john) = two_users().await;
    let list = |body: &str| -> Vec<serde_json::Value> { serde_json::from_str(body).unwrap() };
    assert!(list(&susan.get("/notifications").await.body).is_empty());
    send(&mut john, "susan", "hi").await;
    let res = susan.get("/notifications?since=0").await;
    assert_eq!(res.status, 200);
    assert_eq!(
        res.headers.get(header::CONTENT_TYPE).unwrap(),
        "application/json"
    );
    let all = list(&res.body);
    assert_eq!(all.len(), 1);
    assert_eq!(all[0]["name"], "unread_message_count");
    assert_eq!(all[0]["data"], 1);
    let at = all[0]["timestamp"].as_f64().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    assert!((now - at).abs() < 60.0, "{at} is not a Unix time of now");
    // Newer than the last one seen: nothing, until something changes.
    assert!(list(&susan.get(&format!("/notifications?since={at}")).await.body).is_empty());
    susan.get("/messages").await;
    let later = list(&susan.get(&format!("/notifications?since={at}")).await.body);
    assert_eq!(later.len(), 1);
    assert_eq!(later[0]["data"], 0);
    // John's are his own.
    assert!(list(&john.get("/notifications").await.body).is_empty());

    for bad in ["abc", "-1", "1e300", "NaN", "inf", "%00", "1;2", "%FF"] {
        let res = susan.get(&format!("/notifications?since={bad}")).await;
        assert_eq!(res.status, 400, "since={bad}: {}", res.body);
        // The live stream reads `since` with the same parser, and refuses the same.
        let res = susan
            .get(&format!("/notifications/stream?since={bad}"))
            .await;
        assert_eq!(res.status, 400, "stream, since={bad}: {}", res.body);
    }
    let res = Browser::at(&susan.base).get("/notifications?since=x").await;
    assert_eq!(res.status, 302, "anonymous: to the login page first");
}

#[actix_web::test]
async fn a_blocked_sender_cannot_write_and_their_messages_disappear() {
    let (_app, mut susan, mut john) = two_users().await;
    send(&mut john, "susan", "before the block").await;
    assert_eq!(badge(&mut susan).await.as_deref(), Some("1"));
    john.submit("/index", "/index", &[("post", "words of john himself")])
        .await;
    susan.submit("/user/john", "/follow/john", &[]).await;

    let res = susan.submit("/user/john", "/block/john", &[]).await;
    assert_eq!(res.location(), Some("/user/john"));
    assert_eq!(
        susan.flashes("/user/john").await,
        ["You have blocked john: their posts and messages no longer reach you."]
    );
    // His posts leave her timeline and /explore (he is still followed), not his profile.
    for path in ["/index", "/explore"] {
        let body = susan.get(path).await.body;
        assert!(!body.contains("words of john himself"), "{path}: {body}");
    }
    assert!(
        susan
            .get("/user/john")
            .await
            .body
            .contains("words of john himself")
    );
    let profile = susan.get("/user/john").await.body;
    assert!(profile.contains("action=\"/unblock/john\""), "{profile}");
    // The old message is gone from her list and count.
    assert_eq!(badge(&mut susan).await, None);
    assert!(message_bodies(&susan.get("/messages").await.body).is_empty());
    // John is told he cannot write to her; nothing reaches her.
    let res = send(&mut john, "susan", "after the block").await;
    assert_eq!(res.location(), Some("/user/susan"));
    assert!(
        john.flashes("/user/susan")
            .await
            .iter()
            .any(|f| f.contains("You cannot send messages to susan."))
    );
    assert_eq!(badge(&mut susan).await, None);
    // Susan can still write to him.
    assert_eq!(send(&mut susan, "john", "I can").await.status, 302);

    // Unblocked: his message from before is back (read already), and he can write again; his
    // posts are back in her timeline.
    susan.submit("/user/john", "/unblock/john", &[]).await;
    for path in ["/index", "/explore"] {
        let body = susan.get(path).await.body;
        assert!(body.contains("words of john himself"), "{path}: {body}");
    }
    assert_eq!(
        message_bodies(&susan.get("/messages").await.body),
        ["before the block"]
    );
    send(&mut john, "susan", "hello again").await;
    assert_eq!(badge(&mut susan).await.as_deref(), Some("1"));

    // Oneself, nobody, GET and no token.
    let res = susan.submit("/index", "/block/susan", &[]).await;
    assert_eq!(res.location(), Some("/user/susan"));
    let res = susan.submit("/index", "/block/nobody", &[]).await;
    assert_eq!(res.location(), Some("/index"));
    assert_eq!(susan.get("/block/john").await.status, 405);
    assert_eq!(susan.post("/block/john", &[]).await.status, 400);
}

#[actix_web::test]
async fn sending_is_throttled_per_sender() {
    let (app, mut susan, mut john) = two_users().await;
    let mut ann = app.logged_in("ann", false).await;
    for i in 0..10 {
        assert_eq!(send(&mut john, "susan", &format!("m{i}")).await.status, 302);
    }
    let res = send(&mut john, "susan", "one too many").await;
    assert_eq!(res.status, 429);
    assert!(res.body.contains("too fast"), "{}", res.body);
    assert!(res.body.contains("one too many"), "the text is kept");
    let wait: u64 = res
        .headers
        .get(header::RETRY_AFTER)
        .unwrap()
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    // Parallel sends to several people are counted one after the other: a fresh sender gets 10
    // through, not more, out of 20 sent at once.
    let mut bob = app.logged_in("bob", false).await;
    let token = bob.get("/index").await.csrf_token().unwrap();
    let sends = (0..20).map(|i| {
        let mut tab = bob.clone_session();
        let (to, token) = (if i % 2 == 0 { "susan" } else { "john" }, token.clone());
        async move {
            tab.post(
                &format!("/send_message/{to}"),
                &[("csrf_token", &token), ("message", &format!("b{i}"))],
            )
            .await
            .status
        }
    });
    let statuses = futures_util::future::join_all(sends).await;
    assert_eq!(
        statuses.iter().filter(|&&s| s == 302).count(),
        10,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|&&s| s == 429).count(),
        10,
        "{statuses:?}"
    );
    let _ = bob.get("/index").await;
    // Another sender has a budget of their own.
    assert_eq!(send(&mut ann, "susan", "hi").await.status, 302);
    let bodies: Vec<String> = message_bodies(&susan.get("/messages").await.body)
        .into_iter()
        .filter(|b| !b.starts_with('b'))
        .collect();
    assert_eq!(bodies.len(), 11);
    assert!(!bodies.contains(&"one too many".to_owned()));
}

/// What awc streams a response body as.
type Body = std::pin::Pin<
    Box<dyn futures_util::Stream<Item = Result<actix_web::web::Bytes, awc::error::PayloadError>>>,
>;

/// An open `/notifications/stream` of `browser`, read event by event.
struct Stream {
    response: awc::ClientResponse<Body>,
    buffer: String,
}

impl Stream {
    async fn open(browser: &Browser) -> Self {
        let response = awc::Client::new()
            .get(format!("{}/notifications/stream", browser.base))
            .insert_header((header::COOKIE, browser.cookie_header()))
            .insert_header((header::USER_AGENT, browser.user_agent.clone()))
            .insert_header((header::ACCEPT_ENCODING, "gzip, br"))
            .send()
            .await
            .expect("stream");
        assert_eq!(response.status(), 200);
        assert_eq!(
            response.headers().get(header::CONTENT_TYPE).unwrap(),
            "text/event-stream"
        );
        let encoding = response.headers().get(header::CONTENT_ENCODING);
        assert!(
            encoding.is_none_or(|e| e == "identity"),
            "a stream must not be compressed: {encoding:?}"
        );
        Self {
            response,
            buffer: String::new(),
        }
    }

    /// The data of the next `notification` event, waiting at most `within`.
    async fn next(&mut self, within: Duration) -> serde_json::Value {
        let until = Instant::now() + within;
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let event: String = self.buffer.drain(..end + 2).collect();
                if let Some(data) = event
                    .lines()
                    .find_map(|l| l.strip_prefix("data: "))
                    .filter(|_| event.contains("event: notification"))
                {
                    return serde_json::from_str(data).unwrap();
                }
                continue;
            }
            let left = until.saturating_duration_since(Instant::now());
            let chunk = actix_web::rt::time::timeout(left, self.response.next())
                .await
                .expect("no event in time")
                .expect("the stream ended")
                .expect("chunk");
            self.buffer.push_str(&String::from_utf8_lossy(&chunk));
        }
    }
}

#[actix_web::test]
async fn the_stream_sends_each_new_count_at_once_uncompressed() {
    let (app, mut susan, mut john) = two_users().await;
    send(&mut john, "susan", "before").await;
    let mut first = Stream::open(&susan).await;
    let mut second = Stream::open(&susan.clone_session()).await;
    assert_eq!(app.state.live.open_streams(), 2);
    // It opens with what there is.
    assert_eq!(first.next(Duration::from_secs(5)).await["data"], 1);
    assert_eq!(second.next(Duration::from_secs(5)).await["data"], 1);
    let sent = Instant::now();
    send(&mut john, "susan", "live").await;
    for stream in [&mut first, &mut second] {
        let n = stream.next(Duration::from_secs(1)).await;
        assert_eq!(n["name"], "unread_message_count");
        assert_eq!(n["data"], 2);
    }
    assert!(sent.elapsed() < Duration::from_secs(1));
    // Reading them says 0 to every stream.
    susan.get("/messages").await;
    assert_eq!(first.next(Duration::from_secs(1)).await["data"], 0);
    // A closed stream is forgotten.
    drop(second);
    let started = Instant::now();
    while app.state.live.open_streams() != 1 {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "a closed stream is still counted"
        );
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
    // One user may hold 50 streams; the 51st is refused with the reason.
    let mut many = Vec::new();
    for _ in 0..49 {
        many.push(Stream::open(&susan).await);
    }
    assert_eq!(app.state.live.open_streams(), 50);
    let refused = awc::Client::new()
        .get(format!("{}/notifications/stream", susan.base))
        .insert_header((header::COOKIE, susan.cookie_header()))
        .insert_header((header::USER_AGENT, susan.user_agent.clone()))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 429);
    drop(many);
    // Anonymous: to the login page, no stream.
    let res = Browser::at(&susan.base).get("/notifications/stream").await;
    assert_eq!(res.status, 302);
}

#[actix_web::test]
async fn a_message_sent_through_one_instance_reaches_a_stream_on_another() {
    let database = crate::common::TestDatabase::fresh();
    if !database.url.starts_with("postgres") {
        // SQLite runs as one instance; the other tests cover it.
        return;
    }
    let secret = crate::common::random_hex(32);
    let settings = [
        ("DATABASE_URL", database.url.as_str()),
        ("SECRET_KEY", secret.as_str()),
    ];
    let one = spawn_app_with(&settings).await;
    let two = spawn_app_with(&settings).await;
    let mut john = one.logged_in("john", false).await;
    let susan_one = one.logged_in("susan", false).await;
    let mut susan = two.browser();
    susan.cookies = susan_one.cookies.clone();
    let mut stream = Stream::open(&susan).await;
    let sent = Instant::now();
    send(&mut john, "susan", "across").await;
    assert_eq!(stream.next(Duration::from_secs(1)).await["data"], 1);
    assert!(sent.elapsed() < Duration::from_secs(1));
}
