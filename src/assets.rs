//! Templates and static files, embedded in the release binary (read from disk in debug builds,
//! so editing a template or stylesheet needs no rebuild of the embedded copy).

use actix_web::http::header::{self, EntityTag};
use actix_web::{HttpRequest, HttpResponse, web};
use rust_embed::RustEmbed;

use crate::error::AppError;

#[derive(RustEmbed)]
#[folder = "templates/"]
pub struct TemplateFiles;

#[derive(RustEmbed)]
#[folder = "static/"]
pub struct StaticFiles;

/// GET /static/{path}: Flask's built-in static route.
pub async fn static_file(
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    serve(&req, &path)
}

/// GET /favicon.ico: where browsers look for a site's icon when a page names none (pages name
/// `static/img/favicon.svg`; feed readers and bookmarks still ask here).
pub async fn favicon(req: HttpRequest) -> Result<HttpResponse, AppError> {
    serve(&req, "favicon.ico")
}

/// The embedded file at `path` of `static/`, revalidated by its hash.
fn serve(req: &HttpRequest, path: &str) -> Result<HttpResponse, AppError> {
    let file = StaticFiles::get(path).ok_or(AppError::NotFound)?;
    let etag = EntityTag::new_strong(hex::encode(&file.metadata.sha256_hash()[..16]));
    let matches = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|t| t.trim().trim_matches('"') == etag.tag())
        });
    let mut res = if matches {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    res.insert_header((header::ETAG, etag.to_string()))
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"));
    if matches {
        return Ok(res.finish());
    }
    Ok(res
        .content_type(file.metadata.mimetype())
        .body(file.data.into_owned()))
}
