//! Fragment caching (what Flask-Caching's `{% cache %}` does for Jinja): each post's
//! `_post.html`, rendered once and kept, so a page that shows it again copies it instead of
//! rendering it again.
//!
//! A post's HTML depends only on the reader's language ("said", the Translate link), on whether
//! the reader wrote it (its Delete link), on its row as the feed query reads it (id, body,
//! language, time, author's name and e-mail), and on the template, which is fixed while the app
//! runs. So fragments are kept by language, post and authorship, each with the row it was made
//! from, and used only when the row just read is the same:
//! a renamed author or an edited post misses and is rendered afresh, there is nothing to
//! invalidate, and instances sharing one database never show each other's stale HTML.
//!
//! Whole pages of posts (`/index`, `/explore`) are kept the same way, one per login: the last
//! such page that login was shown, with everything it was made from ([`PageInputs`]: the
//! template, the language, the address, the CSRF token, what the navbar shows of the user, the
//! rows, the page links). The login check and the page's query still run for every request;
//! when all they found is the same, the page is sent again instead of being rendered again.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use actix_web::web::{self, Bytes};
use serde::Serialize;

use fluent_templates::LanguageIdentifier;

use crate::error::AppError;
use crate::models::post::PostWithAuthor;
use crate::models::user::AuthUser;
use crate::pagination::Pagination;
use crate::render::Templates;

/// How many posts are kept. A post's HTML is about 700 bytes; with its row, at most about
/// 2.5 MB. When full, everything is dropped and the posts shown next fill it again: simpler
/// than tracking the least recently used, and pages read again right away cost one render.
const CAPACITY: usize = 2048;

/// The rendered `_post.html` of recently shown posts, by language and post id.
pub struct Fragments {
    templates: web::Data<Templates>,
    capacity: usize,
    posts: Mutex<HashMap<Key, Kept>>,
    /// The last page of posts of each login, by `login_sessions` id.
    pages: Mutex<HashMap<i32, KeptPage>>,
}

/// How many pages are kept, one per login (about 25 kB each with their rows). When full,
/// everything is dropped, as for posts.
const PAGES: usize = 256;
/// A page larger than this is sent but not kept (long pages, posts from other servers with
/// much markup), so the kept pages hold at most 16 MiB of HTML.
const PAGE_BYTES: usize = 64 * 1024;
/// A post's HTML larger than this is not kept either (at most 32 MiB for all).
const POST_BYTES: usize = 16 * 1024;

/// Everything a kept page of posts was made from: the same inputs make the same page. A page
/// with a flashed message or form errors is never kept (it is shown once).
#[derive(PartialEq)]
pub struct PageInputs {
    pub template: &'static str,
    pub lang: LanguageIdentifier,
    /// The path and query (the language menu comes back to it).
    pub here: String,
    pub csrf_token: String,
    /// `current_user`: the navbar's name, unread messages and running export.
    pub user: AuthUser,
    pub rows: Vec<PostWithAuthor>,
    pub pagination: Pagination,
}

/// A page as it was sent, and what it was made from.
struct KeptPage {
    inputs: PageInputs,
    html: Bytes,
}

/// A fragment's language, its post's id, and whether its reader wrote the post.
type Key = (LanguageIdentifier, i32, bool);

struct Kept {
    /// The row the HTML was rendered from.
    row: PostWithAuthor,
    /// The HTML, as a string Tera will not escape again: Tera escaped it when it rendered it.
    html: tera::Value,
}

/// What `_post.html` is rendered with.
#[derive(Serialize)]
struct OnePost<V> {
    post: V,
}

impl Fragments {
    pub fn new(templates: web::Data<Templates>) -> Self {
        Self::with_capacity(templates, CAPACITY)
    }

    /// Keeps at most `capacity` posts (tests use a few).
    pub(crate) fn with_capacity(templates: web::Data<Templates>, capacity: usize) -> Self {
        Self {
            templates,
            capacity,
            posts: Mutex::new(HashMap::with_capacity(capacity)),
            pages: Mutex::new(HashMap::new()),
        }
    }

    /// The page kept for login `login`, if it was made from these same `inputs`.
    pub fn page(&self, login: i32, inputs: &PageInputs) -> Option<Bytes> {
        let pages = self.pages.lock().unwrap_or_else(PoisonError::into_inner);
        pages
            .get(&login)
            .filter(|kept| kept.inputs == *inputs)
            .map(|kept| kept.html.clone())
    }

    /// Keeps `html`, made from `inputs`, as login `login`'s page.
    pub fn keep_page(&self, login: i32, inputs: PageInputs, html: Bytes) {
        if html.len() > PAGE_BYTES {
            return;
        }
        let mut pages = self.pages.lock().unwrap_or_else(PoisonError::into_inner);
        if pages.len() >= PAGES && !pages.contains_key(&login) {
            pages.clear();
        }
        pages.insert(login, KeptPage { inputs, html });
    }

    /// How many posts are kept.
    #[cfg(test)]
    pub(crate) fn kept(&self) -> usize {
        self.lock().len()
    }

    /// `_post.html` in `lang` for each row, in order, as user `reader` sees it: kept when the
    /// row is unchanged, otherwise rendered from `view(row)` and kept. A page's template prints
    /// each with `{{ post }}`.
    pub fn posts<V: Serialize>(
        &self,
        rows: Vec<PostWithAuthor>,
        lang: &LanguageIdentifier,
        reader: i32,
        view: impl Fn(&PostWithAuthor) -> V,
    ) -> Result<Vec<tera::Value>, AppError> {
        let key = |row: &PostWithAuthor| (lang.clone(), row.id, row.user_id == reader);
        let mut shown: Vec<Option<tera::Value>> = {
            let kept = self.lock();
            rows.iter()
                .map(|row| {
                    kept.get(&key(row))
                        .filter(|k| k.row == *row)
                        .map(|k| k.html.clone())
                })
                .collect()
        };
        // Rendered outside the lock; another worker rendering the same post meanwhile just
        // stores the same HTML.
        let mut fresh = Vec::new();
        for (row, slot) in rows.into_iter().zip(&mut shown) {
            if slot.is_none() {
                let html =
                    self.templates
                        .render("_post.html", lang, &OnePost { post: view(&row) })?;
                let small = html.len() <= POST_BYTES;
                let html = tera::Value::safe_string(&html);
                *slot = Some(html.clone());
                if small {
                    fresh.push(Kept { row, html });
                }
            }
        }
        if !fresh.is_empty() {
            let mut kept = self.lock();
            if kept.len() + fresh.len() > self.capacity {
                kept.clear();
            }
            // A page longer than the whole cache keeps only its last posts.
            let skip = fresh.len().saturating_sub(self.capacity);
            kept.extend(fresh.into_iter().skip(skip).map(|k| (key(&k.row), k)));
        }
        Ok(shown.into_iter().flatten().collect())
    }

    /// Drops post `id`'s fragments: it was deleted. (A deleted post is in no page's rows, so it
    /// would never be shown again anyway; this frees its memory at once.)
    pub fn forget(&self, id: i32) {
        self.lock().retain(|(_, post, _), _| *post != id);
        self.pages
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|_, page| page.inputs.rows.iter().all(|row| row.id != id));
    }

    /// The kept posts. A worker that panicked while holding the lock cannot have left an
    /// entry half-written (each is inserted whole), so the lock is taken back after a panic.
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Key, Kept>> {
        self.posts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
