//! Login throttling (CONTRACT.md section 7): repeated login attempts are refused with a 429, per
//! account (against guessing one user's password) and per client address (against trying many
//! accounts). Counts live in memory, per server process.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use actix_web::HttpRequest;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};

/// Attempts one account may have in a burst; afterwards one more every 12 seconds.
const ACCOUNT_BURST: u32 = 5;
const ACCOUNT_PER_MINUTE: u32 = 5;
/// Attempts one client address may have in a burst; afterwards one more every 3 seconds.
const CLIENT_BURST: u32 = 20;
const CLIENT_PER_MINUTE: u32 = 20;

pub struct LoginThrottle {
    accounts: DefaultKeyedRateLimiter<String>,
    clients: DefaultKeyedRateLimiter<IpAddr>,
    /// `FORWARDED_ALLOW_IPS`: see [`client_address`].
    trusted_proxies: Vec<IpAddr>,
}

fn quota(per_minute: u32, burst: u32) -> Quota {
    let nz = |n: u32| NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN);
    Quota::per_minute(nz(per_minute)).allow_burst(nz(burst))
}

impl LoginThrottle {
    pub fn new(trusted_proxies: Vec<IpAddr>) -> Self {
        Self {
            accounts: DefaultKeyedRateLimiter::keyed(quota(ACCOUNT_PER_MINUTE, ACCOUNT_BURST)),
            clients: DefaultKeyedRateLimiter::keyed(quota(CLIENT_PER_MINUTE, CLIENT_BURST)),
            trusted_proxies,
        }
    }

    /// Counts one login attempt for `username` from the client making `req`. `Err` holds how
    /// long to wait when there were too many. Usernames count case-insensitively, so "Susan" and
    /// "susan" share one allowance.
    pub fn attempt(&self, req: &HttpRequest, username: &str) -> Result<(), Duration> {
        let client = client_address(req, &self.trusted_proxies);
        let now = DefaultClock::default().now();
        if let Some(ip) = client {
            self.clients
                .check_key(&ip)
                .map_err(|not_until| not_until.wait_time_from(now))?;
        }
        let account: String = username.trim().to_lowercase().chars().take(64).collect();
        self.accounts
            .check_key(&account)
            .map_err(|not_until| not_until.wait_time_from(now))
    }

    /// Forgets keys that have fully recovered, so memory does not grow with every name tried.
    pub fn forget_idle(&self) {
        self.accounts.retain_recent();
        self.clients.retain_recent();
    }
}

/// The address of the client, for throttling. Behind a reverse proxy every request comes from the
/// proxy, so when the peer is listed in `FORWARDED_ALLOW_IPS`, `X-Forwarded-For` is read from the
/// right (each proxy appends the address it saw) and the first address that is not itself a
/// trusted proxy is the client. From anyone else the header is ignored: a client cannot choose
/// its own address.
fn client_address(req: &HttpRequest, trusted_proxies: &[IpAddr]) -> Option<IpAddr> {
    let peer = req.peer_addr()?.ip();
    if !trusted_proxies.contains(&peer) {
        return Some(peer);
    }
    let forwarded: Vec<IpAddr> = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|ip| ip.trim().parse().ok())
        .collect();
    Some(
        forwarded
            .into_iter()
            .rev()
            .find(|ip| !trusted_proxies.contains(ip))
            .unwrap_or(peer),
    )
}
