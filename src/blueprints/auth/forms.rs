//! Flask: `app/auth/forms.py`. Each form arrives as raw strings (`*Input`) and is parsed into
//! what the handler needs, or into a `FormView` with messages to show the form again.

use serde::Deserialize;

use crate::domain::{Email, NewPassword, REQUIRED, Username};
use crate::form::FormView;

/// Flask: `LoginForm`.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct LoginInput {
    pub username: String,
    pub password: String,
    /// A ticked checkbox sends `remember_me=y`; an unticked one sends nothing.
    pub remember_me: String,
}

pub struct Login {
    pub username: String,
    pub password: String,
    pub remember: bool,
}

pub const LOGIN_FIELDS: &[&str] = &["username", "password"];

impl LoginInput {
    pub fn parse(self) -> Result<Login, FormView> {
        let mut view = FormView::new(LOGIN_FIELDS).value("username", &self.username);
        if self.username.trim().is_empty() {
            view.error("username", REQUIRED);
        }
        if self.password.is_empty() {
            view.error("password", REQUIRED);
        }
        if !view.is_valid() {
            return Err(view);
        }
        Ok(Login {
            username: self.username.trim().to_owned(),
            password: self.password,
            remember: !self.remember_me.is_empty(),
        })
    }
}

/// Flask: `RegistrationForm`.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct RegisterInput {
    pub username: String,
    pub email: String,
    pub password: String,
    pub password2: String,
}

pub struct Registration {
    pub username: Username,
    pub email: Email,
    pub password: NewPassword,
}

pub const REGISTER_FIELDS: &[&str] = &["username", "email", "password", "password2"];

impl RegisterInput {
    /// Checks everything but uniqueness, which needs the database. The view carries what the
    /// user typed and any errors, so the caller can add its own before deciding.
    pub fn parse(self) -> (FormView, Option<Registration>) {
        let mut view = FormView::new(REGISTER_FIELDS)
            .value("username", &self.username)
            .value("email", &self.email);
        let username = Username::parse(&self.username).map_err(|e| view.error("username", e));
        let email = Email::parse(&self.email).map_err(|e| view.error("email", e));
        let password =
            NewPassword::parse(&self.password, &self.password2, &self.username, &self.email)
                .map_err(|(first, second)| {
                    first.into_iter().for_each(|e| view.error("password", e));
                    second.into_iter().for_each(|e| view.error("password2", e));
                });
        let registration = match (username, email, password) {
            (Ok(username), Ok(email), Ok(password)) => Some(Registration {
                username,
                email,
                password,
            }),
            _ => None,
        };
        (view, registration)
    }
}

/// The password alone: re-authentication (`/auth/reauthenticate`).
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct PasswordInput {
    pub password: String,
}

/// `/auth/change_password`: the current password, and the new one twice.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ChangePasswordInput {
    pub old_password: String,
    pub password: String,
    pub password2: String,
}

pub const CHANGE_PASSWORD_FIELDS: &[&str] = &["old_password", "password", "password2"];

/// `/auth/change_email`: the new address, and the current password.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ChangeEmailInput {
    pub email: String,
    pub password: String,
}

pub const CHANGE_EMAIL_FIELDS: &[&str] = &["email", "password"];

/// Flask: `ResetPasswordRequestForm`.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ResetPasswordRequestInput {
    pub email: String,
}

pub const RESET_PASSWORD_REQUEST_FIELDS: &[&str] = &["email"];

impl ResetPasswordRequestInput {
    pub fn parse(self) -> Result<Email, FormView> {
        let mut view = FormView::new(RESET_PASSWORD_REQUEST_FIELDS).value("email", &self.email);
        Email::parse(&self.email).map_err(|e| {
            view.error("email", e);
            view
        })
    }
}

/// Flask: `ResetPasswordForm`: the new password twice.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ResetPasswordInput {
    pub password: String,
    pub password2: String,
}

pub const RESET_PASSWORD_FIELDS: &[&str] = &["password", "password2"];

impl ResetPasswordInput {
    /// The registration rules, for the user the link belongs to.
    pub fn parse(self, username: &str, email: &str) -> Result<NewPassword, FormView> {
        let mut view = FormView::new(RESET_PASSWORD_FIELDS);
        NewPassword::parse(&self.password, &self.password2, username, email).map_err(
            |(first, second)| {
                first.into_iter().for_each(|e| view.error("password", e));
                second.into_iter().for_each(|e| view.error("password2", e));
                view
            },
        )
    }
}
