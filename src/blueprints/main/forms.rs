//! Flask: `app/main/forms.py`.

use serde::Deserialize;

use crate::domain::{ABOUT_ME_MAX, PostBody, Username, too_long};
use crate::form::FormView;

/// Flask: `PostForm`.
/// The form of the page that asks before a post is deleted: where to go back to (empty: home).
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct DeletePostInput {
    pub next: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct PostInput {
    pub post: String,
}

pub const POST_FIELDS: &[&str] = &["post"];

impl PostInput {
    pub fn parse(self) -> Result<PostBody, FormView> {
        PostBody::parse(&self.post).map_err(|e| {
            let mut view = FormView::new(POST_FIELDS).value("post", &self.post);
            view.error("post", e);
            view
        })
    }
}

/// Flask: `MessageForm` (chapter 21).
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct MessageInput {
    pub message: String,
}

pub const MESSAGE_FIELDS: &[&str] = &["message"];

impl MessageInput {
    /// A message follows a post's rules: 1 to 140 characters.
    pub fn parse(self) -> Result<PostBody, FormView> {
        PostBody::parse(&self.message).map_err(|e| {
            let mut view = FormView::new(MESSAGE_FIELDS).value("message", &self.message);
            view.error("message", e);
            view
        })
    }
}

/// Flask: `EditProfileForm` (chapter 6).
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct EditProfileInput {
    pub username: String,
    pub about_me: String,
}

pub struct ProfileChange {
    pub username: Username,
    /// `None` when left empty.
    pub about_me: Option<String>,
}

pub const EDIT_PROFILE_FIELDS: &[&str] = &["username", "about_me"];

impl EditProfileInput {
    /// Checks everything but uniqueness; the view keeps what was typed.
    pub fn parse(self) -> (FormView, Option<ProfileChange>) {
        let mut view = FormView::new(EDIT_PROFILE_FIELDS)
            .value("username", &self.username)
            .value("about_me", &self.about_me);
        let username = Username::parse(&self.username).map_err(|e| view.error("username", e));
        let about_me = self.about_me.trim();
        if about_me.chars().count() > ABOUT_ME_MAX {
            view.error("about_me", too_long(ABOUT_ME_MAX));
        }
        let change = match username {
            Ok(username) if view.is_valid() => Some(ProfileChange {
                username,
                about_me: (!about_me.is_empty()).then(|| about_me.to_owned()),
            }),
            _ => None,
        };
        (view, change)
    }
}
