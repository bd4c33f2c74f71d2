//! `microblog db backup FILE`: a copy of the live database to keep.
//!
//! Copying `app.db` with `cp` while the app serves can give a torn copy: the newest writes are
//! in the write-ahead log (`app.db-wal`), and the file may change under the copy. SQLite's
//! `VACUUM INTO` writes a whole, consistent database as of one moment instead (a read
//! transaction: the app goes on reading and writing meanwhile), compacted. The copy is then
//! opened on its own and checked (`PRAGMA integrity_check`) before the command says it is good.
//! PostgreSQL has its own tool for this, `pg_dump`: the command prints how to call it.

use std::path::Path;

use anyhow::{Context as _, bail};
use diesel::connection::SimpleConnection as _;
use diesel::sqlite::SqliteConnection;
use diesel::{Connection as _, QueryableByName, RunQueryDsl as _};

use crate::config::{Config, DatabaseUrl};
use crate::db::{Db, DbConn};

pub fn run(config: &Config, file: &Path) -> anyhow::Result<()> {
    if let DatabaseUrl::Postgres(_) = &config.database_url {
        bail!(
            "this database is PostgreSQL: back it up with its own tool, for example\n  \
             pg_dump --format=custom --file={} \"$DATABASE_URL\"\nand restore it with \
             pg_restore --dbname=<an empty database> {}",
            file.display(),
            file.display()
        );
    }
    if file.exists() {
        bail!("{} exists already: name a new file", file.display());
    }
    let target = file
        .to_str()
        .context("the backup's path is not valid UTF-8")?
        .to_owned();
    let db = Db::connect(&config.database_url)?;
    let mut conn = db.get()?;
    let DbConn::Sqlite(c) = &mut *conn else {
        bail!("not a SQLite database");
    };
    // The path is a string literal of the statement: quotes in it are doubled.
    c.batch_execute(&format!("VACUUM INTO '{}'", target.replace('\'', "''")))
        .with_context(|| format!("writing {target}"))?;

    #[derive(QueryableByName)]
    struct Check {
        #[diesel(sql_type = diesel::sql_types::Text)]
        integrity_check: String,
    }
    let mut copy = SqliteConnection::establish(&target)
        .with_context(|| format!("opening the copy {target}"))?;
    let checks: Vec<Check> = diesel::sql_query("PRAGMA integrity_check").load(&mut copy)?;
    let problems: Vec<String> = checks
        .into_iter()
        .map(|c| c.integrity_check)
        .filter(|c| c != "ok")
        .collect();
    if !problems.is_empty() {
        bail!(
            "the copy {target} is damaged, do not keep it: {}",
            problems.join("; ")
        );
    }
    let size = std::fs::metadata(file).map(|m| m.len()).unwrap_or(0);
    println!(
        "backed up to {target} ({size} bytes), checked: integrity ok. To restore, stop the app \
         and put the copy in place of the database file, removing the -wal and -shm files \
         beside it."
    );
    Ok(())
}
