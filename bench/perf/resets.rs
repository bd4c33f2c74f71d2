//! Password reset requests: how long the POST takes for a user's address and an unknown one,
//! with the mail server up and down. The request should tell no case from another.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;
use std::time::{Duration, Instant};

use actix_web::http::header;
use anyhow::Context as _;

use crate::client::{client, cookie_header, csrf_token, get};
use crate::report::Report;
use crate::site::{Process, free_port, microblog};
use crate::smtp;

/// Password reset requests timed for each of the four cases.
const RESET_REQUESTS: usize = 400;
/// How long before each timed request the servers are left to finish what the last one queued.
const SETTLE: Duration = Duration::from_millis(20);

/// Times the reset requests on the small database (`db`, whose seeded users include
/// `authors`) and reports each case, and how far apart the cases are.
pub async fn reset_requests(
    report: &mut Report,
    work: &Path,
    db: &Path,
    authors: &[String],
) -> anyhow::Result<()> {
    let resets = reset_timing(work, db, authors).await?;
    for (case, p50, p99) in &resets {
        report.line(format!(
            "| POST /auth/reset_password_request, {case} | p50 {:.2} ms, p99 {:.2} ms |",
            p50.as_secs_f64() * 1e3,
            p99.as_secs_f64() * 1e3
        ));
    }
    let p50 = |case: &str| {
        resets
            .iter()
            .find(|(c, _, _)| c == case)
            .map_or(f64::NAN, |(_, p50, _)| p50.as_secs_f64())
    };
    for mail in ["up", "down"] {
        let (user, unknown) = (
            p50(&format!("a user's address, mail server {mail}")),
            p50(&format!("an unknown address, mail server {mail}")),
        );
        let spread = user.max(unknown) / user.min(unknown);
        report.targets.push((
            format!("reset request p50, a user's address / an unknown one (mail server {mail})"),
            format!("{spread:.2}x"),
            spread <= 1.25,
            "at most 1.25x either way",
        ));
    }
    let slowest = |mail: &str| {
        p50(&format!("a user's address, mail server {mail}"))
            .max(p50(&format!("an unknown address, mail server {mail}")))
    };
    let (up, down) = (slowest("up"), slowest("down"));
    let spread = up.max(down) / up.min(down);
    report.targets.push((
        "reset request p50, mail server down / up (the slower case of each)".to_owned(),
        format!("{spread:.2}x"),
        spread <= 1.25,
        "at most 1.25x either way",
    ));
    Ok(())
}

/// p50 and p99 of the POST of a password reset request, for each case: a user's address or an
/// unknown one, the mail server up or down. The request should tell no case from another.
async fn reset_timing(
    work: &Path,
    db: &Path,
    authors: &[String],
) -> anyhow::Result<Vec<(String, Duration, Duration)>> {
    let sink = smtp::SmtpServer::start();
    let mut servers = Vec::new();
    for (label, mail_port) in [("up", sink.port), ("down", free_port())] {
        let port = free_port();
        let mut command = microblog(work, db, port, 4);
        command
            .env("MAIL_SERVER", "127.0.0.1")
            .env("MAIL_PORT", mail_port.to_string());
        servers.push((label, Process::start(command, port, "/auth/login").await?));
    }
    let mut samples: HashMap<String, Vec<Duration>> = HashMap::new();
    let mut client_number = 0usize;
    // The cases take turns, so whatever else the machine does falls on all of them alike.
    for i in 0..RESET_REQUESTS {
        for (mail, server) in &servers {
            let mut cases = [
                (
                    "a user's",
                    format!("{}@example.com", authors[i % authors.len()]),
                ),
                ("an unknown", format!("nobody{i}@example.com")),
            ];
            if i % 2 == 1 {
                cases.reverse();
            }
            for (whose, email) in cases {
                // Each request from an address of its own: reset requests are throttled per
                // address, as logins are.
                client_number += 1;
                let source = Ipv4Addr::new(
                    127,
                    2 + (client_number / 250) as u8,
                    1 + (client_number % 250) as u8,
                    1,
                );
                let c = client(IpAddr::V4(source));
                let mut jar = HashMap::new();
                let (_, body) =
                    get(&c, &server.base, "/auth/reset_password_request", &mut jar).await?;
                let token = csrf_token(&body).context("no reset form")?;
                // The request before this one queued a job, which its server runs just after
                // answering; for a user's address the job writes a link and queues a mail. In
                // the order below, the unknown address on the server whose mail is down always
                // came right after a user's, and the user's address there never did: timed at
                // once, it looked twice as slow for what ran before it, not for what it does.
                actix_web::rt::time::sleep(SETTLE).await;
                let started = Instant::now();
                let res = c
                    .post(format!("{}/auth/reset_password_request", server.base))
                    .insert_header((header::COOKIE, cookie_header(&jar)))
                    .send_form(&[("csrf_token", token.as_str()), ("email", &email)])
                    .await
                    .map_err(|e| anyhow::anyhow!("POST /auth/reset_password_request: {e}"))?;
                let took = started.elapsed();
                anyhow::ensure!(res.status() == 302, "reset request: {}", res.status());
                samples
                    .entry(format!("{whose} address, mail server {mail}"))
                    .or_default()
                    .push(took);
            }
        }
    }
    let mut cases: Vec<_> = samples
        .into_iter()
        .map(|(case, mut times)| {
            times.sort();
            let at = |q: f64| times[((times.len() as f64 * q) as usize).min(times.len() - 1)];
            (case, at(0.5), at(0.99))
        })
        .collect();
    cases.sort();
    Ok(cases)
}
