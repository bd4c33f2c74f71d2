//! The servers the bench measures and the data under them: the release binary started as a
//! process of its own, its databases seeded with `microblog seed`, a [`Site`] with its reader
//! logged in, and direct reads and writes of a SQLite file.

use std::collections::HashMap;
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context as _;

use crate::LOGIN_CLIENTS;
use crate::client::{cookie_header, csrf_token, get, local, login, register, submit};
use crate::load::{Stats, load_get_by};

/// The password `microblog seed` gives every seeded user.
pub const SEEDED_PASSWORD: &str = "seeded-password";
/// The password of the reader, the user who registers on each site and reads its pages.
pub const READER_PASSWORD: &str = "correct horse battery staple";

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A server process, killed when dropped.
pub struct Process {
    child: Child,
    pub base: String,
    pub started_in: Duration,
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Process {
    /// Starts `command` and waits for `probe` to answer 200; records how long that took.
    pub async fn start(mut command: Command, port: u16, probe: &str) -> anyhow::Result<Self> {
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
    pub fn cpu_time(&self) -> Duration {
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
    pub fn memory_mib(&self) -> (f64, f64) {
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

pub fn microblog(work: &Path, db: &Path, port: u16, cost: u32) -> Command {
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

pub fn seed(work: &Path, db: &Path, users: usize, posts: usize) -> anyhow::Result<Duration> {
    seed_on(work, &format!("sqlite:///{}", db.display()), users, posts)
}

pub fn seed_on(work: &Path, url: &str, users: usize, posts: usize) -> anyhow::Result<Duration> {
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

/// A site to measure: a seeded database, the server on it, a logged-in reader who follows ten
/// authors, and the names of seeded users (for profiles and logins).
pub struct Site {
    pub server: Process,
    pub reader: String,
    pub authors: Vec<String>,
}

impl Site {
    /// `path` under load as the logged-in reader, with `extra` headers besides the cookie.
    pub async fn load_as_reader(&self, path: &str, extra: &[(&str, &str)]) -> Stats {
        self.load_as_reader_by(path, extra, crate::CONCURRENCY)
            .await
    }

    /// [`Site::load_as_reader`] with `clients` connections.
    pub async fn load_as_reader_by(
        &self,
        path: &str,
        extra: &[(&str, &str)],
        clients: usize,
    ) -> Stats {
        let mut headers = vec![("Cookie", self.reader.as_str())];
        headers.extend_from_slice(extra);
        load_get_by(&self.server, path, &headers, clients).await
    }

    /// What the reader needs to post: the CSRF token of the `/index` form and the cookies that
    /// go with it.
    pub async fn post_form(&self) -> anyhow::Result<(String, String)> {
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

pub async fn open_site(work: &Path, db: &Path, cost: u32) -> anyhow::Result<Site> {
    open_site_on(work, &format!("sqlite:///{}", db.display()), cost, true).await
}

/// The site over `url`, its reader logged in; with `follow`, following ten authors of /explore.
pub async fn open_site_on(work: &Path, url: &str, cost: u32, follow: bool) -> anyhow::Result<Site> {
    let port = free_port();
    open_site_with(microblog_on(work, url, port, cost), port, follow).await
}

/// The site of the binary that `command` starts on `port` (its settings and environment), its
/// reader logged in; with `follow`, following ten authors of /explore.
pub async fn open_site_with(command: Command, port: u16, follow: bool) -> anyhow::Result<Site> {
    let server = Process::start(command, port, "/auth/login").await?;
    let c = local();
    let base = server.base.clone();
    let status = register(&c, &base, "reader", READER_PASSWORD).await?;
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

pub fn sqlite_count(db: &Path, table: &str) -> anyhow::Result<i64> {
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

/// Runs SQL on a SQLite file.
pub fn sqlite_execute(db: &Path, sql: &str) -> anyhow::Result<()> {
    use diesel::Connection as _;
    use diesel::connection::SimpleConnection as _;
    let mut conn = diesel::SqliteConnection::establish(&db.display().to_string())?;
    conn.batch_execute(sql)?;
    Ok(())
}
