//! Taking back what one wrote (a port addition; the Flask app deletes nothing): a post, a
//! message received, a whole account with everything that is its own. Each deletion is one
//! transaction, so a reader sees all of it or none. What a deletion leaves in the database's
//! files is [`crate::db::Db::scrub`]'s work.

use diesel::prelude::*;

use crate::db::{DbConn, write_transaction};
use crate::models::job::Job;
use crate::models::{lower, message, translation, user};
use crate::schema::{
    api_tokens, blocks, email_changes, exports, followers, jobs, login_sessions, mails, messages,
    notifications, password_resets, posts, tasks, translation_usage, username_keys, users,
};

/// What came of a request to delete a post.
#[derive(Debug, PartialEq, Eq)]
pub enum PostDeletion {
    Deleted,
    /// Someone else wrote it: nothing changed.
    NotYours,
    /// There is no such post (never was, or deleted already).
    Missing,
}

/// Deletes post `id` if `author` wrote it, with its search entries (the index's own trigger,
/// in this transaction) and the translations kept of it into any of `languages` (the site's).
pub fn delete_post(
    conn: &mut DbConn,
    id: i32,
    author: i32,
    languages: &[String],
) -> QueryResult<PostDeletion> {
    write_transaction(conn, |conn| {
        // Every row read (`load`, not `get_result`): SQLite finishes the statement, which it
        // must before the transaction can go on.
        let gone: Vec<(String, Option<String>)> = diesel::delete(
            posts::table
                .filter(posts::id.eq(id))
                .filter(posts::user_id.eq(author)),
        )
        .returning((posts::body, posts::language))
        .load(conn)?;
        if !gone.is_empty() {
            translation::forget(conn, &translation_keys(&gone, languages))?;
            return Ok(PostDeletion::Deleted);
        }
        let exists =
            diesel::select(diesel::dsl::exists(posts::table.find(id))).get_result::<bool>(conn)?;
        Ok(if exists {
            PostDeletion::NotYours
        } else {
            PostDeletion::Missing
        })
    })
}

/// The cache keys under which translations of these posts (body, language) may be kept: a
/// post's Translate link asks for its own language into the reader's, one of `languages`.
fn translation_keys(posts: &[(String, Option<String>)], languages: &[String]) -> Vec<String> {
    posts
        .iter()
        .flat_map(|(body, language)| {
            let source = language.as_deref().unwrap_or("");
            languages
                .iter()
                .map(move |dest| translation::cache_key(body, source, dest))
        })
        .collect()
}

/// Deletes message `id` from `recipient`'s messages, and counts their unread ones again (it
/// may have been one). `false` when it is not one of theirs (another's, or gone already).
pub fn delete_received_message(conn: &mut DbConn, id: i32, recipient: i32) -> QueryResult<bool> {
    let deleted = diesel::delete(
        messages::table
            .filter(messages::id.eq(id))
            .filter(messages::recipient_id.eq(recipient)),
    )
    .execute(conn)?;
    if deleted > 0 {
        message::recount_unread(conn, &[recipient])?;
    }
    Ok(deleted > 0)
}

/// Who an account was, once it is gone.
#[derive(Debug, Clone)]
pub struct Erased {
    pub id: i32,
    pub username: String,
    pub email: String,
    /// Those who had messages from them: their unread counts are to be made again
    /// (`message::recount_unread`, after this transaction).
    pub wrote_to: Vec<i32>,
}

/// Deletes user `id` and everything that is theirs, in one transaction: their posts (with
/// their search entries and kept translations), the messages they sent and received, follows
/// and blocks both ways, notifications, tasks and exports (with their pieces), logins,
/// remember-me cookies (the same rows), API tokens, reset links, address changes, mails to
/// them and the jobs about them, their username key and their translation count. `None` when
/// there is no such user (deleted already).
pub fn delete_account(
    conn: &mut DbConn,
    id: i32,
    languages: &[String],
) -> QueryResult<Option<Erased>> {
    let sqlite = matches!(conn, DbConn::Sqlite(_));
    // On SQLite the transaction holds the write lock from its start.
    write_transaction(conn, |conn| {
        let Some(user) = user::find(conn, id)? else {
            return Ok(None);
        };

        // The jobs about them first: a job running for them (an export) holds its row in each
        // of its transactions, then the user's row (for a notification); deleting the job's row
        // waits for the transaction under way, and the job's next finds the row gone and stops,
        // writing nothing more. On PostgreSQL the user's row is locked only after that (taking
        // it first would leave each waiting for the other). Then the mails to them (the
        // export's, with its file).
        let their_tasks: Vec<i32> = tasks::table
            .filter(tasks::user_id.eq(id))
            .select(tasks::id)
            .load(conn)?;
        let their_exports: Vec<i32> = exports::table
            .filter(exports::user_id.eq(id))
            .select(exports::id)
            .load(conn)?;
        let their_mails: Vec<i32> = mails::table
            .filter(
                lower(mails::recipients)
                    .eq(lower(&user.email))
                    .or(mails::attachment_export_id.eq_any(&their_exports)),
            )
            .select(mails::id)
            .load(conn)?;
        let about_them: Vec<i32> = jobs::table
            .select((jobs::id, jobs::payload))
            .load::<(i32, String)>(conn)?
            .into_iter()
            .filter(|(_, payload)| {
                serde_json::from_str::<Job>(payload).is_ok_and(|job| match job {
                    Job::SendMail { mail_id } => their_mails.contains(&mail_id),
                    Job::PasswordReset { email, .. } => email.eq_ignore_ascii_case(&user.email),
                    Job::ConfirmEmail { user_id, .. } => user_id == id,
                    Job::ExportPosts { task_id, .. } => their_tasks.contains(&task_id),
                    // What they would have sent: their key goes with them.
                    Job::FanOut { signer, .. } | Job::Deliver { signer, .. } => signer == id,
                })
            })
            .map(|(job, _)| job)
            .collect();
        for chunk in about_them.chunks(500) {
            diesel::delete(jobs::table.filter(jobs::id.eq_any(chunk))).execute(conn)?;
        }
        for chunk in their_mails.chunks(500) {
            diesel::delete(mails::table.filter(mails::id.eq_any(chunk))).execute(conn)?;
        }
        if !sqlite {
            // Locked against a rename, a login or a notification meanwhile.
            user::hold(conn, id)?;
        }
        let wrote_to: Vec<i32> = messages::table
            .filter(messages::sender_id.eq(id))
            .filter(messages::recipient_id.ne(id))
            .select(messages::recipient_id)
            .distinct()
            .load(conn)?;

        let written: Vec<(String, Option<String>)> = posts::table
            .filter(posts::user_id.eq(id))
            .select((posts::body, posts::language))
            .load(conn)?;
        translation::forget(conn, &translation_keys(&written, languages))?;
        diesel::delete(posts::table.filter(posts::user_id.eq(id))).execute(conn)?;
        diesel::delete(
            messages::table.filter(messages::sender_id.eq(id).or(messages::recipient_id.eq(id))),
        )
        .execute(conn)?;
        diesel::delete(
            followers::table.filter(
                followers::follower_id
                    .eq(id)
                    .or(followers::followed_id.eq(id)),
            ),
        )
        .execute(conn)?;
        diesel::delete(
            blocks::table.filter(blocks::blocker_id.eq(id).or(blocks::blocked_id.eq(id))),
        )
        .execute(conn)?;
        diesel::delete(notifications::table.filter(notifications::user_id.eq(id))).execute(conn)?;

        // An export's pieces go with it (ON DELETE CASCADE), and an export with its task.
        diesel::delete(exports::table.filter(exports::user_id.eq(id))).execute(conn)?;
        diesel::delete(tasks::table.filter(tasks::user_id.eq(id))).execute(conn)?;

        diesel::delete(login_sessions::table.filter(login_sessions::user_id.eq(id)))
            .execute(conn)?;
        diesel::delete(api_tokens::table.filter(api_tokens::user_id.eq(id))).execute(conn)?;
        diesel::delete(password_resets::table.filter(password_resets::user_id.eq(id)))
            .execute(conn)?;
        diesel::delete(email_changes::table.filter(email_changes::user_id.eq(id))).execute(conn)?;
        diesel::delete(username_keys::table.filter(username_keys::user_id.eq(id))).execute(conn)?;
        diesel::delete(translation_usage::table.filter(translation_usage::user_id.eq(id)))
            .execute(conn)?;
        diesel::delete(users::table.find(id)).execute(conn)?;
        Ok(Some(Erased {
            id,
            username: user.username,
            email: user.email,
            wrote_to,
        }))
    })
}
