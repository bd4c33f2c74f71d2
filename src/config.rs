//! Flask's `config.py`: every setting, read from the environment (and `.env`, loaded by `main`)
//! under the tutorial's names (every one is listed with its default in `.env.example`).

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use hkdf::Hkdf;
use rand::RngCore;
use sha2::Sha256;

/// Where the database lives, parsed from a SQLAlchemy-style `DATABASE_URL`.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// A SQLite file (`sqlite:///app.db` relative, `sqlite:////abs/path.db` absolute).
    Sqlite(PathBuf),
    /// A PostgreSQL connection URL, handed to libpq as it is.
    Postgres(String),
}

impl DatabaseUrl {
    /// Parses the forms the Flask tutorial documents.
    pub fn parse(url: &str) -> anyhow::Result<Self> {
        if let Some(path) = url.strip_prefix("sqlite:///") {
            if path.is_empty() || path == ":memory:" {
                bail!("DATABASE_URL must name a SQLite file, e.g. sqlite:///app.db");
            }
            // `sqlite:////abs` leaves "/abs": absolute. `sqlite:///rel` leaves "rel": relative.
            return Ok(Self::Sqlite(PathBuf::from(path)));
        }
        if url.starts_with("postgresql://") || url.starts_with("postgres://") {
            return postgres::check(url).map(Self::Postgres);
        }
        bail!(
            "DATABASE_URL must start with sqlite:///, postgresql:// or postgres:// (got {})",
            redact_url(url)
        )
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sqlite(path) => write!(f, "sqlite:///{}", path.display()),
            Self::Postgres(url) => write!(f, "{}", redact_url(url)),
        }
    }
}

/// What libpq will make of a PostgreSQL URL, checked before anything connects: a URL it cannot
/// read, an `sslmode` it does not know, or a root certificate that is not there is a mistake
/// in the settings, better told at once than after a connection attempt (or ten seconds of
/// them).
mod postgres {
    use std::ffi::{CStr, CString, c_char};
    use std::path::Path;

    use anyhow::{Context as _, bail};

    /// The `sslmode` values libpq knows (it is built with TLS: every one can be honoured).
    const SSL_MODES: &[&str] = &[
        "disable",
        "allow",
        "prefer",
        "require",
        "verify-ca",
        "verify-full",
    ];

    /// Where Linux distributions keep the bundle of the certificate authorities the system
    /// trusts (Debian and Ubuntu, Fedora and RHEL, openSUSE, Alpine).
    const SYSTEM_BUNDLES: &[&str] = &[
        "/etc/ssl/certs/ca-certificates.crt",
        "/etc/pki/tls/certs/ca-bundle.crt",
        "/etc/ssl/ca-bundle.pem",
        "/etc/ssl/cert.pem",
    ];

    /// The URL, checked; `sslrootcert=system` (the authorities the system trusts, as hosted
    /// databases advise) becomes the system's bundle file: the OpenSSL built into the binary
    /// does not know where this system keeps it.
    pub fn check(url: &str) -> anyhow::Result<String> {
        let options = parse(url)?;
        let setting = |keyword: &str, env: &str| {
            options
                .iter()
                .find(|(k, _)| k == keyword)
                .map(|(_, v)| v.clone())
                .or_else(|| std::env::var(env).ok().filter(|v| !v.is_empty()))
        };
        let mode = setting("sslmode", "PGSSLMODE").unwrap_or_else(|| "prefer".to_owned());
        if !SSL_MODES.contains(&mode.as_str()) {
            bail!(
                "DATABASE_URL (or PGSSLMODE): sslmode {mode:?} is not one PostgreSQL knows; use \
                 one of {}",
                SSL_MODES.join(", ")
            );
        }
        let Some(root) = setting("sslrootcert", "PGSSLROOTCERT") else {
            return Ok(url.to_owned());
        };
        if root == "system" {
            let bundle = SYSTEM_BUNDLES
                .iter()
                .find(|path| Path::new(path).is_file())
                .context(
                    "DATABASE_URL (or PGSSLROOTCERT): sslrootcert=system, but no bundle of \
                     trusted certificates was found on this system; name the file instead",
                )?;
            let named = format!("sslrootcert={bundle}");
            return Ok(if url.contains("sslrootcert=system") {
                url.replace("sslrootcert=system", &named)
            } else {
                // From PGSSLROOTCERT: a setting in the URL wins over it.
                let joint = if url.contains('?') { '&' } else { '?' };
                format!("{url}{joint}{named}")
            });
        }
        if mode.starts_with("verify-") && !Path::new(&root).is_file() {
            bail!(
                "DATABASE_URL (or PGSSLROOTCERT): the root certificate {root:?} that \
                 sslmode={mode} checks the server against is not there"
            );
        }
        Ok(url.to_owned())
    }

    /// libpq's own reading of `url` (`PQconninfoParse`): each keyword given, with its value.
    fn parse(url: &str) -> anyhow::Result<Vec<(String, String)>> {
        let text = CString::new(url).context("DATABASE_URL holds a NUL character")?;
        let mut error: *mut c_char = std::ptr::null_mut();
        // SAFETY: `text` is a NUL-terminated string that outlives the call; `error` receives
        // either null or a message libpq allocated, freed below with `PQfreemem`.
        let options = unsafe { pq_sys::PQconninfoParse(text.as_ptr(), &mut error) };
        if options.is_null() {
            let message = if error.is_null() {
                "libpq could not read it".to_owned()
            } else {
                // SAFETY: a NUL-terminated message from libpq, freed once, after it is copied.
                unsafe {
                    let message = CStr::from_ptr(error).to_string_lossy().trim().to_owned();
                    pq_sys::PQfreemem(error.cast());
                    message
                }
            };
            bail!("DATABASE_URL is not a PostgreSQL URL libpq can read: {message}");
        }
        let mut found = Vec::new();
        // SAFETY: `options` is an array libpq made, ended by an entry whose keyword is null;
        // strings are copied out before `PQconninfoFree` frees the whole array, once.
        unsafe {
            let mut option = options;
            while !(*option).keyword.is_null() {
                if !(*option).val.is_null() {
                    found.push((
                        CStr::from_ptr((*option).keyword)
                            .to_string_lossy()
                            .into_owned(),
                        CStr::from_ptr((*option).val).to_string_lossy().into_owned(),
                    ));
                }
                option = option.add(1);
            }
            pq_sys::PQconninfoFree(options);
        }
        Ok(found)
    }
}

/// Hides the password of `scheme://user:password@host/...`.
fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    match rest.split_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split(':').next().unwrap_or_default();
            format!("{scheme}://{user}:***@{host}")
        }
        None => url.to_owned(),
    }
}

/// Flask-Login's `session_protection`: what to do when a login is used from another client.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionProtection {
    /// No check.
    Off,
    /// The login goes on but is no longer "fresh": pages that need a fresh login ask for the
    /// password again (Flask-Login's default).
    Basic,
    /// The login is dropped in that client.
    Strong,
}

/// SMTP settings; present only when `MAIL_SERVER` is set.
#[derive(Clone)]
pub struct MailConfig {
    pub server: String,
    pub port: u16,
    /// STARTTLS after connecting (`MAIL_USE_TLS`, usually port 587).
    pub use_tls: bool,
    /// TLS from the first byte (`MAIL_USE_SSL`, or port 465).
    pub use_ssl: bool,
    pub username: Option<String>,
    pub password: Option<String>,
}

impl fmt::Debug for MailConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MailConfig")
            .field("server", &self.server)
            .field("port", &self.port)
            .field("use_tls", &self.use_tls)
            .field("use_ssl", &self.use_ssl)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .finish()
    }
}

/// Microsoft Translator's public endpoint, the default of `MS_TRANSLATOR_URL` (which names
/// another, e.g. a regional one).
pub const MICROSOFT_URL: &str = "https://api.cognitive.microsofttranslator.com";

/// The translation service of chapter 14, when one is configured.
#[derive(Clone)]
pub enum TranslatorConfig {
    /// Microsoft Translator (`MS_TRANSLATOR_KEY`, `MS_TRANSLATOR_REGION`, `MS_TRANSLATOR_URL`).
    Microsoft {
        key: String,
        region: Option<String>,
        url: String,
    },
    /// LibreTranslate (`LIBRETRANSLATE_URL`, `LIBRETRANSLATE_KEY`).
    Libre { url: String, key: Option<String> },
}

impl fmt::Debug for TranslatorConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Microsoft { region, url, .. } => f
                .debug_struct("Microsoft")
                .field("key", &"***")
                .field("region", region)
                .field("url", url)
                .finish(),
            Self::Libre { url, key } => f
                .debug_struct("Libre")
                .field("url", url)
                .field("key", &key.as_ref().map(|_| "***"))
                .finish(),
        }
    }
}

/// Where the secret key came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SecretFrom {
    /// The `SECRET_KEY` setting.
    Setting,
    /// A file the app generated (and keeps) in its instance folder.
    File(PathBuf),
}

impl fmt::Display for SecretFrom {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Setting => f.write_str("SECRET_KEY"),
            Self::File(path) => write!(f, "{}", path.display()),
        }
    }
}

/// The application's settings (Flask's `Config` class).
#[derive(Clone)]
pub struct Config {
    /// The keys derived from `SECRET_KEY`, one per purpose.
    pub keys: Keys,
    pub secret_from: SecretFrom,
    pub database_url: DatabaseUrl,
    pub mail: Option<MailConfig>,
    pub mail_default_sender: Option<String>,
    pub admins: Vec<String>,
    /// How long a password reset link works, in seconds (Django's `PASSWORD_RESET_TIMEOUT`).
    pub password_reset_timeout: i64,
    pub posts_per_page: i64,
    pub languages: Vec<String>,
    /// Microsoft Translator when `MS_TRANSLATOR_KEY` is set, else LibreTranslate when
    /// `LIBRETRANSLATE_URL` is, else none.
    pub translator: Option<TranslatorConfig>,
    /// The most characters one user may have translated by the service in a day
    /// (`TRANSLATE_USER_DAILY_CHARS`); translations made before are free.
    pub translate_user_daily_chars: i64,
    /// The most characters the whole site may have translated in a day
    /// (`TRANSLATE_SITE_DAILY_CHARS`): the bill a site can run up, whatever its accounts.
    pub translate_site_daily_chars: i64,
    pub host: String,
    pub port: u16,
    pub bcrypt_cost: u32,
    pub session_cookie_secure: bool,
    pub remember_cookie_days: i64,
    pub session_protection: SessionProtection,
    /// The site's public `host[:port]`; links in mails use it (Flask's `SERVER_NAME`).
    pub server_name: Option<String>,
    /// Other host names the site answers to (Django's `ALLOWED_HOSTS`): without `SERVER_NAME`,
    /// a link in a mail uses the request's `Host` only when it is `HOST:PORT`, one of these, or
    /// `localhost` for a loopback `HOST`.
    pub allowed_hosts: Vec<String>,
    /// `http` or `https` for links in mails (Flask's `PREFERRED_URL_SCHEME`); `https` by
    /// default when `SESSION_COOKIE_SECURE` is on.
    pub preferred_url_scheme: String,
    /// Reverse proxies whose `X-Forwarded-For` is believed (gunicorn's setting of that name).
    pub forwarded_allow_ips: Vec<std::net::IpAddr>,
    /// ActivityPub with other servers (`FEDERATION=1`); `None` when off.
    pub federation: Option<FederationConfig>,
}

/// How the site federates (`docs/24-federation.md`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FederationConfig {
    /// The instance's `host[:port]` (`SERVER_NAME`): the part after `@` in its handles.
    pub server_name: String,
    /// `https`, or with `FEDERATION_ALLOW_PRIVATE` the site's `PREFERRED_URL_SCHEME`: the
    /// scheme of the instance's own actor URLs.
    pub scheme: String,
    /// `FEDERATION_ALLOW_PRIVATE=1`: remote servers may be plain http and on private, loopback
    /// or link-local addresses (tests, two classroom instances on one network).
    pub allow_private: bool,
}

impl FederationConfig {
    /// `scheme://server_name`, the start of every URL of this instance that other servers see.
    pub fn base(&self) -> String {
        format!("{}://{}", self.scheme, self.server_name)
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("keys", &"***")
            .field("secret_from", &self.secret_from)
            .field("database_url", &self.database_url)
            .field("mail", &self.mail)
            .field("mail_default_sender", &self.mail_default_sender)
            .field("admins", &self.admins)
            .field("password_reset_timeout", &self.password_reset_timeout)
            .field("posts_per_page", &self.posts_per_page)
            .field("languages", &self.languages)
            .field("translator", &self.translator)
            .field(
                "translate_user_daily_chars",
                &self.translate_user_daily_chars,
            )
            .field(
                "translate_site_daily_chars",
                &self.translate_site_daily_chars,
            )
            .field("host", &self.host)
            .field("port", &self.port)
            .field("bcrypt_cost", &self.bcrypt_cost)
            .field("session_cookie_secure", &self.session_cookie_secure)
            .field("remember_cookie_days", &self.remember_cookie_days)
            .field("session_protection", &self.session_protection)
            .field("server_name", &self.server_name)
            .field("allowed_hosts", &self.allowed_hosts)
            .field("preferred_url_scheme", &self.preferred_url_scheme)
            .field("forwarded_allow_ips", &self.forwarded_allow_ips)
            .field("federation", &self.federation)
            .finish()
    }
}

/// `url` when it is an http(s) URL, for the setting `name`.
fn web_url(name: &str, url: String) -> anyhow::Result<String> {
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        bail!("{name} must be an http:// or https:// URL (got {url:?})");
    }
    Ok(url)
}

/// The shortest `SECRET_KEY` accepted: 32 characters (a hex string of 16 random bytes, 128 bits).
pub const MIN_SECRET_KEY_LEN: usize = 32;

/// The keys of the site, each derived from `SECRET_KEY` for one purpose alone (HKDF-SHA256 with
/// the purpose as its `info`): a cookie made with one key can never be read with another, and no
/// key tells anything about the secret or the other keys.
#[derive(Clone, PartialEq, Eq)]
pub struct Keys {
    /// Flask's session cookie (and the login it holds).
    pub session: [u8; 64],
    /// The remember-me cookie.
    pub remember: [u8; 64],
    /// The `device` cookie that marks a browser as known to an account (the login throttle).
    pub device: [u8; 64],
}

impl Keys {
    fn derive(secret: &[u8]) -> Self {
        let hkdf = Hkdf::<Sha256>::new(None, secret);
        let key = |purpose: &str| {
            let mut key = [0u8; 64];
            hkdf.expand(purpose.as_bytes(), &mut key)
                .expect("64 bytes is far below HKDF-SHA256's limit of 8,160");
            key
        };
        Self {
            session: key("microblog session cookie"),
            remember: key("microblog remember cookie"),
            device: key("microblog device cookie"),
        }
    }
}

/// The secret key the tutorial prints in `config.py`: public, so never accepted.
const TUTORIAL_DEFAULT_KEY: &str = "you-will-never-guess";
/// Remember me lasts at most this many days, whatever `REMEMBER_COOKIE_DURATION` says: a
/// stolen remember-me cookie must not work for months.
pub const MAX_REMEMBER_DAYS: i64 = 30;

impl Config {
    /// Reads the process environment. `instance_dir` keeps a generated secret key when
    /// `SECRET_KEY` is unset, as Flask keeps instance files in `instance/`.
    pub fn from_env(instance_dir: &Path) -> anyhow::Result<Self> {
        let vars: HashMap<String, String> = std::env::vars().collect();
        Self::from_vars(&vars, instance_dir)
    }

    /// Reads settings from a map of variables (the environment, or a test's own map). Every
    /// setting is checked before anything is written: a bad one stops the start with a message
    /// naming it, before a secret key is generated or a database touched.
    pub fn from_vars(vars: &HashMap<String, String>, instance_dir: &Path) -> anyhow::Result<Self> {
        let get = |name: &str| {
            vars.get(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let flag = |name: &str| get(name).is_some_and(|v| is_on(&v));
        let number = |name: &str, default: i64| -> anyhow::Result<i64> {
            match get(name) {
                Some(v) => v
                    .parse()
                    .with_context(|| format!("{name} must be a whole number (got {v:?})")),
                None => Ok(default),
            }
        };

        let database_url = DatabaseUrl::parse(
            &get("DATABASE_URL").unwrap_or_else(|| "sqlite:///app.db".to_owned()),
        )?;

        let mail = match get("MAIL_SERVER") {
            Some(server) => Some(MailConfig {
                server,
                port: u16::try_from(number("MAIL_PORT", 25)?).context("MAIL_PORT is not a port")?,
                use_tls: flag("MAIL_USE_TLS"),
                use_ssl: flag("MAIL_USE_SSL"),
                username: get("MAIL_USERNAME"),
                password: get("MAIL_PASSWORD"),
            }),
            None => None,
        };

        let posts_per_page = number("POSTS_PER_PAGE", 25)?;
        if !(1..=1000).contains(&posts_per_page) {
            bail!("POSTS_PER_PAGE must be between 1 and 1000");
        }
        let bcrypt_cost = number("BCRYPT_COST", 12)?;
        if !(4..=31).contains(&bcrypt_cost) {
            bail!("BCRYPT_COST must be between 4 and 31");
        }
        let remember_cookie_days = number("REMEMBER_COOKIE_DURATION", MAX_REMEMBER_DAYS)?;
        if !(1..=MAX_REMEMBER_DAYS).contains(&remember_cookie_days) {
            bail!("REMEMBER_COOKIE_DURATION is in days, from 1 to {MAX_REMEMBER_DAYS}");
        }
        let password_reset_timeout = number("PASSWORD_RESET_TIMEOUT", 600)?;
        if !(1..=7 * 24 * 3600).contains(&password_reset_timeout) {
            bail!("PASSWORD_RESET_TIMEOUT is in seconds, from 1 to 604800 (a week)");
        }
        let session_cookie_secure = flag("SESSION_COOKIE_SECURE");
        let preferred_url_scheme = get("PREFERRED_URL_SCHEME")
            .map(|s| s.to_ascii_lowercase())
            .unwrap_or_else(|| {
                if session_cookie_secure {
                    "https"
                } else {
                    "http"
                }
                .to_owned()
            });
        if preferred_url_scheme != "http" && preferred_url_scheme != "https" {
            bail!("PREFERRED_URL_SCHEME must be http or https (got {preferred_url_scheme:?})");
        }
        if let Some(name) = get("SERVER_NAME")
            && (name.contains("://")
                || name.contains('/')
                || name.chars().any(|c| c.is_whitespace() || c == '@'))
        {
            bail!(
                "SERVER_NAME is the site's host[:port] only, e.g. microblog.example.com (got {name:?})"
            );
        }
        let federation = if flag("FEDERATION") {
            let server_name = get("SERVER_NAME").context(
                "FEDERATION=1 needs SERVER_NAME: the host other servers know this site by, \
                 e.g. microblog.example.com",
            )?;
            let allow_private = flag("FEDERATION_ALLOW_PRIVATE");
            Some(FederationConfig {
                server_name: server_name.to_ascii_lowercase(),
                scheme: if allow_private {
                    preferred_url_scheme.clone()
                } else {
                    "https".to_owned()
                },
                allow_private,
            })
        } else {
            None
        };
        let translate_user_daily_chars = number("TRANSLATE_USER_DAILY_CHARS", 20_000)?;
        let translate_site_daily_chars = number("TRANSLATE_SITE_DAILY_CHARS", 1_000_000)?;
        if translate_user_daily_chars < 1 || translate_site_daily_chars < 1 {
            bail!("TRANSLATE_USER_DAILY_CHARS and TRANSLATE_SITE_DAILY_CHARS must be 1 or more");
        }
        let translator = match (get("MS_TRANSLATOR_KEY"), get("LIBRETRANSLATE_URL")) {
            (Some(key), _) => Some(TranslatorConfig::Microsoft {
                key,
                region: get("MS_TRANSLATOR_REGION"),
                url: web_url(
                    "MS_TRANSLATOR_URL",
                    get("MS_TRANSLATOR_URL").unwrap_or_else(|| MICROSOFT_URL.to_owned()),
                )?,
            }),
            (None, Some(url)) => Some(TranslatorConfig::Libre {
                url: web_url("LIBRETRANSLATE_URL", url)?,
                key: get("LIBRETRANSLATE_KEY"),
            }),
            (None, None) => None,
        };
        let session_protection = match get("SESSION_PROTECTION")
            .unwrap_or_else(|| "basic".to_owned())
            .to_ascii_lowercase()
            .as_str()
        {
            "basic" => SessionProtection::Basic,
            "strong" => SessionProtection::Strong,
            "off" | "none" => SessionProtection::Off,
            other => bail!("SESSION_PROTECTION must be basic, strong or off (got {other:?})"),
        };

        let languages = match list(get("LANGUAGES")) {
            langs if langs.is_empty() => vec!["en".to_owned(), "es".to_owned()],
            langs => langs,
        };
        crate::i18n::Languages::parse(&languages)?;
        let forwarded_allow_ips = list(get("FORWARDED_ALLOW_IPS"))
            .iter()
            .map(|ip| {
                ip.parse()
                    .with_context(|| format!("FORWARDED_ALLOW_IPS: {ip:?} is not an IP address"))
            })
            .collect::<anyhow::Result<_>>()?;
        let port = u16::try_from(number("PORT", 5000)?).context("PORT is not a port")?;

        // Last, once every other setting is known to be good: the only step that may write a
        // file (a new secret key).
        let (secret, secret_from) = match get("SECRET_KEY") {
            Some(key) => {
                if key == TUTORIAL_DEFAULT_KEY || key.chars().count() < MIN_SECRET_KEY_LEN {
                    bail!(
                        "SECRET_KEY is guessable: use at least {MIN_SECRET_KEY_LEN} random \
                         characters (`openssl rand -hex 32` makes 64), or unset it to have one \
                         generated in {}",
                        instance_dir.display()
                    );
                }
                (key, SecretFrom::Setting)
            }
            None => (
                instance_secret(instance_dir)?,
                SecretFrom::File(instance_dir.join("secret_key")),
            ),
        };
        let keys = Keys::derive(secret.as_bytes());
        Ok(Self {
            keys,
            secret_from,
            database_url,
            mail,
            mail_default_sender: get("MAIL_DEFAULT_SENDER"),
            admins: list(get("ADMINS")),
            password_reset_timeout,
            posts_per_page,
            languages,
            translator,
            translate_user_daily_chars,
            translate_site_daily_chars,
            host: get("HOST").unwrap_or_else(|| "127.0.0.1".to_owned()),
            port,
            bcrypt_cost: bcrypt_cost as u32,
            session_cookie_secure,
            remember_cookie_days,
            session_protection,
            server_name: get("SERVER_NAME"),
            allowed_hosts: list(get("ALLOWED_HOSTS"))
                .into_iter()
                .map(|h| h.to_ascii_lowercase())
                .collect(),
            preferred_url_scheme,
            forwarded_allow_ips,
            federation,
        })
    }
}

/// Whether an on/off setting (`MAIL_USE_TLS`, `LOG_TO_STDOUT`, ...) is on: 1, true, yes or on.
pub fn is_on(value: &str) -> bool {
    matches!(
        value.trim().to_ascii_lowercase().as_str(),
        "1" | "true" | "yes" | "on"
    )
}

/// Splits a comma-separated setting (`ADMINS`, `LANGUAGES`).
fn list(value: Option<String>) -> Vec<String> {
    value
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Reads `instance/secret_key`, creating it with 64 random bytes on first start, so that
/// `cargo run` needs no setup and sessions survive a restart.
fn instance_secret(instance_dir: &Path) -> anyhow::Result<String> {
    let path = instance_dir.join("secret_key");
    match std::fs::read_to_string(&path) {
        Ok(key) if key.trim().len() >= MIN_SECRET_KEY_LEN => return Ok(key.trim().to_owned()),
        Ok(_) => bail!(
            "{} is too short; delete it to have a new one made",
            path.display()
        ),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    }
    let mut bytes = [0u8; 64];
    rand::rng().fill_bytes(&mut bytes);
    let key = hex::encode(bytes);
    std::fs::create_dir_all(instance_dir)
        .with_context(|| format!("creating {}", instance_dir.display()))?;
    write_private(&path, &key).with_context(|| format!("writing {}", path.display()))?;
    tracing::info!("generated a new secret key in {}", path.display());
    Ok(key)
}

#[cfg(unix)]
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(contents.as_bytes())
}

#[cfg(not(unix))]
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    std::fs::write(path, contents)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn sqlalchemy_style_urls_parse_to_paths_and_postgres_urls() {
        assert_eq!(
            DatabaseUrl::parse("sqlite:///app.db").unwrap(),
            DatabaseUrl::Sqlite(PathBuf::from("app.db"))
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite:////tmp/x.db").unwrap(),
            DatabaseUrl::Sqlite(PathBuf::from("/tmp/x.db"))
        );
        assert!(matches!(
            DatabaseUrl::parse("postgres://u:p@localhost/db").unwrap(),
            DatabaseUrl::Postgres(_)
        ));
        assert!(DatabaseUrl::parse("mysql://x").is_err());
    }

    #[test]
    fn debug_output_never_shows_secrets() {
        let dir = tempfile::tempdir().unwrap();
        let config = Config::from_vars(
            &vars(&[
                ("SECRET_KEY", "a-long-enough-secret-key-value-0123"),
                ("DATABASE_URL", "postgresql://me:hunter2@db/app"),
                ("MAIL_SERVER", "smtp.example.com"),
                ("MAIL_PASSWORD", "mailpass"),
            ]),
            dir.path(),
        )
        .unwrap();
        let shown = format!("{config:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(!shown.contains("mailpass"), "{shown}");
        assert!(!shown.contains("a-long-enough"), "{shown}");
    }

    #[test]
    fn the_tutorial_default_key_and_short_keys_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        for key in [
            "you-will-never-guess",
            "short",
            "31-characters-are-not-enough-..",
        ] {
            let err = Config::from_vars(&vars(&[("SECRET_KEY", key)]), dir.path()).unwrap_err();
            assert!(err.to_string().contains("guessable"), "{err}");
        }
    }

    #[test]
    fn each_purpose_has_its_own_key_and_each_secret_its_own_keys() {
        let one = Keys::derive(b"a-long-enough-secret-key-value-0123");
        let other = Keys::derive(b"a-long-enough-secret-key-value-0124");
        assert!(one.session != one.remember && one.remember != one.device);
        assert!(one.session != one.device);
        assert!(one.session != other.session && one.device != other.device);
    }

    #[test]
    fn a_generated_key_is_kept_across_starts() {
        let dir = tempfile::tempdir().unwrap();
        let first = Config::from_vars(&vars(&[]), dir.path()).unwrap();
        let second = Config::from_vars(&vars(&[]), dir.path()).unwrap();
        assert!(first.keys == second.keys);
        assert!(dir.path().join("secret_key").exists());
    }

    #[test]
    fn a_bad_setting_stops_the_start_before_a_key_is_written() {
        for (name, value, said) in [
            (
                "LANGUAGES",
                "en,xx",
                "LANGUAGES: there are no translations for \"xx\"",
            ),
            ("LANGUAGES", "en,not a tag", "is not a language tag"),
            (
                "DATABASE_URL",
                "mysql://db/app",
                "DATABASE_URL must start with",
            ),
            (
                "DATABASE_URL",
                "postgresql://u@db/app?sslmode=bogus",
                "sslmode \"bogus\" is not one PostgreSQL knows",
            ),
            (
                "DATABASE_URL",
                "postgresql://u@db/app?nonsense=1",
                "invalid URI query parameter",
            ),
            (
                "DATABASE_URL",
                "postgresql://u@db/app?sslmode=verify-full&sslrootcert=/no/such/root.crt",
                "the root certificate \"/no/such/root.crt\"",
            ),
            ("PORT", "70000", "PORT is not a port"),
        ] {
            let dir = tempfile::tempdir().unwrap();
            let err = Config::from_vars(&vars(&[(name, value)]), dir.path()).unwrap_err();
            assert!(format!("{err:#}").contains(said), "{name}={value}: {err:#}");
            assert!(
                !dir.path().join("secret_key").exists(),
                "{name}={value}: a key was written"
            );
        }
    }

    #[test]
    fn postgres_urls_libpq_reads_are_kept_as_they_are() {
        for url in [
            "postgresql://u:p@db.example.com:5432/app?sslmode=require",
            "postgres://u@db/app?sslmode=verify-ca&sslrootcert=/etc/hostname",
            "postgresql:///app?host=/run/postgresql",
        ] {
            assert_eq!(
                DatabaseUrl::parse(url).unwrap(),
                DatabaseUrl::Postgres(url.to_owned()),
                "{url}"
            );
        }
    }

    #[test]
    fn remember_duration_is_capped_at_thirty_days() {
        let dir = tempfile::tempdir().unwrap();
        assert!(
            Config::from_vars(&vars(&[("REMEMBER_COOKIE_DURATION", "31")]), dir.path()).is_err()
        );
        let ok =
            Config::from_vars(&vars(&[("REMEMBER_COOKIE_DURATION", "7")]), dir.path()).unwrap();
        assert_eq!(ok.remember_cookie_days, 7);
    }
}
