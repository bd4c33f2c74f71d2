//! The translations (`locales/<lang>/*.ftl`) are built into the binary by `src/i18n.rs`. Cargo
//! notices an edited file on its own, but not a new language folder: this makes any change under
//! `locales/` rebuild the app.

fn main() {
    println!("cargo:rerun-if-changed=locales");
}
