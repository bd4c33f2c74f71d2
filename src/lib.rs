//! microblog: the Flask Mega-Tutorial's app in Rust. `docs/` maps each chapter to these modules.

pub mod app;
pub mod assets;
pub mod blueprints;
pub mod config;
pub mod csrf;
pub mod db;
pub mod domain;
pub mod error;
pub mod flash;
pub mod form;
pub mod fragments;
pub mod limits;
pub mod logging;
pub mod login;
pub mod mail;
pub mod models;
pub mod password;
pub mod render;
pub mod schema;
pub mod seed;
pub mod throttle;
pub mod transfer;
