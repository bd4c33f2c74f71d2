//! Chapter 22, export: one user's 100,000 posts exported as a background job on a server of
//! their own, then downloaded, with the server's memory read all along.

use std::path::Path;
use std::time::{Duration, Instant};

use actix_web::http::header;
use anyhow::Context as _;

use crate::client::{cookie_header, get, local, login, submit};
use crate::report::{Report, Target};
use crate::site::{Process, SEEDED_PASSWORD, free_port, microblog, seed, sqlite_execute};

/// Chapter 22: a large export and its download; printed once both are measured.
pub async fn export_and_download(report: &mut Report, work: &Path) -> anyhow::Result<()> {
    let lines = export_timing(work, &mut report.targets).await?;
    report.lines(lines);
    Ok(())
}

/// How many posts the chapter 22 phase exports.
const EXPORT_POSTS: u32 = 100_000;

/// Chapter 22: one user with [`EXPORT_POSTS`] posts starts "Export your posts" on a server of
/// its own; the phase waits for the task to end, sampling the server's memory every 10 ms, then
/// downloads the file. The export should take under 10 s with memory flat: the job reads and
/// writes a page at a time, and the download streams its pieces.
async fn export_timing(work: &Path, targets: &mut Vec<Target>) -> anyhow::Result<Vec<String>> {
    use diesel::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Name {
        #[diesel(sql_type = diesel::sql_types::Text)]
        username: String,
    }
    #[derive(diesel::QueryableByName)]
    struct Ended {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        complete: bool,
        #[diesel(sql_type = diesel::sql_types::Bool)]
        failed: bool,
        #[diesel(sql_type = diesel::sql_types::Integer)]
        progress: i32,
    }
    #[derive(diesel::QueryableByName)]
    struct Size {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        size: i64,
    }
    let db_path = work.join("export.db");
    seed(work, &db_path, 10, 0)?;
    let db = microblog::db::Db::connect(&microblog::config::DatabaseUrl::Sqlite(db_path.clone()))?;
    let mut conn = db.get()?;
    let username = diesel::sql_query("SELECT username FROM users ORDER BY id LIMIT 1")
        .get_result::<Name>(&mut *conn)?
        .username;
    // Bodies of the seed's length that differ post to post, all in one transaction.
    sqlite_execute(
        &db_path,
        &format!(
            "BEGIN; WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {EXPORT_POSTS}) \
             INSERT INTO posts (body, timestamp, user_id, language) \
             SELECT 'post number ' || i || ', about coffee, trains and the weather on day ' || (i % 365), \
                    datetime('2026-01-01', '+' || i || ' minutes'), \
                    (SELECT id FROM users WHERE username = '{username}'), 'en' FROM n; COMMIT;"
        ),
    )?;
    let port = free_port();
    let server = Process::start(microblog(work, &db_path, port, 4), port, "/auth/login").await?;
    let c = local();
    let mut jar = login(&c, &server.base, &username, SEEDED_PASSWORD).await?;
    let profile = format!("/user/{username}");
    get(&c, &server.base, &profile, &mut jar).await?;
    let (_, before) = server.memory_mib();
    let started = Instant::now();
    let (status, location) =
        submit(&c, &server.base, &mut jar, &profile, "/export_posts", &[]).await?;
    anyhow::ensure!(
        status == 302 && location == profile,
        "starting the export: {status} to {location}"
    );
    let mut peak = before;
    // Every progress value the polls see: written once a second, a 2 s export shows two or
    // three on its way to 100; written once a post, the polls would see a new one each time.
    let mut seen = Vec::new();
    let ended = loop {
        let (_, rss) = server.memory_mib();
        peak = peak.max(rss);
        let ended = diesel::sql_query(
            "SELECT complete, failed, progress FROM tasks ORDER BY id DESC LIMIT 1",
        )
        .get_result::<Ended>(&mut *conn)?;
        if seen.last() != Some(&ended.progress) {
            seen.push(ended.progress);
        }
        if ended.complete || ended.failed {
            break ended;
        }
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(120),
            "the export did not end in two minutes"
        );
        actix_web::rt::time::sleep(Duration::from_millis(10)).await;
    };
    let took = started.elapsed();
    anyhow::ensure!(ended.complete && !ended.failed, "the export failed");
    let size = diesel::sql_query("SELECT size FROM exports WHERE ready ORDER BY id DESC LIMIT 1")
        .get_result::<Size>(&mut *conn)?
        .size as f64
        / (1 << 20) as f64;

    // The download, read as it arrives: its length is counted, never held.
    let (_, page) = get(&c, &server.base, &profile, &mut jar).await?;
    let marker = "class=\"export-download\" href=\"";
    let at = page.find(marker).context("no download link")? + marker.len();
    let link = &page[at..at + page[at..].find('"').context("an unended link")?];
    let (_, download_before) = server.memory_mib();
    let mut download_peak = download_before;
    let downloading = Instant::now();
    let mut res = c
        .get(format!("{}{link}", server.base))
        .insert_header((header::COOKIE, cookie_header(&jar)))
        .send()
        .await
        .map_err(|e| anyhow::anyhow!("GET {link}: {e}"))?;
    anyhow::ensure!(res.status() == 200, "the download got {}", res.status());
    let mut received = 0usize;
    while let Some(chunk) = futures_util::StreamExt::next(&mut res).await {
        received += chunk
            .map_err(|e| anyhow::anyhow!("reading the download: {e}"))?
            .len();
        let (_, rss) = server.memory_mib();
        download_peak = download_peak.max(rss);
    }
    let download_took = downloading.elapsed();
    let received = received as f64 / (1 << 20) as f64;

    let growth = peak - before;
    let download_growth = download_peak - download_before;
    let lines = vec![
        format!(
            "| export of {}k posts (chapter 22) | {:.2} s, file {size:.1} MiB; server RSS {before:.1} -> peak {peak:.1} MiB |",
            EXPORT_POSTS / 1000,
            took.as_secs_f64()
        ),
        format!(
            "| download of the export | {:.2} s, {received:.1} MiB; server RSS {download_before:.1} -> peak {download_peak:.1} MiB |",
            download_took.as_secs_f64()
        ),
    ];
    targets.push((
        format!(
            "export of {}k posts, start to complete",
            EXPORT_POSTS / 1000
        ),
        format!("{:.2} s", took.as_secs_f64()),
        took < Duration::from_secs(10),
        "under 10 s",
    ));
    let written = seen.iter().filter(|&&p| p > 0 && p < 100).count();
    targets.push((
        "export progress values seen on the way (polled every 10 ms)".to_owned(),
        format!("{written} in {:.2} s", took.as_secs_f64()),
        written as f64 <= took.as_secs_f64().ceil() + 1.0,
        "at most one a second",
    ));
    // Flat: a file held whole would grow the server by at least its size; one page at a time
    // grows it by SQLite's page cache and a page of posts, whatever the file's size.
    for (what, grew) in [("export", growth), ("download", download_growth)] {
        targets.push((
            format!("server memory growth during the {what} / file size"),
            format!("{grew:.1} MiB / {size:.1} MiB"),
            grew < size / 2.0 && (what == "export" || (received - size).abs() < 0.01),
            "under half",
        ));
    }
    Ok(lines)
}
