//! Federation against Fedify (npm, MIT), a second implementation nobody here wrote
//! (`docs/24-federation.md`): `tests/federation/fedify_peer.mjs` serves an actor by Fedify on
//! loopback, follows a user of ours, receives her post, and is followed by her; Fedify signs
//! what it sends, verifies what it receives before its inbox listeners run, and gives its
//! actor's document only to a signed fetch, which our instance actor (`/actor`) makes.

use crate::common::{encode, spawn_federated};
use crate::federation::{Peer, follower_count};

/// Starts the peer with Node, Fedify installed in the folder `FEDIFY_PEER` names.
fn start_peer() -> (Peer, serde_json::Value) {
    let installed = std::env::var("FEDIFY_PEER").expect(
        "FEDIFY_PEER must name the folder where `npm ci` installed \
         tests/federation/fedify/package.json (docs/24-federation.md)",
    );
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/federation/fedify_peer.mjs"
    );
    let mut command = std::process::Command::new("node");
    command.arg(script).env("FEDIFY_PEER", installed);
    Peer::spawn(command, "node runs")
}

/// Fedify follows susan and gets her Accept; it receives her post, signed, and verifies it;
/// susan finds its actor by WebFinger (her server's fetch of it signed) and follows it; it
/// sends her a post, which she sees on /index, and its deletion, which takes it away.
#[actix_web::test]
#[ignore = "needs FEDIFY_PEER, a folder where npm installed Fedify (docs/24-federation.md)"]
async fn fedify_follows_and_is_followed() {
    let ours = spawn_federated(&[]).await;
    let mut susan = ours.logged_in("susan", false).await;
    let susan_actor = format!("{}/user/susan", ours.address);
    let (peer, hello) = start_peer();
    let peer_actor = hello["actor"].as_str().unwrap().to_owned();
    let handle = hello["handle"].as_str().unwrap().to_owned();

    // Fedify fetches susan's actor and follows her; her Accept passes Fedify's verifier.
    let (peer, answer) = peer.ask(format!("follow {susan_actor}")).await;
    assert_eq!(answer["sent"], true, "{answer}");
    let (peer, accept) = peer.ask("wait Accept".to_owned()).await;
    assert_eq!(accept["activity"]["actor"], susan_actor, "{accept}");
    assert_eq!(accept["signer"]["owner"], susan_actor, "{accept}");
    assert_eq!(accept["activity"]["object"]["type"], "Follow", "{accept}");
    assert_eq!(
        accept["activity"]["object"]["actor"], peer_actor,
        "{accept}"
    );
    assert_eq!(follower_count(&ours, "susan").await, 1);

    // Susan posts through the form: Fedify receives the Create, signed by her key.
    let res = susan
        .submit("/index", "/index", &[("post", "Hello, Fedify")])
        .await;
    assert_eq!(res.status, 302);
    let (peer, create) = peer.ask("wait Create".to_owned()).await;
    assert_eq!(create["activity"]["actor"], susan_actor, "{create}");
    assert_eq!(
        create["signer"]["keyId"],
        format!("{susan_actor}#main-key"),
        "{create}"
    );
    assert_eq!(create["activity"]["object"]["type"], "Note", "{create}");
    assert_eq!(
        create["activity"]["object"]["content"],
        "<p>Hello, Fedify</p>"
    );

    // Fedify's actor answers only signed fetches: our instance actor signs its fetch.
    let unsigned = awc::Client::new()
        .get(&peer_actor)
        .insert_header(("Accept", "application/activity+json"))
        .send()
        .await
        .unwrap();
    assert_eq!(unsigned.status().as_u16(), 401);

    // Susan finds Fedify's actor by WebFinger and follows it.
    let found = susan
        .get(&format!("/search?q={}", encode(&format!("@{handle}"))))
        .await;
    assert_eq!(found.status, 302, "{}", found.body);
    let page = found.location().unwrap().to_owned();
    let follow = format!("/follow/{}", encode(&handle));
    assert_eq!(susan.submit(&page, &follow, &[]).await.status, 302);
    let (peer, follow) = peer.ask("wait Follow".to_owned()).await;
    assert_eq!(follow["signer"]["owner"], susan_actor, "{follow}");
    assert_eq!(follow["activity"]["object"]["id"], peer_actor, "{follow}");

    // Fedify posts, signed by Fedify: the post reaches susan's timeline; its Delete removes it.
    let (peer, sent) = peer
        .ask(format!("post {susan_actor} n1 Hello from Fedify"))
        .await;
    assert_eq!(sent["sent"], true, "{sent}");
    let index = susan.get("/index").await.body;
    assert!(index.contains("Hello from Fedify"), "{index}");
    assert!(index.contains(&handle), "{index}");
    let (_peer, sent) = peer.ask(format!("delete {susan_actor} n1")).await;
    assert_eq!(sent["sent"], true, "{sent}");
    assert!(!susan.get("/index").await.body.contains("Hello from Fedify"));
}
