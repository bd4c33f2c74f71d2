//! HTML from other servers. A Note's `content` is HTML written by a stranger: it is cleaned by
//! `ammonia` (an allow-list sanitiser built on html5ever, the HTML parser of Servo) before it is
//! stored, keeping only what Mastodon keeps: paragraphs, line breaks, links (http and https
//! only, marked `rel="nofollow noopener noreferrer"`), the spans Mastodon wraps mentions and
//! hashtags in, emphasis, code, quotes and lists. Headings become bold paragraphs and other
//! blocks (`div`, tables, sections) paragraphs, as Mastodon does, so their texts do not run
//! together. Everything else (scripts, styles, attributes, images, forms) is dropped. Its text,
//! for search and for the places that show text, is the same HTML with no tag kept.

use std::collections::HashSet;
use std::sync::LazyLock;

use crate::render::push_escaped;

/// The most characters of remote HTML kept (a Mastodon post is 500 characters of text; its
/// HTML with links is a few times more).
pub const MAX_HTML: usize = 20_000;

static CLEANER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let mut builder = ammonia::Builder::empty();
    builder
        .tags(HashSet::from([
            "p",
            "br",
            "a",
            "span",
            "strong",
            "b",
            "em",
            "i",
            "u",
            "del",
            "s",
            "code",
            "pre",
            "blockquote",
            "ul",
            "ol",
            "li",
        ]))
        .tag_attributes(std::collections::HashMap::from([(
            "a",
            HashSet::from(["href"]),
        )]))
        .url_schemes(HashSet::from(["http", "https"]))
        .link_rel(Some("nofollow noopener noreferrer"))
        .strip_comments(true);
    builder
});

static TEXT: LazyLock<ammonia::Builder<'static>> = LazyLock::new(ammonia::Builder::empty);

/// `html`, cleaned: only the allowed tags and attributes are left.
pub fn sanitise(html: &str) -> String {
    let html = blocks_as_paragraphs(&truncate(html, MAX_HTML));
    CLEANER.clean(&html).to_string()
}

/// Elements the allow-list drops that stand for a block of their own: each becomes a paragraph
/// (a heading a bold one), so that its text does not run into the next block's.
const HEADINGS: [&str; 6] = ["h1", "h2", "h3", "h4", "h5", "h6"];
const BLOCKS: [&str; 14] = [
    "div",
    "section",
    "article",
    "header",
    "footer",
    "aside",
    "main",
    "nav",
    "figure",
    "figcaption",
    "table",
    "tr",
    "dt",
    "dd",
];

/// `html` with its headings and other blocks written as paragraphs. Only tags are rewritten
/// (their attributes dropped); the result is cleaned by the allow-list like any other HTML.
fn blocks_as_paragraphs(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        out.push_str(&rest[..start]);
        let tag = &rest[start..];
        let closing = tag.as_bytes().get(1) == Some(&b'/');
        let name_at = if closing { 2 } else { 1 };
        let name_len = tag[name_at..]
            .find(|c: char| !c.is_ascii_alphanumeric())
            .unwrap_or(tag.len() - name_at);
        let name = tag[name_at..name_at + name_len].to_ascii_lowercase();
        let heading = HEADINGS.contains(&name.as_str());
        let block = heading || BLOCKS.contains(&name.as_str());
        match tag_end(tag).filter(|_| block && name_len > 0) {
            Some(end) => {
                out.push_str(match (heading, closing) {
                    (true, false) => "<p><strong>",
                    (true, true) => "</strong></p>",
                    (false, false) => "<p>",
                    (false, true) => "</p>",
                });
                rest = &tag[end..];
            }
            None => {
                out.push('<');
                rest = &tag[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Where the tag at the start of `tag` ends (just after its `>`), quotes read; `None` when it
/// never does.
fn tag_end(tag: &str) -> Option<usize> {
    let mut quote = None;
    for (i, c) in tag.char_indices().skip(1) {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '>') => return Some(i + 1),
            _ => {}
        }
    }
    None
}

/// The text of `html`: every tag dropped, paragraphs, list items and line breaks as line ends,
/// entities read.
pub fn to_text(html: &str) -> String {
    let mut html = blocks_as_paragraphs(&truncate(html, MAX_HTML)).replace("<br", "\n<br");
    for end in ["</p>", "</li>", "</blockquote>", "</pre>"] {
        html = html.replace(end, &format!("{end}\n"));
    }
    // What `ammonia` leaves of text is escaped HTML; read the five entities it writes.
    let mut escaped = TEXT.clean(&html).to_string();
    // An empty block leaves an empty line: one line end between texts is enough.
    while escaped.contains("\n\n") {
        escaped = escaped.replace("\n\n", "\n");
    }
    escaped
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&nbsp;", "\u{a0}")
        .replace("&amp;", "&")
        .trim()
        .to_owned()
}

/// Text escaped for HTML: what a local post's body becomes in a Note's `content`.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' => out.push_str("<br>"),
            c => push_escaped(&mut out, c),
        }
    }
    out
}

/// At most `max` characters of `text`, with `…` when cut.
pub fn truncate(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        None => text.to_owned(),
        Some(_) => {
            let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
            cut.push('…');
            cut
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_allowed_html_is_kept() {
        let dirty = r#"<p onclick="x()">Hi <script>alert(1)</script><a href="javascript:alert(1)">j</a> <a href="https://b.example/@mary" class="u-url mention">@<span>mary</span></a><img src=x onerror=alert(1)><style>p{}</style></p>"#;
        let clean = sanitise(dirty);
        assert_eq!(
            clean,
            "<p>Hi <a rel=\"nofollow noopener noreferrer\">j</a> <a href=\"https://b.example/@mary\" rel=\"nofollow noopener noreferrer\">@<span>mary</span></a></p>"
        );
    }

    #[test]
    fn the_text_of_html_keeps_its_lines_and_characters() {
        assert_eq!(
            to_text("<p>a &amp; b &lt;3</p><p>second<br>line</p>"),
            "a & b <3\nsecond\nline"
        );
        assert_eq!(to_text("<script>x</script>hi"), "hi");
    }

    #[test]
    fn headings_and_blocks_become_paragraphs_and_lists_stay_lists() {
        let html = r#"<h1 class="x">Title</h1><div title="a>b">one</div><DIV>two</DIV><ul><li><em>a</em></li><li>b</li></ul><blockquote><code>c</code></blockquote><table><tr><td>t</td></tr></table>"#;
        assert_eq!(
            sanitise(html),
            "<p><strong>Title</strong></p><p>one</p><p>two</p><ul><li><em>a</em></li><li>b</li></ul><blockquote><code>c</code></blockquote><p></p><p>t</p><p></p>"
        );
        assert_eq!(to_text(html), "Title\none\ntwo\na\nb\nc\nt");
        // A heading is never a tag the allow-list keeps, and what is not a tag stays text.
        assert_eq!(
            sanitise("<h2 onclick=x>h</h2> 1 < 2"),
            "<p><strong>h</strong></p> 1 &lt; 2"
        );
        assert_eq!(sanitise("<h1"), "");
    }

    #[test]
    fn long_text_is_cut_with_an_ellipsis() {
        assert_eq!(truncate("abcdef", 4), "abc…");
        assert_eq!(truncate("abcd", 4), "abcd");
        assert_eq!(escape("<a & 'b'>"), "&lt;a &amp; &#39;b&#39;&gt;");
    }
}
