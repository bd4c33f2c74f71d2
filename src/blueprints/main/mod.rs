//! Flask: `app/main/` (chapters 1-9 and 15): the pages of the site. `routes.rs` has the
//! handlers, `views.rs` what their templates are given, `forms.rs` the forms; chapter 21's
//! messages and notifications and chapter 22's exports have a file each.

mod exports;
mod forms;
mod messages;
mod notifications;
mod routes;
mod views;

use actix_web::web;

pub fn config(cfg: &mut web::ServiceConfig) {
    for path in ["/", "/index"] {
        cfg.service(
            web::resource(path)
                .route(web::get().to(routes::index))
                .route(web::post().to(routes::index_submit)),
        );
    }
    cfg.service(web::resource("/explore").route(web::get().to(routes::explore)))
        .service(web::resource("/search").route(web::get().to(routes::search)))
        .service(web::resource("/user/{username}").route(web::get().to(routes::user)))
        .service(web::resource("/user/{username}/popup").route(web::get().to(routes::user_popup)))
        .service(
            web::resource("/edit_profile")
                .route(web::get().to(routes::edit_profile))
                .route(web::post().to(routes::edit_profile_submit)),
        )
        .service(web::resource("/health").route(web::get().to(routes::health)))
        .service(web::resource("/language").route(web::post().to(routes::set_language)))
        .service(web::resource("/translate").route(web::post().to(routes::translate_text)))
        .service(web::resource("/follow/{username}").route(web::post().to(routes::follow)))
        .service(web::resource("/unfollow/{username}").route(web::post().to(routes::unfollow)))
        .service(
            web::resource("/send_message/{recipient}")
                .route(web::get().to(messages::send_message))
                .route(web::post().to(messages::send_message_submit)),
        )
        .service(web::resource("/messages").route(web::get().to(messages::messages)))
        .service(web::resource("/notifications").route(web::get().to(notifications::notifications)))
        .service(web::resource("/notifications/stream").route(web::get().to(notifications::stream)))
        .service(
            web::resource("/export_posts")
                .route(web::get().to(exports::confirm))
                .route(web::post().to(exports::start)),
        )
        .service(
            web::resource("/export_posts/{id}/posts.json").route(web::get().to(exports::download)),
        )
        .service(web::resource("/delete_post/{id}").route(web::post().to(routes::delete_post)))
        .service(
            web::resource("/delete_post/{id}/confirm")
                .route(web::get().to(routes::confirm_delete_post)),
        )
        .service(
            web::resource("/delete_message/{id}").route(web::post().to(messages::delete_message)),
        )
        .service(web::resource("/block/{username}").route(web::post().to(messages::block)))
        .service(web::resource("/unblock/{username}").route(web::post().to(messages::unblock)));
}
