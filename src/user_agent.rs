//! A browser as people name it ("Chrome on Linux"), read from its `User-Agent`, for the page
//! that lists where a user is logged in.
//!
//! Every browser's `User-Agent` names others for compatibility (Chrome's says "Safari", Edge's
//! says "Chrome"), so the most specific names are looked for first.

/// `("Chrome", "Linux")`, or `None` for a `User-Agent` we do not recognise.
pub fn describe(user_agent: &str) -> Option<(&'static str, &'static str)> {
    let has = |token: &str| user_agent.contains(token);
    let browser = if has("Edg/") || has("EdgA/") || has("EdgiOS/") {
        "Edge"
    } else if has("OPR/") || has("Opera") {
        "Opera"
    } else if has("SamsungBrowser/") {
        "Samsung Internet"
    } else if has("Vivaldi/") {
        "Vivaldi"
    } else if has("Firefox/") || has("FxiOS/") {
        "Firefox"
    } else if has("Chromium/") {
        "Chromium"
    } else if has("Chrome/") || has("CriOS/") {
        "Chrome"
    } else if has("Safari/") && (has("Version/") || has("Mobile/")) {
        "Safari"
    } else if user_agent.starts_with("curl/") {
        "curl"
    } else {
        return None;
    };
    let system = if has("Android") {
        "Android"
    } else if has("iPhone") || has("iPod") {
        "iOS"
    } else if has("iPad") {
        "iPadOS"
    } else if has("Windows") {
        "Windows"
    } else if has("CrOS") {
        "ChromeOS"
    } else if has("Mac OS X") || has("Macintosh") {
        "macOS"
    } else if has("Linux") || has("X11") {
        "Linux"
    } else {
        return Some((browser, ""));
    };
    Some((browser, system))
}

#[cfg(test)]
mod tests {
    use super::describe;

    #[test]
    fn common_browsers_are_named_as_people_name_them() {
        let cases = [
            (
                "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
                ("Chrome", "Linux"),
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
                ("Edge", "Windows"),
            ),
            (
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.7; rv:133.0) Gecko/20100101 Firefox/133.0",
                ("Firefox", "macOS"),
            ),
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
                ("Safari", "iOS"),
            ),
            (
                "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36",
                ("Samsung Internet", "Android"),
            ),
        ];
        for (ua, named) in cases {
            assert_eq!(describe(ua), Some(named), "{ua}");
        }
        assert_eq!(describe("PhoneBrowser/2.0"), None);
        assert_eq!(describe(""), None);
    }
}
