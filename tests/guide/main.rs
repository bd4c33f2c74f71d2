//! The guide's commands, run: every command a page of `docs/` shows in a ```` ```console ````
//! block is typed as a student would, in a terminal, in a folder standing for the project's
//! clone, against the binary `cargo test` just built and a database of its own; what it prints
//! must be what the page shows under it. Commands that cannot run here (cargo itself, Docker, a
//! paid key, the internet) are in ```` ```sh ```` blocks, counted, and `docs/README.md` gives
//! both counts.
//!
//! Notation (`markdown.rs`, `expect.rs`): `$ ` starts a command; the lines under it are its
//! output, where `[..]` is any text and a line `...` any lines (trycmd's notation); `<token>`
//! in an output is a value a later command types; a line `^C` is Ctrl-C in the terminal of the
//! app; a block that starts with output is that terminal's last lines.
//!
//! How a command is run (`Student`):
//! - `cargo run [--release] [-- ARGS]` and `microblog ARGS` are the binary; `./microblog` is
//!   the copy a page made of it (`target/release/microblog` is the binary too). The app with no
//!   command (`serve`) keeps running, in a terminal of its own, until `^C`, a `kill` or the end
//!   of the page; the next commands are typed in another terminal.
//! - Port 5000 in a command is a free port, and so is 5001 (the second site's); the output has
//!   them back as 5000 and 5001.
//! - What a page's steps do in a browser (register, post, send a message) the tests do through
//!   HTTP just before the command that needs it (`browser.rs`), and a value only a browser
//!   shows (the session cookie) is given to the page's placeholder (`<session>`).
//! - Each command gets a terminal of its own (a pseudo-terminal), so programs print what they
//!   print for a person (curl no progress meter, a progress bar its redraws); the screen that
//!   stays is compared (`terminal.rs`). The headers of an HTTP answer match in any order.
//! - The app gets bcrypt at cost 4 (`BCRYPT_COST`), as every test does: nothing it prints
//!   depends on it, and a hash then takes milliseconds.
//!
//! Why not trycmd, which reads commands and their output from Markdown in the same notation:
//! it runs one program per command, without a shell (no `|`, no `$(...)`, no `cd`), cannot
//! keep a server running while the next commands talk to it, and has no way to put a free port
//! or a token into a command. Most of the guide's commands are curl against the running app.

#[path = "../http/common.rs"]
#[allow(dead_code)]
mod common;

mod browser;
mod expect;
mod markdown;
mod terminal;

use std::collections::BTreeSet;
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use expect::Values;
use markdown::{Block, Item, Kind};
use terminal::Running;

fn repository() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("a free port")
        .local_addr()
        .expect("its address")
        .port()
}

/// `prefix` + `from` (not followed by a digit) replaced by `prefix` + `to`.
fn replace_number(text: &str, prefix: &str, from: &str, to: &str) -> String {
    let needle = format!("{prefix}{from}");
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find(&needle) {
        let after = &rest[at + needle.len()..];
        out.push_str(&rest[..at]);
        if after.starts_with(|c: char| c.is_ascii_digit()) {
            out.push_str(&needle);
        } else {
            out.push_str(prefix);
            out.push_str(to);
        }
        rest = after;
    }
    out.push_str(rest);
    out
}

/// `cargo run [--release] [-- ARGS]` as the binary it runs: `microblog [ARGS]`.
fn without_cargo_run(command: &str) -> String {
    let mut out = String::new();
    let mut rest = command;
    while let Some(at) = rest.find("cargo run") {
        out.push_str(&rest[..at]);
        out.push_str("microblog");
        rest = &rest[at + "cargo run".len()..];
        if let Some(after) = rest.strip_prefix(" --release") {
            rest = after;
        }
        if let Some(after) = rest.strip_prefix(" --")
            && (after.is_empty() || after.starts_with(' '))
        {
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

/// Whether a command (already without `cargo run`) starts the app's server: the binary with
/// no command or `serve`, after any `NAME=value` settings.
fn starts_the_app(command: &str) -> bool {
    let words: Vec<&str> = command
        .split_whitespace()
        .skip_while(|w| {
            w.split_once('=').is_some_and(|(name, _)| {
                !name.is_empty()
                    && name
                        .chars()
                        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
            })
        })
        .collect();
    matches!(
        words.as_slice(),
        ["microblog" | "./microblog"] | ["microblog" | "./microblog", "serve"]
    )
}

/// An app started by a page, in a terminal of its own.
struct App {
    run: Running,
    line: usize,
}

/// A student working through one page: a home folder with the project's clone in it, a
/// shell's settings, the apps started and the values read so far.
pub struct Student {
    /// First, so that the apps are stopped before their folder goes.
    apps: Vec<App>,
    page: String,
    _home: tempfile::TempDir,
    home: PathBuf,
    cwd: PathBuf,
    pub ports: [u16; 2],
    env: Vec<(String, String)>,
    pub values: Values,
    names: BTreeSet<String>,
    pub browsers: std::collections::BTreeMap<String, common::Browser>,
}

impl Student {
    fn new(page: &str, names: BTreeSet<String>) -> Self {
        let home_dir = tempfile::tempdir().expect("a home folder");
        let home = home_dir.path().to_path_buf();
        let clone = home.join("microblog");
        let repo = repository();
        std::fs::create_dir_all(clone.join("target/release")).unwrap();
        std::fs::create_dir_all(clone.join("target/debug")).unwrap();
        let binary = Path::new(env!("CARGO_BIN_EXE_microblog"));
        // What the project's commands read; the translations are copied, since
        // `translate init` writes there.
        for name in [
            "src",
            "templates",
            "static",
            "migrations",
            "Cargo.toml",
            ".env.example",
        ] {
            std::os::unix::fs::symlink(repo.join(name), clone.join(name)).unwrap();
        }
        copy_tree(&repo.join("locales"), &clone.join("locales"));
        // The binary cargo built, as a script that runs it: a copy of it (to `~/site`) stays
        // a few bytes, and runs as the same process.
        for dir in ["target/release", "target/debug"] {
            let script = clone.join(dir).join("microblog");
            std::fs::write(
                &script,
                format!("#!/bin/sh\nexec '{}' \"$@\"\n", binary.display()),
            )
            .unwrap();
            std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        let bin = home.join(".local/bin");
        std::fs::create_dir_all(&bin).unwrap();
        std::os::unix::fs::symlink(binary, bin.join("microblog")).unwrap();
        let first = free_port();
        let ports = [
            first,
            std::iter::repeat_with(free_port)
                .find(|&p| p != first)
                .unwrap(),
        ];
        let env = vec![
            (
                "PATH".to_owned(),
                format!(
                    "{}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                    bin.display()
                ),
            ),
            ("HOME".to_owned(), home.display().to_string()),
            ("USER".to_owned(), "student".to_owned()),
            ("TERM".to_owned(), "xterm".to_owned()),
            ("LANG".to_owned(), "C.UTF-8".to_owned()),
            ("TZ".to_owned(), "UTC".to_owned()),
            // The app's own port when a command names none (5000 on the page).
            ("PORT".to_owned(), ports[0].to_string()),
            ("BCRYPT_COST".to_owned(), "4".to_owned()),
        ];
        Self {
            page: page.to_owned(),
            _home: home_dir,
            home,
            cwd: clone,
            ports,
            env,
            apps: Vec::new(),
            values: Values::new(),
            names,
            browsers: std::collections::BTreeMap::new(),
        }
    }

    /// The app on port 5000 of the page, as a browser reaches it.
    pub fn address(&self) -> String {
        format!("http://127.0.0.1:{}", self.ports[0])
    }

    /// The folder the page's commands are in now.
    pub fn cwd(&self) -> &Path {
        &self.cwd
    }

    /// The command as it is run: placeholders filled in, the free ports, the binary.
    fn command(&self, line: usize, typed: &str) -> String {
        let mut command = typed.to_owned();
        for name in expect::placeholders(typed) {
            let value = self.values.get(&name).unwrap_or_else(|| {
                panic!(
                    "{}:{line}: `<{name}>` is typed before any output or browser step gives it",
                    self.page
                )
            });
            command = command.replace(&format!("<{name}>"), value);
        }
        for (page_port, port) in [("5000", self.ports[0]), ("5001", self.ports[1])] {
            for prefix in [":", "PORT="] {
                command = replace_number(&command, prefix, page_port, &port.to_string());
            }
        }
        let command = without_cargo_run(&command);
        assert!(
            !command.split_whitespace().any(|w| w == "cargo"),
            "{}:{line}: cargo itself cannot run in the tests: put `{typed}` in a `sh` block and \
             say why",
            self.page
        );
        command
    }

    /// A screen as the page shows it: the free ports as 5000 and 5001.
    fn as_on_the_page(&self, screen: Vec<String>) -> Vec<String> {
        screen
            .into_iter()
            .map(|line| {
                let mut line = line;
                for (page_port, port) in [("5000", self.ports[0]), ("5001", self.ports[1])] {
                    for prefix in [":", "port "] {
                        line = replace_number(&line, prefix, &port.to_string(), page_port);
                    }
                }
                line
            })
            .collect()
    }

    /// Checks a screen against the page's lines, keeping the placeholders' values.
    fn check(&mut self, line: usize, what: &str, expected: &[String], screen: Vec<String>) {
        let actual = self.as_on_the_page(screen);
        match expect::matches(expected, &actual, &self.names, &self.values) {
            Some(values) => self.values = values,
            None => panic!(
                "{}:{line}: {what} printed\n\n{}\n\nbut the page shows\n\n{}\n",
                self.page,
                indent(&actual),
                indent(expected)
            ),
        }
    }

    fn type_command(&mut self, line: usize, typed: &str, expected: &[String]) {
        let command = self.command(line, typed);
        if let Some(folder) = command.strip_prefix("cd ") {
            let folder = folder.trim();
            let to = match folder.strip_prefix('~') {
                Some(rest) => self.home.join(rest.trim_start_matches('/')),
                None => self.cwd.join(folder),
            };
            assert!(to.is_dir(), "{}:{line}: no folder {folder}", self.page);
            self.cwd = to;
            return self.check(line, typed, expected, Vec::new());
        }
        if starts_the_app(&command) {
            return self.start_app(line, typed, &command, expected);
        }
        let mut run = Running::start(&command, &self.cwd, &self.env).expect("bash");
        if run.wait(Duration::from_secs(120)).is_none() {
            panic!(
                "{}:{line}: `{typed}` did not end within two minutes:\n{}",
                self.page,
                indent(&run.screen())
            );
        }
        self.check(line, typed, expected, run.screen());
    }

    /// Starts the app in a terminal of its own and waits until it serves (or has stopped).
    fn start_app(&mut self, line: usize, typed: &str, command: &str, expected: &[String]) {
        let mut run = Running::start(command, &self.cwd, &self.env).expect("bash");
        let started = Instant::now();
        loop {
            let screen = run.screen();
            let serving = screen.iter().find_map(|l| {
                let after = &l[l.find("serving on http://")? + "serving on http://".len()..];
                let port: String = after
                    .split(' ')
                    .next()?
                    .rsplit_once(':')
                    .map_or("", |(_, p)| p)
                    .chars()
                    .take_while(char::is_ascii_digit)
                    .collect();
                port.parse::<u16>().ok()
            });
            if let Some(port) = serving
                && TcpStream::connect(("127.0.0.1", port)).is_ok()
            {
                break;
            }
            if !run.is_running() {
                run.wait(Duration::from_secs(5));
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "{}:{line}: `{typed}` did not serve within a minute:\n{}",
                self.page,
                indent(&screen)
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        // A person reads the first lines before doing anything else (a Ctrl-C within a few
        // milliseconds of the start finds actix's workers not yet started, and says so).
        std::thread::sleep(Duration::from_millis(250));
        let screen = run.screen();
        self.apps.push(App { run, line });
        self.check(line, typed, expected, screen);
    }

    /// The app whose terminal the page looks at: the last one started that is still watched.
    fn app(&mut self, line: usize) -> App {
        self.apps
            .pop()
            .unwrap_or_else(|| panic!("{}:{line}: no app is running here", self.page))
    }

    /// Ctrl-C in the app's terminal; what it prints from then on, as it stops.
    fn interrupt(&mut self, line: usize, expected: &[String]) {
        let mut app = self.app(line);
        let before = app.run.screen().len();
        app.run.signal(libc::SIGINT);
        let status = app.run.wait(Duration::from_secs(40));
        assert!(
            status.is_some_and(|s| s.success()),
            "{}:{line}: the app started on line {} did not stop after Ctrl-C as it should \
             ({status:?}):\n{}",
            self.page,
            app.line,
            indent(&app.run.screen())
        );
        let after = app.run.screen().split_off(before);
        self.check(line, "Ctrl-C", expected, after);
    }

    /// The app's terminal once it stopped: its last lines.
    fn watch(&mut self, line: usize, expected: &[String]) {
        let mut app = self.app(line);
        let status = app.run.wait(Duration::from_secs(40));
        assert!(
            status.is_some(),
            "{}:{line}: the app started on line {} did not stop:\n{}",
            self.page,
            app.line,
            indent(&app.run.screen())
        );
        let mut last = vec!["...".to_owned()];
        last.extend_from_slice(expected);
        self.check(line, "the app's terminal", &last, app.run.screen());
    }
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

fn indent(lines: &[String]) -> String {
    lines
        .iter()
        .map(|l| format!("    {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn read_page(page: &str) -> Vec<Block> {
    let text = std::fs::read_to_string(repository().join("docs").join(page)).expect("the page");
    markdown::blocks(&text)
}

/// Runs the commands of a page, in order, as a student would.
async fn run_page(page: &str) {
    let started = Instant::now();
    let blocks = read_page(page);
    let names: BTreeSet<String> = blocks
        .iter()
        .filter_map(|b| match &b.kind {
            Kind::Run(items) => Some(items),
            Kind::NotRun(_) => None,
        })
        .flatten()
        .filter_map(|item| match item {
            Item::Command { text, .. } => Some(expect::placeholders(text)),
            _ => None,
        })
        .flatten()
        .collect();
    let mut student = Student::new(page, names);
    let mut commands = 0;
    for block in &blocks {
        let Kind::Run(items) = &block.kind else {
            continue;
        };
        for item in items {
            match item {
                Item::Command {
                    line,
                    text,
                    expected,
                } => {
                    browser::before(page, text, &mut student).await;
                    student.type_command(*line, text, expected);
                    commands += 1;
                }
                Item::Interrupt { line, expected } => student.interrupt(*line, expected),
                Item::Watch { line, expected } => student.watch(*line, expected),
            }
        }
    }
    assert!(commands > 0, "{page} has no command to run");
    eprintln!(
        "docs/{page}: {commands} commands in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

macro_rules! pages {
    ($($test:ident: $page:literal,)*) => {
        $(
            #[actix_web::test]
            async fn $test() {
                run_page($page).await;
            }
        )*
        /// The pages with commands to run, each a test above.
        const PAGES: &[&str] = &[$($page),*];
    };
}

pages! {
    hello_world: "01-hello-world.md",
    web_forms: "03-web-forms.md",
    database: "04-database.md",
    error_handling: "07-error-handling.md",
    pagination: "09-pagination.md",
    email_support: "10-email-support.md",
    i18n_and_l10n: "13-i18n-and-l10n.md",
    ajax: "14-ajax.md",
    application_structure: "15-application-structure.md",
    full_text_search: "16-full-text-search.md",
    deployment: "17-19-deployment.md",
    javascript_magic: "20-some-javascript-magic.md",
    user_notifications: "21-user-notifications.md",
    background_jobs: "22-background-jobs.md",
    apis: "23-apis.md",
    federation: "24-federation.md",
    deleting: "deleting.md",
    limits: "limits.md",
}

fn all_pages() -> Vec<String> {
    let mut pages: Vec<String> = std::fs::read_dir(repository().join("docs"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".md"))
        .collect();
    pages.sort();
    pages
}

#[test]
fn every_page_with_commands_to_run_has_its_test() {
    let with_commands: Vec<String> = all_pages()
        .into_iter()
        .filter(|page| {
            read_page(page)
                .iter()
                .any(|b| matches!(b.kind, Kind::Run(_)))
        })
        .collect();
    let tested: Vec<String> = PAGES.iter().map(|p| (*p).to_owned()).collect();
    assert_eq!(with_commands, tested, "add each page to `pages!`, in order");
}

/// `docs/README.md` says how many commands the tests run and how many cannot run here.
#[test]
fn the_readme_counts_the_commands_as_they_are() {
    let (mut run, mut not_run) = (0, 0);
    for page in all_pages() {
        let (r, n) = markdown::count(&read_page(&page));
        run += r;
        not_run += n;
    }
    let readme = std::fs::read_to_string(repository().join("docs/README.md")).unwrap();
    let said = format!("the tests run {run} commands, and {not_run} cannot run here");
    assert!(
        readme.replace('\n', " ").contains(&said),
        "docs/README.md should say \"{said}\""
    );
}

/// A step of a "Trying it" section that names a command outside a block: the command must be
/// one that a block of the guide holds (run there, or said why not).
#[test]
fn the_commands_a_step_names_are_in_blocks() {
    let starts = [
        "cargo ",
        "curl ",
        "sqlite3 ",
        "microblog ",
        "./microblog",
        "kill ",
        "http ",
        "grep ",
    ];
    let mut in_blocks = BTreeSet::new();
    let mut spans = Vec::new();
    for page in all_pages() {
        let text = std::fs::read_to_string(repository().join("docs").join(&page)).unwrap();
        for block in markdown::blocks(&text) {
            match block.kind {
                Kind::Run(items) => {
                    for item in items {
                        if let Item::Command { text, .. } = item {
                            in_blocks.insert(without_cargo_run(&text));
                        }
                    }
                }
                Kind::NotRun(commands) => {
                    in_blocks.extend(commands.iter().map(|c| without_cargo_run(c)));
                }
            }
        }
        let mut section = "";
        let mut fenced = false;
        for line in text.lines() {
            if line.trim_start().starts_with("```") {
                fenced = !fenced;
            }
            if let Some(heading) = line.strip_prefix("## ") {
                section = heading;
            }
            if fenced || !(section == "Trying it" || section == "Seeing one") {
                continue;
            }
            for (i, span) in line.split('`').enumerate() {
                if i % 2 == 1 && starts.iter().any(|s| span.starts_with(s)) {
                    spans.push((page.clone(), span.to_owned()));
                }
            }
        }
    }
    let loose: Vec<String> = spans
        .into_iter()
        .filter(|(_, span)| !in_blocks.contains(&without_cargo_run(span)))
        .map(|(page, span)| format!("{page}: `{span}`"))
        .collect();
    assert!(
        loose.is_empty(),
        "commands named in a step but in no block of the guide:\n{}",
        loose.join("\n")
    );
}

#[test]
fn the_binary_stands_for_cargo_run_and_the_ports_are_swapped() {
    assert_eq!(without_cargo_run("cargo run"), "microblog");
    assert_eq!(
        without_cargo_run("PORT=5001 cargo run -- db upgrade"),
        "PORT=5001 microblog db upgrade"
    );
    assert_eq!(
        without_cargo_run("cargo run --release -- --help"),
        "microblog --help"
    );
    assert!(starts_the_app("HOST=0.0.0.0 LOG_TO_STDOUT=1 ./microblog"));
    assert!(starts_the_app("microblog serve"));
    assert!(!starts_the_app("microblog db upgrade"));
    assert_eq!(
        replace_number("http://127.0.0.1:5000/x :50001", ":", "5000", "41234"),
        "http://127.0.0.1:41234/x :50001"
    );
}
