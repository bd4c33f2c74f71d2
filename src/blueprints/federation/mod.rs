//! The federation blueprint (`docs/24-federation.md`): what other servers ask this one.
//! Registered only when `FEDERATION=1`; without it these URLs are unknown (404) and
//! `/user/<name>` is the profile page alone.
//!
//! | URL                                         | what                                     |
//! |---------------------------------------------|------------------------------------------|
//! | `GET /.well-known/webfinger?resource=acct:` | who `name@SERVER_NAME` is (JRD)          |
//! | `GET /.well-known/nodeinfo`, `/nodeinfo/2.1`| what software this is, how many users    |
//! | `GET /user/<name>` asking for ActivityPub   | the user as a Person                     |
//! | `GET /actor`, `/actor/outbox`               | the instance itself, signing its fetches |
//! | `POST /user/<name>/inbox`, `POST /inbox`    | activities from other servers            |
//! | `GET /user/<name>/outbox`, `followers`, `following` | the user's collections           |
//! | `GET /post/<id>` asking for ActivityPub     | a local post as a Note                   |

mod routes;

use actix_web::{guard, web};

/// A guard: the request's `Accept` asks for ActivityPub JSON.
fn activity_json() -> impl guard::Guard {
    guard::fn_guard(|ctx| {
        ctx.head()
            .headers()
            .get(actix_web::http::header::ACCEPT)
            .and_then(|a| a.to_str().ok())
            .is_some_and(crate::federation::wants_activity_json)
    })
}

pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/.well-known/webfinger").route(web::get().to(routes::webfinger)))
        .service(
            web::resource("/.well-known/nodeinfo").route(web::get().to(routes::nodeinfo_links)),
        )
        .service(web::resource("/nodeinfo/2.1").route(web::get().to(routes::nodeinfo)))
        .service(web::resource("/actor").route(web::get().to(routes::instance_actor)))
        .service(web::resource("/actor/outbox").route(web::get().to(routes::instance_outbox)))
        // Before the main blueprint's `/user/{username}`: a request that does not ask for
        // ActivityPub fails the guard and goes on to the profile page.
        .service(
            web::resource("/user/{username}")
                .guard(activity_json())
                .route(web::get().to(routes::actor)),
        )
        .service(
            web::resource("/post/{id:\\d+}")
                .guard(activity_json())
                .route(web::get().to(routes::note)),
        )
        .service(web::resource("/user/{username}/inbox").route(web::post().to(routes::user_inbox)))
        .service(web::resource("/inbox").route(web::post().to(routes::shared_inbox)))
        .service(web::resource("/user/{username}/outbox").route(web::get().to(routes::outbox)))
        .service(
            web::resource("/user/{username}/followers").route(web::get().to(routes::followers)),
        )
        .service(
            web::resource("/user/{username}/following").route(web::get().to(routes::following)),
        );
}
