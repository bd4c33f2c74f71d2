//! Reading `application/x-www-form-urlencoded` data strictly: invalid UTF-8 and NUL characters
//! are refused with a 400 instead of being replaced or stored; and the view of a form that a
//! template shows again after a failed validation.

use std::collections::BTreeMap;

use percent_encoding::percent_decode;
use serde::Serialize;

use crate::error::AppError;
use crate::i18n::Message;

/// Decodes `a=1&b=2` into pairs. Unlike lossy decoders it refuses bytes that are not UTF-8.
pub fn parse_urlencoded(input: &[u8]) -> Result<Vec<(String, String)>, AppError> {
    let mut pairs = Vec::new();
    for part in input.split(|&b| b == b'&').filter(|p| !p.is_empty()) {
        let (name, value) = match part.iter().position(|&b| b == b'=') {
            Some(i) => (&part[..i], &part[i + 1..]),
            None => (part, &[][..]),
        };
        pairs.push((decode(name)?, decode(value)?));
    }
    Ok(pairs)
}

fn decode(raw: &[u8]) -> Result<String, AppError> {
    let spaced: Vec<u8> = raw
        .iter()
        .map(|&b| if b == b'+' { b' ' } else { b })
        .collect();
    let bytes: Vec<u8> = percent_decode(&spaced).collect();
    let text = String::from_utf8(bytes)
        .map_err(|_| AppError::bad_request(Message::new("error-form-utf8")))?;
    if text.contains('\0') {
        return Err(AppError::bad_request(Message::new("error-form-nul")));
    }
    Ok(text)
}

/// One field as a template shows it: what the user typed and what is wrong with it.
#[derive(Debug, Default, Clone, Serialize)]
pub struct Field {
    pub value: String,
    /// Put into words in the language of the page that shows them.
    pub errors: Vec<Message>,
}

/// A form as templates see it: `form.username.value`, `form.username.errors`.
/// Every field the template names is present, so Tera never meets an undefined variable.
#[derive(Debug, Default, Clone, Serialize)]
pub struct FormView(BTreeMap<&'static str, Field>);

impl FormView {
    /// An empty form with these fields.
    pub fn new(fields: &[&'static str]) -> Self {
        Self(fields.iter().map(|&f| (f, Field::default())).collect())
    }

    /// Sets the value shown back to the user (never used for password fields).
    pub fn value(mut self, field: &'static str, value: &str) -> Self {
        self.0.entry(field).or_default().value = value.to_owned();
        self
    }

    /// Adds an error message next to a field.
    pub fn error(&mut self, field: &'static str, message: Message) {
        self.0.entry(field).or_default().errors.push(message);
    }

    pub fn is_valid(&self) -> bool {
        self.0.values().all(|f| f.errors.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plus_and_percent_escapes_decode() {
        let pairs = parse_urlencoded(b"a=hello+world&b=%C3%A9t%C3%A9&c").unwrap();
        assert_eq!(
            pairs,
            vec![
                ("a".into(), "hello world".into()),
                ("b".into(), "été".into()),
                ("c".into(), "".into())
            ]
        );
    }

    #[test]
    fn invalid_utf8_and_nul_are_refused() {
        assert!(parse_urlencoded(b"a=%FF").is_err());
        assert!(parse_urlencoded(b"a=x%00y").is_err());
        assert!(parse_urlencoded(&[b'a', b'=', 0xC3]).is_err());
    }
}
