//! Access in the signature: a handler says who may call it by the extractors it takes, and a
//! visitor who may not never reaches its body.
//!
//! | extractor       | Flask-Login               | who gets through                                |
//! |-----------------|---------------------------|-------------------------------------------------|
//! | [`MaybeUser`]   | `current_user`            | anyone; `Some` user when logged in              |
//! | [`CurrentUser`] | `@login_required`         | a logged-in user                                |
//! | [`LoginRequired`] | `@login_required`       | the same, checked in the page's own database trip |
//! | [`FreshUser`]   | `@fresh_login_required`   | a user who typed the password in this session   |
//! | `Page`          | `render_template`'s `current_user` | anyone; the page knows who is logged in |

use std::future::{Future, Ready, ready};
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpMessage, HttpRequest};
use chrono::NaiveDateTime;

use super::loader::Claim;
use super::{
    LOGIN_MESSAGE, LOGIN_VIEW, Loaded, LoginManager, REFRESH_MESSAGE, REFRESH_VIEW, manager,
};
use crate::db::DbConn;
use crate::error::AppError;
use crate::flash::{self, Kind, flash};
use crate::i18n::Message;
use crate::models::login_session::{self, ActiveLogin};
use crate::models::post::{self, Feed, PostWithAuthor};
use crate::models::user::AuthUser;
use crate::pagination::{PageNumber, Paginated};
use crate::render::Page;
use crate::urls::with_next;

/// Anyone: `Some` user when logged in (Flask-Login's `current_user`, anonymous or not).
pub struct MaybeUser(pub Option<AuthUser>);

/// Login required (Flask-Login's `@login_required`): anonymous visitors are redirected to the
/// login page with `next` set to where they were going.
pub struct CurrentUser(pub AuthUser);

/// A fresh login required (`@fresh_login_required`): the password must have been typed in this
/// session, not restored from the remember-me cookie.
pub struct FreshUser(pub AuthUser);

type Loading<T> = Pin<Box<dyn Future<Output = Result<T, AppError>>>>;

/// Asks `load_user` who this is, then lets `decide` say what the extractor makes of it.
fn after_loading<T: 'static>(
    req: &HttpRequest,
    decide: fn(&HttpRequest, Option<AuthUser>) -> Result<T, AppError>,
) -> Loading<T> {
    let req = req.clone();
    Box::pin(async move {
        let user = super::load_user(&req).await?;
        decide(&req, user)
    })
}

impl FromRequest for MaybeUser {
    type Error = AppError;
    type Future = Loading<Self>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        after_loading(req, |_, user| Ok(Self(user)))
    }
}

impl FromRequest for CurrentUser {
    type Error = AppError;
    type Future = Loading<Self>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        after_loading(req, |req, user| match user {
            Some(user) => Ok(Self(user)),
            None => Err(unauthorized(req, LOGIN_VIEW, LOGIN_MESSAGE)),
        })
    }
}

impl FromRequest for FreshUser {
    type Error = AppError;
    type Future = Loading<Self>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        after_loading(req, |req, user| match user {
            Some(user) if user.fresh => Ok(Self(user)),
            Some(_) => Err(unauthorized(req, REFRESH_VIEW, REFRESH_MESSAGE)),
            None => Err(unauthorized(req, LOGIN_VIEW, LOGIN_MESSAGE)),
        })
    }
}

/// The page being answered, with whoever is logged in (or nobody).
impl FromRequest for Page {
    type Error = AppError;
    type Future = Loading<Self>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        after_loading(req, |req, user| Ok(Page::new(req.clone(), user)))
    }
}

/// Login required (`@login_required`) for a handler that reads the database anyway: the login
/// is checked in the same trip to the database as the handler's own reading, by
/// [`LoginRequired::read`]. A trip to the blocking thread pool costs about as much CPU as the
/// query itself, so the pages read most (`/index`, `/explore`, profiles) make one instead of two
/// (`docs/05-user-logins.md`). Visitors without a login token are redirected before the handler
/// runs, as with [`CurrentUser`]; a revoked or expired login, once the trip has found it so.
pub struct LoginRequired {
    req: HttpRequest,
    manager: actix_web::web::Data<LoginManager>,
    claim: Claim,
}

impl FromRequest for LoginRequired {
    type Error = AppError;
    type Future = Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(manager(req).and_then(|manager| {
            let claim = Claim::read(req, &manager)
                .ok_or_else(|| unauthorized(req, LOGIN_VIEW, LOGIN_MESSAGE))?;
            Ok(Self {
                req: req.clone(),
                manager,
                claim,
            })
        }))
    }
}

impl LoginRequired {
    /// Checks the login (`user_loader`) and, if it is alive, runs `read` with the user's id, in
    /// one trip to the database; gives the page to answer with (for that user) and what `read`
    /// found. `read` must only read: under `SESSION_PROTECTION=strong` a login used from another
    /// client is refused after the trip, and what `read` found is dropped.
    pub async fn read<T, F>(self, read: F) -> Result<(Page, T), AppError>
    where
        F: FnOnce(&mut DbConn, i32) -> diesel::QueryResult<T> + Send + 'static,
        T: Send + 'static,
    {
        self.trip(move |conn, hash, now| check_then_read(conn, hash, now, read))
            .await
    }

    /// [`read`](Self::read) of page `number` of the user's timeline, for `/index`. On
    /// PostgreSQL, when the session says whose login it holds, the check and the page are one
    /// statement (`login_session::find_active_with_timeline`), not two: there each statement is
    /// a trip to the database server and back. Otherwise, or if that statement finds no login
    /// of that user, the check runs alone first, as in `read`. On SQLite a statement is a call
    /// into the library in this process, and the login's columns, repeated on every post's row,
    /// would cost more than the second statement.
    pub async fn timeline(
        self,
        number: PageNumber,
        per_page: i64,
    ) -> Result<(Page, Paginated<PostWithAuthor>), AppError> {
        let session_user = self.claim.user_id;
        self.trip(move |conn, hash, now| {
            if let Some(user_id) = session_user
                && matches!(conn, DbConn::Postgresql(_))
            {
                let found = login_session::find_active_with_timeline(
                    conn, hash, now, user_id, number, per_page,
                )?;
                if let Some((login, page)) = found {
                    return Ok((Some(login), Some(page)));
                }
            }
            check_then_read(conn, hash, now, |conn, me| {
                post::page(conn, Feed::Timeline(me), number, per_page)
            })
        })
        .await
    }

    /// One trip to the database with the login token's hash and the time: `check` gives the
    /// login it found (`None`: none alive) and what it read; then the login is settled.
    async fn trip<T, F>(self, check: F) -> Result<(Page, T), AppError>
    where
        F: FnOnce(&mut DbConn, &str, NaiveDateTime) -> diesel::QueryResult<Checked<T>>
            + Send
            + 'static,
        T: Send + 'static,
    {
        let Self {
            req,
            manager,
            claim,
        } = self;
        let (hash, now) = (claim.hash.clone(), claim.now);
        let (found, value) = manager.db.run(move |conn| check(conn, &hash, now)).await?;
        let user = claim.settle(&req, &manager, found)?;
        req.extensions_mut().insert(Loaded(user.clone()));
        match (user, value) {
            (Some(user), Some(value)) => Ok((Page::new(req, Some(user)), value)),
            _ => Err(unauthorized(&req, LOGIN_VIEW, LOGIN_MESSAGE)),
        }
    }
}

/// The login a trip found, and what it read for that login's user.
type Checked<T> = (Option<ActiveLogin>, Option<T>);

/// The login check, then, if the login is alive, `read` with its user's id.
fn check_then_read<T>(
    conn: &mut DbConn,
    hash: &str,
    now: NaiveDateTime,
    read: impl FnOnce(&mut DbConn, i32) -> diesel::QueryResult<T>,
) -> diesel::QueryResult<Checked<T>> {
    let Some(login) = login_session::find_active(conn, hash, now)? else {
        return Ok((None, None));
    };
    let value = read(conn, login.user_id)?;
    Ok((Some(login), Some(value)))
}

/// Flask-Login's `unauthorized()`: flash, then send the visitor to `view?next=<this path and
/// query>`. A POST has no page to come back to, so it gets no `next`. When a message already
/// waits (the logout's "You have been logged out.", a dead link's), it says why the visitor is
/// here, and a second one would only blur it.
fn unauthorized(req: &HttpRequest, view: &str, message: Message) -> AppError {
    if !flash::waiting(req) {
        flash(req, Kind::Info, message);
    }
    let location = if req.method() == actix_web::http::Method::GET {
        let target = match req.query_string() {
            "" => req.path().to_owned(),
            q => format!("{}?{q}", req.path()),
        };
        with_next(view, &target)
    } else {
        view.to_owned()
    };
    AppError::Redirect(location)
}
