//! Accounts over HTTP: register, log in, refresh, profile, favourites, roles, and the
//! protections around them.

use boxoffice_tests::fixtures;
use boxoffice_tests::server::TestServer;
use reqwest::{Method, StatusCode};
use serde_json::json;

const PASSWORD: &str = "a long enough password";

#[tokio::test]
async fn a_customer_registers_logs_in_refreshes_and_uses_the_api_as_their_account() {
    let server = TestServer::start().await;
    let api = &server.api;
    let registered = api
        .register(
            " Xiaoming.Wang@Example.cn ",
            "长城长城 great wall",
            "王小明",
        )
        .await;
    let account = &registered.expect_created()["account"];
    assert_eq!(account["email"], "xiaoming.wang@example.cn");
    assert_eq!(account["display_name"], "王小明");
    assert_eq!(account["roles"], json!(["customer"]));
    assert_eq!(registered.body["token_type"], "Bearer");
    assert_eq!(registered.body["expires_in"], 900);
    let account_id = account["account_id"].as_str().unwrap();

    let session = api
        .login("XIAOMING.WANG@example.cn", "长城长城 great wall")
        .await;
    session.expect_ok();
    let access = session.text("access_token");
    let me = api.me(access).await;
    assert_eq!(me.body["account_id"], account_id);

    // The access token is what the rest of the API takes: holds are the account's.
    let show = api.scheduled_show(&fixtures::show(2, 4)).await;
    let hold = api.hold_seats(access, &show, &["B1"]).await;
    assert_eq!(hold.expect_created()["customer_id"], account_id);

    // The profile changes; the email does not.
    let changed = api
        .update_me(
            access,
            &json!({"display_name": "小明", "phone": "+86 138-0000-0000"}),
        )
        .await;
    assert_eq!(changed.expect_ok()["display_name"], "小明");
    assert_eq!(changed.body["phone"], "+86 138-0000-0000");
    api.update_me(access, &json!({"display_name": "", "phone": "call me"}))
        .await
        .expect_problem(422, "validation_failed");

    // A refresh gives a new session; each refresh token works once.
    let first = session.text("refresh_token");
    let renewed = api.refresh(first).await;
    renewed.expect_ok();
    let second = renewed.text("refresh_token");
    assert_ne!(first, second);
    api.me(renewed.text("access_token")).await.expect_ok();
    // Replaying the used one is taken as theft: every session of the account ends.
    api.refresh(first)
        .await
        .expect_problem(401, "invalid_refresh_token");
    // The newer token was revoked too.
    api.refresh(second)
        .await
        .expect_problem(401, "invalid_refresh_token");
    api.refresh("made-up")
        .await
        .expect_problem(401, "invalid_refresh_token");
}

#[tokio::test]
async fn a_failed_login_does_not_say_whether_the_account_exists_and_repeated_failures_are_slowed() {
    let server = TestServer::start().await;
    let api = &server.api;
    api.register("lei@example.cn", PASSWORD, "王小明")
        .await
        .expect_created();
    let wrong = api.login("lei@example.cn", "not the password").await;
    let unknown = api.login("nobody@example.cn", "not the password").await;
    for reply in [&wrong, &unknown] {
        reply.expect_problem(401, "invalid_credentials");
    }
    assert_eq!(wrong.body["detail"], unknown.body["detail"]);
    // Three more failures for the account make five: the right password is refused too.
    for _ in 0..3 {
        api.login("lei@example.cn", "still not it")
            .await
            .expect_problem(401, "invalid_credentials");
    }
    let blocked = api.login("lei@example.cn", PASSWORD).await;
    blocked.expect_problem(429, "too_many_attempts");
    let retry: u64 = blocked.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=900).contains(&retry), "{retry}");
}

#[tokio::test]
async fn registration_checks_its_fields_and_an_email_has_one_account() {
    let server = TestServer::start().await;
    let api = &server.api;
    api.register("mei@example.cn", PASSWORD, "王小明")
        .await
        .expect_created();
    api.register("MEI@example.cn", "another long password", "王小明")
        .await
        .expect_problem(409, "email_taken");
    for (email, password, field) in [
        ("not-an-email", PASSWORD, "email"),
        ("han@example.cn", "short", "password"),
    ] {
        let reply = api.register(email, password, "王小明").await;
        assert_eq!(reply.invalid_fields()[0], field);
    }
    let client = server.db.client().await;
    let stored: String = client
        .query_one(
            "SELECT password_hash FROM accounts WHERE email = 'mei@example.cn'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert!(stored.starts_with("$argon2id$"), "{stored}");
    assert!(!stored.contains("long enough"));
}

#[tokio::test]
async fn favourites_are_per_account_and_only_of_catalogue_movies() {
    let server = TestServer::start().await;
    let api = &server.api;
    let staff = api.staff();
    // Only the fields a movie must have.
    let movie = api
        .create_movie(
            &staff,
            &json!({"title": "流浪地球3", "duration_minutes": 130, "genres": ["sci-fi"],
                    "language": "zh", "country": "CN", "release_date": "2027-01-29"}),
        )
        .await;
    let movie_id = movie.created("id");
    api.search_movies("")
        .min_position(movie.position())
        .await
        .expect_ok();
    let alice = api
        .register("alice@example.cn", PASSWORD, "王小明")
        .await
        .created("access_token");
    let bob = api
        .register("bob@example.cn", PASSWORD, "王小明")
        .await
        .created("access_token");
    api.add_favorite(&alice, &movie_id)
        .await
        .expect_status(StatusCode::NO_CONTENT);
    api.add_favorite(&alice, &movie_id)
        .await
        .expect_status(StatusCode::NO_CONTENT); // again: no change
    api.add_favorite(&alice, &uuid::Uuid::new_v4().to_string())
        .await
        .expect_problem(404, "movie_not_found");
    let listed = api.favorites(&alice).await;
    assert_eq!(listed.body.as_array().unwrap().len(), 1);
    assert_eq!(listed.body[0]["title"], "流浪地球3");
    assert_eq!(api.favorites(&bob).await.body, json!([]));
    api.remove_favorite(&alice, &movie_id)
        .await
        .expect_status(StatusCode::NO_CONTENT);
    assert_eq!(api.favorites(&alice).await.body, json!([]));
    // A token that is not an account's (a development token) has no profile.
    api.me(&api.customer("someone"))
        .await
        .expect_problem(404, "account_not_found");
}

#[tokio::test]
async fn an_admin_grants_roles_which_count_from_the_next_session() {
    let server = TestServer::start().await;
    let api = &server.api;
    let registered = api.register("clerk@example.cn", PASSWORD, "王小明").await;
    let account_id = registered.expect_created()["account"]["account_id"]
        .as_str()
        .unwrap();
    let customer = registered.text("access_token");
    let roles = ["staff", "customer", "staff"];
    api.grant_roles(customer, account_id, &roles)
        .await
        .expect_problem(403, "forbidden");
    let admin = api.admin();
    let granted = api.grant_roles(&admin, account_id, &roles).await;
    assert_eq!(granted.expect_ok()["roles"], json!(["staff", "customer"]));
    for bad in [&[][..], &["owner"]] {
        api.grant_roles(&admin, account_id, bad)
            .await
            .expect_problem(422, "validation_failed");
    }
    api.grant_roles(&admin, &uuid::Uuid::new_v4().to_string(), &roles)
        .await
        .expect_problem(404, "account_not_found");
    // The old token still says customer; the next session says staff.
    api.create_city(customer, "成都", "Asia/Shanghai")
        .await
        .expect_problem(403, "forbidden");
    let next = api.refresh(registered.text("refresh_token")).await;
    api.create_city(next.text("access_token"), "成都", "Asia/Shanghai")
        .await
        .expect_created();
}

#[tokio::test]
async fn partner_api_keys_act_as_their_own_identity_within_a_quota_per_minute() {
    let server = TestServer::start().await;
    let api = &server.api;
    let admin = api.admin();
    let partner = "猫眼 partner";
    api.create_api_key(&api.customer("someone"), partner, 5)
        .await
        .expect_problem(403, "forbidden");
    let created = api.create_api_key(&admin, partner, 5).await;
    let key = created.created("api_key");
    let key_id = created.text("key_id");
    assert!(key.starts_with("bo_"), "{key}");
    assert_eq!(created.body["roles"], json!(["customer"]));
    let listed = api.api_keys(&admin).await;
    assert_eq!(listed.body[0]["key_id"], key_id);
    assert!(
        !listed.body.to_string().contains(&key),
        "the key is shown only once"
    );

    // The key is an identity: its holds are the partner's.
    let show = api.scheduled_show(&fixtures::show(2, 4)).await;
    let hold = api
        .request(Method::POST, format!("/v1/shows/{show}/holds"))
        .api_key(&key)
        .json(&json!({"seats": ["A1"]}))
        .await;
    assert_eq!(
        hold.expect_created()["customer_id"],
        format!("partner:{key_id}")
    );

    // Five requests a minute, whatever they are: the sixth in a minute is refused.
    let mut answered = 1; // the hold
    let refused = loop {
        let reply = api.cities().api_key(&key).await;
        if reply.status == StatusCode::TOO_MANY_REQUESTS {
            break reply;
        }
        reply.expect_ok();
        answered += 1;
        assert!(
            answered <= 10,
            "no 429 after {answered} requests with a quota of 5"
        );
    };
    assert!(answered >= 5, "{answered} answered before the first 429");
    refused.expect_problem(429, "quota_exceeded");
    let wait: u64 = refused.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&wait), "{wait}");

    // A wrong key, and a revoked one, are 401.
    api.cities()
        .api_key("bo_not-a-key")
        .await
        .expect_problem(401, "unauthorized");
    let revoked = api.revoke_api_key(&admin, key_id).await;
    assert!(revoked.expect_ok()["revoked_at"].is_string());
    api.cities()
        .api_key(&key)
        .await
        .expect_problem(401, "unauthorized");
}
