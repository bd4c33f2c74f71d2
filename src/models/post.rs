//! Flask: the `Post` model (chapter 4) and the queries behind `/index` and `/explore` (chapter 9).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::{DbConn, on_backend};
use crate::pagination::{PageNumber, Paginated};
use crate::schema::{blocks, followers, posts, users};

/// A whole row of `posts`.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = posts)]
pub struct Post {
    pub id: i32,
    pub body: String,
    pub timestamp: NaiveDateTime,
    pub user_id: i32,
    pub language: Option<String>,
    /// A post received from another server: its object id (`models::actor`).
    pub ap_id: Option<String>,
    /// ... and its HTML, sanitised.
    pub body_html: Option<String>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = posts)]
pub struct NewPost<'a> {
    pub body: &'a str,
    pub timestamp: NaiveDateTime,
    pub user_id: i32,
    /// ISO 639-1, as `crate::translate::detect_language` found it.
    pub language: Option<&'a str>,
}

/// A post as pages show it: with its author's name and e-mail (for the avatar), selected with
/// `PostWithAuthor::as_select()` from `posts` joined with `users`.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = posts)]
pub struct PostWithAuthor {
    pub id: i32,
    pub user_id: i32,
    pub body: String,
    pub timestamp: NaiveDateTime,
    pub language: Option<String>,
    #[diesel(select_expression = users::username)]
    pub author: String,
    #[diesel(select_expression = users::email)]
    pub author_email: String,
    /// A post received from another server: its HTML, sanitised (`federation::html`).
    pub body_html: Option<String>,
}

/// The posts with these ids and their authors, in no particular order.
pub fn with_authors(conn: &mut DbConn, ids: &[i32]) -> QueryResult<Vec<PostWithAuthor>> {
    posts::table
        .inner_join(users::table)
        .filter(posts::id.eq_any(ids))
        .select(PostWithAuthor::as_select())
        .load(conn)
}

/// The id of the newest post (0 when there is none): from the primary key alone.
pub fn newest_id(conn: &mut DbConn) -> QueryResult<i32> {
    posts::table
        .select(diesel::dsl::max(posts::id))
        .first::<Option<i32>>(conn)
        .map(Option::unwrap_or_default)
}

/// Which posts a page lists.
#[derive(Debug, Clone, Copy)]
pub enum Feed {
    /// Everyone's (the count of every post).
    Everyone,
    /// `/explore` as a reader sees it: everyone's but those of the users the reader blocks.
    Explore(i32),
    /// `/user/<name>`: one author's.
    Author(i32),
    /// `/index`: the user's own and those of the users they follow (Flask:
    /// `User.following_posts()`, chapter 9), but those of the users they block.
    Timeline(i32),
}

/// The users `reader` blocks (a port addition, `docs/21-user-notifications.md`): their posts
/// leave the reader's timeline and `/explore`. A few rows of `blocks`, read by its primary key.
pub(crate) fn blocked_by(
    reader: i32,
) -> diesel::dsl::Select<
    diesel::dsl::Filter<blocks::table, diesel::dsl::Eq<blocks::blocker_id, i32>>,
    blocks::blocked_id,
> {
    blocks::table
        .filter(blocks::blocker_id.eq(reader))
        .select(blocks::blocked_id)
}

/// Stores a post; returns its id.
pub fn create(conn: &mut DbConn, new: &NewPost<'_>) -> QueryResult<i32> {
    diesel::insert_into(posts::table)
        .values(new)
        .returning(posts::id)
        .get_result(conn)
}

/// One post and its author (`GET /api/posts/<id>`).
pub fn find(conn: &mut DbConn, id: i32) -> QueryResult<Option<PostWithAuthor>> {
    posts::table
        .inner_join(users::table)
        .filter(posts::id.eq(id))
        .select(PostWithAuthor::as_select())
        .first(conn)
        .optional()
}

/// How many posts a feed holds in all (the API's collections say it).
pub fn count(conn: &mut DbConn, feed: Feed) -> QueryResult<i64> {
    match feed {
        Feed::Everyone => posts::table.count().get_result(conn),
        Feed::Explore(reader) => on_backend!(conn, c => posts::table
            .filter(posts::user_id.ne_all(blocked_by(reader)))
            .count()
            .get_result(c)),
        Feed::Author(user_id) => posts::table
            .filter(posts::user_id.eq(user_id))
            .count()
            .get_result(conn),
        Feed::Timeline(user_id) => on_backend!(conn, c => posts::table
            .filter(
                posts::user_id
                    .eq_any(
                        followers::table
                            .filter(followers::follower_id.eq(user_id))
                            .filter(followers::followed_id.ne_all(blocked_by(user_id)))
                            .select(followers::followed_id),
                    )
                    .or(posts::user_id.eq(user_id)),
            )
            .count()
            .get_result(c)),
    }
}

/// Flask: `db.paginate(query, page=page, per_page=per_page)` over a feed (chapter 9): page
/// `number` of its posts, newest first.
pub fn page(
    conn: &mut DbConn,
    feed: Feed,
    number: PageNumber,
    per_page: i64,
) -> QueryResult<Paginated<PostWithAuthor>> {
    Paginated::read(number, per_page, |limit, offset| {
        rows(conn, feed, limit, offset)
    })
}

/// The ids of up to `limit` posts of `user_id`'s timeline from `offset` on, newest first: the
/// inner query of [`Feed::Timeline`]'s page, also read in the login check's statement
/// (`login_session::find_active_with_timeline`). A macro, since its type cannot be named.
///
/// One IN over "the users I follow, and me" (not `me OR IN (...)`): both databases then look
/// each author up in ix_posts_user_id_timestamp and sort only the ids of their posts, so the
/// cost follows how much the followed users wrote, not the size of the whole table. It reads
/// `posts` and `users` under the names `$candidates` and `$own`, since the outer query holds both
/// tables. The caller makes these aliases, in the same `alias!` call as every other alias of
/// `users` in the statement (Diesel requires that).
macro_rules! timeline_ids {
    ($candidates:expr, $own:expr, $user_id:expr, $limit:expr, $offset:expr $(,)?) => {{
        use $crate::schema::{followers, posts, users};
        let (candidates, own, user_id): (_, _, i32) = ($candidates, $own, $user_id);
        candidates
            .select(candidates.field(posts::id))
            .filter(
                candidates.field(posts::user_id).eq_any(
                    followers::table
                        .filter(followers::follower_id.eq(user_id))
                        .filter(
                            followers::followed_id
                                .ne_all($crate::models::post::blocked_by(user_id)),
                        )
                        .select(followers::followed_id)
                        .union(
                            own.filter(own.field(users::id).eq(user_id))
                                .select(own.field(users::id)),
                        ),
                ),
            )
            .order((
                candidates.field(posts::timestamp).desc(),
                candidates.field(posts::id).desc(),
            ))
            .limit($limit)
            .offset($offset)
    }};
}
pub(crate) use timeline_ids;

/// Up to `limit` posts of a feed from `offset` on, newest first, in one statement of two steps
/// (for `/explore`, after one that asks whether the reader blocks anyone):
/// the inner query picks the post ids from an index alone, and only those posts are read with
/// their authors (`docs/09-pagination.md` says why). Each feed is a fixed query, never a boxed
/// one, so Diesel prepares it once per connection; it runs on the backend's own connection
/// (`on_backend!`).
pub(crate) fn rows(
    conn: &mut DbConn,
    feed: Feed,
    limit: i64,
    offset: i64,
) -> QueryResult<Vec<PostWithAuthor>> {
    // The inner query reads `posts` under its own name, and the timeline's "me" reads `users`
    // under another, since both tables are already in the outer query.
    let (candidates, own) = diesel::alias!(posts as candidates, users as own);
    // A macro, not a closure: each feed's id query is a different type.
    macro_rules! newest_first {
        ($ids:expr $(,)?) => {
            posts::table
                .inner_join(users::table)
                .filter(posts::id.eq_any($ids))
                .select(PostWithAuthor::as_select())
                .order((posts::timestamp.desc(), posts::id.desc()))
        };
    }
    let page_of_ids = || {
        candidates
            .select(candidates.field(posts::id))
            .order((
                candidates.field(posts::timestamp).desc(),
                candidates.field(posts::id).desc(),
            ))
            .limit(limit)
            .offset(offset)
    };
    match feed {
        Feed::Everyone => on_backend!(conn, c => newest_first!(page_of_ids()).load(c)),
        Feed::Explore(reader) => {
            // Most readers block nobody, and their `/explore` is everyone's posts: its ids come
            // from the time index alone, however deep the page. A filter on the author would
            // read every post stepped over from the table, for its author: a hundred times the
            // work on page 200. So one short statement first asks whether the reader blocks
            // anyone, and only a reader who does pays for the filter.
            let blocks_someone: bool =
                diesel::select(diesel::dsl::exists(blocked_by(reader))).get_result(conn)?;
            if !blocks_someone {
                return rows(conn, Feed::Everyone, limit, offset);
            }
            on_backend!(conn, c => newest_first!(
                page_of_ids().filter(candidates.field(posts::user_id).ne_all(blocked_by(reader)))
            )
            .load(c))
        }
        Feed::Author(user_id) => on_backend!(conn, c => newest_first!(
            page_of_ids().filter(candidates.field(posts::user_id).eq(user_id))
        )
        .load(c)),
        Feed::Timeline(user_id) => on_backend!(conn, c => newest_first!(
            timeline_ids!(candidates, own, user_id, limit, offset)
        )
        .load(c)),
    }
}
