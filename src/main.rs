//! The `microblog` binary (Flask's `microblog.py`): loads `.env`, starts logging, and runs the
//! command (`src/cli/`).

use std::process::ExitCode;

use clap::Parser;
use microblog::cli::Cli;

fn main() -> ExitCode {
    // A missing .env is fine: every setting has a default.
    let _ = dotenvy::dotenv();
    let cli = Cli::parse();
    // Read before the rest of the config, so that reading the config can already log.
    let log_to_stdout = std::env::var("LOG_TO_STDOUT").is_ok_and(|v| microblog::config::is_on(&v));
    let result = microblog::logging::init(log_to_stdout).and_then(|_log_guard| cli.run());
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // What went wrong and why, one cause a line, for the person at the terminal: no
            // backtrace of our own code, even when RUST_BACKTRACE is set.
            eprintln!("Error: {e}");
            for cause in e.chain().skip(1) {
                eprintln!("  because: {}", cause.to_string().trim_end());
            }
            ExitCode::FAILURE
        }
    }
}
