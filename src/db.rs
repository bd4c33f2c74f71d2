//! Flask-SQLAlchemy's `db`: the connection, the pool, migrations, and `Db::run`, the one way a
//! handler reaches the database.
//!
//! One binary speaks SQLite and PostgreSQL: [`DbConn`] is a Diesel `MultiConnection`, and the
//! backend is chosen at run time from `DATABASE_URL`.

use std::time::Duration;

use anyhow::Context as _;
use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::r2d2::{self, ManageConnection};
use diesel::sqlite::SqliteConnection;
use diesel::{Connection, ConnectionError, QueryableByName, RunQueryDsl};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::config::DatabaseUrl;
use crate::error::AppError;

/// A connection to either backend. The SQLite variant stays last: Diesel's generic `establish`
/// tries variants in order, and SQLite would accept any string as a file name.
#[derive(diesel::MultiConnection)]
pub enum DbConn {
    Postgresql(PgConnection),
    Sqlite(SqliteConnection),
}

/// How many connections the pool holds: at most this many queries run at once, from the
/// requests and the background work together.
pub const POOL_SIZE: u32 = 8;

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// How long a SQLite writer waits for another writer before giving up.
const SQLITE_BUSY_TIMEOUT_MS: u32 = 5_000;

/// SQLite's own page cache, per connection, in KiB (`PRAGMA cache_size` takes a negative number
/// as KiB). SQLite's default is 2,000 KiB. The pool's [`POOL_SIZE`] connections each keep their
/// own copy of the same hot pages, and a connection drops its whole cache whenever another one
/// has written to the file since its last read. The operating system's file cache is behind it
/// either way.
/// Measured under mixed reads of a 300k-post database, with about 1 MiB a connection: the
/// server held 12-14 MiB less memory, `/index` cost no visible CPU more, and a common word's
/// search about 15% more (`docs/performance.md`).
const SQLITE_CACHE_KIB: u32 = 1_024;

/// Opens connections for the pool. We pick the backend from the parsed URL instead of Diesel's
/// try-each-variant `establish`, so a mistyped PostgreSQL URL is an error, not a new SQLite file.
#[derive(Debug, Clone)]
pub struct Manager {
    url: DatabaseUrl,
}

impl ManageConnection for Manager {
    type Connection = DbConn;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<DbConn, r2d2::Error> {
        match &self.url {
            DatabaseUrl::Postgres(url) => {
                // OpenSSL (libpq's TLS) set up by us before libpq does, without its clean-up at
                // exit: that clean-up ran while a pool thread was still connecting, and a
                // command that ends quickly (`microblog jobs list`) crashed as it exited.
                openssl_sys::init();
                PgConnection::establish(url)
                    .map(DbConn::Postgresql)
                    .map_err(r2d2::Error::ConnectionError)
            }
            DatabaseUrl::Sqlite(path) => {
                let path = path.to_str().ok_or_else(|| {
                    r2d2::Error::ConnectionError(ConnectionError::BadConnection(
                        "the SQLite path is not valid UTF-8".to_owned(),
                    ))
                })?;
                sqlite_plan_stability::enable();
                let mut conn =
                    SqliteConnection::establish(path).map_err(r2d2::Error::ConnectionError)?;
                // busy_timeout first: switching to WAL itself needs the write lock.
                // secure_delete: what a deletion frees is overwritten with zeros, so a deleted
                // post or account cannot be read back from the file (`Db::scrub` does the rest).
                conn.batch_execute(&format!(
                    "PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS};
                     PRAGMA journal_mode = WAL;
                     PRAGMA synchronous = NORMAL;
                     PRAGMA foreign_keys = ON;
                     PRAGMA secure_delete = ON;
                     PRAGMA cache_size = -{SQLITE_CACHE_KIB};"
                ))
                .map_err(r2d2::Error::QueryError)?;
                Ok(DbConn::Sqlite(conn))
            }
        }
    }

    fn is_valid(&self, conn: &mut DbConn) -> Result<(), r2d2::Error> {
        conn.batch_execute("SELECT 1")
            .map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut DbConn) -> bool {
        use diesel::r2d2::R2D2Connection;
        conn.is_broken()
    }
}

/// SQLite's query planner stability guarantee (QPSG) on every SQLite connection.
///
/// Without it, SQLite 3.53 plans `LIMIT ?` with the bound value and marks the statement to be
/// compiled again whenever that parameter is bound anew. Diesel binds every parameter on every
/// run (and `.limit()`/`.first()` always bind), so each cached statement was parsed and planned
/// again on every page, the largest single cost of `/index` (`docs/performance.md`). With QPSG the
/// plan depends on the SQL text only, and Diesel's statement cache works as intended.
///
/// Diesel does not hand out the raw `sqlite3*`, so the setting is applied by SQLite itself: an
/// auto-extension is a function SQLite calls for every connection the process opens.
mod sqlite_plan_stability {
    use std::ffi::{c_char, c_int};
    use std::sync::Once;

    use libsqlite3_sys as ffi;

    /// Registers the hook once per process; connections opened afterwards get QPSG.
    pub fn enable() {
        static REGISTER: Once = Once::new();
        REGISTER.call_once(|| {
            // SAFETY: `on_open` has the signature SQLite expects of an auto-extension entry point,
            // and registering one is thread-safe.
            let rc = unsafe { ffi::sqlite3_auto_extension(Some(on_open)) };
            if rc != ffi::SQLITE_OK {
                tracing::warn!(rc, "could not register SQLite's plan stability setting");
            }
        });
    }

    /// Called by SQLite with each new connection, before it is returned to Diesel.
    unsafe extern "C" fn on_open(
        db: *mut ffi::sqlite3,
        _error: *mut *mut c_char,
        _api: *const ffi::sqlite3_api_routines,
    ) -> c_int {
        // SAFETY: `db` is the open connection SQLite passes in; ENABLE_QPSG takes an int (1 = on)
        // and an optional `int*` for the new value (not wanted here).
        unsafe {
            ffi::sqlite3_db_config(
                db,
                ffi::SQLITE_DBCONFIG_ENABLE_QPSG,
                1 as c_int,
                std::ptr::null_mut::<c_int>(),
            )
        }
    }
}

/// Runs a Diesel query on the backend's own connection type rather than through [`DbConn`].
///
/// `$body` is expanded once per backend, so the same query text is typed for each. Worth it on
/// the queries of every page view: through a `MultiConnection` Diesel writes the whole SQL text
/// again each time the statement runs (to collect its parameters), even when the prepared
/// statement comes from the cache; on the backend's own connection it only binds the values.
macro_rules! on_backend {
    ($conn:expr, $c:ident => $body:expr) => {
        match $conn {
            $crate::db::DbConn::Sqlite($c) => $body,
            $crate::db::DbConn::Postgresql($c) => $body,
        }
    };
}
pub(crate) use on_backend;

pub type Pool = r2d2::Pool<Manager>;

/// The database handle kept in the app's data. Cheap to clone.
/// `f` in a transaction that, on SQLite, takes the write lock as it begins (`BEGIN IMMEDIATE`),
/// waiting for another writer as long as the busy timeout allows. A transaction begun the usual
/// way (`BEGIN`) first reads (even preparing a statement reads the schema), and a read
/// transaction that then wants to write is refused at once ("database is locked") if another
/// writer committed meanwhile: SQLite cannot let it write from an old snapshot. On PostgreSQL,
/// an ordinary transaction. Inside a transaction already, a savepoint of it (the outer one
/// began as this one would have, or holds the lock since it wrote).
pub fn write_transaction<T, F>(conn: &mut DbConn, f: F) -> diesel::QueryResult<T>
where
    F: FnOnce(&mut DbConn) -> diesel::QueryResult<T>,
{
    use diesel::connection::{AnsiTransactionManager, TransactionManager};
    let DbConn::Sqlite(c) = conn else {
        return conn.transaction(f);
    };
    let nested = AnsiTransactionManager::transaction_manager_status_mut(c)
        .transaction_depth()?
        .is_some();
    if nested {
        return conn.transaction(f);
    }
    AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")?;
    let result = f(conn);
    let DbConn::Sqlite(c) = conn else {
        unreachable!("the connection stays what it was");
    };
    match result {
        Ok(value) => {
            AnsiTransactionManager::commit_transaction(c)?;
            Ok(value)
        }
        Err(e) => {
            AnsiTransactionManager::rollback_transaction(c)?;
            Err(e)
        }
    }
}

/// One try of [`Db::scrub`]: on SQLite, copies the write-ahead log into the database file and
/// cuts the log back to nothing; `false` when a reader still used older pages of the log.
///
/// Without keeping writers waiting: a checkpoint that truncates the log itself (`TRUNCATE`)
/// holds the write lock while it waits for readers, and a writer that has begun reading is
/// then refused at once ("database is locked"). So this copies what it can (`PASSIVE`, which
/// blocks no one), then writes one row: a write finding every page of the log copied and no
/// reader in it starts the log again from its beginning, and with `journal_size_limit` at 0
/// its commit cuts the file there, so no older copy of a page is left past the new end.
pub fn empty_log(conn: &mut DbConn) -> diesel::QueryResult<bool> {
    #[derive(QueryableByName)]
    struct Checkpoint {
        #[diesel(sql_type = diesel::sql_types::Integer)]
        busy: i32,
        #[diesel(sql_type = diesel::sql_types::Integer)]
        log: i32,
        #[diesel(sql_type = diesel::sql_types::Integer)]
        checkpointed: i32,
    }
    let DbConn::Sqlite(c) = conn else {
        return Ok(true);
    };
    let checkpoint = |c: &mut SqliteConnection| {
        diesel::sql_query("PRAGMA wal_checkpoint(PASSIVE)").get_result::<Checkpoint>(c)
    };
    let before = checkpoint(c)?;
    if before.busy != 0 || before.checkpointed < before.log {
        return Ok(false);
    }
    c.batch_execute(
        "PRAGMA journal_size_limit = 0;
         UPDATE posts_search_mark SET id = id;
         PRAGMA journal_size_limit = -1;",
    )?;
    let after = checkpoint(c)?;
    // Started again: the log holds only the row just written (or was empty already).
    Ok(before.log == 0 || after.log < before.log)
}

/// Whether a failed connection may succeed if tried again: the server is not up yet (refused,
/// starting, no route, timed out, too busy) or its name did not resolve (yet). Any other
/// failure (a password, a database name, TLS) needs the settings changed.
fn may_heal(error: &str) -> bool {
    const PASSING: &[&str] = &[
        "Connection refused",
        "starting up",
        "shutting down",
        "timeout expired",
        "timed out",
        "No route to host",
        "Network is unreachable",
        "could not translate host name",
        "too many clients",
        "remaining connection slots",
    ];
    PASSING.iter().any(|sign| error.contains(sign))
}

#[derive(Clone)]
pub struct Db {
    pool: Pool,
}

impl Db {
    /// Opens the pool and applies any pending migrations, as `flask db upgrade` would. A SQLite
    /// file is created if needed, but not its folder: a folder that is not there is more likely
    /// a mistyped `DATABASE_URL` than a wish for a new, empty database.
    pub fn connect(url: &DatabaseUrl) -> anyhow::Result<Self> {
        let db = Self::open(url)?;
        let applied = db.upgrade()?;
        if !applied.is_empty() {
            tracing::info!(
                "applied {} migration(s) to {url:?}: {}",
                applied.len(),
                applied.join(", ")
            );
        }
        Ok(db)
    }

    /// Opens the pool, leaving migrations alone.
    pub fn open(url: &DatabaseUrl) -> anyhow::Result<Self> {
        if let DatabaseUrl::Sqlite(path) = url
            && let Some(folder) = path.parent()
            && !folder.as_os_str().is_empty()
            && !folder.is_dir()
        {
            anyhow::bail!(
                "the folder {} of the SQLite database does not exist: create it, or correct \
                 DATABASE_URL ({url:?})",
                folder.display()
            );
        }
        let manager = Manager { url: url.clone() };
        if let DatabaseUrl::Postgres(_) = url {
            // One try first: a refused password, a database that is not there or a server
            // certificate that does not match will not heal, and are told at once; the pool
            // below keeps trying (ten seconds) only what may: a server still starting.
            if let Err(e) = manager.connect()
                && !may_heal(&e.to_string())
            {
                return Err(e).with_context(|| format!("connecting to {url:?}"));
            }
        }
        let pool = r2d2::Pool::builder()
            .max_size(POOL_SIZE)
            .min_idle(Some(1))
            .connection_timeout(Duration::from_secs(10))
            // No `SELECT 1` before every use: `has_broken` already checks each connection as it
            // comes back, and a check per checkout was two extra statements per page.
            .test_on_check_out(false)
            .build(manager)
            .with_context(|| format!("connecting to {url:?}"))?;
        Ok(Self { pool })
    }

    /// Applies pending migrations; returns the names of those that ran, oldest first.
    pub fn upgrade(&self) -> anyhow::Result<Vec<String>> {
        let mut conn = self
            .pool
            .get()
            .context("getting a connection for migrations")?;
        // `source` makes the embedded list anew for each use (it cannot be copied).
        fn apply<C: MigrationHarness<B>, B: diesel::backend::Backend>(
            conn: &mut C,
            source: fn() -> EmbeddedMigrations,
        ) -> diesel::migration::Result<Vec<String>> {
            let names = conn
                .pending_migrations(source())?
                .iter()
                .map(|m| m.name().to_string())
                .collect();
            conn.run_pending_migrations(source())?;
            Ok(names)
        }
        match &mut *conn {
            DbConn::Sqlite(c) => apply(c, || SQLITE_MIGRATIONS),
            DbConn::Postgresql(c) => apply(c, || POSTGRES_MIGRATIONS),
        }
        .map_err(|e| anyhow::anyhow!("applying migrations: {e}"))
    }

    /// Runs blocking database work on actix's blocking thread pool, never on the async threads
    /// that serve requests. The closure gets a pooled connection.
    pub async fn run<F, T, E>(&self, f: F) -> Result<T, AppError>
    where
        F: FnOnce(&mut DbConn) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: Into<AppError> + Send + 'static,
    {
        let pool = self.pool.clone();
        actix_web::web::block(move || {
            let mut conn = pool.get().map_err(AppError::Pool)?;
            f(&mut conn).map_err(Into::into)
        })
        .await?
    }

    /// After a deletion that must leave no trace in the files (a post, an account). SQLite
    /// overwrites what a deletion frees in the database file (`secure_delete`), but the
    /// write-ahead log still holds older copies of the changed pages until it is checkpointed
    /// and cut back: this does both ([`empty_log`], without holding up writers). A reader on
    /// an older snapshot holds the log for a moment, so it is tried a few times, a second
    /// apart. Returns whether the log was emptied. PostgreSQL keeps dead rows until VACUUM
    /// reuses their space: nothing to do here (`docs/deleting.md`).
    pub async fn scrub(&self) -> Result<bool, AppError> {
        for _ in 0..5 {
            let done = self.run(empty_log).await?;
            if done {
                return Ok(true);
            }
            actix_web::rt::time::sleep(Duration::from_secs(1)).await;
        }
        Ok(false)
    }

    /// [`Db::scrub`] in a moment, without keeping the answer to the deletion waiting.
    pub fn scrub_soon(&self) {
        let db = self.clone();
        actix_web::rt::spawn(async move {
            match db.scrub().await {
                Ok(true) => {}
                Ok(false) => tracing::warn!("the write-ahead log stayed busy after a deletion"),
                Err(e) => tracing::warn!(error = %e, "could not checkpoint after a deletion"),
            }
        });
    }

    /// Checks that the database answers (for the health endpoint).
    pub async fn ping(&self) -> Result<(), AppError> {
        self.run(|conn| conn.batch_execute("SELECT 1")).await
    }

    /// A connection for command-line work (outside the server).
    pub fn get(&self) -> anyhow::Result<r2d2::PooledConnection<Manager>> {
        self.pool.get().context("getting a database connection")
    }
}

#[cfg(test)]
mod tests {
    use std::ffi::c_int;

    use libsqlite3_sys as ffi;

    /// Every SQLite connection opened after `enable` has the planner stability guarantee on,
    /// whoever opens it (Diesel's own `sqlite3_open_v2` included).
    #[test]
    fn new_sqlite_connections_get_plan_stability() {
        super::sqlite_plan_stability::enable();
        let mut db = std::ptr::null_mut();
        let mut qpsg: c_int = -1;
        // SAFETY: a plain open/query/close of a private in-memory database; `db` is only used
        // between a successful open and the close.
        unsafe {
            assert_eq!(
                ffi::sqlite3_open(c":memory:".as_ptr(), &mut db),
                ffi::SQLITE_OK
            );
            let rc = ffi::sqlite3_db_config(
                db,
                ffi::SQLITE_DBCONFIG_ENABLE_QPSG,
                -1 as c_int,
                &mut qpsg as *mut c_int,
            );
            ffi::sqlite3_close(db);
            assert_eq!(rc, ffi::SQLITE_OK);
        }
        assert_eq!(qpsg, 1, "QPSG is off on a new connection");
    }

    /// A pooled SQLite connection comes with its settings: among them the size of its page
    /// cache.
    #[test]
    fn pooled_sqlite_connections_get_their_settings() {
        use diesel::RunQueryDsl as _;
        #[derive(diesel::QueryableByName)]
        struct Setting {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            value: i64,
        }
        let folder = tempfile::tempdir().unwrap();
        let url = crate::config::DatabaseUrl::parse(&format!(
            "sqlite:///{}",
            folder.path().join("app.db").display()
        ))
        .unwrap();
        let db = super::Db::open(&url).unwrap();
        let mut conn = db.get().unwrap();
        let mut read = |pragma: &str| {
            diesel::sql_query(format!("SELECT {pragma} AS value FROM pragma_{pragma}()"))
                .get_result::<Setting>(&mut *conn)
                .unwrap()
                .value
        };
        assert_eq!(read("cache_size"), -i64::from(super::SQLITE_CACHE_KIB));
        assert_eq!(read("foreign_keys"), 1);
        assert_eq!(read("secure_delete"), 1);
    }
}
