//! Secrets handed to a browser or a mailbox (a login, a password reset link): 32 random bytes,
//! hex-encoded. Only their SHA-256 is looked up, so the table of logins or of links gives no
//! working login or link; a plain hash is enough because the token is random, not a password.
//! (The reset mail itself, link included, stays in the outbox, and the link works there until it
//! is used or expires.)

use rand::RngCore;
use sha2::{Digest, Sha256};

/// A new random token and the hash to store for it.
pub fn new_token() -> (String, String) {
    random_token::<32>()
}

/// A token for the API: 16 random bytes, 32 hex digits, as the Flask app's
/// `secrets.token_hex(16)` (clients may expect that length); still far past guessing.
pub fn new_api_token() -> (String, String) {
    random_token::<16>()
}

fn random_token<const BYTES: usize>() -> (String, String) {
    let mut bytes = [0u8; BYTES];
    rand::rng().fill_bytes(&mut bytes);
    let token = hex::encode(bytes);
    let hash = token_hash(&token);
    (token, hash)
}

/// What is stored for `token`, and looked up when it comes back.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}
