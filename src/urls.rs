//! Flask's `url_for`, for the URLs the app builds itself: a user's page, a page to come back to
//! after logging in (`?next=`), whether a `next` a client sent may be followed, and the site's
//! own address for links that leave it (`_external=True`, in mails).

use actix_web::HttpRequest;
use actix_web::http::header;

use crate::config::Config;
use crate::form::parse_urlencoded;

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
    let pairs = parse_urlencoded(req.query_string().as_bytes()).ok()?;
    let next = pairs.into_iter().find(|(k, _)| k == "next").map(|(_, v)| v);
    safe_next(next.as_deref())
}

/// `url_for(..., _external=True)`'s start: `scheme://host` for links in mails.
///
/// The host is `SERVER_NAME` when it is set. Otherwise it is the request's `Host` header, but
/// only when that names this site: `HOST:PORT`, `localhost` or `127.0.0.1` on the port when
/// `HOST` is a loopback address, or one of `ALLOWED_HOSTS`. The header is the client's to
/// choose: taken as it comes, anyone could ask for a reset link for someone else's account and
/// have it mailed pointing to their own site (host header poisoning). `None` when the host is
/// not one of these.
pub fn site(config: &Config, req: &HttpRequest) -> Option<String> {
    let scheme = &config.preferred_url_scheme;
    if let Some(name) = &config.server_name {
        return Some(format!("{scheme}://{name}"));
    }
    let host = req.headers().get(header::HOST)?.to_str().ok()?;
    let host = host.trim().to_ascii_lowercase();
    serves(config, &host).then(|| format!("{scheme}://{host}"))
}

/// Whether `host` (`name` or `name:port`, lower case) is an address of this site.
fn serves(config: &Config, host: &str) -> bool {
    let plain = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'));
    if !plain {
        return false;
    }
    let (name, port) = match host.rsplit_once(':') {
        Some((name, port)) if !port.contains(']') => (name, Some(port)),
        _ => (host, None),
    };
    if config
        .allowed_hosts
        .iter()
        .any(|allowed| allowed == name || allowed == host)
    {
        return true;
    }
    let port_matches = match port {
        Some(port) => port.parse::<u16>().ok() == Some(config.port),
        None => config.port == 80 || config.port == 443,
    };
    let ours = name == config.host.to_ascii_lowercase()
        || (is_loopback(&config.host) && matches!(name, "localhost" | "127.0.0.1" | "[::1]"));
    port_matches && ours
}

fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host
            .trim_matches(|c| c == '[' || c == ']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(pairs: &[(&str, &str)]) -> Config {
        let dir = tempfile::tempdir().unwrap();
        let mut vars: std::collections::HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        vars.insert(
            "SECRET_KEY".into(),
            "a-secret-key-for-the-url-tests-0123".into(),
        );
        Config::from_vars(&vars, dir.path()).unwrap()
    }

    fn site_for(config: &Config, host: &str) -> Option<String> {
        let req = actix_web::test::TestRequest::default()
            .insert_header((header::HOST, host))
            .to_http_request();
        site(config, &req)
    }

    #[test]
    fn mail_links_use_only_a_host_the_site_serves() {
        let local = config(&[("PORT", "5000")]);
        assert_eq!(
            site_for(&local, "127.0.0.1:5000").as_deref(),
            Some("http://127.0.0.1:5000")
        );
        assert_eq!(
            site_for(&local, "LOCALHOST:5000").as_deref(),
            Some("http://localhost:5000")
        );
        for forged in [
            "evil.example",
            "evil.example:5000",
            "127.0.0.1:5001",
            "127.0.0.1:5000/evil",
            "127.0.0.1:5000@evil.example",
            "",
        ] {
            assert_eq!(site_for(&local, forged), None, "{forged:?}");
        }

        let listed = config(&[("HOST", "0.0.0.0"), ("ALLOWED_HOSTS", "microblog.example")]);
        assert_eq!(
            site_for(&listed, "microblog.example").as_deref(),
            Some("http://microblog.example")
        );
        assert_eq!(
            site_for(&listed, "0.0.0.0:5000").as_deref(),
            Some("http://0.0.0.0:5000")
        );
        assert_eq!(site_for(&listed, "evil.example"), None);

        let named = config(&[
            ("SERVER_NAME", "microblog.example"),
            ("SESSION_COOKIE_SECURE", "1"),
        ]);
        assert_eq!(
            site_for(&named, "evil.example").as_deref(),
            Some("https://microblog.example")
        );
    }

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
