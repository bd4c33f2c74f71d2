//! The bench's HTTP client for everything but the measured GETs: requests as a browser sends
//! them with awc (cookies kept, forms posted with their CSRF token, logins).

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use actix_web::http::header;
use anyhow::Context as _;

use crate::LOGIN_CLIENTS;

pub fn client(source: IpAddr) -> awc::Client {
    awc::Client::builder()
        .disable_redirects()
        .connector(
            awc::Connector::new()
                .local_address(source)
                .limit(LOGIN_CLIENTS * 2),
        )
        .timeout(Duration::from_secs(60))
        .finish()
}

pub fn local() -> awc::Client {
    client(IpAddr::V4(Ipv4Addr::LOCALHOST))
}

/// The cookies a response sets, as a `Cookie` header value merged into `jar`.
fn keep_cookies(jar: &mut HashMap<String, String>, res: &awc::ClientResponse<impl Sized>) {
    for value in res.headers().get_all(header::SET_COOKIE) {
        if let Some((pair, _)) = value.to_str().unwrap_or_default().split_once(';')
            && let Some((name, value)) = pair.split_once('=')
        {
            jar.insert(name.to_owned(), value.to_owned());
        }
    }
}

pub fn cookie_header(jar: &HashMap<String, String>) -> String {
    jar.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("; ")
}

pub fn csrf_token(body: &str) -> Option<String> {
    let marker = "name=\"csrf_token\" value=\"";
    let start = body.find(marker)? + marker.len();
    body.get(start..start + 64).map(str::to_owned)
}

/// GET with cookies; returns the status and body, keeping new cookies.
pub async fn get(
    c: &awc::Client,
    base: &str,
    path: &str,
    jar: &mut HashMap<String, String>,
) -> anyhow::Result<(u16, String)> {
    let mut res = c
        .get(format!("{base}{path}"))
        .insert_header((header::COOKIE, cookie_header(jar)))
        .send()
        .await
        .map_err(|e| anyhow::anyhow!("GET {path}: {e}"))?;
    keep_cookies(jar, &res);
    let body = res.body().limit(1 << 22).await?;
    Ok((
        res.status().as_u16(),
        String::from_utf8_lossy(&body).into_owned(),
    ))
}

/// Opens `form_page`, posts `fields` with its CSRF token to `action`; returns status, location.
pub async fn submit(
    c: &awc::Client,
    base: &str,
    jar: &mut HashMap<String, String>,
    form_page: &str,
    action: &str,
    fields: &[(&str, &str)],
) -> anyhow::Result<(u16, String)> {
    let (_, body) = get(c, base, form_page, jar).await?;
    let token = csrf_token(&body).context("no form")?;
    let mut all = vec![("csrf_token", token.as_str())];
    all.extend_from_slice(fields);
    let res = c
        .post(format!("{base}{action}"))
        .insert_header((header::COOKIE, cookie_header(jar)))
        .send_form(&all)
        .await
        .map_err(|e| anyhow::anyhow!("POST {action}: {e}"))?;
    keep_cookies(jar, &res);
    let location = res
        .headers()
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    Ok((res.status().as_u16(), location))
}

/// Submits the registration form for `username` (email `<username>@example.com`); returns its
/// status: 302 when registered, 200 when the form came back (the name is taken).
pub async fn register(
    c: &awc::Client,
    base: &str,
    username: &str,
    password: &str,
) -> anyhow::Result<u16> {
    let email = format!("{username}@example.com");
    let (status, _) = submit(
        c,
        base,
        &mut HashMap::new(),
        "/auth/register",
        "/auth/register",
        &[
            ("username", username),
            ("email", &email),
            ("password", password),
            ("password2", password),
        ],
    )
    .await?;
    Ok(status)
}

pub async fn login(
    c: &awc::Client,
    base: &str,
    username: &str,
    password: &str,
) -> anyhow::Result<HashMap<String, String>> {
    let mut jar = HashMap::new();
    let (status, location) = submit(
        c,
        base,
        &mut jar,
        "/auth/login",
        "/auth/login",
        &[("username", username), ("password", password)],
    )
    .await?;
    anyhow::ensure!(
        status == 302 && location == "/index",
        "login of {username} failed"
    );
    Ok(jar)
}
