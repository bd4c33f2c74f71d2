//! Requests to other servers: GET an actor or a WebFinger answer, POST a signed activity to an
//! inbox. Every one is guarded, because the URLs come from strangers (an actor document names
//! its inbox; a handle names its host):
//!
//! - https only, and no private, loopback, link-local or otherwise internal address, checked on
//!   the addresses the name resolves to (by the resolver the HTTP client connects with, so the
//!   address checked is the address used) and again on every redirect, which is followed by
//!   hand, at most [`MAX_REDIRECTS`] times. `FEDERATION_ALLOW_PRIVATE=1` lifts both, for tests
//!   and for classroom instances on one network.
//! - At most [`MAX_BODY`] read from an answer and [`TIMEOUT`] for the whole exchange.
//! - Signed at the moment it is sent (`signature.rs`), with a fresh `Date`.

use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::time::Duration;

use actix_tls::connect::{Resolve, Resolver};
use actix_web::http::header;
use futures_util::future::LocalBoxFuture;

use super::signature;

/// The most read from an answer.
pub const MAX_BODY: usize = 1024 * 1024;
/// The longest a fetch or a delivery may take, from connecting to the last byte.
pub const TIMEOUT: Duration = Duration::from_secs(10);
/// Redirects followed by a GET.
pub const MAX_REDIRECTS: usize = 3;
/// What a GET of an actor or an object asks for.
pub const ACCEPT: &str = "application/activity+json, application/ld+json; profile=\"https://www.w3.org/ns/activitystreams\"";

/// Why a request to another server failed.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("refused: {0}")]
    Refused(String),
    #[error("{url} answered {status}")]
    Status { url: String, status: u16 },
    #[error("{0}")]
    Transport(String),
    #[error("no answer within {} s", TIMEOUT.as_secs())]
    Timeout,
    #[error("the answer is not the JSON expected: {0}")]
    Json(String),
}

impl FetchError {
    /// Whether trying again later cannot help: a refused address, or a 4xx but 401 (the other
    /// server could not fetch our key yet), 408 and 429, as Mastodon's deliveries judge.
    pub fn is_permanent(&self) -> bool {
        match self {
            Self::Refused(_) | Self::Json(_) => true,
            Self::Status { status, .. } => {
                (400..500).contains(status) && ![401, 408, 429].contains(status)
            }
            Self::Transport(_) | Self::Timeout => false,
        }
    }
}

/// Who signs a request: the key's id and its private half (PKCS#8 PEM).
pub struct Signer<'a> {
    pub key_id: &'a str,
    pub private_pem: &'a str,
}

/// Whether `ip` is an address on the public internet: not private, loopback, link-local,
/// shared (CGNAT), documentation, benchmarking, protocol-assignment (`192.0.0.0/24`),
/// multicast, broadcast or unspecified. An IPv6 address that carries an IPv4 one (mapped,
/// NAT64 `64:ff9b::/96`, 6to4 `2002::/16`, Teredo `2001::/32`) is judged by the IPv4 address
/// it leads to, since a gateway on the way would connect there.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            !(v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b))
                || (a == 192 && b == 0 && c == 0)
                || (a == 198 && (b == 18 || b == 19))
                || a >= 240)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = embedded_ipv4(v6) {
                return is_public(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00 // unique local
                || (first & 0xffc0) == 0xfe80 // link-local
                || first == 0x2001 && v6.segments()[1] == 0x0db8) // documentation
        }
    }
}

/// The IPv4 address an IPv6 one leads to, when it carries one: IPv4-mapped (`::ffff:a.b.c.d`),
/// the well-known NAT64 prefix (`64:ff9b::a.b.c.d`), 6to4 (`2002:aabb:ccdd::`) and Teredo
/// (`2001:0:...`, the client's address stored inverted in the last 32 bits).
fn embedded_ipv4(v6: std::net::Ipv6Addr) -> Option<std::net::Ipv4Addr> {
    let s = v6.segments();
    let from = |hi: u16, lo: u16| {
        let [a, b] = hi.to_be_bytes();
        let [c, d] = lo.to_be_bytes();
        std::net::Ipv4Addr::new(a, b, c, d)
    };
    if let Some(v4) = v6.to_ipv4_mapped() {
        return Some(v4);
    }
    match s {
        [0x64, 0xff9b, 0, 0, 0, 0, hi, lo] => Some(from(hi, lo)),
        [0x2002, hi, lo, ..] => Some(from(hi, lo)),
        [0x2001, 0, .., hi, lo] => Some(from(!hi, !lo)),
        _ => None,
    }
}

/// The resolver the client connects through: the system's, keeping only public addresses
/// unless private ones are allowed.
struct GuardedResolver {
    allow_private: bool,
}

impl Resolve for GuardedResolver {
    fn lookup<'a>(
        &'a self,
        host: &'a str,
        port: u16,
    ) -> LocalBoxFuture<'a, Result<Vec<SocketAddr>, Box<dyn std::error::Error>>> {
        Box::pin(async move {
            let found = lookup(host, port).await?;
            let allowed: Vec<SocketAddr> = found
                .iter()
                .copied()
                .filter(|a| self.allow_private || is_public(a.ip()))
                .collect();
            if allowed.is_empty() && !found.is_empty() {
                return Err(format!("{host} resolves to private addresses only").into());
            }
            Ok(allowed)
        })
    }
}

/// How many name lookups may run at once, in the whole app.
const LOOKUPS_AT_ONCE: usize = 4;
static LOOKUPS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(LOOKUPS_AT_ONCE);

/// The system resolver's addresses for `host`, looked up on a thread of its own. The lookup
/// (`getaddrinfo`) blocks its thread and cannot be stopped: a fetch's time limit stops the
/// waiting, not the lookup. On a worker's blocking threads, which run its database queries, a
/// name whose DNS server answers slowly (the sender of an activity picks the name) would hold
/// up the worker's pages for as long. Here it holds one of [`LOOKUPS_AT_ONCE`] threads, and
/// other lookups wait for one.
async fn lookup(host: &str, port: u16) -> std::io::Result<Vec<SocketAddr>> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    let permit = LOOKUPS.acquire().await.map_err(std::io::Error::other)?;
    let (answer, answered) = tokio::sync::oneshot::channel();
    let host = host.to_owned();
    std::thread::Builder::new()
        .name("name-lookup".into())
        .spawn(move || {
            let found = (host.as_str(), port)
                .to_socket_addrs()
                .map(Iterator::collect);
            drop(permit);
            let _ = answer.send(found);
        })?;
    answered.await.map_err(std::io::Error::other)?
}

fn client(allow_private: bool) -> awc::Client {
    let tcp =
        actix_tls::connect::Connector::new(Resolver::custom(GuardedResolver { allow_private }))
            .service();
    let connector = awc::Connector::new().connector(tcp).timeout(TIMEOUT);
    awc::Client::builder()
        .connector(connector)
        .disable_redirects()
        .timeout(TIMEOUT)
        .finish()
}

thread_local! {
    // awc's client lives on one thread; one per thread and per rule keeps connections open.
    static GUARDED: awc::Client = client(false);
    static OPEN: awc::Client = client(true);
}

/// The guarded HTTP client of federation.
#[derive(Debug, Clone, Copy)]
pub struct Client {
    pub allow_private: bool,
}

impl Client {
    /// `url` parsed and checked: https (or http when private addresses are allowed), a host, no
    /// user or password, and not an IP address that is not public.
    pub fn check_url(&self, url: &str) -> Result<url::Url, FetchError> {
        let parsed =
            url::Url::parse(url).map_err(|e| FetchError::Refused(format!("{url}: {e}")))?;
        let scheme_ok =
            parsed.scheme() == "https" || (self.allow_private && parsed.scheme() == "http");
        if !scheme_ok {
            return Err(FetchError::Refused(format!("{url}: not https")));
        }
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Err(FetchError::Refused(format!("{url}: holds a user name")));
        }
        match parsed.host() {
            None => return Err(FetchError::Refused(format!("{url}: no host"))),
            Some(url::Host::Ipv4(ip)) if !self.allow_private && !is_public(ip.into()) => {
                return Err(FetchError::Refused(format!("{url}: a private address")));
            }
            Some(url::Host::Ipv6(ip)) if !self.allow_private && !is_public(ip.into()) => {
                return Err(FetchError::Refused(format!("{url}: a private address")));
            }
            Some(url::Host::Domain(d))
                if !self.allow_private && d.eq_ignore_ascii_case("localhost") =>
            {
                return Err(FetchError::Refused(format!("{url}: a private address")));
            }
            _ => {}
        }
        Ok(parsed)
    }

    fn with<T>(&self, f: impl FnOnce(&awc::Client) -> T) -> T {
        if self.allow_private {
            OPEN.with(f)
        } else {
            GUARDED.with(f)
        }
    }

    /// GETs `url` as JSON (`accept` says which kind), following at most [`MAX_REDIRECTS`]
    /// redirects, each checked as the first URL was. Returns the document and the URL that
    /// answered with it (after the redirects): what a document may speak for is judged by that
    /// one, not by the URL asked for.
    pub async fn get_json(
        &self,
        url: &str,
        accept: &str,
        signer: Option<&Signer<'_>>,
    ) -> Result<(serde_json::Value, url::Url), FetchError> {
        let exchange = async {
            let mut url = self.check_url(url)?;
            for _ in 0..=MAX_REDIRECTS {
                let date = httpdate::fmt_http_date(std::time::SystemTime::now());
                let host = host_of(&url);
                let mut request = self
                    .with(|c| c.get(url.as_str()))
                    .insert_header((header::ACCEPT, accept))
                    .insert_header((header::DATE, date.as_str()))
                    .insert_header((header::USER_AGENT, user_agent()));
                if let Some(signer) = signer {
                    let target = path_and_query(&url);
                    let signed = signature::signing_string(
                        &["(request-target)", "host", "date"].map(str::to_owned),
                        "get",
                        &target,
                        |name| match name {
                            "host" => Some(host.as_str()),
                            "date" => Some(date.as_str()),
                            _ => None,
                        },
                    )
                    .map_err(|e| FetchError::Transport(e.to_string()))?;
                    let value = signature::sign(
                        signer.key_id,
                        signer.private_pem,
                        &["(request-target)", "host", "date"],
                        &signed,
                    )
                    .map_err(|e| FetchError::Transport(e.to_string()))?;
                    request = request.insert_header(("Signature", value));
                }
                let mut response = request
                    .send()
                    .await
                    .map_err(|e| FetchError::Transport(format!("{url}: {e}")))?;
                let status = response.status();
                if status.is_redirection() {
                    let location = response
                        .headers()
                        .get(header::LOCATION)
                        .and_then(|l| l.to_str().ok())
                        .ok_or_else(|| {
                            FetchError::Transport(format!("{url}: a redirect to nowhere"))
                        })?;
                    let next = url
                        .join(location)
                        .map_err(|e| FetchError::Refused(format!("{location}: {e}")))?;
                    url = self.check_url(next.as_str())?;
                    continue;
                }
                if !status.is_success() {
                    return Err(FetchError::Status {
                        url: url.to_string(),
                        status: status.as_u16(),
                    });
                }
                let body = response
                    .body()
                    .limit(MAX_BODY)
                    .await
                    .map_err(|e| FetchError::Transport(format!("{url}: {e}")))?;
                let document =
                    serde_json::from_slice(&body).map_err(|e| FetchError::Json(e.to_string()))?;
                return Ok((document, url));
            }
            Err(FetchError::Refused(format!(
                "more than {MAX_REDIRECTS} redirects"
            )))
        };
        tokio::time::timeout(TIMEOUT, exchange)
            .await
            .map_err(|_| FetchError::Timeout)?
    }

    /// POSTs the activity `body` to `inbox`, signed by `signer` now. Redirects are not followed.
    pub async fn post_signed(
        &self,
        inbox: &str,
        body: &[u8],
        signer: &Signer<'_>,
    ) -> Result<(), FetchError> {
        let url = self.check_url(inbox)?;
        let date = httpdate::fmt_http_date(std::time::SystemTime::now());
        let host = host_of(&url);
        let digest = signature::digest(body);
        let headers = ["(request-target)", "host", "date", "digest"];
        let signed = signature::signing_string(
            &headers.map(str::to_owned),
            "post",
            &path_and_query(&url),
            |name| match name {
                "host" => Some(host.as_str()),
                "date" => Some(date.as_str()),
                "digest" => Some(digest.as_str()),
                _ => None,
            },
        )
        .map_err(|e| FetchError::Transport(e.to_string()))?;
        let value = signature::sign(signer.key_id, signer.private_pem, &headers, &signed)
            .map_err(|e| FetchError::Transport(e.to_string()))?;
        let request = self
            .with(|c| c.post(url.as_str()))
            .insert_header((header::CONTENT_TYPE, super::ACTIVITY_JSON))
            .insert_header((header::DATE, date.as_str()))
            .insert_header(("Digest", digest.as_str()))
            .insert_header(("Signature", value))
            .insert_header((header::USER_AGENT, user_agent()));
        let exchange = async {
            let mut response = request
                .send_body(body.to_vec())
                .await
                .map_err(|e| FetchError::Transport(format!("{url}: {e}")))?;
            // Read (a little of) the answer, so the connection can be used again.
            let _ = response.body().limit(MAX_BODY).await;
            let status = response.status();
            if status.is_success() {
                Ok(())
            } else {
                Err(FetchError::Status {
                    url: url.to_string(),
                    status: status.as_u16(),
                })
            }
        };
        tokio::time::timeout(TIMEOUT, exchange)
            .await
            .map_err(|_| FetchError::Timeout)?
    }
}

/// `host[:port]` as the `Host` header of a request to `url` says it.
fn host_of(url: &url::Url) -> String {
    let host = url.host_str().unwrap_or_default();
    match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    }
}

fn path_and_query(url: &url::Url) -> String {
    match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_owned(),
    }
}

fn user_agent() -> String {
    format!("microblog/{} (ActivityPub)", env!("CARGO_PKG_VERSION"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_lookups_do_not_wait_for_the_blocking_threads() {
        // A worker's runtime with its only blocking thread busy, as with queries under load.
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .max_blocking_threads(1)
            .build()
            .unwrap();
        runtime.block_on(async {
            let (release, held) = std::sync::mpsc::channel::<()>();
            let busy = tokio::task::spawn_blocking(move || {
                let _ = held.recv_timeout(Duration::from_secs(10));
            });
            let found = tokio::time::timeout(Duration::from_secs(5), lookup("localhost", 80)).await;
            release.send(()).unwrap();
            busy.await.unwrap();
            let found = found
                .expect("the lookup waited for the busy blocking thread")
                .unwrap();
            assert!(!found.is_empty());
            assert!(found.iter().all(|a| a.ip().is_loopback() && a.port() == 80));
        });
        assert_eq!(
            runtime.block_on(lookup("192.0.2.7", 443)).unwrap(),
            vec![SocketAddr::from(([192, 0, 2, 7], 443))]
        );
    }

    #[test]
    fn only_public_addresses_are_public() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "::1",
            "::",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "255.255.255.255",
            "192.0.0.8",
            // NAT64, 6to4 and Teredo addresses leading to 127.0.0.1, 10.0.0.1, 192.168.1.1.
            "64:ff9b::7f00:1",
            "2002:a00:1::",
            "2001:0:4136:e378:8000:63bf:3f57:fefe",
        ] {
            assert!(!is_public(private.parse().unwrap()), "{private}");
        }
        for public in [
            "93.184.216.34",
            "1.1.1.1",
            "2606:4700::1111",
            "64:ff9b::5db8:d822",
            "2002:5db8:d822::1",
        ] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
    }

    #[test]
    fn only_answers_no_retry_can_mend_give_a_delivery_up() {
        let status = |status| FetchError::Status {
            url: "https://b.example/inbox".into(),
            status,
        };
        for gone in [400, 403, 404, 410, 422] {
            assert!(status(gone).is_permanent(), "{gone}");
        }
        for later in [401, 408, 429, 500, 502, 503] {
            assert!(!status(later).is_permanent(), "{later}");
        }
        assert!(!FetchError::Timeout.is_permanent());
        assert!(FetchError::Refused("a private address".into()).is_permanent());
    }

    #[test]
    fn urls_are_checked_before_anything_is_sent() {
        let guarded = Client {
            allow_private: false,
        };
        assert!(guarded.check_url("https://example.com/inbox").is_ok());
        for bad in [
            "http://example.com/inbox",
            "https://127.0.0.1/inbox",
            "https://[::1]/inbox",
            "https://localhost/inbox",
            "https://user:pw@example.com/",
            "file:///etc/passwd",
            "not a url",
        ] {
            assert!(guarded.check_url(bad).is_err(), "{bad}");
        }
        let open = Client {
            allow_private: true,
        };
        assert!(open.check_url("http://127.0.0.1:8000/inbox").is_ok());
        assert!(open.check_url("ftp://127.0.0.1/").is_err());
    }
}
