//! The microblog in the Fediverse (`docs/24-federation.md`): the pieces that need no database.
//!
//! - `signature.rs`: HTTP Signatures and `Digest`, no I/O.
//! - `client.rs`: the guarded HTTP client (https only, no private addresses, size and time
//!   limits), signing what it sends.
//! - `html.rs`: remote HTML, sanitised, and its text.

pub mod client;
pub mod html;
pub mod signature;

/// ActivityPub's media type.
pub const ACTIVITY_JSON: &str = "application/activity+json";
