//! `cargo bench --bench perf`: speed, scale and memory of the release binary, each against
//! its target (`docs/performance.md`).
//!
//! Seeds a small (10k posts) and a large (1M posts) SQLite database with `microblog seed`, starts
//! the release binary on each as a separate process, and drives it from this process with
//! `CONCURRENCY` keep-alive clients. Prints a Markdown table (and writes it to
//! `bench/results/perf.md`); every target is a ratio measured in this one run.
//!
//! The reference for the first target is this same executable run as `perf reference-server`:
//! a minimal page of the same shape as `/index` (actix-web, a cookie session read, one Diesel
//! query of 25 posts joined with their authors, a Tera 2 template with inheritance). Its query
//! is the one `/index` runs, the reader's timeline, so the ratio measures what the app adds
//! around it (login check, layout, CSRF, headers); `/everyone` does the same for `/explore`.
//!
//! `BENCH_LARGE_POSTS` (default 1000000) and `BENCH_SECONDS` (default 5) shorten a run;
//! `BENCH_SOAK_SECONDS=600` adds ten minutes of steady mixed load at the end (zero 5xx, flat
//! memory). `BENCH_POSTGRES_URL=postgresql://user:pass@host/db` (a user who may create databases)
//! adds the search phases on PostgreSQL, on a database of the large size made for the run.
//!
//! Chapter 23's phase reads the reader's user through the API with a token, right after
//! `/index`. Chapter 22's phase gives one user 100,000 posts on a database of its own, exports them as a
//! background job and downloads the file, sampling the server's memory all along.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use actix_web::http::header;
use anyhow::Context as _;

// The test suite's SMTP server stands in for a mail server that is up.
#[allow(dead_code)]
#[path = "../tests/http/smtp.rs"]
mod smtp;

const CONCURRENCY: usize = 8;
const LOGIN_CLIENTS: usize = 32;
/// Password reset requests timed for each of the four cases.
const RESET_REQUESTS: usize = 400;
const SEEDED_PASSWORD: &str = "seeded-password";
const READER_PASSWORD: &str = "correct horse battery staple";

fn seconds() -> Duration {
    let s = std::env::var("BENCH_SECONDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    Duration::from_secs(s)
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A server process, killed when dropped.
struct Process {
    child: Child,
    base: String,
    started_in: Duration,
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Process {
    /// Starts `command` and waits for `probe` to answer 200; records how long that took.
    async fn start(mut command: Command, port: u16, probe: &str) -> anyhow::Result<Self> {
        let started = Instant::now();
        let child = command
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .context("starting a server")?;
        let base = format!("http://127.0.0.1:{port}");
        let client = awc::Client::default();
        loop {
            if let Ok(res) = client.get(format!("{base}{probe}")).send().await
                && res.status() == 200
            {
                return Ok(Self {
                    child,
                    base,
                    started_in: started.elapsed(),
                });
            }
            anyhow::ensure!(
                started.elapsed() < Duration::from_secs(60),
                "server did not start"
            );
            actix_web::rt::time::sleep(Duration::from_millis(1)).await;
        }
    }

    /// CPU time (user + system) the server has used so far (Linux).
    fn cpu_time(&self) -> Duration {
        let stat =
            std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap_or_default();
        // Fields after the command name, which is in parentheses and may hold spaces:
        // utime and stime are the 12th and 13th.
        let ticks: u64 = stat
            .rsplit_once(')')
            .map(|(_, rest)| {
                rest.split_whitespace()
                    .skip(11)
                    .take(2)
                    .filter_map(|t| t.parse::<u64>().ok())
                    .sum()
            })
            .unwrap_or(0);
        // SAFETY: sysconf only reads a configuration value.
        let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
        Duration::from_micros(ticks * 1_000_000 / per_second)
    }

    /// Peak and current resident memory of the server, in MiB (Linux).
    fn memory_mib(&self) -> (f64, f64) {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        let field = |name: &str| {
            status
                .lines()
                .find(|l| l.starts_with(name))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
                .map_or(0.0, |kb| kb / 1024.0)
        };
        (field("VmHWM:"), field("VmRSS:"))
    }
}

fn microblog(work: &Path, db: &Path, port: u16, cost: u32) -> Command {
    microblog_on(work, &format!("sqlite:///{}", db.display()), port, cost)
}

/// The binary on any `DATABASE_URL`.
fn microblog_on(work: &Path, url: &str, port: u16, cost: u32) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_microblog"));
    command
        .current_dir(work)
        .env("DATABASE_URL", url)
        .env("SECRET_KEY", "benchmark-secret-key-0123456789abcdef")
        .env("PORT", port.to_string())
        .env("BCRYPT_COST", cost.to_string())
        .env("LOG_TO_STDOUT", "1")
        .env("RUST_LOG", "warn");
    command
}

fn seed(work: &Path, db: &Path, users: usize, posts: usize) -> anyhow::Result<Duration> {
    seed_on(work, &format!("sqlite:///{}", db.display()), users, posts)
}

fn seed_on(work: &Path, url: &str, users: usize, posts: usize) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let status = microblog_on(work, url, 0, 12)
        .args([
            "seed",
            "--users",
            &users.to_string(),
            "--posts",
            &posts.to_string(),
        ])
        .args([
            "--follows",
            &(users * 10).to_string(),
            "--password",
            SEEDED_PASSWORD,
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()?;
    anyhow::ensure!(status.success(), "seeding failed");
    Ok(started.elapsed())
}

fn client(source: IpAddr) -> awc::Client {
    awc::Client::builder()
        .disable_redirects()
        .connector(
            awc::Connector::new()
                .local_address(source)
                .limit(LOGIN_CLIENTS * 2),
        )
        .timeout(Duration::from_secs(60))
        .finish()
}

fn local() -> awc::Client {
    client(IpAddr::V4(Ipv4Addr::LOCALHOST))
}

/// The cookies a response sets, as a `Cookie` header value merged into `jar`.
fn keep_cookies(jar: &mut HashMap<String, String>, res: &awc::ClientResponse<impl Sized>) {
    for value in res.headers().get_all(header::SET_COOKIE) {
        if let Some((pair, _)) = value.to_str().unwrap_or_default().split_once(';')
            && let Some((name, value)) = pair.split_once('=')
        {
            jar.insert(name.to_owned(), value.to_owned());
        }
    }
}

fn cookie_header(jar: &HashMap<String, String>) -> String {
    jar.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("; ")
}

fn csrf_token(body: &str) -> Option<String> {
    let marker = "name=\"csrf_token\" value=\"";
    let start = body.find(marker)? + marker.len();
    body.get(start..start + 64).map(str::to_owned)
}

/// GET with cookies; returns the status and body, keeping new cookies.
async fn get(
    c: &awc::Client,
    base: &str,
    path: &str,
    jar: &mut HashMap<String, String>,
) -> anyhow::Result<(u16, String)> {
    let mut res = c
        .get(format!("{base}{path}"))
        .insert_header((header::COOKIE, cookie_header(jar)))
        .send()
        .await
        .map_err(|e| anyhow::anyhow!("GET {path}: {e}"))?;
    keep_cookies(jar, &res);
    let body = res.body().limit(1 << 22).await?;
    Ok((
        res.status().as_u16(),
        String::from_utf8_lossy(&body).into_owned(),
    ))
}

/// Opens `form_page`, posts `fields` with its CSRF token to `action`; returns status, location.
async fn submit(
    c: &awc::Client,
    base: &str,
    jar: &mut HashMap<String, String>,
    form_page: &str,
    action: &str,
    fields: &[(&str, &str)],
) -> anyhow::Result<(u16, String)> {
    let (_, body) = get(c, base, form_page, jar).await?;
    let token = csrf_token(&body).context("no form")?;
    let mut all = vec![("csrf_token", token.as_str())];
    all.extend_from_slice(fields);
    let res = c
        .post(format!("{base}{action}"))
        .insert_header((header::COOKIE, cookie_header(jar)))
        .send_form(&all)
        .await
        .map_err(|e| anyhow::anyhow!("POST {action}: {e}"))?;
    keep_cookies(jar, &res);
    let location = res
        .headers()
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    Ok((res.status().as_u16(), location))
}

async fn login(
    c: &awc::Client,
    base: &str,
    username: &str,
    password: &str,
) -> anyhow::Result<HashMap<String, String>> {
    let mut jar = HashMap::new();
    let (status, location) = submit(
        c,
        base,
        &mut jar,
        "/auth/login",
        "/auth/login",
        &[("username", username), ("password", password)],
    )
    .await?;
    anyhow::ensure!(
        status == 302 && location == "/index",
        "login of {username} failed"
    );
    Ok(jar)
}

struct Stats {
    requests: usize,
    errors: usize,
    per_second: f64,
    p50: Duration,
    p99: Duration,
    /// The server's CPU time per successful request (GET phases): unlike requests per second,
    /// it hardly moves when other work shares the cores.
    server_cpu: Option<Duration>,
}

impl Stats {
    fn row(&self) -> String {
        let cpu = self
            .server_cpu
            .map(|c| format!(", server CPU {:.0} µs/request", c.as_secs_f64() * 1e6))
            .unwrap_or_default();
        format!(
            "{:.0} req/s, p50 {:.2} ms, p99 {:.2} ms{cpu} ({} requests, {} errors)",
            self.per_second,
            self.p50.as_secs_f64() * 1e3,
            self.p99.as_secs_f64() * 1e3,
            self.requests,
            self.errors
        )
    }
}

/// `CONCURRENCY` clients send `make()` back to back for `seconds()`; counts only `expected`.
async fn load<F, Fut>(make: F, expected: u16) -> Stats
where
    F: Fn(usize) -> Fut + Clone + 'static,
    Fut: std::future::Future<Output = anyhow::Result<u16>> + 'static,
{
    let until = Instant::now() + seconds();
    let tasks: Vec<_> = (0..CONCURRENCY)
        .map(|worker| {
            let make = make.clone();
            actix_web::rt::spawn(async move {
                let (mut latencies, mut errors, mut n) = (Vec::new(), 0, 0);
                while Instant::now() < until {
                    let start = Instant::now();
                    match make(worker * 1_000_000 + n).await {
                        Ok(status) if status == expected => latencies.push(start.elapsed()),
                        _ => errors += 1,
                    }
                    n += 1;
                }
                (latencies, errors)
            })
        })
        .collect();
    summarize(tasks).await
}

/// Latencies of the successful requests and the number of failures, from each load task.
type TaskResult = (Vec<Duration>, usize);

async fn summarize(tasks: Vec<actix_web::rt::task::JoinHandle<TaskResult>>) -> Stats {
    let (mut all, mut errors) = (Vec::new(), 0);
    for task in tasks {
        let (latencies, e) = task.await.expect("load task");
        all.extend(latencies);
        errors += e;
    }
    all.sort();
    let at = |q: f64| {
        all.get(((all.len() as f64 * q) as usize).min(all.len().saturating_sub(1)))
            .copied()
            .unwrap_or_default()
    };
    Stats {
        requests: all.len(),
        errors,
        per_second: all.len() as f64 / seconds().as_secs_f64(),
        p50: at(0.5),
        p99: at(0.99),
        server_cpu: None,
    }
}

/// GET `path` with `headers` under load: `CONCURRENCY` keep-alive connections, each sending the
/// next request as soon as the last answer is read, for `seconds()`; counts only 200s.
///
/// The requests are written and read by hand ([`RawGet`]) rather than with awc. The load
/// generator shares the two cores with the server, so its own cost is in every figure. With
/// awc, one run put `/index` (20 kB) at 29% of its reference page (4 kB); with this client, 41%,
/// nearer the ~50% wrk shows: the bench should measure the server, as a load generator on
/// another machine would.
async fn load_get(server: &Process, path: &str, headers: &[(&str, &str)]) -> Stats {
    let addr = server.base.trim_start_matches("http://").to_owned();
    let mut request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    let until = Instant::now() + seconds();
    let tasks = (0..CONCURRENCY)
        .map(|_| {
            let (addr, request) = (addr.clone(), request.clone());
            actix_web::rt::spawn(async move {
                let (mut latencies, mut errors) = (Vec::new(), 0);
                let mut conn: Option<RawGet> = None;
                while Instant::now() < until {
                    let start = Instant::now();
                    if conn.is_none() {
                        conn = RawGet::connect(&addr).await.ok();
                    }
                    let answer = match conn.as_mut() {
                        Some(c) => c.get(request.as_bytes()).await,
                        None => Err(anyhow::anyhow!("cannot connect")),
                    };
                    match answer {
                        Ok(200) => latencies.push(start.elapsed()),
                        Ok(_) => errors += 1,
                        Err(_) => {
                            errors += 1;
                            conn = None;
                        }
                    }
                }
                (latencies, errors)
            })
        })
        .collect();
    let cpu_before = server.cpu_time();
    let mut stats = summarize(tasks).await;
    let used = server.cpu_time().saturating_sub(cpu_before);
    stats.server_cpu = (stats.requests > 0).then(|| used / stats.requests as u32);
    stats
}

/// One keep-alive HTTP/1.1 connection that sends a fixed GET and reads the answer: the status
/// line, the headers up to the blank line, and the body: `Content-Length` bytes, or chunks up
/// to the last, empty one (compressed pages are chunked).
struct RawGet {
    stream: actix_web::rt::net::TcpStream,
    buffer: Vec<u8>,
}

impl RawGet {
    async fn connect(addr: &str) -> std::io::Result<Self> {
        let stream = actix_web::rt::net::TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok(Self {
            stream,
            buffer: Vec::with_capacity(64 * 1024),
        })
    }

    /// Sends `request`; returns the answer's status once its whole body is read.
    async fn get(&mut self, request: &[u8]) -> anyhow::Result<u16> {
        let mut sent = 0;
        while sent < request.len() {
            self.stream.writable().await?;
            match self.stream.try_write(&request[sent..]) {
                Ok(n) => sent += n,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(e.into()),
            }
        }
        self.buffer.clear();
        let (status, head_end, length) = loop {
            if let Some(end) = self.buffer.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = std::str::from_utf8(&self.buffer[..end])?;
                let status = head
                    .get(9..12)
                    .and_then(|s| s.parse().ok())
                    .context("no status line")?;
                let length: Option<usize> = head.lines().find_map(|l| {
                    let (name, value) = l.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse().ok())?
                });
                break (status, end + 4, length);
            }
            self.read_more().await?;
        };
        match length {
            Some(length) => {
                while self.buffer.len() < head_end + length {
                    self.read_more().await?;
                }
            }
            None => self.read_chunks(head_end).await?,
        }
        Ok(status)
    }

    /// Reads a chunked body that starts at `at`, through its last (empty) chunk.
    async fn read_chunks(&mut self, mut at: usize) -> anyhow::Result<()> {
        loop {
            let line_end = loop {
                if let Some(i) = self.buffer[at..].windows(2).position(|w| w == b"\r\n") {
                    break at + i;
                }
                self.read_more().await?;
            };
            let size = std::str::from_utf8(&self.buffer[at..line_end])?;
            let size = usize::from_str_radix(size.split(';').next().unwrap_or("").trim(), 16)
                .context("bad chunk size")?;
            // The chunk's data and its CRLF; the last chunk is followed by an empty line.
            at = line_end + 2 + size + 2;
            while self.buffer.len() < at {
                self.read_more().await?;
            }
            if size == 0 {
                return Ok(());
            }
        }
    }

    async fn read_more(&mut self) -> anyhow::Result<()> {
        loop {
            self.stream.readable().await?;
            let start = self.buffer.len();
            self.buffer.resize(start + 16 * 1024, 0);
            match self.stream.try_read(&mut self.buffer[start..]) {
                Ok(0) => anyhow::bail!("connection closed"),
                Ok(n) => {
                    self.buffer.truncate(start + n);
                    return Ok(());
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    self.buffer.truncate(start);
                }
                Err(e) => return Err(e.into()),
            }
        }
    }
}

/// A site to measure: a seeded database, the server on it, a logged-in reader who follows ten
/// authors, and the names of seeded users (for profiles and logins).
struct Site {
    server: Process,
    reader: String,
    authors: Vec<String>,
}

impl Site {
    /// `path` under load as the logged-in reader, with `extra` headers besides the cookie.
    async fn load_as_reader(&self, path: &str, extra: &[(&str, &str)]) -> Stats {
        let mut headers = vec![("Cookie", self.reader.as_str())];
        headers.extend_from_slice(extra);
        load_get(&self.server, path, &headers).await
    }

    /// What the reader needs to post: the CSRF token of the `/index` form and the cookies that
    /// go with it.
    async fn post_form(&self) -> anyhow::Result<(String, String)> {
        let mut jar: HashMap<String, String> = self
            .reader
            .split("; ")
            .filter_map(|p| p.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        let (_, body) = get(&local(), &self.server.base, "/index", &mut jar).await?;
        let token = csrf_token(&body).context("no post form on /index")?;
        Ok((token, cookie_header(&jar)))
    }
}

async fn open_site(work: &Path, db: &Path, cost: u32) -> anyhow::Result<Site> {
    open_site_on(work, &format!("sqlite:///{}", db.display()), cost, true).await
}

/// The site over `url`, its reader logged in; with `follow`, following ten authors of /explore.
async fn open_site_on(work: &Path, url: &str, cost: u32, follow: bool) -> anyhow::Result<Site> {
    let port = free_port();
    let server = Process::start(microblog_on(work, url, port, cost), port, "/auth/login").await?;
    let c = local();
    let base = server.base.clone();
    let mut jar = HashMap::new();
    let (status, _) = submit(
        &c,
        &base,
        &mut jar,
        "/auth/register",
        "/auth/register",
        &[
            ("username", "reader"),
            ("email", "reader@example.com"),
            ("password", READER_PASSWORD),
            ("password2", READER_PASSWORD),
        ],
    )
    .await?;
    // 200: the form came back because the reader exists from an earlier phase.
    anyhow::ensure!(
        matches!(status, 200 | 302),
        "registering the reader failed ({status})"
    );
    let mut jar = login(&c, &base, "reader", READER_PASSWORD).await?;
    let mut authors = Vec::new();
    let mut page = 1;
    while follow && authors.len() < LOGIN_CLIENTS + 10 {
        let (_, body) = get(&c, &base, &format!("/explore?page={page}"), &mut jar).await?;
        for piece in body
            .split("class=\"user-popup post-author fw-semibold\" href=\"/user/")
            .skip(1)
        {
            let name = piece.split('"').next().unwrap_or_default().to_owned();
            if !authors.contains(&name) {
                authors.push(name);
            }
        }
        page += 1;
        anyhow::ensure!(page < 50, "not enough authors on /explore");
    }
    for name in authors.iter().take(10) {
        let (status, _) = submit(
            &c,
            &base,
            &mut jar,
            &format!("/user/{name}"),
            &format!("/follow/{name}"),
            &[],
        )
        .await?;
        anyhow::ensure!(status == 302, "following {name} failed");
    }
    // A browser follows the last redirect and shows "You are following ...!" once. Without this
    // visit that message would stay in the session, and every measured page would show it and
    // send a new session cookie.
    get(&c, &base, "/index", &mut jar).await?;
    Ok(Site {
        server,
        reader: cookie_header(&jar),
        authors,
    })
}

struct Soak {
    requests: usize,
    server_errors: usize,
    failures: usize,
    /// Server RSS in MiB, sampled every 10 s.
    rss: Vec<f64>,
}

/// `CONCURRENCY` clients send a mix (timeline, explore, a profile, a post, the anonymous login
/// page) for `length`, while the server's memory is sampled.
async fn soak(site: &Site, length: Duration) -> Soak {
    let until = Instant::now() + length;
    let base = site.server.base.clone();
    let (token, cookie) = site.post_form().await.unwrap_or_default();
    let profile = format!("/user/{}", site.authors[0]);
    let tasks: Vec<_> = (0..CONCURRENCY)
        .map(|worker| {
            let (base, cookie, token, profile) =
                (base.clone(), cookie.clone(), token.clone(), profile.clone());
            actix_web::rt::spawn(async move {
                let c = local();
                let (mut requests, mut server_errors, mut failures) = (0, 0, 0);
                while Instant::now() < until {
                    let kind = (requests + worker) % 5;
                    let sent = match kind {
                        0 => {
                            c.get(format!("{base}/index"))
                                .insert_header((header::COOKIE, cookie.clone()))
                                .send()
                                .await
                        }
                        1 => {
                            c.get(format!("{base}/explore"))
                                .insert_header((header::COOKIE, cookie.clone()))
                                .send()
                                .await
                        }
                        2 => {
                            c.get(format!("{base}{profile}"))
                                .insert_header((header::COOKIE, cookie.clone()))
                                .send()
                                .await
                        }
                        3 => {
                            c.post(format!("{base}/index"))
                                .insert_header((header::COOKIE, cookie.clone()))
                                .send_form(&[("csrf_token", token.as_str()), ("post", "soak")])
                                .await
                        }
                        _ => c.get(format!("{base}/auth/login")).send().await,
                    };
                    requests += 1;
                    match sent {
                        Ok(mut res) => {
                            let _ = res.body().limit(1 << 22).await;
                            if res.status().is_server_error() {
                                server_errors += 1;
                            }
                        }
                        Err(_) => failures += 1,
                    }
                }
                (requests, server_errors, failures)
            })
        })
        .collect();
    let mut rss = vec![site.server.memory_mib().1];
    while Instant::now() < until {
        actix_web::rt::time::sleep(Duration::from_secs(10)).await;
        rss.push(site.server.memory_mib().1);
    }
    let mut soak = Soak {
        requests: 0,
        server_errors: 0,
        failures: 0,
        rss,
    };
    for task in tasks {
        if let Ok((requests, server_errors, failures)) = task.await {
            soak.requests += requests;
            soak.server_errors += server_errors;
            soak.failures += failures;
        }
    }
    soak
}

/// p50 and p99 of the POST of a password reset request, for each case: a user's address or an
/// unknown one, the mail server up or down. The request should tell no case from another.
async fn reset_timing(
    work: &Path,
    db: &Path,
    authors: &[String],
) -> anyhow::Result<Vec<(String, Duration, Duration)>> {
    let sink = smtp::SmtpServer::start();
    let mut servers = Vec::new();
    for (label, mail_port) in [("up", sink.port), ("down", free_port())] {
        let port = free_port();
        let mut command = microblog(work, db, port, 4);
        command
            .env("MAIL_SERVER", "127.0.0.1")
            .env("MAIL_PORT", mail_port.to_string());
        servers.push((label, Process::start(command, port, "/auth/login").await?));
    }
    let mut samples: HashMap<String, Vec<Duration>> = HashMap::new();
    let mut client_number = 0usize;
    // The cases take turns, so whatever else the machine does falls on all of them alike.
    for i in 0..RESET_REQUESTS {
        for (mail, server) in &servers {
            let mut cases = [
                (
                    "a user's",
                    format!("{}@example.com", authors[i % authors.len()]),
                ),
                ("an unknown", format!("nobody{i}@example.com")),
            ];
            if i % 2 == 1 {
                cases.reverse();
            }
            for (whose, email) in cases {
                // Each request from an address of its own: reset requests are throttled per
                // address, as logins are.
                client_number += 1;
                let source = Ipv4Addr::new(
                    127,
                    2 + (client_number / 250) as u8,
                    1 + (client_number % 250) as u8,
                    1,
                );
                let c = client(IpAddr::V4(source));
                let mut jar = HashMap::new();
                let (_, body) =
                    get(&c, &server.base, "/auth/reset_password_request", &mut jar).await?;
                let token = csrf_token(&body).context("no reset form")?;
                let started = Instant::now();
                let res = c
                    .post(format!("{}/auth/reset_password_request", server.base))
                    .insert_header((header::COOKIE, cookie_header(&jar)))
                    .send_form(&[("csrf_token", token.as_str()), ("email", &email)])
                    .await
                    .map_err(|e| anyhow::anyhow!("POST /auth/reset_password_request: {e}"))?;
                let took = started.elapsed();
                anyhow::ensure!(res.status() == 302, "reset request: {}", res.status());
                samples
                    .entry(format!("{whose} address, mail server {mail}"))
                    .or_default()
                    .push(took);
            }
        }
    }
    let mut cases: Vec<_> = samples
        .into_iter()
        .map(|(case, mut times)| {
            times.sort();
            let at = |q: f64| times[((times.len() as f64 * q) as usize).min(times.len() - 1)];
            (case, at(0.5), at(0.99))
        })
        .collect();
    cases.sort();
    Ok(cases)
}

fn sqlite_count(db: &Path, table: &str) -> anyhow::Result<i64> {
    use diesel::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let url = microblog::config::DatabaseUrl::Sqlite(db.to_owned());
    let db = microblog::db::Db::connect(&url)?;
    let mut conn = db.get()?;
    Ok(
        diesel::sql_query(format!("SELECT COUNT(*) AS n FROM {table}"))
            .get_result::<N>(&mut *conn)?
            .n,
    )
}

type Target = (String, String, bool, &'static str);

/// A word the seed never writes, put into a few posts so that a search for it is a rare one.
const RARE_WORD: &str = "zyzzyva";
/// One of the seed's words: in about one post in eight.
const COMMON_WORD: &str = "coffee";

/// Chapter 16: a search for a rare word and for a very common one, page 1 and page 10, each
/// under the benchmark's load, on the site's backend.
async fn search_timing(
    site: &Site,
    backend: &str,
    lines: &mut Vec<String>,
    targets: &mut Vec<Target>,
) -> anyhow::Result<()> {
    let (token, cookies) = site.post_form().await?;
    for i in 0..20 {
        let res = local()
            .post(format!("{}/index", site.server.base))
            .insert_header((header::COOKIE, cookies.as_str()))
            .send_form(&[
                ("csrf_token", token.as_str()),
                ("post", &format!("a {RARE_WORD} was seen, number {i}")),
            ])
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        anyhow::ensure!(res.status().as_u16() == 302, "posting failed");
    }
    for (word, kind) in [(RARE_WORD, "rare"), (COMMON_WORD, "common")] {
        for page in [1, 10] {
            let stats = site
                .load_as_reader(&format!("/search?q={word}&page={page}"), &[])
                .await;
            lines.push(format!(
                "| GET /search, a {kind} word, page {page}, {backend} | {} |",
                stats.row()
            ));
            targets.push((
                format!("/search p99, a {kind} word, page {page}, {backend}"),
                format!("{:.1} ms", stats.p99.as_secs_f64() * 1e3),
                stats.p99 <= Duration::from_millis(50) && stats.errors == 0 && stats.requests > 0,
                "at most 50 ms",
            ));
        }
    }
    Ok(())
}

/// POST /index throughput on a fresh site over `url`.
async fn post_throughput(work: &Path, url: &str) -> anyhow::Result<Stats> {
    post_load(&open_site_on(work, url, 4, false).await?).await
}

/// The reader publishes "bench <n>" posts back to back, from every client.
async fn post_load(site: &Site) -> anyhow::Result<Stats> {
    let token = site.post_form().await?;
    let (c, index) = (local(), format!("{}/index", site.server.base));
    Ok(load(
        move |n| {
            let (c, index, token) = (c.clone(), index.clone(), token.clone());
            async move {
                let res = c
                    .post(index)
                    .insert_header((header::COOKIE, token.1))
                    .send_form(&[
                        ("csrf_token", token.0.as_str()),
                        ("post", &format!("bench {n}")),
                    ])
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                Ok(res.status().as_u16())
            }
        },
        302,
    )
    .await)
}

/// How many live notification streams the chapter 21 phase holds open at once.
const LIVE_STREAMS: usize = 1_000;

/// How many users hold the live streams (the app allows 50 a user).
const LIVE_USERS: usize = 20;

/// Chapter 21: `/index` quiet, then with [`LIVE_STREAMS`] streams of `/notifications/stream`
/// open (one connection each, held by [`LIVE_USERS`] seeded users), and the server's memory
/// with them open.
async fn live_streams(site: &Site, targets: &mut Vec<Target>) -> anyhow::Result<Vec<String>> {
    let mut cookies = Vec::with_capacity(LIVE_USERS);
    for name in site.authors.iter().take(LIVE_USERS) {
        let jar = login(&local(), &site.server.base, name, SEEDED_PASSWORD).await?;
        cookies.push(cookie_header(&jar));
    }
    anyhow::ensure!(
        cookies.len() == LIVE_USERS,
        "not enough authors to hold the streams"
    );
    let quiet = site.load_as_reader("/index", &[]).await;
    let streams = awc::Client::builder()
        .connector(awc::Connector::new().limit(LIVE_STREAMS + 10))
        .timeout(Duration::from_secs(60))
        .finish();
    let url = format!("{}/notifications/stream", site.server.base);
    let mut open = Vec::with_capacity(LIVE_STREAMS);
    for chunk in 0..LIVE_STREAMS / 100 {
        let opening = (0..100).map(|i| {
            streams
                .get(&url)
                .insert_header((
                    header::COOKIE,
                    cookies[(chunk * 100 + i) % LIVE_USERS].as_str(),
                ))
                .send()
        });
        for res in futures_util::future::join_all(opening).await {
            let res = res.map_err(|e| anyhow::anyhow!("opening stream {chunk}: {e}"))?;
            anyhow::ensure!(
                res.status().as_u16() == 200,
                "a stream got {}",
                res.status()
            );
            open.push(res);
        }
    }
    let busy = site.load_as_reader("/index", &[]).await;
    let (_, rss) = site.server.memory_mib();
    drop(open);
    let lines = vec![
        format!("| GET /index, quiet (chapter 21) | {} |", quiet.row()),
        format!(
            "| GET /index with {LIVE_STREAMS} live streams open | {} ; server RSS {rss:.1} MiB |",
            busy.row()
        ),
    ];
    let ratio = busy.p99.as_secs_f64() / quiet.p99.as_secs_f64();
    targets.push((
        format!("/index p99 with {LIVE_STREAMS} live streams / quiet"),
        format!("{ratio:.2}x"),
        ratio <= 1.5,
        "at most 1.5x",
    ));
    targets.push((
        format!("server memory with {LIVE_STREAMS} live streams (RSS)"),
        format!("{rss:.1} MiB"),
        rss < 100.0,
        "under 100 MiB",
    ));
    Ok(lines)
}

/// Chapter 23: `GET /api/users/<id>` of the reader, with a token from `POST /api/tokens`.
async fn api_user_load(site: &Site, db: &Path) -> anyhow::Result<Stats> {
    use base64::Engine as _;
    use diesel::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Id {
        #[diesel(sql_type = diesel::sql_types::Integer)]
        id: i32,
    }
    let credentials =
        base64::engine::general_purpose::STANDARD.encode(format!("reader:{READER_PASSWORD}"));
    let mut res = local()
        .post(format!("{}/api/tokens", site.server.base))
        .insert_header((header::AUTHORIZATION, format!("Basic {credentials}")))
        .send()
        .await
        .map_err(|e| anyhow::anyhow!("POST /api/tokens: {e}"))?;
    anyhow::ensure!(res.status() == 200, "POST /api/tokens: {}", res.status());
    let body: serde_json::Value = serde_json::from_slice(&res.body().await?)?;
    let token = body["token"].as_str().context("no token")?.to_owned();
    let db = microblog::db::Db::connect(&microblog::config::DatabaseUrl::Sqlite(db.to_owned()))?;
    let id = diesel::sql_query("SELECT id FROM users WHERE username = 'reader'")
        .get_result::<Id>(&mut *db.get()?)?
        .id;
    let bearer = format!("Bearer {token}");
    Ok(load_get(
        &site.server,
        &format!("/api/users/{id}"),
        &[("Authorization", &bearer)],
    )
    .await)
}

/// How many posts the chapter 22 phase exports.
const EXPORT_POSTS: u32 = 100_000;

/// Chapter 22: one user with [`EXPORT_POSTS`] posts starts "Export your posts" on a server of
/// its own; the phase waits for the task to end, sampling the server's memory every 10 ms, then
/// downloads the file. The export should take under 10 s with memory flat: the job reads and
/// writes a page at a time, and the download streams its pieces.
async fn export_timing(work: &Path, targets: &mut Vec<Target>) -> anyhow::Result<Vec<String>> {
    use diesel::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Name {
        #[diesel(sql_type = diesel::sql_types::Text)]
        username: String,
    }
    #[derive(diesel::QueryableByName)]
    struct Ended {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        complete: bool,
        #[diesel(sql_type = diesel::sql_types::Bool)]
        failed: bool,
        #[diesel(sql_type = diesel::sql_types::Integer)]
        progress: i32,
    }
    #[derive(diesel::QueryableByName)]
    struct Size {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        size: i64,
    }
    let db_path = work.join("export.db");
    seed(work, &db_path, 10, 0)?;
    let db = microblog::db::Db::connect(&microblog::config::DatabaseUrl::Sqlite(db_path.clone()))?;
    let mut conn = db.get()?;
    let username = diesel::sql_query("SELECT username FROM users ORDER BY id LIMIT 1")
        .get_result::<Name>(&mut *conn)?
        .username;
    // Bodies of the seed's length that differ post to post, all in one transaction.
    sqlite_execute(
        &db_path,
        &format!(
            "BEGIN; WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {EXPORT_POSTS}) \
             INSERT INTO posts (body, timestamp, user_id, language) \
             SELECT 'post number ' || i || ', about coffee, trains and the weather on day ' || (i % 365), \
                    datetime('2026-01-01', '+' || i || ' minutes'), \
                    (SELECT id FROM users WHERE username = '{username}'), 'en' FROM n; COMMIT;"
        ),
    )?;
    let port = free_port();
    let server = Process::start(microblog(work, &db_path, port, 4), port, "/auth/login").await?;
    let c = local();
    let mut jar = login(&c, &server.base, &username, SEEDED_PASSWORD).await?;
    let profile = format!("/user/{username}");
    get(&c, &server.base, &profile, &mut jar).await?;
    let (_, before) = server.memory_mib();
    let started = Instant::now();
    let (status, location) =
        submit(&c, &server.base, &mut jar, &profile, "/export_posts", &[]).await?;
    anyhow::ensure!(
        status == 302 && location == profile,
        "starting the export: {status} to {location}"
    );
    let mut peak = before;
    // Every progress value the polls see: written once a second, a 2 s export shows two or
    // three on its way to 100; written once a post, the polls would see a new one each time.
    let mut seen = Vec::new();
    let ended = loop {
        let (_, rss) = server.memory_mib();
        peak = peak.max(rss);
        let ended = diesel::sql_query(
            "SELECT complete, failed, progress FROM tasks ORDER BY id DESC LIMIT 1",
        )
        .get_result::<Ended>(&mut *conn)?;
        if seen.last() != Some(&ended.progress) {
            seen.push(ended.progress);
        }
        if ended.complete || ended.failed {
            break ended;
        }
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(120),
            "the export did not end in two minutes"
        );
        actix_web::rt::time::sleep(Duration::from_millis(10)).await;
    };
    let took = started.elapsed();
    anyhow::ensure!(ended.complete && !ended.failed, "the export failed");
    let size = diesel::sql_query("SELECT size FROM exports WHERE ready ORDER BY id DESC LIMIT 1")
        .get_result::<Size>(&mut *conn)?
        .size as f64
        / (1 << 20) as f64;

    // The download, read as it arrives: its length is counted, never held.
    let (_, page) = get(&c, &server.base, &profile, &mut jar).await?;
    let marker = "class=\"export-download\" href=\"";
    let at = page.find(marker).context("no download link")? + marker.len();
    let link = &page[at..at + page[at..].find('"').context("an unended link")?];
    let (_, download_before) = server.memory_mib();
    let mut download_peak = download_before;
    let downloading = Instant::now();
    let mut res = c
        .get(format!("{}{link}", server.base))
        .insert_header((header::COOKIE, cookie_header(&jar)))
        .send()
        .await
        .map_err(|e| anyhow::anyhow!("GET {link}: {e}"))?;
    anyhow::ensure!(res.status() == 200, "the download got {}", res.status());
    let mut received = 0usize;
    while let Some(chunk) = futures_util::StreamExt::next(&mut res).await {
        received += chunk
            .map_err(|e| anyhow::anyhow!("reading the download: {e}"))?
            .len();
        let (_, rss) = server.memory_mib();
        download_peak = download_peak.max(rss);
    }
    let download_took = downloading.elapsed();
    let received = received as f64 / (1 << 20) as f64;

    let growth = peak - before;
    let download_growth = download_peak - download_before;
    let lines = vec![
        format!(
            "| export of {}k posts (chapter 22) | {:.2} s, file {size:.1} MiB; server RSS {before:.1} -> peak {peak:.1} MiB |",
            EXPORT_POSTS / 1000,
            took.as_secs_f64()
        ),
        format!(
            "| download of the export | {:.2} s, {received:.1} MiB; server RSS {download_before:.1} -> peak {download_peak:.1} MiB |",
            download_took.as_secs_f64()
        ),
    ];
    targets.push((
        format!(
            "export of {}k posts, start to complete",
            EXPORT_POSTS / 1000
        ),
        format!("{:.2} s", took.as_secs_f64()),
        took < Duration::from_secs(10),
        "under 10 s",
    ));
    let written = seen.iter().filter(|&&p| p > 0 && p < 100).count();
    targets.push((
        "export progress values seen on the way (polled every 10 ms)".to_owned(),
        format!("{written} in {:.2} s", took.as_secs_f64()),
        written as f64 <= took.as_secs_f64().ceil() + 1.0,
        "at most one a second",
    ));
    // Flat: a file held whole would grow the server by at least its size; one page at a time
    // grows it by SQLite's page cache and a page of posts, whatever the file's size.
    for (what, grew) in [("export", growth), ("download", download_growth)] {
        targets.push((
            format!("server memory growth during the {what} / file size"),
            format!("{grew:.1} MiB / {size:.1} MiB"),
            grew < size / 2.0 && (what == "export" || (received - size).abs() < 0.01),
            "under half",
        ));
    }
    Ok(lines)
}

/// Runs SQL on a SQLite file.
fn sqlite_execute(db: &Path, sql: &str) -> anyhow::Result<()> {
    use diesel::Connection as _;
    use diesel::connection::SimpleConnection as _;
    let mut conn = diesel::SqliteConnection::establish(&db.display().to_string())?;
    conn.batch_execute(sql)?;
    Ok(())
}

/// Drops the search index of a SQLite file (its triggers, then its table). Its mark is moved
/// past any post id, so the app finds no post waiting to be indexed.
const SQLITE_DROP_SEARCH: &str = "DROP TRIGGER posts_search_update; DROP TRIGGER posts_search_delete; \
     DROP TABLE posts_search; UPDATE posts_search_mark SET indexed_through = 2147483647;";

/// Chapter 16 on SQLite: the file with and without the index (each compacted), and POST /index
/// on each, measured with, without, with, without.
async fn search_cost_sqlite(
    work: &Path,
    large_db: &Path,
    lines: &mut Vec<String>,
    targets: &mut Vec<Target>,
) -> anyhow::Result<()> {
    let with = work.join("with-search.db");
    let without = work.join("without-search.db");
    sqlite_execute(large_db, &format!("VACUUM INTO '{}'", with.display()))?;
    sqlite_execute(large_db, &format!("VACUUM INTO '{}'", without.display()))?;
    sqlite_execute(&without, SQLITE_DROP_SEARCH)?;
    sqlite_execute(&without, "VACUUM")?;
    let size = |p: &Path| std::fs::metadata(p).map(|m| m.len() as f64 / (1 << 20) as f64);
    let (with_mib, without_mib) = (size(&with)?, size(&without)?);
    lines.push(format!(
        "| SQLite file, compacted: with the search index {with_mib:.1} MiB, without {without_mib:.1} MiB |"
    ));
    targets.push((
        "SQLite file with the search index / without".to_owned(),
        format!("{:.2}x", with_mib / without_mib),
        with_mib / without_mib <= 1.6,
        "at most 1.6x",
    ));
    let url = |p: &Path| format!("sqlite:///{}", p.display());
    let mut rates = (0.0, 0.0);
    for round in 0..2 {
        let a = post_throughput(work, &url(&with)).await?;
        let b = post_throughput(work, &url(&without)).await?;
        lines.push(format!(
            "| POST /index with the index (SQLite, run {}) | {} |",
            round + 1,
            a.row()
        ));
        lines.push(format!(
            "| POST /index without it (SQLite, run {}) | {} |",
            round + 1,
            b.row()
        ));
        rates.0 += a.per_second;
        rates.1 += b.per_second;
    }
    targets.push((
        "POST /index with the search index / without, SQLite".to_owned(),
        format!("{:.0}%", rates.0 / rates.1 * 100.0),
        rates.0 / rates.1 >= 0.8,
        "at least 80%",
    ));
    Ok(())
}

/// Chapter 16 on PostgreSQL, when `BENCH_POSTGRES_URL` names a database the bench may create
/// databases from: a database of the large size, its searches, POST /index with the index, then
/// without it (column and index dropped), and its size with and without (compacted).
async fn search_postgres(
    work: &Path,
    server: &str,
    posts: usize,
    lines: &mut Vec<String>,
    targets: &mut Vec<Target>,
) -> anyhow::Result<()> {
    use diesel::Connection as _;
    use diesel::RunQueryDsl as _;
    use diesel::connection::SimpleConnection as _;
    #[derive(diesel::QueryableByName)]
    struct Size {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        bytes: i64,
    }
    let name = format!("microblog_bench_{}", std::process::id());
    let mut admin = diesel::PgConnection::establish(server)?;
    // Two statements: neither may run inside the transaction a batch of them makes.
    admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name}"))?;
    admin.batch_execute(&format!("CREATE DATABASE {name}"))?;
    let (base, _) = server
        .rsplit_once('/')
        .context("BENCH_POSTGRES_URL has no database")?;
    let url = format!("{base}/{name}");
    let seeded = seed_on(work, &url, posts / 10, posts)?;
    lines.push(format!(
        "| seed PostgreSQL {}k posts | {:.1} s |",
        posts / 1000,
        seeded.as_secs_f64()
    ));
    let site = open_site_on(work, &url, 4, true).await?;
    search_timing(&site, "PostgreSQL", lines, targets).await?;
    drop(site);
    let mut db = diesel::PgConnection::establish(&url)?;
    let size = |db: &mut diesel::PgConnection| -> anyhow::Result<f64> {
        db.batch_execute("VACUUM FULL posts")?;
        let s: Size = diesel::sql_query("SELECT pg_database_size(current_database()) AS bytes")
            .get_result(db)?;
        Ok(s.bytes as f64 / (1 << 20) as f64)
    };
    let with_mib = size(&mut db)?;
    let with = post_throughput(work, &url).await?;
    db.batch_execute("ALTER TABLE posts DROP COLUMN search")?;
    let without_mib = size(&mut db)?;
    let without = post_throughput(work, &url).await?;
    lines.push(format!(
        "| POST /index with the index (PostgreSQL) | {} |",
        with.row()
    ));
    lines.push(format!(
        "| POST /index without it (PostgreSQL) | {} |",
        without.row()
    ));
    lines.push(format!(
        "| PostgreSQL database, compacted: with the search column and index {with_mib:.1} MiB, without {without_mib:.1} MiB |"
    ));
    targets.push((
        "POST /index with the search index / without, PostgreSQL".to_owned(),
        format!("{:.0}%", with.per_second / without.per_second * 100.0),
        with.per_second / without.per_second >= 0.8,
        "at least 80%",
    ));
    targets.push((
        "PostgreSQL database with the search index / without".to_owned(),
        format!("{:.2}x", with_mib / without_mib),
        with_mib / without_mib <= 1.6,
        "at most 1.6x",
    ));
    drop(db);
    admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name}"))?;
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("reference-server") {
        return reference::serve(Path::new(&args[2]), args[3].parse()?);
    }
    actix_web::rt::System::new().block_on(run())
}

async fn run() -> anyhow::Result<()> {
    let large_posts: usize = std::env::var("BENCH_LARGE_POSTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let work = tempfile::tempdir()?;
    let small_db = work.path().join("small.db");
    let large_db = work.path().join("large.db");
    let mut table = String::new();
    let mut targets = Vec::new();
    let mut line = |text: String| {
        println!("{text}");
        let _ = writeln!(table, "{text}");
    };
    line(format!(
        "## perf ({} cores, {} concurrent clients, {} s a phase)\n",
        std::thread::available_parallelism().map_or(1, usize::from),
        CONCURRENCY,
        seconds().as_secs()
    ));
    line("| measure | value |\n|---|---|".to_owned());

    let seeded_small = seed(work.path(), &small_db, 1_000, 10_000)?;
    let seeded_large = seed(work.path(), &large_db, large_posts / 10, large_posts)?;
    line(format!(
        "| seed 1k users / 10k posts | {:.1} s |",
        seeded_small.as_secs_f64()
    ));
    line(format!(
        "| seed {}k users / {}k posts / {}k follows | {:.1} s |",
        large_posts / 10_000,
        large_posts / 1000,
        large_posts / 1000,
        seeded_large.as_secs_f64()
    ));

    // Scale: page 1 of /index and /explore at 10k and at the large size.
    let mut page_costs = HashMap::new();
    let mut small_authors = Vec::new();
    for (label, db) in [("10k", &small_db), ("large", &large_db)] {
        let site = open_site(work.path(), db, 4).await?;
        if small_authors.is_empty() {
            small_authors = site.authors.clone();
        }
        for path in ["/index", "/explore"] {
            let stats = site.load_as_reader(path, &[]).await;
            line(format!("| GET {path} at {label} posts | {} |", stats.row()));
            page_costs.insert((label, path), stats);
        }
    }
    for path in ["/index", "/explore"] {
        let (small, large) = (&page_costs[&("10k", path)], &page_costs[&("large", path)]);
        let ratio = large.p50.as_secs_f64() / small.p50.as_secs_f64();
        targets.push((
            format!("{path} page 1: cost at large / at 10k posts (p50)"),
            format!("{ratio:.2}x"),
            ratio <= 1.5,
            "at most 1.5x",
        ));
    }

    // Password reset requests, on the small database.
    let resets = reset_timing(work.path(), &small_db, &small_authors).await?;
    for (case, p50, p99) in &resets {
        line(format!(
            "| POST /auth/reset_password_request, {case} | p50 {:.2} ms, p99 {:.2} ms |",
            p50.as_secs_f64() * 1e3,
            p99.as_secs_f64() * 1e3
        ));
    }
    let p50 = |case: &str| {
        resets
            .iter()
            .find(|(c, _, _)| c == case)
            .map_or(f64::NAN, |(_, p50, _)| p50.as_secs_f64())
    };
    for mail in ["up", "down"] {
        let (user, unknown) = (
            p50(&format!("a user's address, mail server {mail}")),
            p50(&format!("an unknown address, mail server {mail}")),
        );
        let spread = user.max(unknown) / user.min(unknown);
        targets.push((
            format!("reset request p50, a user's address / an unknown one (mail server {mail})"),
            format!("{spread:.2}x"),
            spread <= 1.25,
            "at most 1.25x either way",
        ));
    }
    let slowest = |mail: &str| {
        p50(&format!("a user's address, mail server {mail}"))
            .max(p50(&format!("an unknown address, mail server {mail}")))
    };
    let (up, down) = (slowest("up"), slowest("down"));
    let spread = up.max(down) / up.min(down);
    targets.push((
        "reset request p50, mail server down / up (the slower case of each)".to_owned(),
        format!("{spread:.2}x"),
        spread <= 1.25,
        "at most 1.25x either way",
    ));

    // Every page at the large size, production bcrypt cost.
    let site = open_site(work.path(), &large_db, 12).await?;
    let base = site.server.base.clone();
    let anonymous = load_get(&site.server, "/auth/login", &[]).await;
    line(format!(
        "| GET /auth/login, anonymous | {} |",
        anonymous.row()
    ));
    // The reference page on the same large database, measured the same way, for the same
    // reader: their timeline (the shape of /index), and everyone's posts (the shape of /explore).
    // It runs beside the app (each idles while the other is measured), and each page is measured
    // right after its reference, before any phase adds posts: the same data, seconds apart.
    // Measured at the end instead, the reference read a timeline that the POST phase (and a
    // soak) had made longer, which once flattered /index to 73%.
    let port = free_port();
    let mut command = Command::new(std::env::current_exe()?);
    command.args([
        "reference-server",
        &large_db.display().to_string(),
        &port.to_string(),
    ]);
    let reference = Process::start(command, port, "/login?name=reader").await?;
    let mut jar = HashMap::new();
    get(&local(), &reference.base, "/login?name=reader", &mut jar).await?;
    let reference_cookie = cookie_header(&jar);
    let reference_timeline = load_get(&reference, "/", &[("Cookie", &reference_cookie)]).await;
    line(format!(
        "| reference page: the reader's timeline (shape of /index) | {} |",
        reference_timeline.row()
    ));
    let index = site.load_as_reader("/index", &[]).await;
    line(format!("| GET /index, logged in | {} |", index.row()));
    // Chapter 23: the reader's user through the API, right after /index (the same data).
    let api_user = api_user_load(&site, &large_db).await?;
    line(format!(
        "| GET /api/users/<id>, Bearer token | {} |",
        api_user.row()
    ));
    let api_ratio = api_user.per_second / index.per_second;
    targets.push((
        "GET /api/users/<id> (token) throughput / logged-in /index".to_owned(),
        format!("{api_ratio:.2}x"),
        api_ratio >= 1.5 && api_user.errors == 0,
        "at least 1.5x",
    ));
    // Chapter 13: the same page in Spanish costs what it costs in English (each post's HTML is
    // kept per language). Measured English, Spanish, English, Spanish, so that drift of the
    // machine falls on both languages alike.
    let spanish = [("Accept-Language", "es")];
    let spanish_first = site.load_as_reader("/index", &spanish).await;
    let english_again = site.load_as_reader("/index", &[]).await;
    let spanish_again = site.load_as_reader("/index", &spanish).await;
    line(format!(
        "| GET /index in Spanish (two runs) | {} |",
        spanish_first.row()
    ));
    line(format!("| | {} |", spanish_again.row()));
    line(format!(
        "| GET /index in English again | {} |",
        english_again.row()
    ));
    let in_spanish = (spanish_first.per_second + spanish_again.per_second)
        / (index.per_second + english_again.per_second);
    targets.push((
        "/index throughput in Spanish / in English".to_owned(),
        format!("{:.0}%", in_spanish * 100.0),
        in_spanish >= 0.95,
        "at least 95%",
    ));
    let reference_everyone =
        load_get(&reference, "/everyone", &[("Cookie", &reference_cookie)]).await;
    line(format!(
        "| reference page: everyone's posts (shape of /explore) | {} |",
        reference_everyone.row()
    ));
    let explore = site.load_as_reader("/explore", &[]).await;
    line(format!("| GET /explore | {} |", explore.row()));
    drop(reference);
    let profile = site
        .load_as_reader(&format!("/user/{}", site.authors[0]), &[])
        .await;
    line(format!("| GET /user/<name> | {} |", profile.row()));
    // What a browser gets: it asks for a compressed page.
    let gzip = site
        .load_as_reader("/index", &[("Accept-Encoding", "gzip")])
        .await;
    line(format!(
        "| GET /index, gzip (as browsers ask) | {} |",
        gzip.row()
    ));
    if let (Some(gzip), Some(plain)) = (gzip.server_cpu, index.server_cpu) {
        line(format!(
            "| server CPU per request, /index gzip / plain | {:.2}x |",
            gzip.as_secs_f64() / plain.as_secs_f64()
        ));
    }

    // Chapter 16: searches at the large size.
    let mut search_lines = Vec::new();
    search_timing(&site, "SQLite", &mut search_lines, &mut targets).await?;
    for text in search_lines {
        line(text);
    }

    // POST /index: every acknowledged post must be stored.
    let before = sqlite_count(&large_db, "posts")?;
    let posts = post_load(&site).await?;
    let stored = sqlite_count(&large_db, "posts")? - before;
    line(format!(
        "| POST /index | {} ; stored {stored} of {} acknowledged |",
        posts.row(),
        posts.requests
    ));
    targets.push((
        "POST /index on SQLite".to_owned(),
        format!(
            "{:.0} posts/s, {stored}/{} stored",
            posts.per_second, posts.requests
        ),
        posts.per_second >= 1000.0 && stored == posts.requests as i64,
        "at least 1,000/s, all stored",
    ));

    // Login burst: /index quiet, then while 32 clients log in at cost 12.
    let quiet = site.load_as_reader("/index", &[]).await;
    let until = Instant::now() + seconds();
    let loggers: Vec<_> = (0..LOGIN_CLIENTS)
        .map(|i| {
            let (base, name) = (base.clone(), site.authors[10 + i].clone());
            actix_web::rt::spawn(async move {
                let c = client(IpAddr::V4(Ipv4Addr::new(127, 0, 1, i as u8 + 1)));
                let mut done = 0;
                while Instant::now() < until {
                    if login(&c, &base, &name, SEEDED_PASSWORD).await.is_ok() {
                        done += 1;
                    }
                }
                done
            })
        })
        .collect();
    let busy = site.load_as_reader("/index", &[]).await;
    let mut logins = 0;
    for logger in loggers {
        logins += logger.await.unwrap_or(0);
    }
    line(format!("| GET /index, quiet | {} |", quiet.row()));
    line(format!(
        "| GET /index during {LOGIN_CLIENTS} concurrent logins (cost 12) | {} ; {logins} logins |",
        busy.row()
    ));
    let burst_ratio = busy.p99.as_secs_f64() / quiet.p99.as_secs_f64();
    targets.push((
        format!("/index p99 during {LOGIN_CLIENTS} logins / quiet"),
        format!("{burst_ratio:.2}x ({logins} logins)"),
        burst_ratio <= 2.0 && logins > 0,
        "at most 2x",
    ));

    if let Some(soak_for) = std::env::var("BENCH_SOAK_SECONDS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .filter(|&s| s > 0)
    {
        let soak = soak(&site, Duration::from_secs(soak_for)).await;
        line(format!(
            "| soak: {soak_for} s of mixed load | {} requests, {} server errors (5xx), {} other failures; RSS {} MiB |",
            soak.requests,
            soak.server_errors,
            soak.failures,
            soak.rss
                .iter()
                .map(|m| format!("{m:.1}"))
                .collect::<Vec<_>>()
                .join(" -> ")
        ));
        // Caches warm up first (SQLite's page caches fill as posts are added); a leak shows as
        // growth that goes on, so "flat" compares the second half of the run: its end may be at
        // most 5% above its middle.
        let middle = soak.rss.get(soak.rss.len() / 2).copied().unwrap_or(0.0);
        let last = soak.rss.last().copied().unwrap_or(0.0);
        targets.push((
            format!("steady load for {soak_for} s"),
            format!(
                "{} 5xx; RSS at half time {middle:.1} MiB, at the end {last:.1} MiB",
                soak.server_errors
            ),
            soak.server_errors == 0 && last <= middle * 1.05 + 0.5,
            "zero 5xx, flat memory",
        ));
    }

    let (peak, now) = site.server.memory_mib();
    line(format!(
        "| server memory | peak {peak:.1} MiB, now {now:.1} MiB |"
    ));
    targets.push((
        "server memory under load (peak RSS)".to_owned(),
        format!("{peak:.1} MiB"),
        peak <= 50.0,
        "at most 50 MiB",
    ));
    targets.push((
        "first response after start".to_owned(),
        format!("{:.0} ms", site.server.started_in.as_secs_f64() * 1e3),
        site.server.started_in <= Duration::from_millis(200),
        "at most 200 ms",
    ));
    for text in live_streams(&site, &mut targets).await? {
        line(text);
    }
    let size = std::fs::metadata(env!("CARGO_BIN_EXE_microblog"))?.len() as f64 / (1 << 20) as f64;
    targets.push((
        "release binary (stripped)".to_owned(),
        format!("{size:.1} MiB"),
        size <= 20.0,
        "at most 20 MiB",
    ));
    drop(site);

    // Chapter 22: a large export and its download.
    for text in export_timing(work.path(), &mut targets).await? {
        line(text);
    }

    // Chapter 16: what the search index costs in disk and in posting.
    let mut search_lines = Vec::new();
    search_cost_sqlite(work.path(), &large_db, &mut search_lines, &mut targets).await?;
    if let Ok(server) = std::env::var("BENCH_POSTGRES_URL") {
        search_postgres(
            work.path(),
            &server,
            large_posts,
            &mut search_lines,
            &mut targets,
        )
        .await?;
    }
    for text in search_lines {
        line(text);
    }

    for (page, ours, reference) in [
        ("/index", &index, &reference_timeline),
        ("/explore", &explore, &reference_everyone),
    ] {
        if let (Some(ours), Some(reference)) = (ours.server_cpu, reference.server_cpu) {
            line(format!(
                "| server CPU per request, {page} / its reference | {:.2}x |",
                ours.as_secs_f64() / reference.as_secs_f64()
            ));
        }
        let share = ours.per_second / reference.per_second;
        targets.push((
            format!("{page} throughput / reference page (same query)"),
            format!("{:.0}%", share * 100.0),
            share >= 0.7,
            "at least 70%",
        ));
    }

    line("\n| target | measured | goal | met |\n|---|---|---|---|".to_owned());
    for (what, value, met, goal) in &targets {
        line(format!(
            "| {what} | {value} | {goal} | {} |",
            if *met { "yes" } else { "NO" }
        ));
    }
    let out = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("bench/results");
    std::fs::create_dir_all(&out)?;
    std::fs::write(out.join("perf.md"), &table)?;
    Ok(())
}

/// The minimal page of the same shape as `/index`, to compare against: the session says who is
/// logged in, one query reads that user's 25-post timeline joined with the authors (the same
/// query `/index` runs), and a two-template Tera page shows it. `/everyone` is the same page
/// over everyone's posts, the shape of `/explore`.
mod reference {
    use std::path::Path;

    use actix_session::storage::CookieSessionStore;
    use actix_session::{Session, SessionMiddleware};
    use actix_web::cookie::Key;
    use actix_web::{App, HttpResponse, HttpServer, web};
    use microblog::config::DatabaseUrl;
    use microblog::db::Db;
    use microblog::models::post::{self, Feed};
    use microblog::models::user;
    use microblog::pagination::PageNumber;

    const BASE: &str = "<!doctype html><html><head><title>{{ title }}</title></head>\
        <body><nav>{{ user }}</nav>{% block content %}{% endblock content %}</body></html>";
    const PAGE: &str = "{% extends \"base.html\" %}{% block content %}{% for p in posts %}\
        <article><b>{{ p.author }}</b> {{ p.body }} <time>{{ p.timestamp }}</time></article>{% endfor %}\
        {% endblock content %}";

    #[derive(serde::Serialize)]
    struct PostView {
        author: String,
        body: String,
        timestamp: String,
    }

    async fn page(
        feed: impl FnOnce(i32) -> Feed,
        session: Session,
        db: web::Data<Db>,
        tera: web::Data<tera::Tera>,
    ) -> actix_web::Result<HttpResponse> {
        let Some(user_id) = session.get::<i32>("user")? else {
            return Ok(HttpResponse::Unauthorized().finish());
        };
        let feed = feed(user_id);
        let rows = db
            .run(move |conn| post::page(conn, feed, PageNumber(1), 25))
            .await
            .map_err(actix_web::error::ErrorInternalServerError)?;
        let posts: Vec<PostView> = rows
            .items
            .into_iter()
            .map(|p| PostView {
                author: p.author,
                body: p.body,
                timestamp: p.timestamp.to_string(),
            })
            .collect();
        let mut context = tera::Context::new();
        context.insert("title", "Home");
        context.insert("user", &user_id);
        context.insert("posts", &posts);
        let html = tera
            .render("page.html", &context)
            .map_err(actix_web::error::ErrorInternalServerError)?;
        Ok(HttpResponse::Ok()
            .content_type("text/html; charset=utf-8")
            .body(html))
    }

    /// `/login?name=<user>`: remembers that user in the session (no password: a baseline).
    async fn login(
        query: web::Query<std::collections::HashMap<String, String>>,
        session: Session,
        db: web::Data<Db>,
    ) -> actix_web::Result<HttpResponse> {
        let name = query.get("name").cloned().unwrap_or_default();
        let found = db
            .run(move |conn| user::find_by_username(conn, &name))
            .await
            .map_err(actix_web::error::ErrorInternalServerError)?;
        let Some(found) = found else {
            return Ok(HttpResponse::NotFound().finish());
        };
        session.insert("user", found.id)?;
        Ok(HttpResponse::Ok().finish())
    }

    pub fn serve(db: &Path, port: u16) -> anyhow::Result<()> {
        let db = web::Data::new(Db::connect(&DatabaseUrl::Sqlite(db.to_owned()))?);
        let mut tera = tera::Tera::new();
        tera.add_raw_templates(vec![("base.html", BASE), ("page.html", PAGE)])
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let tera = web::Data::new(tera);
        let key = Key::generate();
        actix_web::rt::System::new().block_on(async move {
            HttpServer::new(move || {
                App::new()
                    .app_data(db.clone())
                    .app_data(tera.clone())
                    .wrap(SessionMiddleware::new(
                        CookieSessionStore::default(),
                        key.clone(),
                    ))
                    .route("/", web::get().to(|s, d, t| page(Feed::Timeline, s, d, t)))
                    .route(
                        "/everyone",
                        web::get().to(|s, d, t| page(|_| Feed::Everyone, s, d, t)),
                    )
                    .route("/login", web::get().to(login))
            })
            .bind(("127.0.0.1", port))?
            .run()
            .await
        })?;
        Ok(())
    }
}
