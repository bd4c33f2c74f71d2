//! Chapter 16, search: a rare and a common word, page 1 and page 10, under load; and what the
//! search index costs in disk and in posting, on SQLite and (with `BENCH_POSTGRES_URL`) on
//! PostgreSQL.

use std::path::Path;
use std::time::Duration;

use actix_web::http::header;
use anyhow::Context as _;

use crate::client::local;
use crate::report::{Report, Target};
use crate::site::{Site, open_site_on, seed_on, sqlite_execute};
use crate::stress::post_throughput;

/// Chapter 16: searches at the large size, on the SQLite site; printed once all are measured.
pub async fn searches_on_sqlite(report: &mut Report, site: &Site) -> anyhow::Result<()> {
    let mut search_lines = Vec::new();
    search_timing(site, "SQLite", &mut search_lines, &mut report.targets).await?;
    report.lines(search_lines);
    Ok(())
}

/// Chapter 16: what the search index costs in disk and in posting, on a copy of `large_db` and,
/// when `BENCH_POSTGRES_URL` is set, on a PostgreSQL database of `large_posts` posts; printed
/// once all are measured.
pub async fn index_costs(
    report: &mut Report,
    work: &Path,
    large_db: &Path,
    large_posts: usize,
) -> anyhow::Result<()> {
    let mut search_lines = Vec::new();
    search_cost_sqlite(work, large_db, &mut search_lines, &mut report.targets).await?;
    if let Ok(server) = std::env::var("BENCH_POSTGRES_URL") {
        search_postgres(
            work,
            &server,
            large_posts,
            &mut search_lines,
            &mut report.targets,
        )
        .await?;
    }
    report.lines(search_lines);
    Ok(())
}

/// Searches are measured with this many clients at once, not `CONCURRENCY`: a popular word is
/// searched by many people together (before the ranked windows were kept, a common word at a
/// million posts had p99 64 ms on page 1 and 70 ms on page 10 at 16 clients, with wrk).
const SEARCH_CLIENTS: usize = 16;

/// A word the seed never writes, put into a few posts so that a search for it is a rare one.
const RARE_WORD: &str = "zyzzyva";
/// One of the seed's words: in about one post in eight.
const COMMON_WORD: &str = "coffee";

/// Chapter 16: a search for a rare word and for a very common one, page 1 and page 10, each
/// under the benchmark's load, on the site's backend.
async fn search_timing(
    site: &Site,
    backend: &str,
    lines: &mut Vec<String>,
    targets: &mut Vec<Target>,
) -> anyhow::Result<()> {
    let (token, cookies) = site.post_form().await?;
    for i in 0..20 {
        let res = local()
            .post(format!("{}/index", site.server.base))
            .insert_header((header::COOKIE, cookies.as_str()))
            .send_form(&[
                ("csrf_token", token.as_str()),
                ("post", &format!("a {RARE_WORD} was seen, number {i}")),
            ])
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        anyhow::ensure!(res.status().as_u16() == 302, "posting failed");
    }
    for (word, kind) in [(RARE_WORD, "rare"), (COMMON_WORD, "common")] {
        for page in [1, 10] {
            let stats = site
                .load_as_reader_by(
                    &format!("/search?q={word}&page={page}"),
                    &[],
                    SEARCH_CLIENTS,
                )
                .await;
            lines.push(format!(
                "| GET /search, a {kind} word, page {page}, {backend}, {SEARCH_CLIENTS} clients | {} |",
                stats.row()
            ));
            targets.push((
                format!(
                    "/search p99, a {kind} word, page {page}, {backend}, {SEARCH_CLIENTS} clients"
                ),
                format!("{:.1} ms", stats.p99.as_secs_f64() * 1e3),
                stats.p99 <= Duration::from_millis(50) && stats.errors == 0 && stats.requests > 0,
                "at most 50 ms",
            ));
        }
    }
    if backend == "SQLite" {
        lines.push(BEFORE_KEPT_WINDOWS.to_owned());
    }
    Ok(())
}

/// The common word's figures before the ranked windows were kept, for comparison.
const BEFORE_KEPT_WINDOWS: &str = "| before ranked windows were kept (2026-12-06, wrk, 16 clients): \
     a common word, SQLite, p99 64 ms on page 1 and 70 ms on page 10 |";

/// Drops the search index of a SQLite file (its triggers, then its table). Its mark is moved
/// past any post id, so the app finds no post waiting to be indexed.
const SQLITE_DROP_SEARCH: &str = "DROP TRIGGER posts_search_update; DROP TRIGGER posts_search_delete; \
     DROP TABLE posts_search; UPDATE posts_search_mark SET indexed_through = 2147483647;";

/// Chapter 16 on SQLite: the file with and without the index (each compacted), and POST /index
/// on each, measured with, without, with, without.
async fn search_cost_sqlite(
    work: &Path,
    large_db: &Path,
    lines: &mut Vec<String>,
    targets: &mut Vec<Target>,
) -> anyhow::Result<()> {
    let with = work.join("with-search.db");
    let without = work.join("without-search.db");
    sqlite_execute(large_db, &format!("VACUUM INTO '{}'", with.display()))?;
    sqlite_execute(large_db, &format!("VACUUM INTO '{}'", without.display()))?;
    sqlite_execute(&without, SQLITE_DROP_SEARCH)?;
    sqlite_execute(&without, "VACUUM")?;
    let size = |p: &Path| std::fs::metadata(p).map(|m| m.len() as f64 / (1 << 20) as f64);
    let (with_mib, without_mib) = (size(&with)?, size(&without)?);
    lines.push(format!(
        "| SQLite file, compacted: with the search index {with_mib:.1} MiB, without {without_mib:.1} MiB |"
    ));
    targets.push((
        "SQLite file with the search index / without".to_owned(),
        format!("{:.2}x", with_mib / without_mib),
        with_mib / without_mib <= 1.6,
        "at most 1.6x",
    ));
    let url = |p: &Path| format!("sqlite:///{}", p.display());
    let mut rates = (0.0, 0.0);
    for round in 0..2 {
        let a = post_throughput(work, &url(&with)).await?;
        let b = post_throughput(work, &url(&without)).await?;
        lines.push(format!(
            "| POST /index with the index (SQLite, run {}) | {} |",
            round + 1,
            a.row()
        ));
        lines.push(format!(
            "| POST /index without it (SQLite, run {}) | {} |",
            round + 1,
            b.row()
        ));
        rates.0 += a.per_second;
        rates.1 += b.per_second;
    }
    targets.push((
        "POST /index with the search index / without, SQLite".to_owned(),
        format!("{:.0}%", rates.0 / rates.1 * 100.0),
        rates.0 / rates.1 >= 0.8,
        "at least 80%",
    ));
    Ok(())
}

/// Chapter 16 on PostgreSQL, when `BENCH_POSTGRES_URL` names a database the bench may create
/// databases from: a database of the large size, its searches, POST /index with the index, then
/// without it (column and index dropped), and its size with and without (compacted).
async fn search_postgres(
    work: &Path,
    server: &str,
    posts: usize,
    lines: &mut Vec<String>,
    targets: &mut Vec<Target>,
) -> anyhow::Result<()> {
    use diesel::Connection as _;
    use diesel::RunQueryDsl as _;
    use diesel::connection::SimpleConnection as _;
    #[derive(diesel::QueryableByName)]
    struct Size {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        bytes: i64,
    }
    let name = format!("microblog_bench_{}", std::process::id());
    let mut admin = diesel::PgConnection::establish(server)?;
    // Two statements: neither may run inside the transaction a batch of them makes.
    admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name}"))?;
    admin.batch_execute(&format!("CREATE DATABASE {name}"))?;
    let (base, _) = server
        .rsplit_once('/')
        .context("BENCH_POSTGRES_URL has no database")?;
    let url = format!("{base}/{name}");
    let seeded = seed_on(work, &url, posts / 10, posts)?;
    lines.push(format!(
        "| seed PostgreSQL {}k posts | {:.1} s |",
        posts / 1000,
        seeded.as_secs_f64()
    ));
    let site = open_site_on(work, &url, 4, true).await?;
    crate::pages::index_beside_reference_on(&site, &url, "PostgreSQL", lines, targets).await?;
    search_timing(&site, "PostgreSQL", lines, targets).await?;
    drop(site);
    let mut db = diesel::PgConnection::establish(&url)?;
    let size = |db: &mut diesel::PgConnection| -> anyhow::Result<f64> {
        db.batch_execute("VACUUM FULL posts")?;
        let s: Size = diesel::sql_query("SELECT pg_database_size(current_database()) AS bytes")
            .get_result(db)?;
        Ok(s.bytes as f64 / (1 << 20) as f64)
    };
    let with_mib = size(&mut db)?;
    let with = post_throughput(work, &url).await?;
    db.batch_execute("ALTER TABLE posts DROP COLUMN search")?;
    let without_mib = size(&mut db)?;
    let without = post_throughput(work, &url).await?;
    lines.push(format!(
        "| POST /index with the index (PostgreSQL) | {} |",
        with.row()
    ));
    lines.push(format!(
        "| POST /index without it (PostgreSQL) | {} |",
        without.row()
    ));
    lines.push(format!(
        "| PostgreSQL database, compacted: with the search column and index {with_mib:.1} MiB, without {without_mib:.1} MiB |"
    ));
    targets.push((
        "POST /index with the search index / without, PostgreSQL".to_owned(),
        format!("{:.0}%", with.per_second / without.per_second * 100.0),
        with.per_second / without.per_second >= 0.8,
        "at least 80%",
    ));
    targets.push((
        "PostgreSQL database with the search index / without".to_owned(),
        format!("{:.2}x", with_mib / without_mib),
        with_mib / without_mib <= 1.6,
        "at most 1.6x",
    ));
    drop(db);
    admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name}"))?;
    Ok(())
}
