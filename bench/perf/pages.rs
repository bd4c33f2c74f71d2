//! The pages as a reader gets them: `/index` and `/explore` at 10k posts and at the large size,
//! then every page of the large site, `/index` and `/explore` each right after its reference
//! page, the API, `/index` in Spanish and compressed.

use std::collections::HashMap;
use std::path::Path;

use actix_web::http::header;
use anyhow::Context as _;

use crate::client::{cookie_header, get, local};
use crate::load::{Stats, load_get};
use crate::reference;
use crate::report::{Report, Target};
use crate::site::{READER_PASSWORD, Site, open_site};

/// Scale: page 1 of `/index` and `/explore` at 10k posts and at the large size, each on a site
/// of its own. Returns the authors the reader found on the small site.
pub async fn scale(
    report: &mut Report,
    work: &Path,
    small_db: &Path,
    large_db: &Path,
) -> anyhow::Result<Vec<String>> {
    let mut page_costs = HashMap::new();
    let mut small_authors = Vec::new();
    for (label, db) in [("10k", small_db), ("large", large_db)] {
        let site = open_site(work, db, 4).await?;
        if small_authors.is_empty() {
            small_authors = site.authors.clone();
        }
        for path in ["/index", "/explore"] {
            let stats = site.load_as_reader(path, &[]).await;
            report.line(format!("| GET {path} at {label} posts | {} |", stats.row()));
            page_costs.insert((label, path), stats);
        }
    }
    for path in ["/index", "/explore"] {
        let (small, large) = (&page_costs[&("10k", path)], &page_costs[&("large", path)]);
        let ratio = large.p50.as_secs_f64() / small.p50.as_secs_f64();
        report.targets.push((
            format!("{path} page 1: cost at large / at 10k posts (p50)"),
            format!("{ratio:.2}x"),
            ratio <= 1.5,
            "at most 1.5x",
        ));
    }
    Ok(small_authors)
}

/// The login page, as anyone gets it.
pub async fn anonymous_login(report: &mut Report, site: &Site) {
    let anonymous = load_get(&site.server, "/auth/login", &[]).await;
    report.line(format!(
        "| GET /auth/login, anonymous | {} |",
        anonymous.row()
    ));
}

/// `/index` and `/explore` of the large site, each measured right after its reference page.
pub struct BesideReference {
    pub index: Stats,
    reference_timeline: Stats,
    explore: Stats,
    reference_everyone: Stats,
}

/// The reference page on the same large database, measured the same way, for the same
/// reader: their timeline (the shape of /index), and everyone's posts (the shape of /explore).
/// It runs beside the app (each idles while the other is measured), and each page is measured
/// alternately with its reference ([`alternately`]), before any phase adds posts: the same
/// data, seconds apart.
/// Measured at the end instead, the reference read a timeline that the POST phase (and a
/// soak) had made longer, which once flattered /index to 73%.
///
/// Between `/index` and the reference for `/explore`: the API and the page in Spanish, on the
/// same data as `/index`.
pub async fn beside_reference(
    report: &mut Report,
    site: &Site,
    db: &Path,
) -> anyhow::Result<BesideReference> {
    let reference = reference::start(db).await?;
    let mut jar = HashMap::new();
    get(&local(), &reference.base, "/login?name=reader", &mut jar).await?;
    let reference_cookie = cookie_header(&jar);
    let with_cookie = [("Cookie", reference_cookie.as_str())];
    let (reference_timeline, index) = alternately(
        || load_get(&reference, "/", &with_cookie),
        || site.load_as_reader("/index", &[]),
    )
    .await;
    report.line(format!(
        "| reference page: the reader's timeline (shape of /index), median of {ROUNDS} | {} |",
        reference_timeline.row()
    ));
    report.line(format!(
        "| GET /index, logged in, median of {ROUNDS} | {} |",
        index.row()
    ));
    api_user(report, site, db, &index).await?;
    spanish(report, site, &index).await;
    let (reference_everyone, explore) = alternately(
        || load_get(&reference, "/everyone", &with_cookie),
        || site.load_as_reader("/explore", &[]),
    )
    .await;
    report.line(format!(
        "| reference page: everyone's posts (shape of /explore), median of {ROUNDS} | {} |",
        reference_everyone.row()
    ));
    report.line(format!(
        "| GET /explore, median of {ROUNDS} | {} |",
        explore.row()
    ));
    drop(reference);
    Ok(BesideReference {
        index,
        reference_timeline,
        explore,
        reference_everyone,
    })
}

/// `/index` right after its reference page on the database at `url` (the PostgreSQL site of the
/// search phases), the same reader on both.
pub async fn index_beside_reference_on(
    site: &Site,
    url: &str,
    backend: &str,
    lines: &mut Vec<String>,
    targets: &mut Vec<Target>,
) -> anyhow::Result<()> {
    let reference = reference::start_on(url).await?;
    let mut jar = HashMap::new();
    get(&local(), &reference.base, "/login?name=reader", &mut jar).await?;
    let cookie = cookie_header(&jar);
    let with_cookie = [("Cookie", cookie.as_str())];
    let (timeline, index) = alternately(
        || load_get(&reference, "/", &with_cookie),
        || site.load_as_reader("/index", &[]),
    )
    .await;
    drop(reference);
    lines.push(format!(
        "| reference page: the reader's timeline, {backend}, median of {ROUNDS} | {} |",
        timeline.row()
    ));
    lines.push(format!(
        "| GET /index, logged in, {backend}, median of {ROUNDS} | {} |",
        index.row()
    ));
    let share = index.per_second / timeline.per_second;
    targets.push((
        format!("/index throughput / reference page (same query), {backend}"),
        format!("{:.0}%", share * 100.0),
        share >= INDEX_SHARE,
        "at least 90%",
    ));
    Ok(())
}

/// How many times a page and its reference are each measured, alternately.
pub const ROUNDS: usize = 3;

/// `reference()` and `ours()` measured alternately [`ROUNDS`] times; the median run of each, by
/// throughput. One run of each, seconds apart, drifted with whatever else the machine was doing
/// (in one bench, `/index` served 6,900 pages a second right after its reference and 10,300
/// later in the same run).
pub async fn alternately<R, O, RF, OF>(reference: R, ours: O) -> (Stats, Stats)
where
    R: Fn() -> RF,
    O: Fn() -> OF,
    RF: std::future::Future<Output = Stats>,
    OF: std::future::Future<Output = Stats>,
{
    let (mut references, mut ourses) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        references.push(reference().await);
        ourses.push(ours().await);
    }
    (median(references), median(ourses))
}

/// The run of median throughput.
fn median(mut runs: Vec<Stats>) -> Stats {
    runs.sort_by(|a, b| a.per_second.total_cmp(&b.per_second));
    runs.swap_remove(runs.len() / 2)
}

/// What `/index` must serve of its reference page.
const INDEX_SHARE: f64 = 0.9;

/// Chapter 23: the reader's user through the API, right after /index (the same data).
async fn api_user(
    report: &mut Report,
    site: &Site,
    db: &Path,
    index: &Stats,
) -> anyhow::Result<()> {
    let api_user = api_user_load(site, db).await?;
    report.line(format!(
        "| GET /api/users/<id>, Bearer token | {} |",
        api_user.row()
    ));
    let api_ratio = api_user.per_second / index.per_second;
    report.targets.push((
        "GET /api/users/<id> (token) throughput / logged-in /index".to_owned(),
        format!("{api_ratio:.2}x"),
        api_ratio >= 1.5 && api_user.errors == 0,
        "at least 1.5x",
    ));
    Ok(())
}

/// Chapter 23: `GET /api/users/<id>` of the reader, with a token from `POST /api/tokens`.
async fn api_user_load(site: &Site, db: &Path) -> anyhow::Result<Stats> {
    use base64::Engine as _;
    use diesel::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Id {
        #[diesel(sql_type = diesel::sql_types::Integer)]
        id: i32,
    }
    let credentials =
        base64::engine::general_purpose::STANDARD.encode(format!("reader:{READER_PASSWORD}"));
    let mut res = local()
        .post(format!("{}/api/tokens", site.server.base))
        .insert_header((header::AUTHORIZATION, format!("Basic {credentials}")))
        .send()
        .await
        .map_err(|e| anyhow::anyhow!("POST /api/tokens: {e}"))?;
    anyhow::ensure!(res.status() == 200, "POST /api/tokens: {}", res.status());
    let body: serde_json::Value = serde_json::from_slice(&res.body().await?)?;
    let token = body["token"].as_str().context("no token")?.to_owned();
    let db = microblog::db::Db::connect(&microblog::config::DatabaseUrl::Sqlite(db.to_owned()))?;
    let id = diesel::sql_query("SELECT id FROM users WHERE username = 'reader'")
        .get_result::<Id>(&mut *db.get()?)?
        .id;
    let bearer = format!("Bearer {token}");
    Ok(load_get(
        &site.server,
        &format!("/api/users/{id}"),
        &[("Authorization", &bearer)],
    )
    .await)
}

/// Chapter 13: the same page in Spanish costs what it costs in English (each post's HTML is
/// kept per language). Measured English, Spanish, English, Spanish, so that drift of the
/// machine falls on both languages alike.
async fn spanish(report: &mut Report, site: &Site, index: &Stats) {
    let spanish = [("Accept-Language", "es")];
    let spanish_first = site.load_as_reader("/index", &spanish).await;
    let english_again = site.load_as_reader("/index", &[]).await;
    let spanish_again = site.load_as_reader("/index", &spanish).await;
    report.line(format!(
        "| GET /index in Spanish (two runs) | {} |",
        spanish_first.row()
    ));
    report.line(format!("| | {} |", spanish_again.row()));
    report.line(format!(
        "| GET /index in English again | {} |",
        english_again.row()
    ));
    let in_spanish = (spanish_first.per_second + spanish_again.per_second)
        / (index.per_second + english_again.per_second);
    report.targets.push((
        "/index throughput in Spanish / in English".to_owned(),
        format!("{:.0}%", in_spanish * 100.0),
        in_spanish >= 0.95,
        "at least 95%",
    ));
}

/// A profile, and `/index` compressed as a browser asks for it (`index`: the plain one).
pub async fn profile_and_gzip(report: &mut Report, site: &Site, index: &Stats) {
    let profile = site
        .load_as_reader(&format!("/user/{}", site.authors[0]), &[])
        .await;
    report.line(format!("| GET /user/<name> | {} |", profile.row()));
    // What a browser gets: it asks for a compressed page.
    let gzip = site
        .load_as_reader("/index", &[("Accept-Encoding", "gzip")])
        .await;
    report.line(format!(
        "| GET /index, gzip (as browsers ask) | {} |",
        gzip.row()
    ));
    if let (Some(gzip), Some(plain)) = (gzip.server_cpu, index.server_cpu) {
        report.line(format!(
            "| server CPU per request, /index gzip / plain | {:.2}x |",
            gzip.as_secs_f64() / plain.as_secs_f64()
        ));
    }
}

/// Each page against its reference: the server's CPU per request and the throughput.
pub fn against_reference(report: &mut Report, pages: &BesideReference) {
    for (page, ours, reference) in [
        ("/index", &pages.index, &pages.reference_timeline),
        ("/explore", &pages.explore, &pages.reference_everyone),
    ] {
        if let (Some(ours), Some(reference)) = (ours.server_cpu, reference.server_cpu) {
            report.line(format!(
                "| server CPU per request, {page} / its reference | {:.2}x |",
                ours.as_secs_f64() / reference.as_secs_f64()
            ));
        }
        let share = ours.per_second / reference.per_second;
        // `/explore` must only be no worse than before.
        let (least, goal) = match page {
            "/index" => (INDEX_SHARE, "at least 90%"),
            _ => (0.7, "at least 70%"),
        };
        report.targets.push((
            format!("{page} throughput / reference page (same query)"),
            format!("{:.0}%", share * 100.0),
            share >= least,
            goal,
        ));
    }
}
