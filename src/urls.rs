//! Flask's `url_for`, for the URLs the app builds itself: a user's page, a page to come back to
//! after logging in (`?next=`), and whether a `next` a client sent may be followed.

use actix_web::HttpRequest;

/// Everything but unreserved characters (RFC 3986), for URL components.
const COMPONENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Percent-encodes a URL component (everything but unreserved characters), for `?next=` values
/// and `/user/<name>` links; templates have it as the `urlencode` filter.
pub fn encode_component(value: &str) -> String {
    percent_encoding::utf8_percent_encode(value, COMPONENT).collect()
}

/// [`encode_component`], appended to a string being built.
pub fn push_encoded_component(out: &mut String, value: &str) {
    out.extend(percent_encoding::utf8_percent_encode(value, COMPONENT));
}

/// `url_for('main.user', username=...)`: `/user/<name>`, the name percent-encoded.
pub fn user_url(username: &str) -> String {
    let mut url = String::with_capacity("/user/".len() + username.len());
    url.push_str("/user/");
    push_encoded_component(&mut url, username);
    url
}

/// `view?next=<target>`: a page that sends the visitor on to `target` afterwards.
pub fn with_next(view: &str, target: &str) -> String {
    format!("{view}?next={}", encode_component(target))
}

/// The `next` parameter, kept only if it is a path on this site: one leading `/`, no `//`, no
/// backslash, no scheme, no control characters. Anything else could send a user who just
/// logged in to another site.
pub fn safe_next(next: Option<&str>) -> Option<String> {
    let next = next?;
    let ok = next.starts_with('/')
        && !next.contains("//")
        && !next.contains('\\')
        && !next.chars().any(char::is_control);
    ok.then(|| next.to_owned())
}

/// The request's `?next=`, if it is a safe local path ([`safe_next`]).
pub fn next_param(req: &HttpRequest) -> Option<String> {
    let pairs = crate::form::parse_urlencoded(req.query_string().as_bytes()).ok()?;
    let next = pairs.into_iter().find(|(k, _)| k == "next").map(|(_, v)| v);
    safe_next(next.as_deref())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_safe_next_targets() {
        for good in ["/index", "/user/susan?page=2", "/explore#top", "/a:b"] {
            assert_eq!(safe_next(Some(good)).as_deref(), Some(good), "{good}");
        }
        for bad in [
            "https://evil.example",
            "//evil.example",
            "/\\evil.example",
            "javascript:alert(1)",
            "/ok\r\nSet-Cookie: x",
            "index",
            "",
        ] {
            assert_eq!(safe_next(Some(bad)), None, "{bad:?}");
        }
    }

    #[test]
    fn user_urls_and_next_targets_are_percent_encoded() {
        assert_eq!(user_url("José"), "/user/Jos%C3%A9");
        assert_eq!(
            with_next("/auth/login", "/user/susan?page=2"),
            "/auth/login?next=%2Fuser%2Fsusan%3Fpage%3D2"
        );
    }
}
