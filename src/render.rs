//! Flask's `render_template`: Tera templates with the context every page shares
//! (`current_user`, flashed messages, the CSRF token, the title) flattened into the page's own.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::{StatusCode, header};
use actix_web::{FromRequest, HttpRequest, HttpResponse};
use anyhow::Context as _;
use serde::Serialize;

use crate::assets::TemplateFiles;
use crate::error::AppError;
use crate::login::{self, AuthUser};

/// All templates, parsed once at start.
pub struct Templates(tera::Tera);

impl Templates {
    pub fn load() -> anyhow::Result<Self> {
        let mut sources = Vec::new();
        for name in TemplateFiles::iter() {
            let file = TemplateFiles::get(&name).context("an embedded template vanished")?;
            let text = String::from_utf8(file.data.into_owned())
                .with_context(|| format!("template {name} is not UTF-8"))?;
            sources.push((name.into_owned(), text));
        }
        let mut tera = tera::Tera::new();
        // `{{ name | urlencode }}`: a value inside a URL (Jinja's filter of the same name).
        tera.register_filter(
            "urlencode",
            |value: &str, _: tera::Kwargs, _: &tera::State| crate::form::encode_component(value),
        );
        tera.add_raw_templates(sources)
            .map_err(|e| anyhow::anyhow!("{e}"))
            .context("parsing templates")?;
        Ok(Self(tera))
    }

    pub fn render<T: Serialize>(&self, name: &str, context: &T) -> Result<String, AppError> {
        let context = tera::Context::from_serialize(context)?;
        Ok(self.0.render(name, &context)?)
    }
}

/// What every page's template gets besides its own values.
#[derive(Serialize)]
pub struct Base<'a> {
    /// `null` for an anonymous visitor (Tera treats undefined variables as errors).
    pub current_user: Option<&'a AuthUser>,
    pub flashes: Vec<String>,
    pub csrf_token: String,
    pub title: &'a str,
}

#[derive(Serialize)]
struct Full<'a, T: Serialize> {
    #[serde(flatten)]
    base: Base<'a>,
    #[serde(flatten)]
    page: &'a T,
}

/// Renders `template` with the base context and the page's own values.
pub fn render_page<T: Serialize>(
    templates: &Templates,
    base: Base<'_>,
    template: &str,
    page: &T,
) -> Result<String, AppError> {
    templates.render(template, &Full { base, page })
}

/// A handler's way to render a page: holds the request and the current user.
pub struct Page {
    req: HttpRequest,
    user: Option<AuthUser>,
}

impl Page {
    /// For a handler that found the user itself ([`login::LoginRequired::read`]); other
    /// handlers take a `Page` as an argument, which asks `load_user`.
    pub fn new(req: HttpRequest, user: Option<AuthUser>) -> Self {
        Self { req, user }
    }

    /// Renders with status 200.
    pub fn render<T: Serialize>(
        &self,
        template: &str,
        title: &str,
        page: &T,
    ) -> Result<HttpResponse, AppError> {
        self.render_status(StatusCode::OK, template, title, page)
    }

    /// Renders with another status, e.g. a form shown again with its errors.
    pub fn render_status<T: Serialize>(
        &self,
        status: StatusCode,
        template: &str,
        title: &str,
        page: &T,
    ) -> Result<HttpResponse, AppError> {
        // Flashes are taken only now: a handler that redirects leaves them for the next page.
        let flashes = crate::flash::take(&self.req);
        self.respond(status, template, title, flashes, page)
    }

    /// Renders a piece of a page fetched by JavaScript (no layout). Waiting flash messages stay
    /// for the next full page.
    pub fn render_fragment<T: Serialize>(
        &self,
        template: &str,
        page: &T,
    ) -> Result<HttpResponse, AppError> {
        self.respond(StatusCode::OK, template, "", Vec::new(), page)
    }

    fn respond<T: Serialize>(
        &self,
        status: StatusCode,
        template: &str,
        title: &str,
        flashes: Vec<String>,
        page: &T,
    ) -> Result<HttpResponse, AppError> {
        let templates = self
            .req
            .app_data::<actix_web::web::Data<Templates>>()
            .context("Templates are not registered")?;
        let base = Base {
            current_user: self.user.as_ref(),
            flashes,
            csrf_token: crate::csrf::token(&self.req),
            title,
        };
        let html = render_page(templates, base, template, page)?;
        Ok(HttpResponse::build(status)
            .content_type(mime::TEXT_HTML_UTF_8)
            .body(html))
    }
}

impl FromRequest for Page {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let user = login::load_user(&req).await?;
            Ok(Self { req, user })
        })
    }
}

/// Flask's `redirect(url)`: a 302 to a path on this site.
pub fn redirect(to: &str) -> HttpResponse {
    HttpResponse::Found()
        .insert_header((header::LOCATION, to))
        .finish()
}
