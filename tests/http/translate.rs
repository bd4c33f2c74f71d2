//! Chapter 14: POST /translate against fake translation services running in the test process,
//! each speaking its real API (path, query, headers, body), so the request the app sends is
//! what is checked; and everything a hostile or careless client can send it.

use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use serde_json::{Value, json};

use crate::common::{Browser, Response, TestApp, spawn_app, spawn_app_with};

/// One request a fake service received.
#[derive(Clone, Debug)]
struct Seen {
    path: String,
    query: String,
    headers: Vec<(String, String)>,
    body: Value,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// How a fake service answers.
#[derive(Clone, Copy)]
enum Behaviour {
    Microsoft,
    Libre,
    /// Answers after 30 seconds.
    Slow,
    /// Answers 500.
    Broken,
}

/// A translation service on a free port of this process.
struct FakeService {
    url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
    server: actix_web::dev::ServerHandle,
}

impl FakeService {
    fn start(behaviour: Behaviour) -> Self {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
        let log = seen.clone();
        let server = HttpServer::new(move || {
            let log = log.clone();
            App::new().default_service(web::to(move |req: HttpRequest, body: web::Bytes| {
                let log = log.clone();
                async move { answer(behaviour, &log, req, body).await }
            }))
        })
        .workers(1)
        .listen(listener)
        .expect("listen")
        .run();
        let handle = server.handle();
        actix_web::rt::spawn(server);
        Self {
            url,
            seen,
            server: handle,
        }
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

impl Drop for FakeService {
    fn drop(&mut self) {
        let server = self.server.clone();
        actix_web::rt::spawn(async move { server.stop(false).await });
    }
}

/// The service's answer: the text upper-cased, wrapped in its API's format.
async fn answer(
    behaviour: Behaviour,
    log: &Mutex<Vec<Seen>>,
    req: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    let seen = Seen {
        path: req.path().to_owned(),
        query: req.query_string().to_owned(),
        headers: req
            .headers()
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_str().unwrap_or("").to_owned()))
            .collect(),
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
    };
    log.lock().unwrap().push(seen.clone());
    match behaviour {
        Behaviour::Microsoft => {
            let text = seen.body[0]["Text"].as_str().unwrap_or("?").to_uppercase();
            HttpResponse::Ok().json(json!([{ "translations": [{ "text": text, "to": "es" }] }]))
        }
        Behaviour::Libre => {
            let text = seen.body["q"].as_str().unwrap_or("?").to_uppercase();
            HttpResponse::Ok().json(json!({ "translatedText": text }))
        }
        Behaviour::Slow => {
            actix_web::rt::time::sleep(Duration::from_secs(30)).await;
            HttpResponse::Ok().json(json!({ "translatedText": "too late" }))
        }
        Behaviour::Broken => HttpResponse::InternalServerError().body("quota exceeded"),
    }
}

/// A logged-in user's browser and the CSRF token of its pages.
async fn user(app: &TestApp) -> (Browser, String) {
    let mut browser = app.logged_in("susan", false).await;
    let token = browser.get("/index").await.csrf_token().expect("a token");
    (browser, token)
}

/// What the Translate link's JavaScript sends.
async fn translate(browser: &mut Browser, token: &str, body: Value) -> Response {
    browser
        .post_with(
            "/translate",
            "application/json",
            body.to_string().into_bytes(),
            &[("X-CSRFToken", token), ("Accept", "application/json")],
        )
        .await
}

fn text_of(res: &Response) -> String {
    assert_eq!(res.status, 200, "{}", res.body);
    let json: Value = serde_json::from_str(&res.body).expect("JSON");
    json["text"].as_str().expect("a text").to_owned()
}

fn hola() -> Value {
    json!({ "text": "Hola, ¿cómo estás?", "source_language": "es", "dest_language": "en" })
}

#[actix_web::test]
async fn without_a_service_the_answer_says_so_in_the_readers_language() {
    let app = spawn_app().await;
    let (mut susan, token) = user(&app).await;
    assert_eq!(
        text_of(&translate(&mut susan, &token, hola()).await),
        "Error: the translation service is not configured."
    );
    susan.accept_language = Some("es".into());
    assert_eq!(
        text_of(&translate(&mut susan, &token, hola()).await),
        "Error: el servicio de traducciones no está configurado."
    );
}

#[actix_web::test]
async fn microsoft_translator_gets_its_v3_request_with_key_and_region() {
    let service = FakeService::start(Behaviour::Microsoft);
    let app = spawn_app_with(&[
        ("MS_TRANSLATOR_KEY", "the-key"),
        ("MS_TRANSLATOR_REGION", "westeurope"),
        ("MS_TRANSLATOR_URL", service.url.as_str()),
    ])
    .await;
    let (mut susan, token) = user(&app).await;
    assert_eq!(
        text_of(&translate(&mut susan, &token, hola()).await),
        "HOLA, ¿CÓMO ESTÁS?"
    );
    let seen = service.seen();
    assert_eq!(seen.len(), 1);
    let request = &seen[0];
    assert_eq!(request.path, "/translate");
    let mut query: Vec<&str> = request.query.split('&').collect();
    query.sort_unstable();
    assert_eq!(query, ["api-version=3.0", "from=es", "to=en"]);
    assert_eq!(request.header("Ocp-Apim-Subscription-Key"), Some("the-key"));
    assert_eq!(
        request.header("Ocp-Apim-Subscription-Region"),
        Some("westeurope")
    );
    assert!(
        request
            .header("Content-Type")
            .unwrap()
            .starts_with("application/json")
    );
    assert_eq!(request.body, json!([{ "Text": "Hola, ¿cómo estás?" }]));
}

#[actix_web::test]
async fn libretranslate_gets_its_request_with_the_key_and_auto_for_an_unknown_source() {
    let service = FakeService::start(Behaviour::Libre);
    let app = spawn_app_with(&[
        ("LIBRETRANSLATE_URL", service.url.as_str()),
        ("LIBRETRANSLATE_KEY", "class-key"),
    ])
    .await;
    let (mut susan, token) = user(&app).await;
    let unknown_source = json!({ "text": "bonjour", "source_language": "", "dest_language": "en" });
    assert_eq!(
        text_of(&translate(&mut susan, &token, unknown_source).await),
        "BONJOUR"
    );
    let seen = service.seen();
    assert_eq!(seen[0].path, "/translate");
    assert_eq!(
        seen[0].body,
        json!({ "q": "bonjour", "source": "auto", "target": "en", "format": "text", "api_key": "class-key" })
    );
}

#[actix_web::test]
async fn a_slow_service_fails_within_five_seconds_and_other_pages_do_not_wait() {
    let service = FakeService::start(Behaviour::Slow);
    let app = spawn_app_with(&[("LIBRETRANSLATE_URL", service.url.as_str())]).await;
    let (susan, token) = user(&app).await;
    let mut other = susan.clone_session();

    // More slow translations at once than the app has worker threads: if a call held its
    // thread while it waited, no page could be served meanwhile.
    let started = Instant::now();
    let mut readers: Vec<Browser> = (0..8).map(|_| susan.clone_session()).collect();
    let slow = futures_util::future::join_all(
        readers
            .iter_mut()
            .map(|reader| translate(reader, &token, hola())),
    );
    let meanwhile = async {
        // Let the translation start, then load pages while it waits.
        actix_web::rt::time::sleep(Duration::from_millis(300)).await;
        let before = Instant::now();
        for _ in 0..5 {
            assert_eq!(other.get("/index").await.status, 200);
        }
        before.elapsed()
    };
    let (answers, pages_took) = futures_util::future::join(slow, meanwhile).await;
    let took = started.elapsed();
    for res in &answers {
        assert_eq!(text_of(res), "Error: the translation service failed.");
    }
    assert!(
        took >= Duration::from_secs(4) && took < Duration::from_secs(8),
        "{took:?}"
    );
    assert!(
        pages_took < Duration::from_secs(3),
        "pages waited: {pages_took:?}"
    );
}

#[actix_web::test]
async fn a_failing_service_gives_the_failure_text() {
    let service = FakeService::start(Behaviour::Broken);
    let app = spawn_app_with(&[("LIBRETRANSLATE_URL", service.url.as_str())]).await;
    let (mut susan, token) = user(&app).await;
    assert_eq!(
        text_of(&translate(&mut susan, &token, hola()).await),
        "Error: the translation service failed."
    );
    // A service that cannot be reached at all.
    drop(service);
    actix_web::rt::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        text_of(&translate(&mut susan, &token, hola()).await),
        "Error: the translation service failed."
    );
}

#[actix_web::test]
async fn bad_requests_get_a_reason_and_never_a_500() {
    let service = FakeService::start(Behaviour::Libre);
    let app = spawn_app_with(&[("LIBRETRANSLATE_URL", service.url.as_str())]).await;

    // Logged out: sent to the login page, as every page that needs a login.
    let mut visitor = app.browser();
    let anonymous = translate(&mut visitor, "x", hola()).await;
    assert_eq!(anonymous.status, 302);
    assert!(anonymous.location().unwrap().starts_with("/auth/login"));

    let (mut susan, token) = user(&app).await;
    let refused = |res: &Response, reason: &str| {
        assert_eq!(res.status, 400, "{}", res.body);
        let json: Value = serde_json::from_str(&res.body).expect("a JSON error");
        let message = json["message"].as_str().unwrap_or_default();
        assert!(message.contains(reason), "{reason:?} in {message:?}");
    };

    // Another site's page cannot send the header: no token, or a wrong one.
    for headers in [vec![], vec![("X-CSRFToken", "0000")]] {
        let mut all = headers.clone();
        all.push(("Accept", "application/json"));
        let res = susan
            .post_with(
                "/translate",
                "application/json",
                hola().to_string().into_bytes(),
                &all,
            )
            .await;
        refused(&res, "CSRF");
    }
    // Not JSON: a form, text, nothing.
    for content_type in ["application/x-www-form-urlencoded", "text/plain"] {
        let res = susan
            .post_with(
                "/translate",
                content_type,
                b"text=hola".to_vec(),
                &[("X-CSRFToken", &token), ("Accept", "application/json")],
            )
            .await;
        refused(&res, "JSON");
    }
    let garbage = susan
        .post_with(
            "/translate",
            "application/json",
            b"{\"text\": \"hola\", \xff".to_vec(),
            &[("X-CSRFToken", &token), ("Accept", "application/json")],
        )
        .await;
    refused(&garbage, "must be JSON");
    let cases = [
        (json!({ "text": "hola" }), "must be JSON"),
        (json!([1, 2]), "must be JSON"),
        (
            json!({ "text": 5, "source_language": "es", "dest_language": "en" }),
            "must be JSON",
        ),
        (
            json!({ "text": "  ", "source_language": "es", "dest_language": "en" }),
            "no text",
        ),
        (
            json!({ "text": "a".repeat(1001), "source_language": "es", "dest_language": "en" }),
            "too long",
        ),
        (
            json!({ "text": "hola", "source_language": "es", "dest_language": "../../etc" }),
            "dest_language",
        ),
        (
            json!({ "text": "hola", "source_language": "e s", "dest_language": "en" }),
            "source_language",
        ),
    ];
    for (body, reason) in cases {
        refused(&translate(&mut susan, &token, body).await, reason);
    }
    // The reason is in the reader's language too.
    susan.accept_language = Some("es".into());
    let empty = json!({ "text": "", "source_language": "es", "dest_language": "en" });
    refused(&translate(&mut susan, &token, empty).await, "No hay texto");
    // None of these reached the service.
    assert!(service.seen().is_empty());
    assert_eq!(susan.get("/translate").await.status, 405);
}

#[actix_web::test]
async fn each_user_has_an_allowance_of_translations() {
    let service = FakeService::start(Behaviour::Libre);
    let app = spawn_app_with(&[("LIBRETRANSLATE_URL", service.url.as_str())]).await;
    let (mut susan, token) = user(&app).await;
    // 30 at once; one more comes back every 2 seconds while they are sent.
    let started = Instant::now();
    let mut allowed = 0;
    let refused = loop {
        // Each text a new one: a text translated before comes from the cache, free.
        let text = format!("Hola número {allowed}");
        let body = json!({ "text": text, "source_language": "es", "dest_language": "en" });
        let res = translate(&mut susan, &token, body).await;
        if res.status != 200 {
            break res;
        }
        assert_eq!(text_of(&res), text.to_uppercase());
        allowed += 1;
        assert!(allowed <= 60, "never refused");
    };
    let refilled = (started.elapsed().as_secs_f64() / 2.0).ceil() as usize;
    assert!((30..=30 + refilled).contains(&allowed), "{allowed} allowed");
    assert_eq!(refused.status, 429, "{}", refused.body);
    assert!(refused.header("retry-after").is_some());
    assert!(
        refused.body.contains("many translations"),
        "{}",
        refused.body
    );
    assert_eq!(
        service.seen().len(),
        allowed,
        "the refused one never reached the service"
    );

    // Another user's allowance is their own.
    let mut john = app.logged_in("john", false).await;
    let johns = john.get("/index").await.csrf_token().unwrap();
    assert_eq!(translate(&mut john, &johns, hola()).await.status, 200);
}

#[actix_web::test]
async fn the_same_text_translated_twice_costs_the_service_once() {
    let service = FakeService::start(Behaviour::Libre);
    let app = spawn_app_with(&[("LIBRETRANSLATE_URL", service.url.as_str())]).await;
    let (mut susan, token) = user(&app).await;
    let mut john = app.logged_in("john", false).await;
    let johns = john.get("/index").await.csrf_token().unwrap();

    for _ in 0..2 {
        assert_eq!(
            text_of(&translate(&mut susan, &token, hola()).await),
            "HOLA, ¿CÓMO ESTÁS?"
        );
        assert_eq!(
            text_of(&translate(&mut john, &johns, hola()).await),
            "HOLA, ¿CÓMO ESTÁS?"
        );
    }
    assert_eq!(service.seen().len(), 1, "one call to the paid service");
    // Another destination is another translation.
    let to_french =
        json!({ "text": "Hola, ¿cómo estás?", "source_language": "es", "dest_language": "fr" });
    assert_eq!(translate(&mut susan, &token, to_french).await.status, 200);
    assert_eq!(service.seen().len(), 2);
}

#[actix_web::test]
async fn each_user_and_the_whole_site_have_a_daily_budget_of_characters_and_are_told_why() {
    let service = FakeService::start(Behaviour::Libre);
    let app = spawn_app_with(&[
        ("LIBRETRANSLATE_URL", service.url.as_str()),
        ("TRANSLATE_USER_DAILY_CHARS", "30"),
        ("TRANSLATE_SITE_DAILY_CHARS", "50"),
    ])
    .await;
    let (mut susan, token) = user(&app).await;
    let text = |c: &str, n: usize| json!({ "text": c.repeat(n), "source_language": "en", "dest_language": "es" });
    let characters_sent = || -> usize {
        service
            .seen()
            .iter()
            .map(|s| s.body["q"].as_str().unwrap().chars().count())
            .sum()
    };

    assert_eq!(
        text_of(&translate(&mut susan, &token, text("a", 20)).await),
        "A".repeat(20)
    );
    let over = translate(&mut susan, &token, text("b", 20)).await;
    assert_eq!(over.status, 429, "{}", over.body);
    assert!(
        over.body
            .contains("today's translation allowance (30 characters)"),
        "{}",
        over.body
    );
    assert!(over.header("retry-after").is_some());
    assert_eq!(
        text_of(&translate(&mut susan, &token, text("a", 20)).await),
        "A".repeat(20),
        "the cache is free"
    );

    let mut john = app.logged_in("john", false).await;
    let johns = john.get("/index").await.csrf_token().unwrap();
    assert_eq!(
        translate(&mut john, &johns, text("c", 25)).await.status,
        200
    );
    let site = translate(&mut john, &johns, text("d", 10)).await;
    assert_eq!(site.status, 429, "{}", site.body);
    assert!(
        site.body
            .contains("The site has used up today's translations"),
        "{}",
        site.body
    );
    assert_eq!(characters_sent(), 45, "nothing refused reached the service");
}

#[actix_web::test]
async fn a_failing_service_uses_up_no_budget() {
    let service = FakeService::start(Behaviour::Broken);
    let app = spawn_app_with(&[
        ("LIBRETRANSLATE_URL", service.url.as_str()),
        ("TRANSLATE_USER_DAILY_CHARS", "30"),
    ])
    .await;
    let (mut susan, token) = user(&app).await;
    let text = json!({ "text": "a".repeat(20), "source_language": "en", "dest_language": "es" });
    // Twenty characters, three times: more than the day's thirty, had the failures counted.
    for _ in 0..3 {
        let res = translate(&mut susan, &token, text.clone()).await;
        assert_eq!(text_of(&res), "Error: the translation service failed.");
    }
    assert_eq!(service.seen().len(), 3);
}
