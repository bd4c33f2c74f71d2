//! Logging as the tutorial sets it up (chapter 7): with `LOG_TO_STDOUT`, to standard output (for
//! Heroku, Docker and systemd); otherwise to `logs/microblog.<date>.log` (a file a day, ten kept) and
//! to the terminal. `RUST_LOG` sets what is shown (`info`, without actix's start-up chatter).
//!
//! Each request makes one line when it ends ([`AccessLog`]): method, path, client, status and
//! time taken. Unexpected errors are logged with their causes where they happen (`AppError`).
//! A malformed request is the client's fault, not the server's: it is logged as a warning.

use std::fmt;
use std::io::IsTerminal as _;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use anyhow::Context as _;
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Span, Subscriber};
use tracing_actix_web::RootSpanBuilder;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::{DefaultFields, FmtSpan, Writer};
use tracing_subscriber::fmt::time::{FormatTime, SystemTime};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, FormattedFields};
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt as _;

/// What is logged when `RUST_LOG` is not set.
const DEFAULT_FILTER: &str = "info,actix_server=warn";

/// Starts logging. The guard flushes the log file when it is dropped, at exit.
pub fn init(
    to_stdout: bool,
) -> anyhow::Result<Option<tracing_appender::non_blocking::WorkerGuard>> {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    if to_stdout {
        let ansi = std::io::stdout().is_terminal();
        tracing_subscriber::registry()
            .with(filter)
            .with(layer().with_ansi(ansi).with_writer(std::io::stdout))
            .init();
        return Ok(None);
    }
    // The appender looks for old files to prune as it starts, and complains when the folder
    // is not there yet.
    std::fs::create_dir_all("logs").context("creating logs/")?;
    let appender = tracing_appender::rolling::Builder::new()
        .rotation(tracing_appender::rolling::Rotation::DAILY)
        .filename_prefix("microblog")
        .filename_suffix("log")
        .max_log_files(10)
        .build("logs")
        .context("opening the log file in logs/")?;
    let (file, guard) = tracing_appender::non_blocking(appender);
    let ansi = std::io::stderr().is_terminal();
    tracing_subscriber::registry()
        .with(filter)
        .with(layer().with_ansi(ansi).with_writer(std::io::stderr))
        .with(
            layer()
                .fmt_fields(FileFields::default())
                .with_ansi(false)
                .with_writer(file),
        )
        .init();
    Ok(Some(guard))
}

/// A log layer in our format, with a line per request when its span closes.
fn layer<S>() -> tracing_subscriber::fmt::Layer<S, DefaultFields, Line>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    tracing_subscriber::fmt::layer()
        .with_span_events(FmtSpan::CLOSE)
        .event_format(Line)
}

/// Whether the access lines are logged (`RUST_LOG` lets `microblog::access` through at info).
pub fn access_lines_enabled() -> bool {
    tracing::span_enabled!(target: "microblog::access", Level::INFO)
}

/// The span of one request, closed (and so logged) when the response has gone out.
pub struct AccessLog;

impl RootSpanBuilder for AccessLog {
    fn on_request_start(request: &ServiceRequest) -> Span {
        // With access lines filtered out (`RUST_LOG=warn`), build nothing for them.
        if !access_lines_enabled() {
            return Span::none();
        }
        let path = without_secrets(request.path());
        let target = match request.query_string() {
            "" => path,
            query => format!("{path}?{query}"),
        };
        // The peer address, not `X-Forwarded-For`, which any client can write.
        let client = request
            .peer_addr()
            .map(|addr| addr.ip().to_string())
            .unwrap_or_default();
        // Its own target, so `RUST_LOG=info,microblog::access=off` can silence these lines.
        tracing::info_span!(
            target: "microblog::access",
            "request",
            method = %request.method(),
            target = %target,
            client = %client,
            status = tracing::field::Empty,
        )
    }

    fn on_request_end<B: MessageBody>(
        span: Span,
        outcome: &Result<ServiceResponse<B>, actix_web::Error>,
    ) {
        let status = match outcome {
            Ok(response) => response.status(),
            Err(error) => error.as_response_error().status_code(),
        };
        span.record("status", status.as_u16());
    }
}

/// Paths that carry a secret in their last segment: a live password reset link is as good as
/// the password (and an address change link nearly so), so a log file, or whoever reads it,
/// must never hold one.
const SECRET_PATHS: &[&str] = &["/auth/reset_password/", "/auth/confirm_email/"];

/// `path` as the access log writes it: the token of a secret link replaced by `<token>`.
pub fn without_secrets(path: &str) -> String {
    for prefix in SECRET_PATHS {
        if path.starts_with(prefix) && path.len() > prefix.len() {
            return format!("{prefix}<token>");
        }
    }
    path.to_owned()
}

/// The field formatter of the log file. Each formatter type keeps its own copy of a span's
/// fields; the terminal and the file sharing one type would each append a field recorded
/// later (the status) to the same copy, and both lines would show it twice.
#[derive(Default)]
struct FileFields(DefaultFields);

impl<'writer> FormatFields<'writer> for FileFields {
    fn format_fields<R: tracing_subscriber::field::RecordFields>(
        &self,
        writer: Writer<'writer>,
        fields: R,
    ) -> fmt::Result {
        self.0.format_fields(writer, fields)
    }
}

/// One log line: time, level, the spans it happened in with their fields, target, message.
struct Line;

impl<S, N> FormatEvent<S, N> for Line
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        SystemTime.format_time(&mut writer)?;
        let level = shown_level(event);
        if writer.has_ansi_escapes() {
            let color = match level {
                Level::ERROR => "31",
                Level::WARN => "33",
                Level::INFO => "32",
                _ => "34",
            };
            write!(writer, " \x1b[{color}m{level:>5}\x1b[0m ")?;
        } else {
            write!(writer, " {level:>5} ")?;
        }
        if let Some(scope) = ctx.event_scope() {
            for span in scope.from_root() {
                write!(writer, "{}", span.name())?;
                let extensions = span.extensions();
                if let Some(fields) = extensions.get::<FormattedFields<N>>()
                    && !fields.is_empty()
                {
                    write!(writer, "{{{fields}}}")?;
                }
                write!(writer, ": ")?;
            }
        }
        write!(writer, "{}: ", event.metadata().target())?;
        ctx.field_format().format_fields(writer.by_ref(), event)?;
        writeln!(writer)
    }
}

/// An event's level, except that actix's report of a connection that failed on the client's
/// side (a malformed or oversized request, a client gone or too slow) is shown as a warning:
/// actix logs these as errors, but nothing is wrong with the server.
fn shown_level(event: &Event<'_>) -> Level {
    let meta = event.metadata();
    if *meta.level() == Level::ERROR && meta.target() == "actix_http::h1::dispatcher" {
        let mut message = Message(false);
        event.record(&mut message);
        if message.0 {
            return Level::WARN;
        }
    }
    *meta.level()
}

/// Whether an event's message is actix's "stream error: ...".
struct Message(bool);

impl Visit for Message {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.0 = value.starts_with("stream error:");
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "message" {
            self.0 = format!("{value:?}").starts_with("stream error:");
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    /// Collects what the formatter writes.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_clients_broken_connection_is_a_warning_and_the_servers_own_errors_stay_errors() {
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::registry()
            .with(layer().with_ansi(false).with_writer(move || writer.clone()));
        tracing::subscriber::with_default(subscriber, || {
            tracing::error!(
                target: "actix_http::h1::dispatcher",
                "stream error: request parse error: invalid Header provided"
            );
            tracing::error!(target: "actix_http::h1::dispatcher", "write zero; closing");
            tracing::error!("database query failed");
        });
        let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3, "{text}");
        assert!(lines[0].contains(" WARN ") && lines[0].contains("request parse error"));
        assert!(lines[1].contains("ERROR") && lines[1].contains("write zero"));
        assert!(lines[2].contains("ERROR") && lines[2].contains("database query failed"));
    }

    #[test]
    fn the_access_log_never_holds_a_reset_link() {
        assert_eq!(
            without_secrets("/auth/reset_password/Zm9vYmFyYmF6cXV4"),
            "/auth/reset_password/<token>"
        );
        assert_eq!(
            without_secrets("/auth/confirm_email/Zm9vYmFy"),
            "/auth/confirm_email/<token>"
        );
        assert_eq!(
            without_secrets("/auth/reset_password"),
            "/auth/reset_password"
        );
        assert_eq!(without_secrets("/user/susan"), "/user/susan");
    }
}
