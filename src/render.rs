//! Flask's `render_template`: Tera templates with the context every page shares
//! (`current_user`, flashed messages, the CSRF token, the title) flattened into the page's own.

use actix_web::http::{StatusCode, header};
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse};
use anyhow::Context as _;
use serde::Serialize;

use crate::assets::TemplateFiles;
use crate::csrf;
use crate::error::AppError;
use crate::flash::{self, Flashed, Kind};
use crate::form::FormView;
use crate::i18n::{self, LanguageChoice, Languages, Message};
use crate::models::user::AuthUser;
use crate::urls::encode_component;
use fluent_templates::LanguageIdentifier;

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
        // `{{ "nav-home" | t }}`: Flask-Babel's `_()` (src/i18n.rs).
        tera.register_filter("t", i18n::filter);
        tera.register_filter(
            "urlencode",
            |value: &str, _: tera::Kwargs, _: &tera::State| encode_component(value),
        );
        // `{{ user.username | breakable }}`: a name, with its places to wrap (`breakable`).
        tera.register_filter(
            "breakable",
            |value: &str, _: tera::Kwargs, _: &tera::State| {
                tera::Value::safe_string(&breakable(value))
            },
        );
        tera.add_raw_templates(sources)
            .map_err(|e| anyhow::anyhow!("{e}"))
            .context("parsing templates")?;
        Ok(Self(tera))
    }

    /// Renders `name` in `lang`: its `t` filters and the messages in `context` are put into
    /// words in that language.
    pub fn render<T: Serialize>(
        &self,
        name: &str,
        lang: &LanguageIdentifier,
        context: &T,
    ) -> Result<String, AppError> {
        i18n::rendering_in(lang, || {
            let context = tera::Context::from_serialize(context)?;
            Ok(self.0.render(name, &context)?)
        })
    }
}

/// Pushes `c` onto `out`, escaped for HTML text or a quoted attribute value (the five characters
/// that could end either; Tera's own escaper also turns `/` into `&#x2F;`).
pub fn push_escaped(out: &mut String, c: char) {
    match c {
        '&' => out.push_str("&amp;"),
        '<' => out.push_str("&lt;"),
        '>' => out.push_str("&gt;"),
        '"' => out.push_str("&quot;"),
        '\'' => out.push_str("&#39;"),
        _ => out.push(c),
    }
}

/// `text` HTML-escaped, with places to wrap a long name on a narrow screen: a `<wbr>` after
/// each `.` and `_`, and before an `@`, whose `@host` is a `handle-host` span, an inline block
/// (`static/css/microblog.css`): `first_last@social.example` then wraps before `@` and keeps its
/// server's name on one line when that fits, breaking it after its dots only when it does not.
/// The CSS's `overflow-wrap: anywhere` is left for a part too long for a line by itself.
pub fn breakable(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 48);
    let mut in_host = false;
    for c in text.chars() {
        if c == '@' && !in_host {
            out.push_str("<wbr><span class=\"handle-host\">");
            in_host = true;
        } else if c.is_whitespace() && in_host {
            out.push_str("</span>");
            in_host = false;
        }
        push_escaped(&mut out, c);
        if matches!(c, '.' | '_') {
            out.push_str("<wbr>");
        }
    }
    if in_host {
        out.push_str("</span>");
    }
    out
}

/// What every page's template gets besides its own values.
#[derive(Serialize)]
pub struct Base<'a> {
    /// `null` for an anonymous visitor (Tera treats undefined variables as errors).
    pub current_user: Option<&'a AuthUser>,
    pub flashes: Vec<Flashed>,
    pub csrf_token: String,
    /// The page's title, in its language.
    pub title: String,
    /// The page's language (`<html lang>`), and the site's languages for the language menu.
    pub lang: String,
    pub languages: &'a [LanguageChoice],
    /// `lang` as the language the template is rendered in.
    #[serde(skip)]
    pub lang_id: LanguageIdentifier,
    /// The path and query of this page, where the language menu comes back to.
    pub here: String,
}

#[derive(Serialize)]
struct Full<'a, T: Serialize> {
    #[serde(flatten)]
    base: Base<'a>,
    #[serde(flatten)]
    context: &'a T,
}

impl<'a> Base<'a> {
    /// The base context of a page of `req`, titled `title` (none: "Welcome to Microblog"), its
    /// forms carrying `csrf_token`.
    pub fn of(
        req: &'a HttpRequest,
        user: Option<&'a AuthUser>,
        flashes: Vec<Flashed>,
        title: Option<&Message>,
        csrf_token: String,
    ) -> Self {
        let lang = i18n::for_request(req);
        let languages = req
            .app_data::<actix_web::web::Data<Languages>>()
            .map_or(&[][..], |l| l.choices());
        Self {
            current_user: user,
            flashes,
            csrf_token,
            title: title.map(|t| t.text(&lang)).unwrap_or_default(),
            lang: lang.to_string(),
            languages,
            lang_id: lang,
            here: here(req),
        }
    }
}

/// Where the language menu of a page of `req` comes back to: its path and query. Only a GET can
/// be asked for again; after a POST the menu comes back home.
fn here(req: &HttpRequest) -> String {
    match (
        req.method() == actix_web::http::Method::GET,
        req.query_string(),
    ) {
        (false, _) => "/index".to_owned(),
        (true, "") => req.path().to_owned(),
        (true, q) => format!("{}?{q}", req.path()),
    }
}

/// Renders `template` with the base context and the page's own values, in the page's language.
pub fn render_page<T: Serialize>(
    templates: &Templates,
    base: Base<'_>,
    template: &str,
    context: &T,
) -> Result<String, AppError> {
    let lang = base.lang_id.clone();
    templates.render(template, &lang, &Full { base, context })
}

/// The page a handler answers with (Flask's `render_template` with its `current_user` and
/// `flash`): the request and whoever is logged in. A handler takes it as an argument (the login
/// extractors build it), or gets it from `LoginRequired::read`.
pub struct Page {
    req: HttpRequest,
    user: Option<AuthUser>,
}

impl Page {
    pub(crate) fn new(req: HttpRequest, user: Option<AuthUser>) -> Self {
        Self { req, user }
    }

    /// The page of `/messages`: its navbar shows no unread message, as they are read now.
    pub fn messages_read(mut self) -> Self {
        if let Some(user) = &mut self.user {
            user.unread_messages = 0;
        }
        self
    }

    /// Flask-Login's `current_user`, `None` when anonymous.
    pub fn user(&self) -> Option<&AuthUser> {
        self.user.as_ref()
    }

    pub fn request(&self) -> &HttpRequest {
        &self.req
    }

    /// Flask's `flash()`: a message for the next page shown.
    pub fn flash(&self, kind: Kind, message: Message) {
        flash::flash(&self.req, kind, message);
    }

    /// [`Page::flash`] with a link to what the reader can do next.
    pub fn flash_with_link(&self, kind: Kind, message: Message, href: &'static str, link: Message) {
        flash::flash_with_link(&self.req, kind, message, href, link);
    }

    /// Flask-Babel's `get_locale()` for this page.
    pub fn lang(&self) -> LanguageIdentifier {
        i18n::for_request(&self.req)
    }

    /// Renders with status 200.
    pub fn render<T: Serialize>(
        &self,
        template: &str,
        title: Message,
        context: &T,
    ) -> Result<HttpResponse, AppError> {
        self.render_status(StatusCode::OK, template, title, context)
    }

    /// Renders with another status, e.g. a form shown again with its errors.
    pub fn render_status<T: Serialize>(
        &self,
        status: StatusCode,
        template: &str,
        title: Message,
        context: &T,
    ) -> Result<HttpResponse, AppError> {
        // Flashes are taken only now: a handler that redirects leaves them for the next page.
        let flashes = flash::take(&self.req);
        self.respond(status, template, Some(&title), flashes, context)
    }

    /// Renders a piece of a page fetched by JavaScript (no layout). Waiting flash messages stay
    /// for the next full page.
    pub fn render_fragment<T: Serialize>(
        &self,
        template: &str,
        context: &T,
    ) -> Result<HttpResponse, AppError> {
        self.respond(StatusCode::OK, template, None, Vec::new(), context)
    }

    fn respond<T: Serialize>(
        &self,
        status: StatusCode,
        template: &str,
        title: Option<&Message>,
        flashes: Vec<Flashed>,
        context: &T,
    ) -> Result<HttpResponse, AppError> {
        let html = self.html(template, title, flashes, context)?;
        Ok(self.send(status, html.into()))
    }

    fn html<T: Serialize>(
        &self,
        template: &str,
        title: Option<&Message>,
        flashes: Vec<Flashed>,
        context: &T,
    ) -> Result<String, AppError> {
        let templates = self
            .req
            .app_data::<actix_web::web::Data<Templates>>()
            .context("Templates are not registered")?;
        let csrf_token = csrf::token(&self.req);
        let base = Base::of(&self.req, self.user.as_ref(), flashes, title, csrf_token);
        render_page(templates, base, template, context)
    }

    /// The page [`Page::render`] makes, as bytes to send now and to keep. For a page with no
    /// flashed message waiting ([`Page::flash_waiting`]): a kept page must not show one again.
    pub fn render_to_keep<T: Serialize>(
        &self,
        template: &str,
        title: Message,
        context: &T,
    ) -> Result<Bytes, AppError> {
        Ok(self
            .html(template, Some(&title), Vec::new(), context)?
            .into())
    }

    /// A page rendered before (by [`Page::render_to_keep`]), sent as rendering sends it.
    pub fn send(&self, status: StatusCode, html: Bytes) -> HttpResponse {
        HttpResponse::build(status)
            .content_type(mime::TEXT_HTML_UTF_8)
            // The page's words depend on these: a shared cache must not give a Spanish page to
            // a browser that asks for English.
            .insert_header((header::VARY, "Accept-Language, Cookie"))
            .body(html)
    }

    /// What a page shows depends on besides its own values: the address and query of this
    /// request, and its forms' CSRF token (made now if the session has none).
    pub fn here_and_token(&self) -> (String, String) {
        (here(&self.req), csrf::token(&self.req))
    }

    /// Whether a flashed message waits to be shown (a page that shows it is not kept).
    pub fn flash_waiting(&self) -> bool {
        flash::waiting(&self.req)
    }
}

/// The context of a page that is only a form (`form.<field>.value`, `form.<field>.errors`).
#[derive(Serialize)]
pub struct FormContext {
    pub form: FormView,
}

/// Flask's `redirect(url)`: a 302 to a path on this site.
pub fn redirect(to: &str) -> HttpResponse {
    HttpResponse::Found()
        .insert_header((header::LOCATION, to))
        .finish()
}

#[cfg(test)]
mod tests {
    use super::breakable;

    #[test]
    fn a_name_wraps_before_its_server_and_between_its_parts_and_stays_escaped() {
        assert_eq!(
            breakable("ana_b@social.example.org"),
            "ana_<wbr>b<wbr><span class=\"handle-host\">@social.<wbr>example.<wbr>org</span>"
        );
        assert_eq!(
            breakable("User: a@b.c x@y"),
            "User: a<wbr><span class=\"handle-host\">@b.<wbr>c</span> x<wbr><span class=\"handle-host\">@y</span>"
        );
        assert_eq!(
            breakable("User: <b>&\"'"),
            "User: &lt;b&gt;&amp;&quot;&#39;"
        );
        assert_eq!(breakable("susan"), "susan");
    }
}
