//! Flask: `app/errors/handlers.py` (chapter 7): the 404 for unknown URLs, and the pages every
//! other error is dressed in.

use actix_web::body::{BoxBody, EitherBody, MessageBody};
use actix_web::dev::ServiceResponse;
use actix_web::http::{StatusCode, header};
use actix_web::middleware::{ErrorHandlerResponse, ErrorHandlers};
use actix_web::{HttpRequest, web};
use serde::Serialize;

use crate::error::{AppError, chain};
use crate::i18n::{self, Message};
use crate::logging::without_secrets;
use crate::login::{MaybeUser, cached_user, load_user};
use crate::models::user::AuthUser;
use crate::render::{Base, render_page};
use crate::state::State;
use fluent_templates::LanguageIdentifier;

/// Flask: errors.not_found_error (chapter 7), for every URL no route matches. Loads the user
/// first, so the 404 page's navbar shows who is logged in.
pub async fn not_found(_user: MaybeUser) -> Result<actix_web::HttpResponse, AppError> {
    Err(AppError::NotFound)
}

/// Flask's `@bp.app_errorhandler`, for every status at once: the middleware that turns bare
/// error responses into pages.
pub fn error_pages<B: MessageBody + 'static>() -> ErrorHandlers<B> {
    ErrorHandlers::new().default_handler(dress_error)
}

#[derive(Serialize)]
struct ErrorContext<'a> {
    code: u16,
    reason: &'a str,
    message: Option<String>,
}

#[derive(Serialize)]
struct ErrorJson<'a> {
    error: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<String>,
}

/// Flask's `wants_json_response()`: JSON is preferred when the client ranks it at least as
/// high as HTML.
fn wants_json(req: &HttpRequest) -> bool {
    let Some(accept) = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let quality = |wanted: &str| -> f32 {
        accept
            .split(',')
            .filter_map(|item| {
                let mut parts = item.split(';').map(str::trim);
                let kind = parts.next()?;
                let q = parts
                    .find_map(|p| p.strip_prefix("q="))
                    .and_then(|q| q.parse().ok())
                    .unwrap_or(1.0);
                let (main, _) = wanted.split_once('/')?;
                (kind == wanted || kind == format!("{main}/*") || kind == "*/*")
                    .then_some((kind == wanted, q))
            })
            // An exact match outranks a wildcard.
            .max_by(|a, b| a.0.cmp(&b.0))
            .map_or(0.0, |(_, q)| q)
    };
    let json = quality("application/json");
    json > 0.0 && json >= quality("text/html")
}

fn dress_error<B: MessageBody + 'static>(
    res: ServiceResponse<B>,
) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let already_dressed = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("text/html") || ct.starts_with("application/json"));
    if already_dressed {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }

    let status = res.status();
    let lang = i18n::for_request(res.request());
    let reason = status_text(status, &lang);
    // A refusal for now (a full queue), not a failure: its reason is shown, nobody is mailed.
    let busy = res
        .response()
        .error()
        .is_some_and(|e| matches!(e.as_error::<AppError>(), Some(AppError::Busy(_))));
    let failed = status.is_server_error() && !busy;
    let message = if failed {
        None
    } else {
        res.response()
            .error()
            .map(|e| match e.as_error::<AppError>() {
                // Our own reasons are messages, in the reader's language.
                Some(AppError::BadRequest(m) | AppError::Busy(m)) => m.text(&lang),
                _ => e.to_string(),
            })
            .filter(|m| !m.is_empty() && m.as_str() != status.canonical_reason().unwrap_or(""))
    };
    if failed && let Some(state) = res.request().app_data::<web::Data<State>>() {
        // The path as the log writes it: a reset link's token must not reach a mail.
        let path = without_secrets(res.request().path());
        let details = match res.response().error() {
            // The causes as the log line gives them, "outer: inner: innermost".
            Some(e) => {
                let causes = match e.as_error::<AppError>() {
                    Some(e) => chain(e),
                    None => e.to_string(),
                };
                format!("{} {path}\n\n{causes}", res.request().method())
            }
            None => format!("{} {path}", res.request().method()),
        };
        state.mailer.report_failure(&state.db, &state.jobs, details);
    }

    let req = res.request().clone();
    // Under /api every error is JSON, whatever the client accepts.
    let api = req.path() == "/api" || req.path().starts_with("/api/");
    if api || wants_json(&req) {
        // Programs read `error`: it stays the status's English name, as Flask writes it. The
        // API promises a `message` with every error: the name again when there is no more.
        let error = status.canonical_reason().unwrap_or("Error");
        let message = match message {
            None if api => Some(error.to_owned()),
            message => message,
        };
        let json = ErrorJson { error, message };
        let body = serde_json::to_string(&json).unwrap_or_else(|_| "{}".to_owned());
        return Ok(ErrorHandlerResponse::Response(with_body(
            res,
            mime::APPLICATION_JSON.as_ref(),
            body,
        )));
    }
    // The page's navbar shows who is logged in. A request refused before its handler ran (a
    // form without its CSRF token) has not looked that up yet: it is looked up now, unless the
    // server failed (the database may be why).
    Ok(ErrorHandlerResponse::Future(Box::pin(async move {
        let user = if failed {
            cached_user(&req)
        } else {
            load_user(&req).await.ok().flatten()
        };
        let body = error_html(&req, user, status, &reason, message);
        Ok(with_body(res, mime::TEXT_HTML_UTF_8.as_ref(), body))
    })))
}

/// `res` with `body` of `content_type` in place of its own.
fn with_body<B: MessageBody + 'static>(
    res: ServiceResponse<B>,
    content_type: &str,
    body: String,
) -> ServiceResponse<EitherBody<B>> {
    let (req, mut response) = res.into_parts();
    if let Ok(value) = header::HeaderValue::from_str(content_type) {
        response.headers_mut().insert(header::CONTENT_TYPE, value);
    }
    // In the visitor's language, as every page.
    response.headers_mut().insert(
        header::VARY,
        header::HeaderValue::from_static("Accept, Accept-Language, Cookie"),
    );
    let response = response.set_body(BoxBody::new(body));
    ServiceResponse::new(req, response).map_body(|_, body| EitherBody::right(body))
}

/// The headline of an error page: the status's name, in `lang` for those a visitor meets.
fn status_text(status: StatusCode, lang: &LanguageIdentifier) -> String {
    let message = match status.as_u16() {
        400 => Message::new("status-400"),
        403 => Message::new("status-403"),
        404 => Message::new("status-404"),
        405 => Message::new("status-405"),
        413 => Message::new("status-413"),
        415 => Message::new("status-415"),
        422 => Message::new("status-422"),
        429 => Message::new("status-429"),
        431 => Message::new("status-431"),
        500 => Message::new("status-500"),
        503 => Message::new("status-503"),
        _ => return status.canonical_reason().unwrap_or("Error").to_owned(),
    };
    message.text(lang)
}

/// The error page in the site layout; plain text if even that cannot be rendered.
fn error_html(
    req: &HttpRequest,
    user: Option<AuthUser>,
    status: StatusCode,
    reason: &str,
    message: Option<String>,
) -> String {
    let Some(state) = req.app_data::<web::Data<State>>() else {
        return reason.to_owned();
    };
    let template = match status.as_u16() {
        404 => "errors/404.html",
        500 => "errors/500.html",
        _ => "errors/error.html",
    };
    // Messages waiting to be flashed stay for the next real page.
    let title = Message::new("title-error").with("reason", reason);
    // No CSRF token: an error page has no form that needs one, and a visitor without a session
    // gets no cookie for a 404.
    let base = Base::of(req, user.as_ref(), Vec::new(), Some(&title), String::new());
    let context = ErrorContext {
        code: status.as_u16(),
        reason,
        message,
    };
    render_page(&state.templates, base, template, &context).unwrap_or_else(|e| {
        tracing::error!(error = %chain(&e), "could not render the error page");
        reason.to_owned()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    #[test]
    fn json_is_chosen_only_when_ranked_at_least_as_high_as_html() {
        let with = |accept: &str| {
            wants_json(
                &TestRequest::default()
                    .insert_header((header::ACCEPT, accept))
                    .to_http_request(),
            )
        };
        assert!(with("application/json"));
        assert!(with("application/json, text/html"));
        assert!(!with(
            "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
        ));
        assert!(!with("text/html, application/json;q=0.5"));
        assert!(!wants_json(&TestRequest::default().to_http_request()));
    }
}
