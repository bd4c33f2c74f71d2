//! Federation's tables (`docs/24-federation.md`): the key pair of each local user who has
//! federated (`actor_keys`) and the instance's own (`instance_keys`), the accounts of other servers (`remote_actors`, beside their row
//! of `users`), and the posts received from them (`posts.ap_id`).
//!
//! A remote account is a row of `users` named `name@host`. A local name cannot hold `@`
//! (`domain::Username`), so the two never meet; follows, timelines, profiles and counts then
//! work on remote accounts unchanged. Its password hash is `!`, which no bcrypt hash is, and
//! `password::authenticate` refuses a name with `@` whatever the password; its address is a
//! made-up one under `.invalid`, a top-level domain that never exists (RFC 2606), so no mail
//! reaches anyone through it.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::{DbConn, on_backend, write_transaction};
use crate::models::user::{self, User};
use crate::schema::{actor_keys, followers, instance_keys, posts, remote_actors, users};

/// A local user's key pair, PEM.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = actor_keys)]
pub struct ActorKeys {
    pub user_id: i32,
    pub public_key_pem: String,
    pub private_key_pem: String,
}

/// Where a remote account lives and how its signatures are checked.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = remote_actors)]
pub struct RemoteActor {
    pub user_id: i32,
    /// The actor's id, its URL.
    pub uri: String,
    pub inbox: String,
    pub shared_inbox: Option<String>,
    /// The id of its public key (`https://host/users/x#main-key`), as signatures name it.
    pub key_id: String,
    pub public_key_pem: String,
    pub fetched_at: NaiveDateTime,
}

/// The password hash of a remote account: not a bcrypt hash, so nothing ever verifies it.
pub const NO_PASSWORD: &str = "!";

/// Whether a username is a remote account's (`name@host`).
pub fn is_remote_name(username: &str) -> bool {
    username.contains('@')
}

/// User `user_id`'s key pair, if made.
pub fn keys(conn: &mut DbConn, user_id: i32) -> QueryResult<Option<ActorKeys>> {
    actor_keys::table
        .find(user_id)
        .select(ActorKeys::as_select())
        .first(conn)
        .optional()
}

/// Forgets user `user_id`'s key pair (`microblog user rotate-key`); whether there was one.
pub fn forget_keys(conn: &mut DbConn, user_id: i32) -> QueryResult<bool> {
    Ok(diesel::delete(actor_keys::table.find(user_id)).execute(conn)? > 0)
}

/// Stores a key pair for `user_id` unless one was stored meanwhile; returns the one kept.
pub fn keep_keys(
    conn: &mut DbConn,
    user_id: i32,
    public_pem: &str,
    private_pem: &str,
    now: NaiveDateTime,
) -> QueryResult<ActorKeys> {
    on_backend!(conn, c => diesel::insert_into(actor_keys::table)
        .values((
            actor_keys::user_id.eq(user_id),
            actor_keys::public_key_pem.eq(public_pem),
            actor_keys::private_key_pem.eq(private_pem),
            actor_keys::created_at.eq(now),
        ))
        .on_conflict_do_nothing()
        .execute(c))?;
    actor_keys::table
        .find(user_id)
        .select(ActorKeys::as_select())
        .first(conn)
}

/// The instance actor's key pair (public, private), if made.
pub fn instance_keys(conn: &mut DbConn) -> QueryResult<Option<(String, String)>> {
    instance_keys::table
        .find(1)
        .select((
            instance_keys::public_key_pem,
            instance_keys::private_key_pem,
        ))
        .first(conn)
        .optional()
}

/// Stores the instance actor's key pair unless one was stored meanwhile (by another instance
/// on the same database); returns the one kept.
pub fn keep_instance_keys(
    conn: &mut DbConn,
    public_pem: &str,
    private_pem: &str,
    now: NaiveDateTime,
) -> QueryResult<(String, String)> {
    on_backend!(conn, c => diesel::insert_into(instance_keys::table)
        .values((
            instance_keys::id.eq(1),
            instance_keys::public_key_pem.eq(public_pem),
            instance_keys::private_key_pem.eq(private_pem),
            instance_keys::created_at.eq(now),
        ))
        .on_conflict_do_nothing()
        .execute(c))?;
    instance_keys(conn)?.ok_or(diesel::result::Error::NotFound)
}

/// The remote account whose actor id is `uri`.
pub fn find_remote_by_uri(conn: &mut DbConn, uri: &str) -> QueryResult<Option<RemoteActor>> {
    remote_actors::table
        .filter(remote_actors::uri.eq(uri))
        .select(RemoteActor::as_select())
        .first(conn)
        .optional()
}

/// The remote account of user `id`, if it is one.
pub fn find_remote(conn: &mut DbConn, id: i32) -> QueryResult<Option<RemoteActor>> {
    remote_actors::table
        .find(id)
        .select(RemoteActor::as_select())
        .first(conn)
        .optional()
}

/// `user`'s actor id when it is a remote account (the profile links to its own page), else
/// `None`. A local user costs no query.
pub fn actor_id_of(conn: &mut DbConn, user: &User) -> QueryResult<Option<String>> {
    if !is_remote_name(&user.username) {
        return Ok(None);
    }
    remote_actors::table
        .find(user.id)
        .select(remote_actors::uri)
        .first(conn)
        .optional()
}

/// What a remote actor's document said, to store.
#[derive(Debug, Clone)]
pub struct FetchedActor<'a> {
    /// `name@host`.
    pub username: &'a str,
    /// A random address under `.invalid` for a new row.
    pub placeholder_email: &'a str,
    pub about_me: Option<&'a str>,
    pub uri: &'a str,
    pub inbox: &'a str,
    pub shared_inbox: Option<&'a str>,
    pub key_id: &'a str,
    pub public_key_pem: &'a str,
}

/// Stores a remote actor: a new `users` row and its `remote_actors` row, or the known one
/// brought up to date. `None` when its name is another account's (another actor, or a local
/// name in another case). It reads before it writes, so on SQLite it takes the write lock as it
/// begins (`write_transaction`): begun as a reader, it was refused "database is locked" when
/// another actor was stored meanwhile (Follows from new accounts arriving together).
pub fn upsert_remote(
    conn: &mut DbConn,
    actor: &FetchedActor<'_>,
    now: NaiveDateTime,
) -> QueryResult<Option<(User, RemoteActor)>> {
    let stored = write_transaction(conn, |conn| {
        let known = find_remote_by_uri(conn, actor.uri)?;
        let user_id = match &known {
            Some(known) => {
                diesel::update(users::table.find(known.user_id))
                    .set(users::about_me.eq(actor.about_me))
                    .execute(conn)?;
                known.user_id
            }
            None => {
                let user: User = diesel::insert_into(users::table)
                    .values(&user::NewUser {
                        username: actor.username,
                        email: actor.placeholder_email,
                        password_hash: NO_PASSWORD,
                        last_seen: now,
                        about_me: actor.about_me,
                    })
                    .returning(users::all_columns)
                    .get_result(conn)?;
                user.id
            }
        };
        let row = RemoteActor {
            user_id,
            uri: actor.uri.to_owned(),
            inbox: actor.inbox.to_owned(),
            shared_inbox: actor.shared_inbox.map(str::to_owned),
            key_id: actor.key_id.to_owned(),
            public_key_pem: actor.public_key_pem.to_owned(),
            fetched_at: now,
        };
        diesel::delete(remote_actors::table.find(user_id)).execute(conn)?;
        diesel::insert_into(remote_actors::table)
            .values(&row)
            .execute(conn)?;
        let user = users::table
            .find(user_id)
            .select(User::as_select())
            .first(conn)?;
        Ok((user, row))
    });
    match stored {
        Ok(both) => Ok(Some(both)),
        Err(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        )) => Ok(None),
        Err(e) => Err(e),
    }
}

/// The inboxes to deliver user `id`'s posts to: each remote follower's server's shared inbox
/// once, or the follower's own inbox when its server has none.
pub fn follower_inboxes(conn: &mut DbConn, id: i32) -> QueryResult<Vec<String>> {
    let rows: Vec<(String, Option<String>)> = remote_actors::table
        .inner_join(followers::table.on(followers::follower_id.eq(remote_actors::user_id)))
        .filter(followers::followed_id.eq(id))
        .select((remote_actors::inbox, remote_actors::shared_inbox))
        .load(conn)?;
    let mut inboxes: Vec<String> = rows
        .into_iter()
        .map(|(inbox, shared)| shared.unwrap_or(inbox))
        .collect();
    inboxes.sort();
    inboxes.dedup();
    Ok(inboxes)
}

/// `follower` follows `followed`, once however often asked, inside a transaction too:
/// `user::follow` meets the primary key and ignores the error, which on PostgreSQL would abort
/// the transaction around it; this asks the database to skip the row instead.
pub fn follow(conn: &mut DbConn, follower: i32, followed: i32) -> QueryResult<()> {
    on_backend!(conn, c => diesel::insert_into(followers::table)
        .values((
            followers::follower_id.eq(follower),
            followers::followed_id.eq(followed),
        ))
        .on_conflict_do_nothing()
        .execute(c))?;
    Ok(())
}

/// Whether any local user follows user `id`.
pub fn has_local_followers(conn: &mut DbConn, id: i32) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        followers::table
            .inner_join(users::table.on(users::id.eq(followers::follower_id)))
            .filter(followers::followed_id.eq(id))
            .filter(users::password_hash.ne(NO_PASSWORD)),
    ))
    .get_result(conn)
}

/// The most accounts a followers or following collection lists.
pub const MOST_LISTED: i64 = 1000;

/// Those who follow user `id` (`followers_of`), or whom they follow: each one's username and,
/// for a remote account, its actor id; at most [`MOST_LISTED`], oldest accounts first.
pub fn follow_names(
    conn: &mut DbConn,
    id: i32,
    followers_of: bool,
) -> QueryResult<Vec<(String, Option<String>)>> {
    macro_rules! names {
        ($mine:expr, $theirs:expr) => {
            followers::table
                .inner_join(users::table.on(users::id.eq($theirs)))
                .left_join(remote_actors::table.on(remote_actors::user_id.eq(users::id)))
                .filter($mine.eq(id))
                .order(users::id)
                .limit(MOST_LISTED)
                .select((users::username, remote_actors::uri.nullable()))
                .load(conn)
        };
    }
    if followers_of {
        names!(followers::followed_id, followers::follower_id)
    } else {
        names!(followers::follower_id, followers::followed_id)
    }
}

/// A post received from another server.
#[derive(Debug)]
pub struct RemotePost<'a> {
    pub ap_id: &'a str,
    pub user_id: i32,
    /// Its text, for search and the places that show text (at most 140 characters).
    pub body: &'a str,
    /// Its HTML, sanitised.
    pub body_html: &'a str,
    pub timestamp: NaiveDateTime,
    pub language: Option<&'a str>,
}

/// Stores a received post once: a second delivery of the same object changes nothing. Its id,
/// or `None` when it was there already.
pub fn store_remote_post(conn: &mut DbConn, post: &RemotePost<'_>) -> QueryResult<Option<i32>> {
    on_backend!(conn, c => diesel::insert_into(posts::table)
        .values((
            posts::body.eq(post.body),
            posts::body_html.eq(post.body_html),
            posts::ap_id.eq(post.ap_id),
            posts::user_id.eq(post.user_id),
            posts::timestamp.eq(post.timestamp),
            posts::language.eq(post.language),
        ))
        .on_conflict_do_nothing()
        .returning(posts::id)
        .get_result::<i32>(c)
        .optional())
}

/// The id of the post `ap_id` by user `author`, if we have it.
pub fn find_remote_post(conn: &mut DbConn, ap_id: &str, author: i32) -> QueryResult<Option<i32>> {
    posts::table
        .filter(posts::ap_id.eq(ap_id))
        .filter(posts::user_id.eq(author))
        .select(posts::id)
        .first(conn)
        .optional()
}

/// How many local users and local posts there are (NodeInfo's usage).
pub fn local_counts(conn: &mut DbConn) -> QueryResult<(i64, i64)> {
    let users = users::table
        .filter(users::password_hash.ne(NO_PASSWORD))
        .count()
        .get_result(conn)?;
    let posts = posts::table
        .filter(posts::ap_id.is_null())
        .count()
        .get_result(conn)?;
    Ok((users, posts))
}

/// The local user named `name` (not a remote account).
pub fn find_local(conn: &mut DbConn, name: &str) -> QueryResult<Option<User>> {
    Ok(user::find_by_username(conn, name)?.filter(|u| !is_remote_name(&u.username)))
}
