//! Federation (`docs/24-federation.md`): WebFinger, NodeInfo and the actor document, inboxes
//! that refuse what is not signed right, and two instances of the app on loopback following
//! each other, posting and deleting.

use std::time::{Duration, Instant, SystemTime};

use serde_json::{Value, json};

use crate::common::{PASSWORD, TestApp, signed_headers, spawn_app, spawn_federated, wait_for_jobs};
use microblog::federation::signature;

const ACTIVITY_JSON: &str = "application/activity+json";

/// The host other servers know `app` by (its `SERVER_NAME`).
fn host(app: &TestApp) -> String {
    app.address.trim_start_matches("http://").to_owned()
}

async fn get_json(
    app: &TestApp,
    path: &str,
    accept: &str,
) -> (u16, Value, awc::http::header::HeaderMap) {
    let mut res = awc::Client::builder()
        .disable_redirects()
        .finish()
        .get(format!("{}{path}", app.address))
        .insert_header(("Accept", accept))
        .send()
        .await
        .expect("request");
    let body = res.body().limit(1 << 20).await.expect("body");
    let value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    (res.status().as_u16(), value, res.headers().clone())
}

/// Waits until neither app has a job queued or running, twice in a row (a delivery to one
/// queues an answer on the other).
async fn settle(apps: &[&TestApp]) {
    let started = Instant::now();
    let mut quiet = 0;
    while quiet < 2 {
        for app in apps {
            wait_for_jobs(&app.database()).await;
        }
        let busy = apps
            .iter()
            .any(|app| !crate::common::pending_jobs(&app.database()).is_empty());
        quiet = if busy { 0 } else { quiet + 1 };
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the apps never settled"
        );
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
}

#[actix_web::test]
async fn webfinger_nodeinfo_and_the_actor_are_served_when_federating() {
    let app = spawn_federated(&[]).await;
    let mut susan = app.logged_in("susan", false).await;
    let server = host(&app);

    let (status, jrd, headers) = get_json(
        &app,
        &format!("/.well-known/webfinger?resource=acct:susan@{server}"),
        "application/jrd+json",
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(headers.get("content-type").unwrap(), "application/jrd+json");
    assert_eq!(jrd["subject"], format!("acct:susan@{server}"));
    let actor_url = format!("{}/user/susan", app.address);
    assert!(
        jrd["links"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["rel"] == "self" && l["type"] == ACTIVITY_JSON && l["href"] == actor_url),
        "{jrd}"
    );
    for unknown in [
        format!("acct:nobody@{server}"),
        "acct:susan@elsewhere.example".to_owned(),
        format!("acct:susan@{server}@x"),
    ] {
        let path = format!(
            "/.well-known/webfinger?resource={}",
            crate::common::encode(&unknown)
        );
        assert_eq!(get_json(&app, &path, "*/*").await.0, 404, "{unknown}");
    }
    assert_eq!(get_json(&app, "/.well-known/webfinger", "*/*").await.0, 400);

    let (status, links, _) = get_json(&app, "/.well-known/nodeinfo", "*/*").await;
    assert_eq!(status, 200);
    let href = links["links"][0]["href"].as_str().unwrap().to_owned();
    let path = href.trim_start_matches(&app.address).to_owned();
    let (status, nodeinfo, _) = get_json(&app, &path, "*/*").await;
    assert_eq!(status, 200);
    assert_eq!(nodeinfo["software"]["name"], "microblog");
    assert_eq!(nodeinfo["protocols"], json!(["activitypub"]));
    assert_eq!(nodeinfo["usage"]["users"]["total"], 1);

    for accept in [
        ACTIVITY_JSON,
        "application/ld+json; profile=\"https://www.w3.org/ns/activitystreams\"",
    ] {
        let (status, person, headers) = get_json(&app, "/user/susan", accept).await;
        assert_eq!(status, 200, "{accept}");
        assert!(
            headers
                .get("content-type")
                .unwrap()
                .to_str()
                .unwrap()
                .starts_with(ACTIVITY_JSON)
        );
        assert_eq!(headers.get("vary").unwrap(), "Accept");
        assert_eq!(person["type"], "Person");
        assert_eq!(person["id"], actor_url);
        assert_eq!(person["preferredUsername"], "susan");
        assert_eq!(person["inbox"], format!("{actor_url}/inbox"));
        assert_eq!(
            person["endpoints"]["sharedInbox"],
            format!("{}/inbox", app.address)
        );
        assert_eq!(person["publicKey"]["id"], format!("{actor_url}#main-key"));
        let pem = person["publicKey"]["publicKeyPem"].as_str().unwrap();
        assert!(signature::public_key(pem).is_ok());
    }
    // The key is made once and kept.
    let again = get_json(&app, "/user/susan", ACTIVITY_JSON).await.1;
    let first = get_json(&app, "/user/susan", ACTIVITY_JSON).await.1;
    assert_eq!(again["publicKey"], first["publicKey"]);
    assert_eq!(get_json(&app, "/user/nobody", ACTIVITY_JSON).await.0, 404);
    for collection in ["outbox", "followers", "following"] {
        let (status, doc, _) =
            get_json(&app, &format!("/user/susan/{collection}"), ACTIVITY_JSON).await;
        assert_eq!(status, 200, "{collection}");
        assert_eq!(doc["type"], "OrderedCollection");
    }

    // A browser gets the page, which says it depends on Accept too.
    let page = susan.get("/user/susan").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("susan"));
    assert!(
        page.headers
            .get_all("vary")
            .any(|v| v.to_str().unwrap().contains("Accept")),
        "{:?}",
        page.headers
    );
}

#[actix_web::test]
async fn without_federation_its_routes_are_unknown() {
    let app = spawn_app().await;
    app.register("susan").await;
    let path = "/.well-known/webfinger?resource=acct:susan@127.0.0.1";
    assert_eq!(get_json(&app, path, "*/*").await.0, 404);
    assert_eq!(get_json(&app, "/.well-known/nodeinfo", "*/*").await.0, 404);
    assert_eq!(get_json(&app, "/actor", ACTIVITY_JSON).await.0, 404);
    // The profile is the page, for which one logs in.
    let (status, body, _) = get_json(&app, "/user/susan", ACTIVITY_JSON).await;
    assert_eq!(status, 302, "{body}");
    let res = awc::Client::new()
        .post(format!("{}/inbox", app.address))
        .send_body("{}")
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 404);
}

/// A user of `app` as another server sees it: its actor URL and key.
struct RemoteUser {
    actor: String,
    key_id: String,
    private_pem: String,
}

async fn remote_user(app: &TestApp, name: &str) -> RemoteUser {
    app.register(name).await;
    // Asking for the actor makes the key.
    remote_user_again(app, name).await
}

/// A signed POST to `path` of `app`, made by hand so that each part can be forged.
struct Delivery {
    path: String,
    body: Vec<u8>,
    date: String,
    digest: String,
    /// The body actually sent, when it differs from the one signed.
    sent_body: Option<Vec<u8>>,
    signature: Option<String>,
}

impl Delivery {
    fn signed(app: &TestApp, path: &str, body: &Value, by: &RemoteUser) -> Self {
        Self::signed_at(
            app,
            path,
            body.to_string().into_bytes(),
            by,
            SystemTime::now(),
        )
    }

    fn signed_at(
        app: &TestApp,
        path: &str,
        body: Vec<u8>,
        by: &RemoteUser,
        at: SystemTime,
    ) -> Self {
        let [date, digest, value] =
            signed_headers(&host(app), path, &body, &by.key_id, &by.private_pem, at);
        Self {
            path: path.to_owned(),
            body,
            date,
            digest,
            sent_body: None,
            signature: Some(value),
        }
    }

    async fn send(&self, app: &TestApp) -> (u16, String) {
        self.send_from(app, awc::Client::new()).await
    }

    /// Sent by `client` (one bound to another loopback address is another client).
    async fn send_from(&self, app: &TestApp, client: awc::Client) -> (u16, String) {
        let mut req = client
            .post(format!("{}{}", app.address, self.path))
            .insert_header(("Content-Type", ACTIVITY_JSON))
            .insert_header(("Date", self.date.as_str()))
            .insert_header(("Digest", self.digest.as_str()));
        if let Some(signature) = &self.signature {
            req = req.insert_header(("Signature", signature.as_str()));
        }
        let body = self.sent_body.clone().unwrap_or_else(|| self.body.clone());
        let mut res = req.send_body(body).await.expect("request");
        let text = res.body().limit(1 << 20).await.unwrap_or_default();
        (
            res.status().as_u16(),
            String::from_utf8_lossy(&text).into_owned(),
        )
    }
}

fn follow(from: &RemoteUser, to: &str) -> Value {
    json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{}#follows/{}", from.actor, rand_id()),
        "type": "Follow",
        "actor": from.actor,
        "object": to,
    })
}

fn rand_id() -> String {
    crate::common::random_hex(6)
}

pub(crate) async fn follower_count(app: &TestApp, name: &str) -> usize {
    let (_, doc, _) = get_json(app, &format!("/user/{name}/followers"), ACTIVITY_JSON).await;
    doc["orderedItems"].as_array().map_or(0, Vec::len)
}

#[actix_web::test]
async fn inboxes_refuse_what_is_not_signed_right_and_never_fail() {
    let ours = spawn_federated(&[]).await;
    let theirs = spawn_federated(&[]).await;
    ours.register("susan").await;
    let susan = format!("{}/user/susan", ours.address);
    let bob = remote_user(&theirs, "bob").await;
    let mary = remote_user(&theirs, "mary").await;

    // Unsigned.
    let mut unsigned = Delivery::signed(&ours, "/inbox", &follow(&bob, &susan), &bob);
    unsigned.signature = None;
    assert_eq!(unsigned.send(&ours).await.0, 401);

    // The body changed after signing: its digest no longer matches.
    let mut tampered = Delivery::signed(&ours, "/inbox", &follow(&bob, &susan), &bob);
    tampered.sent_body = Some(follow(&mary, &susan).to_string().into_bytes());
    assert_eq!(tampered.send(&ours).await.0, 401);

    // ... and with a digest made again for the new body, the signature no longer matches.
    let mut redigested = Delivery::signed(&ours, "/inbox", &follow(&bob, &susan), &bob);
    let other = follow(&bob, &format!("{susan}x")).to_string().into_bytes();
    redigested.digest = signature::digest(&other);
    redigested.sent_body = Some(other);
    assert_eq!(redigested.send(&ours).await.0, 401);

    // Signed for another inbox (the request target is signed).
    let elsewhere = Delivery::signed(&ours, "/user/susan/inbox", &follow(&bob, &susan), &bob);
    let mut moved = elsewhere;
    moved.path = "/inbox".to_owned();
    assert_eq!(moved.send(&ours).await.0, 401);

    // A replay from yesterday.
    let stale = Delivery::signed_at(
        &ours,
        "/inbox",
        follow(&bob, &susan).to_string().into_bytes(),
        &bob,
        SystemTime::now() - Duration::from_secs(13 * 3600),
    );
    assert_eq!(stale.send(&ours).await.0, 401);

    // Signed by bob, claiming to be mary.
    let impostor = Delivery::signed(&ours, "/inbox", &follow(&mary, &susan), &bob);
    assert_eq!(impostor.send(&ours).await.0, 403);
    // A made-up key.
    let mut forged_key = Delivery::signed(&ours, "/inbox", &follow(&bob, &susan), &bob);
    let garbage = "keyId=\"x\",algorithm=\"rsa-sha256\",headers=\"(request-target) host date digest\",signature=\"AAAA\"";
    forged_key.signature = Some(garbage.replace('x', &bob.key_id));
    assert_eq!(forged_key.send(&ours).await.0, 401);
    assert_eq!(follower_count(&ours, "susan").await, 0);

    // Garbage, signed: a 4xx or a 202 ignored, never a 5xx.
    let deep = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
    for body in [
        b"not json".to_vec(),
        b"[1, 2]".to_vec(),
        b"{}".to_vec(),
        br#"{"type": "Follow"}"#.to_vec(),
        deep.into_bytes(),
    ] {
        let delivery = Delivery::signed_at(&ours, "/inbox", body.clone(), &bob, SystemTime::now());
        let (status, text) = delivery.send(&ours).await;
        assert_eq!(
            status,
            400,
            "{}: {text}",
            String::from_utf8_lossy(&body[..body.len().min(40)])
        );
    }
    for activity in [
        json!({"type": "Dance", "actor": bob.actor}),
        json!({"type": "Create", "actor": bob.actor, "object": "just a string"}),
        json!({"type": "Follow", "actor": bob.actor, "object": format!("{}/user/nobody", ours.address)}),
        json!({"type": "Undo", "actor": bob.actor, "object": {"type": "Follow"}}),
    ] {
        let delivery = Delivery::signed(&ours, "/inbox", &activity, &bob);
        assert_eq!(delivery.send(&ours).await.0, 202, "{activity}");
    }
    // An actor gone before we knew it: its Delete is taken and does nothing; anything else it
    // sends is refused, its key being nowhere.
    let ghost = RemoteUser {
        actor: format!("{}/user/ghost", theirs.address),
        key_id: format!("{}/user/ghost#main-key", theirs.address),
        private_pem: bob.private_pem.clone(),
    };
    let gone = json!({"type": "Delete", "actor": ghost.actor, "object": ghost.actor});
    let delivery = Delivery::signed(&ours, "/inbox", &gone, &ghost);
    assert_eq!(delivery.send(&ours).await.0, 202);
    let delivery = Delivery::signed(&ours, "/inbox", &follow(&ghost, &susan), &ghost);
    assert_eq!(delivery.send(&ours).await.0, 401);
    let huge = vec![b'x'; 2 << 20];
    let delivery = Delivery::signed_at(&ours, "/inbox", huge, &bob, SystemTime::now());
    assert_eq!(delivery.send(&ours).await.0, 413);
    // An inbox of nobody.
    let nobody = Delivery::signed(&ours, "/user/nobody/inbox", &follow(&bob, &susan), &bob);
    assert_eq!(nobody.send(&ours).await.0, 404);

    // Signed right: the follow is stored and an Accept goes back to bob's inbox.
    let good = Delivery::signed(&ours, "/user/susan/inbox", &follow(&bob, &susan), &bob);
    assert_eq!(good.send(&ours).await.0, 202);
    assert_eq!(follower_count(&ours, "susan").await, 1);
    // Following again (Mastodon does, to mend a lost Accept) is answered the same.
    let again = Delivery::signed(&ours, "/user/susan/inbox", &follow(&bob, &susan), &bob);
    assert_eq!(again.send(&ours).await.0, 202);
    assert_eq!(follower_count(&ours, "susan").await, 1);
    // Bob is known now (an actor is stored once its signature verifies): his Delete of
    // nothing is refused.
    let nothing = json!({"type": "Delete", "actor": bob.actor});
    let delivery = Delivery::signed(&ours, "/inbox", &nothing, &bob);
    assert_eq!(delivery.send(&ours).await.0, 400);
    settle(&[&ours, &theirs]).await;
    // The remote account cannot log in here, whatever it tries.
    let remote_name = format!("bob@{}", host(&theirs));
    let mut browser = ours.browser();
    let res = browser.login(&remote_name, PASSWORD, false).await;
    assert_ne!(res.location(), Some("/index"));
    let res = browser.login(&remote_name, "!", false).await;
    assert_ne!(res.location(), Some("/index"));
}

/// Instance `a` is always on SQLite; `b` on the tests' database (PostgreSQL when
/// `TEST_DATABASE_URL` is set): the two backends federate with each other.
#[actix_web::test]
async fn two_instances_follow_post_and_delete_across() {
    let sqlite = tempfile::tempdir().unwrap();
    let sqlite_url = format!("sqlite:///{}", sqlite.path().join("a.db").display());
    let a = spawn_federated(&[("DATABASE_URL", &sqlite_url)]).await;
    let b = spawn_federated(&[]).await;
    let mut alice = a.logged_in("alice", false).await;
    let mut bob = b.logged_in("bob", false).await;
    let bob_there = format!("bob@{}", host(&b));
    let bob_page = format!("/user/{}", crate::common::encode(&bob_there));

    // Alice finds bob by his handle in the navbar's search.
    let found = alice
        .get(&format!(
            "/search?q={}",
            crate::common::encode(&format!("@{bob_there}"))
        ))
        .await;
    assert_eq!(found.status, 302, "{}", found.body);
    let location = found.location().unwrap().to_owned();
    let profile = alice.get(&location).await;
    assert_eq!(profile.status, 200, "{location}");
    assert!(profile.body.contains(&bob_there));
    // No private messages to another server's account: they would never leave this one.
    assert!(!profile.body.contains("send-message"), "{}", profile.body);
    let write = format!("/send_message/{}", crate::common::encode(&bob_there));
    assert_eq!(alice.get(&write).await.status, 404);

    // She follows him; he has a follower there, she follows one account here.
    let res = alice
        .submit(
            &bob_page,
            &format!("/follow/{}", crate::common::encode(&bob_there)),
            &[],
        )
        .await;
    assert_eq!(res.status, 302, "{}", res.body);
    settle(&[&a, &b]).await;
    assert_eq!(follower_count(&b, "bob").await, 1);
    let (_, following, _) = get_json(&a, "/user/alice/following", ACTIVITY_JSON).await;
    assert_eq!(
        following["orderedItems"],
        json!([format!("{}/user/bob", b.address)])
    );

    // Bob posts; it reaches alice's timeline, and his profile here.
    let res = bob
        .submit(
            "/index",
            "/index",
            &[("post", "Hello <b>from</b> the other side")],
        )
        .await;
    assert_eq!(res.status, 302);
    settle(&[&a, &b]).await;
    let index = alice.get("/index").await;
    assert!(
        index
            .body
            .contains("Hello &lt;b&gt;from&lt;&#x2F;b&gt; the other side")
            || index
                .body
                .contains("Hello &lt;b&gt;from&lt;/b&gt; the other side"),
        "{}",
        index.body
    );
    assert!(index.body.contains(&bob_there));
    let profile = alice.get(&bob_page).await;
    assert!(profile.body.contains("the other side"));

    // A post nobody here follows is not kept: carol's never arrives.
    // Bob deletes his post: gone from alice's timeline too.
    let post_id = {
        let mut conn = b.database().get().unwrap();
        let bob_user = microblog::models::user::find_by_username(&mut conn, "bob")
            .unwrap()
            .unwrap();
        let page = microblog::models::post::page(
            &mut conn,
            microblog::models::post::Feed::Author(bob_user.id),
            microblog::pagination::PageNumber(1),
            10,
        )
        .unwrap();
        page.items[0].id
    };
    let res = bob
        .submit("/index", &format!("/delete_post/{post_id}"), &[])
        .await;
    assert_eq!(res.status, 302, "{}", res.body);
    settle(&[&a, &b]).await;
    let index = alice.get("/index").await;
    assert!(!index.body.contains("the other side"), "{}", index.body);

    // Alice unfollows: bob has no follower left.
    let res = alice
        .submit(
            &bob_page,
            &format!("/unfollow/{}", crate::common::encode(&bob_there)),
            &[],
        )
        .await;
    assert_eq!(res.status, 302);
    settle(&[&a, &b]).await;
    assert_eq!(follower_count(&b, "bob").await, 0);

    // She follows him again, and he deletes his account: his Delete reaches her server,
    // which forgets him.
    let follow = format!("/follow/{}", crate::common::encode(&bob_there));
    assert_eq!(alice.submit(&bob_page, &follow, &[]).await.status, 302);
    settle(&[&a, &b]).await;
    assert_eq!(follower_count(&b, "bob").await, 1);
    let res = bob
        .submit(
            "/auth/delete_account",
            "/auth/delete_account",
            &[("password", PASSWORD)],
        )
        .await;
    assert_eq!(res.location(), Some("/auth/login"), "{}", res.body);
    settle(&[&a, &b]).await;
    assert_eq!(alice.get(&bob_page).await.status, 404);
    // His farewell was signed with his key, carried by its job; the job, done, keeps no key.
    let jobs = microblog::models::job::overview(&mut b.database().get().unwrap(), 1000).unwrap();
    assert!(jobs.iter().any(|j| j.payload.contains("Delete")));
    assert!(!jobs.iter().any(|j| j.payload.contains("PRIVATE KEY")));
    let (_, following, _) = get_json(&a, "/user/alice/following", ACTIVITY_JSON).await;
    assert_eq!(following["orderedItems"], json!([]));
}

fn note(by: &RemoteUser, id: &str, content: &str) -> Value {
    json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{id}/activity"),
        "type": "Create",
        "actor": by.actor,
        "object": {
            "id": id,
            "type": "Note",
            "attributedTo": by.actor,
            "content": content,
            "published": "2026-12-07T08:00:00Z",
            "to": ["https://www.w3.org/ns/activitystreams#Public"],
        },
    })
}

#[actix_web::test]
async fn remote_posts_are_kept_for_followers_only_and_sanitised() {
    let ours = spawn_federated(&[]).await;
    let theirs = spawn_federated(&[]).await;
    let mut susan = ours.logged_in("susan", false).await;
    let bob = remote_user(&theirs, "bob").await;
    let mary = remote_user(&theirs, "mary").await;
    let first = format!("{}/post/1001", theirs.address);

    // Nobody here follows bob: his post is answered and dropped.
    let delivery = Delivery::signed(&ours, "/inbox", &note(&bob, &first, "<p>unseen</p>"), &bob);
    assert_eq!(delivery.send(&ours).await.0, 202);
    assert!(!susan.get("/explore").await.body.contains("unseen"));

    let handle = format!("bob@{}", host(&theirs));
    let res = susan
        .submit(
            "/index",
            &format!("/follow/{}", crate::common::encode(&handle)),
            &[],
        )
        .await;
    assert_eq!(res.status, 302, "{}", res.body);
    settle(&[&ours, &theirs]).await;

    let dirty = "<p>Hi <script>alert(1)</script><a href=\"javascript:alert(2)\">j</a> \
                 <a href=\"https://x.example/\" onclick=\"alert(3)\">link</a><img src=x onerror=alert(4)></p>";
    let delivery = Delivery::signed(&ours, "/inbox", &note(&bob, &first, dirty), &bob);
    assert_eq!(delivery.send(&ours).await.0, 202);
    // The same delivery again (a retry) stores nothing more.
    let again = Delivery::signed(&ours, "/inbox", &note(&bob, &first, dirty), &bob);
    assert_eq!(again.send(&ours).await.0, 202);
    let index = susan.get("/index").await.body;
    assert!(
        index.contains(
            "<a href=\"https://x.example/\" rel=\"nofollow noopener noreferrer\">link</a>"
        ),
        "{index}"
    );
    assert_eq!(index.matches("x.example").count(), 1, "kept once");
    for bad in ["<script>", "alert(", "javascript:", "onerror", "src=\"x\""] {
        assert!(!index.contains(bad), "{bad} in {index}");
    }

    // Headings and other blocks stay apart, as bold paragraphs and paragraphs; a content
    // warning hides the text until the reader opens it.
    let mut warned = note(
        &bob,
        &format!("{}/post/1002", theirs.address),
        "<h1>Chapter</h1><div>the ending</div><ul><li>one</li></ul>",
    );
    warned["object"]["summary"] = json!("spoilers <b>ahead</b>");
    let delivery = Delivery::signed(&ours, "/inbox", &warned, &bob);
    assert_eq!(delivery.send(&ours).await.0, 202);
    let index = susan.get("/index").await.body;
    assert!(
        index.contains(
            "<details><summary>spoilers ahead</summary><p><strong>Chapter</strong></p>\
             <p>the ending</p><ul><li>one</li></ul></details>"
        ),
        "{index}"
    );

    // Signed for another server's inbox and replayed here: refused.
    let replayed = note(
        &bob,
        &format!("{}/post/1003", theirs.address),
        "<p>replayed</p>",
    );
    let delivery = Delivery::signed(&theirs, "/inbox", &replayed, &bob);
    assert_eq!(delivery.send(&ours).await.0, 401);
    // Followers-only: not kept, as every post here is public.
    let mut private = note(
        &bob,
        &format!("{}/post/1004", theirs.address),
        "<p>only followers</p>",
    );
    private["object"]["to"] = json!([format!("{}/followers", bob.actor)]);
    let delivery = Delivery::signed(&ours, "/inbox", &private, &bob);
    assert_eq!(delivery.send(&ours).await.0, 202);
    // A language tag longer than a post's language holds: its primary subtag is kept.
    let mut tagged = note(&bob, &format!("{}/post/1005", theirs.address), "");
    let object = tagged["object"].as_object_mut().unwrap();
    object.remove("content");
    object.insert(
        "contentMap".into(),
        json!({"zh-Hant-TW": "<p>tagged words</p>"}),
    );
    let delivery = Delivery::signed(&ours, "/inbox", &tagged, &bob);
    assert_eq!(delivery.send(&ours).await.0, 202);
    let index = susan.get("/index").await.body;
    assert!(
        !index.contains("replayed") && !index.contains("only followers"),
        "{index}"
    );
    assert!(index.contains("tagged words"), "{index}");

    // A note said to be mary's, or living on another server, sent by bob: refused.
    let mut forged = note(&bob, &format!("{}/post/1002", theirs.address), "<p>x</p>");
    forged["object"]["attributedTo"] = json!(mary.actor);
    let delivery = Delivery::signed(&ours, "/inbox", &forged, &bob);
    assert_eq!(delivery.send(&ours).await.0, 403);
    let elsewhere = note(&bob, "https://elsewhere.example/post/1", "<p>x</p>");
    let delivery = Delivery::signed(&ours, "/inbox", &elsewhere, &bob);
    assert_eq!(delivery.send(&ours).await.0, 403);
    // An id longer than PostgreSQL's index holds (it gave a 500 there): refused.
    let long = format!(
        "{}/post/{}",
        theirs.address,
        crate::common::random_hex(1500)
    );
    let delivery = Delivery::signed(&ours, "/inbox", &note(&bob, &long, "<p>long id</p>"), &bob);
    assert_eq!(delivery.send(&ours).await.0, 400);

    // Mary cannot delete bob's post; bob can.
    let delete = |by: &RemoteUser| json!({"type": "Delete", "actor": by.actor, "object": {"id": first, "type": "Tombstone"}});
    let delivery = Delivery::signed(&ours, "/inbox", &delete(&mary), &mary);
    assert_eq!(delivery.send(&ours).await.0, 202);
    assert!(susan.get("/index").await.body.contains("x.example"));
    let delivery = Delivery::signed(&ours, "/inbox", &delete(&bob), &bob);
    assert_eq!(delivery.send(&ours).await.0, 202);
    assert!(!susan.get("/index").await.body.contains("x.example"));
}

/// The peer of `tests/federation/bovine_peer.py`, run by the Python named in `BOVINE_PYTHON`
/// (or of `tests/federation/fedify_peer.mjs`, run by Node: `tests/http/fedify.rs`).
pub(crate) struct Peer {
    child: std::process::Child,
    input: std::process::ChildStdin,
    output: std::io::Lines<std::io::BufReader<std::process::ChildStdout>>,
}

impl Peer {
    pub(crate) fn start(python: &str) -> (Self, Value) {
        let script = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/federation/bovine_peer.py"
        );
        let mut command = std::process::Command::new(python);
        command.arg(script);
        Self::spawn(command, "BOVINE_PYTHON runs")
    }

    /// Any peer speaking the same line protocol: `command` started with piped standard input
    /// and output, and the first line it says.
    pub(crate) fn spawn(mut command: std::process::Command, runs: &str) -> (Self, Value) {
        use std::io::BufRead as _;
        use std::process::Stdio;
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect(runs);
        let input = child.stdin.take().unwrap();
        let output = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
        let mut peer = Self {
            child,
            input,
            output,
        };
        let hello = peer.read();
        (peer, hello)
    }

    fn read(&mut self) -> Value {
        let line = self.output.next().expect("the peer answers").unwrap();
        serde_json::from_str(&line).expect("a JSON line")
    }

    /// Sends a command and waits for its answer, off the async threads (the apps serve the
    /// peer meanwhile).
    pub(crate) async fn ask(self, command: String) -> (Self, Value) {
        actix_web::web::block(move || {
            use std::io::Write as _;
            let mut peer = self;
            writeln!(peer.input, "{command}").unwrap();
            let answer = peer.read();
            (peer, answer)
        })
        .await
        .unwrap()
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An implementation nobody here wrote (bovine, from PyPI) follows our user, receives her signed
/// Accept and post, sends signed posts and deletions, and sends a forged one that is refused.
/// Needs `BOVINE_PYTHON`: a Python with `bovine` 0.5 installed (`docs/24-federation.md`).
#[actix_web::test]
#[ignore = "needs BOVINE_PYTHON, a Python with bovine 0.5 (docs/24-federation.md)"]
async fn an_independent_implementation_follows_and_is_followed() {
    let python = std::env::var("BOVINE_PYTHON").expect("BOVINE_PYTHON");
    let ours = spawn_federated(&[]).await;
    let mut susan = ours.logged_in("susan", false).await;
    let susan_actor = format!("{}/user/susan", ours.address);
    let (peer, hello) = Peer::start(&python);
    let peer_actor = hello["actor"].as_str().unwrap().to_owned();
    let handle = hello["handle"].as_str().unwrap().to_owned();

    // bovine follows susan; her Accept, signed by us, passes bovine's verifier.
    let (peer, answer) = peer.ask(format!("follow {susan_actor}")).await;
    assert_eq!(answer["status"], 202, "{answer}");
    let (peer, accept) = peer.ask("wait Accept".to_owned()).await;
    assert_eq!(accept["owner"], susan_actor, "{accept}");
    assert_eq!(accept["activity"]["object"]["actor"], peer_actor);
    assert_eq!(follower_count(&ours, "susan").await, 1);

    // Susan posts: bovine receives the Create, signed.
    let res = susan
        .submit("/index", "/index", &[("post", "Hello, bovine")])
        .await;
    assert_eq!(res.status, 302);
    let (peer, create) = peer.ask("wait Create".to_owned()).await;
    assert_eq!(create["owner"], susan_actor, "{create}");
    assert_eq!(
        create["activity"]["object"]["content"],
        "<p>Hello, bovine</p>"
    );

    // Susan follows bovine's actor, found by WebFinger.
    let found = susan
        .get(&format!(
            "/search?q={}",
            crate::common::encode(&format!("@{handle}"))
        ))
        .await;
    assert_eq!(found.status, 302, "{}", found.body);
    let page = found.location().unwrap().to_owned();
    let follow = format!("/follow/{}", crate::common::encode(&handle));
    assert_eq!(susan.submit(&page, &follow, &[]).await.status, 302);
    let (peer, follow) = peer.ask("wait Follow".to_owned()).await;
    assert_eq!(follow["owner"], susan_actor, "{follow}");

    // bovine posts, signed by bovine: the post reaches susan's timeline. A forged one does not.
    let inbox = format!("{}/inbox", ours.address);
    let note = |id: &str, text: &str| {
        json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": format!("{peer_actor}/{id}/activity"),
            "type": "Create",
            "actor": peer_actor,
            "object": {
                "id": format!("{peer_actor}/{id}"),
                "type": "Note",
                "attributedTo": peer_actor,
                "content": format!("<p>{text}</p>"),
                "to": ["https://www.w3.org/ns/activitystreams#Public"],
            },
        })
    };
    let (peer, sent) = peer
        .ask(format!("forge {inbox} {}", note("n0", "Forged by nobody")))
        .await;
    assert_eq!(sent["status"], 401, "{sent}");
    let (peer, sent) = peer
        .ask(format!("send {inbox} {}", note("n1", "Moo from bovine")))
        .await;
    assert_eq!(sent["status"], 202, "{sent}");
    let index = susan.get("/index").await.body;
    assert!(
        index.contains("Moo from bovine") && !index.contains("Forged"),
        "{index}"
    );

    // ... and its Delete removes it.
    let delete = json!({
        "type": "Delete",
        "actor": peer_actor,
        "object": {"id": format!("{peer_actor}/n1"), "type": "Tombstone"},
    });
    let (_peer, sent) = peer.ask(format!("send {inbox} {delete}")).await;
    assert_eq!(sent["status"], 202, "{sent}");
    assert!(!susan.get("/index").await.body.contains("Moo from bovine"));
}

#[actix_web::test]
async fn a_new_key_is_fetched_once_when_a_signature_fails() {
    let ours = spawn_federated(&[]).await;
    let theirs = spawn_federated(&[]).await;
    ours.register("susan").await;
    let susan = format!("{}/user/susan", ours.address);
    let bob = remote_user(&theirs, "bob").await;
    let delivery = Delivery::signed(&ours, "/inbox", &follow(&bob, &susan), &bob);
    assert_eq!(delivery.send(&ours).await.0, 202);

    // Bob's server makes him a new key (`microblog user rotate-key`), and our copy is old.
    let work = tempfile::tempdir().unwrap();
    let secret = crate::common::random_hex(32);
    let settings = [
        ("DATABASE_URL", theirs_url(&theirs)),
        ("SECRET_KEY", secret),
    ];
    let settings: Vec<(&str, &str)> = settings.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let rotated = crate::common::microblog_command(work.path(), &settings)
        .args(["user", "rotate-key", "bob"])
        .output()
        .expect("microblog runs");
    assert!(rotated.status.success(), "{rotated:?}");
    let bob = remote_user_again(&theirs, "bob").await;
    ours.execute_sql("UPDATE remote_actors SET fetched_at = '2000-01-01 00:00:00'");
    let delivery = Delivery::signed(&ours, "/inbox", &follow(&bob, &susan), &bob);
    assert_eq!(delivery.send(&ours).await.0, 202);
    // A key just fetched is not fetched again: a wrong signature is simply refused.
    let mut forged = Delivery::signed(&ours, "/inbox", &follow(&bob, &susan), &bob);
    let other = remote_user(&theirs, "mary").await;
    let resigned = Delivery::signed(&ours, "/inbox", &follow(&bob, &susan), &other);
    forged.signature = resigned
        .signature
        .map(|s| s.replace(&other.key_id, &bob.key_id));
    assert_eq!(forged.send(&ours).await.0, 401);
}

/// `name`'s actor and key on `app` as they are now (already registered).
async fn remote_user_again(app: &TestApp, name: &str) -> RemoteUser {
    let (status, person, _) = get_json(app, &format!("/user/{name}"), ACTIVITY_JSON).await;
    assert_eq!(status, 200);
    RemoteUser {
        actor: person["id"].as_str().unwrap().to_owned(),
        key_id: person["publicKey"]["id"].as_str().unwrap().to_owned(),
        private_pem: crate::common::private_key(app, name),
    }
}

#[actix_web::test]
async fn a_server_sending_too_much_is_told_to_wait() {
    let ours = spawn_federated(&[]).await;
    let theirs = spawn_federated(&[]).await;
    let bob = remote_user(&theirs, "bob").await;
    let dance = json!({"type": "Dance", "actor": bob.actor});
    for _ in 0..microblog::federation::RATE_LIMIT {
        let delivery = Delivery::signed(&ours, "/inbox", &dance, &bob);
        assert_eq!(delivery.send(&ours).await.0, 202);
    }
    let delivery = Delivery::signed(&ours, "/inbox", &dance, &bob);
    assert_eq!(delivery.send(&ours).await.0, 429);
    // Another server is not held up by it.
    let other = spawn_federated(&[]).await;
    let mary = remote_user(&other, "mary").await;
    let delivery = Delivery::signed(
        &ours,
        "/inbox",
        &json!({"type": "Dance", "actor": mary.actor}),
        &mary,
    );
    assert_eq!(delivery.send(&ours).await.0, 202);
}

/// `DATABASE_URL` of `app`, for a command run beside it.
fn theirs_url(app: &TestApp) -> String {
    match &app.database_url {
        microblog::config::DatabaseUrl::Sqlite(path) => format!("sqlite:///{}", path.display()),
        microblog::config::DatabaseUrl::Postgres(url) => url.clone(),
    }
}

/// What a path of a stranger's server answers.
enum Page {
    Json(Value),
    RedirectTo(String),
    /// The document, to a GET signed by an actor whose key (fetched) verifies it; else 401,
    /// as a server in Mastodon's "secure mode" answers.
    SignedOnly(Value),
}

/// Whether `req` carries a signature that the key its `keyId` names verifies.
async fn signed_right(req: &actix_web::HttpRequest) -> bool {
    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
    let Some(parsed) = header("signature").and_then(|h| signature::SignatureHeader::parse(h).ok())
    else {
        return false;
    };
    let path = req.uri().path_and_query().map_or("/", |p| p.as_str());
    let Ok(signed) = signature::signing_string(&parsed.headers, "get", path, header) else {
        return false;
    };
    let actor = parsed.key_id.split('#').next().unwrap_or_default();
    let Ok(mut res) = awc::Client::new()
        .get(actor)
        .insert_header(("Accept", ACTIVITY_JSON))
        .send()
        .await
    else {
        return false;
    };
    let document: Value = res.json().limit(1 << 20).await.unwrap_or(Value::Null);
    let pem = document["publicKey"]["publicKeyPem"]
        .as_str()
        .unwrap_or_default();
    document["publicKey"]["id"] == parsed.key_id.as_str()
        && signature::verify(pem, &signed, &parsed.signature).is_ok()
}

type Pages = std::sync::Arc<std::sync::Mutex<std::collections::HashMap<String, Page>>>;

/// A server nobody here wrote, on loopback: its address (`http://127.0.0.1:port`) and its
/// pages, each path (the query is not read) answering its [`Page`], anything else 404.
async fn stranger() -> (String, Pages) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    let pages = Pages::default();
    let served = pages.clone();
    let server = actix_web::HttpServer::new(move || {
        let pages = served.clone();
        actix_web::App::new().default_service(actix_web::web::to(
            move |req: actix_web::HttpRequest| {
                let pages = pages.clone();
                async move {
                    let (document, signed_only) = match pages.lock().unwrap().get(req.path()) {
                        Some(Page::Json(doc)) => (doc.clone(), false),
                        Some(Page::SignedOnly(doc)) => (doc.clone(), true),
                        Some(Page::RedirectTo(to)) => {
                            return actix_web::HttpResponse::Found()
                                .insert_header(("Location", to.as_str()))
                                .finish();
                        }
                        None => return actix_web::HttpResponse::NotFound().finish(),
                    };
                    if signed_only && !signed_right(&req).await {
                        return actix_web::HttpResponse::Unauthorized().finish();
                    }
                    actix_web::HttpResponse::Ok()
                        .content_type(ACTIVITY_JSON)
                        .body(document.to_string())
                }
            },
        ))
    })
    .workers(1)
    .listen(listener)
    .unwrap()
    .run();
    actix_web::rt::spawn(server);
    (address, pages)
}

/// An actor document as a stranger serves it.
fn actor_document(id: &str, name: &str, key_id: &str, public_pem: &str) -> Value {
    json!({
        "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
        "id": id,
        "type": "Person",
        "preferredUsername": name,
        "inbox": format!("{id}/inbox"),
        "publicKey": { "id": key_id, "owner": id, "publicKeyPem": public_pem },
    })
}

/// A WebFinger answer naming `actor`.
fn webfinger_naming(actor: &str) -> Page {
    Page::Json(json!({ "links": [{ "rel": "self", "type": ACTIVITY_JSON, "href": actor }] }))
}

/// Whether `app` has an account named `name` (a remote one is `name@host`).
fn has_account(app: &TestApp, name: &str) -> bool {
    let mut conn = app.database().get().unwrap();
    microblog::models::user::find_by_username(&mut conn, name)
        .unwrap()
        .is_some()
}

#[actix_web::test]
async fn a_server_speaks_only_for_its_own_actors_and_a_stranger_stores_nothing() {
    let ours = spawn_federated(&[]).await;
    let theirs = spawn_federated(&[]).await;
    ours.register("susan").await;
    let susan = format!("{}/user/susan", ours.address);
    let bob = remote_user(&theirs, "bob").await;
    let bob_here = format!("bob@{}", host(&theirs));
    let mallory_key = signature::generate().unwrap();
    let host_of = |address: &str| address.trim_start_matches("http://").to_owned();

    // Eve's server serves an actor naming bob's key, on another server.
    let (eve_server, eve_pages) = stranger().await;
    let eve_id = format!("{eve_server}/eve");
    let eve_document = actor_document(&eve_id, "eve", &bob.key_id, &mallory_key.public_pem);
    {
        let mut pages = eve_pages.lock().unwrap();
        pages.insert("/eve".into(), Page::Json(eve_document));
        pages.insert("/.well-known/webfinger".into(), webfinger_naming(&eve_id));
    }
    // Signed by bob's key, claiming an actor of another server: refused.
    let eve = RemoteUser {
        actor: eve_id.clone(),
        key_id: bob.key_id.clone(),
        private_pem: bob.private_pem.clone(),
    };
    let delivery = Delivery::signed(&ours, "/inbox", &follow(&eve, &susan), &eve);
    assert_eq!(delivery.send(&ours).await.0, 403);
    // ... and with a key id of her own server: her document, naming a key on another
    // server, is refused, and with it the signature.
    let eve = RemoteUser {
        key_id: format!("{eve_id}#main-key"),
        ..eve
    };
    let delivery = Delivery::signed(&ours, "/inbox", &follow(&eve, &susan), &eve);
    assert_eq!(delivery.send(&ours).await.0, 401);
    let eve_here = format!("eve@{}", host_of(&eve_server));
    assert!(!has_account(&ours, &eve_here));

    // Mallory's actor is on a server with an open redirect, to a server that serves what
    // mallory likes: the document that answered is of another server than the id it claims.
    let (open, open_pages) = stranger().await;
    let (elsewhere, elsewhere_pages) = stranger().await;
    let mallory_id = format!("{open}/mallory");
    let mallory = RemoteUser {
        actor: mallory_id.clone(),
        key_id: format!("{mallory_id}#main-key"),
        private_pem: mallory_key.private_pem.clone(),
    };
    {
        let mut pages = open_pages.lock().unwrap();
        let redirect = Page::RedirectTo(format!("{elsewhere}/mallory"));
        pages.insert("/mallory".into(), redirect);
        // The handle carol@open names bob, an actor of another host.
        pages.insert(
            "/.well-known/webfinger".into(),
            webfinger_naming(&bob.actor),
        );
    }
    let mallory_document = actor_document(
        &mallory_id,
        "mallory",
        &mallory.key_id,
        &mallory_key.public_pem,
    );
    elsewhere_pages
        .lock()
        .unwrap()
        .insert("/mallory".into(), Page::Json(mallory_document));
    let delivery = Delivery::signed(&ours, "/inbox", &follow(&mallory, &susan), &mallory);
    assert_eq!(delivery.send(&ours).await.0, 401);
    assert!(!has_account(&ours, &format!("mallory@{}", host_of(&open))));

    // A real actor (bob) whose signature fails is not stored.
    let mut forged = Delivery::signed(&ours, "/inbox", &follow(&bob, &susan), &bob);
    let mallory_as_bob = RemoteUser {
        actor: bob.actor.clone(),
        key_id: bob.key_id.clone(),
        private_pem: mallory_key.private_pem.clone(),
    };
    let wrong = Delivery::signed(&ours, "/inbox", &follow(&bob, &susan), &mallory_as_bob);
    forged.signature = wrong.signature;
    assert_eq!(forged.send(&ours).await.0, 401);
    assert!(!has_account(&ours, &bob_here));

    // Handles: a WebFinger answer naming an actor of another host, and an actor whose key is
    // on another server, find nobody and store nothing.
    let mut browser = ours.browser();
    browser.login("susan", PASSWORD, false).await;
    for handle in [
        format!("@carol@{}", host_of(&open)),
        format!("@eve@{}", host_of(&eve_server)),
    ] {
        let res = browser
            .get(&format!("/search?q={}", crate::common::encode(&handle)))
            .await;
        assert_eq!(res.status, 404, "{handle}: {:?}", res.location());
    }
    assert!(!has_account(&ours, &bob_here));
    assert!(!has_account(&ours, &eve_here));

    // Bob himself, signed right, is stored.
    let delivery = Delivery::signed(&ours, "/inbox", &follow(&bob, &susan), &bob);
    assert_eq!(delivery.send(&ours).await.0, 202);
    assert!(has_account(&ours, &bob_here));
}

#[actix_web::test]
async fn refusals_are_counted_per_client_address_not_per_the_server_a_key_names() {
    let ours = spawn_federated(&[]).await;
    let theirs = spawn_federated(&[]).await;
    ours.register("susan").await;
    let susan = format!("{}/user/susan", ours.address);
    let bob = remote_user(&theirs, "bob").await;
    // Another client (127.0.0.2) sends forgeries naming bob's key, as many as are allowed.
    let forger = || {
        awc::Client::builder()
            .local_address("127.0.0.2".parse().unwrap())
            .finish()
    };
    let mut forged = Delivery::signed(&ours, "/inbox", &follow(&bob, &susan), &bob);
    forged.signature = forged.signature.map(|s| {
        let (head, _) = s.split_once("signature=").unwrap();
        format!("{head}signature=\"AAAA\"")
    });
    for _ in 0..microblog::federation::RATE_LIMIT {
        assert_eq!(forged.send_from(&ours, forger()).await.0, 401);
    }
    // That client is told to wait, even when it signs right ...
    let good = Delivery::signed(&ours, "/inbox", &follow(&bob, &susan), &bob);
    assert_eq!(good.send_from(&ours, forger()).await.0, 429);
    // ... and bob's server, from its own address, is not held up by what named its key.
    assert_eq!(good.send(&ours).await.0, 202);
    assert_eq!(follower_count(&ours, "susan").await, 1);
}

#[actix_web::test]
async fn fetches_are_signed_by_the_instance_actor_for_servers_in_secure_mode() {
    let ours = spawn_federated(&[]).await;
    ours.register("susan").await;
    let susan = format!("{}/user/susan", ours.address);
    // The instance actor: an Application with a key, and an empty outbox.
    let (status, instance, headers) = get_json(&ours, "/actor", ACTIVITY_JSON).await;
    assert_eq!(status, 200);
    assert_eq!(instance["type"], "Application");
    assert_eq!(instance["id"], format!("{}/actor", ours.address));
    assert_eq!(
        instance["publicKey"]["id"],
        format!("{}/actor#main-key", ours.address)
    );
    let pem = instance["publicKey"]["publicKeyPem"].as_str().unwrap();
    assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----"), "{pem}");
    assert!(
        headers
            .get("content-type")
            .is_some_and(|t| t.to_str().unwrap().starts_with(ACTIVITY_JSON))
    );
    let (status, outbox, _) = get_json(&ours, "/actor/outbox", ACTIVITY_JSON).await;
    assert_eq!((status, outbox["totalItems"].as_i64()), (200, Some(0)));
    // The same key the next time: made once, kept.
    let (_, again, _) = get_json(&ours, "/actor", ACTIVITY_JSON).await;
    assert_eq!(again["publicKey"], instance["publicKey"]);

    // Dave's server answers only signed fetches; his Follow is taken because our fetch of his
    // actor was signed, with a key his server could check.
    let (server, pages) = stranger().await;
    let dave_key = signature::generate().unwrap();
    let dave_id = format!("{server}/dave");
    let dave = RemoteUser {
        actor: dave_id.clone(),
        key_id: format!("{dave_id}#main-key"),
        private_pem: dave_key.private_pem.clone(),
    };
    let document = actor_document(&dave_id, "dave", &dave.key_id, &dave_key.public_pem);
    pages
        .lock()
        .unwrap()
        .insert("/dave".into(), Page::SignedOnly(document));
    // An unsigned fetch is refused there, as a server in secure mode does.
    let res = awc::Client::new()
        .get(&dave_id)
        .insert_header(("Accept", ACTIVITY_JSON))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 401);
    let delivery = Delivery::signed(&ours, "/inbox", &follow(&dave, &susan), &dave);
    assert_eq!(delivery.send(&ours).await.0, 202);
    assert_eq!(follower_count(&ours, "susan").await, 1);
}

/// What a person sees of a remote account: its server instead of a "Last seen" this server
/// cannot know, a link to its own page there, a Block button that keeps its posts out of the
/// blocker's timeline and `/explore`, its name with places to wrap, its posts' language; and a
/// handle that finds nobody says so, with the handle still in the box. In both languages.
#[actix_web::test]
async fn a_remote_profile_shows_its_server_links_home_and_can_be_blocked() {
    let ours = spawn_federated(&[]).await;
    let theirs = spawn_federated(&[]).await;
    let mut susan = ours.logged_in("susan", false).await;
    let bob = remote_user(&theirs, "bob").await;
    let server = host(&theirs);
    let handle = format!("bob@{server}");
    let bob_page = microblog::urls::user_url(&handle);
    let spanish = [("Accept-Language", "es")];

    // A handle nobody answers for: the search page says why, the handle still in its box.
    let typed = format!("@nobody@{server}");
    let search = format!("/search?q={}", crate::common::encode(&typed));
    let res = susan.get(&search).await;
    assert_eq!(res.status, 404, "{}", res.body);
    assert!(
        res.body.contains(&format!("name=\"q\" value=\"{typed}\"")),
        "{}",
        res.body
    );
    assert!(
        res.body.contains(&format!(
            "No account {typed} was found: its server did not answer, or has no such account."
        )),
        "{}",
        res.body
    );
    let res = susan.get_with(&search, &spanish).await;
    assert_eq!(res.status, 404);
    assert!(
        res.body
            .contains(&format!("No se encontró ninguna cuenta {typed}")),
        "{}",
        res.body
    );

    // Bob is found; his profile names his server, links to his page there, and has no
    // "Last seen" (this server never sees his visits) and no message button, but a Block one.
    let res = susan
        .get(&format!(
            "/search?q={}",
            crate::common::encode(&format!("@{handle}"))
        ))
        .await;
    assert_eq!(res.location(), Some(bob_page.as_str()), "{}", res.body);
    let profile = susan.get(&bob_page).await.body;
    assert!(!profile.contains("Last seen"), "{profile}");
    assert!(!profile.contains("send-message"), "{profile}");
    let breakable_server = server.replace('.', ".<wbr>");
    assert!(
        profile.contains(&format!("An account on {server}.")),
        "{profile}"
    );
    assert!(
        profile.contains(&format!(
            "<a class=\"remote-page\" href=\"{}\" rel=\"nofollow noopener\">Its page on {server}</a>",
            bob.actor
        )),
        "{profile}"
    );
    let block = format!("/block/{}", microblog::urls::encode_component(&handle));
    assert!(
        profile.contains(&format!("action=\"{block}\"")),
        "{profile}"
    );
    // His name wraps before his server and at its dots, not at any letter.
    assert!(
        profile.contains(&format!(
            "User: bob<wbr><span class=\"handle-host\">@{breakable_server}</span></h1>"
        )),
        "{profile}"
    );
    let popup = susan.get(&format!("{bob_page}/popup")).await.body;
    assert!(!popup.contains("Last seen"), "{popup}");
    assert!(popup.contains("An account on"), "{popup}");
    let profile = susan.get_with(&bob_page, &spanish).await.body;
    assert!(!profile.contains("Última visita"), "{profile}");
    assert!(
        profile.contains(&format!("Una cuenta de {server}.")),
        "{profile}"
    );
    assert!(
        profile.contains(&format!("Su página en {server}</a>")),
        "{profile}"
    );
    assert!(profile.contains(">Bloquear</button>"), "{profile}");

    // She follows him; his post in Spanish reaches her timeline with its language.
    let follow = format!("/follow/{}", crate::common::encode(&handle));
    assert_eq!(susan.submit(&bob_page, &follow, &[]).await.status, 302);
    settle(&[&ours, &theirs]).await;
    let mut spoken = note(&bob, &format!("{}/post/2001", theirs.address), "");
    let object = spoken["object"].as_object_mut().unwrap();
    object.remove("content");
    object.insert(
        "contentMap".into(),
        json!({"es": "<p>hola desde el otro lado</p>"}),
    );
    let delivery = Delivery::signed(&ours, "/inbox", &spoken, &bob);
    assert_eq!(delivery.send(&ours).await.0, 202);
    for path in ["/index", "/explore"] {
        let body = susan.get(path).await.body;
        assert!(body.contains("hola desde el otro lado"), "{path}: {body}");
        assert!(
            body.contains("class=\"post-body remote-body\" id=\"post-")
                && body.contains("lang=\"es\"><p>hola desde"),
            "{path}: {body}"
        );
    }

    // She blocks him: his posts leave her timeline and /explore, not his profile.
    let res = susan.submit(&bob_page, &block, &[]).await;
    assert_eq!(res.location(), Some(bob_page.as_str()), "{}", res.body);
    assert_eq!(
        susan.flashes(&bob_page).await,
        [format!(
            "You have blocked {handle}: their posts no longer reach you."
        )]
    );
    for path in ["/index", "/explore"] {
        let body = susan.get(path).await.body;
        assert!(!body.contains("hola desde el otro lado"), "{path}: {body}");
    }
    let profile = susan.get(&bob_page).await.body;
    assert!(profile.contains("hola desde el otro lado"), "{profile}");
    let unblock = format!("/unblock/{}", microblog::urls::encode_component(&handle));
    assert!(
        profile.contains(&format!("action=\"{unblock}\"")),
        "{profile}"
    );
    // Another user here still sees them.
    let mut john = ours.logged_in("john", false).await;
    assert!(
        john.get("/explore")
            .await
            .body
            .contains("hola desde el otro lado")
    );

    // Unblocked: they are back.
    assert_eq!(susan.submit(&bob_page, &unblock, &[]).await.status, 302);
    for path in ["/index", "/explore"] {
        let body = susan.get(path).await.body;
        assert!(body.contains("hola desde el otro lado"), "{path}: {body}");
    }
}

/// Remote accounts stored at once (Follows from new accounts arriving together, each
/// fetched and stored by a request or job of its own) are all stored. On SQLite a
/// transaction that reads before it writes is refused at once ("database is locked") when
/// another writer committed in between; the upsert reads first, so it must take the write
/// lock as it begins.
#[test]
fn actors_stored_at_the_same_time_are_all_stored() {
    use diesel::prelude::*;
    use microblog::config::DatabaseUrl;
    use microblog::db::Db;
    use microblog::models::actor;
    use std::sync::Barrier;

    let dir = tempfile::tempdir().unwrap();
    let db = Db::connect(&DatabaseUrl::Sqlite(dir.path().join("actors.db"))).unwrap();
    const THREADS: usize = 6;
    const EACH: usize = 20;
    let start = Barrier::new(THREADS);
    let now = microblog::models::now();
    let failures: Vec<String> = std::thread::scope(|s| {
        let threads: Vec<_> = (0..THREADS)
            .map(|t| {
                let (db, start) = (&db, &start);
                s.spawn(move || {
                    let mut conn = db.get().unwrap();
                    start.wait();
                    let mut failures = Vec::new();
                    for n in 0..EACH {
                        let uri = format!("http://b{t}.example/users/u{n}");
                        let stored = actor::upsert_remote(
                            &mut conn,
                            &actor::FetchedActor {
                                username: &format!("u{n}@b{t}.example"),
                                placeholder_email: &format!("u{n}.b{t}@remote.invalid"),
                                about_me: None,
                                uri: &uri,
                                inbox: &format!("{uri}/inbox"),
                                shared_inbox: Some(&format!("http://b{t}.example/inbox")),
                                key_id: &format!("{uri}#main-key"),
                                public_key_pem: "(a key)",
                            },
                            now,
                        );
                        match stored {
                            Ok(Some(_)) => {}
                            other => failures.push(format!("{uri}: {other:?}")),
                        }
                    }
                    failures
                })
            })
            .collect();
        threads
            .into_iter()
            .flat_map(|t| t.join().unwrap())
            .collect()
    });
    assert!(
        failures.is_empty(),
        "{} refused, the first: {:?}",
        failures.len(),
        failures.first()
    );
    let stored: i64 = microblog::schema::remote_actors::table
        .count()
        .get_result(&mut db.get().unwrap())
        .unwrap();
    assert_eq!(stored, (THREADS * EACH) as i64);
}

#[actix_web::test]
async fn a_transfer_keeps_the_keys_and_the_remote_accounts() {
    let secret = crate::common::random_hex(32);
    let source = crate::common::TestDatabase::fresh();
    let theirs = spawn_federated(&[]).await;
    theirs.register("bob").await;
    let mut old = spawn_federated(&[
        ("DATABASE_URL", source.url.as_str()),
        ("SECRET_KEY", secret.as_str()),
    ])
    .await;
    let mut susan = old.logged_in("susan", false).await;
    let bob = format!("bob@{}", host(&theirs));
    let found = susan
        .get(&format!(
            "/search?q={}",
            crate::common::encode(&format!("@{bob}"))
        ))
        .await;
    assert_eq!(found.status, 302, "{}", found.body);
    let res = susan
        .submit(
            "/index",
            &format!("/follow/{}", crate::common::encode(&bob)),
            &[],
        )
        .await;
    assert_eq!(res.status, 302, "{}", res.body);
    settle(&[&old, &theirs]).await;
    let key_of = async |app: &TestApp, path: &str| {
        let (_, actor, _) = get_json(app, path, ACTIVITY_JSON).await;
        actor["publicKey"]["publicKeyPem"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let (hers, instance) = (
        key_of(&old, "/user/susan").await,
        key_of(&old, "/actor").await,
    );
    old.stop().await;

    let target = crate::common::TestDatabase::fresh();
    let output = source.transfer_to(&target, &secret);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    // Susan's pair and the instance's; bob, the remote account she follows.
    assert!(
        stdout.contains("2 key pairs and 1 remote accounts"),
        "{stdout}"
    );

    // The moved site signs with the same keys, so other servers still trust it, and still
    // knows where bob lives: she still follows him.
    let new = spawn_federated(&[
        ("DATABASE_URL", target.url.as_str()),
        ("SECRET_KEY", secret.as_str()),
    ])
    .await;
    assert_eq!(key_of(&new, "/user/susan").await, hers);
    assert_eq!(key_of(&new, "/actor").await, instance);
    let mut susan_later = new.browser();
    susan_later.cookies = susan.cookies.clone();
    let profile = susan_later.get(&microblog::urls::user_url(&bob)).await;
    assert_eq!(profile.status, 200);
    assert!(profile.body.contains("/unfollow/"), "{}", profile.body);
    // Its link home is the stored actor's: the row that says where bob lives came along.
    let actor = format!("{}/user/bob", theirs.address);
    assert!(
        profile.body.contains(&format!("href=\"{actor}\"")),
        "{}",
        profile.body
    );
}
