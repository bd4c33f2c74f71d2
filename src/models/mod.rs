//! Flask's `app/models.py`: the tables as Rust types, and every query the app makes.
//! Functions take `&mut DbConn` and return `QueryResult`; handlers call them through `Db::run`.
//! No other module uses Diesel's query builder.

pub mod actor;
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
pub mod throttle_count;
pub mod translation;
pub mod user;

use chrono::{NaiveDateTime, Utc};

use crate::db::DbConn;

// SQL's `lower()`, for the comparisons that ignore case (addresses).
diesel::define_sql_function!(fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text);

/// The current time in UTC: every timestamp is stored in UTC, whatever the server's time zone.
///
/// A test hook: `MICROBLOG_TEST_CLOCK_OFFSET` (seconds, read once) moves this process's clock,
/// as a machine whose clock is wrong would, so that a test can show that what must agree
/// between instances (the job runner's leases and due times) does not come from here but
/// from [`db_now`].
pub fn now() -> NaiveDateTime {
    static OFFSET: std::sync::OnceLock<chrono::TimeDelta> = std::sync::OnceLock::new();
    let offset = OFFSET.get_or_init(|| {
        std::env::var("MICROBLOG_TEST_CLOCK_OFFSET")
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .map_or(chrono::TimeDelta::zero(), chrono::TimeDelta::seconds)
    });
    Utc::now().naive_utc() + *offset
}

/// The database server's clock, in UTC: the one clock every instance on one database shares,
/// whatever each machine's own says. PostgreSQL's `now()` is the time its transaction began.
pub fn db_now(conn: &mut DbConn) -> diesel::QueryResult<NaiveDateTime> {
    use diesel::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Now {
        #[diesel(sql_type = diesel::sql_types::Timestamp)]
        now: NaiveDateTime,
    }
    let sql = match conn {
        DbConn::Postgresql(_) => "SELECT (now() AT TIME ZONE 'UTC') AS now",
        DbConn::Sqlite(_) => "SELECT strftime('%Y-%m-%d %H:%M:%f', 'now') AS now",
    };
    Ok(diesel::sql_query(sql).get_result::<Now>(conn)?.now)
}
