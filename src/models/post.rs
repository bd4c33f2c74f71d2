//! Flask: the `Post` model (chapter 4) and the queries behind `/index` and `/explore` (chapter 9).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::schema::{posts, users};

#[derive(Debug, Insertable)]
#[diesel(table_name = posts)]
pub struct NewPost<'a> {
    pub body: &'a str,
    pub timestamp: NaiveDateTime,
    pub user_id: i32,
}

/// A post as pages show it: with its author's name.
#[derive(Debug, Clone, Queryable)]
pub struct PostWithAuthor {
    pub id: i32,
    pub body: String,
    pub timestamp: NaiveDateTime,
    pub author: String,
}

pub fn create(conn: &mut DbConn, new: &NewPost<'_>) -> QueryResult<usize> {
    diesel::insert_into(posts::table).values(new).execute(conn)
}

/// One page of posts, newest first, optionally of one author only. Returns up to
/// `limit` rows (see `models::page_window`).
pub fn page(
    conn: &mut DbConn,
    author: Option<i32>,
    limit: i64,
    offset: i64,
) -> QueryResult<Vec<PostWithAuthor>> {
    let mut query = posts::table
        .inner_join(users::table)
        .select((posts::id, posts::body, posts::timestamp, users::username))
        .order((posts::timestamp.desc(), posts::id.desc()))
        .limit(limit)
        .offset(offset)
        .into_boxed();
    if let Some(user_id) = author {
        query = query.filter(posts::user_id.eq(user_id));
    }
    query.load(conn)
}
