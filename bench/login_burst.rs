//! `cargo bench --bench login_burst`: two claims about logins, measured in one run.
//!
//! 1. Page views write nothing: SQLite's `data_version` and the WAL file do not change while a
//!    logged-in user views thousands of pages.
//! 2. bcrypt runs off the async threads and at most on half the cores, so a burst of 32
//!    concurrent logins at the production cost (12) leaves `/index` latency close to its quiet
//!    value. Printed as a ratio, which holds on a noisy machine where absolute times do not.
//! 3. A flood of sign-ups cannot hold up a login: during 500 sign-ups at once from one address
//!    (`POST /api/users`, each a new bcrypt hash), a right login from that address answers
//!    within 2 s, since password checks go before new hashes and new hashes wait in a bounded
//!    queue (past it, a 503).
//!
//! The app runs in this process (its own worker threads); the load comes from this thread.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, TcpListener};
use std::time::{Duration, Instant};

use actix_web::http::header;
use diesel::RunQueryDsl;
use diesel::sql_types::BigInt;
use microblog::app::Application;
use microblog::config::Config;
use microblog::db::Db;
use microblog::models::{self, post, user};
use microblog::password::Hasher;

const PASSWORD: &str = "correct horse battery";
const READERS: usize = 4;
const LOGIN_CLIENTS: usize = 32;
const PHASE: Duration = Duration::from_secs(6);
const PAGE_VIEWS: usize = 2_000;
const FLOOD: usize = 500;

#[derive(diesel::QueryableByName)]
struct Version {
    #[diesel(sql_type = BigInt)]
    data_version: i64,
}

fn data_version(db: &Db) -> i64 {
    let mut conn = db.get().expect("connection");
    diesel::sql_query("PRAGMA data_version")
        .get_result::<Version>(&mut *conn)
        .expect("data_version")
        .data_version
}

/// A client whose connections come from `source`, so the server sees a separate address.
fn client_from(source: IpAddr) -> awc::Client {
    awc::Client::builder()
        .disable_redirects()
        .connector(awc::Connector::new().local_address(source))
        .timeout(Duration::from_secs(60))
        .finish()
}

fn session_cookie(res: &awc::ClientResponse<impl Sized>) -> Option<String> {
    res.headers()
        .get_all(header::SET_COOKIE)
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("session="))
        .map(|v| v.split(';').next().unwrap_or_default().to_owned())
}

fn csrf_token(body: &str) -> String {
    let marker = "name=\"csrf_token\" value=\"";
    let start = body.find(marker).expect("a form") + marker.len();
    body[start..start + 64].to_owned()
}

/// Logs in through the real form; returns the session cookie.
async fn login(client: &awc::Client, base: &str, username: &str) -> Option<String> {
    let mut form = client.get(format!("{base}/auth/login")).send().await.ok()?;
    let cookie = session_cookie(&form)?;
    let body = form.body().await.ok()?;
    let token = csrf_token(&String::from_utf8_lossy(&body));
    let res = client
        .post(format!("{base}/auth/login"))
        .insert_header((header::COOKIE, cookie))
        .send_form(&[
            ("csrf_token", token.as_str()),
            ("username", username),
            ("password", PASSWORD),
        ])
        .await
        .ok()?;
    (res.status() == 302 && res.headers().get(header::LOCATION)?.to_str().ok()? == "/index")
        .then(|| session_cookie(&res))
        .flatten()
}

/// GETs `/index` until `until`; returns each request's latency.
async fn read_index(
    client: awc::Client,
    url: String,
    cookie: String,
    until: Instant,
) -> Vec<Duration> {
    let mut latencies = Vec::new();
    while Instant::now() < until {
        let start = Instant::now();
        let mut res = client
            .get(&url)
            .insert_header((header::COOKIE, cookie.clone()))
            .send()
            .await
            .expect("GET /index");
        let body = res.body().limit(1 << 22).await.expect("body");
        assert_eq!(res.status(), 200, "{}", String::from_utf8_lossy(&body));
        latencies.push(start.elapsed());
    }
    latencies
}

struct Summary {
    requests: usize,
    per_second: f64,
    p50: Duration,
    p99: Duration,
}

fn summarize(mut latencies: Vec<Duration>, over: Duration) -> Summary {
    latencies.sort();
    let at = |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)];
    Summary {
        requests: latencies.len(),
        per_second: latencies.len() as f64 / over.as_secs_f64(),
        p50: at(0.50),
        p99: at(0.99),
    }
}

async fn index_phase(base: &str, cookie: &str, with_logins: bool) -> (Summary, usize) {
    let until = Instant::now() + PHASE;
    let readers: Vec<_> = (0..READERS)
        .map(|_| {
            actix_web::rt::spawn(read_index(
                client_from(IpAddr::V4(Ipv4Addr::LOCALHOST)),
                format!("{base}/index"),
                cookie.to_owned(),
                until,
            ))
        })
        .collect();
    let loggers: Vec<_> = (0..if with_logins { LOGIN_CLIENTS } else { 0 })
        .map(|i| {
            let base = base.to_owned();
            actix_web::rt::spawn(async move {
                // Each login client is its own browser on its own address, as in a classroom.
                let client = client_from(IpAddr::V4(Ipv4Addr::new(127, 0, 1, i as u8 + 1)));
                let mut done = 0;
                while Instant::now() < until {
                    if login(&client, &base, &format!("student{i}"))
                        .await
                        .is_some()
                    {
                        done += 1;
                    }
                }
                done
            })
        })
        .collect();
    let mut latencies = Vec::new();
    for reader in readers {
        latencies.extend(reader.await.expect("reader"));
    }
    let mut logins = 0;
    for logger in loggers {
        logins += logger.await.expect("login client");
    }
    (summarize(latencies, PHASE), logins)
}

fn main() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let db_path = dir.path().join("bench.db");
    let vars: HashMap<String, String> = [
        ("SECRET_KEY", "benchmark-secret-key-0123456789abcdef"),
        ("DATABASE_URL", &format!("sqlite:///{}", db_path.display())),
        ("BCRYPT_COST", "12"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let config = Config::from_vars(&vars, &dir.path().join("instance"))?;
    let cost = config.bcrypt_cost;

    actix_web::rt::System::new().block_on(async move {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let app = Application::build_on(config.clone(), listener)?;
        let base = format!("http://127.0.0.1:{}", app.port());
        let handle = app.handle();
        let server = actix_web::rt::spawn(app.run_until_stopped());

        // Seed: a reader with 100 posts and 32 students, all with the same password.
        let db = Db::connect(&config.database_url)?;
        let hash = Hasher::new(cost).hash(PASSWORD).await?;
        {
            let mut conn = db.get()?;
            let names: Vec<String> = std::iter::once("reader".to_owned())
                .chain((0..LOGIN_CLIENTS).map(|i| format!("student{i}")))
                .collect();
            for name in &names {
                let email = format!("{name}@example.com");
                let created = user::create(
                    &mut conn,
                    &user::NewUser {
                        username: name,
                        email: &email,
                        password_hash: &hash,
                        last_seen: models::now(),
                        about_me: None,
                    },
                )?;
                anyhow::ensure!(created.is_some(), "{name} was already there");
            }
            let reader = user::find_by_username(&mut conn, "reader")?.expect("reader");
            for i in 0..100 {
                let body = format!("post number {i}");
                post::create(
                    &mut conn,
                    &post::NewPost {
                        body: &body,
                        timestamp: models::now(),
                        user_id: reader.id,
                        language: Some("en"),
                    },
                )?;
            }
        }
        // The posts go into SQLite's search index now, not in the background during the views.
        microblog::search::catch_up(&mut *db.get()?)?;
        let local = client_from(IpAddr::V4(Ipv4Addr::LOCALHOST));
        let cookie = login(&local, &base, "reader").await.expect("reader logs in");

        // 1. Page views write nothing.
        let wal = db_path.with_extension("db-wal");
        let wal_size = || std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
        let (version_before, wal_before) = (data_version(&db), wal_size());
        let start = Instant::now();
        for i in 0..PAGE_VIEWS {
            let path = ["/index", "/explore", "/index?page=2", "/auth/sessions"][i % 4];
            let mut res = local
                .get(format!("{base}{path}"))
                .insert_header((header::COOKIE, cookie.clone()))
                .send()
                .await
                .expect("page view");
            res.body().limit(1 << 22).await.expect("body");
        }
        let views_elapsed = start.elapsed();
        let (version_after, wal_after) = (data_version(&db), wal_size());
        let writes_ok = version_before == version_after && wal_before == wal_after;

        // 2. /index alone, then /index during a burst of logins.
        let (quiet, _) = index_phase(&base, &cookie, false).await;
        let (burst, logins) = index_phase(&base, &cookie, true).await;

        // 3. A login during a flood of sign-ups.
        let flooder = awc::Client::builder()
            .connector(awc::Connector::new().limit(0))
            .timeout(Duration::from_secs(600))
            .finish();
        let flood = futures_util::future::join_all((0..FLOOD).map(|i| {
            let (flooder, url) = (flooder.clone(), format!("{base}/api/users"));
            async move {
                let name = format!("flood{i}");
                let body = serde_json::json!({
                    "username": name, "email": format!("{name}@example.com"), "password": PASSWORD,
                });
                flooder.post(url).send_json(&body).await.map(|r| r.status().as_u16()).unwrap_or(0)
            }
        }));
        let timed_login = async {
            // Once the flood is under way.
            actix_web::rt::time::sleep(Duration::from_millis(300)).await;
            let start = Instant::now();
            let logged_in = login(&local, &base, "student0").await.is_some();
            (logged_in, start.elapsed())
        };
        let flood_started = Instant::now();
        let (statuses, (flood_login_ok, flood_login)) =
            futures_util::future::join(flood, timed_login).await;
        let flood_took = flood_started.elapsed();
        let created = statuses.iter().filter(|&&s| s == 201).count();
        let busy = statuses.iter().filter(|&&s| s == 503).count();

        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        let p99_ratio = burst.p99.as_secs_f64() / quiet.p99.as_secs_f64();
        println!("## login_burst ({} cores, bcrypt cost {cost})\n", std::thread::available_parallelism().map_or(1, usize::from));
        println!("| measure | value |\n|---|---|");
        println!(
            "| page views, sequential | {PAGE_VIEWS} in {:.2} s |",
            views_elapsed.as_secs_f64()
        );
        println!(
            "| database writes during them | data_version {version_before} -> {version_after}, WAL {wal_before} -> {wal_after} bytes: {} |",
            if writes_ok { "none" } else { "WRITES SEEN" }
        );
        println!(
            "| /index quiet ({READERS} clients) | {:.0} req/s, p50 {:.2} ms, p99 {:.2} ms ({} requests) |",
            quiet.per_second, ms(quiet.p50), ms(quiet.p99), quiet.requests
        );
        println!(
            "| /index during {LOGIN_CLIENTS} concurrent logins | {:.0} req/s, p50 {:.2} ms, p99 {:.2} ms ({} requests) |",
            burst.per_second, ms(burst.p50), ms(burst.p99), burst.requests
        );
        println!("| logins completed in {} s | {logins} |", PHASE.as_secs());
        println!("| /index p99 during logins / quiet | {p99_ratio:.2}x |");
        println!(
            "| {FLOOD} sign-ups at once | {created} created, {busy} refused (503), others failed: {}, in {:.1} s |",
            FLOOD - created - busy,
            flood_took.as_secs_f64()
        );
        println!(
            "| a right login during them | {} in {:.2} s (target: within 2 s) |",
            if flood_login_ok { "logged in" } else { "FAILED" },
            flood_login.as_secs_f64()
        );

        handle.stop(true).await;
        server.await??;
        anyhow::ensure!(writes_ok, "page views wrote to the database");
        anyhow::ensure!(logins > 0, "no login completed during the burst");
        anyhow::ensure!(flood_login_ok, "the login during the sign-up flood failed");
        Ok(())
    })
}
