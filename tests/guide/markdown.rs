//! The command blocks of a page of the guide.
//!
//! A ```` ```console ```` block is a terminal: `$ ` starts a command (a line ending with `\`
//! goes on on the next), the lines under it are what it prints, and a line `^C` is Ctrl-C
//! pressed in the terminal of the app started last. A block whose first line is not a command
//! is that terminal too: what the app printed last. A ```` ```sh ```` block holds commands the
//! tests cannot run, one a line (its `#` lines are comments); the page says why.

/// One fenced block of commands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    /// The line of its opening fence, counted from 1.
    pub line: usize,
    /// The `## ` heading the block is under.
    pub section: String,
    pub kind: Kind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// A `console` block: run by the tests.
    Run(Vec<Item>),
    /// A `sh` block: its commands, which cannot run here.
    NotRun(Vec<String>),
}

/// What a terminal block holds, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// A command and what the page says it prints.
    Command {
        line: usize,
        text: String,
        expected: Vec<String>,
    },
    /// Ctrl-C in the app's terminal (`^C`), then what it printed as it stopped.
    Interrupt { line: usize, expected: Vec<String> },
    /// The last lines the app printed before it stopped.
    Watch { line: usize, expected: Vec<String> },
}

impl Item {
    fn expected_mut(&mut self) -> &mut Vec<String> {
        match self {
            Self::Command { expected, .. }
            | Self::Interrupt { expected, .. }
            | Self::Watch { expected, .. } => expected,
        }
    }
}

/// The command blocks of a page, in order.
pub fn blocks(text: &str) -> Vec<Block> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    let mut section = String::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        if let Some(heading) = line.strip_prefix("## ") {
            section = heading.trim().to_owned();
        }
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        let Some(info) = trimmed.strip_prefix("```") else {
            i += 1;
            continue;
        };
        let start = i;
        let mut body = Vec::new();
        i += 1;
        while i < lines.len() && lines[i].trim() != "```" {
            // The block's lines, less the indentation of its fence (inside a list item).
            let content = lines[i];
            let cut = content.len() - content.trim_start().len();
            body.push((i + 1, &content[cut.min(indent)..]));
            i += 1;
        }
        i += 1;
        let kind = match info.trim() {
            "console" => Kind::Run(items(&body)),
            "sh" => Kind::NotRun(commands(&body)),
            _ => continue,
        };
        out.push(Block {
            line: start + 1,
            section: section.clone(),
            kind,
        });
    }
    out
}

/// The items of a `console` block.
fn items(body: &[(usize, &str)]) -> Vec<Item> {
    let mut items: Vec<Item> = Vec::new();
    let mut lines = body.iter();
    while let Some(&(number, line)) = lines.next() {
        if let Some(command) = line.strip_prefix("$ ") {
            let mut text = command.to_owned();
            while text.ends_with('\\') {
                let Some(&(_, next)) = lines.next() else {
                    break;
                };
                text.push('\n');
                text.push_str(next);
            }
            items.push(Item::Command {
                line: number,
                text,
                expected: Vec::new(),
            });
        } else if line.trim_end() == "^C" {
            items.push(Item::Interrupt {
                line: number,
                expected: Vec::new(),
            });
        } else {
            if items.is_empty() {
                items.push(Item::Watch {
                    line: number,
                    expected: Vec::new(),
                });
            }
            let last = items.last_mut().expect("an item");
            last.expected_mut().push(line.to_owned());
        }
    }
    for item in &mut items {
        let expected = item.expected_mut();
        while expected.last().is_some_and(|l| l.trim().is_empty()) {
            expected.pop();
        }
    }
    items
}

/// The commands of a `sh` block: its lines that are not comments, a line ending with `\` joined
/// to the next.
fn commands(body: &[(usize, &str)]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut continued = false;
    for &(_, line) in body {
        let line = line.trim();
        if continued {
            let last = out.last_mut().expect("a command to continue");
            last.push(' ');
            last.push_str(line.trim_end_matches('\\').trim());
        } else if !line.is_empty() && !line.starts_with('#') {
            out.push(line.trim_end_matches('\\').trim().to_owned());
        }
        continued = line.ends_with('\\');
    }
    out
}

/// How many commands the blocks hold: those the tests run, and those they cannot.
pub fn count(blocks: &[Block]) -> (usize, usize) {
    let mut run = 0;
    let mut not_run = 0;
    for block in blocks {
        match &block.kind {
            Kind::Run(items) => {
                run += items
                    .iter()
                    .filter(|item| matches!(item, Item::Command { .. }))
                    .count();
            }
            Kind::NotRun(commands) => not_run += commands.len(),
        }
    }
    (run, not_run)
}

#[test]
fn a_console_block_is_commands_their_output_and_the_apps_terminal() {
    let page = "## Trying it\n\n1. Start:\n\n   ```console\n   $ curl -i \\\n     http://x/\n   HTTP/1.1 200 OK\n   ...\n\n   $ true\n   ```\n\n```console\n^C\nstopped\n```\n\n```console\nthe last line\n```\n\n```sh\n# needs Docker\ndocker run \\\n  -p 1:2 x\ncargo build\n```\n\n```rust\nfn main() {}\n```\n";
    let found = blocks(page);
    assert_eq!(found.len(), 4);
    assert_eq!(found[0].section, "Trying it");
    assert_eq!(
        found[0].kind,
        Kind::Run(vec![
            Item::Command {
                line: 6,
                text: "curl -i \\\n  http://x/".to_owned(),
                expected: vec!["HTTP/1.1 200 OK".to_owned(), "...".to_owned()],
            },
            Item::Command {
                line: 11,
                text: "true".to_owned(),
                expected: vec![],
            },
        ])
    );
    assert_eq!(
        found[1].kind,
        Kind::Run(vec![Item::Interrupt {
            line: 15,
            expected: vec!["stopped".to_owned()],
        }])
    );
    assert_eq!(
        found[2].kind,
        Kind::Run(vec![Item::Watch {
            line: 20,
            expected: vec!["the last line".to_owned()],
        }])
    );
    assert_eq!(
        found[3].kind,
        Kind::NotRun(vec![
            "docker run -p 1:2 x".to_owned(),
            "cargo build".to_owned()
        ])
    );
    assert_eq!(count(&found), (2, 2));
}
