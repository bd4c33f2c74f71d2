//! Flask's `flash()` and `get_flashed_messages()`: messages kept in the session until the next
//! page that shows them, so each is seen exactly once.
//!
//! The session lives in a cookie, and a browser silently drops a cookie over 4 KiB, which
//! would log the user out. A message can carry user input ("User <name> not found."), so
//! messages are kept small: each is cut to [`MAX_CHARS`] in its middle (the end of a sentence
//! survives), and when waiting messages take more than [`BUDGET`] bytes the oldest go first.

use actix_session::SessionExt;
use actix_web::HttpRequest;
use serde::{Deserialize, Serialize};

use crate::i18n::{self, Message};

const KEY: &str = "_flashes";
/// The longest message kept, in characters.
pub const MAX_CHARS: usize = 200;
/// Bytes that waiting messages may take in the session (as JSON, before encryption): with the
/// rest of the session, the cookie stays near 2.5 KiB at most.
pub const BUDGET: usize = 1_500;

/// Flask's flash categories, shown in different colours.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// Something the user asked for was done.
    Success,
    /// Something the user should know.
    Info,
    /// Something went wrong or was refused.
    Error,
}

/// A message waiting in the session, already in the words of the language it was made in.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Flashed {
    pub kind: Kind,
    pub text: String,
    /// A link after the text, to what the reader can do next ("Ask for a new one").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<Link>,
}

/// A link of this site shown after a message.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Link {
    /// A path of this site, never user input.
    pub href: String,
    pub text: String,
}

/// A message as the session holds it: sessions from before messages had a kind hold bare texts.
#[derive(Deserialize)]
#[serde(untagged)]
enum Stored {
    Flashed(Flashed),
    Text(String),
}

/// The waiting messages, those of an older session as information.
fn stored<E>(read: Result<Option<Vec<Stored>>, E>) -> Vec<Flashed> {
    read.ok()
        .flatten()
        .unwrap_or_default()
        .into_iter()
        .map(|m| match m {
            Stored::Flashed(f) => f,
            Stored::Text(text) => Flashed {
                kind: Kind::Info,
                text,
                link: None,
            },
        })
        .collect()
}

/// Queues a message for the next rendered page, in this request's language (as Flask's
/// `flash(_('...'))` translates when it flashes).
pub fn flash(req: &HttpRequest, kind: Kind, message: Message) {
    push(req, kind, message, None);
}

/// [`flash`] with a link after the message: `href` (a path of this site) named `link`.
pub fn flash_with_link(
    req: &HttpRequest,
    kind: Kind,
    message: Message,
    href: &'static str,
    link: Message,
) {
    let link = Link {
        href: href.to_owned(),
        text: link.text(&i18n::for_request(req)),
    };
    push(req, kind, message, Some(link));
}

fn push(req: &HttpRequest, kind: Kind, message: Message, link: Option<Link>) {
    let text = message.text(&i18n::for_request(req));
    let session = req.get_session();
    let mut messages = stored(session.get::<Vec<Stored>>(KEY));
    messages.push(Flashed {
        kind,
        text: shorten(text),
        link,
    });
    while messages.len() > 1 && json_size(&messages) > BUDGET {
        messages.remove(0);
    }
    if let Err(e) = session.insert(KEY, messages) {
        tracing::warn!(error = %e, "could not store a flash message");
    }
}

/// `message`, or its start and end around an ellipsis when it is over [`MAX_CHARS`].
fn shorten(message: String) -> String {
    let count = message.chars().count();
    if count <= MAX_CHARS {
        return message;
    }
    let tail = MAX_CHARS / 4;
    let head = MAX_CHARS - tail - 1;
    let mut short: String = message.chars().take(head).collect();
    short.push('…');
    short.extend(message.chars().skip(count - tail));
    short
}

fn json_size(messages: &[Flashed]) -> usize {
    serde_json::to_string(messages).map_or(usize::MAX, |json| json.len())
}

/// Whether a message waits for the next page: a redirect that already says why it happened
/// (a logout, a dead link) needs no second message on the way.
pub fn waiting(req: &HttpRequest) -> bool {
    req.get_session().contains_key(KEY)
}

/// Takes the queued messages out of the session (Flask: `get_flashed_messages()`).
pub fn take(req: &HttpRequest) -> Vec<Flashed> {
    let session = req.get_session();
    // `remove` marks the session changed even for a missing key, which would re-encrypt and
    // re-send the cookie with every page; most pages have no message.
    if !session.contains_key(KEY) {
        return Vec::new();
    }
    stored(session.remove_as::<Vec<Stored>>(KEY).transpose())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_messages_keep_their_start_and_end_and_short_ones_are_untouched() {
        assert_eq!(
            shorten("User susan not found.".into()),
            "User susan not found."
        );
        let long = format!("User {} not found.", "é".repeat(3_500));
        let short = shorten(long);
        assert_eq!(short.chars().count(), MAX_CHARS);
        assert!(short.starts_with("User éé") && short.ends_with("é not found."));
        assert!(short.contains('…'));
    }

    #[test]
    fn messages_waiting_in_a_session_from_before_kinds_are_kept_as_information() {
        let old: Result<Option<Vec<Stored>>, serde_json::Error> =
            serde_json::from_str(r#"["Your post is now live!"]"#).map(Some);
        assert_eq!(
            stored(old),
            [Flashed {
                kind: Kind::Info,
                text: "Your post is now live!".into(),
                link: None,
            }]
        );
        let new: Result<Option<Vec<Stored>>, serde_json::Error> =
            serde_json::from_str(r#"[{"kind": "error", "text": "No."}]"#).map(Some);
        assert_eq!(stored(new)[0].kind, Kind::Error);
    }

    #[test]
    fn the_longest_messages_escaped_as_json_fit_the_budget() {
        // A control character is six bytes in JSON (`\u0001`), the worst case.
        let worst = vec![Flashed {
            kind: Kind::Success,
            text: shorten("\u{1}".repeat(5_000)),
            link: None,
        }];
        assert!(json_size(&worst) <= BUDGET, "{}", json_size(&worst));
    }
}
