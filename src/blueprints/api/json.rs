//! Flask: `User.to_dict()`, `User.from_dict()` and `PaginatedAPIMixin.to_collection_dict()`
//! (chapter 23): what the API sends and takes, as Rust types. The OpenAPI document is made
//! from these same types, so it cannot drift from what the code does.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use chrono::NaiveDateTime;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::errors::ApiError;

use crate::form::parse_urlencoded;
use crate::models::post::PostWithAuthor;
use crate::models::user::{self, WithCounts};
use crate::pagination::{MAX_PAGE, PageNumber};

/// A time as the API writes it: ISO 8601 in UTC, `2026-12-03T09:30:00Z`.
pub fn iso(at: NaiveDateTime) -> String {
    at.and_utc()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenJson {
    /// 32 hex digits; send it as `Authorization: Bearer <token>`.
    #[schema(example = "6f1ed002ab5595859014ebf0951522d9")]
    pub token: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserLinks {
    #[serde(rename = "self")]
    #[schema(example = "/api/users/1")]
    pub self_: String,
    #[schema(example = "/api/users/1/followers")]
    pub followers: String,
    #[schema(example = "/api/users/1/following")]
    pub following: String,
    /// The user's posts.
    #[schema(example = "/api/users/1/posts")]
    pub posts: String,
    /// Gravatar's 128-pixel image for the user's address.
    pub avatar: String,
}

/// Flask: `User.to_dict()`.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserJson {
    pub id: i32,
    #[schema(example = "susan")]
    pub username: String,
    /// Only in the token holder's own user.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// ISO 8601, UTC.
    #[schema(example = "2026-12-03T09:30:00Z")]
    pub last_seen: String,
    pub about_me: Option<String>,
    pub post_count: i64,
    pub follower_count: i64,
    pub following_count: i64,
    #[serde(rename = "_links")]
    pub links: UserLinks,
}

impl UserJson {
    /// `with_email`: the reader is this user (or just created them).
    pub fn of(found: WithCounts, with_email: bool) -> Self {
        let WithCounts {
            user,
            posts,
            followers,
            following,
        } = found;
        let at = format!("/api/users/{}", user.id);
        Self {
            links: UserLinks {
                followers: format!("{at}/followers"),
                following: format!("{at}/following"),
                posts: format!("{at}/posts"),
                avatar: user::avatar_url(&user.email, 128),
                self_: at,
            },
            id: user.id,
            username: user.username,
            email: with_email.then_some(user.email),
            last_seen: iso(user.last_seen),
            about_me: user.about_me,
            post_count: posts,
            follower_count: followers,
            following_count: following,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PostLinks {
    #[serde(rename = "self")]
    #[schema(example = "/api/posts/1")]
    pub self_: String,
    #[schema(example = "/api/users/1")]
    pub author: String,
}

/// A post (the Flask app's API has none; a client needs them).
#[derive(Debug, Serialize, ToSchema)]
pub struct PostJson {
    pub id: i32,
    #[schema(example = "Hello from the API!")]
    pub body: String,
    /// ISO 8601, UTC.
    #[schema(example = "2026-12-03T09:30:00Z")]
    pub timestamp: String,
    /// ISO 639-1, as detected when it was written; null when unknown.
    #[schema(example = "en")]
    pub language: Option<String>,
    pub author_id: i32,
    #[schema(example = "susan")]
    pub author: String,
    #[serde(rename = "_links")]
    pub links: PostLinks,
}

impl PostJson {
    pub fn of(post: PostWithAuthor) -> Self {
        Self {
            links: PostLinks {
                self_: format!("/api/posts/{}", post.id),
                author: format!("/api/users/{}", post.user_id),
            },
            id: post.id,
            body: post.body,
            timestamp: iso(post.timestamp),
            language: post.language,
            author_id: post.user_id,
            author: post.author,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Meta {
    pub page: i64,
    pub per_page: i64,
    pub total_pages: i64,
    pub total_items: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CollectionLinks {
    #[serde(rename = "self")]
    #[schema(example = "/api/users?page=1&per_page=10")]
    pub self_: String,
    /// Null on the last page.
    pub next: Option<String>,
    /// Null on the first page.
    pub prev: Option<String>,
}

/// Flask: `PaginatedAPIMixin.to_collection_dict()`, for users.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserCollection {
    pub items: Vec<UserJson>,
    #[serde(rename = "_meta")]
    pub meta: Meta,
    #[serde(rename = "_links")]
    pub links: CollectionLinks,
}

/// The same, for posts.
#[derive(Debug, Serialize, ToSchema)]
pub struct PostCollection {
    pub items: Vec<PostJson>,
    #[serde(rename = "_meta")]
    pub meta: Meta,
    #[serde(rename = "_links")]
    pub links: CollectionLinks,
}

/// How the OpenAPI document describes [`Window`]'s query (read by `Window::parse`, which is
/// more forgiving than a typed query would be).
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[expect(dead_code, reason = "only described: Window::parse reads the query")]
pub struct PageQuery {
    /// The page, from 1; default 1. A whole number below 1 is read as 1; past page 1,000 a
    /// list is empty (it is not read that deep).
    page: Option<i64>,
    /// Items a page; default 10. A whole number outside 1-100 is read as the nearest of the
    /// two, as the tutorial's API does.
    per_page: Option<i64>,
}

/// `?page=&per_page=` of a collection (Flask: `request.args.get('page', 1, type=int)` and
/// `min(request.args.get('per_page', 10, type=int), 100)`): missing is the default; a whole
/// number is kept within bounds, as the tutorial's API does (`page` from 1, `per_page` 1-100);
/// anything else (a word, a fraction, a number past 64 bits) is a 400 that says which.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    pub page: i64,
    pub per_page: i64,
}

impl Window {
    pub const PER_PAGE: i64 = 10;
    pub const MAX_PER_PAGE: i64 = 100;

    pub fn parse(query: &str) -> Result<Self, ApiError> {
        let pairs = parse_urlencoded(query.as_bytes())
            .map_err(|_| ApiError::bad_request("The query string could not be read."))?;
        let number =
            |name: &str| -> Result<Option<i64>, ApiError> {
                match pairs.iter().find(|(k, _)| k == name) {
                    None => Ok(None),
                    Some((_, v)) => v.trim().parse::<i64>().map(Some).map_err(|_| {
                        ApiError::bad_request(format!("{name}: must be a whole number"))
                    }),
                }
            };
        let page = number("page")?.map_or(1, |n| n.clamp(1, PageNumber::MAX));
        let per_page =
            number("per_page")?.map_or(Self::PER_PAGE, |n| n.clamp(1, Self::MAX_PER_PAGE));
        Ok(Self { page, per_page })
    }

    pub fn number(&self) -> PageNumber {
        PageNumber(self.page)
    }

    pub fn offset(&self) -> i64 {
        (self.page - 1) * self.per_page
    }

    /// The `_meta` and `_links` of this page of a collection of `total` items at `url`.
    pub fn describe(&self, total: i64, url: &str) -> (Meta, CollectionLinks) {
        let at = |page: i64| format!("{url}?page={page}&per_page={}", self.per_page);
        let meta = Meta {
            page: self.page,
            per_page: self.per_page,
            total_pages: (total + self.per_page - 1) / self.per_page,
            total_items: total,
        };
        let links = CollectionLinks {
            self_: at(self.page),
            next: (self.page < MAX_PAGE && self.page * self.per_page < total)
                .then(|| at(self.page + 1)),
            prev: (self.page > 1).then(|| at(self.page - 1)),
        };
        (meta, links)
    }
}

/// Flask: `User.from_dict(data, new_user=True)`: `POST /api/users`. Other fields (`id`,
/// `token`, `password_hash`, the counts) are ignored: never stored.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewUserJson {
    /// Letters, digits, `.`, `_` and `-`, unique whatever its case. The document names the
    /// ASCII ones; the API, like the web form, also takes letters and digits of other scripts.
    #[schema(
        example = "susan",
        min_length = 1,
        max_length = 64,
        pattern = r"^[A-Za-z0-9._-]+$"
    )]
    pub username: String,
    #[schema(
        example = "susan@example.com",
        max_length = 120,
        pattern = r"^[^\s@\x00-\x1F\x7F-\x9F]+@[^\s@.\x00-\x1F\x7F-\x9F]+(\.[^\s@.\x00-\x1F\x7F-\x9F]+)+$"
    )]
    pub email: String,
    /// The web site's rules: at least 8 characters, not all digits, not too common, not your
    /// username or address.
    #[schema(
        example = "correct horse battery staple",
        min_length = 8,
        max_length = 1000,
        pattern = r"\D"
    )]
    pub password: String,
    /// At most 140 characters.
    #[serde(default, deserialize_with = "present")]
    #[schema(example = "I write about trains.", value_type = String, required = false, max_length = 140)]
    pub about_me: Option<String>,
}

/// Flask: `User.from_dict(data, new_user=False)`: `PUT /api/users/<id>`. A field left out keeps
/// its value (`null` is no string: a 400 naming the field); an empty `about_me` clears it. The
/// password is changed on the web site only, where the old one is asked for.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct UserChangeJson {
    #[serde(deserialize_with = "present")]
    #[schema(example = "susan", value_type = String, required = false, min_length = 1, max_length = 64, pattern = r"^[A-Za-z0-9._-]+$")]
    pub username: Option<String>,
    /// A new address is not yours until you open the link mailed to it; `password` is needed.
    #[serde(deserialize_with = "present")]
    #[schema(example = "susan@example.com", value_type = String, required = false, max_length = 120, pattern = r"^[^\s@\x00-\x1F\x7F-\x9F]+@[^\s@.\x00-\x1F\x7F-\x9F]+(\.[^\s@.\x00-\x1F\x7F-\x9F]+)+$")]
    pub email: Option<String>,
    #[serde(deserialize_with = "present")]
    #[schema(example = "I write about trains.", value_type = String, required = false, max_length = 140)]
    pub about_me: Option<String>,
    /// Your current password: needed with `email`, and only then.
    #[serde(deserialize_with = "present")]
    #[schema(example = "correct horse battery staple", value_type = String, required = false)]
    pub password: Option<String>,
}

/// `POST /api/posts`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewPostJson {
    /// 1-140 characters, not only spaces, no control characters but line breaks and tabs.
    #[schema(
        example = "Hello from the API!",
        min_length = 1,
        max_length = 140,
        pattern = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*$"
    )]
    pub body: String,
}

/// A JSON object body read as `T` (actix's `Json` would also take `["a", "b"]` as a struct, by
/// field order). Not JSON: 415; too large: 413; not an object, or not the fields `T` wants: 400.
pub struct Body<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for Body<T> {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, actix_web::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let json = web::Json::<serde_json::Value>::from_request(req, payload);
        Box::pin(async move {
            // The scope's JsonConfig has made a failure here the right ApiError (413, 415, 400).
            let value = json.await?.into_inner();
            if !value.is_object() {
                return Err(ApiError::bad_request("The body must be a JSON object.").into());
            }
            serde_path_to_error::deserialize(value)
                .map(Body)
                .map_err(|e| ApiError::bad_request(wrong_field(&e)).into())
        })
    }
}

/// Why a body's field was refused, naming the field: "username: a string is expected, not
/// null", "email: required". In our words, not the JSON parser's.
fn wrong_field(e: &serde_path_to_error::Error<serde_json::Error>) -> String {
    let said = e.inner().to_string();
    let said = said.split(" at line ").next().unwrap_or(&said);
    let path = e.path().to_string();
    if let Some(missing) = said
        .strip_prefix("missing field `")
        .and_then(|s| s.strip_suffix('`'))
    {
        return format!("{missing}: required");
    }
    // "invalid type: integer `5`, expected a string": the type sent, then the one wanted.
    if let Some((sent, wanted)) = said
        .strip_prefix("invalid type: ")
        .and_then(|s| s.split_once(", expected "))
    {
        let sent = sent.split(' ').next().unwrap_or(sent);
        return format!("{path}: {wanted} is expected, not {sent}");
    }
    format!("{path}: not a value this field takes")
}

/// For a field that may be left out but not sent as `null`: absent is `None` (with
/// `#[serde(default)]`), `null` is a wrong type.
fn present<'de, D>(deserializer: D) -> Result<Option<String>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    String::deserialize(deserializer).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_keeps_per_page_within_its_bounds_and_links_its_neighbours() {
        let w = Window::parse("page=2&per_page=5").unwrap();
        assert_eq!((w.page, w.per_page, w.offset()), (2, 5, 5));
        let (meta, links) = w.describe(11, "/api/users");
        assert_eq!((meta.total_pages, meta.total_items), (3, 11));
        assert_eq!(links.self_, "/api/users?page=2&per_page=5");
        assert_eq!(links.next.as_deref(), Some("/api/users?page=3&per_page=5"));
        assert_eq!(links.prev.as_deref(), Some("/api/users?page=1&per_page=5"));
        assert_eq!(Window::parse("per_page=1000").unwrap().per_page, 100);
        assert_eq!(Window::parse("per_page=0").unwrap().per_page, 1);
        assert_eq!(Window::parse("page=-4").unwrap().page, 1);
        for wrong in [
            "per_page=x",
            "page=y",
            "per_page=1.5",
            "page=9223372036854775808",
        ] {
            assert!(Window::parse(wrong).is_err(), "{wrong}");
        }
        let last = Window::parse("page=3&per_page=5")
            .unwrap()
            .describe(11, "/u")
            .1;
        assert_eq!(last.next, None);
        assert_eq!(
            Window::parse("").unwrap().describe(0, "/u").0.total_pages,
            0
        );
    }
}
