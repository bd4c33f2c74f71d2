//! The handlers of the federation blueprint: small, the work is `src/federation/`'s.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;

use crate::error::AppError;
use crate::federation::inbox::Incoming;
use crate::federation::{ACTIVITY_JSON, Federation, JRD_JSON};
use crate::form::parse_urlencoded;
use crate::models::actor;
use crate::models::post::{self, Feed};
use crate::pagination::PageNumber;
use crate::state::State;

/// Posts an outbox lists.
const OUTBOX_POSTS: i64 = 20;

fn federation(state: &State) -> Result<&Federation, AppError> {
    state.federation.as_ref().ok_or(AppError::NotFound)
}

/// An ActivityPub document, with `Vary: Accept`: the same URL answers HTML to a browser, and a
/// cache must keep the two apart.
fn activity(document: &serde_json::Value) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(format!("{ACTIVITY_JSON}; charset=utf-8"))
        .insert_header((header::VARY, "Accept"))
        .body(document.to_string())
}

/// `GET /.well-known/webfinger?resource=acct:<name>@<SERVER_NAME>` (RFC 7033).
pub async fn webfinger(
    req: HttpRequest,
    state: web::Data<State>,
) -> Result<HttpResponse, AppError> {
    let fed = federation(&state)?;
    let pairs = parse_urlencoded(req.query_string().as_bytes()).unwrap_or_default();
    let Some(resource) = pairs
        .into_iter()
        .find(|(k, _)| k == "resource")
        .map(|(_, v)| v)
    else {
        return Ok(HttpResponse::BadRequest().json(json!({"error": "resource is missing"})));
    };
    // `acct:name@host`, or the actor's own URL.
    let name = match resource.strip_prefix("acct:") {
        Some(handle) => match handle.rsplit_once('@') {
            Some((name, host)) if host.eq_ignore_ascii_case(&fed.config.server_name) => {
                Some(name.to_owned())
            }
            _ => None,
        },
        None => fed.local_name(&resource),
    };
    let Some(name) = name else {
        return Err(AppError::NotFound);
    };
    let found = state
        .db
        .run(move |conn| actor::find_local(conn, &name))
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(HttpResponse::Ok()
        .content_type(JRD_JSON)
        .insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"))
        .body(fed.webfinger(&found.username).to_string()))
}

/// `GET /.well-known/nodeinfo`: where the NodeInfo document is.
pub async fn nodeinfo_links(state: web::Data<State>) -> Result<HttpResponse, AppError> {
    let fed = federation(&state)?;
    Ok(HttpResponse::Ok().json(json!({
        "links": [{
            "rel": "http://nodeinfo.diaspora.software/ns/schema/2.1",
            "href": format!("{}/nodeinfo/2.1", fed.config.base()),
        }],
    })))
}

/// `GET /nodeinfo/2.1`: the software, its protocol, and how many users and posts.
pub async fn nodeinfo(state: web::Data<State>) -> Result<HttpResponse, AppError> {
    federation(&state)?;
    let (users, posts) = state.db.run(actor::local_counts).await?;
    Ok(HttpResponse::Ok()
        .content_type(
            "application/json; profile=\"http://nodeinfo.diaspora.software/ns/schema/2.1#\"",
        )
        .body(
            json!({
                "version": "2.1",
                "software": { "name": "microblog", "version": env!("CARGO_PKG_VERSION") },
                "protocols": ["activitypub"],
                "services": { "inbound": [], "outbound": [] },
                "openRegistrations": true,
                "usage": { "users": { "total": users }, "localPosts": posts },
                "metadata": {},
            })
            .to_string(),
        ))
}

/// `GET /user/<name>` asking for ActivityPub: the user as a Person.
pub async fn actor(
    path: web::Path<String>,
    state: web::Data<State>,
) -> Result<HttpResponse, AppError> {
    let fed = federation(&state)?;
    let name = path.into_inner();
    let user = state
        .db
        .run(move |conn| actor::find_local(conn, &name))
        .await?
        .ok_or(AppError::NotFound)?;
    let keys = fed.keys(user.id).await?;
    Ok(activity(&fed.actor_document(&user, &keys)))
}

/// `GET /actor`: the instance actor, whose key signs this server's fetches.
pub async fn instance_actor(state: web::Data<State>) -> Result<HttpResponse, AppError> {
    let fed = federation(&state)?;
    let (public_pem, _) = fed.instance_keys().await?;
    Ok(activity(&fed.instance_actor_document(&public_pem)))
}

/// `GET /actor/outbox`: the instance actor posts nothing.
pub async fn instance_outbox(state: web::Data<State>) -> Result<HttpResponse, AppError> {
    let fed = federation(&state)?;
    Ok(activity(&json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{}/outbox", fed.instance_actor_url()),
        "type": "OrderedCollection",
        "totalItems": 0,
        "orderedItems": [],
    })))
}

/// `GET /post/<id>` asking for ActivityPub: a local post as a Note.
pub async fn note(path: web::Path<i32>, state: web::Data<State>) -> Result<HttpResponse, AppError> {
    let fed = federation(&state)?;
    let id = path.into_inner();
    let found = state.db.run(move |conn| post::find(conn, id)).await?;
    let post = found
        .filter(|p| !actor::is_remote_name(&p.author))
        .ok_or(AppError::NotFound)?;
    let mut note = fed.note(&post);
    note["@context"] = json!("https://www.w3.org/ns/activitystreams");
    Ok(activity(&note))
}

/// `POST /user/<name>/inbox`.
pub async fn user_inbox(
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
    state: web::Data<State>,
) -> Result<HttpResponse, AppError> {
    federation(&state)?;
    let name = path.into_inner();
    state
        .db
        .run(move |conn| actor::find_local(conn, &name))
        .await?
        .ok_or(AppError::NotFound)?;
    inbox(&req, &body, &state).await
}

/// `POST /inbox`, the shared inbox: one delivery per server for all its followers here.
pub async fn shared_inbox(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<State>,
) -> Result<HttpResponse, AppError> {
    inbox(&req, &body, &state).await
}

/// An activity, checked and done (`federation::inbox`): 202, or the refusal's 4xx with its
/// reason in JSON.
async fn inbox(req: &HttpRequest, body: &[u8], state: &State) -> Result<HttpResponse, AppError> {
    let fed = federation(state)?;
    let headers = req.headers();
    let lookup = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let path = req.uri().path_and_query().map_or("/", |p| p.as_str());
    let incoming = Incoming {
        method: req.method().as_str(),
        path_and_query: path,
        header: &lookup,
        body,
        client: state.throttle.client(req),
    };
    match fed.receive(&incoming).await? {
        Ok(()) => Ok(HttpResponse::Accepted().finish()),
        Err(refusal) => {
            tracing::info!(reason = %refusal, "an activity was refused");
            let status = actix_web::http::StatusCode::from_u16(refusal.status())
                .unwrap_or(actix_web::http::StatusCode::BAD_REQUEST);
            Ok(HttpResponse::build(status).json(json!({ "error": refusal.to_string() })))
        }
    }
}

/// `GET /user/<name>/outbox`: the user's newest posts as Create activities.
pub async fn outbox(
    path: web::Path<String>,
    state: web::Data<State>,
) -> Result<HttpResponse, AppError> {
    let fed = federation(&state)?;
    let name = path.into_inner();
    let found = state
        .db
        .run(move |conn| {
            let Some(user) = actor::find_local(conn, &name)? else {
                return Ok(None);
            };
            let total = post::count(conn, Feed::Author(user.id))?;
            let newest = post::page(conn, Feed::Author(user.id), PageNumber(1), OUTBOX_POSTS)?;
            Ok::<_, diesel::result::Error>(Some((user, total, newest)))
        })
        .await?;
    let (user, total, newest) = found.ok_or(AppError::NotFound)?;
    let items: Vec<_> = newest
        .items
        .iter()
        .map(|p| fed.create_activity(p))
        .collect();
    Ok(activity(&json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{}/outbox", fed.actor_url(&user.username)),
        "type": "OrderedCollection",
        "totalItems": total,
        "orderedItems": items,
    })))
}

/// `GET /user/<name>/followers`.
pub async fn followers(
    path: web::Path<String>,
    state: web::Data<State>,
) -> Result<HttpResponse, AppError> {
    collection(path.into_inner(), &state, true).await
}

/// `GET /user/<name>/following`.
pub async fn following(
    path: web::Path<String>,
    state: web::Data<State>,
) -> Result<HttpResponse, AppError> {
    collection(path.into_inner(), &state, false).await
}

/// Who follows `name` (or whom they follow), as actor URLs.
async fn collection(
    name: String,
    state: &State,
    followers: bool,
) -> Result<HttpResponse, AppError> {
    let fed = federation(state)?;
    let found = state
        .db
        .run(move |conn| {
            let Some(user) = actor::find_local(conn, &name)? else {
                return Ok(None);
            };
            let names = actor::follow_names(conn, user.id, followers)?;
            Ok::<_, diesel::result::Error>(Some((user, names)))
        })
        .await?;
    let (user, names) = found.ok_or(AppError::NotFound)?;
    let items: Vec<String> = names
        .into_iter()
        .map(|(name, uri)| uri.unwrap_or_else(|| fed.actor_url(&name)))
        .collect();
    let which = if followers { "followers" } else { "following" };
    Ok(activity(&json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{}/{which}", fed.actor_url(&user.username)),
        "type": "OrderedCollection",
        "totalItems": items.len(),
        "orderedItems": items,
    })))
}
