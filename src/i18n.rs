//! Flask-Babel (chapter 13): the site in the reader's language.
//!
//! - The translations are Fluent files, `locales/<lang>/main.ftl`, built into the binary (no
//!   compile step: a changed file is picked up by the next `cargo build`).
//! - `get_locale()` is [`for_request`]: the `lang` cookie set by the language menu, else the best
//!   match between the browser's `Accept-Language` and `LANGUAGES`, else English.
//! - `_()` is the `t` filter in templates (`{{ "nav-home" | t }}`,
//!   `{{ "user-followers" | t(count=user.followers) }}`), and `Message::new(id).text(&lang)` in
//!   Rust.
//! - `_l()`, the lazy string of forms and flashes, is [`Message`]: an id and its arguments,
//!   turned into words only when a page is rendered, in that page's language.

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::HashMap;

use actix_web::{HttpMessage, HttpRequest, http::header};
use fluent_bundle::FluentValue;
use fluent_templates::{LanguageIdentifier, Loader as _};
use serde::{Serialize, Serializer};

// Every `locales/<lang>/*.ftl`, built into the binary and parsed once.
fluent_templates::static_loader! {
    static LOCALES = {
        locales: "./locales",
        fallback_language: "en",
        // Without this, Fluent wraps each argument in Unicode isolation marks, which show up in
        // copied text and break tests that look for a username.
        customise: |bundle| bundle.set_use_isolating(false),
    };
}

/// The language cookie the language menu sets.
pub const COOKIE: &str = "lang";

/// The language everything falls back to, and the one the source strings are written in.
pub fn english() -> LanguageIdentifier {
    fluent_templates::langid!("en")
}

/// The languages that have translation files.
pub fn available() -> Vec<String> {
    let mut langs: Vec<String> = LOCALES.locales().map(ToString::to_string).collect();
    langs.sort();
    langs
}

/// The site's languages (`LANGUAGES`), and the menu that offers them.
#[derive(Clone, Debug)]
pub struct Languages {
    ids: Vec<LanguageIdentifier>,
    choices: Vec<LanguageChoice>,
}

/// One entry of the language menu: `es` and "Español" (each language named in itself).
#[derive(Serialize, Clone, Debug)]
pub struct LanguageChoice {
    pub tag: String,
    pub name: String,
}

impl Languages {
    /// Every name must have a translation file.
    pub fn parse(names: &[String]) -> anyhow::Result<Self> {
        let available = available();
        let mut langs = Vec::new();
        for name in names {
            let id: LanguageIdentifier = name
                .parse()
                .map_err(|_| anyhow::anyhow!("LANGUAGES: {name:?} is not a language tag"))?;
            if !available.contains(&id.to_string()) {
                anyhow::bail!(
                    "LANGUAGES: there are no translations for {name:?} (there are: {})",
                    available.join(", ")
                );
            }
            if !langs.contains(&id) {
                langs.push(id);
            }
        }
        if langs.is_empty() {
            langs.push(english());
        }
        let choices = langs
            .iter()
            .map(|l| LanguageChoice {
                tag: l.to_string(),
                name: Message::new("language-name").text(l),
            })
            .collect();
        Ok(Self {
            ids: langs,
            choices,
        })
    }

    pub fn choices(&self) -> &[LanguageChoice] {
        &self.choices
    }

    /// The site's languages as the translation cache names a reader's (`es`, not `es-MX`).
    pub fn codes(&self) -> Vec<String> {
        self.ids
            .iter()
            .map(|id| id.language.as_str().to_owned())
            .collect()
    }

    /// The one of ours that `tag` names, if any (`es`, `es-MX` and `ES` all name `es`).
    pub fn find(&self, tag: &str) -> Option<&LanguageIdentifier> {
        let asked: LanguageIdentifier = tag.trim().parse().ok()?;
        self.ids.iter().find(|l| l.language == asked.language)
    }

    /// Flask-Babel's `request.accept_languages.best_match(LANGUAGES)`: the languages the browser
    /// asks for, by quality (`q=0` means "not this one"), matched against ours; English (or our
    /// first) when none matches.
    pub fn best_match(&self, accept_language: &str) -> &LanguageIdentifier {
        let mut asked: Vec<(f32, usize, &str)> = accept_language
            .split(',')
            .enumerate()
            .filter_map(|(order, item)| {
                let mut parts = item.split(';').map(str::trim);
                let tag = parts.next().filter(|t| !t.is_empty())?;
                let q = match parts.find_map(|p| p.strip_prefix("q=")) {
                    Some(q) => q.trim().parse::<f32>().ok().filter(|q| q.is_finite())?,
                    None => 1.0,
                };
                (q > 0.0).then_some((q, order, tag))
            })
            .collect();
        // Highest quality first; equal qualities keep the browser's order.
        asked.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        let requested: Vec<LanguageIdentifier> = asked
            .iter()
            .filter_map(|(_, _, t)| t.parse().ok())
            .collect();
        let english = english();
        let default = self
            .ids
            .iter()
            .find(|l| **l == english)
            .unwrap_or(&self.ids[0]);
        fluent_langneg::negotiate_languages(
            &requested,
            &self.ids,
            Some(default),
            fluent_langneg::NegotiationStrategy::Lookup,
        )
        .first()
        .copied()
        .unwrap_or(default)
    }
}

/// Flask-Babel's `get_locale()`: the language of this request's pages, worked out once.
pub fn for_request(req: &HttpRequest) -> LanguageIdentifier {
    if let Some(lang) = req.extensions().get::<LanguageIdentifier>() {
        return lang.clone();
    }
    let lang = match req.app_data::<actix_web::web::Data<Languages>>() {
        Some(langs) => req
            .cookie(COOKIE)
            .and_then(|c| langs.find(c.value()).cloned())
            .unwrap_or_else(|| {
                let header = req
                    .headers()
                    .get(header::ACCEPT_LANGUAGE)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("");
                langs.best_match(header).clone()
            }),
        None => english(),
    };
    req.extensions_mut().insert(lang.clone());
    lang
}

/// An argument of a message: words (a username) or a number (which picks the plural form).
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
#[serde(untagged)]
pub enum Arg {
    Number(i64),
    Text(String),
}

impl From<&str> for Arg {
    fn from(s: &str) -> Self {
        Self::Text(s.to_owned())
    }
}

impl From<String> for Arg {
    fn from(s: String) -> Self {
        Self::Text(s)
    }
}

impl From<i64> for Arg {
    fn from(n: i64) -> Self {
        Self::Number(n)
    }
}

/// Flask-Babel's `_l()`: a message id and its arguments, put into words in the language of the
/// page that shows it. A form error or a flash is made before anyone knows which page shows it.
#[derive(Clone, Debug, PartialEq, serde::Deserialize)]
pub struct Message {
    pub id: Cow<'static, str>,
    #[serde(default)]
    pub args: Vec<(Cow<'static, str>, Arg)>,
}

impl Message {
    pub const fn new(id: &'static str) -> Self {
        Self {
            id: Cow::Borrowed(id),
            args: Vec::new(),
        }
    }

    /// Adds an argument: `{ $name }` in the translation.
    pub fn with(mut self, name: &'static str, value: impl Into<Arg>) -> Self {
        self.args.push((Cow::Borrowed(name), value.into()));
        self
    }

    /// The message in `lang`.
    pub fn text(&self, lang: &LanguageIdentifier) -> String {
        lookup(lang, &self.id, &self.args)
    }
}

/// In English, for logs and plain-text answers.
impl std::fmt::Display for Message {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text(&english()))
    }
}

/// Written as words in the language of the page being rendered (see [`rendering_in`]).
impl Serialize for Message {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text(&current()))
    }
}

fn lookup(lang: &LanguageIdentifier, id: &str, args: &[(Cow<'static, str>, Arg)]) -> String {
    try_lookup(lang, id, args).unwrap_or_else(|e| {
        // `microblog translate check` (run by the tests) finds these before they ship.
        tracing::error!(id, error = %e, "no translation");
        id.to_owned()
    })
}

/// The language first, then English: a string not yet translated shows in English.
///
/// A message without arguments is the same text every time, and a page shows about twenty
/// (the navbar, the forms' labels): each is formatted by Fluent once per thread and language,
/// then copied from [`PLAIN`].
fn try_lookup(
    lang: &LanguageIdentifier,
    id: &str,
    args: &[(Cow<'static, str>, Arg)],
) -> Result<String, String> {
    if !args.is_empty() {
        return format(lang, id, args);
    }
    PLAIN.with(|plain| {
        if let Some(text) = plain
            .borrow()
            .get(id)
            .and_then(|kept| kept.iter().find(|(l, _)| l == lang))
        {
            return Ok(text.1.clone());
        }
        let text = format(lang, id, args)?;
        plain
            .borrow_mut()
            .entry(id.into())
            .or_default()
            .push((lang.clone(), text.clone()));
        Ok(text)
    })
}

thread_local! {
    /// Messages without arguments as Fluent formatted them, by id, then language. Only ids that
    /// have a translation are kept, so it holds at most every message in every language.
    static PLAIN: RefCell<HashMap<Box<str>, Translations>> = RefCell::new(HashMap::new());
}

/// One message in each language it was asked for.
type Translations = Vec<(LanguageIdentifier, String)>;

/// [`try_lookup`] through Fluent itself.
fn format(
    lang: &LanguageIdentifier,
    id: &str,
    args: &[(Cow<'static, str>, Arg)],
) -> Result<String, String> {
    let args: Option<HashMap<&str, FluentValue>> = (!args.is_empty()).then(|| {
        args.iter()
            .map(|(name, value)| {
                let value = match value {
                    Arg::Number(n) => FluentValue::from(*n),
                    Arg::Text(s) => FluentValue::from(s.as_str()),
                };
                (name.as_ref(), value)
            })
            .collect()
    });
    LOCALES
        .lookup_single_language(lang, id, args.as_ref())
        .or_else(|_| LOCALES.lookup_single_language(&english(), id, args.as_ref()))
        .map_err(|e| e.to_string())
}

thread_local! {
    /// The language of the template being rendered on this thread.
    static RENDERING: RefCell<Option<LanguageIdentifier>> = const { RefCell::new(None) };
}

/// Runs `render` with `lang` as the language of the page: the `t` filter and every
/// [`Message`] in the context are put into words in it. Rendering is synchronous, so the
/// language cannot leak to another request.
pub fn rendering_in<R>(lang: &LanguageIdentifier, render: impl FnOnce() -> R) -> R {
    let previous = RENDERING.with(|r| r.replace(Some(lang.clone())));
    struct Restore(Option<LanguageIdentifier>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let previous = self.0.take();
            RENDERING.with(|r| *r.borrow_mut() = previous);
        }
    }
    let _restore = Restore(previous);
    render()
}

/// The language of the page being rendered (English outside a render).
fn current() -> LanguageIdentifier {
    RENDERING
        .with(|r| r.borrow().clone())
        .unwrap_or_else(english)
}

/// The `t` filter: `{{ "id" | t }}`, `{{ "id" | t(name=user.username, count=n) }}`.
pub fn filter(id: &str, kwargs: tera::Kwargs, _: &tera::State) -> tera::TeraResult<String> {
    let mut args = Vec::new();
    for (name, value) in kwargs.iter() {
        let Some(name) = name.as_str() else { continue };
        let arg = if let Some(n) = value.as_i64() {
            Arg::Number(n)
        } else if let Some(s) = value.as_str() {
            Arg::Text(s.to_owned())
        } else {
            Arg::Text(value.to_string())
        };
        args.push((Cow::Owned(name.to_owned()), arg));
    }
    let lang = current();
    match try_lookup(&lang, id, &args) {
        Ok(text) => Ok(text),
        // While developing, a template naming a message no file has fails loudly.
        Err(e) if cfg!(debug_assertions) => {
            Err(tera::Error::message(format!("message {id:?}: {e}")))
        }
        Err(_) => Ok(lookup(&lang, id, &args)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn langs() -> Languages {
        Languages::parse(&["en".to_owned(), "es".to_owned()]).unwrap()
    }

    #[test]
    fn accept_language_is_matched_by_quality() {
        let l = langs();
        assert_eq!(l.best_match("es").to_string(), "es");
        assert_eq!(l.best_match("es-MX,es;q=0.9").to_string(), "es");
        assert_eq!(l.best_match("en;q=0.5, es;q=0.8").to_string(), "es");
        assert_eq!(l.best_match("es;q=0, en").to_string(), "en");
        assert_eq!(l.best_match("fr, de;q=0.9").to_string(), "en");
        assert_eq!(l.best_match("fr, es;q=0.1").to_string(), "es");
        assert_eq!(l.best_match("").to_string(), "en");
        assert_eq!(l.best_match(";;;q=,q=abc,*").to_string(), "en");
        assert_eq!(l.best_match("es;q=NaN").to_string(), "en");
    }

    #[test]
    fn plurals_follow_each_language() {
        let es: LanguageIdentifier = "es".parse().unwrap();
        let followers = |lang: &LanguageIdentifier, n: i64| {
            Message::new("user-followers").with("count", n).text(lang)
        };
        assert_eq!(followers(&english(), 1), "follower");
        assert_eq!(followers(&english(), 2), "followers");
        assert_eq!(followers(&english(), 0), "followers");
        assert_eq!(followers(&es, 1), "seguidor");
        assert_eq!(followers(&es, 0), "seguidores");
    }

    #[test]
    fn messages_serialize_in_the_language_being_rendered() {
        let es: LanguageIdentifier = "es".parse().unwrap();
        let m = Message::new("form-required");
        let json = rendering_in(&es, || serde_json::to_string(&m).unwrap());
        assert_eq!(json, "\"Este campo es obligatorio.\"");
        assert_eq!(
            serde_json::to_string(&m).unwrap(),
            "\"This field is required.\""
        );
    }
}
