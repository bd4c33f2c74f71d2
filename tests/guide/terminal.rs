//! A terminal for each command: a pseudo-terminal, so a program prints what it prints for a
//! student (curl no progress meter, the app's log its colours, a progress bar its redraws), and
//! the screen a student reads at the end, with colours and redraws applied. The terminal is
//! [`COLUMNS`] wide, so that no line of the guide wraps (a page shows a long log line as one
//! line), while a progress bar, which fills the width, still moves to the next line as it does
//! on a student's screen.

use std::fs::File;
use std::io::{self, Read};
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::thread;
use std::time::{Duration, Instant};

/// The terminal's width.
pub const COLUMNS: usize = 4000;

/// A new pseudo-terminal, both ends closed on exec (so no other test's child keeps it open).
fn open() -> io::Result<(OwnedFd, OwnedFd)> {
    // SAFETY: plain libc calls on descriptors this function owns; every result is checked.
    unsafe {
        let master = libc::posix_openpt(libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC);
        if master < 0 {
            return Err(io::Error::last_os_error());
        }
        let master = OwnedFd::from_raw_fd(master);
        let raw = std::os::fd::AsRawFd::as_raw_fd(&master);
        if libc::grantpt(raw) != 0 || libc::unlockpt(raw) != 0 {
            return Err(io::Error::last_os_error());
        }
        let mut name = [0 as libc::c_char; 128];
        if libc::ptsname_r(raw, name.as_mut_ptr(), name.len()) != 0 {
            return Err(io::Error::last_os_error());
        }
        let slave = libc::open(
            name.as_ptr(),
            libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC,
        );
        if slave < 0 {
            return Err(io::Error::last_os_error());
        }
        let size = libc::winsize {
            ws_row: 50,
            ws_col: COLUMNS as u16,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        libc::ioctl(raw, libc::TIOCSWINSZ, &size);
        Ok((master, OwnedFd::from_raw_fd(slave)))
    }
}

/// A command running in a terminal of its own, in a process group of its own (as a shell's
/// job is: Ctrl-C reaches the whole group).
pub struct Running {
    pub child: Child,
    output: Arc<Mutex<Vec<u8>>>,
    done: mpsc::Receiver<()>,
}

impl Running {
    /// Runs `command` with bash in `cwd`, with only the variables `env`.
    pub fn start(command: &str, cwd: &Path, env: &[(String, String)]) -> io::Result<Self> {
        let (master, slave) = open()?;
        let child = {
            let mut bash = Command::new("bash");
            bash.args(["--noprofile", "--norc", "-c", command])
                .current_dir(cwd)
                .env_clear()
                .envs(env.iter().map(|(k, v)| (k, v)))
                .stdin(Stdio::null())
                .stdout(Stdio::from(slave.try_clone()?))
                .stderr(Stdio::from(slave))
                .process_group(0);
            bash.spawn()?
            // `bash` is dropped here, and with it this process's copies of the terminal's end.
        };
        let output = Arc::new(Mutex::new(Vec::new()));
        let (tx, done) = mpsc::channel();
        let kept = Arc::clone(&output);
        thread::spawn(move || {
            let mut master = File::from(master);
            let mut buf = [0u8; 8192];
            // EIO once every process holding the terminal has closed it: the end.
            while let Ok(n) = master.read(&mut buf) {
                if n == 0 {
                    break;
                }
                kept.lock().unwrap().extend_from_slice(&buf[..n]);
            }
            let _ = tx.send(());
        });
        Ok(Self {
            child,
            output,
            done,
        })
    }

    /// The screen so far.
    pub fn screen(&self) -> Vec<String> {
        render(&self.output.lock().unwrap())
    }

    /// Waits until the command ends (killing its group after `limit`) and its terminal is
    /// closed; how it ended, or `None` if it had to be killed.
    pub fn wait(&mut self, limit: Duration) -> Option<ExitStatus> {
        let started = Instant::now();
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                break Some(status);
            }
            if started.elapsed() > limit {
                self.signal(libc::SIGKILL);
                let _ = self.child.wait();
                break None;
            }
            thread::sleep(Duration::from_millis(10));
        };
        // A process it left in the background may hold the terminal: read what came meanwhile.
        let _ = self.done.recv_timeout(Duration::from_secs(2));
        status
    }

    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Sends `signal` to the command's process group.
    pub fn signal(&self, signal: i32) {
        let group = i32::try_from(self.child.id()).expect("a pid");
        // SAFETY: kill(2) with a process group this test started.
        unsafe {
            libc::kill(-group, signal);
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if self.is_running() {
            self.signal(libc::SIGKILL);
            let _ = self.child.wait();
        }
    }
}

/// The screen that `bytes` leave in a terminal of [`COLUMNS`]: carriage returns, lines too long
/// for it and the escape sequences that erase and move (a progress bar's) applied, colours
/// dropped; the lines without their trailing spaces, and no empty lines at the end.
pub fn render(bytes: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(bytes);
    let mut lines: Vec<Vec<char>> = vec![Vec::new()];
    let (mut row, mut col) = (0usize, 0usize);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' => col = 0,
            '\n' => {
                row += 1;
                col = 0;
                if lines.len() <= row {
                    lines.push(Vec::new());
                }
            }
            '\x08' => col = col.saturating_sub(1),
            '\x07' => {}
            '\t' => col = (col / 8 + 1) * 8,
            '\x1b' => match chars.next() {
                Some('[') => {
                    let mut params = String::new();
                    let mut end = None;
                    for p in chars.by_ref() {
                        if ('@'..='~').contains(&p) {
                            end = Some(p);
                            break;
                        }
                        params.push(p);
                    }
                    let n = params
                        .trim_start_matches('?')
                        .split(';')
                        .next()
                        .and_then(|n| n.parse::<usize>().ok());
                    let line = &mut lines[row];
                    match end {
                        Some('K') => match n.unwrap_or(0) {
                            0 => line.truncate(col),
                            1 => line.iter_mut().take(col).for_each(|c| *c = ' '),
                            _ => line.clear(),
                        },
                        Some('J') if n.unwrap_or(0) == 0 => {
                            line.truncate(col);
                            lines.truncate(row + 1);
                        }
                        Some('A') => row = row.saturating_sub(n.unwrap_or(1).max(1)),
                        Some('B') => {
                            row += n.unwrap_or(1).max(1);
                            while lines.len() <= row {
                                lines.push(Vec::new());
                            }
                        }
                        Some('C') => col += n.unwrap_or(1).max(1),
                        Some('D') => col = col.saturating_sub(n.unwrap_or(1).max(1)),
                        Some('G') => col = n.unwrap_or(1).max(1) - 1,
                        _ => {}
                    }
                }
                Some(']') => {
                    // An operating system command (a window title): up to BEL or ESC \.
                    while let Some(p) = chars.next() {
                        if p == '\x07' || (p == '\x1b' && chars.next_if_eq(&'\\').is_some()) {
                            break;
                        }
                    }
                }
                _ => {}
            },
            c if c.is_control() => {}
            c => {
                if col >= COLUMNS {
                    row += 1;
                    col = 0;
                    if lines.len() <= row {
                        lines.push(Vec::new());
                    }
                }
                let line = &mut lines[row];
                while line.len() < col {
                    line.push(' ');
                }
                if col < line.len() {
                    line[col] = c;
                } else {
                    line.push(c);
                }
                col += 1;
            }
        }
    }
    let mut out: Vec<String> = lines
        .into_iter()
        .map(|l| l.into_iter().collect::<String>().trim_end().to_owned())
        .collect();
    while out.last().is_some_and(String::is_empty) {
        out.pop();
    }
    out
}

#[test]
fn the_screen_has_colours_dropped_and_redraws_applied() {
    let bytes = b"\x1b[2m2026\x1b[0m \x1b[32m INFO\x1b[0m hi\r\n[=>  ] 1/2\r\x1b[2K[===] 2/2\r\x1b[2Kdone\r\n\r\n";
    assert_eq!(render(bytes), ["2026  INFO hi", "done"]);
    assert_eq!(render(b"a\r\nb\x1b[1A\rc\r\n"), ["c", "b"]);
    let full = format!("{}ab", " ".repeat(COLUMNS - 1));
    assert_eq!(
        render(full.as_bytes()),
        [format!("{}a", " ".repeat(COLUMNS - 1)), "b".to_owned()]
    );
}

#[test]
fn a_command_gets_a_terminal() {
    let dir = std::env::temp_dir();
    let env = [("PATH".to_owned(), "/usr/bin:/bin".to_owned())];
    let mut run =
        Running::start("test -t 1 && test -t 2 && stty size 0<&1", &dir, &env).expect("start");
    assert!(
        run.wait(Duration::from_secs(10))
            .is_some_and(|s| s.success())
    );
    let screen = run.screen();
    assert_eq!(screen, [format!("50 {COLUMNS}")]);
}
