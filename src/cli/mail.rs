//! `microblog mail list` and `microblog mail show <id>`: what is in the outbox, for a student
//! with no mail server (every mail is there, reset links included) and for an admin checking
//! that mail goes out.

use std::io::Write;

use anyhow::Context as _;

use crate::config::Config;
use crate::db::Db;
use crate::mail::ATTACHMENT_TYPE;
use crate::models::{mail, task};

pub fn list(config: &Config, limit: i64) -> anyhow::Result<()> {
    let db = Db::connect(&config.database_url)?;
    let rows = mail::newest(&mut *db.get()?, limit.max(1))?;
    let mut out = std::io::stdout().lock();
    if rows.is_empty() {
        writeln!(out, "the outbox is empty")?;
    }
    for row in rows {
        writeln!(
            out,
            "{:>5}  {}  {:<7} {}  {}",
            row.id,
            row.created_at.format("%Y-%m-%d %H:%M:%S"),
            row.status,
            row.recipients,
            row.subject
        )?;
    }
    Ok(())
}

pub fn show(config: &Config, id: i32) -> anyhow::Result<()> {
    let db = Db::connect(&config.database_url)?;
    let row = mail::find(&mut *db.get()?, id)?.with_context(|| {
        format!("there is no mail {id} in the outbox (see `microblog mail list`)")
    })?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "Message-ID: {}", row.message_id)?;
    writeln!(out, "From: {}", row.sender)?;
    writeln!(out, "To: {}", row.recipients)?;
    writeln!(out, "Subject: {}", row.subject)?;
    writeln!(
        out,
        "Date: {} UTC",
        row.created_at.format("%Y-%m-%d %H:%M:%S")
    )?;
    let delivered = row
        .delivered_at
        .map(|at| format!(" at {} UTC", at.format("%Y-%m-%d %H:%M:%S")))
        .unwrap_or_default();
    writeln!(out, "Status: {}{delivered}", row.status)?;
    if let Some(export) = row.attachment_export_id {
        // The file is the export's own row, kept until it expires: a mail names it by id.
        match task::find_export(&mut *db.get()?, export)? {
            Some(file) => writeln!(
                out,
                "Attachment: {} ({ATTACHMENT_TYPE}, {} bytes)",
                file.filename, file.size
            )?,
            None => writeln!(
                out,
                "Attachment: export {export}, no longer kept (an export is deleted when it expires)"
            )?,
        }
    }
    writeln!(out)?;
    writeln!(out, "{}", row.text_body.trim_end())?;
    Ok(())
}
