//! `microblog jobs list` (the tutorial's `rq info`): the job runner's queue at a glance. Jobs
//! waiting or running first, then those that failed for good, then the most recent done.

use std::io::Write;

use crate::config::Config;
use crate::db::Db;
use crate::models::job;

pub fn list(config: &Config, recent: i64) -> anyhow::Result<()> {
    let db = Db::connect(&config.database_url)?;
    let rows = job::overview(&mut *db.get()?, recent.max(1))?;
    let mut out = std::io::stdout().lock();
    if rows.is_empty() {
        writeln!(out, "no jobs")?;
    }
    let time = |t: chrono::NaiveDateTime| t.format("%Y-%m-%d %H:%M:%S").to_string();
    for row in rows {
        let when = match row.state.as_str() {
            job::RUNNING => format!(
                "by {} until {}",
                row.locked_by.as_deref().unwrap_or("?"),
                row.locked_until.map(time).unwrap_or_default()
            ),
            job::QUEUED => format!("runs at {}", time(row.run_at)),
            _ => row
                .finished_at
                .map(|t| format!("ended {}", time(t)))
                .unwrap_or_default(),
        };
        let error = row
            .last_error
            .as_deref()
            .and_then(|e| e.lines().next())
            .map(|e| format!("  last error: {}", e.chars().take(120).collect::<String>()))
            .unwrap_or_default();
        writeln!(
            out,
            "{:>6}  {:<14} {:<8} attempt {}/{}  {when}{error}",
            row.id, row.kind, row.state, row.attempts, row.max_attempts
        )?;
    }
    Ok(())
}
