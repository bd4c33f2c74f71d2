//! Login throttling (CONTRACT.md section 7): repeated login attempts are refused with a 429, per
//! account (against guessing one user's password) and per client address (against trying many
//! accounts). Counts live in memory, per server process.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

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
}

fn quota(per_minute: u32, burst: u32) -> Quota {
    let nz = |n: u32| NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN);
    Quota::per_minute(nz(per_minute)).allow_burst(nz(burst))
}

impl Default for LoginThrottle {
    fn default() -> Self {
        Self {
            accounts: DefaultKeyedRateLimiter::keyed(quota(ACCOUNT_PER_MINUTE, ACCOUNT_BURST)),
            clients: DefaultKeyedRateLimiter::keyed(quota(CLIENT_PER_MINUTE, CLIENT_BURST)),
        }
    }
}

impl LoginThrottle {
    /// Counts one login attempt. `Err` holds how long to wait when there were too many.
    /// Usernames count case-insensitively, so "Susan" and "susan" share one allowance.
    pub fn attempt(&self, username: &str, client: Option<IpAddr>) -> Result<(), Duration> {
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
