//! HTTP tests: the real app on a free port, driven as a browser and a Flask-era test would.

mod common;

mod activity;
mod api;
mod auth;
mod deleting;
mod email;
mod errors;
mod export_runs;
mod exports;
mod faults;
mod federation;
mod fedify;
mod i18n;
mod login_sessions;
mod messages;
mod ops;
mod pasture;
mod posts;
mod process;
mod profiles;
mod search;
mod security;
mod smtp;
mod throttling;
mod translate;
mod trying_it;
