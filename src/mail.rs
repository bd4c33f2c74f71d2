//! Flask-Mail's part in chapter 7: unexpected errors are mailed to `ADMINS` when `MAIL_SERVER`
//! is set (Flask: the `SMTPHandler` added to the app's logger).

use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{Message, SmtpTransport, Transport};

use crate::config::{Config, MailConfig};
use crate::error::chain;

fn transport(mail: &MailConfig) -> anyhow::Result<SmtpTransport> {
    let builder = if mail.use_tls {
        SmtpTransport::starttls_relay(&mail.server)?
    } else {
        SmtpTransport::builder_dangerous(&mail.server)
    };
    let builder = builder.port(mail.port);
    Ok(match (&mail.username, &mail.password) {
        (Some(user), Some(pass)) => builder
            .credentials(Credentials::new(user.clone(), pass.clone()))
            .build(),
        _ => builder.build(),
    })
}

/// Sends "Microblog Failure" to every admin, on a thread of its own so the failing request is
/// not held up by SMTP. Does nothing when mail or admins are not configured.
pub fn report_failure(config: &Config, details: String) {
    let (Some(mail), false) = (config.mail.clone(), config.admins.is_empty()) else {
        return;
    };
    let admins = config.admins.clone();
    std::thread::spawn(move || {
        if let Err(e) = send_report(&mail, &admins, &details) {
            tracing::warn!(error = %chain(e.as_ref()), "could not mail the failure report");
        }
    });
}

fn send_report(mail: &MailConfig, admins: &[String], details: &str) -> anyhow::Result<()> {
    let from: Mailbox = format!("no-reply@{}", mail.server).parse()?;
    let mut message = Message::builder().from(from).subject("Microblog Failure");
    for admin in admins {
        message = message.to(admin.parse()?);
    }
    let message = message.body(details.to_owned())?;
    transport(mail)?.send(&message)?;
    Ok(())
}
