//! The `microblog` command (Flask's `flask` command and `app/cli.py`): `microblog` alone serves
//! the app; the subcommands work on the database.

mod backup;
mod jobs;
mod mail;
mod seed;
mod transfer;
pub mod translate;
mod user;

use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Parser, Subcommand};

use crate::app::Application;
use crate::config::Config;
use crate::db::Db;
use crate::models::post::{self, Feed};
use crate::search;

#[derive(Parser)]
#[command(version, about = "The Flask Mega-Tutorial's microblog, in Rust")]
pub struct Cli {
    /// Folder for files the app makes itself, such as the generated secret key.
    #[arg(long, env = "INSTANCE_PATH", default_value = "instance")]
    instance_path: PathBuf,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the app on HOST:PORT (the default command).
    Serve,
    /// Fill the database with fake users, posts and follows (all with the same password).
    ///
    /// Seeded usernames are a first name, a dot, a last name and a number unique to the run and
    /// the user, such as `ana.garcia482913x0`; their addresses are the name `@example.com`. The
    /// command prints two of the names it made, to log in as.
    Seed {
        #[arg(long, default_value_t = 100)]
        users: usize,
        #[arg(long, default_value_t = 1_000)]
        posts: usize,
        /// Follow relationships in all.
        #[arg(long, default_value_t = 1_000)]
        follows: usize,
        /// The password of every seeded user.
        #[arg(long, default_value = "seeded-password")]
        password: String,
    },
    /// Database commands (Flask-Migrate's `flask db`).
    Db {
        #[command(subcommand)]
        command: DbCommand,
    },
    /// The outbox: the mails the app has sent, or logged when no MAIL_SERVER is set.
    Mail {
        #[command(subcommand)]
        command: MailCommand,
    },
    /// The job runner's queue (the tutorial's `rq info`).
    Jobs {
        #[command(subcommand)]
        command: JobsCommand,
    },
    /// Accounts, for an administrator.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// The search index (chapter 16).
    Search {
        #[command(subcommand)]
        command: SearchCommand,
    },
    /// The translation files, `locales/<lang>/main.ftl` (Flask's `flask translate`); run in the
    /// project folder.
    Translate {
        #[command(subcommand)]
        command: TranslateCommand,
    },
}

#[derive(Subcommand)]
enum JobsCommand {
    /// Jobs queued, running and failed, then the newest done ones.
    List {
        /// How many done jobs to show.
        #[arg(long, default_value_t = 20)]
        recent: i64,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Delete an account and everything that is its own (posts, messages, follows, logins,
    /// tokens, exports, mails to it), as the account's own "Delete your account" does.
    Delete { username: String },
    /// Federation: forget the user's key pair; a new one is made when another server next
    /// needs it, and servers holding the old one fetch the new one when a signature fails.
    RotateKey { username: String },
}

#[derive(Subcommand)]
enum SearchCommand {
    /// Make the search index again from every post (the app keeps it in step otherwise).
    Reindex,
}

#[derive(Subcommand)]
enum TranslateCommand {
    /// Start a language: locales/<lang>/main.ftl with every English message to translate.
    Init { lang: String },
    /// List the messages each language is missing or has unused; fails when any is missing.
    Check,
}

#[derive(Subcommand)]
enum MailCommand {
    /// The newest mails, one a line: number, when, how it went, to whom, subject.
    List {
        #[arg(long, default_value_t = 20)]
        limit: i64,
    },
    /// One mail, whole (its number is in `mail list`).
    Show { id: i32 },
}

#[derive(Subcommand)]
enum DbCommand {
    /// Apply every pending migration.
    Upgrade,
    /// A consistent copy of the SQLite database in FILE, taken while the app serves and
    /// writes, and checked before it says so; on PostgreSQL, the pg_dump command to use.
    Backup { file: PathBuf },
    /// Copy every row of this database (DATABASE_URL) into another, empty one.
    Transfer {
        /// The database to copy into, e.g. postgresql://user:pass@host/microblog.
        #[arg(long)]
        to: String,
    },
}

impl Cli {
    /// Reads the config (environment and `.env`) and runs the command.
    pub fn run(self) -> anyhow::Result<()> {
        // Work on the source tree, with no settings or database.
        if let Some(Command::Translate { command }) = &self.command {
            let root = std::env::current_dir()?;
            return match command {
                TranslateCommand::Init { lang } => {
                    let path = translate::init(&root, lang)?;
                    println!(
                        "wrote {}: translate it, add {lang} to LANGUAGES, and rebuild",
                        path.display()
                    );
                    Ok(())
                }
                TranslateCommand::Check => translate::run_check(&root),
            };
        }
        let config = Config::from_env(&self.instance_path)?;
        match self.command.unwrap_or(Command::Serve) {
            Command::Serve => serve(config),
            Command::Seed {
                users,
                posts,
                follows,
                password,
            } => {
                let amounts = seed::Amounts {
                    users,
                    posts,
                    follows,
                };
                seed::run(&config, amounts, &password)
            }
            Command::Db {
                command: DbCommand::Upgrade,
            } => upgrade(&config),
            Command::Db {
                command: DbCommand::Transfer { to },
            } => transfer::run(&config, &to),
            Command::Db {
                command: DbCommand::Backup { file },
            } => backup::run(&config, &file),
            Command::Mail {
                command: MailCommand::List { limit },
            } => mail::list(&config, limit),
            Command::Mail {
                command: MailCommand::Show { id },
            } => mail::show(&config, id),
            Command::User {
                command: UserCommand::Delete { username },
            } => user::delete(&config, &username),
            Command::User {
                command: UserCommand::RotateKey { username },
            } => user::rotate_key(&config, &username),
            Command::Jobs {
                command: JobsCommand::List { recent },
            } => jobs::list(&config, recent),
            Command::Search {
                command: SearchCommand::Reindex,
            } => reindex(&config),
            Command::Translate { .. } => unreachable!("handled above"),
        }
    }
}

/// Flask's `flask run`.
fn serve(config: Config) -> anyhow::Result<()> {
    actix_web::rt::System::new().block_on(async move {
        let app = Application::build(config.clone())?;
        tracing::info!(
            "serving on http://{}:{} (process {}, database {:?}, secret key from {})",
            config.host,
            app.port(),
            std::process::id(),
            config.database_url,
            config.secret_from,
        );
        if let Some(federation) = &config.federation {
            if federation.allow_private {
                tracing::warn!(
                    "federating as {} with FEDERATION_ALLOW_PRIVATE: plain http and private, \
                     loopback and link-local addresses are allowed (tests and classrooms only)",
                    federation.server_name
                );
            } else {
                tracing::info!("federating as {} (https only)", federation.server_name);
            }
        }
        app.run_until_stopped().await
    })
}

/// `microblog search reindex` (Flask's `Post.reindex()`), with a progress bar.
fn reindex(config: &Config) -> anyhow::Result<()> {
    let db = Db::connect(&config.database_url)?;
    let mut conn = db.get()?;
    let total = post::count(&mut conn, Feed::Everyone).context("counting posts")?;
    let bar = seed::progress_bar(usize::try_from(total).unwrap_or(0), "posts");
    search::reindex(&mut conn, |n| bar.inc(n)).context("reindexing")?;
    bar.finish();
    println!(
        "indexed {total} posts for search in {:?}",
        config.database_url
    );
    Ok(())
}

/// Flask-Migrate's `flask db upgrade`.
fn upgrade(config: &Config) -> anyhow::Result<()> {
    let applied = Db::open(&config.database_url)?.upgrade()?;
    if applied.is_empty() {
        println!("{:?} is up to date", config.database_url);
    } else {
        println!(
            "applied {} migration(s) to {:?}: {}",
            applied.len(),
            config.database_url,
            applied.join(", ")
        );
    }
    Ok(())
}
