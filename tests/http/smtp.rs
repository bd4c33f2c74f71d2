//! A small SMTP server inside the test process: it speaks enough of the protocol for lettre
//! (EHLO, MAIL, RCPT, DATA, QUIT) and keeps every message it accepts, so tests read the mail a
//! user would get. It can also be absent (a port nobody listens on) or hang (accept a connection
//! and never greet), as a broken mail server does.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One message as the server received it.
#[derive(Debug, Clone, Default)]
pub struct Received {
    pub mail_from: String,
    pub rcpt_to: Vec<String>,
    /// Headers and body, as sent (dot-stuffing undone).
    pub data: String,
}

impl Received {
    /// The value of header `name` (the first one, unfolded).
    pub fn header(&self, name: &str) -> Option<String> {
        let head = self.data.split("\r\n\r\n").next()?;
        let unfolded = head.replace("\r\n ", " ").replace("\r\n\t", " ");
        unfolded.lines().find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.eq_ignore_ascii_case(name)
                .then(|| value.trim().to_owned())
        })
    }

    /// The text a mail client shows: every part's body, transfer encodings undone.
    pub fn text(&self) -> String {
        let mut text = String::new();
        for part in self.data.split("\r\n--") {
            let Some((head, body)) = part.split_once("\r\n\r\n") else {
                continue;
            };
            let head = head.to_ascii_lowercase();
            if head.contains("content-transfer-encoding: quoted-printable") {
                text.push_str(&decode_quoted_printable(body));
            } else if head.contains("content-transfer-encoding: base64") {
                use base64::Engine as _;
                let joined: String = body.split_whitespace().collect();
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(&joined)
                    .unwrap_or_default();
                text.push_str(&String::from_utf8_lossy(&bytes));
            } else {
                text.push_str(body);
            }
            text.push('\n');
        }
        text
    }

    /// Every link to `path_prefix` in the mail's text, in order.
    pub fn links(&self, path_prefix: &str) -> Vec<String> {
        let text = self.text();
        let mut links = Vec::new();
        for (i, _) in text.match_indices("http") {
            let link: String = text[i..]
                .chars()
                .take_while(|c| !c.is_whitespace() && !matches!(c, '"' | '<' | '>'))
                .collect();
            if link.contains(path_prefix) && !links.contains(&link) {
                links.push(link);
            }
        }
        links
    }
}

fn decode_quoted_printable(body: &str) -> String {
    let joined = body.replace("=\r\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'='
            && let Some(hex) = joined.get(i + 1..i + 3)
            && let Ok(byte) = u8::from_str_radix(hex, 16)
        {
            out.push(byte);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A running test mail server.
pub struct SmtpServer {
    pub port: u16,
    inbox: Arc<Mutex<Vec<Received>>>,
    connections: Arc<std::sync::atomic::AtomicUsize>,
}

/// How a server answers connections.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Behaviour {
    Answer,
    Hang,
    /// Refuses every recipient for good (550).
    Refuse,
}

impl SmtpServer {
    /// A server on a free port.
    pub fn start() -> Self {
        Self::listen(TcpListener::bind("127.0.0.1:0").unwrap(), Behaviour::Answer)
    }

    /// A server on `port` (one a test kept free while the "mail server" was down).
    pub fn start_on(port: u16) -> Self {
        Self::listen(
            TcpListener::bind(("127.0.0.1", port)).unwrap(),
            Behaviour::Answer,
        )
    }

    /// A server that accepts connections and then says nothing, ever.
    pub fn hanging() -> Self {
        Self::listen(TcpListener::bind("127.0.0.1:0").unwrap(), Behaviour::Hang)
    }

    /// A server that refuses every recipient, as for an address that does not exist.
    pub fn refusing() -> Self {
        Self::listen(TcpListener::bind("127.0.0.1:0").unwrap(), Behaviour::Refuse)
    }

    fn listen(listener: TcpListener, behaviour: Behaviour) -> Self {
        let port = listener.local_addr().unwrap().port();
        let inbox = Arc::new(Mutex::new(Vec::new()));
        let kept = inbox.clone();
        let connections = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counted = connections.clone();
        std::thread::spawn(move || {
            let mut held = Vec::new();
            for stream in listener.incoming().flatten() {
                counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                if behaviour == Behaviour::Hang {
                    held.push(stream);
                    continue;
                }
                let kept = kept.clone();
                std::thread::spawn(move || {
                    let _ = converse(stream, &kept, behaviour == Behaviour::Refuse);
                });
            }
        });
        Self {
            port,
            inbox,
            connections,
        }
    }

    /// How many connections it has accepted.
    pub fn connections(&self) -> usize {
        self.connections.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// What has arrived so far.
    pub fn messages(&self) -> Vec<Received> {
        self.inbox.lock().unwrap().clone()
    }

    /// Waits until `count` messages have arrived (panics after `timeout`), and returns them all.
    /// It sleeps on the test's runtime, where the app's job runner runs too.
    pub async fn wait_for(&self, count: usize, timeout: Duration) -> Vec<Received> {
        let started = Instant::now();
        loop {
            let messages = self.messages();
            if messages.len() >= count {
                return messages;
            }
            assert!(
                started.elapsed() < timeout,
                "{} of {count} mails arrived in {timeout:?}",
                messages.len()
            );
            actix_web::rt::time::sleep(Duration::from_millis(25)).await;
        }
    }
}

/// A port with no server on it, for a mail server that is down.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn converse(stream: TcpStream, inbox: &Mutex<Vec<Received>>, refuse: bool) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut writer = stream;
    writer.write_all(b"220 test ESMTP\r\n")?;
    let mut current = Received::default();
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let upper = line.to_ascii_uppercase();
        if upper.starts_with("EHLO") || upper.starts_with("HELO") {
            writer.write_all(b"250-test\r\n250 8BITMIME\r\n")?;
        } else if upper.starts_with("MAIL FROM:") {
            current.mail_from = line[10..].trim().to_owned();
            writer.write_all(b"250 ok\r\n")?;
        } else if upper.starts_with("RCPT TO:") && refuse {
            writer.write_all(b"550 no such mailbox\r\n")?;
        } else if upper.starts_with("RCPT TO:") {
            current.rcpt_to.push(line[8..].trim().to_owned());
            writer.write_all(b"250 ok\r\n")?;
        } else if upper.starts_with("DATA") {
            writer.write_all(b"354 go ahead\r\n")?;
            loop {
                line.clear();
                if reader.read_line(&mut line)? == 0 {
                    return Ok(());
                }
                if line == ".\r\n" {
                    break;
                }
                let unstuffed = line.strip_prefix('.').unwrap_or(&line);
                current.data.push_str(unstuffed);
            }
            inbox.lock().unwrap().push(std::mem::take(&mut current));
            writer.write_all(b"250 queued\r\n")?;
        } else if upper.starts_with("QUIT") {
            writer.write_all(b"221 bye\r\n")?;
            return Ok(());
        } else {
            writer.write_all(b"250 ok\r\n")?;
        }
    }
}
