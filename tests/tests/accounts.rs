//! Accounts over HTTP: register, log in, refresh, profile, favourites, roles, and the
//! protections around them.

use boxoffice_api::auth::Role;
use boxoffice_tests::fixtures;
use boxoffice_tests::server::{Api, Reply, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

async fn register(api: &Api, email: &str, password: &str) -> Reply {
    api.send(
        Method::POST,
        "/v1/auth/register",
        None,
        Some(&json!({"email": email, "password": password, "display_name": "王小明"})),
        &[],
    )
    .await
}

async fn login(api: &Api, email: &str, password: &str) -> Reply {
    api.send(
        Method::POST,
        "/v1/auth/login",
        None,
        Some(&json!({"email": email, "password": password})),
        &[],
    )
    .await
}

async fn refresh(api: &Api, token: &str) -> Reply {
    api.send(
        Method::POST,
        "/v1/auth/refresh",
        None,
        Some(&json!({"refresh_token": token})),
        &[],
    )
    .await
}

fn field(reply: &Reply, name: &str) -> String {
    reply.body[name].as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn a_customer_registers_logs_in_refreshes_and_uses_the_api_as_their_account() {
    let server = TestServer::start().await;
    let api = &server.api;
    let registered = register(api, " Xiaoming.Wang@Example.cn ", "长城长城 great wall").await;
    assert_eq!(registered.status, StatusCode::CREATED, "{registered:?}");
    let account = registered.body["account"].clone();
    assert_eq!(account["email"], "xiaoming.wang@example.cn");
    assert_eq!(account["display_name"], "王小明");
    assert_eq!(account["roles"], json!(["customer"]));
    assert_eq!(registered.body["token_type"], "Bearer");
    assert_eq!(registered.body["expires_in"], 900);
    let account_id = account["account_id"].as_str().unwrap().to_owned();

    let session = login(api, "XIAOMING.WANG@example.cn", "长城长城 great wall").await;
    assert_eq!(session.status, StatusCode::OK, "{session:?}");
    let access = field(&session, "access_token");
    let me = api.get("/v1/me", Some(&access)).await;
    assert_eq!(me.body["account_id"], account_id.as_str());

    // The access token is what the rest of the API takes: holds are the account's.
    let staff = api.token("box-office-1", &[Role::Staff]);
    let show = api.post("/v1/shows", &staff, &fixtures::show(2, 4)).await;
    let show = field(&show, "show_id");
    let hold = api
        .post(
            &format!("/v1/shows/{show}/holds"),
            &access,
            &json!({"seats": ["B1"]}),
        )
        .await;
    assert_eq!(hold.status, StatusCode::CREATED, "{hold:?}");
    assert_eq!(hold.body["customer_id"], account_id.as_str());

    // The profile changes; the email does not.
    let changed = api
        .send(
            Method::PUT,
            "/v1/me",
            Some(&access),
            Some(&json!({"display_name": "小明", "phone": "+86 138-0000-0000"})),
            &[],
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{changed:?}");
    assert_eq!(changed.body["display_name"], "小明");
    assert_eq!(changed.body["phone"], "+86 138-0000-0000");
    let bad = api
        .send(
            Method::PUT,
            "/v1/me",
            Some(&access),
            Some(&json!({"display_name": "", "phone": "call me"})),
            &[],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);

    // A refresh gives a new session; each refresh token works once.
    let first = field(&session, "refresh_token");
    let renewed = refresh(api, &first).await;
    assert_eq!(renewed.status, StatusCode::OK, "{renewed:?}");
    let second = field(&renewed, "refresh_token");
    assert_ne!(first, second);
    assert_eq!(
        api.get("/v1/me", Some(&field(&renewed, "access_token")))
            .await
            .status,
        StatusCode::OK
    );
    // Replaying the used one is taken as theft: every session of the account ends.
    let replayed = refresh(api, &first).await;
    assert_eq!(replayed.status, StatusCode::UNAUTHORIZED);
    assert_eq!(replayed.code(), "invalid_refresh_token");
    let after = refresh(api, &second).await;
    assert_eq!(
        after.status,
        StatusCode::UNAUTHORIZED,
        "the newer token was revoked too"
    );
    assert_eq!(
        refresh(api, "made-up").await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn a_failed_login_does_not_say_whether_the_account_exists_and_repeated_failures_are_slowed() {
    let server = TestServer::start().await;
    let api = &server.api;
    assert_eq!(
        register(api, "lei@example.cn", "a long enough password")
            .await
            .status,
        StatusCode::CREATED
    );
    let wrong = login(api, "lei@example.cn", "not the password").await;
    let unknown = login(api, "nobody@example.cn", "not the password").await;
    for reply in [&wrong, &unknown] {
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
        assert_eq!(reply.code(), "invalid_credentials");
    }
    assert_eq!(wrong.body["detail"], unknown.body["detail"]);
    // Three more failures for the account make five: the right password is refused too.
    for _ in 0..3 {
        assert_eq!(
            login(api, "lei@example.cn", "still not it").await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    let blocked = login(api, "lei@example.cn", "a long enough password").await;
    assert_eq!(blocked.status, StatusCode::TOO_MANY_REQUESTS, "{blocked:?}");
    assert_eq!(blocked.code(), "too_many_attempts");
    let retry: u64 = blocked.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=900).contains(&retry), "{retry}");
}

#[tokio::test]
async fn registration_checks_its_fields_and_an_email_has_one_account() {
    let server = TestServer::start().await;
    let api = &server.api;
    assert_eq!(
        register(api, "mei@example.cn", "a long enough password")
            .await
            .status,
        StatusCode::CREATED
    );
    let twice = register(api, "MEI@example.cn", "another long password").await;
    assert_eq!(twice.status, StatusCode::CONFLICT);
    assert_eq!(twice.code(), "email_taken");
    for (email, password, field) in [
        ("not-an-email", "a long enough password", "email"),
        ("han@example.cn", "short", "password"),
    ] {
        let reply = register(api, email, password).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{reply:?}");
        assert_eq!(reply.body["errors"][0]["field"], field);
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
    let staff = api.token("staff-1", &[Role::Staff]);
    let movie = api
        .post(
            "/v1/movies",
            &staff,
            &json!({"title": "流浪地球3", "duration_minutes": 130, "genres": ["sci-fi"],
                    "language": "zh", "country": "CN", "release_date": "2027-01-29"}),
        )
        .await;
    assert_eq!(movie.status, StatusCode::CREATED, "{movie:?}");
    let movie_id = field(&movie, "id");
    let at = field(&movie, "position");
    assert_eq!(
        api.get(&format!("/v1/movies/search?min_position={at}"), None)
            .await
            .status,
        StatusCode::OK
    );
    let alice = field(
        &register(api, "alice@example.cn", "a long enough password").await,
        "access_token",
    );
    let bob = field(
        &register(api, "bob@example.cn", "a long enough password").await,
        "access_token",
    );
    let put = |token: String, id: String| async move {
        api.send(
            Method::PUT,
            &format!("/v1/me/favorites/{id}"),
            Some(&token),
            None,
            &[],
        )
        .await
    };
    assert_eq!(
        put(alice.clone(), movie_id.clone()).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        put(alice.clone(), movie_id.clone()).await.status,
        StatusCode::NO_CONTENT,
        "again: no change"
    );
    let unknown = put(alice.clone(), uuid::Uuid::new_v4().to_string()).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(unknown.code(), "movie_not_found");
    let listed = api.get("/v1/me/favorites", Some(&alice)).await;
    assert_eq!(listed.body.as_array().unwrap().len(), 1);
    assert_eq!(listed.body[0]["title"], "流浪地球3");
    assert_eq!(
        api.get("/v1/me/favorites", Some(&bob)).await.body,
        json!([])
    );
    let removed = api
        .send(
            Method::DELETE,
            &format!("/v1/me/favorites/{movie_id}"),
            Some(&alice),
            None,
            &[],
        )
        .await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT);
    assert_eq!(
        api.get("/v1/me/favorites", Some(&alice)).await.body,
        json!([])
    );
    // A token that is not an account's (a development token) has no profile.
    let dev = api.token("someone", &[Role::Customer]);
    assert_eq!(
        api.get("/v1/me", Some(&dev)).await.code(),
        "account_not_found"
    );
}

#[tokio::test]
async fn an_admin_grants_roles_which_count_from_the_next_session() {
    let server = TestServer::start().await;
    let api = &server.api;
    let registered = register(api, "clerk@example.cn", "a long enough password").await;
    let account_id = registered.body["account"]["account_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let customer = field(&registered, "access_token");
    let roles = json!({"roles": ["staff", "customer", "staff"]});
    let path = format!("/v1/accounts/{account_id}/roles");
    let refused = api
        .send(Method::PUT, &path, Some(&customer), Some(&roles), &[])
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let admin = api.token("admin-1", &[Role::Admin]);
    let granted = api
        .send(Method::PUT, &path, Some(&admin), Some(&roles), &[])
        .await;
    assert_eq!(granted.status, StatusCode::OK, "{granted:?}");
    assert_eq!(granted.body["roles"], json!(["staff", "customer"]));
    for bad in [json!({"roles": []}), json!({"roles": ["owner"]})] {
        let reply = api
            .send(Method::PUT, &path, Some(&admin), Some(&bad), &[])
            .await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }
    let missing = format!("/v1/accounts/{}/roles", uuid::Uuid::new_v4());
    assert_eq!(
        api.send(Method::PUT, &missing, Some(&admin), Some(&roles), &[])
            .await
            .code(),
        "account_not_found"
    );
    // The old token still says customer; the next session says staff.
    let city = json!({"name": "成都", "time_zone": "Asia/Shanghai"});
    assert_eq!(
        api.post("/v1/cities", &customer, &city).await.status,
        StatusCode::FORBIDDEN
    );
    let staff: Value = refresh(api, &field(&registered, "refresh_token"))
        .await
        .body;
    let staff = staff["access_token"].as_str().unwrap();
    assert_eq!(
        api.post("/v1/cities", staff, &city).await.status,
        StatusCode::CREATED
    );
}

#[tokio::test]
async fn partner_api_keys_act_as_their_own_identity_within_a_quota_per_minute() {
    let server = TestServer::start().await;
    let api = &server.api;
    let admin = api.token("admin-1", &[Role::Admin]);
    let customer = api.token("someone", &[Role::Customer]);
    let body = json!({"name": "猫眼 partner", "quota_per_minute": 5});
    assert_eq!(
        api.post("/v1/api-keys", &customer, &body).await.status,
        StatusCode::FORBIDDEN
    );
    let created = api.post("/v1/api-keys", &admin, &body).await;
    assert_eq!(created.status, StatusCode::CREATED, "{created:?}");
    let key = field(&created, "api_key");
    let key_id = field(&created, "key_id");
    assert!(key.starts_with("bo_"), "{key}");
    assert_eq!(created.body["roles"], json!(["customer"]));
    let listed = api.get("/v1/api-keys", Some(&admin)).await;
    assert_eq!(listed.body[0]["key_id"], key_id.as_str());
    assert!(
        !listed.body.to_string().contains(&key),
        "the key is shown only once"
    );

    // The key is an identity: its holds are the partner's.
    let staff = api.token("box-office-1", &[Role::Staff]);
    let show = field(
        &api.post("/v1/shows", &staff, &fixtures::show(2, 4)).await,
        "show_id",
    );
    let with_key = |method: Method, path: String, body: Option<Value>| {
        let key = key.clone();
        async move {
            api.send(
                method,
                &path,
                None,
                body.as_ref(),
                &[("x-api-key", key.as_str())],
            )
            .await
        }
    };
    let hold = with_key(
        Method::POST,
        format!("/v1/shows/{show}/holds"),
        Some(json!({"seats": ["A1"]})),
    )
    .await;
    assert_eq!(hold.status, StatusCode::CREATED, "{hold:?}");
    assert_eq!(hold.body["customer_id"], format!("partner:{key_id}"));

    // Five requests a minute, whatever they are: the sixth in a minute is refused.
    let mut answered = 1; // the hold
    let refused = loop {
        let reply = with_key(Method::GET, "/v1/cities".into(), None).await;
        if reply.status == StatusCode::TOO_MANY_REQUESTS {
            break reply;
        }
        assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
        answered += 1;
        assert!(
            answered <= 10,
            "no 429 after {answered} requests with a quota of 5"
        );
    };
    assert!(answered >= 5, "{answered} answered before the first 429");
    assert_eq!(refused.code(), "quota_exceeded");
    let wait: u64 = refused.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&wait), "{wait}");

    // A wrong key, and a revoked one, are 401.
    let wrong = api
        .send(
            Method::GET,
            "/v1/cities",
            None,
            None,
            &[("x-api-key", "bo_not-a-key")],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    let revoked = api
        .send(
            Method::DELETE,
            &format!("/v1/api-keys/{key_id}"),
            Some(&admin),
            None,
            &[],
        )
        .await;
    assert_eq!(revoked.status, StatusCode::OK, "{revoked:?}");
    assert!(revoked.body["revoked_at"].is_string());
    let after = with_key(Method::GET, "/v1/cities".into(), None).await;
    assert_eq!(after.status, StatusCode::UNAUTHORIZED);
}
