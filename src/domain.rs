//! Values the app accepts from forms, parsed once ("parse, don't validate"): a `Username` is a
//! username that fits the rules, so no code past the form has to check it again.
//! The messages are WTForms' own (in English), so pages read as they do in the Flask app.

use crate::i18n::Message;
use crate::password::check_rules;

/// WTForms' `DataRequired`.
pub const REQUIRED: Message = Message::new("form-required");

/// WTForms' `Length(max=...)`.
pub fn too_long(max: usize) -> Message {
    Message::new("form-too-long").with("max", max as i64)
}

/// The longest "about me" a profile holds, in characters.
pub const ABOUT_ME_MAX: usize = 140;

/// Checks the length in characters (as Python's `len` counts), after `required`.
fn required_within(value: &str, min: usize, max: usize) -> Result<(), Message> {
    let len = value.chars().count();
    if value.trim().is_empty() {
        return Err(REQUIRED);
    }
    if len < min || len > max {
        return Err(Message::new("form-length")
            .with("min", min as i64)
            .with("max", max as i64));
    }
    Ok(())
}

/// A username: 1-64 letters, digits, `.`, `_` or `-`. It becomes part of URLs (`/user/<name>`),
/// so spaces, slashes and other characters with a meaning in URLs are kept out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    pub const MAX: usize = 64;

    pub fn parse(raw: &str) -> Result<Self, Message> {
        let name = raw.trim();
        required_within(name, 1, Self::MAX)?;
        let allowed = |c: char| c.is_alphanumeric() || matches!(c, '.' | '_' | '-');
        if !name.chars().all(allowed) {
            return Err(Message::new("form-username-characters"));
        }
        Ok(Self(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An e-mail address: at most 120 characters, `local@domain.tld`, no spaces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub const MAX: usize = 120;

    pub fn parse(raw: &str) -> Result<Self, Message> {
        let email = raw.trim();
        if email.is_empty() {
            return Err(REQUIRED);
        }
        if email.chars().count() > Self::MAX {
            return Err(too_long(Self::MAX));
        }
        let valid = match email.split_once('@') {
            Some((local, domain)) => {
                !local.is_empty()
                    && !domain.contains('@')
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    && !domain.contains("..")
                    && !email.chars().any(|c| c.is_whitespace() || c.is_control())
            }
            None => false,
        };
        if !valid {
            return Err(Message::new("form-invalid-email"));
        }
        Ok(Self(email.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The text of a post or a message: 1-140 characters, not only spaces, and no control
/// characters but line breaks and tabs (they would be invisible on the page, and the search's
/// highlight marks are control characters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostBody(String);

impl PostBody {
    pub const MAX: usize = 140;

    pub fn parse(raw: &str) -> Result<Self, Message> {
        required_within(raw, 1, Self::MAX)?;
        if raw
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
        {
            return Err(Message::new("form-control-characters"));
        }
        Ok(Self(raw.trim().to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A new password that passed the rules of `password::check_rules`.
#[derive(Clone, PartialEq, Eq)]
pub struct NewPassword(String);

impl std::fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NewPassword(***)")
    }
}

impl NewPassword {
    /// Checks `password` and its confirmation `password2`; errors go next to `password` or
    /// `password2` as WTForms' `EqualTo` puts them.
    pub fn parse(
        password: &str,
        password2: &str,
        username: &str,
        email: &str,
    ) -> Result<Self, (Vec<Message>, Vec<Message>)> {
        let mut first = Vec::new();
        let mut second = Vec::new();
        if password.is_empty() {
            first.push(REQUIRED);
        } else {
            first = check_rules(password, username, email);
        }
        if password2.is_empty() {
            second.push(REQUIRED);
        } else if password2 != password {
            second.push(Message::new("form-passwords-differ"));
        }
        if first.is_empty() && second.is_empty() {
            Ok(Self(password.to_owned()))
        } else {
            Err((first, second))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_are_trimmed_and_limited() {
        assert_eq!(Username::parse(" susan ").unwrap().as_str(), "susan");
        assert!(Username::parse("").is_err());
        assert!(Username::parse(&"a".repeat(65)).is_err());
        assert!(Username::parse(&"é".repeat(64)).is_ok());
        assert!(Username::parse("a/b").is_err());
        assert!(Username::parse("a b").is_err());
    }

    #[test]
    fn emails_need_a_domain_with_a_dot() {
        assert!(Email::parse("susan@example.com").is_ok());
        for bad in [
            "susan",
            "susan@",
            "@example.com",
            "s@example",
            "s @example.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn post_bodies_count_characters_not_bytes() {
        assert!(PostBody::parse(&"é".repeat(140)).is_ok());
        assert!(PostBody::parse(&"é".repeat(141)).is_err());
        assert!(PostBody::parse("   ").is_err());
        assert!(PostBody::parse("two\r\nlines\tand a tab").is_ok());
        for c in ['\u{1}', '\u{2}', '\u{0}', '\u{7f}', '\u{85}'] {
            assert!(PostBody::parse(&format!("a{c}b")).is_err(), "{c:?}");
        }
    }
}
