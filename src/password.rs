//! Password hashing (Flask: werkzeug's `generate_password_hash` / `check_password_hash`) and the
//! password rules: at least 8 characters, not all digits, not a common password, not like the
//! username or e-mail (the checks Django ships).
//!
//! bcrypt reads only the first 72 bytes of its input, so two long passwords sharing a prefix
//! would hash alike. We hash the password with SHA-256 first and give bcrypt the base64 of that
//! digest (44 bytes, never a NUL byte): every character of a 1,000-character password counts.
//!
//! bcrypt is slow on purpose (about 250 ms at cost 12). It runs on threads of its own, never on
//! the ones serving requests: as many as half the cores, which run only when the pages leave a
//! core idle ([`lower_priority`]), so a burst of logins uses spare CPU and cannot slow the pages.
//!
//! The threads take their work from two queues, so a flood of sign-ups cannot hold up the
//! people who already have an account:
//!
//! - **checks** of a password against an account (logging in, `POST /api/tokens`, confirming
//!   a password) go first (but every fifth turn goes to a waiting new hash, so a flood of
//!   logins cannot stop sign-ups for good), at most [`MAX_WAITING_CHECKS`] waiting;
//! - **new hashes** (signing up, changing or resetting a password) wait behind them, at most
//!   [`MAX_WAITING_HASHES`] at once: past that, the request is answered at once with a 503 and
//!   `Retry-After` ([`AppError::Busy`]) instead of waiting for minutes.
//!
//! Work whose client has gone (the connection closed while it waited) is dropped unrun.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, PoisonError};

use base64::Engine as _;
use sha2::{Digest, Sha256};

use crate::error::AppError;
use crate::i18n::Message;
use crate::models::actor;
use crate::models::user::User;

/// Longest password accepted; longer ones are a form error.
pub const MAX_LEN: usize = 1000;
pub const MIN_LEN: usize = 8;

fn prehash(password: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(Sha256::digest(password.as_bytes()))
}

/// Hashes on the calling thread: for the command line only (handlers use [`Hasher`]).
pub fn hash_blocking(password: &str, cost: u32) -> anyhow::Result<String> {
    Ok(bcrypt::hash(prehash(password), cost)?)
}

/// The most new hashes that may wait at once: a class of 40 signing up together fits, a flood
/// does not (each waits about a quarter of a second per hash ahead of it on one core).
pub const MAX_WAITING_HASHES: usize = 64;

type Job = Box<dyn FnOnce() + Send>;

/// What a job is, and so where it waits.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// A password checked against an account that exists (or the dummy hash).
    Check,
    /// A new hash: a sign-up, a changed or reset password.
    NewHash,
}

/// The most password checks that may wait at once: far more than logins ever queue up (each
/// takes a quarter of a second), but a bound, so a flood of them is refused instead of growing.
pub const MAX_WAITING_CHECKS: usize = 1024;

/// Checks taken in a row before a waiting new hash gets its turn: checks go first, and new
/// hashes still move under a flood of logins.
const CHECKS_PER_HASH: u32 = 4;

/// The two queues the hashing threads take work from, checks first.
#[derive(Default)]
struct Waiting {
    checks: VecDeque<Job>,
    hashes: VecDeque<Job>,
    /// Checks taken since the last new hash.
    checks_in_a_row: u32,
    /// Every `Hasher` is gone: the threads end.
    closed: bool,
}

#[derive(Default)]
struct Queue {
    waiting: Mutex<Waiting>,
    ready: Condvar,
}

impl Queue {
    /// The queues survive a job that panicked: a panic never happens while they are held.
    fn lock(&self) -> MutexGuard<'_, Waiting> {
        self.waiting.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Puts `job` in its queue, or refuses it when `kind` is a new hash and
    /// [`MAX_WAITING_HASHES`] wait already.
    fn push(&self, kind: Kind, job: Job) -> Result<(), AppError> {
        let mut waiting = self.lock();
        match kind {
            Kind::Check if waiting.checks.len() >= MAX_WAITING_CHECKS => {
                return Err(AppError::Busy(Message::new("error-busy-checking")));
            }
            Kind::Check => waiting.checks.push_back(job),
            Kind::NewHash if waiting.hashes.len() >= MAX_WAITING_HASHES => {
                return Err(AppError::Busy(Message::new("error-busy-hashing")));
            }
            Kind::NewHash => waiting.hashes.push_back(job),
        }
        self.ready.notify_one();
        Ok(())
    }

    /// The next job, checks first (but a new hash after [`CHECKS_PER_HASH`] of them); `None`
    /// once the queue is closed.
    fn next(&self) -> Option<Job> {
        let mut waiting = self.lock();
        loop {
            let hash_turn = waiting.checks_in_a_row >= CHECKS_PER_HASH;
            let next = if hash_turn && !waiting.hashes.is_empty() {
                waiting.hashes.pop_front().map(|job| (job, false))
            } else {
                waiting
                    .checks
                    .pop_front()
                    .map(|job| (job, true))
                    .or_else(|| waiting.hashes.pop_front().map(|job| (job, false)))
            };
            if let Some((job, is_check)) = next {
                waiting.checks_in_a_row = if is_check {
                    waiting.checks_in_a_row + 1
                } else {
                    0
                };
                return Some(job);
            }
            if waiting.closed {
                return None;
            }
            waiting = self
                .ready
                .wait(waiting)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }
}

/// A job that sends what `work` gives to `reply`, unless nobody waits for it any more (the
/// request was dropped: its client went away), in which case `work` is not done at all.
fn answered<T: Send + 'static>(
    reply: tokio::sync::oneshot::Sender<T>,
    work: impl FnOnce() -> T + Send + 'static,
) -> Job {
    Box::new(move || {
        if !reply.is_closed() {
            let _ = reply.send(work());
        }
    })
}

/// Closes the queue when the last [`Hasher`] is dropped, so the threads end.
struct Closer(Arc<Queue>);

impl Drop for Closer {
    fn drop(&mut self) {
        self.0.lock().closed = true;
        self.0.ready.notify_all();
    }
}

/// Hashes and checks passwords on its own threads.
#[derive(Clone)]
pub struct Hasher {
    cost: u32,
    queue: Arc<Closer>,
    /// A hash to check against when the username is unknown, so that case takes as long as a
    /// wrong password (no user enumeration by timing).
    dummy: Arc<OnceLock<String>>,
}

/// Puts the calling thread in Linux's SCHED_IDLE class: it runs only on CPU time no other
/// thread wants, and a page thread that wakes up takes the core from it at once. Nice 10, the
/// first choice, still let a hash run on until its time slice ended, and pages slowed down
/// during a burst of logins (`docs/performance.md` has the figures). Logins do not stop under
/// load: pages leave gaps (waiting on the network and the database), and hashes run in them.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    {
        let param = libc::sched_param { sched_priority: 0 };
        // SAFETY: pthread_self names this thread; `param` outlives the call.
        let error =
            unsafe { libc::pthread_setschedparam(libc::pthread_self(), libc::SCHED_IDLE, &param) };
        if error != 0 {
            tracing::warn!(
                error = %std::io::Error::from_raw_os_error(error),
                "password hashing runs at normal priority: pages may slow down during logins"
            );
        }
    }
}

fn worker(queue: &Queue) {
    lower_priority();
    while let Some(job) = queue.next() {
        job();
    }
}

impl Hasher {
    pub fn new(cost: u32) -> Self {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        let queue = Arc::new(Queue::default());
        for i in 0..(cores / 2).max(1) {
            let queue = Arc::clone(&queue);
            let spawned = std::thread::Builder::new()
                .name(format!("bcrypt-{i}"))
                .spawn(move || worker(&queue));
            if let Err(e) = spawned {
                tracing::error!(error = %e, "could not start a password hashing thread");
            }
        }
        Self {
            cost,
            queue: Arc::new(Closer(queue)),
            dummy: Arc::new(OnceLock::new()),
        }
    }

    async fn blocking<T: Send + 'static>(
        &self,
        kind: Kind,
        work: impl FnOnce() -> Result<T, bcrypt::BcryptError> + Send + 'static,
    ) -> Result<T, AppError> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        self.queue.0.push(kind, answered(reply, work))?;
        let result = answer
            .await
            .map_err(|_| AppError::Internal(anyhow::anyhow!("a password hashing job was lost")))?;
        result.map_err(|e| AppError::Internal(anyhow::Error::new(e).context("bcrypt")))
    }

    pub async fn hash(&self, password: &str) -> Result<String, AppError> {
        let (input, cost) = (prehash(password), self.cost);
        self.blocking(Kind::NewHash, move || bcrypt::hash(input, cost))
            .await
    }

    /// Checks `password` against `stored`, or against a dummy hash when there is no user, taking
    /// the same time either way.
    pub async fn verify(&self, password: &str, stored: Option<String>) -> Result<bool, AppError> {
        let input = prehash(password);
        let found = stored.is_some();
        let stored = match stored {
            Some(hash) => hash,
            None => self.dummy_hash().await?,
        };
        let ok = self
            .blocking(Kind::Check, move || bcrypt::verify(input, &stored))
            .await?;
        Ok(found && ok)
    }

    async fn dummy_hash(&self) -> Result<String, AppError> {
        if let Some(hash) = self.dummy.get() {
            return Ok(hash.clone());
        }
        let (input, cost) = (prehash("not a real password"), self.cost);
        let hash = self
            .blocking(Kind::Check, move || bcrypt::hash(input, cost))
            .await?;
        Ok(self.dummy.get_or_init(|| hash).clone())
    }
}

/// Flask: `user is None or not user.check_password(password)` (chapter 5), for the login form
/// and `POST /api/tokens`: `found` (the user with the name typed, if any) when `password` is
/// theirs. An unknown name costs a bcrypt check too, so the answer and its time are the same
/// either way.
pub async fn authenticate(
    hasher: &Hasher,
    found: Option<User>,
    password: &str,
) -> Result<Option<User>, AppError> {
    // A remote account (`name@host`, `models::actor`) never logs in here, whatever its hash:
    // it is checked against the dummy hash, as an unknown name is.
    let found = found.filter(|u| !actor::is_remote_name(&u.username));
    let stored = found.as_ref().map(|u| u.password_hash.clone());
    let valid = hasher.verify(password, stored).await?;
    Ok(found.filter(|_| valid))
}

/// Django's validators: long enough, not all digits, not common, not the username or e-mail.
/// Returns the messages to show next to the password field.
pub fn check_rules(password: &str, username: &str, email: &str) -> Vec<Message> {
    let mut errors = Vec::new();
    let len = password.chars().count();
    if len < MIN_LEN {
        errors.push(Message::new("password-too-short").with("min", MIN_LEN as i64));
    }
    if len > MAX_LEN {
        errors.push(Message::new("password-too-long").with("max", MAX_LEN as i64));
        return errors;
    }
    if !password.is_empty() && password.chars().all(|c| c.is_ascii_digit()) {
        errors.push(Message::new("password-numeric"));
    }
    let lowered = password.to_lowercase();
    if COMMON_PASSWORDS.contains(&lowered.as_str()) {
        errors.push(Message::new("password-common"));
    }
    let local_part = email.split('@').next().unwrap_or_default();
    let too_similar = [username, local_part].iter().any(|attr| {
        let attr = attr.to_lowercase();
        attr.chars().count() >= 3 && (lowered.contains(&attr) || attr.contains(&lowered))
    });
    if too_similar {
        errors.push(Message::new("password-similar"));
    }
    errors
}

/// The most used passwords in public breach lists (lower case). Django ships 20,000; these are
/// the ones that top every list, which is what a classroom meets.
const COMMON_PASSWORDS: &[&str] = &[
    "password",
    "password1",
    "password12",
    "password123",
    "password1234",
    "passw0rd",
    "p@ssw0rd",
    "p@ssword",
    "12345678",
    "123456789",
    "1234567890",
    "12345678910",
    "87654321",
    "11111111",
    "00000000",
    "88888888",
    "qwertyui",
    "qwerty123",
    "qwerty12",
    "qwertyuiop",
    "1q2w3e4r",
    "1q2w3e4r5t",
    "1qaz2wsx",
    "zaq12wsx",
    "asdfghjk",
    "asdfghjkl",
    "zxcvbnm1",
    "iloveyou",
    "iloveyou1",
    "sunshine",
    "princess",
    "football",
    "baseball",
    "welcome1",
    "welcome123",
    "letmein1",
    "letmein123",
    "trustno1",
    "superman",
    "batman123",
    "starwars",
    "whatever",
    "computer",
    "internet",
    "michelle",
    "jennifer",
    "abcd1234",
    "abc12345",
    "abcdefgh",
    "aa123456",
    "a1b2c3d4",
    "changeme",
    "changeme1",
    "dragon12",
    "monkey12",
    "master12",
    "mustang1",
    "shadow12",
    "football1",
    "baseball1",
    "charlie1",
    "access14",
    "qazwsxedc",
    "q1w2e3r4",
    "q1w2e3r4t5",
    "admin123",
    "administrator",
    "secret123",
    "microblog",
    "flask123",
    "rust1234",
    "hello123",
    "helloworld",
    "password!",
    "test1234",
    "testtest",
    "loveyou1",
    "freedom1",
    "whatever1",
    "passport",
    "1234qwer",
    "qwer1234",
];

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};

    use super::*;

    fn noting(seen: &Arc<Mutex<Vec<&'static str>>>, what: &'static str) -> Job {
        let seen = Arc::clone(seen);
        Box::new(move || seen.lock().unwrap().push(what))
    }

    #[test]
    fn password_checks_go_before_new_hashes() {
        let queue = Queue::default();
        let seen = Arc::new(Mutex::new(Vec::new()));
        queue.push(Kind::NewHash, noting(&seen, "sign-up")).unwrap();
        queue.push(Kind::NewHash, noting(&seen, "sign-up")).unwrap();
        queue.push(Kind::Check, noting(&seen, "login")).unwrap();
        queue.lock().closed = true;

        while let Some(job) = queue.next() {
            job();
        }
        assert_eq!(*seen.lock().unwrap(), ["login", "sign-up", "sign-up"]);
    }

    #[test]
    fn under_a_flood_of_checks_new_hashes_still_get_a_turn() {
        let queue = Queue::default();
        let seen = Arc::new(Mutex::new(Vec::new()));
        queue.push(Kind::NewHash, noting(&seen, "sign-up")).unwrap();
        for _ in 0..10 {
            queue.push(Kind::Check, noting(&seen, "login")).unwrap();
        }
        queue.lock().closed = true;

        while let Some(job) = queue.next() {
            job();
        }
        let seen = seen.lock().unwrap();
        assert_eq!(seen[..5], ["login", "login", "login", "login", "sign-up"]);
    }

    #[test]
    fn new_hashes_past_the_bound_are_refused_at_once_and_checks_never_are() {
        let queue = Queue::default();
        for _ in 0..MAX_WAITING_HASHES {
            queue.push(Kind::NewHash, Box::new(|| ())).unwrap();
        }
        let refused = queue.push(Kind::NewHash, Box::new(|| ()));
        assert!(matches!(refused, Err(AppError::Busy(_))));
        assert!(queue.push(Kind::Check, Box::new(|| ())).is_ok());
    }

    #[test]
    fn the_work_of_a_request_that_was_dropped_is_not_done() {
        let done = Arc::new(AtomicBool::new(false));
        let (reply, answer) = tokio::sync::oneshot::channel::<()>();
        let job = {
            let done = Arc::clone(&done);
            answered(reply, move || done.store(true, Ordering::SeqCst))
        };
        drop(answer);
        job();
        assert!(!done.load(Ordering::SeqCst));
    }

    #[test]
    fn good_passwords_pass_the_rules() {
        assert!(check_rules("correct horse battery", "susan", "susan@example.com").is_empty());
    }

    #[test]
    fn short_numeric_common_and_username_like_passwords_fail() {
        assert!(!check_rules("abc", "susan", "s@example.com").is_empty());
        assert!(!check_rules("1234567890123", "susan", "s@example.com").is_empty());
        assert!(!check_rules("Password123", "susan", "s@example.com").is_empty());
        assert!(!check_rules("susan-rocks-2026", "susan", "s@example.com").is_empty());
        assert!(!check_rules(&"x".repeat(1001), "susan", "s@example.com").is_empty());
    }

    #[cfg(target_os = "linux")]
    #[actix_web::test]
    async fn hashing_threads_run_only_on_idle_cpu() {
        let hasher = Hasher::new(4);
        // SAFETY: sched_getscheduler(0) reads the calling thread's policy.
        let policy = hasher
            .blocking(Kind::Check, || Ok(unsafe { libc::sched_getscheduler(0) }))
            .await
            .unwrap();
        assert_eq!(policy, libc::SCHED_IDLE);
    }

    #[actix_web::test]
    async fn characters_past_byte_72_count() {
        let hasher = Hasher::new(4);
        let base = "a".repeat(100);
        let hash = hasher.hash(&format!("{base}1")).await.unwrap();
        assert!(
            hasher
                .verify(&format!("{base}1"), Some(hash.clone()))
                .await
                .unwrap()
        );
        assert!(
            !hasher
                .verify(&format!("{base}2"), Some(hash))
                .await
                .unwrap()
        );
    }

    #[actix_web::test]
    async fn an_unknown_user_never_verifies() {
        let hasher = Hasher::new(4);
        assert!(!hasher.verify("not a real password", None).await.unwrap());
    }
}
