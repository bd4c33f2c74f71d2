//! The outbox (`src/mail.rs` writes and delivers it): every mail the app sends, kept as the
//! record of what went out.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::models::lower;
use crate::schema::mails;

/// Written, not yet delivered.
pub const QUEUED: &str = "queued";
/// Accepted by the mail server.
pub const SENT: &str = "sent";
/// No mail server is configured: written to the log instead.
pub const LOGGED: &str = "logged";
/// Refused by the mail server for good.
pub const FAILED: &str = "failed";

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = mails)]
pub struct MailRow {
    pub id: i32,
    pub message_id: String,
    pub sender: String,
    pub recipients: String,
    pub subject: String,
    pub text_body: String,
    pub html_body: Option<String>,
    pub status: String,
    pub created_at: NaiveDateTime,
    pub delivered_at: Option<NaiveDateTime>,
    /// An export (`exports`) sent as the mail's attachment.
    pub attachment_export_id: Option<i32>,
    /// The mail carries a link that works like a password: its text is blanked once a mail
    /// server has it ([`forget_text`]).
    pub holds_link: bool,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = mails)]
pub struct NewMail<'a> {
    pub message_id: &'a str,
    pub sender: &'a str,
    pub recipients: &'a str,
    pub subject: &'a str,
    pub text_body: &'a str,
    pub html_body: Option<&'a str>,
    pub status: &'a str,
    pub created_at: NaiveDateTime,
    pub attachment_export_id: Option<i32>,
    pub holds_link: bool,
}

pub fn insert(conn: &mut DbConn, new: &NewMail<'_>) -> QueryResult<i32> {
    diesel::insert_into(mails::table)
        .values(new)
        .returning(mails::id)
        .get_result(conn)
}

pub fn find(conn: &mut DbConn, id: i32) -> QueryResult<Option<MailRow>> {
    mails::table
        .find(id)
        .select(MailRow::as_select())
        .first(conn)
        .optional()
}

/// How many mails were written to `recipients`, whatever its case, since `since` (the daily
/// allowance of an address).
pub fn count_to_since(
    conn: &mut DbConn,
    recipients: &str,
    since: NaiveDateTime,
) -> QueryResult<i64> {
    mails::table
        .filter(lower(mails::recipients).eq(lower(recipients)))
        .filter(mails::created_at.gt(since))
        .count()
        .get_result(conn)
}

/// Records how the mail was delivered (`SENT`, `LOGGED` or `FAILED`).
pub fn set_status(
    conn: &mut DbConn,
    id: i32,
    status: &str,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(mails::table.find(id))
        .set((mails::status.eq(status), mails::delivered_at.eq(at)))
        .execute(conn)
}

/// Marks mail `id` `FAILED` if it is still queued: its job gave up after its last attempt.
pub fn give_up(conn: &mut DbConn, id: i32, at: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(mails::table.find(id).filter(mails::status.eq(QUEUED)))
        .set((mails::status.eq(FAILED), mails::delivered_at.eq(at)))
        .execute(conn)
}

/// What a delivered mail that held a link keeps of its text: the link works like a password
/// until it is used or expires, and the outbox (a database backup, `microblog mail show`) must
/// not be a way to it once the recipient has it.
pub const TEXT_NOT_KEPT: &str =
    "(Delivered. This mail held a link that works like a password, so its text is not kept.)";

/// Replaces the text of mail `id` with [`TEXT_NOT_KEPT`].
pub fn forget_text(conn: &mut DbConn, id: i32) -> QueryResult<usize> {
    diesel::update(mails::table.find(id))
        .set((
            mails::text_body.eq(TEXT_NOT_KEPT),
            mails::html_body.eq(None::<String>),
        ))
        .execute(conn)
}

/// The newest `limit` mails, newest first (`microblog mail list`).
pub fn newest(conn: &mut DbConn, limit: i64) -> QueryResult<Vec<MailRow>> {
    mails::table
        .order(mails::id.desc())
        .limit(limit)
        .select(MailRow::as_select())
        .load(conn)
}
