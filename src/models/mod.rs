//! Flask's `app/models.py`: the tables as Rust types, and every query the app makes.
//! Functions take `&mut DbConn` and return `QueryResult`; handlers call them through `Db::run`.
//! No other module uses Diesel's query builder.

pub mod api_token;
pub mod bulk;
pub mod email_change;
pub mod erase;
pub mod job;
pub mod login_session;
pub mod mail;
pub mod message;
pub mod post;
pub mod task;
pub mod translation;
pub mod user;

use chrono::{NaiveDateTime, Utc};

// SQL's `lower()`, for the comparisons that ignore case (addresses).
diesel::define_sql_function!(fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text);

/// The current time in UTC: every timestamp is stored in UTC, whatever the server's time zone.
pub fn now() -> NaiveDateTime {
    Utc::now().naive_utc()
}
