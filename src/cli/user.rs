//! `microblog user delete <username>`: an administrator deletes an account, as its owner can
//! from `/auth/delete_account` (the same transaction, `federation::erase_account`).

use anyhow::Context as _;

use crate::config::Config;
use crate::db::{Db, empty_log};
use crate::federation;
use crate::i18n::Languages;
use crate::models::{actor, message, user};

pub fn delete(config: &Config, username: &str) -> anyhow::Result<()> {
    let db = Db::connect(&config.database_url)?;
    let languages = Languages::parse(&config.languages)?.codes();
    let mut conn = db.get()?;
    let found = user::find_by_username(&mut conn, username)?
        .with_context(|| format!("there is no user {username:?}"))?;
    // With a Delete to the servers following them, when federating (the server sends it).
    let federation = config.federation.as_ref();
    let erased = federation::erase_account(&mut conn, federation, found.id, &languages)?
        .with_context(|| format!("user {username:?} was deleted meanwhile"))?;
    message::recount_unread(&mut conn, &erased.wrote_to)?;
    // Nothing of theirs left in SQLite's write-ahead log either (the server may hold it busy
    // for a moment; it empties it after its own next deletion otherwise).
    let emptied = (0..5).any(|_| {
        empty_log(&mut conn).unwrap_or(false) || {
            std::thread::sleep(std::time::Duration::from_secs(1));
            false
        }
    });
    println!(
        "deleted user {} ({}) and everything that was theirs{}",
        erased.username,
        erased.email,
        if emptied {
            ""
        } else {
            "; the write-ahead log was busy: older copies of its pages stay in it until its next \
             checkpoint"
        }
    );
    Ok(())
}

/// `microblog user rotate-key <username>`: the user's key pair is forgotten (a key that may have
/// leaked, from a backup say); the next request that needs one makes a new pair.
pub fn rotate_key(config: &Config, username: &str) -> anyhow::Result<()> {
    let db = Db::connect(&config.database_url)?;
    let mut conn = db.get()?;
    let found = user::find_by_username(&mut conn, username)?
        .with_context(|| format!("there is no user {username:?}"))?;
    anyhow::ensure!(
        !actor::is_remote_name(&found.username),
        "{username:?} is another server's account: its keys are its server's"
    );
    let forgotten = actor::forget_keys(&mut conn, found.id)?;
    println!(
        "{}",
        if forgotten {
            "the key pair is forgotten: a new one is made when another server next needs it"
        } else {
            "the user had no key pair yet"
        }
    );
    Ok(())
}
