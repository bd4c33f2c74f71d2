//! Flask's `app/models.py`: the tables as Rust types, and every query the app makes.
//! Functions take `&mut DbConn` and return `QueryResult`; handlers call them through `Db::run`.

pub mod login_session;
pub mod post;
pub mod user;

use chrono::{NaiveDateTime, Utc};

/// The current time in UTC, as stored in the database (CONTRACT.md: timestamps are UTC).
pub fn now() -> NaiveDateTime {
    Utc::now().naive_utc()
}

/// `LIMIT`/`OFFSET` for page `page` (1-based) of `per_page` rows. Asks one row more than shown,
/// so the caller knows whether a next page exists without counting.
pub fn page_window(page: i64, per_page: i64) -> (i64, i64) {
    (per_page + 1, (page - 1) * per_page)
}
