//! Chapter 24, federation: one post delivered to 1,000 remote followers on [`SERVERS`] stand-in
//! servers on loopback, timed until the last server has it, and `/index` measured with and
//! without deliveries under way.
//!
//! The stand-ins run in this process: one actix server with one worker thread, listening on
//! [`SERVERS`] ports of 127.0.0.1, each port a server of its own (its host is
//! `127.0.0.1:<port>`). Each serves what the app needs of a server it delivers to: its actors'
//! documents (inbox, shared inbox, public key) and the inboxes. An inbox takes a delivery only
//! as the app's own inbox would: signed over `(request-target) host date digest` for this
//! server's host by the key of the author's actor document, with a `Digest` that is the body's;
//! anything else is counted as refused and answered 401.
//!
//! The 1,000 remote accounts are stored by the app's own code, `Federation::fetch_actor`, which
//! fetches each actor document from its stand-in as the inbox does when a Follow arrives, and
//! follow the author through `actor::follow`, as that Follow does (the Accepts the app would
//! send are left out: they are not what is measured).

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use anyhow::Context as _;
use microblog::federation::signature;

use crate::client::{cookie_header, csrf_token, get, local, login, register};
use crate::load::Stats;
use crate::pages::{ROUNDS, alternately};
use crate::report::Report;
use crate::site::{READER_PASSWORD, Site, free_port, microblog, open_site_with, sqlite_count};

/// Stand-in servers.
const SERVERS: usize = 100;
/// Remote accounts on each stand-in that follow the author.
const FOLLOWERS_PER_SERVER: usize = 10;
/// The local user the remote accounts follow, who publishes.
const AUTHOR: &str = "herald";
/// The longest a post may take to reach every stand-in before the bench gives up.
const GIVE_UP_AFTER: Duration = Duration::from_secs(60);

/// `BENCH_FEDERATION_POST_MS`: how often the author publishes while `/index` is measured with
/// deliveries under way. The first post goes at once, so by default (a minute, longer than a
/// round) each round measures one post's deliveries, the target's case; `500` keeps posts
/// going out all round, 200 deliveries a second, to see the limit.
fn post_every() -> Duration {
    let ms = std::env::var("BENCH_FEDERATION_POST_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(60_000);
    Duration::from_millis(ms)
}

/// `BENCH_FEDERATION=0` leaves this part out.
pub fn wanted() -> bool {
    std::env::var("BENCH_FEDERATION").map_or(true, |v| v != "0")
}

/// The part: stand-ins, the federating site on `db` (seeded), 1,000 followers, three posts
/// each timed to the last stand-in, then `/index` quiet and while the author posts.
pub async fn deliveries(report: &mut Report, work: &Path, db: &Path) -> anyhow::Result<()> {
    let started = Instant::now();
    // One key pair for every stand-in actor: made once, the slow part of a stand-in.
    let keys = signature::generate()?;
    let stand_ins = StandIns::start(keys.public_pem)?;

    let port = free_port();
    let server_name = format!("127.0.0.1:{port}");
    let mut command = microblog(work, db, port, 4);
    command
        .env("FEDERATION", "1")
        .env("FEDERATION_ALLOW_PRIVATE", "1")
        .env("SERVER_NAME", &server_name);
    let site = open_site_with(command, port, true).await?;
    let author = Author::register(&site).await?;

    // The author's actor, as a follower's server fetches it: this makes the author's key pair,
    // and gives the stand-ins the key that must verify each delivery.
    let actor = author_actor(&site.server.base).await?;
    let key_id = actor["publicKey"]["id"].as_str().context("no key id")?;
    let pem = actor["publicKey"]["publicKeyPem"]
        .as_str()
        .context("no public key")?;
    stand_ins
        .shared
        .sender
        .set((key_id.to_owned(), pem.to_owned()))
        .map_err(|_| anyhow::anyhow!("the sender's key was set twice"))?;

    let seeded = Instant::now();
    let followers = seed_followers(db, &server_name, &stand_ins.ports).await?;
    report.line(format!(
        "| federation: {followers} remote followers on {SERVERS} stand-in servers, stored by the app's fetch_actor and follow | {:.1} s |",
        seeded.elapsed().as_secs_f64()
    ));

    // One post at a time, each timed until every stand-in has it.
    let mut times = Vec::new();
    for n in 0..3 {
        times.push(
            author
                .deliver_one(&stand_ins, &format!("to all {n}"))
                .await?,
        );
    }
    wait_for_jobs(db).await?;
    let delivered = stand_ins.shared.total();
    let personal = stand_ins.shared.personal.load(Ordering::Relaxed);
    let refused = stand_ins.shared.refused.load(Ordering::Relaxed);
    let first = times[0];
    report.line(format!(
        "| federation: one post to {followers} followers on {SERVERS} servers, until the last server has it (three posts) | {} ms; {delivered} deliveries for 3 posts, {personal} to a follower's own inbox, {refused} refused |",
        times
            .iter()
            .map(|t| format!("{:.0}", t.as_secs_f64() * 1e3))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    report.targets.push((
        format!("one post to {followers} remote followers on {SERVERS} servers: at every server"),
        format!("{:.2} s", first.as_secs_f64()),
        first <= Duration::from_secs(5)
            && delivered == 3 * SERVERS
            && personal == 0
            && refused == 0,
        "within 5 s, once per server (shared inbox), none refused",
    ));

    // `/index` for the reader (who does not follow the author), quiet and while the author
    // publishes every `post_every()`, measured alternately as pages.rs measures.
    let every = post_every();
    let busy_posts = std::cell::Cell::new(0);
    let busy_deliveries = std::cell::Cell::new(0);
    let (quiet, busy) = alternately(
        || site.load_as_reader("/index", &[]),
        || async {
            let before = stand_ins.shared.total();
            let (stats, posts) = while_posting(&site, &author, every).await;
            busy_posts.set(busy_posts.get() + posts);
            busy_deliveries.set(busy_deliveries.get() + stand_ins.shared.total() - before);
            stats
        },
    )
    .await;
    wait_for_jobs(db).await?;
    let refused = stand_ins.shared.refused.load(Ordering::Relaxed);
    report.line(format!(
        "| GET /index, federating, no deliveries, median of {ROUNDS} | {} |",
        quiet.row()
    ));
    report.line(format!(
        "| GET /index, federating, while a post goes to {followers} followers every {} ms ({} posts, {} deliveries in {ROUNDS} rounds), median of {ROUNDS} | {} |",
        every.as_millis(),
        busy_posts.get(),
        busy_deliveries.get(),
        busy.row()
    ));
    let share = busy.per_second / quiet.per_second;
    report.targets.push((
        "/index throughput while posts are delivered / without".to_owned(),
        format!("{:.0}%", share * 100.0),
        share >= 0.9 && refused == 0,
        "at least 90%",
    ));
    report.line(format!(
        "| federation part, in all | {:.1} s |",
        started.elapsed().as_secs_f64()
    ));
    drop(site);
    stand_ins.stop().await;
    Ok(())
}

/// `/index` as the reader under load while the author publishes every `every` (the first at
/// once); the stats and how many posts were published.
async fn while_posting(site: &Site, author: &Author, every: Duration) -> (Stats, usize) {
    let (stop, mut stopped) = tokio::sync::oneshot::channel::<()>();
    let posts = Arc::new(AtomicUsize::new(0));
    let poster = {
        let (posts, author) = (posts.clone(), author.clone());
        actix_web::rt::spawn(async move {
            let mut tick = actix_web::rt::time::interval(every);
            loop {
                // Stop at once when the reading ends, not at the next tick.
                tokio::select! {
                    _ = &mut stopped => break,
                    _ = tick.tick() => {}
                }
                let n = posts.fetch_add(1, Ordering::Relaxed);
                if let Err(e) = author.publish(&format!("while reading {n}")).await {
                    eprintln!("federation: publishing failed: {e}");
                }
            }
        })
    };
    let stats = site.load_as_reader("/index", &[]).await;
    let _ = stop.send(());
    let _ = poster.await;
    (stats, posts.load(Ordering::Relaxed))
}

/// The author, logged in, with what the post form needs.
#[derive(Clone)]
struct Author {
    c: awc::Client,
    base: String,
    cookie: String,
    token: String,
}

impl Author {
    async fn register(site: &Site) -> anyhow::Result<Self> {
        let (c, base) = (local(), site.server.base.clone());
        let status = register(&c, &base, AUTHOR, READER_PASSWORD).await?;
        anyhow::ensure!(status == 302, "registering {AUTHOR} failed ({status})");
        let mut jar = login(&c, &base, AUTHOR, READER_PASSWORD).await?;
        let (_, body) = get(&c, &base, "/index", &mut jar).await?;
        let token = csrf_token(&body).context("no post form on /index")?;
        Ok(Self {
            c,
            base,
            cookie: cookie_header(&jar),
            token,
        })
    }

    /// Publishes `text` through `POST /index`, as a browser does.
    async fn publish(&self, text: &str) -> anyhow::Result<()> {
        let res = self
            .c
            .post(format!("{}/index", self.base))
            .insert_header((header::COOKIE, self.cookie.as_str()))
            .send_form(&[("csrf_token", self.token.as_str()), ("post", text)])
            .await
            .map_err(|e| anyhow::anyhow!("POST /index: {e}"))?;
        anyhow::ensure!(res.status() == 302, "POST /index: {}", res.status());
        Ok(())
    }

    /// Publishes `text`; the time from sending it until every stand-in has received it.
    async fn deliver_one(&self, stand_ins: &StandIns, text: &str) -> anyhow::Result<Duration> {
        let before: Vec<usize> = stand_ins.shared.counts();
        let started = Instant::now();
        self.publish(text).await?;
        loop {
            let now = stand_ins.shared.counts();
            if now.iter().zip(&before).all(|(n, b)| n > b) {
                return Ok(started.elapsed());
            }
            anyhow::ensure!(
                started.elapsed() < GIVE_UP_AFTER,
                "after {} s, {} of {SERVERS} stand-ins had the post ({} refused)",
                GIVE_UP_AFTER.as_secs(),
                now.iter().zip(&before).filter(|(n, b)| n > b).count(),
                stand_ins.shared.refused.load(Ordering::Relaxed)
            );
            actix_web::rt::time::sleep(Duration::from_millis(1)).await;
        }
    }
}

/// The author's actor document, as another server asks for it.
async fn author_actor(base: &str) -> anyhow::Result<serde_json::Value> {
    let mut res = local()
        .get(format!("{base}/user/{AUTHOR}"))
        .insert_header((header::ACCEPT, "application/activity+json"))
        .send()
        .await
        .map_err(|e| anyhow::anyhow!("GET the author's actor: {e}"))?;
    anyhow::ensure!(res.status() == 200, "the author's actor: {}", res.status());
    Ok(serde_json::from_slice(&res.body().await?)?)
}

/// Stores [`FOLLOWERS_PER_SERVER`] actors of each stand-in through the app's
/// `Federation::fetch_actor` (each one fetched from its server), and makes each follow the
/// author; how many follow.
async fn seed_followers(db: &Path, server_name: &str, ports: &[u16]) -> anyhow::Result<usize> {
    use microblog::config::{DatabaseUrl, FederationConfig};
    use microblog::federation::Federation;
    let db = microblog::db::Db::connect(&DatabaseUrl::Sqlite(db.to_owned()))?;
    let federation = Federation::new(
        FederationConfig {
            server_name: server_name.to_owned(),
            scheme: "http".to_owned(),
            allow_private: true,
        },
        db.clone(),
        microblog::jobs::Jobs::new(db.clone(), microblog::live::Live::default()),
        vec!["en".to_owned()],
    );
    // The servers side by side, each one's actors one after another.
    let fetched = futures_util::future::join_all(ports.iter().map(|port| {
        let federation = federation.clone();
        async move {
            let mut ids = Vec::new();
            for n in 0..FOLLOWERS_PER_SERVER {
                let uri = format!("http://127.0.0.1:{port}/users/f{n}");
                let (user, _) = federation
                    .fetch_actor(&uri)
                    .await
                    .map_err(|e| anyhow::anyhow!("{uri}: {e}"))?
                    .with_context(|| format!("{uri}: its name is taken"))?;
                ids.push(user.id);
            }
            Ok::<_, anyhow::Error>(ids)
        }
    }))
    .await;
    let followers: Vec<i32> = fetched
        .into_iter()
        .collect::<anyhow::Result<Vec<_>>>()?
        .concat();
    let count = followers.len();
    db.run(move |conn| {
        use diesel::Connection as _;
        let author = microblog::models::user::find_by_username(conn, AUTHOR)?
            .ok_or(diesel::result::Error::NotFound)?;
        conn.transaction(|conn| {
            for follower in followers {
                microblog::models::actor::follow(conn, follower, author.id)?;
            }
            Ok::<_, diesel::result::Error>(())
        })
    })
    .await
    .map_err(|e| anyhow::anyhow!("following the author: {e}"))?;
    Ok(count)
}

/// Waits until the app has no job queued or running (the deliveries are over).
async fn wait_for_jobs(db: &Path) -> anyhow::Result<()> {
    let started = Instant::now();
    while sqlite_count(db, "jobs WHERE state IN ('queued', 'running')")? > 0 {
        anyhow::ensure!(
            started.elapsed() < GIVE_UP_AFTER,
            "the deliveries never ended"
        );
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(())
}

/// What the stand-ins share with the bench.
struct Shared {
    /// The stand-in a local port is.
    index_of: HashMap<u16, usize>,
    /// Deliveries each stand-in took.
    received: Vec<AtomicUsize>,
    /// Deliveries to an actor's own inbox instead of its server's shared one.
    personal: AtomicUsize,
    /// Deliveries refused (unsigned, a wrong digest or signature, another host).
    refused: AtomicUsize,
    /// The public key of every stand-in actor.
    public_pem: String,
    /// The author's key id and public key, which must verify each delivery.
    sender: OnceLock<(String, String)>,
}

impl Shared {
    fn counts(&self) -> Vec<usize> {
        self.received
            .iter()
            .map(|n| n.load(Ordering::Relaxed))
            .collect()
    }

    fn total(&self) -> usize {
        self.counts().iter().sum()
    }
}

/// The stand-in servers, until stopped.
struct StandIns {
    ports: Vec<u16>,
    shared: Arc<Shared>,
    handle: actix_web::dev::ServerHandle,
}

impl StandIns {
    fn start(public_pem: String) -> anyhow::Result<Self> {
        let listeners = (0..SERVERS)
            .map(|_| std::net::TcpListener::bind("127.0.0.1:0"))
            .collect::<std::io::Result<Vec<_>>>()?;
        let ports = listeners
            .iter()
            .map(|l| l.local_addr().map(|a| a.port()))
            .collect::<std::io::Result<Vec<_>>>()?;
        let shared = Arc::new(Shared {
            index_of: ports.iter().enumerate().map(|(i, p)| (*p, i)).collect(),
            received: (0..SERVERS).map(|_| AtomicUsize::new(0)).collect(),
            personal: AtomicUsize::new(0),
            refused: AtomicUsize::new(0),
            public_pem,
            sender: OnceLock::new(),
        });
        let data = web::Data::from(shared.clone());
        let mut server = actix_web::HttpServer::new(move || {
            actix_web::App::new()
                .app_data(data.clone())
                .route("/users/{name}", web::get().to(actor))
                .route("/users/{name}/inbox", web::post().to(inbox))
                .route("/inbox", web::post().to(inbox))
        })
        .workers(1)
        .disable_signals();
        for listener in listeners {
            server = server.listen(listener)?;
        }
        let server = server.run();
        let handle = server.handle();
        actix_web::rt::spawn(server);
        Ok(Self {
            ports,
            shared,
            handle,
        })
    }

    async fn stop(self) {
        self.handle.stop(false).await;
    }
}

/// `host:port` of the stand-in that `req` came to.
fn own_host(req: &HttpRequest) -> String {
    format!("127.0.0.1:{}", req.app_config().local_addr().port())
}

/// An actor of a stand-in: a Person with its inbox, its server's shared inbox and its key.
async fn actor(
    req: HttpRequest,
    name: web::Path<String>,
    shared: web::Data<Shared>,
) -> HttpResponse {
    let base = format!("http://{}", own_host(&req));
    let id = format!("{base}/users/{name}");
    HttpResponse::Ok()
        .content_type("application/activity+json")
        .json(serde_json::json!({
            "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
            "id": id,
            "type": "Person",
            "preferredUsername": name.as_str(),
            "inbox": format!("{id}/inbox"),
            "endpoints": { "sharedInbox": format!("{base}/inbox") },
            "publicKey": {
                "id": format!("{id}#main-key"),
                "owner": id,
                "publicKeyPem": shared.public_pem,
            },
        }))
}

/// An inbox of a stand-in: 202 for a delivery signed as the app's inbox requires, else 401.
async fn inbox(req: HttpRequest, body: web::Bytes, shared: web::Data<Shared>) -> HttpResponse {
    let Some(&index) = shared.index_of.get(&req.app_config().local_addr().port()) else {
        return HttpResponse::NotFound().finish();
    };
    match check(&req, &body, &shared) {
        Ok(()) => {
            shared.received[index].fetch_add(1, Ordering::Relaxed);
            if req.path() != "/inbox" {
                shared.personal.fetch_add(1, Ordering::Relaxed);
            }
            HttpResponse::Accepted().finish()
        }
        Err(why) => {
            shared.refused.fetch_add(1, Ordering::Relaxed);
            eprintln!("federation: a stand-in refused a delivery: {why}");
            HttpResponse::Unauthorized().body(why)
        }
    }
}

/// Whether a delivery is signed by the author for this stand-in, over a `Digest` of its body.
fn check(req: &HttpRequest, body: &[u8], shared: &Shared) -> Result<(), String> {
    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
    let value = header("signature").ok_or("no Signature header")?;
    let parsed = signature::SignatureHeader::parse(value).map_err(|e| e.to_string())?;
    for name in ["(request-target)", "host", "date", "digest"] {
        parsed.covers(name).map_err(|e| e.to_string())?;
    }
    if !header("digest").is_some_and(|d| signature::digest_matches(d, body)) {
        return Err("the Digest does not match the body".into());
    }
    if header("host") != Some(own_host(req).as_str()) {
        return Err("signed for another host".into());
    }
    let (key_id, pem) = shared.sender.get().ok_or("no sender key yet")?;
    if &parsed.key_id != key_id {
        return Err(format!("signed by {}, not the author", parsed.key_id));
    }
    let target = req.uri().path_and_query().map_or("/", |p| p.as_str());
    let signed = signature::signing_string(&parsed.headers, "post", target, header)
        .map_err(|e| e.to_string())?;
    signature::verify(pem, &signed, &parsed.signature).map_err(|e| e.to_string())?;
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .filter(|a| a["type"] == "Create" && a["object"]["type"] == "Note")
        .map(drop)
        .ok_or_else(|| "not a Create of a Note".to_owned())
}
