//! Flask: `app/translate.py` and langdetect (chapter 14): which language a post is written in,
//! and its text in another language from a translation service.
//!
//! Two services speak to us in their own formats: Microsoft Translator v3 (the tutorial's) and
//! LibreTranslate (free software a class can run on its own server). A call never takes more
//! than [`TIMEOUT`], and it waits on the network without holding a worker thread, so other pages
//! never wait for it.

use std::time::Duration;

use serde::Deserialize;
use serde_json::json;

use crate::config::TranslatorConfig;

/// The longest a translation may take before the reader is told it failed.
pub const TIMEOUT: Duration = Duration::from_secs(5);
/// The most of a service's answer we read.
const MAX_ANSWER: usize = 256 * 1024;
/// Microsoft Translator's public endpoint (`MS_TRANSLATOR_URL` names another, e.g. a regional
/// one).
pub const MICROSOFT_URL: &str = "https://api.cognitive.microsofttranslator.com";

/// langdetect's `detect()`: the ISO 639-1 code of the language `text` is written in, or `None`
/// when the guess is not reliable (short or mixed text).
pub fn detect_language(text: &str) -> Option<&'static str> {
    let info = whatlang::detect(text)?;
    if !info.is_reliable() {
        return None;
    }
    isolang::Language::from_639_3(info.lang().code())?.to_639_1()
}

/// Why a translation did not come.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    #[error("no translation service is configured")]
    NotConfigured,
    #[error("the translation service failed: {0}")]
    Service(String),
}

/// The configured service, if any.
pub struct Translator {
    config: Option<TranslatorConfig>,
}

impl Translator {
    pub fn new(config: Option<TranslatorConfig>) -> Self {
        Self { config }
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
        .map(|(k, v)| format!("{k}={}", crate::urls::encode_component(v)))
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
mod tests {
    use super::detect_language;

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
        assert_eq!(detect_language("ok"), None);
        assert_eq!(detect_language("1234 !!"), None);
    }
}
