//! Flask's `flash()` and `get_flashed_messages()`: messages kept in the session until the next
//! page that shows them, so each is seen exactly once.

use actix_session::SessionExt;
use actix_web::HttpRequest;

const KEY: &str = "_flashes";

/// Queues a message for the next rendered page.
pub fn flash(req: &HttpRequest, message: impl Into<String>) {
    let session = req.get_session();
    let mut messages: Vec<String> = session.get(KEY).ok().flatten().unwrap_or_default();
    messages.push(message.into());
    if let Err(e) = session.insert(KEY, messages) {
        tracing::warn!(error = %e, "could not store a flash message");
    }
}

/// Takes the queued messages out of the session (Flask: `get_flashed_messages()`).
pub fn take(req: &HttpRequest) -> Vec<String> {
    let session = req.get_session();
    // `remove` marks the session changed even for a missing key, which would re-encrypt and
    // re-send the cookie with every page; most pages have no message.
    if !session.contains_key(KEY) {
        return Vec::new();
    }
    session
        .remove_as::<Vec<String>>(KEY)
        .and_then(Result::ok)
        .unwrap_or_default()
}
