//! The test harness: the real app on a free port with a fresh database, and a small browser-like
//! client that keeps cookies by hand, so tests can copy, drop and replay them.
//!
//! The backend is SQLite in a temporary folder, or PostgreSQL when `TEST_DATABASE_URL` names a
//! server (each test then gets a database of its own, dropped at the end).

use std::collections::{BTreeMap, HashMap};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use actix_web::cookie::Cookie;
use actix_web::http::header;
use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};
use microblog::app::Application;
use microblog::config::{Config, DatabaseUrl};
use microblog::db::Db;
use rand::RngCore;

pub const PASSWORD: &str = "correct horse battery";
pub const BROWSER: &str = "Mozilla/5.0 (X11; Linux x86_64) TestBrowser/1.0";

/// A fresh, empty database: a SQLite file in a temporary folder, or a new PostgreSQL database
/// when `TEST_DATABASE_URL` names a server (dropped when this is dropped).
pub struct TestDatabase {
    pub url: String,
    _dir: tempfile::TempDir,
    pg_cleanup: Option<(String, String)>,
}

impl TestDatabase {
    /// Runs `microblog db transfer --to <target>` on this database, as a site with `secret`.
    pub fn transfer_to(&self, target: &TestDatabase, secret: &str) -> std::process::Output {
        let work = tempfile::tempdir().unwrap();
        Command::new(env!("CARGO_BIN_EXE_microblog"))
            .args(["db", "transfer", "--to", &target.url])
            .env("DATABASE_URL", &self.url)
            .env("SECRET_KEY", secret)
            .env("LOG_TO_STDOUT", "1")
            .current_dir(work.path())
            .output()
            .unwrap()
    }

    pub fn fresh() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        match std::env::var("TEST_DATABASE_URL") {
            Ok(admin_url) if !admin_url.is_empty() => {
                let name = format!("microblog_test_{}", random_hex(6));
                let mut conn = PgConnection::establish(&admin_url).expect("TEST_DATABASE_URL");
                conn.batch_execute(&format!("CREATE DATABASE {name}"))
                    .expect("create test database");
                let (base, _) = admin_url
                    .rsplit_once('/')
                    .expect("URL with a database name");
                Self {
                    url: format!("{base}/{name}"),
                    _dir: dir,
                    pg_cleanup: Some((admin_url.clone(), name)),
                }
            }
            _ => Self {
                url: format!("sqlite:///{}", dir.path().join("app.db").display()),
                _dir: dir,
                pg_cleanup: None,
            },
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Some((admin_url, name)) = &self.pg_cleanup
            && let Ok(mut conn) = PgConnection::establish(admin_url)
        {
            let _ = conn.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
        }
    }
}

/// A running app and what a test needs to reach it.
pub struct TestApp {
    pub address: String,
    pub database_url: DatabaseUrl,
    /// What the app's handlers share, to look into (the live streams it holds).
    pub state: actix_web::web::Data<microblog::state::State>,
    server: actix_web::dev::ServerHandle,
    stopped: Option<actix_web::rt::task::JoinHandle<anyhow::Result<()>>>,
    _instance: tempfile::TempDir,
    _database: Option<TestDatabase>,
}

pub fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buf);
    hex::encode(buf)
}

/// Starts the app with the test defaults and any extra settings. Unless `DATABASE_URL` is
/// among them, the app gets a fresh database of its own.
pub async fn spawn_app_with(extra: &[(&str, &str)]) -> TestApp {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    spawn_app_on(extra, listener).await
}

/// Starts the app federating (`FEDERATION=1`) as `127.0.0.1:<its port>`, with plain http and
/// loopback addresses allowed, so that two of them on this machine can talk.
pub async fn spawn_federated(extra: &[(&str, &str)]) -> TestApp {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let server_name = format!(
        "127.0.0.1:{}",
        listener.local_addr().expect("address").port()
    );
    let mut vars = vec![
        ("FEDERATION", "1"),
        ("FEDERATION_ALLOW_PRIVATE", "1"),
        ("SERVER_NAME", server_name.as_str()),
    ];
    vars.extend_from_slice(extra);
    spawn_app_on(&vars, listener).await
}

/// Starts the app on `listener` with the test defaults and `extra`.
async fn spawn_app_on(extra: &[(&str, &str)], listener: TcpListener) -> TestApp {
    let instance = tempfile::tempdir().expect("temp dir");
    let mut vars: HashMap<String, String> = HashMap::new();
    vars.insert("SECRET_KEY".into(), random_hex(32));
    vars.insert("BCRYPT_COST".into(), "4".into());
    let database = (!extra.iter().any(|(k, _)| *k == "DATABASE_URL")).then(TestDatabase::fresh);
    if let Some(db) = &database {
        vars.insert("DATABASE_URL".into(), db.url.clone());
    }
    for (k, v) in extra {
        vars.insert((*k).to_owned(), (*v).to_owned());
    }
    let config = Config::from_vars(&vars, instance.path()).expect("config");
    let database_url = config.database_url.clone();
    let app = Application::build_on(config, listener).expect("build app");
    let address = format!("http://127.0.0.1:{}", app.port());
    let server = app.handle();
    let state = app.state();
    let stopped = Some(actix_web::rt::spawn(app.run_until_stopped()));
    TestApp {
        address,
        database_url,
        state,
        server,
        stopped,
        _instance: instance,
        _database: database,
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

impl TestApp {
    /// Stops the server as SIGTERM would (in-flight requests finish) and waits for it.
    pub async fn stop(&mut self) {
        self.server.stop(true).await;
        if let Some(stopped) = self.stopped.take() {
            stopped
                .await
                .expect("server task")
                .expect("server stopped cleanly");
        }
    }

    /// A new browser with an empty cookie jar.
    pub fn browser(&self) -> Browser {
        Browser::at(&self.address)
    }

    /// Opens the app's database, as another process would.
    pub fn database(&self) -> Db {
        Db::connect(&self.database_url).expect("connect")
    }

    /// Waits until no job is queued or running (panics after 30 s), so that what the requests
    /// asked for has been done.
    pub async fn wait_for_jobs(&self) {
        wait_for_jobs(&self.database()).await;
    }

    /// Runs SQL straight on the app's database (to simulate what another process might do).
    pub fn execute_sql(&self, sql: &str) {
        let mut conn = self.database().get().expect("connection");
        conn.batch_execute(sql).expect("sql");
    }

    /// A registered user, through the real registration form.
    pub async fn register(&self, username: &str) -> Browser {
        let mut browser = self.browser();
        browser.register(username).await;
        browser
    }

    /// Registers `username` and logs in, in a fresh browser.
    pub async fn logged_in(&self, username: &str, remember: bool) -> Browser {
        let mut browser = self.register(username).await;
        let res = browser.login(username, PASSWORD, remember).await;
        assert_eq!(res.status, 302, "login failed: {}", res.body);
        assert_eq!(res.location(), Some("/index"));
        browser
    }
}

/// The jobs of `db` that are queued or running.
pub fn pending_jobs(db: &Db) -> Vec<microblog::models::job::JobRow> {
    microblog::models::job::pending(&mut db.get().expect("connection")).expect("jobs")
}

/// Waits until one of the pending jobs of `db` is as `wanted` says (panics after 30 s).
pub async fn wait_for_job(db: &Db, wanted: impl Fn(&microblog::models::job::JobRow) -> bool) {
    let started = Instant::now();
    loop {
        let pending = pending_jobs(db);
        if pending.iter().any(&wanted) {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no such job among {pending:?}"
        );
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits until `db` holds no queued or running job (panics after 30 s).
pub async fn wait_for_jobs(db: &Db) {
    let started = Instant::now();
    loop {
        let pending = pending_jobs(db);
        if pending.is_empty() {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "jobs still pending: {pending:?}"
        );
        actix_web::rt::time::sleep(Duration::from_millis(25)).await;
    }
}

/// The `microblog` binary as a command run in `work`, with only the settings given: the test's
/// own environment is not passed on, so nothing but `envs` (and no `.env`) configures it.
pub fn microblog_command(work: &Path, envs: &[(&str, &str)]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_microblog"));
    command
        .env_clear()
        .envs(envs.iter().copied())
        .current_dir(work);
    command
}

/// The `microblog` binary serving on a free port, in a folder of its own, its output (standard
/// output and standard error) kept in `output.log` there.
pub struct Server {
    pub child: Child,
    pub address: String,
    pub port: u16,
    pub work: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// Starts the binary with `envs` (and `PORT`), and waits until `/health` answers.
    pub async fn start(envs: &[(&str, &str)]) -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let work = tempfile::tempdir().unwrap();
        let output = std::fs::File::create(work.path().join("output.log")).unwrap();
        let port_text = port.to_string();
        let mut all = envs.to_vec();
        all.push(("PORT", &port_text));
        let child = microblog_command(work.path(), &all)
            .stdout(output.try_clone().unwrap())
            .stderr(output)
            .spawn()
            .expect("start microblog");
        let server = Self {
            child,
            address: format!("http://127.0.0.1:{port}"),
            port,
            work,
        };
        let started = Instant::now();
        let mut probe = Browser::at(&server.address);
        loop {
            if let Ok(res) = probe.try_get("/health").await
                && res == 200
            {
                return server;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "the server did not start: {}",
                server.output()
            );
            actix_web::rt::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// What the server printed so far.
    pub fn output(&self) -> String {
        std::fs::read_to_string(self.work.path().join("output.log")).unwrap_or_default()
    }

    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([signal, &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }
}

/// What came back.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: header::HeaderMap,
    pub body: String,
    pub set_cookies: Vec<Cookie<'static>>,
}

impl Response {
    pub fn location(&self) -> Option<&str> {
        self.headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn set_cookie(&self, name: &str) -> Option<&Cookie<'static>> {
        self.set_cookies.iter().find(|c| c.name() == name)
    }

    /// The hidden CSRF token of the first form on the page.
    pub fn csrf_token(&self) -> Option<String> {
        let marker = "name=\"csrf_token\" value=\"";
        let start = self.body.find(marker)? + marker.len();
        let end = self.body[start..].find('"')?;
        Some(self.body[start..start + end].to_owned())
    }
}

/// A browser: follows no redirects by itself and keeps its cookies in a jar the test can see.
pub struct Browser {
    pub base: String,
    client: awc::Client,
    pub cookies: BTreeMap<String, String>,
    pub user_agent: String,
    /// Sent as `X-Forwarded-For`: the client address a trusted proxy would report.
    pub forwarded_for: Option<String>,
    /// Sent as `Host` instead of the server's address (a forged one, in tests).
    pub host: Option<String>,
    /// Sent as `Accept-Language` (none by default, as from `curl`).
    pub accept_language: Option<String>,
}

impl Browser {
    /// A new browser for the site at `address`, with an empty cookie jar.
    pub fn at(address: &str) -> Self {
        Self {
            base: address.to_owned(),
            client: awc::Client::builder()
                .disable_redirects()
                .timeout(std::time::Duration::from_secs(30))
                .finish(),
            cookies: BTreeMap::new(),
            user_agent: BROWSER.to_owned(),
            forwarded_for: None,
            host: None,
            accept_language: None,
        }
    }

    /// Another connection of the same browser: the same cookies, so the same login.
    pub fn clone_session(&self) -> Self {
        let mut other = Self::at(&self.base);
        other.cookies = self.cookies.clone();
        other.user_agent = self.user_agent.clone();
        other
    }

    pub fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// Sends a request with the jar's cookies and stores what the response sets.
    async fn send(&mut self, method: &str, path: &str, body: Option<(&str, Vec<u8>)>) -> Response {
        self.send_with(method, path, body, &[]).await
    }

    /// Sends a request with extra headers (overriding the usual ones of the same name).
    async fn send_with(
        &mut self,
        method: &str,
        path: &str,
        body: Option<(&str, Vec<u8>)>,
        extra: &[(&str, &str)],
    ) -> Response {
        let method = actix_web::http::Method::from_bytes(method.as_bytes()).expect("method");
        let mut req = self
            .client
            .request(method, format!("{}{path}", self.base))
            .insert_header((header::USER_AGENT, self.user_agent.clone()))
            .insert_header((header::ACCEPT, "text/html,application/xhtml+xml,*/*;q=0.8"));
        if !self.cookies.is_empty() {
            req = req.insert_header((header::COOKIE, self.cookie_header()));
        }
        if let Some(ip) = &self.forwarded_for {
            req = req.insert_header(("X-Forwarded-For", ip.as_str()));
        }
        if let Some(host) = &self.host {
            req = req.insert_header((header::HOST, host.as_str()));
        }
        if let Some(langs) = &self.accept_language {
            req = req.insert_header((header::ACCEPT_LANGUAGE, langs.as_str()));
        }
        for (name, value) in extra {
            req = req.insert_header((*name, *value));
        }
        let mut res = match body {
            Some((content_type, bytes)) => req
                .insert_header((header::CONTENT_TYPE, content_type))
                .send_body(bytes)
                .await
                .expect("request"),
            None => req.send().await.expect("request"),
        };
        let body = res.body().limit(16 << 20).await.expect("body");
        let set_cookies: Vec<Cookie<'static>> = res
            .headers()
            .get_all(header::SET_COOKIE)
            .filter_map(|v| v.to_str().ok())
            .filter_map(|v| Cookie::parse(v.to_owned()).ok())
            .collect();
        for cookie in &set_cookies {
            let removed = cookie.value().is_empty()
                || cookie
                    .max_age()
                    .is_some_and(|age| age.is_zero() || age.is_negative());
            if removed {
                self.cookies.remove(cookie.name());
            } else {
                self.cookies
                    .insert(cookie.name().to_owned(), cookie.value().to_owned());
            }
        }
        Response {
            status: res.status().as_u16(),
            headers: res.headers().clone(),
            body: String::from_utf8_lossy(&body).into_owned(),
            set_cookies,
        }
    }

    /// A GET that reports a refused connection instead of panicking (probing a server).
    pub async fn try_get(&mut self, path: &str) -> Result<u16, awc::error::SendRequestError> {
        let res = self
            .client
            .get(format!("{}{path}", self.base))
            .send()
            .await?;
        Ok(res.status().as_u16())
    }

    pub async fn get(&mut self, path: &str) -> Response {
        self.send("GET", path, None).await
    }

    /// A GET with extra headers (what a browser adds, such as `Sec-Fetch-Site`).
    pub async fn get_with(&mut self, path: &str, headers: &[(&str, &str)]) -> Response {
        self.send_with("GET", path, None, headers).await
    }

    /// Sends raw bytes as a urlencoded form.
    pub async fn post_raw(&mut self, path: &str, body: Vec<u8>) -> Response {
        self.send(
            "POST",
            path,
            Some(("application/x-www-form-urlencoded", body)),
        )
        .await
    }

    /// POSTs `body` as `content_type` with extra headers, as a page's JavaScript does.
    pub async fn post_with(
        &mut self,
        path: &str,
        content_type: &str,
        body: Vec<u8>,
        headers: &[(&str, &str)],
    ) -> Response {
        self.send_with("POST", path, Some((content_type, body)), headers)
            .await
    }

    /// Posts fields as a urlencoded form, exactly as given (no CSRF token added).
    pub async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Response {
        let body = fields
            .iter()
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        self.post_raw(path, body.into_bytes()).await
    }

    /// What a person does: open the form page, fill it in, press the `submit` button.
    pub async fn submit(
        &mut self,
        form_page: &str,
        action: &str,
        fields: &[(&str, &str)],
    ) -> Response {
        let page = self.get(form_page).await;
        let token = page
            .csrf_token()
            .unwrap_or_else(|| panic!("no form on {form_page}: {} {}", page.status, page.body));
        let mut all = vec![("csrf_token", token.as_str()), ("submit", "Submit")];
        all.extend_from_slice(fields);
        self.post(action, &all).await
    }

    /// Fills in and sends the edit-profile form of whoever is logged in.
    pub async fn edit_profile(&mut self, username: &str, about_me: &str) -> Response {
        self.submit(
            "/edit_profile",
            "/edit_profile",
            &[("username", username), ("about_me", about_me)],
        )
        .await
    }

    /// Registers `username` (e-mail `<username>@example.com`, password [`PASSWORD`]) through
    /// the form, and checks it worked.
    pub async fn register(&mut self, username: &str) {
        let email = format!("{username}@example.com");
        let res = self
            .submit(
                "/auth/register",
                "/auth/register",
                &[
                    ("username", username),
                    ("email", &email),
                    ("password", PASSWORD),
                    ("password2", PASSWORD),
                ],
            )
            .await;
        assert_eq!(res.status, 302, "registration failed: {}", res.body);
        assert_eq!(res.location(), Some("/auth/login"));
    }

    pub async fn login(&mut self, username: &str, password: &str, remember: bool) -> Response {
        let mut fields = vec![("username", username), ("password", password)];
        if remember {
            fields.push(("remember_me", "y"));
        }
        self.submit("/auth/login", "/auth/login", &fields).await
    }

    /// Changes the logged-in user's password from [`PASSWORD`] to `new` through the form.
    pub async fn change_password(&mut self, new: &str) -> Response {
        self.submit(
            "/auth/change_password",
            "/auth/change_password",
            &[
                ("old_password", PASSWORD),
                ("password", new),
                ("password2", new),
            ],
        )
        .await
    }

    /// Opens a page and returns its flashed messages' texts.
    pub async fn flashes(&mut self, path: &str) -> Vec<String> {
        let page = self.get(path).await;
        flashes_of(&page.body)
    }
}

/// The texts of the flash alerts on a page.
pub fn flashes_of(body: &str) -> Vec<String> {
    let marker = "role=\"alert\">";
    body.match_indices(marker)
        .filter_map(|(i, _)| {
            let rest = &body[i + marker.len()..];
            rest.find("</div>").map(|end| rest[..end].trim().to_owned())
        })
        .collect()
}

/// The private key (PEM) of `name`, an account of `app` whose actor has been asked for.
pub fn private_key(app: &TestApp, name: &str) -> String {
    let mut conn = app.database().get().unwrap();
    let user = microblog::models::user::find_by_username(&mut conn, name)
        .unwrap()
        .unwrap();
    microblog::models::actor::keys(&mut conn, user.id)
        .unwrap()
        .unwrap()
        .private_key_pem
}

/// The `Date`, `Digest` and `Signature` headers another server would send with `body` in a POST
/// to `path` of the server called `host`, signed at `at` by `key_id`'s `private_pem`, as
/// Mastodon signs (draft-cavage, `rsa-sha256`, over the request target, host, date and digest).
pub fn signed_headers(
    host: &str,
    path: &str,
    body: &[u8],
    key_id: &str,
    private_pem: &str,
    at: std::time::SystemTime,
) -> [String; 3] {
    use microblog::federation::signature;
    let date = httpdate::fmt_http_date(at);
    let digest = signature::digest(body);
    let headers = ["(request-target)", "host", "date", "digest"];
    let signed =
        signature::signing_string(
            &headers.map(str::to_owned),
            "post",
            path,
            |name| match name {
                "host" => Some(host),
                "date" => Some(date.as_str()),
                "digest" => Some(digest.as_str()),
                _ => None,
            },
        )
        .unwrap();
    let value = signature::sign(key_id, private_pem, &headers, &signed).unwrap();
    [date, digest, value]
}

pub fn encode(value: &str) -> String {
    percent_encoding::utf8_percent_encode(value, percent_encoding::NON_ALPHANUMERIC).to_string()
}
