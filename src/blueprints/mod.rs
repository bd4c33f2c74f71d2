//! Flask's blueprints: each module has a `config` function that registers its routes, and
//! `app::create_app` mounts them. They do not import each other. `federation` is the port's own
//! (docs/24-federation.md), mounted only when `FEDERATION=1`.

pub mod api;
pub mod auth;
pub mod errors;
pub mod federation;
pub mod main;
