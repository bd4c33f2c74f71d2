//! A change of e-mail address waiting for its confirmation (a port addition; Flask's app changes
//! no address). The new address becomes the user's only when the link mailed to it is opened:
//! a stolen login or API token alone cannot move the account, and its reset links, to an
//! address of the thief's. The row holds the link's SHA-256 (`tokens::token_hash`), as a reset
//! link's does.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error::DatabaseError};

use crate::db::DbConn;
use crate::models::{api_token, user};
use crate::schema::{email_changes, users};

/// Stores `user_id`'s request to use `new_email`, replacing an older one (whose link dies).
pub fn replace(
    conn: &mut DbConn,
    user_id: i32,
    new_email: &str,
    token_hash: &str,
    now: NaiveDateTime,
    expires_at: NaiveDateTime,
) -> QueryResult<()> {
    conn.transaction(|conn| {
        diesel::delete(email_changes::table.find(user_id)).execute(conn)?;
        diesel::insert_into(email_changes::table)
            .values((
                email_changes::user_id.eq(user_id),
                email_changes::new_email.eq(new_email),
                email_changes::token_hash.eq(token_hash),
                email_changes::created_at.eq(now),
                email_changes::expires_at.eq(expires_at),
            ))
            .execute(conn)?;
        Ok(())
    })
}

/// The new address a live link asks for, and whose account it is (the page's GET, which must
/// not use the link up).
pub fn find(
    conn: &mut DbConn,
    token_hash: &str,
    now: NaiveDateTime,
) -> QueryResult<Option<(String, String)>> {
    email_changes::table
        .inner_join(users::table)
        .filter(email_changes::token_hash.eq(token_hash))
        .filter(email_changes::expires_at.gt(now))
        .select((users::username, email_changes::new_email))
        .first(conn)
        .optional()
}

/// What opening a confirmation link came to.
#[derive(Debug)]
pub enum Confirmed {
    /// The address changed: the user, and the address they had before.
    Changed { user: user::User, old_email: String },
    /// Another account took the address since the link was sent.
    Taken,
    /// The link was not live: used, replaced or expired.
    Dead,
}

/// Uses the link: deletes it, and makes its address the user's, in one transaction. The user's
/// password reset links and API tokens end with the old address: what was sent or handed out
/// under it no longer works.
pub fn confirm(conn: &mut DbConn, token_hash: &str, now: NaiveDateTime) -> QueryResult<Confirmed> {
    conn.transaction(|conn| {
        // The delete comes first: it is what makes a link single-use when two requests race.
        let change: Option<(i32, String)> = diesel::delete(
            email_changes::table
                .filter(email_changes::token_hash.eq(token_hash))
                .filter(email_changes::expires_at.gt(now)),
        )
        .returning((email_changes::user_id, email_changes::new_email))
        .get_result(conn)
        .optional()?;
        let Some((user_id, new_email)) = change else {
            return Ok(Confirmed::Dead);
        };
        let Some(before) = user::find(conn, user_id)? else {
            return Ok(Confirmed::Dead);
        };
        if user::used_by_others(conn, user_id, None, Some(&new_email))?.1 {
            return Ok(Confirmed::Taken);
        }
        // In a transaction of its own (a savepoint): a unique index that refuses the address
        // (another account took it this very moment) leaves this one usable. An old case twin's
        // mark (`User::email_case_twin`) goes with its old address: the new one keeps the rule.
        let updated = conn.transaction(|conn| {
            diesel::update(users::table.find(user_id))
                .set((
                    users::email.eq(&new_email),
                    users::email_case_twin.eq(false),
                ))
                .execute(conn)
        });
        match updated {
            Ok(_) => {}
            Err(DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {
                return Ok(Confirmed::Taken);
            }
            Err(e) => return Err(e),
        }
        user::delete_reset_links(conn, user_id)?;
        api_token::delete_all_for_user(conn, user_id)?;
        let Some(user) = user::find(conn, user_id)? else {
            return Ok(Confirmed::Dead);
        };
        Ok(Confirmed::Changed {
            user,
            old_email: before.email,
        })
    })
}

/// Requests whose link expired (the housekeeping, once a minute).
pub fn delete_expired(conn: &mut DbConn, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::delete(email_changes::table.filter(email_changes::expires_at.le(now))).execute(conn)
}
