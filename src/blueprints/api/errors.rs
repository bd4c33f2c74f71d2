//! Flask: `app/api/errors.py` (chapter 23): every error under `/api` is JSON,
//! `{"error": <the status's English name>, "message": <why>}`, with the status code.
//!
//! Handlers fail with an [`ApiError`], and so do the API's unknown routes, wrong methods and
//! unreadable bodies (the scope's default service, each resource's, and its `JsonConfig`). What
//! is left, an id too large for a number and our own failures, comes out as a bare status, which
//! the errors blueprint dresses as JSON too, since the path starts with `/api/`.

use actix_web::error::JsonPayloadError;
use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::{AppError, BUSY_RETRY_SECONDS};
use crate::i18n::english;
use crate::limits;

/// An error's body (Flask: `error_response(status_code, message)`).
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// The status's name: "Bad Request", "Unauthorized", "Not Found"...
    #[schema(example = "Bad Request")]
    pub error: String,
    /// Why, in a sentence: every error has one.
    #[schema(example = "Send a valid token: Authorization: Bearer <token>.")]
    pub message: String,
}

#[derive(Debug)]
pub enum ApiError {
    /// A request the API refuses, and why.
    Refused {
        status: StatusCode,
        message: String,
        /// `WWW-Authenticate` for a 401, `Retry-After` for a 429.
        header: Option<(header::HeaderName, String)>,
    },
    /// Our own failure (a 500), handled as on every page: logged, mailed to the admins.
    App(AppError),
}

impl ApiError {
    fn refused(status: StatusCode, message: String) -> Self {
        Self::Refused {
            status,
            message,
            header: None,
        }
    }

    /// Flask: `bad_request(message)`.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::refused(StatusCode::BAD_REQUEST, message.into())
    }

    /// No valid credentials; `challenge` is the `WWW-Authenticate` that says which to send.
    pub fn unauthorized(challenge: &str) -> Self {
        let message = if challenge.starts_with("Basic") {
            "Send your username and password (HTTP Basic) to get a token."
        } else {
            "Send a valid token: Authorization: Bearer <token> (POST /api/tokens gives one)."
        };
        Self::Refused {
            status: StatusCode::UNAUTHORIZED,
            message: message.to_owned(),
            header: Some((header::WWW_AUTHENTICATE, challenge.to_owned())),
        }
    }

    pub fn forbidden(message: &str) -> Self {
        Self::refused(StatusCode::FORBIDDEN, message.to_owned())
    }

    pub fn not_found() -> Self {
        Self::refused(
            StatusCode::NOT_FOUND,
            "There is nothing at this URL: no such user, post or route.".to_owned(),
        )
    }

    /// Too many wrong passwords: wait this long.
    pub fn too_many(wait: std::time::Duration) -> Self {
        let seconds = wait.as_secs().max(1);
        Self::Refused {
            status: StatusCode::TOO_MANY_REQUESTS,
            message: format!("Too many failed attempts: try again in {seconds} seconds."),
            header: Some((header::RETRY_AFTER, seconds.to_string())),
        }
    }

    /// Too many wrong tokens from this address: wait this long.
    pub fn too_many_tokens(wait: std::time::Duration) -> Self {
        let seconds = wait.as_secs().max(1);
        Self::Refused {
            status: StatusCode::TOO_MANY_REQUESTS,
            message: format!(
                "Too many requests with a wrong token from your address: try again in {seconds} \
                 seconds."
            ),
            header: Some((header::RETRY_AFTER, seconds.to_string())),
        }
    }

    /// A body that could not be read as the JSON an endpoint takes.
    pub fn json(error: &JsonPayloadError) -> Self {
        match error {
            JsonPayloadError::Overflow { .. } | JsonPayloadError::OverflowKnownLength { .. } => {
                Self::refused(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    format!(
                        "The body is too large ({} KiB at most).",
                        limits::MAX_BODY >> 10
                    ),
                )
            }
            JsonPayloadError::ContentType => Self::refused(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "Send a JSON body, with Content-Type: application/json.".to_owned(),
            ),
            // The body is read as any JSON value first (`json::Body` then names a wrong field):
            // failing here, it is no JSON at all. Where, in our words: the parser's own message
            // is not the API's.
            JsonPayloadError::Deserialize(e) => Self::bad_request(format!(
                "The body is not valid JSON (line {}, column {}).",
                e.line(),
                e.column()
            )),
            // The connection broke off, or the body's encoding was wrong: nothing to quote.
            _ => Self::bad_request("The body could not be read whole.".to_owned()),
        }
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        match e {
            // A refusal for now, in JSON as every other: the API speaks English.
            AppError::Busy(why) => Self::Refused {
                status: StatusCode::SERVICE_UNAVAILABLE,
                message: why.text(&english()),
                header: Some((header::RETRY_AFTER, BUSY_RETRY_SECONDS.to_string())),
            },
            e => Self::App(e),
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Refused {
                status, message, ..
            } => write!(f, "{status}: {message}"),
            Self::App(e) => e.fmt(f),
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Refused { status, .. } => *status,
            Self::App(e) => e.status_code(),
        }
    }

    fn error_response(&self) -> HttpResponse {
        let Self::Refused {
            status,
            message,
            header,
        } = self
        else {
            // Bare: the errors blueprint logs it, mails it and dresses it as JSON.
            return HttpResponse::build(self.status_code()).finish();
        };
        let mut res = HttpResponse::build(*status);
        if let Some(header) = header {
            res.insert_header(header.clone());
        }
        res.json(ErrorBody {
            error: status.canonical_reason().unwrap_or("Error").to_owned(),
            message: message.clone(),
        })
    }
}

/// An `/api/...` URL that no route matches.
pub async fn not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError::not_found())
}

/// A known `/api/...` URL asked with a method it does not take; `allow` lists those it takes.
pub async fn method_not_allowed(allow: &'static str) -> Result<HttpResponse, ApiError> {
    Err(ApiError::Refused {
        status: StatusCode::METHOD_NOT_ALLOWED,
        message: format!("This URL takes {allow}."),
        header: Some((header::ALLOW, allow.to_owned())),
    })
}
