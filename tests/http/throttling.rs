//! Password guessing is slowed down, and only guessing: wrong passwords count, right ones never
//! do, so a whole class behind one address can log in.

use futures_util::future::join_all;

use crate::common::{Browser, PASSWORD, TestApp, spawn_app, spawn_app_with};

const WRONG: &str = "wrong password!";

/// A browser whose requests a trusted proxy reports as coming from `ip`.
fn browser_at(app: &TestApp, ip: &str) -> Browser {
    let mut browser = app.browser();
    browser.forwarded_for = Some(ip.to_owned());
    browser
}

fn retry_after(res: &crate::common::Response) -> u64 {
    res.header("retry-after")
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("a 429 without Retry-After: {:?}", res.headers))
}

#[actix_web::test]
async fn forty_classmates_behind_one_address_sign_up_at_the_same_moment_and_all_get_in() {
    // bcrypt at cost 8 (a few ms a hash): the forty wait for the hashing threads together.
    let app = spawn_app_with(&[("BCRYPT_COST", "8")]).await;
    let mut browsers: Vec<Browser> = (0..40).map(|_| app.browser()).collect();
    let sign_ups = browsers
        .iter_mut()
        .enumerate()
        .map(|(i, browser)| async move { browser.register(&format!("pupil{i}")).await });
    join_all(sign_ups).await;

    let mut browser = app.browser();
    let res = browser.login("pupil39", PASSWORD, false).await;
    assert_eq!(res.location(), Some("/index"));
}

#[actix_web::test]
async fn forty_classmates_behind_one_address_log_in_with_ten_typos_and_nobody_is_refused() {
    let app = spawn_app().await;
    let names: Vec<String> = (0..40).map(|i| format!("student{i}")).collect();
    let mut browsers = Vec::new();
    for name in &names {
        browsers.push(app.register(name).await);
    }

    let logins =
        browsers
            .iter_mut()
            .zip(&names)
            .enumerate()
            .map(|(i, (browser, name))| async move {
                let mut statuses = Vec::new();
                if i % 4 == 0 {
                    statuses.push(browser.login(name, WRONG, false).await.status);
                }
                let res = browser.login(name, PASSWORD, false).await;
                statuses.push(res.status);
                (statuses, res.location().map(str::to_owned))
            });
    let results = join_all(logins).await;

    for (i, (statuses, location)) in results.iter().enumerate() {
        assert!(
            statuses.iter().all(|&s| s == 302),
            "student{i}: {statuses:?}"
        );
        assert_eq!(location.as_deref(), Some("/index"), "student{i}");
    }
}

#[actix_web::test]
async fn twenty_five_wrong_passwords_lock_the_account_from_that_client_until_the_wait_is_over() {
    let app = spawn_app().await;
    app.register("susan").await;
    let mut browser = app.browser();

    let mut statuses = Vec::new();
    let mut last = None;
    for _ in 0..25 {
        let res = browser.login("susan", WRONG, false).await;
        statuses.push(res.status);
        last = Some(res);
    }
    assert!(statuses[..5].iter().all(|&s| s == 302), "{statuses:?}");
    assert!(statuses[5..].iter().all(|&s| s == 429), "{statuses:?}");
    let refused_wrong = last.expect("25 answers");
    assert!(refused_wrong.body.contains("Too many login attempts"));

    // The right password is refused the same way while the lock lasts: no oracle.
    let refused_right = browser.login("susan", PASSWORD, false).await;
    assert_eq!(refused_right.status, 429);
    assert!(refused_right.body.contains("Too many login attempts"));
    let wait = retry_after(&refused_right);
    assert!((1..=12).contains(&wait), "Retry-After: {wait}");
    // Another account from the same client is not held back by susan's count.
    app.register("john").await;
    assert_eq!(
        browser.login("john", PASSWORD, false).await.location(),
        Some("/index")
    );
    browser.get("/auth/logout").await;

    actix_web::rt::time::sleep(std::time::Duration::from_secs(wait)).await;
    let res = browser.login("susan", PASSWORD, false).await;
    assert_eq!(
        res.location(),
        Some("/index"),
        "after the wait: {}",
        res.status
    );
}

#[actix_web::test]
async fn a_right_password_forgives_the_accounts_earlier_failures() {
    let app = spawn_app().await;
    app.register("susan").await;

    for round in 0..3 {
        let mut browser = app.browser();
        for _ in 0..4 {
            assert_eq!(browser.login("susan", WRONG, false).await.status, 302);
        }
        let res = browser.login("susan", PASSWORD, false).await;
        assert_eq!(
            res.location(),
            Some("/index"),
            "round {round}: {}",
            res.status
        );
    }
}

#[actix_web::test]
async fn other_peoples_guesses_do_not_lock_the_owner_out_of_a_browser_they_logged_in_from() {
    let app = spawn_app_with(&[("FORWARDED_ALLOW_IPS", "127.0.0.1")]).await;
    app.register("susan").await;
    let classroom = "198.51.100.7";
    let mut owner = browser_at(&app, classroom);
    let res = owner.login("susan", PASSWORD, false).await;
    assert_eq!(res.location(), Some("/index"));
    assert!(
        res.set_cookie("device").is_some(),
        "the browser is now known"
    );
    owner.get("/auth/logout").await;

    // A classmate at the same address, then guessers at eight others.
    let mut classmate = browser_at(&app, classroom);
    for _ in 0..6 {
        classmate.login("susan", WRONG, false).await;
    }
    for i in 0..8 {
        let mut guesser = browser_at(&app, &format!("203.0.113.{i}"));
        for _ in 0..5 {
            guesser.login("susan", WRONG, false).await;
        }
    }
    assert_eq!(classmate.login("susan", PASSWORD, false).await.status, 429);
    // A browser that never logged in as susan waits, whatever its address: the price of
    // stopping guessers spread over many addresses.
    let mut stranger = browser_at(&app, "192.0.2.50");
    assert_eq!(stranger.login("susan", PASSWORD, false).await.status, 429);

    let res = owner.login("susan", PASSWORD, false).await;
    assert_eq!(res.location(), Some("/index"), "the owner: {}", res.status);
}

/// Wrong passwords for `user0`, `user1`, ..., each from a new browser (reported by a proxy as
/// coming from its own address when `spread` is set), until one is refused, which must happen
/// after the client's budget of 100 (and what time forgave meanwhile). Returns the refusal.
async fn wrong_passwords_until_refused(app: &TestApp, spread: bool) -> crate::common::Response {
    let started = std::time::Instant::now();
    for i in 0..200 {
        let mut browser = if spread {
            browser_at(app, &format!("203.0.113.{i}"))
        } else {
            app.browser()
        };
        let res = browser.login(&format!("user{i}"), WRONG, false).await;
        if res.status == 429 {
            // The budget forgives one failure every 6 s while the attempts go on.
            let forgiven = (started.elapsed().as_secs_f64() / 6.0).ceil() as usize;
            assert!(
                (100..=100 + forgiven).contains(&i),
                "refused after {i} ({forgiven} forgiven)"
            );
            return res;
        }
        assert_eq!(res.status, 302, "attempt {i}");
    }
    panic!("200 wrong passwords from one address and none refused");
}

#[actix_web::test]
async fn wrong_passwords_spread_over_many_accounts_from_one_address_stop_at_the_client_budget() {
    let app = spawn_app().await;

    let refused = wrong_passwords_until_refused(&app, false).await;

    assert!(refused.body.contains("Too many login attempts"));
    assert!(retry_after(&refused) >= 1);
}

#[actix_web::test]
async fn behind_a_trusted_proxy_clients_are_told_apart_by_x_forwarded_for() {
    let app = spawn_app_with(&[("FORWARDED_ALLOW_IPS", "127.0.0.1")]).await;

    // More wrong passwords than one client may make, from 110 clients behind the proxy.
    for i in 0..110 {
        let mut browser = browser_at(&app, &format!("203.0.113.{i}"));
        let res = browser.login(&format!("user{i}"), WRONG, false).await;
        assert_eq!(res.status, 302, "attempt {i}");
    }
}

#[actix_web::test]
async fn an_x_forwarded_for_from_an_untrusted_client_is_ignored() {
    let app = spawn_app().await;

    // Each attempt claims another address, but the app is not behind a trusted proxy.
    let refused = wrong_passwords_until_refused(&app, true).await;

    assert_eq!(refused.status, 429);
}

#[actix_web::test]
async fn every_form_that_checks_a_password_shares_the_same_count() {
    let app = spawn_app().await;
    let mut browser = app.logged_in("susan", false).await;

    for _ in 0..5 {
        let res = browser
            .submit(
                "/auth/change_password",
                "/auth/change_password",
                &[
                    ("old_password", WRONG),
                    ("password", "a new long passphrase"),
                    ("password2", "a new long passphrase"),
                ],
            )
            .await;
        assert_eq!(res.status, 200, "{}", res.body);
    }
    let res = browser
        .submit(
            "/auth/reauthenticate",
            "/auth/reauthenticate",
            &[("password", PASSWORD)],
        )
        .await;

    assert_eq!(res.status, 429);
    assert!(retry_after(&res) >= 1);
}

#[actix_web::test]
async fn a_right_password_for_a_look_alike_account_forgives_nothing_of_the_victims_count() {
    let app = spawn_app().await;
    app.register("victim").await;
    // A look-alike account from before usernames were compared in their folded form (no new
    // one can be registered: `look_alike_usernames_are_taken_whatever_their_case_width_or_script`),
    // marked as the migration to case-blind names marks the younger of two.
    let hash = microblog::password::hash_blocking(PASSWORD, 4).unwrap();
    app.execute_sql(&format!(
        "INSERT INTO users (username, email, password_hash, last_seen, case_twin)
         VALUES ('VICTIM', 'attacker@example.org', '{hash}', '2026-01-01 00:00:00', TRUE)"
    ));
    let mut attacker = app.browser();
    // The attacker's own account makes their browser known, for that account only.
    let own = attacker.login("VICTIM", PASSWORD, false).await;
    assert_eq!(own.location(), Some("/index"));
    attacker.get("/auth/logout").await;

    for round in 0..2 {
        for _ in 0..if round == 0 { 4 } else { 1 } {
            let res = attacker.login("victim", WRONG, false).await;
            assert_eq!(res.location(), Some("/auth/login"), "a wrong guess");
        }
        // A right login as the look-alike, between guesses.
        let res = attacker.login("VICTIM", PASSWORD, false).await;
        assert_eq!(res.location(), Some("/index"));
        attacker.get("/auth/logout").await;
    }
    // Five wrong guesses for victim from this address: the next is refused, right or wrong.
    let refused = attacker.login("victim", PASSWORD, false).await;
    assert_eq!(refused.status, 429, "{}", refused.body);
    assert!(retry_after(&refused) > 0);
}

#[actix_web::test]
async fn two_instances_on_one_postgresql_refuse_exactly_as_one_does() {
    let database = crate::common::TestDatabase::fresh();
    if database.url.starts_with("sqlite") {
        // One SQLite instance counts in its memory; this is about sharing the counts.
        return;
    }
    let secret = crate::common::random_hex(32);
    let shared = [
        ("DATABASE_URL", database.url.as_str()),
        ("SECRET_KEY", secret.as_str()),
    ];
    let instances = [spawn_app_with(&shared).await, spawn_app_with(&shared).await];
    instances[0].register("susan").await;

    // Twelve wrong passwords from one address, to each instance in turn.
    let mut statuses = Vec::new();
    for i in 0..12 {
        let mut browser = instances[i % 2].browser();
        statuses.push(browser.login("susan", WRONG, false).await.status);
    }
    assert_eq!(statuses[..5], [302; 5], "{statuses:?}");
    assert_eq!(statuses[5..], [429; 7], "{statuses:?}");

    // Another account from the same address, through the other instance: not held back, and
    // its right password forgives its own failures there and everywhere.
    instances[1].register("john").await;
    let mut browser = instances[1].browser();
    browser.login("john", WRONG, false).await;
    assert_eq!(
        browser.login("john", PASSWORD, false).await.location(),
        Some("/index")
    );
    let mut other = instances[0].browser();
    for _ in 0..5 {
        assert_eq!(other.login("john", WRONG, false).await.status, 302);
    }
    assert_eq!(other.login("john", WRONG, false).await.status, 429);
}
