//! Flask: `export_posts` of `app/main/routes.py` (chapter 22), as a POST with the CSRF token
//! (the tutorial starts the job on a GET), and the download of the file it made (a port
//! addition). The job itself is `export_posts` in `src/tasks.rs`.

use actix_web::body::SizedStream;
use actix_web::http::header;
use actix_web::web::Bytes;
use actix_web::{HttpResponse, web};
use futures_util::{Stream, stream};

use crate::csrf::{CsrfForm, NoFields};
use crate::db::Db;
use crate::error::AppError;
use crate::flash::Kind;
use crate::i18n::Message;
use crate::login::CurrentUser;
use crate::models::job::Job;
use crate::models::{self, task};
use crate::render::{Page, redirect};
use crate::state::State;
use crate::urls::user_url;

/// `GET /export_posts`: what an export does, and the button that starts one. A GET changes
/// nothing.
pub async fn confirm(page: Page, CurrentUser(_me): CurrentUser) -> Result<HttpResponse, AppError> {
    page.render(
        "export_posts.html",
        Message::new("title-export-posts"),
        &serde_json::json!({}),
    )
}

/// `POST /export_posts`: starts the export job and goes back to one's profile; while an export
/// runs, "An export task is currently in progress" and nothing more is started, nor past the
/// day's `task::QUOTA` of exports.
pub async fn start(
    page: Page,
    CurrentUser(me): CurrentUser,
    CsrfForm(NoFields {}): CsrfForm<NoFields>,
    state: web::Data<State>,
) -> Result<HttpResponse, AppError> {
    let lang = page.lang().to_string();
    let description = Message::new("export-button").text(&page.lang());
    let user = me.id;
    let launched = state
        .db
        .run(move |conn| {
            task::launch(
                conn,
                user,
                task::EXPORT_POSTS,
                &description,
                |task_id| Job::ExportPosts { task_id, lang },
                models::now(),
            )
        })
        .await?;
    match launched {
        task::Launched::Started(_) => {
            state.jobs.wake();
            page.flash(Kind::Info, Message::new("export-started"));
        }
        task::Launched::AlreadyRunning => {
            page.flash(Kind::Error, Message::new("export-in-progress"));
        }
        task::Launched::OverQuota(next) => {
            // Rounded up: at that time the next export starts.
            let minutes = (next - models::now()).num_minutes() + 1;
            let limit = Message::new("export-over-quota")
                .with("max", task::QUOTA)
                .with("hours", (minutes + 59) / 60);
            page.flash(Kind::Error, limit);
        }
    }
    Ok(redirect(&user_url(&me.username)))
}

/// `GET /export_posts/<id>/posts.json`: one's own export, for a day after it was made; anyone
/// else's, or an older one, is a 404. The file is sent piece by piece as it is read from the
/// database, so a large export never sits whole in memory.
pub async fn download(
    CurrentUser(me): CurrentUser,
    path: web::Path<String>,
    state: web::Data<State>,
) -> Result<HttpResponse, AppError> {
    let id: i32 = path.parse().map_err(|_| AppError::NotFound)?;
    let export = state
        .db
        .run(move |conn| task::find_export(conn, id))
        .await?
        .filter(|e| e.user_id == me.id && e.expires_at > models::now())
        .ok_or(AppError::NotFound)?;
    Ok(HttpResponse::Ok()
        .content_type(mime::APPLICATION_JSON)
        .insert_header(header::ContentDisposition {
            disposition: header::DispositionType::Attachment,
            parameters: vec![header::DispositionParam::Filename(export.filename)],
        })
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .body(SizedStream::new(
            u64::try_from(export.size).unwrap_or(0),
            file_pieces(state.db.clone(), export.id),
        )))
}

/// Where the sending of a file has got to.
enum Next {
    Start,
    Piece(i32),
    Done,
}

/// The file of export `id`: its start, its pieces read one at a time, its end.
fn file_pieces(db: Db, id: i32) -> impl Stream<Item = Result<Bytes, AppError>> {
    stream::unfold(Next::Start, move |next| {
        let db = db.clone();
        async move {
            match next {
                Next::Start => Some((
                    Ok(Bytes::from_static(task::FILE_START.as_bytes())),
                    Next::Piece(0),
                )),
                Next::Piece(seq) => match db.run(move |conn| task::chunk(conn, id, seq)).await {
                    Ok(Some(piece)) => Some((Ok(Bytes::from(piece)), Next::Piece(seq + 1))),
                    Ok(None) => Some((
                        Ok(Bytes::from_static(task::FILE_END.as_bytes())),
                        Next::Done,
                    )),
                    Err(e) => Some((Err(e), Next::Done)),
                },
                Next::Done => None,
            }
        }
    })
}
