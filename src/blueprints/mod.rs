//! Flask's blueprints: each module has a `config` function that registers its routes, and
//! `app::create_app` mounts them. They do not import each other.

pub mod api;
pub mod auth;
pub mod errors;
pub mod main;
