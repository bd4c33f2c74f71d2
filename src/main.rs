//! The `microblog` command (Flask's `flask` CLI): `microblog` serves the app; `microblog db
//! upgrade` applies migrations.

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use microblog::app::Application;
use microblog::config::Config;
use microblog::db::Db;

#[derive(Parser)]
#[command(version, about = "The Flask Mega-Tutorial's microblog, in Rust")]
struct Cli {
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
}

#[derive(Subcommand)]
enum DbCommand {
    /// Apply every pending migration.
    Upgrade,
    /// Copy every row of this database (DATABASE_URL) into another, empty one.
    Transfer {
        /// The database to copy into, e.g. postgresql://user:pass@host/microblog.
        #[arg(long)]
        to: String,
    },
}

fn main() -> anyhow::Result<()> {
    // A missing .env is fine: every setting has a default.
    let _ = dotenvy::dotenv();
    let cli = Cli::parse();
    // Read before the rest of the config, so that reading the config can already log.
    let log_to_stdout = std::env::var("LOG_TO_STDOUT").is_ok_and(|v| microblog::config::is_on(&v));
    let _log_guard = microblog::logging::init(log_to_stdout)?;
    let config = Config::from_env(&cli.instance_path)?;

    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => actix_web::rt::System::new().block_on(async move {
            let app = Application::build(config.clone())?;
            tracing::info!(
                "serving on http://{}:{} (database {:?}, secret key from {})",
                config.host,
                app.port(),
                config.database_url,
                config.secret_from,
            );
            app.run_until_stopped().await
        }),
        Command::Seed {
            users,
            posts,
            follows,
            password,
        } => {
            let db = Db::connect(&config.database_url)?;
            let hash = microblog::password::hash_blocking(&password, config.bcrypt_cost)?;
            let amounts = microblog::seed::Amounts {
                users,
                posts,
                follows,
            };
            let started = std::time::Instant::now();
            microblog::seed::seed(&db, amounts, &hash)?;
            println!(
                "seeded {users} users, {posts} posts and up to {follows} follows in {:.1} s; \
                 every seeded user's password is {password:?}",
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
        Command::Db {
            command: DbCommand::Upgrade,
        } => {
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
        Command::Db {
            command: DbCommand::Transfer { to },
        } => {
            let target_url = microblog::config::DatabaseUrl::parse(&to)?;
            anyhow::ensure!(
                target_url != config.database_url,
                "--to names the database being copied"
            );
            let source = Db::connect(&config.database_url)?;
            let target = Db::connect(&target_url)?;
            let copied = microblog::transfer::transfer(&source, &target)?;
            println!(
                "copied {} users, {} posts, {} follows and {} logins into {target_url:?}",
                copied.users, copied.posts, copied.follows, copied.login_sessions
            );
            Ok(())
        }
    }
}
