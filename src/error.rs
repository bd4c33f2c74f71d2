//! The one error type handlers return. Its response is a bare status with a short text; the
//! errors blueprint (`blueprints::errors`) then dresses it in the site layout or JSON.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, ResponseError};

use crate::i18n::Message;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Not a failure: the visitor is sent elsewhere instead (Flask-Login's redirect of an
    /// anonymous visitor to the login page).
    #[error("redirected to {0}")]
    Redirect(String),
    #[error("Not Found")]
    NotFound,
    /// Someone else's: a 403, and nothing changed.
    #[error("Forbidden")]
    Forbidden,
    /// A request we refuse, with the reason shown to the client (in its language on pages).
    #[error("{0}")]
    BadRequest(Message),
    /// Too busy to do it now (a flood filled a queue): a 503 with `Retry-After` and the reason,
    /// a refusal the client can act on, not a failure of ours.
    #[error("{0}")]
    Busy(Message),
    #[error("database query failed")]
    Database(#[from] diesel::result::Error),
    #[error("no database connection available")]
    Pool(#[from] diesel::r2d2::PoolError),
    #[error("template rendering failed")]
    Template(#[from] tera::Error),
    #[error("blocking task was cancelled")]
    Blocking(#[from] actix_web::error::BlockingError),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// How long a client refused with [`AppError::Busy`] is asked to wait.
pub const BUSY_RETRY_SECONDS: u64 = 5;

impl AppError {
    pub fn bad_request(reason: Message) -> Self {
        Self::BadRequest(reason)
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Redirect(_) => StatusCode::FOUND,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::Forbidden => StatusCode::FORBIDDEN,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Busy(_) => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let Self::Redirect(location) = self {
            return HttpResponse::Found()
                .insert_header((header::LOCATION, location.as_str()))
                .finish();
        }
        let status = self.status_code();
        if let Self::Busy(_) = self {
            return HttpResponse::build(status)
                .insert_header((header::RETRY_AFTER, BUSY_RETRY_SECONDS.to_string()))
                .content_type(mime::TEXT_PLAIN_UTF_8)
                .body(self.to_string());
        }
        if status.is_server_error() {
            // The whole cause chain goes to the log; the visitor sees a generic page.
            tracing::error!(error = %chain(self), "request failed");
            return HttpResponse::build(status).finish();
        }
        HttpResponse::build(status)
            .content_type(mime::TEXT_PLAIN_UTF_8)
            .body(self.to_string())
    }
}

/// "outer: inner: innermost", for logs.
pub fn chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
