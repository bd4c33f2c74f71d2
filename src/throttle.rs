//! Slowing down password guessing: every form that checks a password (log in, confirm your
//! password, change password) asks [`LoginThrottle::begin`] first, and reports how the check
//! went. Only **wrong** passwords count; a right one uses up nothing and forgives the account's
//! earlier failures (as django-axes resets on success). So a classroom behind one address can
//! log in, while a guesser is refused with a 429 and `Retry-After`.
//!
//! Each count is a leaky bucket: a failure adds one, and one is forgiven every so often. A count
//! that is full refuses the attempt before the password is even looked at, so while it lasts the
//! right password gets the same 429 as a wrong one (the answer tells a guesser nothing).
//!
//! | count                                   | full at | one forgiven every |
//! |-----------------------------------------|---------|--------------------|
//! | one client address (an IPv6 /64)        | 100     | 6 s                |
//! | one account from one address            | 5       | 12 s               |
//! | one account from one known browser      | 5       | 12 s               |
//! | one account from browsers not known     | 20      | 60 s               |
//!
//! A browser becomes *known* for an account when a password for it was right there: it gets the
//! `device` cookie (encrypted, a year), naming the account and the browser. Its attempts count on
//! their own, so other people's wrong guesses for the account, from elsewhere or from the same
//! classroom, never lock the owner out of a browser they have logged in from before (the count
//! of its address still applies: a known browser is no way around it). `docs/05-user-logins.md`
//! weighs the numbers.
//!
//! An account is counted by its id once its name was found ([`Account`]): "Susan" and "susan"
//! are two accounts, so a right password for one forgives nothing of the other, and a `device`
//! cookie names the one it was earned for.
//!
//! API tokens are counted too, per address: a wrong `Bearer` token is one failure (at most 30,
//! one forgiven every 2 s). A token is 128 random bits, so no guess will find one; the count
//! stops a client that sends made-up tokens from being answered at full speed forever. It is
//! asked only after the token was looked up: a right token is never refused.
//!
//! Counts live in the memory of each server process.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use actix_web::cookie::{Cookie, CookieJar, Key, SameSite};
use actix_web::{HttpRequest, HttpResponse};
use rand::RngCore;

use crate::config::Config;

/// The cookie that marks a browser as known for one account.
pub const DEVICE_COOKIE: &str = "device";
const DEVICE_COOKIE_DAYS: i64 = 365;

/// How many failures a count holds, and how fast they are forgiven.
struct Rule {
    full_at: u32,
    forgive_every: Duration,
}

/// Every wrong password from one address, whatever the account: far above what a class makes
/// (a few typos each), far below what trying many accounts needs.
const CLIENT: Rule = Rule {
    full_at: 100,
    forgive_every: Duration::from_secs(6),
};
/// Wrong passwords for one account from one address, or from one known browser.
const ACCOUNT_FROM_ONE_PLACE: Rule = Rule {
    full_at: 5,
    forgive_every: Duration::from_secs(12),
};
/// Wrong passwords for one account from all the browsers that are not known for it: what a
/// guesser spread over many addresses gets.
const ACCOUNT_FROM_ELSEWHERE: Rule = Rule {
    full_at: 20,
    forgive_every: Duration::from_secs(60),
};

/// Wrong API tokens from one address.
const TOKENS: Rule = Rule {
    full_at: 30,
    forgive_every: Duration::from_secs(2),
};

/// Whose password is checked: an account, by its id, once the name typed was found; else what
/// was typed (lower-cased: guessing at a name that is no account still counts, as does asking
/// for reset mails to one address).
#[derive(Clone, Debug, Hash, PartialEq, Eq)]
pub enum Account {
    Id(i32),
    Name(String),
    /// Requests for a reset mail to this address (lower-cased): each may send a mail, so each
    /// counts as a wrong password would.
    ResetMailTo(String),
}

impl Account {
    /// The account `user` if the name was found, else the name `typed`.
    pub fn found_or_typed(user: Option<i32>, typed: &str) -> Self {
        match user {
            Some(id) => Self::Id(id),
            None => Self::Name(typed.trim().to_lowercase().chars().take(64).collect()),
        }
    }
}

/// What a count is kept for.
#[derive(Clone, Debug, Hash, PartialEq, Eq)]
enum Count {
    Client(IpAddr),
    AccountFromClient(Account, IpAddr),
    AccountFromDevice(i32, String),
    AccountFromElsewhere(Account),
    WrongTokens(IpAddr),
}

impl Count {
    fn rule(&self) -> &'static Rule {
        match self {
            Self::Client(_) => &CLIENT,
            Self::AccountFromClient(..) | Self::AccountFromDevice(..) => &ACCOUNT_FROM_ONE_PLACE,
            Self::AccountFromElsewhere(_) => &ACCOUNT_FROM_ELSEWHERE,
            Self::WrongTokens(_) => &TOKENS,
        }
    }

    fn is_of_account(&self, account: &Account) -> bool {
        match self {
            Self::Client(_) | Self::WrongTokens(_) => false,
            Self::AccountFromClient(a, _) | Self::AccountFromElsewhere(a) => a == account,
            Self::AccountFromDevice(id, _) => *account == Account::Id(*id),
        }
    }
}

/// Failures not yet forgiven, as of `at`, and the checks of this count still under way (each may
/// still turn out wrong, so it holds a place until it is decided).
struct Bucket {
    failures: f64,
    at: Instant,
    checking: u32,
}

impl Bucket {
    fn new(now: Instant) -> Self {
        Self {
            failures: 0.0,
            at: now,
            checking: 0,
        }
    }

    /// Forgives what time has forgiven since the last look.
    fn catch_up(&mut self, rule: &Rule, now: Instant) {
        let forgiven =
            now.saturating_duration_since(self.at).as_secs_f64() / rule.forgive_every.as_secs_f64();
        self.failures = (self.failures - forgiven).max(0.0);
        self.at = now;
    }

    /// How long until one more attempt fits, if it does not fit now.
    fn wait(&self, rule: &Rule) -> Option<Duration> {
        let over = self.failures + f64::from(self.checking) + 1.0 - f64::from(rule.full_at);
        (over > 0.0).then(|| rule.forgive_every.mul_f64(over))
    }

    fn is_idle(&self) -> bool {
        self.failures == 0.0 && self.checking == 0
    }
}

/// The password-guessing counts of this process, in the app's data.
pub struct LoginThrottle {
    counts: Mutex<HashMap<Count, Bucket>>,
    /// `FORWARDED_ALLOW_IPS`: see [`client_address`].
    trusted_proxies: Vec<IpAddr>,
    key: Key,
    secure_cookies: bool,
}

impl LoginThrottle {
    pub fn new(config: &Config) -> Self {
        Self {
            counts: Mutex::new(HashMap::new()),
            trusted_proxies: config.forwarded_allow_ips.clone(),
            key: Key::from(&config.keys.device),
            secure_cookies: config.session_cookie_secure,
        }
    }

    /// Asks before checking a password for `account` from the client making `req`. `Err` holds
    /// how long to wait (the 429's `Retry-After`); `Ok` must be told how the check went.
    pub fn begin(&self, req: &HttpRequest, account: Account) -> Result<Attempt<'_>, Duration> {
        let device = self
            .known_device(req)
            .filter(|(for_account, _)| Account::Id(*for_account) == account)
            .map(|(_, device)| device);
        let client = client_address(req, &self.trusted_proxies).map(throttling_address);
        let counts = match (&device, &account, client) {
            (Some(device), Account::Id(id), Some(ip)) => vec![
                Count::Client(ip),
                Count::AccountFromDevice(*id, device.clone()),
            ],
            (Some(device), Account::Id(id), None) => {
                vec![Count::AccountFromDevice(*id, device.clone())]
            }
            (_, _, Some(ip)) => vec![
                Count::Client(ip),
                Count::AccountFromClient(account.clone(), ip),
                Count::AccountFromElsewhere(account.clone()),
            ],
            (_, _, None) => vec![Count::AccountFromElsewhere(account.clone())],
        };
        self.reserve(&counts, Instant::now())?;
        Ok(Attempt {
            throttle: self,
            counts,
            account,
            known: device.is_some(),
            decided: false,
        })
    }

    /// Holds a place in each count, or says how long to wait if one of them is full.
    fn reserve(&self, counts: &[Count], now: Instant) -> Result<(), Duration> {
        let mut all = self.lock();
        let wait = counts
            .iter()
            .filter_map(|count| {
                let bucket = all.entry(count.clone()).or_insert_with(|| Bucket::new(now));
                bucket.catch_up(count.rule(), now);
                bucket.wait(count.rule())
            })
            .max();
        if let Some(wait) = wait {
            // In whole seconds, rounded up, as `Retry-After` says it: a client that waits that
            // long finds room.
            return Err(Duration::from_secs(
                wait.as_secs_f64().ceil().max(1.0) as u64
            ));
        }
        for count in counts {
            if let Some(bucket) = all.get_mut(count) {
                bucket.checking += 1;
            }
        }
        Ok(())
    }

    /// Ends the checks of `counts`: adds a failure to each when `failed`; after a right
    /// password, forgives every failure of `account` (its counts from every place).
    fn settle(&self, counts: &[Count], failed: bool, account: Option<&Account>) {
        let mut all = self.lock();
        for count in counts {
            if let Some(bucket) = all.get_mut(count) {
                bucket.checking = bucket.checking.saturating_sub(1);
                if failed {
                    bucket.failures += 1.0;
                }
            }
        }
        if let Some(account) = account {
            // Its counts are emptied; those with other checks still under way stay for them.
            all.retain(|count, bucket| {
                if !count.is_of_account(account) {
                    return true;
                }
                bucket.failures = 0.0;
                bucket.checking > 0
            });
        }
    }

    /// A wrong API token came from the client making `req`: counted, unless its count is full
    /// already, and then how long the client must wait (the 429's `Retry-After`).
    pub fn wrong_token(&self, req: &HttpRequest) -> Option<Duration> {
        let ip = client_address(req, &self.trusted_proxies).map(throttling_address)?;
        let count = Count::WrongTokens(ip);
        let now = Instant::now();
        let mut all = self.lock();
        let bucket = all.entry(count.clone()).or_insert_with(|| Bucket::new(now));
        bucket.catch_up(count.rule(), now);
        if let Some(wait) = bucket.wait(count.rule()) {
            return Some(Duration::from_secs(
                wait.as_secs_f64().ceil().max(1.0) as u64
            ));
        }
        bucket.failures += 1.0;
        None
    }

    /// Forgets counts with nothing left to remember, so memory does not grow with every name
    /// tried. Run by the background loop.
    pub fn forget_idle(&self) {
        let now = Instant::now();
        self.lock().retain(|count, bucket| {
            bucket.catch_up(count.rule(), now);
            !bucket.is_idle()
        });
    }

    /// The account (its id) and browser named by a valid `device` cookie.
    fn known_device(&self, req: &HttpRequest) -> Option<(i32, String)> {
        let mut jar = CookieJar::new();
        jar.add_original(req.cookie(DEVICE_COOKIE)?);
        let value = jar.private(&self.key).get(DEVICE_COOKIE)?;
        let (device, account) = value.value().split_once(':')?;
        Some((account.parse().ok()?, device.to_owned()))
    }

    /// A `device` cookie naming account `user` and a new random browser id.
    fn device_cookie(&self, user: i32) -> Option<Cookie<'static>> {
        let mut id = [0u8; 16];
        rand::rng().fill_bytes(&mut id);
        let cookie = Cookie::build(DEVICE_COOKIE, format!("{}:{user}", hex::encode(id)))
            .path("/")
            .http_only(true)
            .secure(self.secure_cookies)
            .same_site(SameSite::Lax)
            .max_age(actix_web::cookie::time::Duration::days(DEVICE_COOKIE_DAYS))
            .finish();
        let mut jar = CookieJar::new();
        jar.private_mut(&self.key).add(cookie);
        jar.get(DEVICE_COOKIE).cloned()
    }

    /// The counts survive a thread that panicked while holding them: each change is a few
    /// numbers, never left half-done in a way that matters.
    fn lock(&self) -> MutexGuard<'_, HashMap<Count, Bucket>> {
        self.counts.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// One password check under way. Tell it how the check went with [`Attempt::failed`] or
/// [`Attempt::succeeded`]; dropped undecided (the check itself failed), it counts for nothing.
pub struct Attempt<'a> {
    throttle: &'a LoginThrottle,
    counts: Vec<Count>,
    account: Account,
    /// The browser came with a `device` cookie for this account.
    known: bool,
    decided: bool,
}

impl Attempt<'_> {
    /// The password was wrong: one more failure in each count.
    pub fn failed(mut self) {
        self.decided = true;
        self.throttle.settle(&self.counts, true, None);
    }

    /// The password was right: the account's failures are forgiven, and the browser becomes
    /// known for the account (the `device` cookie is added to `response`).
    pub fn succeeded(self, response: &mut HttpResponse) {
        let (throttle, known) = (self.throttle, self.known);
        let account = self.account.clone();
        self.forgiven();
        if !known
            && let Account::Id(user) = account
            && let Some(cookie) = throttle.device_cookie(user)
            && let Err(e) = response.add_cookie(&cookie)
        {
            tracing::warn!(error = %e, "could not set the device cookie");
        }
    }

    /// The password was right, for a client that keeps no cookies (the API): the account's
    /// failures are forgiven, and no browser becomes known.
    pub fn forgiven(mut self) {
        self.decided = true;
        self.throttle
            .settle(&self.counts, false, Some(&self.account));
    }
}

impl Drop for Attempt<'_> {
    fn drop(&mut self) {
        if !self.decided {
            self.throttle.settle(&self.counts, false, None);
        }
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

/// The address a client is counted under. An IPv6 home or office network gets a whole /64 and
/// may pick any address in it, so IPv6 clients count by their /64; an IPv4 address written as
/// IPv6 (`::ffff:a.b.c.d`) counts as the IPv4 address.
fn throttling_address(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let [a, b, c, d, ..] = v6.segments();
                IpAddr::V6(Ipv6Addr::new(a, b, c, d, 0, 0, 0, 0))
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn throttle() -> LoginThrottle {
        LoginThrottle {
            counts: Mutex::new(HashMap::new()),
            trusted_proxies: Vec::new(),
            key: Key::generate(),
            secure_cookies: false,
        }
    }

    fn from_place(account: i32) -> Vec<Count> {
        vec![Count::AccountFromClient(
            Account::Id(account),
            "192.0.2.1".parse().unwrap(),
        )]
    }

    #[test]
    fn a_count_is_full_after_its_failures_and_forgives_one_at_a_time() {
        let (throttle, counts, start) = (throttle(), from_place(1), Instant::now());
        for _ in 0..5 {
            throttle.reserve(&counts, start).expect("room");
            throttle.settle(&counts, true, None);
        }
        let wait = throttle.reserve(&counts, start).expect_err("full");
        assert_eq!(wait, Duration::from_secs(12));
        let later = start + Duration::from_secs(12);
        throttle.reserve(&counts, later).expect("one forgiven");
        throttle.settle(&counts, true, None);
        assert!(throttle.reserve(&counts, later).is_err(), "full again");
    }

    #[test]
    fn checks_under_way_hold_a_place_and_right_passwords_give_it_back() {
        let (throttle, counts, now) = (throttle(), from_place(1), Instant::now());
        for _ in 0..5 {
            throttle.reserve(&counts, now).expect("room");
        }
        assert!(
            throttle.reserve(&counts, now).is_err(),
            "five checks under way"
        );
        for _ in 0..5 {
            throttle.settle(&counts, false, None);
        }
        throttle.reserve(&counts, now).expect("nothing failed");
    }

    #[test]
    fn a_right_password_forgives_the_accounts_failures_but_not_the_clients() {
        let throttle = throttle();
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let now = Instant::now();
        let (susan, other_susan) = (Account::Id(1), Account::Id(2));
        let counts = [
            Count::Client(ip),
            Count::AccountFromClient(susan.clone(), ip),
            Count::AccountFromClient(other_susan.clone(), ip),
        ];
        let susan_counts = &counts[..2];
        throttle.reserve(&counts[2..], now).expect("room");
        throttle.settle(&counts[2..], true, None);
        for _ in 0..4 {
            throttle.reserve(susan_counts, now).expect("room");
            throttle.settle(susan_counts, true, None);
        }
        throttle.reserve(susan_counts, now).expect("room");
        throttle.settle(susan_counts, false, Some(&susan));
        let all = throttle.lock();
        assert!(!all.contains_key(&counts[1]), "susan's failures forgiven");
        assert_eq!(all[&counts[0]].failures, 4.0, "the address keeps its count");
        assert_eq!(
            all[&counts[2]].failures, 1.0,
            "another account (\"Susan\" beside \"susan\") is not forgiven"
        );
    }

    #[test]
    fn ipv6_clients_count_by_their_64_and_mapped_ipv4_as_ipv4() {
        let one: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let other: IpAddr = "2001:db8:1:2:bbbb::2".parse().unwrap();
        assert_eq!(throttling_address(one), throttling_address(other));
        assert_ne!(
            throttling_address(one),
            throttling_address("2001:db8:1:3::1".parse().unwrap())
        );
        assert_eq!(
            throttling_address("::ffff:192.0.2.7".parse().unwrap()),
            "192.0.2.7".parse::<IpAddr>().unwrap()
        );
    }
}
