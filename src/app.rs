//! Flask's `create_app()` (chapter 15): the application factory. Every middleware, the shared
//! state and every blueprint are registered here, and only here; `main` and the tests build the
//! app through [`Application::build`].

use std::net::TcpListener;

use actix_identity::IdentityMiddleware;
use actix_identity::config::LogoutBehavior;
use actix_session::SessionMiddleware;
use actix_session::config::{BrowserSession, CookieContentSecurity};
use actix_session::storage::CookieSessionStore;
use actix_web::body::MessageBody;
use actix_web::cookie::{Key, SameSite};
use actix_web::dev::{Server, ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::middleware::{Compress, Condition, DefaultHeaders, from_fn};
use actix_web::{App, HttpServer, web};
use anyhow::Context as _;
use tracing_actix_web::TracingLogger;

use crate::config::Config;
use crate::logging::{self, AccessLog};
use crate::state::State;
use crate::{assets, background, blueprints, db, head, limits, login};

/// The Content-Security-Policy: everything from this site only (Bootstrap is vendored), avatars
/// from Gravatar, no inline scripts, no framing.
const CSP: &str = "default-src 'self'; img-src 'self' https://www.gravatar.com data:; \
                   object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

/// Flask's `create_app()`: builds the actix `App` from the shared state.
pub fn create_app(
    state: web::Data<State>,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let key = Key::from(&state.config.keys.session);
    let session = SessionMiddleware::builder(CookieSessionStore::default(), key)
        .cookie_name("session".to_owned())
        .cookie_http_only(true)
        .cookie_same_site(SameSite::Lax)
        .cookie_secure(state.config.session_cookie_secure)
        // Encrypted, not only signed as Flask's is: the client cannot read the session.
        .cookie_content_security(CookieContentSecurity::Private)
        // No "remember me": the cookie ends with the browser session.
        .session_lifecycle(BrowserSession::default())
        .build();
    // Keep the rest of the session (flashes, CSRF token) when logging out, so a message can
    // follow the redirect; login_user/logout_user rotate the CSRF token themselves.
    let identity = IdentityMiddleware::builder()
        .logout_behavior(LogoutBehavior::DeleteIdentityKeys)
        .build();
    let security_headers = DefaultHeaders::new()
        .add(("X-Content-Type-Options", "nosniff"))
        .add(("X-Frame-Options", "DENY"))
        .add(("Content-Security-Policy", CSP))
        .add(("Referrer-Policy", "strict-origin-when-cross-origin"));

    let federated = state.federation.is_some();
    App::new()
        // Handlers take the whole `State`. The login extractors and `Page` are below it and
        // cannot name it, so the two parts they need are registered on their own as well.
        .app_data(state.login.clone())
        .app_data(state.templates.clone())
        .app_data(state.languages.clone())
        .app_data(state)
        .app_data(web::PayloadConfig::new(limits::MAX_BODY))
        .app_data(web::JsonConfig::default().limit(limits::MAX_BODY))
        .app_data(web::FormConfig::default().limit(limits::MAX_BODY))
        .configure(blueprints::api::config)
        // Before main: its `/user/{username}` for ActivityPub clients comes first.
        .configure(|cfg| {
            if federated {
                blueprints::federation::config(cfg);
            }
        })
        .configure(blueprints::main::config)
        .configure(blueprints::auth::config)
        .route("/static/{path:.*}", web::get().to(assets::static_file))
        .route("/favicon.ico", web::get().to(assets::favicon))
        .configure(blueprints::errors::config)
        // actix runs the last `wrap` first. Read from the bottom up, a request passes:
        // logging -> security headers -> the size limit of the request head -> HEAD read as
        // GET (after the log has its method) -> compression -> session cookie (decrypted into
        // Session) -> identity (reads the login token from the session) -> remember-me cookie
        // writer -> error pages -> the handler. The head limit comes before the session
        // middleware, which would decrypt a cookie of any size.
        // Identity must sit inside the session middleware because it reads the Session that
        // middleware creates. Error pages sit innermost so they can see who is logged in and
        // the session is saved after them.
        .wrap(blueprints::errors::error_pages())
        .wrap(from_fn(login::remember_cookie_middleware))
        .wrap(identity)
        .wrap(session)
        .wrap(Compress::default())
        .wrap(from_fn(head::as_get))
        .wrap(from_fn(limits::limit_request_head))
        .wrap(security_headers)
        // Without access lines (`RUST_LOG=warn`), no request span is made at all: the logger
        // would still make a request id and an empty span for every request.
        .wrap(Condition::new(
            logging::access_lines_enabled(),
            TracingLogger::<AccessLog>::new(),
        ))
}

/// A running server (zero2prod's `Application`): built on a listener, so tests can use port 0.
pub struct Application {
    port: u16,
    server: Server,
    state: web::Data<State>,
    signals: Option<StopSignals>,
}

impl Application {
    /// Binds `HOST:PORT` from the config.
    pub fn build(config: Config) -> anyhow::Result<Self> {
        let address = format!("{}:{}", config.host, config.port);
        let listener = TcpListener::bind(&address).with_context(|| format!("binding {address}"))?;
        Self::build_on(config, listener)
    }

    /// Serves on a listener that is already bound.
    pub fn build_on(mut config: Config, listener: TcpListener) -> anyhow::Result<Self> {
        let port = listener.local_addr()?.port();
        // The port actually served (`PORT=0` asks for any free one): links name it.
        config.port = port;
        let state = web::Data::new(State::new(config)?);
        let app_state = state.clone();
        // One worker (an event loop on its own thread) a core, as actix would choose.
        let workers = std::thread::available_parallelism().map_or(2, |n| n.get().min(512));
        let server = HttpServer::new(move || create_app(app_state.clone()))
            .workers(workers)
            .worker_max_blocking_threads(blocking_threads(workers))
            // Send each write at once. A compressed page goes out in pieces (headers, then the
            // body from the compressor); with Nagle's algorithm on (the OS default) a piece waits
            // for the ACK of the one before, which the browser delays: gzip pages came a few
            // hundred a second instead of thousands (`docs/performance.md`).
            .tcp_nodelay(true)
            // Signals are ours (`stop_on_signal`): actix makes Ctrl-C a forced stop.
            .disable_signals()
            .listen(listener)?
            .run();
        // Listened for from here on: the server takes connections as soon as it runs, and a
        // Ctrl-C that comes before `run_until_stopped` must drain it too, not kill it.
        let signals = StopSignals::listen();
        Ok(Self {
            port,
            server,
            state,
            signals,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// What the app's handlers share (tests look into it, as at the live streams it holds).
    pub fn state(&self) -> web::Data<State> {
        self.state.clone()
    }

    /// A handle to stop the server from elsewhere (tests; `run_until_stopped` still flushes).
    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    /// Serves until the server is stopped (Ctrl-C or SIGTERM drain in-flight requests first),
    /// with the background tasks running beside it (`src/background.rs`).
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let signals = actix_web::rt::spawn(stop_on_signal(self.server.handle(), self.signals));
        let tasks = actix_web::rt::spawn(background::run(self.state.clone()));
        let jobs = actix_web::rt::spawn(background::run_jobs(self.state.clone()));
        let index = actix_web::rt::spawn(background::run_search_index(self.state.clone()));
        let served = self.server.await;
        signals.abort();
        tasks.abort();
        jobs.abort();
        index.abort();
        background::at_stop(&self.state).await;
        served.context("serving")
    }
}

/// How many blocking threads each of `workers` workers may start. A worker runs its database
/// work there (`Db::run`), each query holding one of the pool's connections, so a thread beyond
/// the worker's share of the pool would mostly wait for one. Actix's default (512 threads over
/// the workers) let 16 busy clients start 37 of them, which glibc's `malloc` spread over up to
/// 16 heaps (arenas): with this cap the server held 13 MiB less, for no more CPU a page
/// (`docs/performance.md`). The same threads compress responses, and work waits for a free one
/// without a time limit, so nothing may hold one for long: name lookups, which can take seconds,
/// have threads of their own (`federation::client`). Two at least, so that one slow task
/// (making a federation key) does not hold up all of a worker's queries.
fn blocking_threads(workers: usize) -> usize {
    (db::POOL_SIZE as usize).div_ceil(workers).max(2)
}

/// Ctrl-C (SIGINT) and SIGTERM, listened for since the server was built.
struct StopSignals {
    interrupt: actix_web::rt::signal::unix::Signal,
    terminate: actix_web::rt::signal::unix::Signal,
}

impl StopSignals {
    fn listen() -> Option<Self> {
        use actix_web::rt::signal::unix::{SignalKind, signal};
        let (Ok(interrupt), Ok(terminate)) = (
            signal(SignalKind::interrupt()),
            signal(SignalKind::terminate()),
        ) else {
            tracing::warn!("could not listen for Ctrl-C and SIGTERM");
            return None;
        };
        Some(Self {
            interrupt,
            terminate,
        })
    }
}

/// Ctrl-C (SIGINT) and SIGTERM stop the server the same way: it stops accepting, lets the
/// requests under way finish (up to actix's shutdown timeout, 30 s) and returns, so a
/// registration in flight when a student presses Ctrl-C is answered and saved. (actix's own
/// handling drains on SIGTERM only; a second signal does not cut the drain short either.)
async fn stop_on_signal(handle: actix_web::dev::ServerHandle, signals: Option<StopSignals>) {
    let Some(StopSignals {
        mut interrupt,
        mut terminate,
    }) = signals
    else {
        return;
    };
    let name = tokio::select! {
        _ = interrupt.recv() => "Ctrl-C",
        _ = terminate.recv() => "SIGTERM",
    };
    tracing::info!("{name}: finishing the requests under way, then stopping");
    handle.stop(true).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_workers_blocking_threads_cover_the_pool_and_no_more() {
        let pool = db::POOL_SIZE as usize;
        assert_eq!(blocking_threads(1), pool);
        assert_eq!(blocking_threads(2), pool.div_ceil(2));
        // Never fewer than two, however many workers.
        assert_eq!(blocking_threads(pool * 4), 2);
        for workers in 1..=64 {
            let each = blocking_threads(workers);
            assert!(
                workers * each >= pool,
                "{workers} workers cannot use every connection"
            );
            assert!(
                each == 2 || (workers * (each - 1)) < pool,
                "{workers} workers: {each} too many"
            );
        }
    }
}
