//! The `microblog` binary (Flask's `microblog.py`): loads `.env`, starts logging, and runs the
//! command (`src/cli/`).

use clap::Parser;
use microblog::cli::Cli;

fn main() -> anyhow::Result<()> {
    // A missing .env is fine: every setting has a default.
    let _ = dotenvy::dotenv();
    let cli = Cli::parse();
    // Read before the rest of the config, so that reading the config can already log.
    let log_to_stdout = std::env::var("LOG_TO_STDOUT").is_ok_and(|v| microblog::config::is_on(&v));
    let _log_guard = microblog::logging::init(log_to_stdout)?;
    cli.run()
}
