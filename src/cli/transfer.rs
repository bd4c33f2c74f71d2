//! `microblog db transfer --to URL`: copies every row of this database into another one, so a
//! student who outgrows SQLite moves to PostgreSQL and loses nothing (not even their logins, their
//! API tokens, the mails not yet sent, the jobs not yet done, or, when federating, the keys
//! other servers know their accounts by and where the remote accounts they know live).
//!
//! The target is migrated first and must be empty. Everything is copied in one transaction on
//! the target: it ends with all of the data, or with none. Ids are kept, so links and follows
//! stay right; PostgreSQL's id sequences are then moved past the copied ids.

use anyhow::Context as _;
use diesel::{Connection, QueryResult};

use super::seed::progress_bar;
use crate::config::{Config, DatabaseUrl};
use crate::db::Db;
use crate::models::bulk::{self, Counts, counts};
use crate::models::user;
use crate::search;

/// Rows read and written at a time.
const PAGE: i64 = 1_000;

/// Copies a table page by page, in key order: `read(after)` gives the rows after a key,
/// `write` stores them, `key` names a row's key.
fn copy_table<T, K: Copy>(
    what: &str,
    total: i64,
    start: K,
    mut read: impl FnMut(K) -> QueryResult<Vec<T>>,
    mut write: impl FnMut(&[T]) -> QueryResult<usize>,
    key: impl Fn(&T) -> K,
) -> anyhow::Result<()> {
    let bar = progress_bar(usize::try_from(total).unwrap_or(0), what);
    let mut after = start;
    loop {
        let rows = read(after).with_context(|| format!("reading {what}"))?;
        let Some(last) = rows.last() else { break };
        after = key(last);
        write(&rows).with_context(|| format!("writing {what}"))?;
        bar.inc(rows.len() as u64);
    }
    bar.finish();
    Ok(())
}

/// `microblog db transfer --to URL`: copies this database into the one at `to`.
pub(super) fn run(config: &Config, to: &str) -> anyhow::Result<()> {
    let target_url = DatabaseUrl::parse(to)?;
    anyhow::ensure!(
        target_url != config.database_url,
        "--to names the database being copied"
    );
    let source = Db::connect(&config.database_url)?;
    let target = Db::connect(&target_url)?;
    let copied = transfer(&source, &target)?;
    println!(
        "copied {} users, {} posts, {} follows, {} logins, {} API tokens, {} mails, {} jobs, {} reset links, \
         {} messages, {} notifications, {} blocks, {} tasks, {} exports ({} pieces), {} key pairs \
         and {} remote accounts into {target_url:?}",
        copied.users,
        copied.posts,
        copied.follows,
        copied.login_sessions,
        copied.api_tokens,
        copied.mails,
        copied.jobs,
        copied.password_resets,
        copied.messages,
        copied.notifications,
        copied.blocks,
        copied.tasks,
        copied.exports,
        copied.export_chunks,
        copied.actor_keys + copied.instance_keys,
        copied.remote_actors
    );
    Ok(())
}

/// Copies everything from `source` into the empty `target`; returns what the target holds.
fn transfer(source: &Db, target: &Db) -> anyhow::Result<Counts> {
    let mut from = source.get()?;
    let mut to = target.get()?;
    let expected = counts(&mut from).context("counting the source rows")?;
    let already = counts(&mut to).context("counting the target rows")?;
    anyhow::ensure!(
        already.users == 0 && already.posts == 0 && already.instance_keys == 0,
        "the target database is not empty ({} users, {} posts, {} instance key pairs): \
         transfer only copies into an empty database",
        already.users,
        already.posts,
        already.instance_keys
    );

    to.transaction(|to| {
        copy_table(
            "users",
            expected.users,
            0,
            |after| bulk::users_after(&mut from, after, PAGE),
            |rows| bulk::insert_user_rows(to, rows),
            |u| u.id,
        )?;
        copy_table(
            "posts",
            expected.posts,
            0,
            |after| bulk::posts_after(&mut from, after, PAGE),
            |rows| bulk::insert_post_rows(to, rows),
            |p| p.id,
        )?;
        copy_table(
            "follows",
            expected.follows,
            (0, 0),
            |after| bulk::follows_after(&mut from, after, PAGE),
            |rows| bulk::insert_follows(to, rows),
            |&pair| pair,
        )?;
        copy_table(
            "logins",
            expected.login_sessions,
            0,
            |after| bulk::login_sessions_after(&mut from, after, PAGE),
            |rows| bulk::insert_login_session_rows(to, rows),
            |s| s.id,
        )?;
        copy_table(
            "API tokens",
            expected.api_tokens,
            0,
            |after| bulk::api_tokens_after(&mut from, after, PAGE),
            |rows| bulk::insert_api_token_rows(to, rows),
            |t| t.id,
        )?;
        copy_table(
            "reset links",
            expected.password_resets,
            0,
            |after| bulk::reset_links_after(&mut from, after, PAGE),
            |rows| bulk::insert_reset_link_rows(to, rows),
            |r| r.user_id,
        )?;
        copy_table(
            "mails",
            expected.mails,
            0,
            |after| bulk::mails_after(&mut from, after, PAGE),
            |rows| bulk::insert_mail_rows(to, rows),
            |m| m.id,
        )?;
        copy_table(
            "jobs",
            expected.jobs,
            0,
            |after| bulk::jobs_after(&mut from, after, PAGE),
            |rows| bulk::insert_job_rows(to, rows),
            |j| j.id,
        )?;
        copy_table(
            "messages",
            expected.messages,
            0,
            |after| bulk::messages_after(&mut from, after, PAGE),
            |rows| bulk::insert_message_rows(to, rows),
            |m| m.id,
        )?;
        copy_table(
            "notifications",
            expected.notifications,
            0,
            |after| bulk::notifications_after(&mut from, after, PAGE),
            |rows| bulk::insert_notification_rows(to, rows),
            |n| n.id,
        )?;
        copy_table(
            "blocks",
            expected.blocks,
            (0, 0),
            |after| bulk::blocks_after(&mut from, after, PAGE),
            |rows| bulk::insert_blocks(to, rows),
            |&pair| pair,
        )?;
        copy_table(
            "tasks",
            expected.tasks,
            0,
            |after| bulk::tasks_after(&mut from, after, PAGE),
            |rows| bulk::insert_task_rows(to, rows),
            |t| t.id,
        )?;
        copy_table(
            "exports",
            expected.exports,
            0,
            |after| bulk::exports_after(&mut from, after, PAGE),
            |rows| bulk::insert_export_rows(to, rows),
            |e| e.id,
        )?;
        copy_table(
            "export pieces",
            expected.export_chunks,
            (0, 0),
            |after| bulk::export_chunks_after(&mut from, after, 10),
            |rows| bulk::insert_export_chunks(to, rows),
            |c| (c.export_id, c.seq),
        )?;
        copy_table(
            "key pairs",
            expected.actor_keys,
            0,
            |after| bulk::actor_keys_after(&mut from, after, PAGE),
            |rows| bulk::insert_actor_key_rows(to, rows),
            |k| k.user_id,
        )?;
        copy_table(
            "the instance's key pair",
            expected.instance_keys,
            0,
            |after| bulk::instance_keys_after(&mut from, after, PAGE),
            |rows| bulk::insert_instance_key_rows(to, rows),
            |k| k.id,
        )?;
        copy_table(
            "remote accounts",
            expected.remote_actors,
            0,
            |after| bulk::remote_actors_after(&mut from, after, PAGE),
            |rows| bulk::insert_remote_actor_rows(to, rows),
            |a| a.user_id,
        )?;
        bulk::reset_id_sequences(to).context("moving the id sequences on")?;
        Ok::<_, anyhow::Error>(())
    })?;
    search::catch_up(&mut to).context("indexing the posts for search")?;
    user::add_missing_username_keys(&mut to).context("writing the username keys")?;

    let copied = counts(&mut to).context("counting the copied rows")?;
    anyhow::ensure!(
        copied == expected,
        "copied {copied:?} but the source has {expected:?}"
    );
    Ok(copied)
}
