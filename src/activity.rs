//! Flask's `@before_request` that sets `current_user.last_seen`, without a write per page view.
//!
//! The Flask app commits `last_seen` before every request; here the login loader notes each
//! visit in memory ([`ActivityTracker::note`]) and the background loop writes the latest of each
//! login once a minute, in one transaction: when the login was last used, the sliding expiry of
//! logins without "remember me", and the user's `last_seen` (`src/background.rs`). Pages that
//! show "last seen" read the fresher of the stored and the noted value.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::NaiveDateTime;

use crate::db::Db;
use crate::error::AppError;
use crate::models::login_session::{self, Activity};

/// Visits noted since the last write, by login session. Cheap to clone (shared).
#[derive(Clone, Default)]
pub struct ActivityTracker {
    pending: Arc<Mutex<HashMap<i32, Activity>>>,
}

impl ActivityTracker {
    /// Notes a visit (the latest of a login replaces the one before).
    pub fn note(&self, activity: Activity) {
        if let Ok(mut pending) = self.pending.lock() {
            pending.insert(activity.session_id, activity);
        }
    }

    /// The noted time of a login not yet written, if any.
    pub fn last_used(&self, session_id: i32) -> Option<NaiveDateTime> {
        self.pending.lock().ok()?.get(&session_id).map(|a| a.at)
    }

    /// The latest noted visit of a user not yet written, if any.
    pub fn last_seen(&self, user_id: i32) -> Option<NaiveDateTime> {
        self.pending
            .lock()
            .ok()?
            .values()
            .filter(|a| a.user_id == user_id)
            .map(|a| a.at)
            .max()
    }

    /// Writes what was noted since the last time; returns how many logins it wrote.
    pub async fn flush(&self, db: &Db) -> Result<usize, AppError> {
        let batch: Vec<Activity> = match self.pending.lock() {
            Ok(mut pending) => pending.drain().map(|(_, a)| a).collect(),
            Err(_) => return Ok(0),
        };
        if batch.is_empty() {
            return Ok(0);
        }
        let count = batch.len();
        db.run(move |conn| login_session::record_activity(conn, &batch))
            .await?;
        Ok(count)
    }
}
