//! The load generator and what it measures: `CONCURRENCY` clients sending requests back to back
//! for `seconds()`, their latencies and errors summed up as [`Stats`], and the hand-written
//! HTTP/1.1 client ([`RawGet`]) the measured GETs use.

use std::time::{Duration, Instant};

use anyhow::Context as _;

use crate::site::Process;
use crate::{CONCURRENCY, seconds};

pub struct Stats {
    pub requests: usize,
    pub errors: usize,
    pub per_second: f64,
    pub p50: Duration,
    pub p99: Duration,
    /// The server's CPU time per successful request (GET phases): unlike requests per second,
    /// it hardly moves when other work shares the cores.
    pub server_cpu: Option<Duration>,
}

impl Stats {
    pub fn row(&self) -> String {
        let cpu = self
            .server_cpu
            .map(|c| format!(", server CPU {:.0} µs/request", c.as_secs_f64() * 1e6))
            .unwrap_or_default();
        format!(
            "{:.0} req/s, p50 {:.2} ms, p99 {:.2} ms{cpu} ({} requests, {} errors)",
            self.per_second,
            self.p50.as_secs_f64() * 1e3,
            self.p99.as_secs_f64() * 1e3,
            self.requests,
            self.errors
        )
    }
}

/// `CONCURRENCY` clients send `make()` back to back for `seconds()`; counts only `expected`.
pub async fn load<F, Fut>(make: F, expected: u16) -> Stats
where
    F: Fn(usize) -> Fut + Clone + 'static,
    Fut: std::future::Future<Output = anyhow::Result<u16>> + 'static,
{
    let until = Instant::now() + seconds();
    let tasks: Vec<_> = (0..CONCURRENCY)
        .map(|worker| {
            let make = make.clone();
            actix_web::rt::spawn(async move {
                let (mut latencies, mut errors, mut n) = (Vec::new(), 0, 0);
                while Instant::now() < until {
                    let start = Instant::now();
                    match make(worker * 1_000_000 + n).await {
                        Ok(status) if status == expected => latencies.push(start.elapsed()),
                        _ => errors += 1,
                    }
                    n += 1;
                }
                (latencies, errors)
            })
        })
        .collect();
    summarize(tasks).await
}

/// Latencies of the successful requests and the number of failures, from each load task.
type TaskResult = (Vec<Duration>, usize);

async fn summarize(tasks: Vec<actix_web::rt::task::JoinHandle<TaskResult>>) -> Stats {
    let (mut all, mut errors) = (Vec::new(), 0);
    for task in tasks {
        let (latencies, e) = task.await.expect("load task");
        all.extend(latencies);
        errors += e;
    }
    all.sort();
    let at = |q: f64| {
        all.get(((all.len() as f64 * q) as usize).min(all.len().saturating_sub(1)))
            .copied()
            .unwrap_or_default()
    };
    Stats {
        requests: all.len(),
        errors,
        per_second: all.len() as f64 / seconds().as_secs_f64(),
        p50: at(0.5),
        p99: at(0.99),
        server_cpu: None,
    }
}

/// GET `path` with `headers` under load: `CONCURRENCY` keep-alive connections, each sending the
/// next request as soon as the last answer is read, for `seconds()`; counts only 200s.
///
/// The requests are written and read by hand ([`RawGet`]) rather than with awc. The load
/// generator shares the two cores with the server, so its own cost is in every figure. With
/// awc, one run put `/index` (20 kB) at 29% of its reference page (4 kB); with this client, 41%,
/// nearer the ~50% wrk shows: the bench should measure the server, as a load generator on
/// another machine would.
pub async fn load_get(server: &Process, path: &str, headers: &[(&str, &str)]) -> Stats {
    load_get_by(server, path, headers, CONCURRENCY).await
}

/// [`load_get`] with `clients` connections instead of `CONCURRENCY`.
pub async fn load_get_by(
    server: &Process,
    path: &str,
    headers: &[(&str, &str)],
    clients: usize,
) -> Stats {
    let addr = server.base.trim_start_matches("http://").to_owned();
    let mut request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    let until = Instant::now() + seconds();
    let tasks = (0..clients)
        .map(|_| {
            let (addr, request) = (addr.clone(), request.clone());
            actix_web::rt::spawn(async move {
                let (mut latencies, mut errors) = (Vec::new(), 0);
                let mut conn: Option<RawGet> = None;
                while Instant::now() < until {
                    let start = Instant::now();
                    if conn.is_none() {
                        conn = RawGet::connect(&addr).await.ok();
                    }
                    let answer = match conn.as_mut() {
                        Some(c) => c.get(request.as_bytes()).await,
                        None => Err(anyhow::anyhow!("cannot connect")),
                    };
                    match answer {
                        Ok(200) => latencies.push(start.elapsed()),
                        Ok(_) => errors += 1,
                        Err(_) => {
                            errors += 1;
                            conn = None;
                        }
                    }
                }
                (latencies, errors)
            })
        })
        .collect();
    let cpu_before = server.cpu_time();
    let mut stats = summarize(tasks).await;
    let used = server.cpu_time().saturating_sub(cpu_before);
    stats.server_cpu = (stats.requests > 0).then(|| used / stats.requests as u32);
    stats
}

/// One keep-alive HTTP/1.1 connection that sends a fixed GET and reads the answer: the status
/// line, the headers up to the blank line, and the body: `Content-Length` bytes, or chunks up
/// to the last, empty one (compressed pages are chunked).
struct RawGet {
    stream: actix_web::rt::net::TcpStream,
    buffer: Vec<u8>,
}

impl RawGet {
    async fn connect(addr: &str) -> std::io::Result<Self> {
        let stream = actix_web::rt::net::TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok(Self {
            stream,
            buffer: Vec::with_capacity(64 * 1024),
        })
    }

    /// Sends `request`; returns the answer's status once its whole body is read.
    async fn get(&mut self, request: &[u8]) -> anyhow::Result<u16> {
        let mut sent = 0;
        while sent < request.len() {
            self.stream.writable().await?;
            match self.stream.try_write(&request[sent..]) {
                Ok(n) => sent += n,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(e.into()),
            }
        }
        self.buffer.clear();
        let (status, head_end, length) = loop {
            if let Some(end) = self.buffer.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = std::str::from_utf8(&self.buffer[..end])?;
                let status = head
                    .get(9..12)
                    .and_then(|s| s.parse().ok())
                    .context("no status line")?;
                let length: Option<usize> = head.lines().find_map(|l| {
                    let (name, value) = l.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse().ok())?
                });
                break (status, end + 4, length);
            }
            self.read_more().await?;
        };
        match length {
            Some(length) => {
                while self.buffer.len() < head_end + length {
                    self.read_more().await?;
                }
            }
            None => self.read_chunks(head_end).await?,
        }
        Ok(status)
    }

    /// Reads a chunked body that starts at `at`, through its last (empty) chunk.
    async fn read_chunks(&mut self, mut at: usize) -> anyhow::Result<()> {
        loop {
            let line_end = loop {
                if let Some(i) = self.buffer[at..].windows(2).position(|w| w == b"\r\n") {
                    break at + i;
                }
                self.read_more().await?;
            };
            let size = std::str::from_utf8(&self.buffer[at..line_end])?;
            let size = usize::from_str_radix(size.split(';').next().unwrap_or("").trim(), 16)
                .context("bad chunk size")?;
            // The chunk's data and its CRLF; the last chunk is followed by an empty line.
            at = line_end + 2 + size + 2;
            while self.buffer.len() < at {
                self.read_more().await?;
            }
            if size == 0 {
                return Ok(());
            }
        }
    }

    async fn read_more(&mut self) -> anyhow::Result<()> {
        loop {
            self.stream.readable().await?;
            let start = self.buffer.len();
            self.buffer.resize(start + 16 * 1024, 0);
            match self.stream.try_read(&mut self.buffer[start..]) {
                Ok(0) => anyhow::bail!("connection closed"),
                Ok(n) => {
                    self.buffer.truncate(start + n);
                    return Ok(());
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    self.buffer.truncate(start);
                }
                Err(e) => return Err(e.into()),
            }
        }
    }
}
