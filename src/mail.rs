//! Flask-Mail and the tutorial's `app/email.py` (chapters 7 and 10), on a durable outbox.
//!
//! [`Mailer::queue`] is the tutorial's `send_email`: it writes the mail to the `mails` table and
//! a job to deliver it, inside the caller's transaction, so a mail exists exactly when what caused
//! it was saved. The job runner (`src/jobs.rs`) then calls [`Mailer::deliver`], which speaks SMTP
//! with lettre, or, when no `MAIL_SERVER` is set, writes the mail to the log at INFO (Django's
//! console backend): the whole feature works with no mail server at all, and `microblog mail
//! list` shows what was sent. A mail server that is down only delays a mail: the job is retried.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use diesel::{Connection, QueryResult};
use lettre::message::{Mailbox, MultiPart, header::ContentType};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{Message, SmtpTransport, Transport};
use rand::RngCore;

use crate::config::{Config, MailConfig};
use crate::db::{Db, DbConn};
use crate::error::chain;
use crate::jobs::{Jobs, Permanent};
use crate::models::job::{self, Job};
use crate::models::{self, mail, task};

/// How long the mail server may take to accept the connection, or to answer any one command,
/// before the attempt is given up (and tried again later).
const SMTP_TIMEOUT: Duration = Duration::from_secs(10);
/// At most this many failure reports per [`REPORT_WINDOW`]: an error on every request must not
/// fill the outbox (and the admins' inbox) with one mail each.
const REPORTS_PER_WINDOW: u32 = 10;
const REPORT_WINDOW: Duration = Duration::from_secs(600);
/// The most mails one address is sent in a day, whatever asked for them: far above what a
/// person's own use makes, far below a flood (an export or reset loop aimed at someone else's
/// address).
pub const PER_RECIPIENT_PER_DAY: i64 = 20;
/// Of those, the last few are kept for password reset mails: a flood of other mails never
/// stops the one a locked-out user asks for.
pub const RESET_RESERVE: i64 = 5;

/// A mail to send (Flask's `send_email(subject, sender, recipients, text_body, html_body)`).
#[derive(Debug, Clone)]
pub struct Mail {
    pub to: Vec<String>,
    pub subject: String,
    pub text: String,
    pub html: Option<String>,
    /// An export (`models::task::Export`) to attach, by id: the file stays in its table, and
    /// is read when the mail is delivered.
    pub attachment: Option<i32>,
    /// A password reset mail, which may use the recipient's [`RESET_RESERVE`].
    pub password_reset: bool,
    /// The mail carries a link that works like a password (a password reset, an address
    /// change): once a mail server has it, the outbox keeps no copy of its text.
    pub holds_link: bool,
}

/// The app's mail service, in `State`. Cheap to clone.
#[derive(Clone)]
pub struct Mailer {
    /// `None`: no `MAIL_SERVER`; mails go to the log.
    transport: Option<SmtpTransport>,
    sender: String,
    admins: Vec<String>,
    reports: Arc<Mutex<ReportBudget>>,
}

/// The failure reports sent in the current window, and those left out.
struct ReportBudget {
    window_start: Instant,
    sent: u32,
    left_out: u32,
}

impl Mailer {
    /// Checks the sender address and builds the SMTP client (it connects only when sending).
    pub fn new(config: &Config) -> anyhow::Result<Self> {
        let sender = sender(config);
        sender.parse::<Mailbox>().with_context(|| {
            format!("the sender address {sender:?} (MAIL_DEFAULT_SENDER or ADMINS) is not valid")
        })?;
        Ok(Self {
            transport: config.mail.as_ref().map(transport).transpose()?,
            sender,
            admins: config.admins.clone(),
            reports: Arc::new(Mutex::new(ReportBudget {
                window_start: Instant::now(),
                sent: 0,
                left_out: 0,
            })),
        })
    }

    /// Flask's `send_email`: writes `mail` and the job that delivers it, together (inside the
    /// caller's transaction, if there is one); its id. Call [`Jobs::wake`] after the commit to
    /// have it sent at once. `None`, and nothing written, when the recipient has had their
    /// [`PER_RECIPIENT_PER_DAY`] (less the [`RESET_RESERVE`] for any other mail than a reset).
    pub fn queue(&self, conn: &mut DbConn, mail: &Mail) -> QueryResult<Option<i32>> {
        let recipients = mail.to.join(", ");
        let allowance = if mail.password_reset {
            PER_RECIPIENT_PER_DAY
        } else {
            PER_RECIPIENT_PER_DAY - RESET_RESERVE
        };
        let queued = conn.transaction(|conn| {
            // Written first, then counted with the others: on SQLite the transaction then
            // holds the write lock throughout, and one over the allowance is rolled back.
            let id = self.queue_now(conn, mail)?;
            let day_ago = models::now() - chrono::TimeDelta::days(1);
            if mail::count_to_since(conn, &recipients, day_ago)? > allowance {
                return Err(diesel::result::Error::RollbackTransaction);
            }
            Ok(id)
        });
        match queued {
            Ok(id) => Ok(Some(id)),
            Err(diesel::result::Error::RollbackTransaction) => {
                tracing::warn!(
                    to = %recipients, subject = %mail.subject,
                    "mail not sent: the address had its {allowance} mails of the day"
                );
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// Queues a mail that must reach its recipient whatever their allowance of the day (the
    /// notice that an account's address changed, a failure report to the admins): what causes
    /// these is bounded elsewhere, and a flood of other mails must not silence them.
    pub fn queue_always(&self, conn: &mut DbConn, mail: &Mail) -> QueryResult<i32> {
        conn.transaction(|conn| self.queue_now(conn, mail))
    }

    fn queue_now(&self, conn: &mut DbConn, mail: &Mail) -> QueryResult<i32> {
        let id = mail::insert(
            conn,
            &mail::NewMail {
                message_id: &message_id(&self.sender),
                sender: &self.sender,
                recipients: &mail.to.join(", "),
                subject: &mail.subject,
                text_body: &mail.text,
                html_body: mail.html.as_deref(),
                status: mail::QUEUED,
                created_at: models::now(),
                attachment_export_id: mail.attachment,
                holds_link: mail.holds_link,
            },
        )?;
        job::enqueue(conn, &Job::SendMail { mail_id: id })?;
        Ok(id)
    }

    /// Delivers mail `id` of the outbox, unless that was done already (a job may run twice).
    pub async fn deliver(&self, db: &Db, id: i32) -> anyhow::Result<()> {
        let Some(row) = db.run(move |conn| mail::find(conn, id)).await? else {
            return Err(Permanent(anyhow::anyhow!("mail {id} is not in the outbox")).into());
        };
        if row.status != mail::QUEUED {
            return Ok(());
        }
        let attachment = match row.attachment_export_id {
            None => None,
            Some(export) => {
                let found = db.run(move |conn| task::export_file(conn, export)).await?;
                Some(found.ok_or_else(|| {
                    Permanent(anyhow::anyhow!("the attachment of mail {id} is gone"))
                })?)
            }
        };
        let status = match &self.transport {
            None => {
                tracing::info!(
                    mail = row.id,
                    to = %row.recipients,
                    subject = %row.subject,
                    attachment = attachment.as_ref().map_or("none", |(name, _)| name.as_str()),
                    "mail not sent (no MAIL_SERVER is set); it reads:\n{}",
                    row.text_body
                );
                mail::LOGGED
            }
            Some(transport) => {
                let sent = match message(&row, attachment) {
                    Ok(message) => {
                        let transport = transport.clone();
                        actix_web::web::block(move || transport.send(&message))
                            .await?
                            .map_err(|e| {
                                let permanent = e.is_permanent();
                                let e = anyhow::Error::new(e).context("sending over SMTP");
                                (e, permanent)
                            })
                    }
                    Err(e) => Err((e, true)),
                };
                match sent {
                    Ok(_) => mail::SENT,
                    Err((error, false)) => return Err(error),
                    Err((error, true)) => {
                        // No retry can help: the mail is marked failed, and so is its job.
                        db.run(move |conn| mail::set_status(conn, id, mail::FAILED, models::now()))
                            .await?;
                        return Err(Permanent(error).into());
                    }
                }
            }
        };
        let forget = status == mail::SENT && row.holds_link;
        db.run(move |conn| {
            conn.transaction(|conn| {
                mail::set_status(conn, id, status, models::now())?;
                if forget {
                    mail::forget_text(conn, id)?;
                }
                Ok::<_, diesel::result::Error>(())
            })
        })
        .await?;
        Ok(())
    }

    /// Chapter 7's error mail: "Microblog Failure" to every admin, when a mail server and
    /// admins are configured (as Flask adds its `SMTPHandler` only then). It is queued in the
    /// background and never holds up the failing request; past [`REPORTS_PER_WINDOW`] in a
    /// window, reports are only counted, and the next report says how many were left out.
    pub fn report_failure(&self, db: &Db, jobs: &Jobs, details: String) {
        if self.transport.is_none() || self.admins.is_empty() {
            return;
        }
        let Some(left_out) = self.take_report_slot() else {
            return;
        };
        let mut text = details;
        if left_out > 0 {
            text.push_str(&format!(
                "\n\n({left_out} more failures were not mailed, to keep the outbox small.)"
            ));
        }
        let mail = Mail {
            to: self.admins.clone(),
            subject: "Microblog Failure".to_owned(),
            text,
            html: None,
            attachment: None,
            password_reset: false,
            holds_link: false,
        };
        let (mailer, db, jobs) = (self.clone(), db.clone(), jobs.clone());
        actix_web::rt::spawn(async move {
            // Not counted against the admins' daily allowance: the report window bounds these.
            match db.run(move |conn| mailer.queue_always(conn, &mail)).await {
                Ok(_) => jobs.wake(),
                Err(e) => tracing::warn!(error = %chain(&e), "could not queue the failure report"),
            }
        });
    }

    /// Counts a report against the window: `None` when it is to be left out, else how many were
    /// left out before it.
    fn take_report_slot(&self) -> Option<u32> {
        let mut budget = self.reports.lock().unwrap_or_else(PoisonError::into_inner);
        if budget.window_start.elapsed() >= REPORT_WINDOW {
            budget.window_start = Instant::now();
            budget.sent = 0;
        }
        if budget.sent >= REPORTS_PER_WINDOW {
            budget.left_out += 1;
            return None;
        }
        budget.sent += 1;
        Some(std::mem::take(&mut budget.left_out))
    }
}

/// `MAIL_DEFAULT_SENDER`, else the first of `ADMINS` (the tutorial's sender), else a no-reply
/// address at the site.
fn sender(config: &Config) -> String {
    config
        .mail_default_sender
        .clone()
        .or_else(|| config.admins.first().cloned())
        .unwrap_or_else(|| {
            let host = config.server_name.as_deref().unwrap_or("localhost");
            let host = host.split(':').next().unwrap_or(host);
            format!("no-reply@{host}")
        })
}

/// A `Message-ID` made when the mail is queued: a mail sent again after a crash carries the same
/// one, so the receiving side can tell it is the same mail.
fn message_id(sender: &str) -> String {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    let domain = sender
        .rsplit_once('@')
        .map(|(_, d)| d.trim_end_matches('>'))
        .unwrap_or("microblog");
    format!("<{}@{domain}>", hex::encode(bytes))
}

/// The SMTP client for the settings: implicit TLS with `MAIL_USE_SSL` or on port 465, STARTTLS
/// with `MAIL_USE_TLS`, plain otherwise; login only when both `MAIL_USERNAME` and
/// `MAIL_PASSWORD` are set (debugging servers refuse AUTH).
fn transport(mail: &MailConfig) -> anyhow::Result<SmtpTransport> {
    let tls = || {
        TlsParameters::new(mail.server.clone())
            .with_context(|| format!("MAIL_SERVER {:?} cannot be used with TLS", mail.server))
    };
    let mode = if mail.use_ssl || mail.port == 465 {
        Tls::Wrapper(tls()?)
    } else if mail.use_tls {
        Tls::Required(tls()?)
    } else {
        Tls::None
    };
    let builder = SmtpTransport::builder_dangerous(&mail.server)
        .port(mail.port)
        .tls(mode)
        .timeout(Some(SMTP_TIMEOUT));
    Ok(match (&mail.username, &mail.password) {
        (Some(user), Some(pass)) => builder
            .credentials(Credentials::new(user.clone(), pass.clone()))
            .build(),
        _ => builder.build(),
    })
}

/// The stored mail as a MIME message: plain text, or text and HTML as alternatives.
/// The type of an attached file: an export of posts is JSON.
pub const ATTACHMENT_TYPE: &str = "application/json";

fn message(row: &mail::MailRow, attachment: Option<(String, String)>) -> anyhow::Result<Message> {
    let mut builder = Message::builder()
        .message_id(Some(row.message_id.clone()))
        .from(row.sender.parse().context("the sender address")?)
        .subject(&row.subject);
    for to in row
        .recipients
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        builder = builder.to(to
            .parse()
            .with_context(|| format!("the recipient address {to:?}"))?);
    }
    let message = match (&row.html_body, attachment) {
        (Some(html), None) => builder.multipart(MultiPart::alternative_plain_html(
            row.text_body.clone(),
            html.clone(),
        ))?,
        (None, None) => builder
            .header(ContentType::TEXT_PLAIN)
            .body(row.text_body.clone())?,
        (html, Some((filename, body))) => {
            let text = match html {
                Some(html) => {
                    MultiPart::alternative_plain_html(row.text_body.clone(), html.clone())
                }
                None => MultiPart::mixed()
                    .singlepart(lettre::message::SinglePart::plain(row.text_body.clone())),
            };
            let file = lettre::message::Attachment::new(filename)
                .body(body, ATTACHMENT_TYPE.parse().context("a content type")?);
            builder.multipart(MultiPart::mixed().multipart(text).singlepart(file))?
        }
    };
    Ok(message)
}
