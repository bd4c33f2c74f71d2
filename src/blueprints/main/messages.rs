//! Flask: `send_message` and `messages` of `app/main/routes.py` (chapter 21), and blocking (a
//! port addition). The notifications that keep the badge up to date are `notifications.rs`.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;

use super::forms::{MESSAGE_FIELDS, MessageInput};
use crate::csrf::{CsrfForm, NoFields};
use crate::error::AppError;
use crate::flash::{Kind, flash};
use crate::form::FormView;
use crate::i18n::Message;
use crate::login::{CurrentUser, LoginRequired};
use crate::models::message::{self, Sent};
use crate::models::user;
use crate::models::{actor, erase};
use crate::moment::Moment;
use crate::pagination::{PageNumber, Pagination};
use crate::render::{FormContext, Page, redirect};
use crate::state::State;
use crate::urls::user_url;

/// `send_message.html`: the form, and whom it goes to.
#[derive(Serialize)]
struct SendContext<'a> {
    recipient: &'a str,
    recipient_url: String,
    #[serde(flatten)]
    form: FormContext,
}

/// Finds the recipient by name: 404 when there is none, or when it is another server's account
/// (a message to it would never leave this one).
async fn recipient(state: &State, name: String) -> Result<user::User, AppError> {
    state
        .db
        .run(move |conn| actor::find_local(conn, &name))
        .await?
        .ok_or(AppError::NotFound)
}

fn render_form(
    page: &Page,
    recipient: &str,
    form: FormView,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let context = SendContext {
        recipient,
        recipient_url: user_url(recipient),
        form: FormContext { form },
    };
    page.render_status(
        status,
        "send_message.html",
        Message::new("title-send-message"),
        &context,
    )
}

/// Flask: main.send_message (chapter 21), GET: the form. Unknown recipient: 404; oneself: back
/// to one's profile with a flash.
pub async fn send_message(
    page: Page,
    CurrentUser(me): CurrentUser,
    path: web::Path<String>,
    state: web::Data<State>,
) -> Result<HttpResponse, AppError> {
    let to = recipient(&state, path.into_inner()).await?;
    if to.id == me.id {
        page.flash(Kind::Error, Message::new("flash-cannot-message-self"));
        return Ok(redirect(&user_url(&me.username)));
    }
    let form = FormView::new(MESSAGE_FIELDS);
    render_form(&page, &to.username, form, StatusCode::OK)
}

/// Flask: main.send_message (chapter 21), POST: `message`, 1-140 characters. Sent: "Your
/// message has been sent." and back to the recipient's profile. A recipient who blocks the
/// sender gets nothing, and the sender is told they cannot write to them; a sender over the
/// budget (`message::BUDGET` a minute) gets the form back with a 429.
pub async fn send_message_submit(
    page: Page,
    CurrentUser(me): CurrentUser,
    CsrfForm(input): CsrfForm<MessageInput>,
    path: web::Path<String>,
    state: web::Data<State>,
) -> Result<HttpResponse, AppError> {
    let to = recipient(&state, path.into_inner()).await?;
    if to.id == me.id {
        page.flash(Kind::Error, Message::new("flash-cannot-message-self"));
        return Ok(redirect(&user_url(&me.username)));
    }
    let typed = input.message.clone();
    let body = match input.parse() {
        Ok(body) => body,
        Err(form) => {
            return render_form(&page, &to.username, form, StatusCode::UNPROCESSABLE_ENTITY);
        }
    };
    let (sender, recipient_id) = (me.id, to.id);
    let sent = state
        .db
        .run(move |conn| message::send(conn, sender, recipient_id, body.as_str()))
        .await?;
    let back = user_url(&to.username);
    match sent {
        Sent::Sent => {
            state.live.changed(to.id);
            page.flash(Kind::Success, Message::new("flash-message-sent"));
            Ok(redirect(&back))
        }
        Sent::Blocked => {
            let why = Message::new("flash-message-blocked").with("username", to.username.as_str());
            page.flash(Kind::Error, why);
            Ok(redirect(&back))
        }
        Sent::TooFast(wait) => {
            // Rounded up: a client that waits this long is within the budget again.
            let seconds = ((wait.num_milliseconds() + 999) / 1000).max(1);
            let mut form = FormView::new(MESSAGE_FIELDS).value("message", &typed);
            form.error(
                "message",
                Message::new("message-too-fast")
                    .with("max", message::BUDGET)
                    .with("seconds", seconds),
            );
            let mut res = render_form(&page, &to.username, form, StatusCode::TOO_MANY_REQUESTS)?;
            res.headers_mut().insert(
                actix_web::http::header::RETRY_AFTER,
                actix_web::http::header::HeaderValue::from(seconds),
            );
            Ok(res)
        }
    }
}

/// A received message as `messages.html` shows it.
#[derive(Serialize)]
struct MessageView {
    id: i32,
    body: String,
    sender: String,
    sender_url: String,
    avatar: String,
    timestamp: Moment,
}

#[derive(Serialize)]
struct MessagesContext {
    messages: Vec<MessageView>,
    pagination: Pagination,
}

/// Flask: main.messages (chapter 21): the messages received, newest first, 25 a page (with
/// working older/newer links), without those of blocked users; opening it marks them read, so
/// the badge goes to 0 here and in every other open tab.
pub async fn messages(
    login: LoginRequired,
    number: PageNumber,
    state: web::Data<State>,
) -> Result<HttpResponse, AppError> {
    let per_page = state.config.posts_per_page;
    let (page, me) = login.read(|_, me| Ok(me)).await?;
    let received = state
        .db
        .run(move |conn| message::read_page(conn, me, number, per_page))
        .await?;
    state.live.changed(me);
    let pagination = received.links("/messages");
    let messages = received
        .items
        .into_iter()
        .map(|m| MessageView {
            id: m.id,
            sender_url: user_url(&m.sender),
            avatar: user::avatar_url(&m.sender_email, 36),
            body: m.body,
            sender: m.sender,
            timestamp: m.timestamp.into(),
        })
        .collect();
    let context = MessagesContext {
        messages,
        pagination,
    };
    page.messages_read()
        .render("messages.html", Message::new("title-messages"), &context)
}

/// Port addition: `POST /delete_message/<id>`: a message leaves your list of messages. The
/// sender keeps no list of what they sent, so it is gone from the site. Not one of yours (or
/// gone already): 404.
pub async fn delete_message(
    req: HttpRequest,
    CurrentUser(me): CurrentUser,
    CsrfForm(NoFields {}): CsrfForm<NoFields>,
    path: web::Path<String>,
    state: web::Data<State>,
) -> Result<HttpResponse, AppError> {
    let id = super::routes::id_in_path(&path)?;
    let deleted = state
        .db
        .run(move |conn| erase::delete_received_message(conn, id, me.id))
        .await?;
    if !deleted {
        return Err(AppError::NotFound);
    }
    state.live.changed(me.id);
    state.db.scrub_soon();
    flash(&req, Kind::Success, Message::new("flash-message-deleted"));
    Ok(redirect("/messages"))
}

/// Port addition: `POST /block/<username>`, a local or a remote account. The blocked user can
/// no longer send messages to the blocker, their messages leave the blocker's list and count,
/// and their posts leave the blocker's timeline and `/explore` (`post::Feed`).
pub async fn block(
    req: HttpRequest,
    CurrentUser(me): CurrentUser,
    CsrfForm(NoFields {}): CsrfForm<NoFields>,
    path: web::Path<String>,
    state: web::Data<State>,
) -> Result<HttpResponse, AppError> {
    change_block(&req, me.id, path.into_inner(), &state, true).await
}

/// Port addition: `POST /unblock/<username>`.
pub async fn unblock(
    req: HttpRequest,
    CurrentUser(me): CurrentUser,
    CsrfForm(NoFields {}): CsrfForm<NoFields>,
    path: web::Path<String>,
    state: web::Data<State>,
) -> Result<HttpResponse, AppError> {
    change_block(&req, me.id, path.into_inner(), &state, false).await
}

/// Blocks or unblocks `username` for `me`, with flashes worded as following's.
async fn change_block(
    req: &HttpRequest,
    me: i32,
    username: String,
    state: &State,
    block: bool,
) -> Result<HttpResponse, AppError> {
    let itself = "flash-cannot-block-self";
    let target = match super::routes::other_user(req, state, me, username.clone(), itself).await? {
        Ok(target) => target,
        Err(elsewhere) => return Ok(elsewhere),
    };
    let back = user_url(&target.username);
    let target_id = target.id;
    state
        .db
        .run(move |conn| message::set_blocked(conn, me, target_id, block))
        .await?;
    state.live.changed(me);
    // A remote account sends no messages here: only its posts are kept from the blocker.
    let id = match (block, actor::is_remote_name(&target.username)) {
        (true, false) => "flash-blocked",
        (true, true) => "flash-blocked-remote",
        (false, _) => "flash-unblocked",
    };
    flash(
        req,
        Kind::Success,
        Message::new(id).with("username", username),
    );
    Ok(redirect(&back))
}
