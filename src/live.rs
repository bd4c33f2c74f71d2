//! Live notifications (chapter 21, beyond the tutorial's poll every 10 seconds): the hub that
//! wakes a user's open streams when their notifications change. The stream itself,
//! `GET /notifications/stream` (server-sent events), is a page of the main blueprint
//! (`src/blueprints/main/notifications.rs`); it subscribes here and reads what is new.
//!
//! - **Within an instance**, [`Live`] holds a counter per user with an open stream. A handler
//!   that changed a user's notifications calls [`Live::changed`]; each of that user's streams
//!   wakes ([`Subscription::changed`]), reads what is new since it last sent, and sends it.
//! - **Across instances** (PostgreSQL), every notification written also runs
//!   `pg_notify('microblog_live', <user id>)` in its transaction (`message::notify`). Each
//!   instance LISTENs on a connection of its own ([`Live::listen`]) and calls `changed` for what
//!   it hears, so a message sent through one instance reaches a tab connected to another. On
//!   SQLite there is one instance, and `changed` alone does it.
//! - **A bounded number of streams per user** ([`MAX_STREAMS_PER_USER`]): a browser holds one
//!   whatever its tabs (`static/js/microblog.js` lets one tab hold the stream and pass what it
//!   gets to the others), so a script cannot make every change cost thousands of reads.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use diesel::Connection as _;
use diesel::connection::SimpleConnection as _;
use tokio::sync::watch;

use crate::models::message::LIVE_CHANNEL;

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
    pub fn subscribe(&self, user: i32) -> Option<Subscription> {
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
    while inner.strong_count() > 0 {
        let mut conn = match diesel::PgConnection::establish(url)
            .map_err(|e| e.to_string())
            .and_then(|mut c| {
                c.batch_execute(&format!("LISTEN {LIVE_CHANNEL}"))
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
        let mut checked = Instant::now();
        'connected: loop {
            let Some(live) = inner.upgrade() else {
                return;
            };
            if checked.elapsed() >= LISTEN_CHECK {
                checked = Instant::now();
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
pub struct Subscription {
    /// Always `Some` until dropped.
    receiver: Option<watch::Receiver<u64>>,
    user: i32,
    live: Weak<Inner>,
}

impl Subscription {
    /// The user whose notifications this stream follows.
    pub fn user(&self) -> i32 {
        self.user
    }

    /// Waits until the user's notifications may have changed; `false` once the hub is gone.
    pub async fn changed(&mut self) -> bool {
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
