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
//! Where the counts live: on SQLite, in the memory of the one server process (the fastest); on
//! PostgreSQL, in the database (`models::throttle_count`), so that two or ten instances on one
//! database refuse exactly as one does. There a wrong password costs a read and a write, a
//! right one a read only (and a write to forgive, when the account had failures on record).
//! The checks under way hold their places in each process's memory.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use actix_web::cookie::{Cookie, CookieJar, Key, SameSite};
use actix_web::{HttpRequest, HttpResponse};
use rand::RngCore;

use crate::config::{Config, DatabaseUrl};
use crate::db::Db;
use crate::error::AppError;
use crate::models::throttle_count;

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

impl Count {
    /// The count's name in `throttle_counts` (PostgreSQL).
    fn key(&self) -> String {
        match self {
            Self::Client(ip) => format!("client {ip}"),
            Self::AccountFromClient(account, ip) => format!("{} from {ip}", account.key()),
            Self::AccountFromDevice(id, device) => {
                format!("{} on {device}", Account::Id(*id).key())
            }
            Self::AccountFromElsewhere(account) => format!("{} from elsewhere", account.key()),
            Self::WrongTokens(ip) => format!("tokens from {ip}"),
        }
    }

    /// The account the count is of, as `throttle_counts` names it.
    fn account_key(&self) -> Option<String> {
        match self {
            Self::Client(_) | Self::WrongTokens(_) => None,
            Self::AccountFromClient(account, _) | Self::AccountFromElsewhere(account) => {
                Some(account.key())
            }
            Self::AccountFromDevice(id, _) => Some(Account::Id(*id).key()),
        }
    }
}

impl Account {
    fn key(&self) -> String {
        match self {
            Self::Id(id) => format!("account {id}"),
            Self::Name(name) => format!("name {name}"),
            Self::ResetMailTo(address) => format!("reset mail to {address}"),
        }
    }
}

/// How long one more attempt must wait in a count holding `left` of failures (the time until
/// they are all forgiven) and `checking` checks under way; `None` when it fits now.
fn wait(rule: &Rule, left: Duration, checking: u32) -> Option<Duration> {
    let held = left.as_secs_f64() / rule.forgive_every.as_secs_f64();
    let over = held + f64::from(checking) + 1.0 - f64::from(rule.full_at);
    (over > 0.0).then(|| rule.forgive_every.mul_f64(over))
}

/// In whole seconds, rounded up, as `Retry-After` says it: a client that waits that long finds
/// room.
fn whole_seconds(wait: Duration) -> Duration {
    Duration::from_secs(wait.as_secs_f64().ceil().max(1.0) as u64)
}

/// Where the failures are kept.
enum Failures {
    /// In this process's memory (SQLite, one instance: the fastest): for each count, the
    /// moment its failures are all forgiven.
    Memory(Mutex<HashMap<Count, Instant>>),
    /// In PostgreSQL's `throttle_counts`, where every instance of the site reads and adds to
    /// the same counts (`models::throttle_count`).
    Shared(Db),
}

/// The failures a set of counts holds now: for each count, the time until they are forgiven;
/// and whether the account asked about holds any, from anywhere.
struct Held {
    left: HashMap<Count, Duration>,
    of_account: bool,
}

impl Failures {
    async fn held(&self, counts: &[Count], account: Option<&Account>) -> Result<Held, AppError> {
        match self {
            Self::Memory(all) => Ok(held_in_memory(&lock(all), counts, account, Instant::now())),
            Self::Shared(db) => {
                let keys: Vec<String> = counts.iter().map(Count::key).collect();
                let account_key = account.map(Account::key);
                let rows = db
                    .run(move |conn| throttle_count::recorded(conn, &keys, account_key.as_deref()))
                    .await?;
                let left = counts
                    .iter()
                    .filter_map(|count| {
                        let key = count.key();
                        let row = rows.iter().find(|row| row.key == key)?;
                        Some((
                            count.clone(),
                            Duration::from_secs_f64(row.seconds_left.max(0.0)),
                        ))
                    })
                    .collect();
                Ok(Held {
                    left,
                    of_account: rows.iter().any(|row| row.of_account),
                })
            }
        }
    }

    /// One failure more in each count.
    async fn add(&self, counts: &[Count]) -> Result<(), AppError> {
        match self {
            Self::Memory(all) => {
                add_in_memory(&mut lock(all), counts, Instant::now());
                Ok(())
            }
            Self::Shared(db) => {
                let failures: Vec<_> = counts
                    .iter()
                    .map(|c| {
                        let seconds = c.rule().forgive_every.as_secs_f64();
                        (c.key(), c.account_key(), seconds)
                    })
                    .collect();
                db.run(move |conn| throttle_count::add_failures(conn, &failures))
                    .await
            }
        }
    }

    /// Forgives every failure of `account`, from every place.
    async fn forgive(&self, account: &Account) -> Result<(), AppError> {
        match self {
            Self::Memory(all) => {
                lock(all).retain(|count, _| !count.is_of_account(account));
                Ok(())
            }
            Self::Shared(db) => {
                let key = account.key();
                db.run(move |conn| throttle_count::forgive(conn, &key))
                    .await
                    .map(drop)
            }
        }
    }
}

fn held_in_memory(
    all: &HashMap<Count, Instant>,
    counts: &[Count],
    account: Option<&Account>,
    now: Instant,
) -> Held {
    let left = counts
        .iter()
        .filter_map(|count| {
            let left = all.get(count)?.saturating_duration_since(now);
            (!left.is_zero()).then(|| (count.clone(), left))
        })
        .collect();
    let of_account = account.is_some_and(|account| {
        all.iter()
            .any(|(count, until)| count.is_of_account(account) && *until > now)
    });
    Held { left, of_account }
}

fn add_in_memory(all: &mut HashMap<Count, Instant>, counts: &[Count], now: Instant) {
    for count in counts {
        let until = all.entry(count.clone()).or_insert(now);
        *until = (*until).max(now) + count.rule().forgive_every;
    }
}

/// The counts survive a thread that panicked while holding them: each change is a few numbers,
/// never left half-done in a way that matters.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The password-guessing counts, in the app's data.
pub struct LoginThrottle {
    failures: Failures,
    /// The checks under way in this process, by count: each may still turn out wrong, so it
    /// holds a place in its counts until it is decided.
    checking: Mutex<HashMap<Count, u32>>,
    /// `FORWARDED_ALLOW_IPS`: see [`client_address`].
    trusted_proxies: Vec<IpAddr>,
    key: Key,
    secure_cookies: bool,
}

impl LoginThrottle {
    /// Counts in memory on SQLite; in the database on PostgreSQL, where several instances may
    /// share it.
    pub fn new(config: &Config, db: &Db) -> Self {
        let failures = match config.database_url {
            DatabaseUrl::Postgres(_) => Failures::Shared(db.clone()),
            DatabaseUrl::Sqlite(_) => Failures::Memory(Mutex::default()),
        };
        Self {
            failures,
            checking: Mutex::default(),
            trusted_proxies: config.forwarded_allow_ips.clone(),
            key: Key::from(&config.keys.device),
            secure_cookies: config.session_cookie_secure,
        }
    }

    /// Asks before checking a password for `account` from the client making `req`. The inner
    /// `Err` holds how long to wait (the 429's `Retry-After`); `Ok` must be told how the check
    /// went.
    pub async fn begin(
        &self,
        req: &HttpRequest,
        account: Account,
    ) -> Result<Result<Attempt<'_>, Duration>, AppError> {
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
        let held = self.failures.held(&counts, Some(&account)).await?;
        if let Err(wait) = self.reserve(&counts, &held.left) {
            return Ok(Err(wait));
        }
        Ok(Ok(Attempt {
            throttle: self,
            counts,
            account,
            account_failed_before: held.of_account,
            known: device.is_some(),
            decided: false,
        }))
    }

    /// Holds a place in each count, or says how long to wait if one of them is full.
    fn reserve(&self, counts: &[Count], left: &HashMap<Count, Duration>) -> Result<(), Duration> {
        let mut checking = lock(&self.checking);
        let longest = counts
            .iter()
            .filter_map(|count| {
                let left = left.get(count).copied().unwrap_or_default();
                wait(
                    count.rule(),
                    left,
                    checking.get(count).copied().unwrap_or(0),
                )
            })
            .max();
        if let Some(longest) = longest {
            return Err(whole_seconds(longest));
        }
        for count in counts {
            *checking.entry(count.clone()).or_default() += 1;
        }
        Ok(())
    }

    /// Gives back the places the checks of `counts` held.
    fn release(&self, counts: &[Count]) {
        let mut checking = lock(&self.checking);
        for count in counts {
            if let Some(n) = checking.get_mut(count) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    checking.remove(count);
                }
            }
        }
    }

    /// The address `req` is counted under (its client's, read as [`client_address`] says).
    pub fn client(&self, req: &HttpRequest) -> Option<IpAddr> {
        client_address(req, &self.trusted_proxies).map(throttling_address)
    }

    /// A wrong API token came from the client making `req`: counted, unless its count is full
    /// already, and then how long the client must wait (the 429's `Retry-After`).
    pub async fn wrong_token(&self, req: &HttpRequest) -> Result<Option<Duration>, AppError> {
        let Some(ip) = client_address(req, &self.trusted_proxies).map(throttling_address) else {
            return Ok(None);
        };
        let count = [Count::WrongTokens(ip)];
        let held = self.failures.held(&count, None).await?;
        let left = held.left.get(&count[0]).copied().unwrap_or_default();
        if let Some(longest) = wait(count[0].rule(), left, 0) {
            return Ok(Some(whole_seconds(longest)));
        }
        self.failures.add(&count).await?;
        Ok(None)
    }

    /// Forgets counts with nothing left to remember, so memory (or the table) does not grow
    /// with every name tried. Run by the background loop.
    pub async fn forget_idle(&self) -> Result<(), AppError> {
        match &self.failures {
            Failures::Memory(all) => {
                let now = Instant::now();
                lock(all).retain(|_, until| *until > now);
                Ok(())
            }
            Failures::Shared(db) => db.run(throttle_count::delete_forgiven).await.map(drop),
        }
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
}

/// One password check under way. Tell it how the check went with [`Attempt::failed`] or
/// [`Attempt::succeeded`]; dropped undecided (the check itself failed), it counts for nothing.
pub struct Attempt<'a> {
    throttle: &'a LoginThrottle,
    counts: Vec<Count>,
    account: Account,
    /// The account held failures (from anywhere) when the check began: a right password
    /// forgives them. Without any, a right password writes nothing.
    account_failed_before: bool,
    /// The browser came with a `device` cookie for this account.
    known: bool,
    decided: bool,
}

impl Attempt<'_> {
    /// The password was wrong: one more failure in each count.
    pub async fn failed(mut self) {
        self.decided = true;
        // Added before the places are given back, so that no attempt finds neither.
        if let Err(e) = self.throttle.failures.add(&self.counts).await {
            tracing::error!(error = %crate::error::chain(&e), "could not count a wrong password");
        }
        self.throttle.release(&self.counts);
    }

    /// The password was right: the account's failures are forgiven, and the browser becomes
    /// known for the account (the `device` cookie is added to `response`).
    pub async fn succeeded(self, response: &mut HttpResponse) {
        let (throttle, known) = (self.throttle, self.known);
        let account = self.account.clone();
        self.forgiven().await;
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
    pub async fn forgiven(mut self) {
        self.decided = true;
        if self.account_failed_before
            && let Err(e) = self.throttle.failures.forgive(&self.account).await
        {
            tracing::warn!(error = %crate::error::chain(&e), "could not forgive failures");
        }
        self.throttle.release(&self.counts);
    }
}

impl Drop for Attempt<'_> {
    fn drop(&mut self) {
        if !self.decided {
            self.throttle.release(&self.counts);
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
            failures: Failures::Memory(Mutex::default()),
            checking: Mutex::default(),
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
        let mut all = HashMap::new();
        let try_at = |all: &HashMap<Count, Instant>, now| {
            let held = held_in_memory(all, &counts, None, now);
            let tried = throttle.reserve(&counts, &held.left);
            if tried.is_ok() {
                throttle.release(&counts);
            }
            tried
        };
        for _ in 0..5 {
            try_at(&all, start).expect("room");
            add_in_memory(&mut all, &counts, start);
        }
        assert_eq!(try_at(&all, start), Err(Duration::from_secs(12)), "full");
        let later = start + Duration::from_secs(12);
        try_at(&all, later).expect("one forgiven");
        add_in_memory(&mut all, &counts, later);
        assert!(try_at(&all, later).is_err(), "full again");
    }

    #[test]
    fn checks_under_way_hold_a_place_and_right_passwords_give_it_back() {
        let (throttle, counts) = (throttle(), from_place(1));
        let nothing_held = HashMap::new();
        for _ in 0..5 {
            throttle.reserve(&counts, &nothing_held).expect("room");
        }
        assert!(
            throttle.reserve(&counts, &nothing_held).is_err(),
            "five checks under way"
        );
        for _ in 0..5 {
            throttle.release(&counts);
        }
        throttle
            .reserve(&counts, &nothing_held)
            .expect("nothing failed");
        throttle.release(&counts);
        assert!(lock(&throttle.checking).is_empty(), "nothing kept");
    }

    #[actix_web::test]
    async fn a_right_password_forgives_the_accounts_failures_but_not_the_clients() {
        let throttle = throttle();
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let (susan, other_susan) = (Account::Id(1), Account::Id(2));
        let counts = [
            Count::Client(ip),
            Count::AccountFromClient(susan.clone(), ip),
            Count::AccountFromClient(other_susan.clone(), ip),
        ];
        let failures = &throttle.failures;
        failures.add(&counts[2..]).await.unwrap();
        for _ in 0..4 {
            failures.add(&counts[..2]).await.unwrap();
        }
        let before = failures.held(&counts, Some(&susan)).await.unwrap();
        assert!(before.of_account);
        failures.forgive(&susan).await.unwrap();
        let after = failures.held(&counts, Some(&susan)).await.unwrap();
        assert!(!after.of_account, "susan's failures forgiven");
        assert!(!after.left.contains_key(&counts[1]));
        let left = |count: &Count| after.left[count].as_secs_f64();
        assert!(
            (left(&counts[0]) / 6.0 - 4.0).abs() < 0.01,
            "the address keeps its count"
        );
        assert!(
            (left(&counts[2]) / 12.0 - 1.0).abs() < 0.01,
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
