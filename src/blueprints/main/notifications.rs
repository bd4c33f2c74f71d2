//! Flask: `notifications` of `app/main/routes.py` (chapter 21), and its live twin, a port
//! addition: `GET /notifications/stream` sends each notification as it is written instead of
//! waiting for the page's next poll. The hub that wakes a stream is `src/live.rs`.
//!
//! - A stream lasts [`MAX_AGE`]; the browser opens it again, and that request checks the login,
//!   so an ended login stops getting notifications.
//! - Streams are never compressed (`Content-Encoding: identity`): actix's `Compress` would hold
//!   the events back until its buffer filled.

use std::time::Duration;

use actix_web::http::header;
use actix_web::rt::time::{Instant, sleep, sleep_until};
use actix_web::{HttpRequest, HttpResponse, web};

use crate::error::{AppError, chain};
use crate::form::parse_urlencoded;
use crate::i18n::{self, Message};
use crate::live::MAX_STREAMS_PER_USER;
use crate::login::LoginRequired;
use crate::models::message::{self, Notification};
use crate::state::State;

/// How often a stream sends a comment when nothing happens, so proxies keep it open and a
/// closed tab's stream is noticed.
const KEEPALIVE: Duration = Duration::from_secs(15);

/// How long one stream lasts. The browser then opens it again (`EventSource` does, with the
/// last event's id), and that request checks the login anew: a login ended by "log out
/// everywhere" or by its expiry stops getting notifications within this time.
const MAX_AGE: Duration = Duration::from_secs(300);

/// How long the browser waits before it opens an ended stream again.
const RETRY_MS: u32 = 1_000;

/// The latest Unix time `since` may be: year 5138. Later is not a time this site will reach.
const MAX_SINCE: f64 = 1e11;

/// `since` as a Unix time: missing is 0; garbage, negative, infinite or far-future is a 400.
fn parse_since(raw: Option<&str>) -> Result<f64, AppError> {
    let Some(raw) = raw.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(0.0);
    };
    match raw.parse::<f64>() {
        Ok(t) if t.is_finite() && (0.0..=MAX_SINCE).contains(&t) => Ok(t),
        _ => Err(AppError::bad_request(Message::new("error-since"))),
    }
}

/// The `since` a request asks for: a reconnecting stream's `Last-Event-ID` if given, else the
/// `since` of the query string. A query that cannot be decoded is a 400 too.
fn requested_since(req: &HttpRequest, last_event_id: Option<&str>) -> Result<f64, AppError> {
    match last_event_id {
        Some(id) => parse_since(Some(id)),
        None => {
            let pairs = parse_urlencoded(req.query_string().as_bytes())
                .map_err(|_| AppError::bad_request(Message::new("error-since")))?;
            let since = pairs.iter().find(|(name, _)| name == "since");
            parse_since(since.map(|(_, v)| v.as_str()))
        }
    }
}

/// Checks the login and reads the user's notifications newer than `since`, in one trip to the
/// database: the user, the time of the last one read (or `since`), and the notifications. A bad
/// `since` is a 400, but anonymous visitors are sent to log in first, as for any other page.
async fn read_since(
    login: LoginRequired,
    since: Result<f64, AppError>,
) -> Result<(i32, f64, Vec<Notification>), AppError> {
    let since = match since {
        Ok(since) => since,
        Err(e) => {
            login.read(|_, _| Ok(())).await?;
            return Err(e);
        }
    };
    let (_, (me, found)) = login
        .read(move |conn, me| Ok((me, message::notifications_since(conn, me, since)?)))
        .await?;
    let last = found.last().map_or(since, |n| n.timestamp);
    Ok((me, last, found))
}

/// Flask: main.notifications (chapter 21): `GET /notifications?since=<unix time>`, the user's
/// notifications newer than `since`, oldest first, as `[{"name", "data", "timestamp"}]`.
pub async fn notifications(
    req: HttpRequest,
    login: LoginRequired,
) -> Result<HttpResponse, AppError> {
    let (_, _, found) = read_since(login, requested_since(&req, None)).await?;
    Ok(HttpResponse::Ok().json(found))
}

/// An event of the stream: the notification as `/notifications` gives it, its timestamp as the
/// event's id (a reconnecting browser sends it back as `Last-Event-ID`).
fn event(n: &Notification) -> String {
    let json = serde_json::to_string(n).unwrap_or_else(|_| "null".to_owned());
    format!("id: {}\nevent: notification\ndata: {json}\n\n", n.timestamp)
}

/// Port addition: `GET /notifications/stream[?since=]`, server-sent events: the user's
/// notifications newer than `since` (or the `Last-Event-ID` a reconnecting browser sends), then
/// each new one as it is written, until [`MAX_AGE`]. Past `live::MAX_STREAMS_PER_USER` streams
/// of one user, a 429.
pub async fn stream(
    req: HttpRequest,
    login: LoginRequired,
    state: web::Data<State>,
) -> Result<HttpResponse, AppError> {
    let last_event = req
        .headers()
        .get("Last-Event-ID")
        .and_then(|v| v.to_str().ok());
    let (me, since, first) = read_since(login, requested_since(&req, last_event)).await?;
    let Some(subscription) = state.live.subscribe(me) else {
        let why = Message::new("error-too-many-streams")
            .with("max", MAX_STREAMS_PER_USER as i64)
            .text(&i18n::for_request(&req));
        return Ok(HttpResponse::TooManyRequests()
            .insert_header((header::RETRY_AFTER, "10"))
            .content_type(mime::TEXT_PLAIN_UTF_8)
            .body(why));
    };
    let opening: String = std::iter::once(format!(": live\nretry: {RETRY_MS}\n\n"))
        .chain(first.iter().map(event))
        .collect();
    let db = state.db.clone();
    let ends = Instant::now() + MAX_AGE;
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
                        let user = subscription.user();
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
                                tracing::warn!(error = %chain(&e), "live stream read failed");
                                // The browser reconnects, with the last id it got.
                                return None;
                            }
                        }
                    }
                    () = sleep(KEEPALIVE) => break ": keepalive\n\n".to_owned(),
                    () = sleep_until(ends) => return None,
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
