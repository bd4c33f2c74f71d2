//! An activity POSTed to an inbox (a user's, or the shared `/inbox`): checked, then done.
//!
//! The checks, in order, as Mastodon makes them (`docs/24-federation.md`):
//!
//! 1. The client's address has had fewer than [`super::RATE_LIMIT`] activities refused (401 or
//!    403) in the window, else 429.
//! 2. A `Signature` header, else 401.
//! 3. It covers `(request-target)`, `host`, `date` and `digest`, else 401.
//! 4. `Date` within [`DATE_WINDOW`] of now (a replayed request is stale), else 401.
//! 5. `Digest` is the body's SHA-256 (the signature covers the digest, the digest the body),
//!    else 401.
//! 6. The body is a JSON object with a `type` and an `actor` (serde_json refuses nesting deeper
//!    than 128), else 400.
//! 7. The `keyId` is on the actor's server and is the actor's key (the stored copy of the
//!    actor, or its document fetched now), else 403: a server may not speak for another.
//! 8. That key verifies the signature; a stored key that fails is fetched once more (the actor
//!    may have a new key), else 401. An actor fetched for a request is stored only once its
//!    signature verifies.
//! 9. The actor's server is within its rate ([`super::RATE_LIMIT`]), else 429. It is counted
//!    only now: a forged `keyId` naming a server cannot spend that server's allowance.
//!
//! Then: Follow (stored, and an Accept queued), Undo of a Follow, Accept and Reject of our
//! follows, Create of a Note (kept when a local user follows its author), Delete of a Note or
//! of the actor itself. Anything else is answered 202 and ignored.

use serde_json::Value;

use super::{Federation, html, signature};
use crate::error::AppError;
use crate::models::actor::{self, RemotePost};
use crate::models::erase;
use crate::models::job::{self, Job};
use crate::models::user;
use crate::translate::detect_language;

/// How far a request's `Date` may be from now: Mastodon's window.
pub const DATE_WINDOW: chrono::TimeDelta = chrono::TimeDelta::hours(12);

/// An incoming POST, as the handler read it.
pub struct Incoming<'a> {
    pub method: &'a str,
    pub path_and_query: &'a str,
    /// A header's value by its lower-case name.
    pub header: &'a dyn Fn(&str) -> Option<&'a str>,
    pub body: &'a [u8],
    /// The address of the client that sent it, as throttling counts it.
    pub client: Option<std::net::IpAddr>,
}

/// Why an activity is refused, and the status that says it.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("too many activities from this server; try again later")]
    TooMany,
}

impl Refusal {
    pub fn status(&self) -> u16 {
        match self {
            Self::Unauthorized(_) => 401,
            Self::Forbidden(_) => 403,
            Self::BadRequest(_) => 400,
            Self::TooMany => 429,
        }
    }
}

fn unauthorized(why: impl std::fmt::Display) -> Refusal {
    Refusal::Unauthorized(why.to_string())
}

/// The id a field names: the string, or the `id` of the object it holds.
fn id_of(value: &Value) -> Option<&str> {
    match value {
        Value::String(s) => Some(s),
        Value::Object(o) => o.get("id").and_then(Value::as_str),
        Value::Array(a) => a.first().and_then(id_of),
        _ => None,
    }
}

/// Whether `object`'s `to` or `cc` names the public collection (in any of its three spellings).
fn addressed_to_public(object: &Value) -> bool {
    let names_public = |v: &Value| {
        v.as_str()
            .is_some_and(|s| matches!(s, super::PUBLIC | "as:Public" | "Public"))
    };
    ["to", "cc"].iter().any(|field| match &object[*field] {
        Value::Array(items) => items.iter().any(names_public),
        other => names_public(other),
    })
}

pub async fn receive(
    fed: &Federation,
    request: &Incoming<'_>,
) -> Result<Result<(), Refusal>, AppError> {
    if let Some(client) = request.client
        && !fed.may_try(client)
    {
        return Ok(Err(Refusal::TooMany));
    }
    let answer = check_and_perform(fed, request).await?;
    if let (Err(Refusal::Unauthorized(_) | Refusal::Forbidden(_)), Some(client)) =
        (&answer, request.client)
    {
        fed.refused_from(client);
    }
    Ok(answer)
}

async fn check_and_perform(
    fed: &Federation,
    request: &Incoming<'_>,
) -> Result<Result<(), Refusal>, AppError> {
    let header = request.header;
    let Some(value) = header("signature") else {
        return Ok(Err(unauthorized(
            "the request is not signed (no Signature header)",
        )));
    };
    let parsed = match signature::SignatureHeader::parse(value) {
        Ok(parsed) => parsed,
        Err(e) => return Ok(Err(unauthorized(e))),
    };
    for name in ["(request-target)", "host", "date", "digest"] {
        if let Err(e) = parsed.covers(name) {
            return Ok(Err(unauthorized(e)));
        }
    }
    let date = header("date").and_then(|d| httpdate::parse_http_date(d).ok());
    let Some(date) = date else {
        return Ok(Err(unauthorized("no readable Date header")));
    };
    let now = std::time::SystemTime::now();
    let off = now
        .duration_since(date)
        .or_else(|_| date.duration_since(now))
        .unwrap_or_default();
    if off > DATE_WINDOW.to_std().unwrap_or_default() {
        return Ok(Err(unauthorized("the Date is more than 12 hours from now")));
    }
    if !header("digest").is_some_and(|d| signature::digest_matches(d, request.body)) {
        return Ok(Err(unauthorized("the Digest does not match the body")));
    }
    // The signed Host must be this server: a delivery signed for another server's inbox,
    // replayed here within the Date window, is refused.
    if !header("host").is_some_and(|h| h.eq_ignore_ascii_case(&fed.config.server_name)) {
        return Ok(Err(unauthorized("the request was signed for another host")));
    }
    let activity: Value = match serde_json::from_slice(request.body) {
        Ok(Value::Object(o)) => Value::Object(o),
        Ok(_) => return Ok(Err(Refusal::BadRequest("not a JSON object".into()))),
        Err(e) => return Ok(Err(Refusal::BadRequest(format!("not JSON: {e}")))),
    };
    let (Some(kind), Some(actor_id)) = (activity["type"].as_str(), id_of(&activity["actor"]))
    else {
        return Ok(Err(Refusal::BadRequest(
            "an activity needs a type and an actor".into(),
        )));
    };
    if fed.is_ours(actor_id) {
        return Ok(Err(Refusal::Forbidden(
            "the actor is of this instance".into(),
        )));
    }
    let signed = signature::signing_string(
        &parsed.headers,
        request.method,
        request.path_and_query,
        |name| header(name),
    );
    let signed = match signed {
        Ok(signed) => signed,
        Err(e) => return Ok(Err(unauthorized(e))),
    };
    // A Delete of an actor we never knew (Mastodon tells every server it ever talked to, and the
    // actor's key is gone with it): nothing to delete, and no key to fetch.
    if kind == "Delete" {
        let id = actor_id.to_owned();
        let known = fed
            .db
            .run(move |conn| actor::find_remote_by_uri(conn, &id))
            .await?;
        if known.is_none() {
            return Ok(Ok(()));
        }
    }
    let signer = match verified_signer(fed, actor_id, &parsed, &signed).await? {
        Ok(signer) => signer,
        Err(refusal) => return Ok(Err(refusal)),
    };
    // A server is its host and port: two instances on one machine are two servers.
    let server = url::Url::parse(&signer.uri)
        .map(|u| super::host_port(&u))
        .unwrap_or_default();
    if !fed.allow_from(&server) {
        return Ok(Err(Refusal::TooMany));
    }
    perform(fed, kind, &activity, &signer).await
}

/// The remote actor `actor_id`, when `signed` was signed with its key: the stored copy, or its
/// document fetched now. A stored key that fails is fetched once more (the actor may have a
/// new key), unless it was fetched just now. An actor fetched for this request is stored only
/// once the signature verifies: a stranger's request stores nothing.
async fn verified_signer(
    fed: &Federation,
    actor_id: &str,
    parsed: &signature::SignatureHeader,
    signed: &str,
) -> Result<Result<actor::RemoteActor, Refusal>, AppError> {
    let key_id = parsed.key_id.as_str();
    let verifies = |pem: &str| signature::verify(pem, signed, &parsed.signature).is_ok();
    let another_actor =
        || Refusal::Forbidden("the signature is of another actor than the activity's".into());
    let same_server = match (url::Url::parse(key_id), url::Url::parse(actor_id)) {
        (Ok(key), Ok(actor)) => super::host_port(&key) == super::host_port(&actor),
        _ => false,
    };
    if !same_server {
        return Ok(Err(another_actor()));
    }
    let id = actor_id.to_owned();
    let known = fed
        .db
        .run(move |conn| actor::find_remote_by_uri(conn, &id))
        .await?;
    let known_key = known.as_ref().is_some_and(|k| k.key_id == key_id);
    if let Some(known) = known.filter(|_| known_key) {
        if verifies(&known.public_key_pem) {
            return Ok(Ok(known));
        }
        if crate::models::now() - known.fetched_at < super::REFETCH_AFTER {
            return Ok(Err(unauthorized("the signature does not match")));
        }
    }
    let fetched = match fed.fetch_actor_document(actor_id).await {
        Ok(fetched) => fetched,
        Err(e) => {
            tracing::info!(actor_id, error = %e, "the actor of a signature could not be fetched");
            return Ok(Err(unauthorized("the signing key could not be found")));
        }
    };
    if fetched.uri != actor_id {
        return Ok(Err(Refusal::Forbidden(
            "the actor's document has another id".into(),
        )));
    }
    if fetched.key_id != key_id {
        return Ok(Err(if known_key {
            unauthorized("the signature does not match")
        } else {
            another_actor()
        }));
    }
    if !verifies(&fetched.public_key_pem) {
        return Ok(Err(unauthorized("the signature does not match")));
    }
    match fed.store_actor(fetched).await {
        Ok(Some((_, signer))) => Ok(Ok(signer)),
        Ok(None) => Ok(Err(Refusal::Forbidden(
            "the actor's name is another account's here".into(),
        ))),
        Err(e) => Err(anyhow::Error::new(e).into()),
    }
}

/// Does a verified activity of `signer`.
async fn perform(
    fed: &Federation,
    kind: &str,
    activity: &Value,
    signer: &actor::RemoteActor,
) -> Result<Result<(), Refusal>, AppError> {
    let remote_id = signer.user_id;
    match kind {
        "Follow" => {
            let Some(name) = id_of(&activity["object"]).and_then(|o| fed.local_name(o)) else {
                return Ok(Ok(()));
            };
            let Some(local) = fed
                .db
                .run(move |conn| user::find_by_username(conn, &name))
                .await?
            else {
                return Ok(Ok(()));
            };
            fed.keys(local.id).await?;
            let me = fed.actor_url(&local.username);
            let accept = serde_json::json!({
                "@context": super::CONTEXT,
                "id": format!("{me}#accepts/{}", super::random_hex(8)),
                "type": "Accept",
                "actor": me,
                "object": activity,
            });
            let (local_id, inbox) = (local.id, signer.inbox.clone());
            fed.db
                .run(move |conn| {
                    diesel::Connection::transaction(conn, |conn| {
                        actor::follow(conn, remote_id, local_id)?;
                        job::enqueue(
                            conn,
                            &Job::Deliver {
                                inbox,
                                signer: local_id,
                                activity: accept.to_string(),
                                key: None,
                            },
                        )
                    })
                })
                .await?;
            fed.wake();
        }
        "Undo" => {
            let object = &activity["object"];
            let own_follow =
                object["type"] == "Follow" && id_of(&object["actor"]) == Some(signer.uri.as_str());
            if own_follow
                && let Some(name) = id_of(&object["object"]).and_then(|o| fed.local_name(o))
            {
                fed.db
                    .run(move |conn| match user::find_by_username(conn, &name)? {
                        Some(local) => user::unfollow(conn, remote_id, local.id).map(drop),
                        None => Ok(()),
                    })
                    .await?;
            }
        }
        "Accept" => {} // our follow was stored when it was sent
        "Reject" => {
            let object = &activity["object"];
            if let Some(name) = id_of(&object["actor"]).and_then(|a| fed.local_name(a)) {
                fed.db
                    .run(move |conn| match user::find_by_username(conn, &name)? {
                        Some(local) => user::unfollow(conn, local.id, remote_id).map(drop),
                        None => Ok(()),
                    })
                    .await?;
            }
        }
        "Create" => return create(fed, activity, signer).await,
        "Delete" => {
            let Some(object) = id_of(&activity["object"]).map(str::to_owned) else {
                return Ok(Err(Refusal::BadRequest("a Delete needs an object".into())));
            };
            let languages = fed.languages.clone();
            if object == signer.uri {
                fed.db
                    .run(move |conn| erase::delete_account(conn, remote_id, &languages))
                    .await?;
            } else {
                fed.db
                    .run(
                        move |conn| match actor::find_remote_post(conn, &object, remote_id)? {
                            Some(id) => {
                                erase::delete_post(conn, id, remote_id, &languages).map(drop)
                            }
                            None => Ok(()),
                        },
                    )
                    .await?;
            }
        }
        _ => {}
    }
    Ok(Ok(()))
}

/// A `Create`: a Note by the signer is kept when a local user follows them.
async fn create(
    fed: &Federation,
    activity: &Value,
    signer: &actor::RemoteActor,
) -> Result<Result<(), Refusal>, AppError> {
    let note = &activity["object"];
    if note["type"] != "Note" {
        return Ok(Ok(()));
    }
    let Some(ap_id) = note["id"].as_str() else {
        return Ok(Err(Refusal::BadRequest("a Note needs an id".into())));
    };
    if ap_id.chars().any(char::is_control) || url::Url::parse(ap_id).is_err() {
        return Ok(Err(Refusal::BadRequest("a Note's id must be a URL".into())));
    }
    if ap_id.len() > super::MAX_ID {
        return Ok(Err(Refusal::BadRequest("a Note's id is too long".into())));
    }
    // Every post here is public (shown on /explore, the profile and in search): a followers-only
    // or direct Note is not kept, as this site cannot show it to its audience only.
    if !addressed_to_public(note) && !addressed_to_public(activity) {
        return Ok(Ok(()));
    }
    if id_of(&note["attributedTo"]) != Some(signer.uri.as_str()) {
        return Ok(Err(Refusal::Forbidden(
            "the Note is attributed to another actor".into(),
        )));
    }
    let same_host = |a: &str, b: &str| {
        let host = |u: &str| url::Url::parse(u).ok().map(|u| super::host_port(&u));
        host(a).is_some() && host(a) == host(b)
    };
    if !same_host(ap_id, &signer.uri) {
        return Ok(Err(Refusal::Forbidden(
            "the Note's id is on another server".into(),
        )));
    }
    let content = note["content"]
        .as_str()
        .or_else(|| {
            note["contentMap"]
                .as_object()
                .and_then(|m| m.values().find_map(Value::as_str))
        })
        .unwrap_or_default();
    let mut body_html = html::sanitise(content);
    let mut text = html::to_text(content);
    if text.is_empty() {
        return Ok(Ok(()));
    }
    // A content warning (Mastodon's "CW", the Note's `summary`): the post shows the warning,
    // and its text only when the reader opens it.
    let warning = note["summary"].as_str().map(html::to_text);
    if let Some(warning) = warning.filter(|w| !w.is_empty()) {
        let warning = html::truncate(&warning, 500);
        body_html = format!(
            "<details><summary>{}</summary>{body_html}</details>",
            html::escape(&warning)
        );
        text = format!("{warning}\n{text}");
    }
    let body = html::truncate(&text, crate::domain::PostBody::MAX);
    // The language's primary subtag ("zh" of "zh-Hant"), as the column holds posts' languages.
    let language = note["contentMap"]
        .as_object()
        .and_then(|m| m.keys().next())
        .and_then(|tag| tag.split('-').next())
        .filter(|l| (2..=3).contains(&l.len()) && l.chars().all(|c| c.is_ascii_alphabetic()))
        .map(str::to_ascii_lowercase)
        .or_else(|| detect_language(&text).map(str::to_owned));
    let timestamp = super::published(&note["published"]);
    let (ap_id, author) = (ap_id.to_owned(), signer.user_id);
    fed.db
        .run(move |conn| {
            if !actor::has_local_followers(conn, author)? {
                return Ok(None);
            }
            actor::store_remote_post(
                conn,
                &RemotePost {
                    ap_id: &ap_id,
                    user_id: author,
                    body: &body,
                    body_html: &body_html,
                    timestamp,
                    language: language.as_deref(),
                },
            )
        })
        .await?;
    Ok(Ok(()))
}
