//! HTML from other servers. A Note's `content` is HTML written by a stranger: it is cleaned by
//! `ammonia` (an allow-list sanitiser built on html5ever, the HTML parser of Servo) before it is
//! stored, keeping only paragraphs, line breaks, links (http and https only, marked
//! `rel="nofollow noopener noreferrer"`) and the spans Mastodon wraps mentions and hashtags in.
//! Everything else (scripts, styles, attributes, images, forms) is dropped. Its text, for
//! search and for the places that show text, is the same HTML with no tag kept.

use std::collections::HashSet;
use std::sync::LazyLock;

/// The most characters of remote HTML kept (a Mastodon post is 500 characters of text; its
/// HTML with links is a few times more).
pub const MAX_HTML: usize = 20_000;

static CLEANER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let mut builder = ammonia::Builder::empty();
    builder
        .tags(HashSet::from(["p", "br", "a", "span"]))
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
    let html = truncate(html, MAX_HTML);
    CLEANER.clean(&html).to_string()
}

/// The text of `html`: every tag dropped, paragraphs and line breaks as line ends, entities
/// read.
pub fn to_text(html: &str) -> String {
    let html = truncate(html, MAX_HTML)
        .replace("</p>", "</p>\n")
        .replace("<br", "\n<br");
    // What `ammonia` leaves of text is escaped HTML; read the five entities it writes.
    let escaped = TEXT.clean(&html).to_string();
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
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\n' => out.push_str("<br>"),
            c => out.push(c),
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
    fn long_text_is_cut_with_an_ellipsis() {
        assert_eq!(truncate("abcdef", 4), "abc…");
        assert_eq!(truncate("abcd", 4), "abcd");
        assert_eq!(escape("<a & 'b'>"), "&lt;a &amp; &#39;b&#39;&gt;");
    }
}
