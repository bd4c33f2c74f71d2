//! Live notifications (chapter 21, beyond the tutorial's poll every 10 seconds): a page's
//! script keeps one stream open, `GET /notifications/stream` (server-sent events), and gets each
//! of the user's notifications (`models::message::Notification`) as it is written.
//!
//! - **Within an instance**, [`Live`] holds a counter per user with an open stream. A handler
//!   that changed a user's notifications calls [`Live::changed`]; each of that user's streams
//!   wakes, reads what is new since it last sent, and sends it.
//! - **Across instances** (PostgreSQL), every notification written also runs
//!   `pg_notify('microblog_live', <user id>)` in its transaction (`message::notify`). Each
//!   instance LISTENs on a connection of its own ([`Live::listen`]) and calls `changed` for what
//!   it hears, so a message sent through one instance reaches a tab connected to another. On
//!   SQLite there is one instance, and `changed` alone does it.
//! - **One stream per browser**, not per tab: `static/js/microblog.js` lets one tab hold the
//!   stream (a Web Lock) and pass what it gets to the others (a BroadcastChannel), so ten tabs
//!   use one of the browser's six connections to the site.
//! - A stream lasts [`MAX_AGE`]; the browser opens it again, and that request checks the
//!   login, so an ended login stops getting notifications.
//! - Streams are never compressed (`Content-Encoding: identity`): actix's `Compress` would hold
//!   the events back until its buffer filled.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use tokio::sync::watch;

use crate::error::AppError;
use crate::login::LoginRequired;
use crate::models::message;
use crate::state::State;

/// The channel of PostgreSQL's `NOTIFY`, its payload a user id.
pub const CHANNEL: &str = "microblog_live";

/// How often a stream sends a comment when nothing happens, so proxies keep it open and a
/// closed tab's stream is noticed.
const KEEPALIVE: Duration = Duration::from_secs(15);

/// How long one stream lasts. The browser then opens it again (`EventSource` does, with the
/// last event's id), and that request checks the login anew: a login ended by "log out
/// everywhere" or by its expiry stops getting notifications within this time.
const MAX_AGE: Duration = Duration::from_secs(300);

/// How long the browser waits before it opens an ended stream again.
const RETRY_MS: u32 = 1_000;

/// The most streams one user may hold open on an instance (a browser holds one, whatever its
/// tabs): past it a new one is a 429, so a script cannot make every change cost thousands of
/// reads.
pub const MAX_STREAMS_PER_USER: usize = 50;

/// How often the listening connection is checked with a query, so a connection that broke
/// without a word is noticed and opened again.
const LISTEN_CHECK: Duration = Duration::from_secs(30);

/// How often the listening connection is asked for what PostgreSQL sent it.
const LISTEN_POLL: Duration = Duration::from_millis(50);

/// The streams of this instance, by user.
#[derive(Clone, Default)]
pub struct Live {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    users: Mutex<HashMap<i32, watch::Sender<u64>>>,
}

impl Inner {
    fn changed(&self, user: i32) {
        let users = self.users.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(sender) = users.get(&user) {
            sender.send_modify(|n| *n = n.wrapping_add(1));
        }
    }

    /// Wakes every stream: after the listening connection was (re)opened, notifications sent
    /// while it was not listening are read by each stream.
    fn changed_all(&self) {
        let users = self.users.lock().unwrap_or_else(|e| e.into_inner());
        for sender in users.values() {
            sender.send_modify(|n| *n = n.wrapping_add(1));
        }
    }
}

impl Live {
    /// Wakes every stream of `user` on this instance.
    pub fn changed(&self, user: i32) {
        self.inner.changed(user);
    }

    /// How many streams are open on this instance.
    pub fn open_streams(&self) -> usize {
        let users = self.inner.users.lock().unwrap_or_else(|e| e.into_inner());
        users.values().map(watch::Sender::receiver_count).sum()
    }

    /// A new stream's interest in `user`, unless they hold [`MAX_STREAMS_PER_USER`] already.
    fn subscribe(&self, user: i32) -> Option<Subscription> {
        let mut users = self.inner.users.lock().unwrap_or_else(|e| e.into_inner());
        let sender = users.entry(user).or_insert_with(|| watch::channel(0).0);
        if sender.receiver_count() >= MAX_STREAMS_PER_USER {
            return None;
        }
        let mut receiver = sender.subscribe();
        // Read once at the start: what was written after the opening read and before this
        // subscription is not missed.
        receiver.mark_changed();
        Some(Subscription {
            receiver: Some(receiver),
            user,
            live: Arc::downgrade(&self.inner),
        })
    }

    /// PostgreSQL: LISTENs for other instances' notifications on a connection of its own, in a
    /// thread that ends when this `Live` is dropped. A lost connection is opened again.
    pub fn listen(&self, url: String) {
        let inner = Arc::downgrade(&self.inner);
        let spawned = std::thread::Builder::new()
            .name("live-listen".into())
            .spawn(move || listen(&url, &inner));
        if let Err(e) = spawned {
            tracing::warn!(error = %e, "could not start listening for live notifications");
        }
    }
}

/// The listening loop: until `inner` is gone.
fn listen(url: &str, inner: &Weak<Inner>) {
    use diesel::Connection as _;
    use diesel::connection::SimpleConnection as _;
    while inner.strong_count() > 0 {
        let mut conn = match diesel::PgConnection::establish(url)
            .map_err(|e| e.to_string())
            .and_then(|mut c| {
                c.batch_execute(&format!("LISTEN {CHANNEL}"))
                    .map(|()| c)
                    .map_err(|e| e.to_string())
            }) {
            Ok(conn) => {
                if let Some(live) = inner.upgrade() {
                    live.changed_all();
                }
                conn
            }
            Err(e) => {
                tracing::warn!(error = %e, "could not listen for live notifications; trying again");
                std::thread::sleep(Duration::from_secs(1));
                continue;
            }
        };
        let mut checked = std::time::Instant::now();
        'connected: loop {
            let Some(live) = inner.upgrade() else {
                return;
            };
            if checked.elapsed() >= LISTEN_CHECK {
                checked = std::time::Instant::now();
                if let Err(e) = conn.batch_execute("SELECT 1") {
                    tracing::warn!(error = %e, "the live notifications connection broke");
                    break 'connected;
                }
            }
            for notification in conn.notifications_iter() {
                match notification {
                    Ok(n) => {
                        if let Ok(user) = n.payload.parse::<i32>() {
                            live.changed(user);
                        }
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "the live notifications connection broke");
                        break 'connected;
                    }
                }
            }
            drop(live);
            std::thread::sleep(LISTEN_POLL);
        }
    }
}

/// One open stream's interest in a user; the last one to go removes the user's entry.
struct Subscription {
    /// Always `Some` until dropped.
    receiver: Option<watch::Receiver<u64>>,
    user: i32,
    live: Weak<Inner>,
}

impl Subscription {
    async fn changed(&mut self) -> bool {
        match &mut self.receiver {
            Some(receiver) => receiver.changed().await.is_ok(),
            None => false,
        }
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        if let Some(inner) = self.live.upgrade() {
            let mut users = inner.users.lock().unwrap_or_else(|e| e.into_inner());
            // Let go under the lock, so two streams closing at once cannot both see the other.
            drop(self.receiver.take());
            if users
                .get(&self.user)
                .is_some_and(|s| s.receiver_count() == 0)
            {
                users.remove(&self.user);
            }
        }
    }
}

/// An event of the stream: the notification as `/notifications` gives it, its timestamp as the
/// event's id (a reconnecting browser sends it back as `Last-Event-ID`).
fn event(n: &message::Notification) -> String {
    let json = serde_json::to_string(n).unwrap_or_else(|_| "null".to_owned());
    format!("id: {}\nevent: notification\ndata: {json}\n\n", n.timestamp)
}

/// `GET /notifications/stream[?since=]`: the user's notifications newer than `since` (or the
/// `Last-Event-ID` a reconnecting browser sends), then each new one as it is written.
pub async fn stream(
    req: HttpRequest,
    login: LoginRequired,
    state: web::Data<State>,
) -> Result<HttpResponse, AppError> {
    let last_event = req
        .headers()
        .get("Last-Event-ID")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let from_query = crate::form::parse_urlencoded(req.query_string().as_bytes())
        .ok()
        .and_then(|pairs| {
            pairs
                .into_iter()
                .find(|(n, _)| n == "since")
                .map(|(_, v)| v)
        });
    let since = crate::blueprints::main::parse_since(last_event.or(from_query).as_deref());
    let since = match since {
        Ok(since) => since,
        Err(e) => {
            login.read(|_, _| Ok(())).await?;
            return Err(e);
        }
    };
    let (_, (me, first)) = login
        .read(move |conn, me| Ok((me, message::notifications_since(conn, me, since)?)))
        .await?;
    let Some(subscription) = state.live.subscribe(me) else {
        let why = crate::i18n::Message::new("error-too-many-streams")
            .with("max", MAX_STREAMS_PER_USER as i64)
            .text(&crate::i18n::for_request(&req));
        return Ok(HttpResponse::TooManyRequests()
            .insert_header((header::RETRY_AFTER, "10"))
            .content_type(mime::TEXT_PLAIN_UTF_8)
            .body(why));
    };
    let since = first.last().map_or(since, |n| n.timestamp);
    let opening: String = std::iter::once(format!(": live\nretry: {RETRY_MS}\n\n"))
        .chain(first.iter().map(event))
        .collect();
    let db = state.db.clone();
    let ends = actix_web::rt::time::Instant::now() + MAX_AGE;
    let events = futures_util::stream::unfold(
        (Some(opening), subscription, db, since),
        move |(pending, mut subscription, db, mut since)| async move {
            if let Some(text) = pending {
                return Some((Ok(web::Bytes::from(text)), (None, subscription, db, since)));
            }
            let text = loop {
                tokio::select! {
                    woke = subscription.changed() => {
                        if !woke {
                            return None;
                        }
                        let user = subscription.user;
                        let found = db
                            .run(move |conn| message::notifications_since(conn, user, since))
                            .await;
                        match found {
                            Ok(found) if found.is_empty() => {}
                            Ok(found) => {
                                since = found.last().map_or(since, |n| n.timestamp);
                                break found.iter().map(event).collect::<String>();
                            }
                            Err(e) => {
                                tracing::warn!(error = %crate::error::chain(&e), "live stream read failed");
                                // The browser reconnects, with the last id it got.
                                return None;
                            }
                        }
                    }
                    () = actix_web::rt::time::sleep(KEEPALIVE) => break ": keepalive\n\n".to_owned(),
                    () = actix_web::rt::time::sleep_until(ends) => return None,
                }
            };
            Some((
                Ok::<_, actix_web::Error>(web::Bytes::from(text)),
                (None, subscription, db, since),
            ))
        },
    );
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/event-stream"))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::CONTENT_ENCODING, "identity"))
        .insert_header(("X-Accel-Buffering", "no"))
        .streaming(events))
}
