//! `cargo bench --bench perf`: speed, scale and memory of the release binary, each against
//! its target (`docs/performance.md`).
//!
//! Seeds a small (10k posts) and a large (1M posts) SQLite database with `microblog seed`, starts
//! the release binary on each as a separate process, and drives it from this process with
//! `CONCURRENCY` keep-alive clients. Prints a Markdown table (and writes it to
//! `bench/results/perf.md`); every target is a ratio measured in this one run.
//!
//! The reference for the first target is this same executable run as `perf reference-server`:
//! a minimal page of the same shape as `/index` (actix-web, a cookie session read, one Diesel
//! query of 25 posts joined with their authors, a Tera 2 template with inheritance). Its query
//! is the one `/index` runs, the reader's timeline, so the ratio measures what the app adds
//! around it (login check, layout, CSRF, headers); `/everyone` does the same for `/explore`.
//!
//! `BENCH_LARGE_POSTS` (default 1000000) and `BENCH_SECONDS` (default 5) shorten a run;
//! `BENCH_SOAK_SECONDS=600` adds ten minutes of steady mixed load after the login burst (zero
//! 5xx, flat memory). `BENCH_POSTGRES_URL=postgresql://user:pass@host/db` (a user who may create databases)
//! adds `/index` beside its reference page and the search phases on PostgreSQL, on a database of
//! the large size made for the run.
//!
//! Chapter 23's phase reads the reader's user through the API with a token, right after
//! `/index`. Chapter 22's phase gives one user 100,000 posts on a database of its own, exports them as a
//! background job and downloads the file, sampling the server's memory all along.
//!
//! Chapter 24's phase starts 100 stand-in servers on loopback and has the app, federating,
//! deliver posts to 1,000 remote followers on them, and measures `/index` with and without
//! deliveries under way; `BENCH_FEDERATION=0` leaves it out, `BENCH_ONLY=federation` runs it
//! alone (on a small database of its own, in well under a minute).
//!
//! This file holds the settings and [`run`], the order of the phases; each phase is in the
//! module of its concern.

use std::path::Path;
use std::time::Duration;

mod client;
mod export;
mod federation;
mod load;
mod pages;
mod reference;
mod report;
mod resets;
mod search;
mod site;
mod stress;

// The test suite's SMTP server stands in for a mail server that is up.
#[allow(dead_code)]
#[path = "../../tests/http/smtp.rs"]
mod smtp;

use report::Report;
use site::{open_site, seed};

const CONCURRENCY: usize = 8;
const LOGIN_CLIENTS: usize = 32;

/// `BENCH_SECONDS`: how long each load phase runs.
fn seconds() -> Duration {
    let s = std::env::var("BENCH_SECONDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    Duration::from_secs(s)
}

/// `BENCH_LARGE_POSTS`: the posts of the large database (its users are a tenth of that).
fn large_posts() -> usize {
    std::env::var("BENCH_LARGE_POSTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000)
}

/// `BENCH_SOAK_SECONDS`: how long the soak runs, if at all.
fn soak_seconds() -> Option<u64> {
    std::env::var("BENCH_SOAK_SECONDS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .filter(|&s| s > 0)
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("reference-server") {
        return reference::serve(&args[2], args[3].parse()?);
    }
    actix_web::rt::System::new().block_on(run())
}

async fn run() -> anyhow::Result<()> {
    let work = tempfile::tempdir()?;
    match std::env::var("BENCH_ONLY").as_deref() {
        Err(_) | Ok("") => {}
        Ok("federation") => {
            let mut report = Report::start();
            federation_part(&mut report, work.path()).await?;
            return report.finish_as("perf-federation.md");
        }
        Ok(other) => anyhow::bail!("BENCH_ONLY={other}: only `federation` runs alone"),
    }
    let large_posts = large_posts();
    let small_db = work.path().join("small.db");
    let large_db = work.path().join("large.db");
    let mut report = Report::start();

    seed_databases(&mut report, work.path(), &small_db, &large_db, large_posts)?;
    let small_authors = pages::scale(&mut report, work.path(), &small_db, &large_db).await?;
    // Password reset requests, on the small database.
    resets::reset_requests(&mut report, work.path(), &small_db, &small_authors).await?;

    // Every page at the large size, production bcrypt cost.
    let site = open_site(work.path(), &large_db, 12).await?;
    pages::anonymous_login(&mut report, &site).await;
    let beside_reference = pages::beside_reference(&mut report, &site, &large_db).await?;
    pages::profile_and_gzip(&mut report, &site, &beside_reference.index).await;
    search::searches_on_sqlite(&mut report, &site).await?;
    stress::post_index(&mut report, &site, &large_db).await?;
    stress::login_burst(&mut report, &site).await;
    if let Some(soak_for) = soak_seconds() {
        stress::steady_load(&mut report, &site, soak_for).await;
    }
    stress::memory_and_start(&mut report, &site);
    stress::with_live_streams(&mut report, &site).await?;
    stress::binary_size(&mut report)?;
    drop(site);

    export::export_and_download(&mut report, work.path()).await?;
    if federation::wanted() {
        federation_part(&mut report, work.path()).await?;
    }
    search::index_costs(&mut report, work.path(), &large_db, large_posts).await?;
    pages::against_reference(&mut report, &beside_reference);
    report.finish()
}

/// Seeds the small (1k users, 10k posts) and the large database, and reports how long each took.
fn seed_databases(
    report: &mut Report,
    work: &Path,
    small_db: &Path,
    large_db: &Path,
    large_posts: usize,
) -> anyhow::Result<()> {
    let seeded_small = seed(work, small_db, 1_000, 10_000)?;
    let seeded_large = seed(work, large_db, large_posts / 10, large_posts)?;
    report.line(format!(
        "| seed 1k users / 10k posts | {:.1} s |",
        seeded_small.as_secs_f64()
    ));
    report.line(format!(
        "| seed {}k users / {}k posts / {}k follows | {:.1} s |",
        large_posts / 10_000,
        large_posts / 1000,
        large_posts / 1000,
        seeded_large.as_secs_f64()
    ));
    Ok(())
}

/// Chapter 24: deliveries to 1,000 remote followers, on a small database of their own.
async fn federation_part(report: &mut Report, work: &Path) -> anyhow::Result<()> {
    let db = work.join("federation.db");
    let seeded = seed(work, &db, 1_000, 10_000)?;
    report.line(format!(
        "| federation: seed 1k users / 10k posts | {:.1} s |",
        seeded.as_secs_f64()
    ));
    federation::deliveries(report, work, &db).await
}
