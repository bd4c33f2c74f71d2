//! Flask: `app/translate.py` and langdetect (chapter 14): which language a post is written in,
//! and its text in another language from a translation service.
//!
//! Two services speak to us in their own formats: Microsoft Translator v3 (the tutorial's) and
//! LibreTranslate (free software a class can run on its own server). A call never takes more
//! than [`TIMEOUT`], and it waits on the network without holding a worker thread, so other pages
//! never wait for it.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::json;

use crate::config::TranslatorConfig;
use crate::urls::encode_component;

/// The longest a translation may take before the reader is told it failed.
pub const TIMEOUT: Duration = Duration::from_secs(5);
/// The most of a service's answer we read.
const MAX_ANSWER: usize = 256 * 1024;

/// langdetect's `detect()`: the ISO 639-1 code of the language `text` is written in, or `None`
/// when the guess is not sure (too short, mixed, or no words at all).
///
/// whatlang's guess is taken when it is reliable. A post of a few words seldom is (it has few
/// letter triples to compare), so a guess whatlang is unsure of is still taken when whichlang,
/// a second detector built another way (a linear model over 16 common languages), names the
/// same language, for a text of at least two words in Latin script. Not in other scripts:
/// there whichlang knows one language of each (Russian, Arabic, Hindi) and names it for every
/// neighbour (Bulgarian, Persian, Nepali), so its agreement proves nothing. Two detectors that
/// disagree leave the post unlabelled: no label is better than a wrong one, which would offer
/// a translation from the wrong language. (`docs/14-ajax.md` has the measurements.)
pub fn detect_language(text: &str) -> Option<&'static str> {
    let info = whatlang::detect(text)?;
    let sure = info.is_reliable()
        || (info.script() == whatlang::Script::Latin
            && words_at_least(text, 2)
            && whichlang::detect_language(text).three_letter_code() == info.lang().code());
    if !sure {
        return None;
    }
    // whatlang names Mandarin and Persian by codes that have no two-letter form of their own.
    match info.lang() {
        whatlang::Lang::Cmn => Some("zh"),
        whatlang::Lang::Pes => Some("fa"),
        lang => isolang::Language::from_639_3(lang.code())?.to_639_1(),
    }
}

/// Whether `text` holds at least `n` words (runs between spaces with a letter in them: a
/// number, an emoji or punctuation alone is not a word).
fn words_at_least(text: &str, n: usize) -> bool {
    text.split_whitespace()
        .filter(|w| w.chars().any(char::is_alphabetic))
        .nth(n - 1)
        .is_some()
}

/// Why a translation did not come.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    #[error("no translation service is configured")]
    NotConfigured,
    #[error("the translation service failed: {0}")]
    Service(String),
}

/// Translations one user may ask for at once; after that, one more every [`REFILL`]. A
/// translation costs the site money (Microsoft) or a class's server its time (LibreTranslate):
/// a reader clicks a few links, a script does not get to spend the budget.
pub const BURST: f64 = 30.0;
pub const REFILL: Duration = Duration::from_secs(2);
/// Users whose counts are kept before idle ones are forgotten.
const KEPT_USERS: usize = 10_000;

/// The configured service, if any, and what each user has used of it.
pub struct Translator {
    config: Option<TranslatorConfig>,
    /// Per user id: translations still allowed, as of when.
    allowance: Mutex<HashMap<i32, (f64, Instant)>>,
}

impl Translator {
    pub fn new(config: Option<TranslatorConfig>) -> Self {
        Self {
            config,
            allowance: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one translation from `user`'s allowance, or says how long until one is left.
    pub fn allow(&self, user: i32) -> Result<(), Duration> {
        let now = Instant::now();
        let mut all = self
            .allowance
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let refill = |(left, at): (f64, Instant)| {
            let earned = now.saturating_duration_since(at).as_secs_f64() / REFILL.as_secs_f64();
            (left + earned).min(BURST)
        };
        if all.len() >= KEPT_USERS {
            all.retain(|_, kept| refill(*kept) < BURST);
        }
        let left = all.get(&user).copied().map_or(BURST, refill);
        if left < 1.0 {
            all.insert(user, (left, now));
            return Err(REFILL.mul_f64(1.0 - left));
        }
        all.insert(user, (left - 1.0, now));
        Ok(())
    }

    /// Whether a service is configured at all.
    pub fn is_configured(&self) -> bool {
        self.config.is_some()
    }

    /// Flask's `translate(text, source_language, dest_language)`. `source` may be empty
    /// (unknown): LibreTranslate then detects it, Microsoft always does.
    pub async fn translate(&self, text: &str, source: &str, dest: &str) -> Result<String, Failure> {
        let Some(config) = &self.config else {
            return Err(Failure::NotConfigured);
        };
        let call = async {
            match config {
                TranslatorConfig::Microsoft { key, region, url } => {
                    microsoft(url, key, region.as_deref(), text, source, dest).await
                }
                TranslatorConfig::Libre { url, key } => {
                    libre(url, key.as_deref(), text, source, dest).await
                }
            }
        };
        match actix_web::rt::time::timeout(TIMEOUT, call).await {
            Ok(result) => result.map_err(Failure::Service),
            Err(_) => Err(Failure::Service(format!(
                "no answer within {} s",
                TIMEOUT.as_secs()
            ))),
        }
    }
}

thread_local! {
    /// One HTTP client per worker thread (awc's client lives on one thread), keeping
    /// connections to the service open between calls.
    static CLIENT: awc::Client = awc::Client::builder()
        .timeout(TIMEOUT)
        .finish();
}

/// POSTs `body` as JSON and reads a JSON answer of type `T`.
async fn post_json<T: for<'de> Deserialize<'de>>(
    url: &str,
    headers: &[(&str, &str)],
    body: serde_json::Value,
) -> Result<T, String> {
    let mut request = CLIENT.with(|c| c.post(url));
    for (name, value) in headers {
        request = request.insert_header((*name, *value));
    }
    let mut response = request
        .send_json(&body)
        .await
        .map_err(|e| format!("{url}: {e}"))?;
    let status = response.status();
    let bytes = response
        .body()
        .limit(MAX_ANSWER)
        .await
        .map_err(|e| format!("{url}: reading the answer: {e}"))?;
    if !status.is_success() {
        let text = String::from_utf8_lossy(&bytes);
        let text: String = text.chars().take(300).collect();
        return Err(format!("{url}: {status}: {text}"));
    }
    serde_json::from_slice(&bytes).map_err(|e| format!("{url}: unexpected answer: {e}"))
}

/// Microsoft Translator v3: `POST /translate?api-version=3.0&from=..&to=..` with the key (and
/// the resource's region, which the tutorial hard-codes) in headers, `[{"Text": ...}]` in the
/// body; the answer is `[{"translations": [{"text": ..., "to": ...}]}]`.
async fn microsoft(
    base: &str,
    key: &str,
    region: Option<&str>,
    text: &str,
    source: &str,
    dest: &str,
) -> Result<String, String> {
    #[derive(Deserialize)]
    struct Item {
        translations: Vec<Translation>,
    }
    #[derive(Deserialize)]
    struct Translation {
        text: String,
    }
    let mut query = vec![("api-version", "3.0"), ("to", dest)];
    if !source.is_empty() {
        query.push(("from", source));
    }
    let query = query_string(&query);
    let url = format!("{}/translate?{query}", base.trim_end_matches('/'));
    let mut headers = vec![("Ocp-Apim-Subscription-Key", key)];
    if let Some(region) = region {
        headers.push(("Ocp-Apim-Subscription-Region", region));
    }
    let items: Vec<Item> = post_json(&url, &headers, json!([{ "Text": text }])).await?;
    items
        .into_iter()
        .next()
        .and_then(|item| item.translations.into_iter().next())
        .map(|t| t.text)
        .ok_or_else(|| "the answer holds no translation".to_owned())
}

/// LibreTranslate: `POST /translate` with `{"q", "source", "target", "format", "api_key"}`; the
/// answer is `{"translatedText": ...}`.
async fn libre(
    base: &str,
    key: Option<&str>,
    text: &str,
    source: &str,
    dest: &str,
) -> Result<String, String> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Answer {
        translated_text: String,
    }
    let url = format!("{}/translate", base.trim_end_matches('/'));
    let mut body = json!({
        "q": text,
        "source": if source.is_empty() { "auto" } else { source },
        "target": dest,
        "format": "text",
    });
    if let Some(key) = key {
        body["api_key"] = json!(key);
    }
    let answer: Answer = post_json(&url, &[], body).await?;
    Ok(answer.translated_text)
}

/// `a=1&b=2`, each value percent-encoded.
fn query_string(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", encode_component(v)))
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
mod tests {
    use super::{BURST, Translator, detect_language};

    #[test]
    fn each_user_has_an_allowance_of_translations() {
        let translator = Translator::new(None);
        for _ in 0..BURST as usize {
            assert!(translator.allow(1).is_ok());
        }
        let wait = translator.allow(1).expect_err("the allowance is used up");
        assert!(wait <= super::REFILL, "{wait:?}");
        assert!(translator.allow(2).is_ok(), "another user has their own");
    }

    #[test]
    fn languages_are_detected_when_the_guess_is_reliable() {
        assert_eq!(
            detect_language("Hola, ¿cómo estás? Hoy hace muy buen tiempo en la ciudad."),
            Some("es")
        );
        assert_eq!(
            detect_language("The weather is lovely today, let us go for a walk in the park."),
            Some("en")
        );
        assert_eq!(
            detect_language("今天天气很好，我们去公园散步吧。我很喜欢这个城市。"),
            Some("zh")
        );
        assert_eq!(
            detect_language(
                "من هر روز صبح زود از خواب بیدار می‌شوم و قبل از رفتن به سر کار یک فنجان چای \
                 می‌نوشم. دوستانم می‌گویند که این عادت خوبی است و من هم همین فکر را می‌کنم."
            ),
            Some("fa")
        );
        assert_eq!(detect_language("ok"), None);
        assert_eq!(detect_language("1234 !!"), None);
    }

    /// `tests/languages/{en,es,fr,de}.txt`: everyday posts written for this test. None may be
    /// labelled wrong; of those of 8 words or more at least 95% in each language are labelled
    /// right, of the shorter ones at least 65% over all four languages (Spanish is the hardest).
    #[test]
    fn everyday_posts_are_labelled_and_never_wrongly() {
        let dir = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/languages"));
        let (mut short, mut short_right) = (0, 0);
        for lang in ["en", "es", "fr", "de"] {
            let text = std::fs::read_to_string(dir.join(format!("{lang}.txt"))).unwrap();
            let (mut long, mut long_right) = (0, 0);
            for line in text.lines().filter(|l| !l.starts_with('#')) {
                let got = detect_language(line);
                assert!(
                    got.is_none() || got == Some(lang),
                    "{line:?} labelled {got:?}"
                );
                let words = line
                    .split_whitespace()
                    .filter(|w| w.chars().any(char::is_alphabetic))
                    .count();
                let right = usize::from(got == Some(lang));
                if words < 8 {
                    short += 1;
                    short_right += right;
                } else {
                    long += 1;
                    long_right += right;
                }
            }
            assert!(long >= 25, "{lang}: only {long} long posts");
            assert!(
                long_right * 100 >= long * 95,
                "{lang}: {long_right} of {long} long posts"
            );
        }
        assert!(short >= 100, "only {short} short posts");
        assert!(
            short_right * 100 >= short * 65,
            "{short_right} of {short} short posts"
        );
    }
}
