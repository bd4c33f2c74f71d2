//! Cross-site request forgery protection (Flask-WTF's `CSRFProtect`): a random token kept in the
//! session, repeated in every form as the hidden `csrf_token` field, compared in constant time.
//!
//! Handlers that change state take their form as [`CsrfForm<T>`], so a POST without the right
//! token never reaches them: the check is in the signature, like `CurrentUser`.

use std::future::Future;
use std::pin::Pin;

use actix_session::SessionExt;
use actix_web::dev::Payload;
use actix_web::web::Bytes;
use actix_web::{FromRequest, HttpRequest};
use rand::RngCore;
use serde::de::DeserializeOwned;
use serde::de::value::MapDeserializer;
use subtle::ConstantTimeEq;

use crate::error::AppError;
use crate::form::parse_urlencoded;
use crate::i18n::Message;

const KEY: &str = "_csrf_token";
const FIELD: &str = "csrf_token";

/// The session's token, created on first use.
pub fn token(req: &HttpRequest) -> String {
    let session = req.get_session();
    if let Ok(Some(token)) = session.get::<String>(KEY) {
        return token;
    }
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let token = hex::encode(bytes);
    if let Err(e) = session.insert(KEY, &token) {
        tracing::warn!(error = %e, "could not store the CSRF token");
    }
    token
}

/// Forgets the token, so the next form gets a new one (done at login and logout).
pub fn rotate(req: &HttpRequest) {
    req.get_session().remove(KEY);
}

fn is_valid(req: &HttpRequest, submitted: Option<&str>) -> bool {
    let expected = req.get_session().get::<String>(KEY).ok().flatten();
    match (expected, submitted) {
        (Some(expected), Some(submitted)) => {
            bool::from(expected.as_bytes().ct_eq(submitted.as_bytes()))
        }
        _ => false,
    }
}

/// The header in which JavaScript sends the token (Flask-WTF's name for it).
pub const HEADER: &str = "X-CSRFToken";

/// Whether a request made by our JavaScript carries the session's token in [`HEADER`].
pub fn header_is_valid(req: &HttpRequest) -> bool {
    let submitted = req.headers().get(HEADER).and_then(|v| v.to_str().ok());
    is_valid(req, submitted)
}

/// A urlencoded form whose `csrf_token` matched the session's. `T` lists the other fields as
/// `String`s (`#[serde(default)]`); unknown fields such as `submit` are ignored.
pub struct CsrfForm<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for CsrfForm<T> {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let body = Bytes::from_request(&req, payload);
        Box::pin(async move {
            let body = body.await?;
            let mut pairs = parse_urlencoded(&body)?;
            let submitted = pairs
                .iter()
                .position(|(name, _)| name == FIELD)
                .map(|i| pairs.swap_remove(i).1);
            if !is_valid(&req, submitted.as_deref()) {
                return Err(AppError::bad_request(Message::new("error-csrf")).into());
            }
            let form = T::deserialize(MapDeserializer::<_, serde::de::value::Error>::new(
                pairs.into_iter(),
            ))
            .map_err(|e| {
                AppError::bad_request(
                    Message::new("error-form-malformed").with("detail", e.to_string()),
                )
            })?;
            Ok(Self(form))
        })
    }
}

/// The fields of a form that is only a button (`csrf_token` and `submit`).
#[derive(serde::Deserialize)]
pub struct NoFields {}
