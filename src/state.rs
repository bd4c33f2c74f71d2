//! What every handler can use (Flask's `current_app` and its extensions): one value, taken as
//! `state: web::Data<State>`. A new service (a mailer, a job queue) is a field here, built in
//! [`State::new`]; handlers that need it find it on the `state` they already have.

use actix_web::web;

use crate::activity::ActivityTracker;
use crate::config::{Config, DatabaseUrl};
use crate::db::Db;
use crate::federation::Federation;
use crate::fragments::Fragments;
use crate::i18n::Languages;
use crate::jobs::Jobs;
use crate::live::Live;
use crate::login::LoginManager;
use crate::mail::Mailer;
use crate::models::user;
use crate::pagination::Totals;
use crate::password::Hasher;
use crate::render::Templates;
use crate::search;
use crate::throttle::LoginThrottle;
use crate::translate::Translator;

pub struct State {
    pub config: Config,
    pub db: Db,
    /// bcrypt on threads of its own.
    pub hasher: Hasher,
    /// Counts of wrong passwords.
    pub throttle: LoginThrottle,
    /// Each post's rendered HTML, kept while its row is unchanged.
    pub fragments: Fragments,
    /// Noted visits, written by the background loop.
    pub activity: ActivityTracker,
    /// The queue of background jobs, and this instance's worker.
    pub jobs: Jobs,
    /// Mail through the outbox.
    pub mailer: Mailer,
    /// The translation service of the Translate links.
    pub translator: Translator,
    /// The live notification streams of this instance.
    pub live: Live,
    /// ActivityPub with other servers, when `FEDERATION=1`.
    pub federation: Option<Federation>,
    /// The totals of the API's lists, kept a few seconds.
    pub totals: Totals,
    /// The ranked windows of recent searches, kept a few seconds.
    pub search_windows: search::Windows,
    /// Also in the app's data on its own: every page finds its language with it.
    pub languages: web::Data<Languages>,
    /// Also in the app's data on its own: the login extractors find it there.
    pub login: web::Data<LoginManager>,
    /// Also in the app's data on its own: `Page` renders with it.
    pub templates: web::Data<Templates>,
}

impl State {
    /// Connects to the database (applying migrations), loads the templates, and checks the mail
    /// settings and the languages.
    pub fn new(config: Config) -> anyhow::Result<Self> {
        let db = Db::connect(&config.database_url)?;
        // SQL cannot make the keys that keep look-alike usernames apart: the users that have
        // none (from before them, `seed`, `db transfer`) get theirs here.
        let keyed = user::add_missing_username_keys(&mut *db.get()?)?;
        if keyed > 0 {
            tracing::info!("wrote the username keys of {keyed} users");
        }
        let templates = web::Data::new(Templates::load()?);
        let activity = ActivityTracker::default();
        let live = Live::default();
        if let DatabaseUrl::Postgres(url) = &config.database_url {
            live.listen(url.clone());
        }
        let jobs = Jobs::new(db.clone(), live.clone());
        let languages = Languages::parse(&config.languages)?;
        let federation = config
            .federation
            .clone()
            .map(|f| Federation::new(f, db.clone(), jobs.clone(), languages.codes()));
        Ok(Self {
            jobs,
            federation,
            live,
            totals: Totals::default(),
            search_windows: search::Windows::default(),
            fragments: Fragments::new(templates.clone()),
            login: web::Data::new(LoginManager::new(&config, db.clone(), activity.clone())),
            hasher: Hasher::new(config.bcrypt_cost),
            throttle: LoginThrottle::new(&config, &db),
            activity,
            mailer: Mailer::new(&config)?,
            translator: Translator::new(config.translator.clone()),
            languages: web::Data::new(languages),
            templates,
            db,
            config,
        })
    }
}
