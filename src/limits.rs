//! How much the app accepts from one request. Past these limits a client gets a 4xx with the
//! reason, and nothing of the request is looked at further.
//!
//! - **Body**: 1 MiB (`413 Payload Too Large`), set on the form, JSON and raw body readers.
//! - **Head** (request line and headers): 16 KiB in all (`431 Request Header Fields Too
//!   Large`), as Node.js allows; actix itself reads up to 128 KiB and at most 96 headers
//!   (more headers: 431; a longer URL: 400). A browser's cookies for this site stay far below:
//!   the session cookie is kept under 4 KiB (`flash`), the others are a few hundred bytes.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{HttpResponse, http::StatusCode};

/// Largest request body accepted.
pub const MAX_BODY: usize = 1 << 20;
/// Largest request head accepted: the request line and every header line.
pub const MAX_HEAD: usize = 16 << 10;

/// The size of the request's head as it came over the wire, near enough: the request line and
/// each `name: value` line with its line break.
fn head_size(req: &ServiceRequest) -> usize {
    let uri = req.uri();
    let target = uri.path_and_query().map_or(1, |pq| pq.as_str().len())
        + uri
            .authority()
            .map_or(0, |a| "http://".len() + a.as_str().len());
    let line = req.method().as_str().len() + " ".len() + target + " HTTP/1.1\r\n".len();
    let headers: usize = req
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + ": ".len() + value.len() + "\r\n".len())
        .sum();
    line + headers
}

/// Refuses a request whose head is over [`MAX_HEAD`] before any other middleware reads it (the
/// session middleware would decrypt a cookie of any size). Registered in `create_app`.
pub async fn limit_request_head(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    if head_size(&req) > MAX_HEAD {
        const REASON: &str = "The request's headers are too large (16 KiB at most).";
        let mut res = HttpResponse::build(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
        // This runs before the error pages, so the API's JSON is made here.
        let res = if req.path().starts_with("/api/") {
            res.json(
                serde_json::json!({"error": "Request Header Fields Too Large", "message": REASON}),
            )
        } else {
            res.content_type(mime::TEXT_PLAIN_UTF_8).body(REASON)
        };
        return Ok(req.into_response(res).map_into_right_body());
    }
    Ok(next.call(req).await?.map_into_left_body())
}
