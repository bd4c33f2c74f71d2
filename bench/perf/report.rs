//! The bench's report: a Markdown table of measures printed as the run goes, then the table of
//! targets, each met or not; both are written to `bench/results/perf.md` at the end.

use std::fmt::Write as _;
use std::path::PathBuf;

use crate::{CONCURRENCY, seconds};

/// A target: what is measured, the value measured, whether it met its goal, and the goal.
pub type Target = (String, String, bool, &'static str);

pub struct Report {
    /// Every line printed so far, for `bench/results/perf.md`.
    table: String,
    pub targets: Vec<Target>,
}

impl Report {
    /// Prints the heading (the machine's cores, the load, the length of a phase) and the head
    /// of the table of measures.
    pub fn start() -> Self {
        let mut report = Self {
            table: String::new(),
            targets: Vec::new(),
        };
        report.line(format!(
            "## perf ({} cores, {} concurrent clients, {} s a phase)\n",
            std::thread::available_parallelism().map_or(1, usize::from),
            CONCURRENCY,
            seconds().as_secs()
        ));
        report.line("| measure | value |\n|---|---|".to_owned());
        report
    }

    /// Prints `text` and keeps it for the file.
    pub fn line(&mut self, text: String) {
        println!("{text}");
        let _ = writeln!(self.table, "{text}");
    }

    /// [`Report::line`] for each of `texts`, in order.
    pub fn lines(&mut self, texts: Vec<String>) {
        for text in texts {
            self.line(text);
        }
    }

    /// Prints the table of targets and writes everything printed to `bench/results/perf.md`.
    pub fn finish(self) -> anyhow::Result<()> {
        self.finish_as("perf.md")
    }

    /// [`Report::finish`], written to `bench/results/<name>` (a part run alone does not
    /// overwrite the whole run's file).
    pub fn finish_as(mut self, name: &str) -> anyhow::Result<()> {
        self.line("\n| target | measured | goal | met |\n|---|---|---|---|".to_owned());
        for (what, value, met, goal) in std::mem::take(&mut self.targets) {
            self.line(format!(
                "| {what} | {value} | {goal} | {} |",
                if met { "yes" } else { "NO" }
            ));
        }
        let out = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("bench/results");
        std::fs::create_dir_all(&out)?;
        std::fs::write(out.join(name), &self.table)?;
        Ok(())
    }
}
