//! Flask: `app/errors/` (chapters 7 and 23): error pages in the site layout, or JSON for a client
//! that prefers it, and unexpected errors mailed to `ADMINS`.
//!
//! Handlers fail with a bare status (`AppError`, or actix's own errors such as 405 and 413); the
//! [`error_pages`] middleware dresses every such 4xx/5xx response. Responses that already have
//! an HTML or JSON body (a form shown again with status 422, say) are left alone.

mod handlers;

pub use handlers::error_pages;

use actix_web::web;

pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.default_service(web::to(handlers::not_found));
}
