//! Flask: `app/auth/` (chapters 5, 10 and 15), mounted under `/auth`. `routes.rs` has Flask's
//! pages, `account.rs` the port's account pages (re-authentication, password and address changes,
//! sessions).

mod account;
pub mod email;
mod forms;
mod routes;

use actix_web::web;

pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/auth")
            .service(
                web::resource("/login")
                    .route(web::get().to(routes::login))
                    .route(web::post().to(routes::login_submit)),
            )
            .service(
                web::resource("/logout")
                    .route(web::get().to(routes::logout))
                    .route(web::post().to(routes::logout)),
            )
            .service(
                web::resource("/register")
                    .route(web::get().to(routes::register))
                    .route(web::post().to(routes::register_submit)),
            )
            .service(
                web::resource("/reset_password_request")
                    .route(web::get().to(routes::reset_password_request))
                    .route(web::post().to(routes::reset_password_request_submit)),
            )
            .service(
                web::resource("/reset_password/{token}")
                    .route(web::get().to(routes::reset_password))
                    .route(web::post().to(routes::reset_password_submit)),
            )
            .service(
                web::resource("/reauthenticate")
                    .route(web::get().to(account::reauthenticate))
                    .route(web::post().to(account::reauthenticate_submit)),
            )
            .service(
                web::resource("/change_password")
                    .route(web::get().to(account::change_password))
                    .route(web::post().to(account::change_password_submit)),
            )
            .service(
                web::resource("/change_email")
                    .route(web::get().to(account::change_email))
                    .route(web::post().to(account::change_email_submit)),
            )
            .service(
                web::resource("/confirm_email/{token}")
                    .route(web::get().to(account::confirm_email))
                    .route(web::post().to(account::confirm_email_submit)),
            )
            .service(web::resource("/sessions").route(web::get().to(account::sessions)))
            .service(
                web::resource("/delete_account")
                    .route(web::get().to(account::delete_account))
                    .route(web::post().to(account::delete_account_submit)),
            )
            .service(
                web::resource("/sessions/{id}/logout")
                    .route(web::post().to(account::session_logout)),
            )
            .service(
                web::resource("/sessions/logout_all")
                    .route(web::post().to(account::sessions_logout_all)),
            ),
    );
}
