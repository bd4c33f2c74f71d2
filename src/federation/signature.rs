//! HTTP Signatures as the Fediverse speaks them (draft-cavage-http-signatures, `rsa-sha256`),
//! and the `Digest` header of a body: making the `Signature` header of a request, reading one,
//! and checking it. Nothing here does I/O; `client.rs` signs what it sends, `inbox.rs` checks
//! what arrives.
//!
//! A signature covers a *signing string*: one line per signed header, `name: value`, in the
//! order the `headers` parameter lists them, where the pseudo-header `(request-target)` is the
//! method in lower case, a space and the path with its query. Mastodon signs and expects
//! `(request-target) host date digest` on a POST (`(request-target) host date` on a GET).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use rsa::pkcs1::DecodeRsaPublicKey as _;
use rsa::pkcs1v15::{Signature, VerifyingKey};
use rsa::pkcs8::{DecodePublicKey as _, EncodePrivateKey as _};
use rsa::pkcs8::{EncodePublicKey as _, LineEnding};
use rsa::signature::Verifier as _;
use rsa::{RsaPrivateKey, RsaPublicKey};
use sha2::{Digest as _, Sha256};

/// The size of the keys this instance makes: what Mastodon makes and accepts.
pub const KEY_BITS: usize = 2048;
/// The most headers a signature may list: more is not a real client.
const MAX_SIGNED_HEADERS: usize = 16;

/// Why a signature is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the Signature header is not of the form keyId=\"..\",headers=\"..\",signature=\"..\"")]
    Malformed,
    #[error("the algorithm {0:?} is not rsa-sha256 (nor hs2019 over an RSA key)")]
    Algorithm(String),
    #[error("the signature does not cover {0}")]
    NotCovered(&'static str),
    #[error("the signed header {0} is not in the request")]
    Missing(String),
    #[error("the public key cannot be read")]
    BadKey,
    #[error("the signature does not match")]
    Mismatch,
}

/// A key pair of a local user, as stored (PKCS#8 PEM for the private key, SPKI PEM for the
/// public one: the `-----BEGIN PUBLIC KEY-----` Mastodon publishes).
pub struct KeyPair {
    pub private_pem: String,
    pub public_pem: String,
}

/// Makes a new RSA key pair. Slow (a tenth of a second to seconds): call it off the async
/// threads.
pub fn generate() -> anyhow::Result<KeyPair> {
    let mut rng = rsa::rand_core::OsRng;
    let private = RsaPrivateKey::new(&mut rng, KEY_BITS)?;
    let public = RsaPublicKey::from(&private);
    Ok(KeyPair {
        private_pem: private.to_pkcs8_pem(LineEnding::LF)?.to_string(),
        public_pem: public.to_public_key_pem(LineEnding::LF)?,
    })
}

/// `SHA-256=<base64>`, the `Digest` header of `body` (RFC 3230).
pub fn digest(body: &[u8]) -> String {
    format!("SHA-256={}", STANDARD.encode(Sha256::digest(body)))
}

/// Whether a `Digest` header (possibly listing several algorithms) has the right SHA-256 of
/// `body`. A header without SHA-256 does not match: it is the one algorithm we check.
pub fn digest_matches(header: &str, body: &[u8]) -> bool {
    let wanted = STANDARD.encode(Sha256::digest(body));
    header.split(',').any(|part| {
        let (algorithm, value) = part.trim().split_once('=').unwrap_or_default();
        algorithm.eq_ignore_ascii_case("sha-256") && value.trim() == wanted
    })
}

/// The signing string over `headers` (names in lower case), reading each header's value with
/// `value_of`.
pub fn signing_string<'a>(
    headers: &[String],
    method: &str,
    path_and_query: &str,
    value_of: impl Fn(&str) -> Option<&'a str>,
) -> Result<String, SignatureError> {
    let mut lines = Vec::with_capacity(headers.len());
    for name in headers {
        let value = if name == "(request-target)" {
            format!("{} {path_and_query}", method.to_ascii_lowercase())
        } else {
            value_of(name)
                .ok_or_else(|| SignatureError::Missing(name.clone()))?
                .trim()
                .to_owned()
        };
        lines.push(format!("{name}: {value}"));
    }
    Ok(lines.join("\n"))
}

/// The `Signature` header of a request whose signing string is `signed` over `headers`,
/// signed with the PKCS#8 PEM `private_pem` (an RSA key) and named `key_id`.
///
/// Signed by OpenSSL (the C library libpq's TLS builds into the binary anyway), not by the
/// `rsa` crate: a post to followers on a hundred servers is a hundred signatures, and the `rsa`
/// crate's big numbers took 3 to 4 ms of CPU for each, OpenSSL about 0.4 ms; the jobs signing
/// a post's deliveries took a fifth of the machine from the pages (`docs/performance.md`).
pub fn sign(
    key_id: &str,
    private_pem: &str,
    headers: &[&str],
    signed: &str,
) -> anyhow::Result<String> {
    use openssl::{hash::MessageDigest, pkey::Id, pkey::PKey, sign::Signer};
    let key = PKey::private_key_from_pem(private_pem.as_bytes())?;
    anyhow::ensure!(key.id() == Id::RSA, "not an RSA key");
    // PKCS#1 v1.5, OpenSSL's padding for an RSA key unless told otherwise.
    let signature =
        Signer::new(MessageDigest::sha256(), &key)?.sign_oneshot_to_vec(signed.as_bytes())?;
    Ok(format!(
        "keyId=\"{key_id}\",algorithm=\"rsa-sha256\",headers=\"{}\",signature=\"{}\"",
        headers.join(" "),
        STANDARD.encode(signature)
    ))
}

/// A `Signature` header, read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureHeader {
    pub key_id: String,
    /// The signed headers, in lower case and in order (`date` alone when the header says none,
    /// as the draft says).
    pub headers: Vec<String>,
    pub signature: Vec<u8>,
}

impl SignatureHeader {
    /// Reads `keyId="..",algorithm="..",headers="..",signature=".."` (in any order).
    pub fn parse(value: &str) -> Result<Self, SignatureError> {
        let (mut key_id, mut headers, mut signature) = (None, None, None);
        let mut rest = value.trim();
        while !rest.is_empty() {
            let (name, after) = rest.split_once('=').ok_or(SignatureError::Malformed)?;
            let after = after.strip_prefix('"').ok_or(SignatureError::Malformed)?;
            let (quoted, after) = after.split_once('"').ok_or(SignatureError::Malformed)?;
            match name.trim() {
                "keyId" => key_id = Some(quoted.to_owned()),
                "headers" => headers = Some(quoted.to_owned()),
                "signature" => signature = Some(quoted.to_owned()),
                // hs2019 names no algorithm: the key's decides, and ours are RSA.
                "algorithm" if !matches!(quoted, "rsa-sha256" | "hs2019") => {
                    return Err(SignatureError::Algorithm(quoted.to_owned()));
                }
                _ => {} // created, expires: not used by Mastodon's rsa-sha256
            }
            rest = after.trim_start().trim_start_matches(',').trim_start();
        }
        let headers: Vec<String> = match headers {
            Some(h) => h.split_whitespace().map(str::to_ascii_lowercase).collect(),
            None => vec!["date".to_owned()],
        };
        if headers.is_empty() || headers.len() > MAX_SIGNED_HEADERS {
            return Err(SignatureError::Malformed);
        }
        let signature = STANDARD
            .decode(signature.ok_or(SignatureError::Malformed)?)
            .map_err(|_| SignatureError::Malformed)?;
        Ok(Self {
            key_id: key_id
                .filter(|k| !k.is_empty())
                .ok_or(SignatureError::Malformed)?,
            headers,
            signature,
        })
    }

    /// Whether the signature covers `name`.
    pub fn covers(&self, name: &'static str) -> Result<(), SignatureError> {
        if self.headers.iter().any(|h| h == name) {
            Ok(())
        } else {
            Err(SignatureError::NotCovered(name))
        }
    }
}

/// A public key as actors publish it: SPKI PEM (`BEGIN PUBLIC KEY`), or PKCS#1 (`BEGIN RSA
/// PUBLIC KEY`) as some older servers do.
pub fn public_key(pem: &str) -> Result<RsaPublicKey, SignatureError> {
    RsaPublicKey::from_public_key_pem(pem.trim())
        .or_else(|_| RsaPublicKey::from_pkcs1_pem(pem.trim()))
        .map_err(|_| SignatureError::BadKey)
}

/// Checks `signature` over the signing string `signed` with the public key `public_pem`.
pub fn verify(public_pem: &str, signed: &str, signature: &[u8]) -> Result<(), SignatureError> {
    let key = public_key(public_pem)?;
    let signature = Signature::try_from(signature).map_err(|_| SignatureError::Mismatch)?;
    VerifyingKey::<Sha256>::new(key)
        .verify(signed.as_bytes(), &signature)
        .map_err(|_| SignatureError::Mismatch)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A key made once for these tests (`openssl genpkey -algorithm RSA -pkeyopt
    /// rsa_keygen_bits:2048`), so the signature below is a fixed, known-good vector.
    const PRIVATE: &str = include_str!("testdata/private.pem");
    const PUBLIC: &str = include_str!("testdata/public.pem");
    /// The same key's public half as PKCS#1 (`openssl rsa -RSAPublicKey_out`).
    const PUBLIC_PKCS1: &str = include_str!("testdata/public-pkcs1.pem");
    /// `signed()` signed by `openssl dgst -sha256 -sign private.pem | base64 -w0`: made by an
    /// implementation other than this file's.
    const KNOWN_GOOD: &str = include_str!("testdata/signature.b64");

    const DATE: &str = "Mon, 07 Dec 2026 08:00:00 GMT";
    const BODY: &[u8] = br#"{"type":"Follow"}"#;

    fn headers() -> Vec<String> {
        ["(request-target)", "host", "date", "digest"]
            .map(str::to_owned)
            .to_vec()
    }

    fn signed() -> String {
        let digest = digest(BODY);
        signing_string(&headers(), "POST", "/user/susan/inbox", |name| match name {
            "host" => Some("b.example"),
            "date" => Some(DATE),
            "digest" => Some(digest.as_str()),
            _ => None,
        })
        .unwrap()
    }

    fn known_good() -> Vec<u8> {
        STANDARD.decode(KNOWN_GOOD.trim()).unwrap()
    }

    #[test]
    fn the_signing_string_has_a_line_per_header_in_order() {
        assert_eq!(
            signed(),
            "(request-target): post /user/susan/inbox\nhost: b.example\n\
             date: Mon, 07 Dec 2026 08:00:00 GMT\n\
             digest: SHA-256=GYwYnH3BiO6aICFt0ThC5bUIJ4byvqdpWtR8m5fNkww="
        );
    }

    #[test]
    fn a_signature_made_by_openssl_verifies() {
        assert_eq!(verify(PUBLIC, &signed(), &known_good()), Ok(()));
        assert_eq!(verify(PUBLIC_PKCS1, &signed(), &known_good()), Ok(()));
    }

    #[test]
    fn our_signature_is_the_known_good_one() {
        // PKCS#1 v1.5 is deterministic: the same key and string give the same bytes.
        let header = sign(
            "https://a.example/user/mary#main-key",
            PRIVATE,
            &["(request-target)", "host", "date", "digest"],
            &signed(),
        )
        .unwrap();
        let parsed = SignatureHeader::parse(&header).unwrap();
        assert_eq!(parsed.signature, known_good());
        assert_eq!(parsed.key_id, "https://a.example/user/mary#main-key");
        assert_eq!(parsed.headers, headers());
    }

    /// A post to followers on a hundred servers is a hundred signatures, made by the job
    /// runner beside the pages: each must cost well under the 3 to 4 ms of CPU the `rsa`
    /// crate's took (OpenSSL's take about 0.4 ms, 1 ms in a debug build). Counted in this
    /// thread's CPU time, which other work on the machine does not inflate as the clock's.
    #[test]
    fn a_hundred_signatures_cost_less_than_two_hundred_milliseconds_of_cpu() {
        fn thread_cpu() -> std::time::Duration {
            let mut t = libc::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            };
            // SAFETY: clock_gettime only writes the timespec it is given.
            let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut t) };
            assert_eq!(rc, 0);
            std::time::Duration::new(t.tv_sec as u64, t.tv_nsec as u32)
        }
        let headers = ["(request-target)", "host", "date", "digest"];
        sign("k", PRIVATE, &headers, &signed()).unwrap();
        let before = thread_cpu();
        for n in 0..100 {
            let host = format!("b{n}.example");
            sign(
                "k",
                PRIVATE,
                &headers,
                &signed().replace("b.example", &host),
            )
            .unwrap();
        }
        let used = thread_cpu() - before;
        assert!(used < std::time::Duration::from_millis(200), "{used:?}");
    }

    #[test]
    fn a_key_that_is_not_rsa_signs_nothing() {
        // An elliptic-curve key (`openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256`)
        // would make a signature that is not the `rsa-sha256` the header names.
        let ec = openssl::pkey::PKey::from_ec_key(
            openssl::ec::EcKey::generate(
                &openssl::ec::EcGroup::from_curve_name(openssl::nid::Nid::X9_62_PRIME256V1)
                    .unwrap(),
            )
            .unwrap(),
        )
        .unwrap();
        let pem = String::from_utf8(ec.private_key_to_pem_pkcs8().unwrap()).unwrap();
        assert!(sign("k", &pem, &["date"], "date: x").is_err());
    }

    #[test]
    fn forged_variants_do_not_verify() {
        let good = signed();
        // Another path, another host, another date, another body.
        for (from, to) in [
            ("/user/susan/inbox", "/inbox"),
            ("b.example", "c.example"),
            ("08:00:00", "08:00:01"),
            ("GYwYnH3", "GYwYnH4"),
        ] {
            let forged = good.replace(from, to);
            assert_eq!(
                verify(PUBLIC, &forged, &known_good()),
                Err(SignatureError::Mismatch),
                "{from} -> {to}"
            );
        }
        let mut flipped = known_good();
        flipped[10] ^= 1;
        assert_eq!(
            verify(PUBLIC, &good, &flipped),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(PUBLIC, &good, &flipped[..100]),
            Err(SignatureError::Mismatch)
        );
        // Another key.
        let other = generate().unwrap();
        assert_eq!(
            verify(&other.public_pem, &good, &known_good()),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify("not a key", &good, &known_good()),
            Err(SignatureError::BadKey)
        );
    }

    #[test]
    fn a_new_key_pair_signs_and_verifies() {
        let pair = generate().unwrap();
        assert!(pair.public_pem.starts_with("-----BEGIN PUBLIC KEY-----"));
        let header = sign("k", &pair.private_pem, &["date"], "date: x").unwrap();
        let parsed = SignatureHeader::parse(&header).unwrap();
        assert_eq!(
            verify(&pair.public_pem, "date: x", &parsed.signature),
            Ok(())
        );
    }

    #[test]
    fn signature_headers_are_read_strictly() {
        let parsed = SignatureHeader::parse(
            r#"signature="AAAA", keyId="https://b/x#k",algorithm="hs2019",headers="(request-target) Host date""#,
        )
        .unwrap();
        assert_eq!(parsed.headers, ["(request-target)", "host", "date"]);
        assert_eq!(parsed.covers("host"), Ok(()));
        assert_eq!(
            parsed.covers("digest"),
            Err(SignatureError::NotCovered("digest"))
        );
        let no_headers = SignatureHeader::parse(r#"keyId="k",signature="AAAA""#).unwrap();
        assert_eq!(no_headers.headers, ["date"]);
        for bad in [
            "",
            "keyId=k",
            r#"keyId="k",signature="!!!""#,
            r#"keyId="",signature="AAAA""#,
            r#"keyId="k",headers="date"#,
            r#"signature="AAAA""#,
        ] {
            assert_eq!(
                SignatureHeader::parse(bad),
                Err(SignatureError::Malformed),
                "{bad}"
            );
        }
        assert_eq!(
            SignatureHeader::parse(r#"keyId="k",algorithm="hmac-sha256",signature="AAAA""#),
            Err(SignatureError::Algorithm("hmac-sha256".into()))
        );
    }

    #[test]
    fn digests_match_only_their_body() {
        let header = digest(BODY);
        assert!(digest_matches(&header, BODY));
        assert!(digest_matches(
            &format!("MD5=abc, {}", header.replace("SHA-256", "sha-256")),
            BODY
        ));
        assert!(!digest_matches(&header, b"{}"));
        assert!(!digest_matches("SHA-512=abc", BODY));
        assert!(!digest_matches("", BODY));
    }
}
