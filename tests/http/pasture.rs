//! The inbox against the odd objects real servers send (`docs/24-federation.md`): every example
//! of fediverse-pasture-inputs (PyPI, MIT; the inputs of https://funfedi.dev's support tables:
//! HTML of every kind, attachments, tags, language maps, missing and null fields, other object
//! types), wrapped in a `Create` by bovine's peer (`tests/federation/bovine_peer.py`), whom a
//! local user follows, signed by bovine and delivered to our inbox on loopback.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::common::{encode, spawn_federated};
use crate::federation::Peer;

const PUBLIC: &str = "https://www.w3.org/ns/activitystreams#Public";
const ACTIVITY_STREAMS: &str = "https://www.w3.org/ns/activitystreams";
/// The actor the examples are written for (the pasture's sender): the peer stands in for it.
const PASTURE_ACTOR: &str = "http://pasture-one-actor/actor";
/// The whole test, deliveries and pages, takes less than this (bovine gives up on one
/// delivery after 30 s).
const DEADLINE: Duration = Duration::from_secs(300);
/// The `rel` the sanitiser (`src/federation/html.rs`) gives every link it keeps.
const LINK_REL: &str = "nofollow noopener noreferrer";

/// Needs `BOVINE_PYTHON`: a Python with `bovine` 0.5 and `fediverse-pasture-inputs` installed
/// (`docs/24-federation.md`; `.ci/run` makes one).
#[actix_web::test]
#[ignore = "needs BOVINE_PYTHON, with bovine and fediverse-pasture-inputs (docs/24-federation.md)"]
async fn every_fediverse_pasture_input_is_answered_and_shown_safely() {
    let python = std::env::var("BOVINE_PYTHON").expect(
        "BOVINE_PYTHON must name a Python with bovine 0.5 and fediverse-pasture-inputs \
         installed (docs/24-federation.md)",
    );
    actix_web::rt::time::timeout(DEADLINE, deliver_every_input(&python))
        .await
        .expect("delivering the fediverse-pasture-inputs took more than 5 minutes");
}

/// What became of one example.
struct Outcome {
    name: String,
    /// The Note's id (the post's `ap_id` when kept).
    id: String,
    /// Why it is not a post to show, by this test's rule ([`not_a_post`]); `None` for a post.
    not_a_post: Option<&'static str>,
    status: u16,
    /// The refusal's reason, from the answer's JSON.
    reason: String,
    /// The post it became here.
    kept: Option<i32>,
}

async fn deliver_every_input(python: &str) {
    // Every post on one page of the timeline and of the profile.
    let ours = spawn_federated(&[("POSTS_PER_PAGE", "1000")]).await;
    let mut susan = ours.logged_in("susan", false).await;
    let susan_actor = format!("{}/user/susan", ours.address);
    let (peer, hello) = Peer::start(python);
    let sender = hello["actor"].as_str().unwrap().to_owned();
    let handle = hello["handle"].as_str().unwrap().to_owned();
    let (peer, listed) = peer.ask("inputs".to_owned()).await;
    assert!(
        listed["error"].is_null(),
        "{}: install it beside bovine (docs/24-federation.md; .ci/run pins its version)",
        listed["error"]
    );
    let version = listed["version"].as_str().unwrap_or("?").to_owned();
    let mut inputs = listed["inputs"]
        .as_array()
        .expect("a list of inputs")
        .clone();
    assert!(inputs.len() > 100, "only {} inputs", inputs.len());
    inputs.extend(html_bad_as_meant(&inputs));

    // Susan follows the peer, found by WebFinger: its posts are kept for her.
    let found = susan
        .get(&format!("/search?q={}", encode(&format!("@{handle}"))))
        .await;
    assert_eq!(found.status, 302, "{}", found.body);
    let profile = found.location().unwrap().to_owned();
    let follow = format!("/follow/{}", encode(&handle));
    assert_eq!(susan.submit(&profile, &follow, &[]).await.status, 302);
    let scripts_before = [
        scripts(&susan.get("/index").await.body),
        scripts(&susan.get(&profile).await.body),
    ];

    let started = Instant::now();
    let inbox = format!("{}/inbox", ours.address);
    let mut peer = peer;
    let mut outcomes = Vec::new();
    for input in &inputs {
        let name = input["name"].as_str().expect("a name").to_owned();
        let example = input["example"].to_string().replace(PASTURE_ACTOR, &sender);
        let example: Value = serde_json::from_str(&example).unwrap();
        let id = format!("{sender}/notes/{}", name.replace('/', "-"));
        let activity = create(&sender, &susan_actor, &id, &example);
        let mut answer;
        let mut retried = false;
        loop {
            (peer, answer) = peer.ask(format!("send {inbox} {activity}")).await;
            // More inputs than a server may send in a minute: wait, as a server would.
            if answer["status"] == 429 && !retried {
                retried = true;
                actix_web::rt::time::sleep(microblog::federation::RATE_WINDOW).await;
                continue;
            }
            break;
        }
        let status = answer["status"].as_u64().unwrap_or(0) as u16;
        assert!(
            (200..300).contains(&status) || (400..500).contains(&status),
            "{name}: answered {answer}, to {activity}"
        );
        let reason = serde_json::from_str::<Value>(answer["text"].as_str().unwrap_or(""))
            .ok()
            .and_then(|v| v["error"].as_str().map(str::to_owned))
            .unwrap_or_default();
        outcomes.push(Outcome {
            name,
            id,
            not_a_post: not_a_post(&activity, &sender),
            status,
            reason,
            kept: None,
        });
    }
    let took = started.elapsed();
    drop(peer);

    // Which became posts, and where.
    let mut conn = ours.database().get().unwrap();
    let author = microblog::models::user::find_by_username(&mut conn, &handle)
        .unwrap()
        .expect("the peer's account");
    for outcome in &mut outcomes {
        outcome.kept =
            microblog::models::actor::find_remote_post(&mut conn, &outcome.id, author.id).unwrap();
    }
    drop(conn);

    // What it comes to, by answer.
    let mut groups: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for o in &outcomes {
        let taken = (200..300).contains(&o.status);
        let group = match (o.kept, o.not_a_post) {
            (Some(_), None) => format!("{}, kept and shown", o.status),
            (Some(_), Some(why)) => format!("{}, kept though {why}", o.status),
            (None, Some(why)) if taken => format!("{}, not kept: {why}", o.status),
            (None, None) if taken => format!("{}, not kept", o.status),
            (None, _) => format!("{}, refused: {}", o.status, o.reason),
        };
        groups.entry(group).or_default().push(&o.name);
    }
    println!(
        "fediverse-pasture-inputs {version}: {} inputs delivered in {:.1} s",
        outcomes.len(),
        took.as_secs_f64()
    );
    for (group, names) in &groups {
        println!("  {group}: {} ({})", names.len(), ranges(names));
    }

    // The pages that show them answer, whole, with nothing unsafe in them.
    let mut pages = Vec::new();
    let index = "/index".to_owned();
    for (path, before) in [&index, &profile].into_iter().zip(scripts_before) {
        let page = susan.get(path).await;
        assert_eq!(page.status, 200, "{path}: {}", page.body);
        assert!(page.body.trim_end().ends_with("</html>"), "{path} is cut");
        let problems = unsafe_markup(&page.body);
        assert!(problems.is_empty(), "{path}: {problems:#?}");
        assert_eq!(scripts(&page.body), before, "{path}: scripts were added");
        pages.push((path.clone(), page.body));
    }

    // Every post by the rule is kept, and shown with some text on both pages.
    for o in &outcomes {
        if o.not_a_post.is_some() {
            continue;
        }
        let id = o.kept.unwrap_or_else(|| {
            panic!(
                "{}: a public Note with text, answered {} {}, not kept",
                o.name, o.status, o.reason
            )
        });
        for (path, page) in &pages {
            let body = remote_bodies(page)
                .into_iter()
                .find(|(post, _)| *post == id)
                .map(|(_, body)| body);
            let body = body.unwrap_or_else(|| panic!("{}: post {id} not on {path}", o.name));
            assert!(!visible_text(body).is_empty(), "{}: shown empty", o.name);
        }
    }
}

/// The examples of the table "html_bad" (tags a post should not keep: body, script, form,
/// input...) are written `<$script>$script</$script>` in fediverse-pasture-inputs 0.3.0
/// (`${tag}`, a JavaScript template's syntax, in a Python f-string), which is text, not a tag:
/// they are sent as meant too, as the table "html_bad_as_meant".
fn html_bad_as_meant(inputs: &[Value]) -> Vec<Value> {
    inputs
        .iter()
        .filter_map(|input| {
            let index = input["name"].as_str()?.strip_prefix("html_bad/")?;
            let content = input["example"]["content"].as_str()?;
            content.contains('$').then(|| {
                json!({
                    "name": format!("html_bad_as_meant/{index}"),
                    "example": {"content": content.replace('$', "")},
                })
            })
        })
        .collect()
}

/// Names of inputs, shorter: `table: 0-4, 7; other: 1`.
fn ranges(names: &[&str]) -> String {
    let mut tables: BTreeMap<&str, Vec<u32>> = BTreeMap::new();
    for name in names {
        let (table, index) = name.split_once('/').unwrap_or((name, "0"));
        tables
            .entry(table)
            .or_default()
            .push(index.parse().unwrap_or(0));
    }
    let mut out = Vec::new();
    for (table, mut indexes) in tables {
        indexes.sort_unstable();
        let mut spans: Vec<(u32, u32)> = Vec::new();
        for i in indexes {
            match spans.last_mut() {
                Some((_, end)) if *end + 1 == i => *end = i,
                _ => spans.push((i, i)),
            }
        }
        let spans: Vec<String> = spans
            .iter()
            .map(|(a, b)| {
                if a == b {
                    a.to_string()
                } else {
                    format!("{a}-{b}")
                }
            })
            .collect();
        out.push(format!("{table}: {}", spans.join(", ")));
    }
    out.join("; ")
}

/// `example` as the pasture sends it: merged into a public Note by `sender`, addressed to the
/// recipient too, in a `Create` that copies its addressing and takes its `@context`
/// (fediverse_pasture's `ActivitySender`).
fn create(sender: &str, recipient: &str, id: &str, example: &Value) -> Value {
    let published = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let mut note = json!({
        "type": "Note",
        "attributedTo": sender,
        "to": [PUBLIC],
        "id": id,
        "published": published,
    });
    for (key, value) in example.as_object().expect("an example is an object") {
        note[key] = value.clone();
    }
    if let Some(to) = note["to"].as_array_mut() {
        to.push(json!(recipient));
    }
    let context = example.get("@context").cloned().unwrap_or_else(
        || json!([ACTIVITY_STREAMS, {"Hashtag": "as:Hashtag", "sensitive": "as:sensitive"}]),
    );
    let mut activity = json!({
        "@context": context,
        "id": format!("{id}/activity"),
        "type": "Create",
        "actor": sender,
        "published": published,
        "object": note,
    });
    for field in ["to", "cc"] {
        if let Some(value) = activity["object"].get(field).cloned() {
            activity[field] = value;
        }
    }
    activity
}

/// Why the object of `activity` is not a post this site shows, or `None` when it is one: a
/// Note, with an id, by its sender, addressed to the public, with some text.
fn not_a_post(activity: &Value, sender: &str) -> Option<&'static str> {
    let note = &activity["object"];
    if note["type"] != "Note" {
        return Some("not a Note");
    }
    if !note["id"].is_string() {
        return Some("no id");
    }
    let author = match &note["attributedTo"] {
        Value::Array(list) => list.first(),
        other => Some(other),
    };
    let author = author.and_then(|a| a.as_str().or_else(|| a["id"].as_str()));
    if author != Some(sender) {
        return Some("not by its sender");
    }
    let public = |v: &Value| {
        let names = |s: &Value| matches!(s.as_str(), Some(PUBLIC | "as:Public" | "Public"));
        ["to", "cc"].iter().any(|f| match &v[*f] {
            Value::Array(list) => list.iter().any(names),
            one => names(one),
        })
    };
    if !public(note) && !public(activity) {
        return Some("not public");
    }
    let content = note["content"].as_str().or_else(|| {
        note["contentMap"]
            .as_object()
            .and_then(|m| m.values().find_map(Value::as_str))
    });
    if visible_text(content.unwrap_or_default()).is_empty() {
        return Some("no text");
    }
    None
}

/// The text a browser shows of `html`, roughly: no tags, nothing of scripts and styles.
fn visible_text(html: &str) -> String {
    let mut text = String::new();
    let mut rest = html;
    while let Some(at) = rest.find('<') {
        text.push_str(&rest[..at]);
        rest = &rest[at..];
        let starts_tag = rest[1..]
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '/' || c == '!');
        if !starts_tag {
            text.push('<');
            rest = &rest[1..];
            continue;
        }
        let lower = rest.to_ascii_lowercase();
        let skip = ["script", "style"]
            .iter()
            .find(|raw| lower[1..].starts_with(*raw))
            .and_then(|raw| lower.find(&format!("</{raw}")));
        let end = rest[skip.unwrap_or(0)..]
            .find('>')
            .map_or(rest.len(), |e| skip.unwrap_or(0) + e + 1);
        rest = &rest[end..];
    }
    text.push_str(rest);
    text.trim().to_owned()
}

/// A start tag: its name and attributes, names in lower case and values with their character
/// references read.
#[derive(Debug)]
struct Tag {
    name: String,
    attributes: Vec<(String, String)>,
}

/// The start tags of `html`, read as an HTML tokenizer reads the markup the app writes:
/// comments, doctypes and end tags passed over, the text of `script`, `style`, `textarea` and
/// `title` not read as tags, attribute values quoted either way or not at all.
fn start_tags(html: &str) -> Vec<Tag> {
    let b = html.as_bytes();
    let space = |c: u8| c.is_ascii_whitespace();
    let mut tags = Vec::new();
    let mut i = 0;
    while let Some(at) = html[i..].find('<') {
        i += at + 1;
        if html[i..].starts_with("!--") {
            i = html[i..].find("-->").map_or(b.len(), |e| i + e + 3);
            continue;
        }
        if !b.get(i).is_some_and(u8::is_ascii_alphabetic) {
            // An end tag, a doctype, or a `<` of text.
            if matches!(b.get(i), Some(b'/' | b'!' | b'?')) {
                i = html[i..].find('>').map_or(b.len(), |e| i + e + 1);
            }
            continue;
        }
        let start = i;
        while i < b.len() && !(space(b[i]) || b[i] == b'/' || b[i] == b'>') {
            i += 1;
        }
        let name = html[start..i].to_ascii_lowercase();
        let mut attributes = Vec::new();
        loop {
            while i < b.len() && (space(b[i]) || b[i] == b'/') {
                i += 1;
            }
            if i >= b.len() || b[i] == b'>' {
                i += 1;
                break;
            }
            let start = i;
            i += 1;
            while i < b.len() && !(space(b[i]) || matches!(b[i], b'/' | b'>' | b'=')) {
                i += 1;
            }
            let attribute = html[start..i].to_ascii_lowercase();
            while i < b.len() && space(b[i]) {
                i += 1;
            }
            let mut value = "";
            if b.get(i) == Some(&b'=') {
                i += 1;
                while i < b.len() && space(b[i]) {
                    i += 1;
                }
                if let Some(&quote @ (b'"' | b'\'')) = b.get(i) {
                    let end = html[i + 1..]
                        .find(quote as char)
                        .map_or(b.len(), |e| i + 1 + e);
                    value = &html[i + 1..end];
                    i = end + 1;
                } else {
                    let start = i;
                    while i < b.len() && !(space(b[i]) || b[i] == b'>') {
                        i += 1;
                    }
                    value = &html[start..i];
                }
            }
            attributes.push((attribute, unescape(value)));
        }
        if matches!(name.as_str(), "script" | "style" | "textarea" | "title") {
            let close = format!("</{name}");
            i = html[i.min(b.len())..]
                .to_ascii_lowercase()
                .find(&close)
                .map_or(b.len(), |e| i + e);
        }
        tags.push(Tag { name, attributes });
        i = i.min(b.len());
    }
    tags
}

/// `value` with its character references read (the named ones an HTML serialiser writes, and
/// numeric ones).
fn unescape(value: &str) -> String {
    let mut out = String::new();
    let mut rest = value;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let end = rest.find(';').filter(|e| *e <= 10);
        let reference = end.map(|e| &rest[1..e]);
        let read = match reference {
            Some("amp") => Some('&'),
            Some("lt") => Some('<'),
            Some("gt") => Some('>'),
            Some("quot") => Some('"'),
            Some("apos") => Some('\''),
            Some("nbsp") => Some('\u{a0}'),
            Some(r) if r.starts_with("#x") || r.starts_with("#X") => {
                u32::from_str_radix(&r[2..], 16)
                    .ok()
                    .and_then(char::from_u32)
            }
            Some(r) if r.starts_with('#') => r[1..].parse().ok().and_then(char::from_u32),
            _ => None,
        };
        match (read, end) {
            (Some(c), Some(e)) => {
                out.push(c);
                rest = &rest[e + 1..];
            }
            _ => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Where a URL with this value would lead a browser: its scheme, as a browser reads it (no
/// spaces or control characters, in lower case).
fn scheme(url: &str) -> Option<String> {
    let kept: String = url
        .chars()
        .filter(|c| !c.is_whitespace() && !c.is_control())
        .collect::<String>()
        .to_ascii_lowercase();
    let (scheme, _) = kept.split_once(':')?;
    scheme
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        .then(|| scheme.to_owned())
}

/// The posts from other servers on `page`: each post's id and the HTML of its body.
fn remote_bodies(page: &str) -> Vec<(i32, &str)> {
    let marker = "<div class=\"post-body remote-body\" id=\"post-";
    let mut bodies = Vec::new();
    let mut rest = page;
    while let Some(at) = rest.find(marker) {
        rest = &rest[at + marker.len()..];
        let (id, after) = rest.split_once("-body\"").expect("a post body's id");
        // Its other attributes (`lang`) up to the end of the tag.
        let after = &after[after.find('>').expect("the end of the tag") + 1..];
        // The sanitiser keeps no `div`: the first end of one ends the body.
        let end = after.find("</div>").expect("the end of a post body");
        bodies.push((id.parse().expect("a post id"), &after[..end]));
        rest = &after[end..];
    }
    bodies
}

/// The `script` elements of `page`, by their `src`.
fn scripts(page: &str) -> Vec<String> {
    start_tags(page)
        .into_iter()
        .filter(|t| t.name == "script")
        .map(|t| {
            t.attributes
                .into_iter()
                .find(|(a, _)| a == "src")
                .map_or_else(|| "(inline)".to_owned(), |(_, v)| v)
        })
        .collect()
}

/// What is unsafe on `page`: anywhere, an event handler, a `style` attribute, a frame, an
/// object, a `javascript:` (or any not-web) URL; in the body of a post from another server,
/// anything but what the sanitiser keeps (`p`, `br`, `span`, and `a` with an http(s) `href` and
/// our `rel`).
fn unsafe_markup(page: &str) -> Vec<String> {
    let mut problems = Vec::new();
    for tag in start_tags(page) {
        if matches!(
            tag.name.as_str(),
            "iframe" | "frame" | "frameset" | "object" | "embed" | "applet" | "base"
        ) {
            problems.push(format!("a <{}> on the page", tag.name));
        }
        for (attribute, value) in &tag.attributes {
            if attribute.starts_with("on") || attribute == "style" || attribute == "srcdoc" {
                problems.push(format!("{attribute}={value:?} on <{}>", tag.name));
            }
            let url_attribute = matches!(
                attribute.as_str(),
                "href" | "src" | "action" | "formaction" | "poster" | "xlink:href" | "data"
            );
            if url_attribute
                && let Some(scheme) = scheme(value)
                && !matches!(scheme.as_str(), "http" | "https" | "mailto")
            {
                problems.push(format!("{attribute}={value:?} on <{}>", tag.name));
            }
        }
    }
    for (id, body) in remote_bodies(page) {
        for tag in start_tags(body) {
            let allowed = match tag.name.as_str() {
                "p" | "br" | "span" | "strong" | "b" | "em" | "i" | "u" | "del" | "s" | "code"
                | "pre" | "blockquote" | "ul" | "ol" | "li" | "details" | "summary" => {
                    tag.attributes.is_empty()
                }
                "a" => {
                    tag.attributes.iter().any(|(a, _)| a == "rel")
                        && tag.attributes.iter().all(|(a, v)| match a.as_str() {
                            "href" => matches!(scheme(v).as_deref(), Some("http" | "https")),
                            "rel" => v == LINK_REL,
                            _ => false,
                        })
                }
                _ => false,
            };
            if !allowed {
                problems.push(format!("post {id}: {tag:?}"));
            }
        }
    }
    problems
}

/// The checks of the pages catch what they are for (they run without bovine).
#[test]
fn the_page_checks_find_unsafe_markup() {
    let page = r#"<!DOCTYPE html><html><head><title>a <b> c</title><script src="/static/js/microblog.js"></script></head><body>
<div class="post-body remote-body" id="post-7-body" lang="en"><p>Hi <a href="https://x.example/" rel="nofollow noopener noreferrer">x</a><br><span>s</span></p></div>
<a class="btn" href="/user/susan" data-x='1'>ok</a><!-- <script>x</script> -->
</body></html>"#;
    assert_eq!(unsafe_markup(page), Vec::<String>::new());
    assert_eq!(scripts(page), ["/static/js/microblog.js"]);
    assert_eq!(remote_bodies(page).len(), 1);
    for (bad, found) in [
        ("<p onclick=\"x()\">", "onclick"),
        ("<P OnLoad=x>", "onload"),
        ("<a href=\"jav&#x09;ascript:alert(1)\">", "href"),
        ("<a href=' JavaScript:alert(1)'>", "href"),
        ("<a href=\"data:text/html,x\">", "href"),
        ("<span style=\"color:red\">", "style"),
        ("<iframe src=\"https://x.example/\">", "iframe"),
        ("<img src=\"https://x.example/a.png\">", "img"),
        ("<h1>", "\"h1\""),
        ("<a href=\"https://x.example/\">", "\"a\""),
        (
            "<a href=\"https://x.example/\" rel=\"nofollow noopener noreferrer\" target=\"_blank\">",
            "target",
        ),
    ] {
        let dirty = page.replace("<span>s</span>", bad);
        let problems = unsafe_markup(&dirty);
        assert!(
            problems.iter().any(|p| p.contains(found)),
            "{bad}: {problems:?}"
        );
    }
    let inline = page.replace("<script src=\"/static/js/microblog.js\">", "<script>");
    assert_eq!(scripts(&inline), ["(inline)"]);
    assert_eq!(
        visible_text("<p>a <script>x<y</script><b>b</b> &lt; <style>p{}</style></p>"),
        "a b &lt;"
    );
    assert_eq!(visible_text("<img src=x><script>alert('hi');</script>"), "");
    // `<$` is text; `</$` starts a comment (the HTML tokenizer's "bogus comment").
    assert_eq!(visible_text("<$body>$body</$body>"), "<$body>$body");
}
