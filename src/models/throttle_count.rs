//! The login throttle's counts on PostgreSQL (`throttle::LoginThrottle`), in `throttle_counts`,
//! where every instance on the database reads and adds to the same ones.
//!
//! A count is one row: its key, the account it is of (if any), and `forgiven_at`, the moment
//! by the database's clock when every failure in it is forgiven. A failure moves `forgiven_at`
//! on by the count's interval (from now, if it had passed), so the failures a count still holds
//! are the time left until `forgiven_at`, divided by that interval. Times are the database's
//! (`now()`), so instances whose clocks disagree still agree on every count.
//!
//! The table exists on PostgreSQL only: on SQLite the single instance counts in its memory.

use diesel::QueryResult;
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::{Array, Double, Nullable, Text};

use crate::db::DbConn;

/// A count as read: its key, the seconds until its failures are all forgiven, and whether it
/// is of the account asked about.
#[derive(QueryableByName, Debug)]
pub struct Recorded {
    #[diesel(sql_type = Text)]
    pub key: String,
    #[diesel(sql_type = Double)]
    pub seconds_left: f64,
    #[diesel(sql_type = diesel::sql_types::Bool)]
    pub of_account: bool,
}

/// The PostgreSQL connection, or an error: there is no such table on SQLite.
fn postgres(conn: &mut DbConn) -> QueryResult<&mut PgConnection> {
    match conn {
        DbConn::Postgresql(pg) => Ok(pg),
        DbConn::Sqlite(_) => Err(diesel::result::Error::QueryBuilderError(
            "throttle counts are kept in the database on PostgreSQL only".into(),
        )),
    }
}

/// The counts among `keys` that hold failures now, and every count of `account` that does
/// (one read, no write: a right password with nothing on record costs only this).
pub fn recorded(
    conn: &mut DbConn,
    keys: &[String],
    account: Option<&str>,
) -> QueryResult<Vec<Recorded>> {
    diesel::sql_query(
        "SELECT key, EXTRACT(EPOCH FROM forgiven_at - now())::float8 AS seconds_left,
                coalesce(account = $2, false) AS of_account
         FROM throttle_counts
         WHERE (key = ANY($1) OR account = $2) AND forgiven_at > now()",
    )
    .bind::<Array<Text>, _>(keys)
    .bind::<Nullable<Text>, _>(account)
    .load(postgres(conn)?)
}

/// One failure more in each count: `(key, account, seconds one failure is held)`.
pub fn add_failures(
    conn: &mut DbConn,
    failures: &[(String, Option<String>, f64)],
) -> QueryResult<()> {
    let keys: Vec<&str> = failures.iter().map(|(k, _, _)| k.as_str()).collect();
    let accounts: Vec<Option<&str>> = failures.iter().map(|(_, a, _)| a.as_deref()).collect();
    let seconds: Vec<f64> = failures.iter().map(|(_, _, s)| *s).collect();
    // The row to insert holds `now() + interval`; on a count that exists, the same interval is
    // added to its `forgiven_at`, or to now if that had passed.
    diesel::sql_query(
        "INSERT INTO throttle_counts (key, account, forgiven_at)
         SELECT key, account, now() + make_interval(secs => seconds)
         FROM unnest($1::text[], $2::text[], $3::float8[]) AS f(key, account, seconds)
         ORDER BY key
         ON CONFLICT (key) DO UPDATE SET forgiven_at =
             greatest(throttle_counts.forgiven_at, now()) + (excluded.forgiven_at - now())",
    )
    .bind::<Array<Text>, _>(keys)
    .bind::<Array<Nullable<Text>>, _>(accounts)
    .bind::<Array<Double>, _>(seconds)
    .execute(postgres(conn)?)
    .map(drop)
}

/// Forgives every count of `account`, from every place.
pub fn forgive(conn: &mut DbConn, account: &str) -> QueryResult<usize> {
    diesel::sql_query("DELETE FROM throttle_counts WHERE account = $1")
        .bind::<Text, _>(account)
        .execute(postgres(conn)?)
}

/// Deletes the counts whose failures have all been forgiven.
pub fn delete_forgiven(conn: &mut DbConn) -> QueryResult<usize> {
    diesel::sql_query("DELETE FROM throttle_counts WHERE forgiven_at <= now()")
        .execute(postgres(conn)?)
}
