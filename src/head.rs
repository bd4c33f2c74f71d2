//! HEAD, answered as Flask answers it: on every URL that takes a GET, with the GET's status and
//! headers and no body (what a monitor or `curl -I` asks for).

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use actix_web::body::{BodySize, EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::web::Bytes;

/// The body of an answer to a HEAD: the size the GET's body has, and nothing in it. The GET's
/// own body is dropped unread, so a page's stream (the live notifications, an export's file)
/// ends at once instead of being read through for nothing.
pub struct NoBody(BodySize);

impl MessageBody for NoBody {
    type Error = Infallible;

    fn size(&self) -> BodySize {
        self.0
    }

    fn poll_next(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, Self::Error>>> {
        Poll::Ready(None)
    }
}

/// Routes a HEAD as the GET it stands for, then answers with [`NoBody`]: the HTTP/1 writer,
/// which remembers the request was a HEAD, sends the headers with that length and no body.
/// Registered in `create_app` inside the access log, so that the log shows the method as it came.
pub async fn as_get(
    mut req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody, NoBody>>, actix_web::Error> {
    let head = req.method() == Method::HEAD;
    if head {
        // `head_mut` needs the only handle on the request: no middleware outside this one
        // keeps a copy of it.
        req.head_mut().method = Method::GET;
    }
    let res = next.call(req).await?;
    Ok(res.map_body(|_, body| {
        if head {
            EitherBody::right(NoBody(body.size()))
        } else {
            EitherBody::left(body)
        }
    }))
}
