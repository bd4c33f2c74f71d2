//! The microblog in the Fediverse (`docs/24-federation.md`): WebFinger, ActivityPub actors and
//! activities, HTTP Signatures. On only with `FEDERATION=1`; `State::federation` is `None`
//! otherwise, and the federation blueprint is not even registered.
//!
//! - `signature.rs`: HTTP Signatures and `Digest`, no I/O.
//! - `client.rs`: the guarded HTTP client (https only, no private addresses, size and time
//!   limits), signing what it sends.
//! - `html.rs`: remote HTML, sanitised, and its text.
//! - `inbox.rs`: an incoming activity, checked (signature, digest, date, actor) and done.
//! - this file: [`Federation`], the service handlers and jobs use: this instance's URLs, the
//!   documents it serves, finding remote actors, and what is sent when a local user follows,
//!   posts or deletes. Sending is always a job (`models::job::Job::Deliver`), never in the
//!   request that asked.

mod client;
pub mod html;
pub mod inbox;
pub mod signature;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use diesel::Connection as _;
use serde_json::{Value, json};

pub use self::client::{Client, FetchError, Signer};
use crate::config::FederationConfig;
use crate::db::{Db, DbConn, write_transaction};
use crate::error::AppError;
use crate::jobs::{Jobs, Lease, Permanent};
use crate::models::actor::{self, ActorKeys, FetchedActor, RemoteActor};
use crate::models::erase::{self, PostDeletion};
use crate::models::job::{self, CarriedKey, Job};
use crate::models::post::{self, NewPost, PostWithAuthor};
use crate::models::user::{self, User};
use crate::urls::user_url;

/// ActivityPub's media type.
pub const ACTIVITY_JSON: &str = "application/activity+json";
/// WebFinger's.
pub const JRD_JSON: &str = "application/jrd+json";
/// The audience "everyone".
pub const PUBLIC: &str = "https://www.w3.org/ns/activitystreams#Public";
const CONTEXT: &str = "https://www.w3.org/ns/activitystreams";
const SECURITY_CONTEXT: &str = "https://w3id.org/security/v1";
/// Activities one remote server may send in a [`RATE_WINDOW`], counted once their signature
/// is verified; also the refused ones (unsigned, signed wrongly) one client address may send
/// before it is told to wait. A forged `keyId` cannot spend another server's allowance.
pub const RATE_LIMIT: u32 = 300;
pub const RATE_WINDOW: Duration = Duration::from_secs(60);
/// The longest id (of a Note, an actor, a key, an inbox) kept, in bytes. PostgreSQL's unique
/// indexes on them hold at most about 2,700 bytes a row: a longer one gave a 500. No server
/// makes ids nearly this long.
pub const MAX_ID: usize = 2048;
/// How old a cached remote key may be before a failing signature makes us fetch it again.
const REFETCH_AFTER: chrono::TimeDelta = chrono::TimeDelta::seconds(60);

/// Federation, as handlers and jobs use it.
#[derive(Clone)]
pub struct Federation {
    pub config: FederationConfig,
    db: Db,
    jobs: Jobs,
    client: Client,
    /// The site's languages (to forget the kept translations of a deleted post).
    languages: Vec<String>,
    /// Verified activities per remote host in the current window.
    counts: Arc<Counts<String>>,
    /// Refused activities per client address in the current window.
    refusals: Arc<Counts<std::net::IpAddr>>,
    /// Held while a key pair is made: one at a time, whoever asks.
    making_keys: Arc<tokio::sync::Mutex<()>>,
}

/// Counts per key in windows of [`RATE_WINDOW`] from each key's first count.
struct Counts<K>(Mutex<HashMap<K, (Instant, u32)>>);

impl<K> Default for Counts<K> {
    fn default() -> Self {
        Self(Mutex::new(HashMap::new()))
    }
}

impl<K: std::hash::Hash + Eq> Counts<K> {
    /// Adds `n` to `key`'s count and returns it.
    fn add(&self, key: K, n: u32) -> u32 {
        let now = Instant::now();
        let mut counts = self.0.lock().unwrap_or_else(|e| e.into_inner());
        // Forget keys whose window has passed, so the map does not grow with every name.
        if counts.len() > 10_000 {
            counts.retain(|_, (start, _)| now.duration_since(*start) < RATE_WINDOW);
        }
        let entry = counts.entry(key).or_insert((now, 0));
        if now.duration_since(entry.0) >= RATE_WINDOW {
            *entry = (now, 0);
        }
        entry.1 += n;
        entry.1
    }
}

impl Federation {
    pub fn new(config: FederationConfig, db: Db, jobs: Jobs, languages: Vec<String>) -> Self {
        Self {
            client: Client {
                allow_private: config.allow_private,
            },
            config,
            db,
            jobs,
            languages,
            counts: Arc::default(),
            refusals: Arc::default(),
            making_keys: Arc::default(),
        }
    }

    /// The actor URL of local user `username`: their profile's URL.
    pub fn actor_url(&self, username: &str) -> String {
        actor_url(&self.config, username)
    }

    /// The local username an actor URL of this instance names, if it is one.
    pub fn local_name(&self, uri: &str) -> Option<String> {
        let rest = uri
            .strip_prefix(&self.config.base())?
            .strip_prefix("/user/")?;
        if rest.contains('/') || rest.contains('#') || rest.contains('?') {
            return None;
        }
        let name = percent_encoding::percent_decode_str(rest)
            .decode_utf8()
            .ok()?
            .into_owned();
        (!actor::is_remote_name(&name)).then_some(name)
    }

    /// Whether `uri` is on this instance.
    fn is_ours(&self, uri: &str) -> bool {
        url::Url::parse(uri)
            .is_ok_and(|u| host_port(&u).eq_ignore_ascii_case(&self.config.server_name))
    }

    /// A URL of one of this instance's posts.
    pub fn post_url(&self, id: i32) -> String {
        format!("{}/post/{id}", self.config.base())
    }

    /// User `user_id`'s key pair, made (off the async threads) and stored the first time. The
    /// first GET of an actor makes it, and anyone may ask: pairs are made one at a time, so
    /// strangers asking for many actors at once take one core, not all of them.
    pub async fn keys(&self, user_id: i32) -> Result<ActorKeys, AppError> {
        self.made_once(
            move |conn| actor::keys(conn, user_id),
            move |conn, pair, now| {
                actor::keep_keys(conn, user_id, &pair.public_pem, &pair.private_pem, now)
            },
        )
        .await
    }

    /// The instance actor's key pair (public, private), made and stored the first time, as
    /// a user's is ([`Self::keys`]).
    pub async fn instance_keys(&self) -> Result<(String, String), AppError> {
        self.made_once(actor::instance_keys, |conn, pair, now| {
            actor::keep_instance_keys(conn, &pair.public_pem, &pair.private_pem, now)
        })
        .await
    }

    /// What `read` finds; when it finds nothing, a new key pair that `keep` stores. Pairs are
    /// made one at a time, and a request that waited reads again first: the request before it
    /// may have made the very pair it wants.
    async fn made_once<T, E>(
        &self,
        read: impl Fn(&mut DbConn) -> Result<Option<T>, E> + Clone + Send + 'static,
        keep: impl FnOnce(&mut DbConn, signature::KeyPair, chrono::NaiveDateTime) -> Result<T, E>
        + Send
        + 'static,
    ) -> Result<T, AppError>
    where
        T: Send + 'static,
        E: Into<AppError> + Send + 'static,
    {
        if let Some(found) = self.db.run(read.clone()).await? {
            return Ok(found);
        }
        let _making = self.making_keys.lock().await;
        if let Some(found) = self.db.run(read).await? {
            return Ok(found);
        }
        let pair = actix_web::web::block(signature::generate).await??;
        let now = crate::models::now();
        self.db.run(move |conn| keep(conn, pair, now)).await
    }

    /// The instance actor's URL: the server itself, as an `Application`, which signs this
    /// server's fetches of other servers' documents.
    pub fn instance_actor_url(&self) -> String {
        format!("{}/actor", self.config.base())
    }

    /// The instance actor's document.
    pub fn instance_actor_document(&self, public_pem: &str) -> Value {
        let id = self.instance_actor_url();
        json!({
            "@context": [CONTEXT, SECURITY_CONTEXT],
            "id": id,
            "type": "Application",
            "preferredUsername": self.config.server_name,
            "name": "microblog",
            "url": self.config.base(),
            "inbox": format!("{}/inbox", self.config.base()),
            "outbox": format!("{id}/outbox"),
            "manuallyApprovesFollowers": true,
            "endpoints": { "sharedInbox": format!("{}/inbox", self.config.base()) },
            "publicKey": {
                "id": format!("{id}#main-key"),
                "owner": id,
                "publicKeyPem": public_pem,
            },
        })
    }

    /// The Person document of local `user`.
    pub fn actor_document(&self, user: &User, keys: &ActorKeys) -> Value {
        let id = self.actor_url(&user.username);
        let summary = user
            .about_me
            .as_deref()
            .map(|text| format!("<p>{}</p>", html::escape(text)))
            .unwrap_or_default();
        json!({
            "@context": [CONTEXT, SECURITY_CONTEXT],
            "id": id,
            "type": "Person",
            "preferredUsername": user.username,
            "name": user.username,
            "summary": summary,
            "url": id,
            "inbox": format!("{id}/inbox"),
            "outbox": format!("{id}/outbox"),
            "followers": format!("{id}/followers"),
            "following": format!("{id}/following"),
            "manuallyApprovesFollowers": false,
            "discoverable": true,
            "icon": {
                "type": "Image",
                "mediaType": "image/png",
                "url": user::avatar_url(&user.email, 256),
            },
            "endpoints": { "sharedInbox": format!("{}/inbox", self.config.base()) },
            "publicKey": {
                "id": format!("{id}#main-key"),
                "owner": id,
                "publicKeyPem": keys.public_key_pem,
            },
        })
    }

    /// Post `p` as a Note.
    pub fn note(&self, p: &PostWithAuthor) -> Value {
        let author = self.actor_url(&p.author);
        json!({
            "id": self.post_url(p.id),
            "type": "Note",
            "attributedTo": author,
            "content": format!("<p>{}</p>", html::escape(&p.body)),
            "published": format!("{}Z", p.timestamp.format("%Y-%m-%dT%H:%M:%S")),
            "url": self.post_url(p.id),
            "to": [PUBLIC],
            "cc": [format!("{author}/followers")],
        })
    }

    /// The `Create` of post `p`, as sent to followers and listed in the outbox.
    pub fn create_activity(&self, p: &PostWithAuthor) -> Value {
        let author = self.actor_url(&p.author);
        json!({
            "@context": CONTEXT,
            "id": format!("{}/activity", self.post_url(p.id)),
            "type": "Create",
            "actor": author,
            "published": format!("{}Z", p.timestamp.format("%Y-%m-%dT%H:%M:%S")),
            "to": [PUBLIC],
            "cc": [format!("{author}/followers")],
            "object": self.note(p),
        })
    }

    /// The WebFinger answer for local user `username`.
    pub fn webfinger(&self, username: &str) -> Value {
        let id = self.actor_url(username);
        json!({
            "subject": format!("acct:{username}@{}", self.config.server_name),
            "aliases": [id],
            "links": [
                { "rel": "self", "type": ACTIVITY_JSON, "href": id },
                { "rel": "http://webfinger.net/rel/profile-page", "type": "text/html", "href": id },
            ],
        })
    }

    /// Counts one verified activity from `host`; false when the host is over [`RATE_LIMIT`].
    pub fn allow_from(&self, host: &str) -> bool {
        self.counts.add(host.to_ascii_lowercase(), 1) <= RATE_LIMIT
    }

    /// Whether client `address` may still send: fewer than [`RATE_LIMIT`] of its activities
    /// were refused in this window.
    pub fn may_try(&self, address: std::net::IpAddr) -> bool {
        self.refusals.add(address, 0) < RATE_LIMIT
    }

    /// Counts one refused activity from client `address`.
    pub fn refused_from(&self, address: std::net::IpAddr) {
        self.refusals.add(address, 1);
    }

    // Remote actors.

    /// Finds `name@host` by WebFinger and stores its actor: the local row that stands for it.
    /// `None` when the server says there is no such account, or cannot be reached.
    pub async fn resolve_handle(&self, handle: &str) -> Result<Option<User>, AppError> {
        let Some((name, host)) = parse_handle(handle) else {
            return Ok(None);
        };
        if host.eq_ignore_ascii_case(&self.config.server_name) {
            let local = name.to_owned();
            return self
                .db
                .run(move |conn| user::find_by_username(conn, &local))
                .await;
        }
        let scheme = if self.config.allow_private {
            "http"
        } else {
            "https"
        };
        let resource = crate::urls::encode_component(&format!("acct:{name}@{host}"));
        let url = format!("{scheme}://{host}/.well-known/webfinger?resource={resource}");
        let answer = match self.client.get_json(&url, JRD_JSON, None).await {
            Ok((answer, _)) => answer,
            Err(e) => {
                tracing::info!(%handle, error = %e, "WebFinger found no actor");
                return Ok(None);
            }
        };
        let Some(actor_url) = answer["links"].as_array().and_then(|links| {
            links.iter().find_map(|l| {
                let self_link = l["rel"] == "self"
                    && l["type"].as_str().is_some_and(|t| {
                        t == ACTIVITY_JSON || t.starts_with("application/ld+json")
                    });
                self_link.then(|| l["href"].as_str()).flatten()
            })
        }) else {
            return Ok(None);
        };
        // The handle's server speaks for its own accounts only: an actor it names on another
        // host would be shown for a handle that is not its own.
        let same_host =
            url::Url::parse(actor_url).is_ok_and(|u| host_port(&u).eq_ignore_ascii_case(host));
        if !same_host {
            tracing::info!(%handle, actor_url, "WebFinger named an actor on another host");
            return Ok(None);
        }
        match self.fetch_actor(actor_url).await {
            Ok(Some((user, _))) => Ok(Some(user)),
            Ok(None) => Ok(None),
            Err(e) => {
                tracing::info!(%handle, error = %e, "the actor could not be fetched");
                Ok(None)
            }
        }
    }

    /// Fetches the actor at `uri` and stores it (new, or brought up to date). `None` when its
    /// name is taken by another actor.
    pub async fn fetch_actor(&self, uri: &str) -> Result<Option<(User, RemoteActor)>, FetchError> {
        let fetched = self.fetch_actor_document(uri).await?;
        self.store_actor(fetched).await
    }

    /// Fetches and checks the actor at `uri`, storing nothing: an actor named by a request
    /// not yet verified is stored only once its signature is.
    async fn fetch_actor_document(&self, uri: &str) -> Result<FetchedOwned, FetchError> {
        let uri = uri.split('#').next().unwrap_or(uri);
        if self.is_ours(uri) {
            return Err(FetchError::Refused(format!("{uri} is this instance's")));
        }
        // Signed by the instance actor: a server in Mastodon's "secure mode" answers only
        // signed fetches.
        let (_, private_pem) = self
            .instance_keys()
            .await
            .map_err(|e| FetchError::Transport(format!("the instance's key: {e}")))?;
        let key_id = format!("{}#main-key", self.instance_actor_url());
        let signer = Signer {
            key_id: &key_id,
            private_pem: &private_pem,
        };
        let (document, answered_by) = self
            .client
            .get_json(uri, client::ACCEPT, Some(&signer))
            .await?;
        self.check_actor(&answered_by, &document)
    }

    /// Stores a checked actor: a new account here, or the known one brought up to date.
    async fn store_actor(
        &self,
        fetched: FetchedOwned,
    ) -> Result<Option<(User, RemoteActor)>, FetchError> {
        let now = crate::models::now();
        self.db
            .run(move |conn| actor::upsert_remote(conn, &fetched.borrowed(), now))
            .await
            .map_err(|e| FetchError::Transport(format!("storing the actor: {e}")))
    }

    /// What the actor `document` says, checked: it was served by `answered_by` (the URL that
    /// answered, after redirects), and its id and its key's id are on that URL's server.
    fn check_actor(
        &self,
        answered_by: &url::Url,
        document: &Value,
    ) -> Result<FetchedOwned, FetchError> {
        let fetched_from = answered_by.as_str();
        let bad = |what: &str| FetchError::Json(format!("{fetched_from}: {what}"));
        let id = document["id"].as_str().ok_or_else(|| bad("no id"))?;
        let too_long = [&document["id"], &document["inbox"]]
            .iter()
            .any(|v| v.as_str().is_some_and(|s| s.len() > MAX_ID));
        if too_long {
            return Err(bad("an id over 2,048 bytes"));
        }
        let parsed = url::Url::parse(id).map_err(|_| bad("an id that is not a URL"))?;
        // A server speaks for its own actors only.
        if host_port(&parsed) != host_port(answered_by) {
            return Err(bad("an actor of another server"));
        }
        self.client.check_url(id)?;
        let name = document["preferredUsername"]
            .as_str()
            .ok_or_else(|| bad("no preferredUsername"))?;
        let username = format!("{name}@{}", host_port(&parsed).to_ascii_lowercase());
        let name_ok = !name.is_empty()
            && username.chars().count() <= crate::domain::Username::MAX
            && name
                .chars()
                .all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-'));
        if !name_ok {
            return Err(bad("a name this site cannot show"));
        }
        let inbox = document["inbox"].as_str().ok_or_else(|| bad("no inbox"))?;
        self.client.check_url(inbox)?;
        let shared_inbox = document["endpoints"]["sharedInbox"]
            .as_str()
            .filter(|s| s.len() <= MAX_ID && self.client.check_url(s).is_ok());
        let key = match &document["publicKey"] {
            Value::Array(keys) => keys.first().cloned().unwrap_or_default(),
            key => key.clone(),
        };
        let key_id = key["id"].as_str().ok_or_else(|| bad("no publicKey.id"))?;
        if key_id.len() > MAX_ID {
            return Err(bad("a key id over 2,048 bytes"));
        }
        let pem = key["publicKeyPem"]
            .as_str()
            .ok_or_else(|| bad("no publicKey.publicKeyPem"))?;
        if key["owner"].as_str().is_some_and(|owner| owner != id) {
            return Err(bad("a key owned by another actor"));
        }
        // A key lives on its actor's server: an actor naming another server's key id could
        // otherwise be taken for that key's owner.
        let key_on_server =
            url::Url::parse(key_id).is_ok_and(|k| host_port(&k) == host_port(&parsed));
        if !key_on_server {
            return Err(bad("a key on another server"));
        }
        signature::public_key(pem).map_err(|_| bad("a public key that cannot be read"))?;
        let about = document["summary"]
            .as_str()
            .map(|s| html::truncate(&html::to_text(s), 140));
        Ok(FetchedOwned {
            username,
            placeholder_email: format!("{}@remote.invalid", random_hex(12)),
            about_me: about,
            uri: id.to_owned(),
            inbox: inbox.to_owned(),
            shared_inbox: shared_inbox.map(str::to_owned),
            key_id: key_id.to_owned(),
            public_key_pem: pem.to_owned(),
        })
    }

    // What local users do.

    /// Local user `me` follows remote user `target` (or, with `follows` false, stops following):
    /// the follow row is written (or deleted) and the `Follow` (or its `Undo`) for the remote
    /// inbox queued in one transaction, so neither is ever kept without the other.
    pub async fn follow(
        &self,
        me: i32,
        my_name: &str,
        target: i32,
        follows: bool,
    ) -> Result<(), AppError> {
        // Made before the transaction: the delivery is signed with it.
        self.keys(me).await?;
        let actor = self.actor_url(my_name);
        let queued = self
            .db
            .run(move |conn| {
                write_transaction(conn, |conn| {
                    if follows {
                        user::follow(conn, me, target)?;
                    } else {
                        user::unfollow(conn, me, target)?;
                    }
                    let Some(remote) = actor::find_remote(conn, target)? else {
                        return Ok(false);
                    };
                    let follow = json!({
                        "@context": CONTEXT,
                        "id": format!("{actor}#follows/{target}"),
                        "type": "Follow",
                        "actor": actor,
                        "object": remote.uri,
                    });
                    let activity = if follows {
                        follow
                    } else {
                        json!({
                            "@context": CONTEXT,
                            "id": format!("{actor}#follows/{target}/undo/{}", random_hex(8)),
                            "type": "Undo",
                            "actor": actor,
                            "object": follow,
                        })
                    };
                    let job = Job::Deliver {
                        inbox: remote.inbox,
                        signer: me,
                        activity: activity.to_string(),
                        key: None,
                    };
                    job::enqueue(conn, &job)?;
                    Ok(true)
                })
            })
            .await?;
        if queued {
            self.jobs.wake();
        }
        Ok(())
    }

    /// Queues, in the caller's transaction, the sending of `activity` by local user `signer`
    /// to each server following them (the fan-out job finds the inboxes when it runs).
    pub fn queue_to_followers(
        conn: &mut DbConn,
        signer: i32,
        activity: &Value,
    ) -> diesel::QueryResult<()> {
        job::enqueue(
            conn,
            &Job::FanOut {
                signer,
                activity: activity.to_string(),
            },
        )
        .map(drop)
    }

    /// The `Delete` of local post `id` by `author`.
    pub fn delete_activity(&self, author: &str, id: i32) -> Value {
        let actor = self.actor_url(author);
        json!({
            "@context": CONTEXT,
            "id": format!("{}#delete", self.post_url(id)),
            "type": "Delete",
            "actor": actor,
            "to": [PUBLIC],
            "object": { "id": self.post_url(id), "type": "Tombstone" },
        })
    }

    /// Wakes the job runner after a transaction that queued jobs committed.
    pub fn wake(&self) {
        self.jobs.wake();
    }

    // The jobs.

    /// `Job::FanOut`: one `Job::Deliver` per inbox of `signer`'s remote followers (a server's
    /// shared inbox once), queued in one transaction that also completes this job.
    pub async fn fan_out(
        &self,
        lease: &Lease,
        signer: i32,
        activity: String,
    ) -> anyhow::Result<()> {
        let lease = lease.clone();
        let queued = self
            .db
            .run(move |conn| {
                conn.transaction(|conn| {
                    lease.check(conn)?;
                    let inboxes = actor::follower_inboxes(conn, signer)?;
                    for inbox in &inboxes {
                        job::enqueue(
                            conn,
                            &Job::Deliver {
                                inbox: inbox.clone(),
                                signer,
                                activity: activity.clone(),
                                key: None,
                            },
                        )?;
                    }
                    lease.complete(conn)?;
                    Ok::<_, diesel::result::Error>(inboxes.len())
                })
            })
            .await?;
        if queued > 0 {
            self.jobs.wake();
        }
        Ok(())
    }

    /// `Job::Deliver`: POSTs `activity` to `inbox`, signed now by `signer`'s key (or the
    /// carried `key` of a deleted account).
    pub async fn deliver(
        &self,
        inbox: &str,
        signer: i32,
        activity: &str,
        key: Option<CarriedKey>,
    ) -> anyhow::Result<()> {
        let key = match key {
            Some(key) => key,
            None => {
                let Some(user) = self.db.run(move |conn| user::find(conn, signer)).await? else {
                    return Err(Permanent(anyhow::anyhow!("the sender's account is gone")).into());
                };
                CarriedKey {
                    key_id: format!("{}#main-key", self.actor_url(&user.username)),
                    private_pem: self.keys(signer).await?.private_key_pem,
                }
            }
        };
        let signer = Signer {
            key_id: &key.key_id,
            private_pem: &key.private_pem,
        };
        match self
            .client
            .post_signed(inbox, activity.as_bytes(), &signer)
            .await
        {
            Ok(()) => Ok(()),
            Err(e) if e.is_permanent() => Err(Permanent(e.into()).into()),
            Err(e) => Err(anyhow::Error::new(e).context(format!("delivering to {inbox}"))),
        }
    }

    /// Checks and performs an incoming activity (`inbox.rs`).
    pub async fn receive(
        &self,
        request: &inbox::Incoming<'_>,
    ) -> Result<Result<(), inbox::Refusal>, AppError> {
        inbox::receive(self, request).await
    }
}

/// Stores a local post (Flask: `db.session.add(post)`) and, when federating, queues its
/// `Create` for the author's followers on other servers in the same transaction. Wake the job
/// runner ([`Federation::wake`]) after it. Returns the post's id.
pub fn publish(
    conn: &mut DbConn,
    federation: Option<&Federation>,
    new: &NewPost<'_>,
    author: &str,
) -> diesel::QueryResult<i32> {
    let Some(federation) = federation else {
        return post::create(conn, new);
    };
    conn.transaction(|conn| {
        let id = post::create(conn, new)?;
        let activity = federation.create_activity(&PostWithAuthor {
            id,
            user_id: new.user_id,
            body: new.body.to_owned(),
            timestamp: new.timestamp,
            language: new.language.map(str::to_owned),
            author: author.to_owned(),
            author_email: String::new(),
            body_html: None,
        });
        Federation::queue_to_followers(conn, new.user_id, &activity)?;
        Ok(id)
    })
}

/// Deletes local post `id` of `author` (`erase::delete_post`) and, when federating, queues its
/// `Delete` for the servers following them, in the same transaction. Wake the job runner after.
pub fn unpublish(
    conn: &mut DbConn,
    federation: Option<&Federation>,
    id: i32,
    (author, author_name): (i32, &str),
    languages: &[String],
) -> diesel::QueryResult<PostDeletion> {
    write_transaction(conn, |conn| {
        let done = erase::delete_post(conn, id, author, languages)?;
        if let (PostDeletion::Deleted, Some(federation)) = (&done, federation) {
            let delete = federation.delete_activity(author_name, id);
            Federation::queue_to_followers(conn, author, &delete)?;
        }
        Ok(done)
    })
}

/// The actor URL of local user `username` on the instance `config` describes.
fn actor_url(config: &FederationConfig, username: &str) -> String {
    format!("{}{}", config.base(), user_url(username))
}

/// Deletes account `id` and everything that is its own (`erase::delete_account`) and, when
/// federating, queues in the same transaction a `Delete` of the actor to every server that
/// follows it, signed with the account's key (carried by the jobs: the account's row and key
/// are gone when they run). Wake the job runner after it.
pub fn erase_account(
    conn: &mut DbConn,
    config: Option<&FederationConfig>,
    id: i32,
    languages: &[String],
) -> diesel::QueryResult<Option<erase::Erased>> {
    write_transaction(conn, |conn| {
        let mut farewells = Vec::new();
        let keys = match config {
            Some(_) => actor::keys(conn, id)?,
            None => None,
        };
        if let (Some(config), Some(keys), Some(user)) = (config, keys, user::find(conn, id)?) {
            let actor = actor_url(config, &user.username);
            let delete = json!({
                "@context": CONTEXT,
                "id": format!("{actor}#delete"),
                "type": "Delete",
                "actor": actor,
                "to": [PUBLIC],
                "object": actor,
            })
            .to_string();
            let key = CarriedKey {
                key_id: format!("{actor}#main-key"),
                private_pem: keys.private_key_pem,
            };
            for inbox in actor::follower_inboxes(conn, id)? {
                farewells.push(Job::Deliver {
                    inbox,
                    signer: id,
                    activity: delete.clone(),
                    key: Some(key.clone()),
                });
            }
        }
        let erased = erase::delete_account(conn, id, languages)?;
        if erased.is_some() {
            for job in &farewells {
                job::enqueue(conn, job)?;
            }
        }
        Ok(erased)
    })
}

/// [`FetchedActor`] with owned fields, to move into a database closure.
struct FetchedOwned {
    username: String,
    placeholder_email: String,
    about_me: Option<String>,
    uri: String,
    inbox: String,
    shared_inbox: Option<String>,
    key_id: String,
    public_key_pem: String,
}

impl FetchedOwned {
    fn borrowed(&self) -> FetchedActor<'_> {
        FetchedActor {
            username: &self.username,
            placeholder_email: &self.placeholder_email,
            about_me: self.about_me.as_deref(),
            uri: &self.uri,
            inbox: &self.inbox,
            shared_inbox: self.shared_inbox.as_deref(),
            key_id: &self.key_id,
            public_key_pem: &self.public_key_pem,
        }
    }
}

/// `user@host` (or `@user@host`, or `acct:user@host`) as its two parts.
pub fn parse_handle(handle: &str) -> Option<(&str, &str)> {
    let handle = handle.trim();
    let handle = handle.strip_prefix("acct:").unwrap_or(handle);
    let handle = handle.strip_prefix('@').unwrap_or(handle);
    let (name, host) = handle.split_once('@')?;
    let name_ok = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-'));
    let host_ok = !host.is_empty()
        && host.len() <= 253
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':'));
    (name_ok && host_ok).then_some((name, host))
}

/// `host[:port]` of a URL.
fn host_port(url: &url::Url) -> String {
    match (url.host_str(), url.port()) {
        (Some(host), Some(port)) => format!("{host}:{port}"),
        (Some(host), None) => host.to_owned(),
        _ => String::new(),
    }
}

fn random_hex(bytes: usize) -> String {
    use rand::RngCore as _;
    let mut buf = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buf);
    hex::encode(buf)
}

/// Whether an `Accept` header asks for ActivityPub JSON: `application/activity+json`, or
/// `application/ld+json` (with the ActivityStreams profile, or none), not refused with `q=0`.
pub fn wants_activity_json(accept: &str) -> bool {
    accept.split(',').any(|range| {
        let mut parts = range.split(';').map(str::trim);
        let media = parts.next().unwrap_or_default().to_ascii_lowercase();
        let mut refused = false;
        let mut profile_ok = true;
        for param in parts {
            let (name, value) = param.split_once('=').unwrap_or((param, ""));
            let value = value.trim().trim_matches('"');
            match name.trim().to_ascii_lowercase().as_str() {
                "q" => refused = value.parse::<f32>().is_ok_and(|q| q <= 0.0),
                "profile" => profile_ok = value.split_whitespace().any(|p| p == CONTEXT),
                _ => {}
            }
        }
        !refused && (media == ACTIVITY_JSON || (media == "application/ld+json" && profile_ok))
    })
}

/// The error of a federation job found when federation is off (the instance was restarted
/// without `FEDERATION`): permanent, the job is dropped.
pub fn off() -> anyhow::Error {
    Permanent(anyhow::anyhow!("federation is off (FEDERATION is not set)")).into()
}

/// Reads `published` (RFC 3339) as UTC, or now when missing, unreadable or in the future.
pub fn published(value: &Value) -> chrono::NaiveDateTime {
    let now = crate::models::now();
    value
        .as_str()
        .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.naive_utc())
        .filter(|t| *t <= now)
        .unwrap_or(now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_headers_choose_the_actor() {
        for yes in [
            "application/activity+json",
            "application/ld+json; profile=\"https://www.w3.org/ns/activitystreams\"",
            "text/html;q=0.5, application/activity+json",
            "application/ld+json",
        ] {
            assert!(wants_activity_json(yes), "{yes}");
        }
        for no in [
            "text/html",
            "*/*",
            "application/json",
            "application/activity+json;q=0",
            "application/ld+json; profile=\"https://example.com/other\"",
            "",
        ] {
            assert!(!wants_activity_json(no), "{no}");
        }
    }

    #[test]
    fn handles_are_read_in_their_three_forms() {
        assert_eq!(parse_handle("@mary@b.example"), Some(("mary", "b.example")));
        assert_eq!(
            parse_handle("acct:mary@b.example:8000"),
            Some(("mary", "b.example:8000"))
        );
        assert_eq!(parse_handle("mary@b.example"), Some(("mary", "b.example")));
        for bad in ["mary", "@mary", "mary@", "ma ry@b", "mary@b/c", "m@b@c"] {
            assert_eq!(parse_handle(bad), None, "{bad}");
        }
    }
}
