//! microblog: the Flask Mega-Tutorial's app in Rust. `docs/` maps each chapter to these modules;
//! `docs/15-application-structure.md` says where new code goes and which module may name which.
//!
//! The modules are listed in four groups, a map of what each stands for: the assembly, Flask's
//! own app files, Flask's extensions re-made, and the port's own plumbing. The groups are not
//! layers: which module may name which is the five rules of `tests/layers.rs`
//! (`docs/15-application-structure.md` states them).

// Assembly: the command, the app factory, and what every handler shares.
pub mod app; // create_app and Application (Flask's app/__init__.py)
pub mod background; // what runs beside the requests: the job runner, search indexing, housekeeping
pub mod cli; // the `flask` command and app/cli.py: db, seed, mail, jobs, search, translate
pub mod state; // State, what every handler can use (current_app and its extensions)

// Flask's own app files, by the same names.
pub mod blueprints; // app/auth, app/main, app/errors, app/api
pub mod config; // config.py
pub mod federation; // beyond the tutorial: ActivityPub, WebFinger and HTTP Signatures
pub mod mail; // app/email.py and Flask-Mail, on an outbox table
pub mod models; // app/models.py: the tables and every query on them
pub mod search; // app/search.py, without Elasticsearch
pub mod tasks; // app/tasks.py: what each background job does
pub mod translate; // app/translate.py and langdetect

// Flask extensions, re-made.
pub mod csrf; // Flask-WTF's CSRF protection
pub mod db; // Flask-SQLAlchemy's engine and Flask-Migrate: the pool, both backends, migrations
pub mod flash; // flash() and get_flashed_messages()
pub mod form; // WTForms: a form read strictly, and FormView to show it again with errors
pub mod fragments; // Flask-Caching's {% cache %}: each post's rendered HTML, kept
pub mod i18n; // Flask-Babel: the page's language, _() and _l()
pub mod jobs; // RQ: the job runner, on a table of the app's database
pub mod live; // live notifications: the hub that wakes a user's open streams
pub mod login; // Flask-Login
pub mod moment; // Flask-Moment
pub mod pagination; // paginate() and Pagination
pub mod render; // render_template and redirect: Tera templates, Page
pub mod urls; // url_for: user URLs, ?next=, the site's address

// Plumbing.
pub mod activity; // before_request's last_seen, noted in memory
pub mod assets; // templates and static files inside the binary
pub mod domain; // parsed form values: a username, an e-mail address, a post
pub mod error; // AppError, what a page handler can fail with
pub mod head; // HEAD answered on every GET URL
pub mod limits; // how much the app accepts from one request
pub mod logging; // log files and stdout
pub mod password; // werkzeug's password hashing (bcrypt on threads of its own), the rules
pub mod schema; // Diesel's description of the tables
pub mod throttle; // counts of wrong passwords
pub mod tokens; // random tokens, stored hashed
pub mod user_agent; // "Chrome on Linux", for the sessions page
