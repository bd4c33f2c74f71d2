//! The `microblog` command (Flask's `flask` CLI): `microblog` serves the app; `microblog db
//! upgrade` applies migrations.

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use microblog::app::Application;
use microblog::config::Config;
use microblog::db::Db;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::FmtSpan;

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
}

fn init_tracing(to_stdout: bool) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    // One line per request when its span closes (method, route, status, time taken);
    // unexpected errors are logged with their causes where they happen (`AppError`).
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_span_events(FmtSpan::CLOSE);
    if to_stdout {
        builder.with_writer(std::io::stdout).init();
    } else {
        builder.with_writer(std::io::stderr).init();
    }
}

fn main() -> anyhow::Result<()> {
    // A missing .env is fine: every setting has a default.
    let _ = dotenvy::dotenv();
    let cli = Cli::parse();
    let log_to_stdout = std::env::var("LOG_TO_STDOUT").is_ok_and(|v| !v.trim().is_empty());
    init_tracing(log_to_stdout);
    let config = Config::from_env(&cli.instance_path)?;

    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => actix_web::rt::System::new().block_on(async move {
            let app = Application::build(config.clone())?;
            tracing::info!("microblog serving on http://{}:{}", config.host, app.port());
            app.run_until_stopped().await
        }),
        Command::Db {
            command: DbCommand::Upgrade,
        } => {
            // Connecting applies pending migrations.
            Db::connect(&config.database_url)?;
            println!("database is up to date");
            Ok(())
        }
    }
}
