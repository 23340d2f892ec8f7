//! Accounts over HTTP: register, verify by mail, sign in, refresh rotation and reuse
//! detection, password reset, the throttle, deactivation, profile and addresses.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::support::{start, start_with, PASSWORD};

#[tokio::test]
async fn register_verify_from_the_mail_file_and_sign_in() {
    let s = start().await;
    let r = s
        .call(Method::POST, "/api/auth/register")
        .json(json!({"email": " Ana@Example.com", "password": PASSWORD, "full_name": "Ana Lima"}))
        .send()
        .await;
    let user = r.expect(StatusCode::CREATED, None).clone();
    assert_eq!(user["email"], "ana@example.com");
    assert_eq!(user["role"], "customer");
    assert_eq!(user["email_verified"], false);
    assert!(user.get("password_hash").is_none());
    assert!(r.header("location").is_some());

    // The same email again, in any case.
    s.call(Method::POST, "/api/auth/register")
        .json(json!({"email": "ANA@example.com", "password": PASSWORD, "full_name": "Other"}))
        .send()
        .await
        .expect(StatusCode::CONFLICT, Some("email_taken"));

    // Sign-in works before verification.
    let token = s.login("ana@example.com", PASSWORD).await;
    let token_of_mail = s.mailed_token("ana@example.com", "Verify your email").await;
    let verified = s
        .call(Method::POST, "/api/auth/verify-email")
        .json(json!({"token": token_of_mail}))
        .send()
        .await;
    assert_eq!(
        verified.expect(StatusCode::OK, None)["email_verified"],
        true
    );
    // Single use.
    s.call(Method::POST, "/api/auth/verify-email")
        .json(json!({"token": token_of_mail}))
        .send()
        .await
        .expect(StatusCode::UNAUTHORIZED, Some("invalid_token"));

    let me = s
        .call(Method::GET, "/api/users/profile")
        .token(&token)
        .send()
        .await;
    assert_eq!(me.expect(StatusCode::OK, None)["email"], "ana@example.com");
}

#[tokio::test]
async fn wrong_password_and_unknown_email_look_the_same() {
    let s = start().await;
    s.customer("ana@example.com").await;
    let wrong = s
        .call(Method::POST, "/api/auth/login")
        .json(json!({"email": "ana@example.com", "password": "not-her-password"}))
        .send()
        .await;
    let unknown = s
        .call(Method::POST, "/api/auth/login")
        .json(json!({"email": "nobody@example.com", "password": "not-her-password"}))
        .send()
        .await;
    wrong.expect(StatusCode::UNAUTHORIZED, Some("invalid_credentials"));
    unknown.expect(StatusCode::UNAUTHORIZED, Some("invalid_credentials"));
    assert_eq!(wrong.body["detail"], unknown.body["detail"]);
    assert_eq!(wrong.body["title"], unknown.body["title"]);
}

#[tokio::test]
async fn refresh_rotates_and_a_reused_token_revokes_its_family() {
    let s = start().await;
    s.customer("ana@example.com").await;
    let first = s
        .call(Method::POST, "/api/auth/login")
        .json(json!({"email": "ana@example.com", "password": PASSWORD}))
        .send()
        .await;
    let first = first.expect(StatusCode::OK, None).clone();
    assert_eq!(first["token_type"], "Bearer");
    assert_eq!(first["expires_in"], 900);
    let old = first["refresh_token"].as_str().unwrap();

    let second = s
        .call(Method::POST, "/api/auth/refresh")
        .json(json!({"refresh_token": old}))
        .send()
        .await;
    let second = second.expect(StatusCode::OK, None).clone();
    let newer = second["refresh_token"].as_str().unwrap();
    assert_ne!(newer, old);

    // The old one again: it leaked. 401, and the newer one of its family dies too.
    s.call(Method::POST, "/api/auth/refresh")
        .json(json!({"refresh_token": old}))
        .send()
        .await
        .expect(StatusCode::UNAUTHORIZED, Some("invalid_token"));
    s.call(Method::POST, "/api/auth/refresh")
        .json(json!({"refresh_token": newer}))
        .send()
        .await
        .expect(StatusCode::UNAUTHORIZED, Some("invalid_token"));

    // Logout revokes; a revoked token cannot refresh.
    let third = s
        .call(Method::POST, "/api/auth/login")
        .json(json!({"email": "ana@example.com", "password": PASSWORD}))
        .send()
        .await;
    let refresh = third.body["refresh_token"].as_str().unwrap().to_string();
    s.call(Method::POST, "/api/auth/logout")
        .json(json!({"refresh_token": refresh}))
        .send()
        .await
        .expect(StatusCode::NO_CONTENT, None);
    s.call(Method::POST, "/api/auth/refresh")
        .json(json!({"refresh_token": refresh}))
        .send()
        .await
        .expect(StatusCode::UNAUTHORIZED, Some("invalid_token"));
}

#[tokio::test]
async fn a_password_reset_ends_every_session() {
    let s = start().await;
    let access = s.customer("ana@example.com").await;
    let session = s
        .call(Method::POST, "/api/auth/login")
        .json(json!({"email": "ana@example.com", "password": PASSWORD}))
        .send()
        .await;
    let refresh = session.body["refresh_token"].as_str().unwrap().to_string();

    for email in ["ana@example.com", "nobody@example.com", "not an email"] {
        s.call(Method::POST, "/api/auth/forgot-password")
            .json(json!({"email": email}))
            .send()
            .await
            .expect(StatusCode::ACCEPTED, None);
    }
    let token = s
        .mailed_token("ana@example.com", "Reset your password")
        .await;
    s.call(Method::POST, "/api/auth/reset-password")
        .json(json!({"token": token, "password": "short"}))
        .send()
        .await
        .expect(StatusCode::UNPROCESSABLE_ENTITY, Some("validation_failed"));
    s.call(Method::POST, "/api/auth/reset-password")
        .json(json!({"token": token, "password": "a-brand-new-password"}))
        .send()
        .await
        .expect(StatusCode::NO_CONTENT, None);

    s.call(Method::GET, "/api/users/profile")
        .token(&access)
        .send()
        .await
        .expect(StatusCode::UNAUTHORIZED, Some("unauthenticated"));
    s.call(Method::POST, "/api/auth/refresh")
        .json(json!({"refresh_token": refresh}))
        .send()
        .await
        .expect(StatusCode::UNAUTHORIZED, Some("invalid_token"));
    s.login("ana@example.com", "a-brand-new-password").await;
}

#[tokio::test]
async fn the_eleventh_failed_login_for_an_email_is_429_with_retry_after() {
    let s = start().await;
    s.customer("ana@example.com").await;
    for _ in 0..10 {
        s.call(Method::POST, "/api/auth/login")
            .json(json!({"email": "ana@example.com", "password": "wrong-password"}))
            .send()
            .await
            .expect(StatusCode::UNAUTHORIZED, Some("invalid_credentials"));
    }
    let limited = s
        .call(Method::POST, "/api/auth/login")
        .json(json!({"email": "ana@example.com", "password": PASSWORD}))
        .send()
        .await;
    limited.expect(StatusCode::TOO_MANY_REQUESTS, Some("rate_limited"));
    let wait: u64 = limited.header("retry-after").unwrap().parse().unwrap();
    assert!(wait > 0 && wait <= 900, "{wait}");
    // Registering many users from one address is not throttled; nor are other accounts.
    s.customer("bea@example.com").await;
    // The audit log has each failure and the lock, once however often it is met.
    s.call(Method::POST, "/api/auth/login")
        .json(json!({"email": "ana@example.com", "password": PASSWORD}))
        .send()
        .await
        .expect(StatusCode::TOO_MANY_REQUESTS, Some("rate_limited"));
    let admin = s.admin_token().await;
    let (_, _, failed) = s
        .get_as(&admin, "/api/admin/audit?action=auth.login_failed")
        .await;
    assert_eq!(failed["items"].as_array().unwrap().len(), 10);
    let (_, _, locked) = s
        .get_as(&admin, "/api/admin/audit?action=auth.locked")
        .await;
    let locked = locked["items"].as_array().unwrap();
    assert_eq!(locked.len(), 1);
    assert_eq!(locked[0]["outcome"], "refused");
    assert_eq!(locked[0]["target"]["type"], "user");
    assert_eq!(locked[0]["ip"], "127.0.0.1");
}

#[tokio::test]
async fn the_throttle_is_configurable() {
    let s = start_with(commerce_http::ApiConfig {
        login: commerce_http::LoginLimits {
            failures_per_email_and_client: 2,
            ..Default::default()
        },
        ..Default::default()
    })
    .await;
    for _ in 0..2 {
        s.call(Method::POST, "/api/auth/login")
            .json(json!({"email": "x@example.com", "password": "wrong-password"}))
            .send()
            .await
            .expect(StatusCode::UNAUTHORIZED, Some("invalid_credentials"));
    }
    s.call(Method::POST, "/api/auth/login")
        .json(json!({"email": "x@example.com", "password": "wrong-password"}))
        .send()
        .await
        .expect(StatusCode::TOO_MANY_REQUESTS, Some("rate_limited"));
}

/// The sign-in throttle behind a trusted proxy: one client guessing locks only itself out of
/// that account; a parallel burst gets no more guesses than the limit; the owner's right
/// password from elsewhere still signs in; and a current password is throttled alike.
#[tokio::test]
async fn guessing_locks_out_the_guesser_not_the_owner_and_a_burst_gets_no_extra_guesses() {
    let s = start_with(commerce_http::ApiConfig {
        trusted_proxies: vec!["127.0.0.1/32".parse().unwrap()],
        ..Default::default()
    })
    .await;
    let owner = s.customer("ana@example.com").await;
    let from = |client: &'static str, password: &'static str| {
        s.call(Method::POST, "/api/auth/login")
            .header("x-forwarded-for", client)
            .json(json!({"email": "ana@example.com", "password": password}))
            .send()
    };
    // 30 guesses at once from one client: exactly 10 are checked, the rest refused.
    let burst: Vec<_> = (0..30)
        .map(|_| from("203.0.113.9", "wrong-password"))
        .collect();
    let answers = futures_util::future::join_all(burst).await;
    let checked = answers
        .iter()
        .filter(|r| r.status == StatusCode::UNAUTHORIZED)
        .count();
    let refused = answers
        .iter()
        .filter(|r| r.status == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!((checked, refused), (10, 20));
    // Even the right password is refused from that client now...
    from("203.0.113.9", PASSWORD)
        .await
        .expect(StatusCode::TOO_MANY_REQUESTS, Some("rate_limited"));
    // ...but the owner, elsewhere, signs in; and their sign-ins never count.
    for _ in 0..12 {
        from("198.51.100.4", PASSWORD)
            .await
            .expect(StatusCode::OK, None);
    }
    // A current password is a guess too: 10 wrong ones, then 429 even for the right one.
    let change = |current: &'static str| {
        s.call(Method::PUT, "/api/users/profile")
            .token(&owner)
            .header("x-forwarded-for", "192.0.2.50")
            .json(json!({"password": "a-brand-new-password", "current_password": current}))
            .send()
    };
    for _ in 0..10 {
        let r = change("not-my-password").await;
        r.expect(StatusCode::UNPROCESSABLE_ENTITY, Some("validation_failed"));
        assert_eq!(r.body["errors"][0]["field"], "current_password");
    }
    change(PASSWORD)
        .await
        .expect(StatusCode::TOO_MANY_REQUESTS, Some("rate_limited"));
    // The password is unchanged.
    from("198.51.100.4", PASSWORD)
        .await
        .expect(StatusCode::OK, None);
}

#[tokio::test]
async fn a_deactivated_user_is_locked_out_at_once() {
    let s = start().await;
    let token = s.customer("ana@example.com").await;
    let me = s
        .call(Method::GET, "/api/users/profile")
        .token(&token)
        .send()
        .await;
    let id = me.body["id"].as_str().unwrap().to_string();
    let admin = s.admin_token().await;
    let updated = s
        .call(Method::PUT, &format!("/api/admin/users/{id}"))
        .token(&admin)
        .json(json!({"is_active": false}))
        .send()
        .await;
    assert_eq!(updated.expect(StatusCode::OK, None)["is_active"], false);
    // The token issued before stops working without waiting for it to expire.
    s.call(Method::GET, "/api/users/profile")
        .token(&token)
        .send()
        .await
        .expect(StatusCode::UNAUTHORIZED, Some("unauthenticated"));
    // Told so only with the right password.
    s.call(Method::POST, "/api/auth/login")
        .json(json!({"email": "ana@example.com", "password": PASSWORD}))
        .send()
        .await
        .expect(StatusCode::FORBIDDEN, Some("account_disabled"));
    s.call(Method::POST, "/api/auth/login")
        .json(json!({"email": "ana@example.com", "password": "wrong-password"}))
        .send()
        .await
        .expect(StatusCode::UNAUTHORIZED, Some("invalid_credentials"));
}

#[tokio::test]
async fn bad_and_missing_tokens_are_401() {
    let s = start().await;
    for auth in [
        None,
        Some("Bearer nonsense"),
        Some("Basic abc"),
        Some("Bearer "),
    ] {
        let mut call = s.call(Method::GET, "/api/users/profile");
        if let Some(a) = auth {
            call = call.header("authorization", a);
        }
        let r = call.send().await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{auth:?}: {}", r.text);
        assert_eq!(r.body["code"], "unauthenticated", "{auth:?}");
    }
    // On an endpoint where signing in is optional, a bad token is still refused.
    s.call(Method::GET, "/api/cart")
        .header("authorization", "Bearer nonsense")
        .send()
        .await
        .expect(StatusCode::UNAUTHORIZED, Some("unauthenticated"));
}

#[tokio::test]
async fn profile_and_saved_addresses() {
    let s = start().await;
    let token = s.customer("ana@example.com").await;
    let r = s
        .call(Method::PUT, "/api/users/profile")
        .token(&token)
        .json(json!({"full_name": "Ana B. Lima"}))
        .send()
        .await;
    assert_eq!(r.expect(StatusCode::OK, None)["full_name"], "Ana B. Lima");
    s.call(Method::PUT, "/api/users/profile")
        .token(&token)
        .json(json!({"password": "another-long-one"}))
        .send()
        .await
        .expect(StatusCode::UNPROCESSABLE_ENTITY, Some("validation_failed"));

    let address = json!({"label": "Home", "full_name": "Ana Lima", "line1": "1 Main St",
        "city": "Austin", "region": "TX", "postal_code": "78701", "country": "us"});
    let created = s
        .call(Method::POST, "/api/users/addresses")
        .token(&token)
        .json(address.clone())
        .send()
        .await;
    let saved = created.expect(StatusCode::CREATED, None).clone();
    assert_eq!(saved["country"], "US");
    assert_eq!(
        saved["is_default"], true,
        "the first address is the default"
    );
    let id = saved["id"].as_str().unwrap();
    let mut changed = address.clone();
    changed["city"] = json!("Dallas");
    let r = s
        .call(Method::PUT, &format!("/api/users/addresses/{id}"))
        .token(&token)
        .json(changed)
        .send()
        .await;
    assert_eq!(r.expect(StatusCode::OK, None)["city"], "Dallas");
    let location = created.header("location").unwrap().to_string();
    let read = s.call(Method::GET, &location).token(&token).send().await;
    assert_eq!(read.expect(StatusCode::OK, None)["city"], "Dallas");

    // Nobody else sees or changes it.
    let other = s.customer("bea@example.com").await;
    s.call(Method::GET, &location)
        .token(&other)
        .send()
        .await
        .expect(StatusCode::NOT_FOUND, Some("not_found"));
    let theirs = s
        .call(Method::GET, "/api/users/addresses")
        .token(&other)
        .send()
        .await;
    assert_eq!(theirs.body.as_array().unwrap().len(), 0);
    s.call(Method::DELETE, &format!("/api/users/addresses/{id}"))
        .token(&other)
        .send()
        .await
        .expect(StatusCode::NOT_FOUND, Some("not_found"));

    let mut incomplete = address.clone();
    incomplete.as_object_mut().unwrap().remove("line1");
    let r = s
        .call(Method::POST, "/api/users/addresses")
        .token(&token)
        .json(incomplete)
        .send()
        .await;
    r.expect(StatusCode::UNPROCESSABLE_ENTITY, Some("validation_failed"));
    assert_eq!(r.body["errors"][0]["field"], "line1");
    let mut wrong_type = address.clone();
    wrong_type["country"] = json!(5);
    let r = s
        .call(Method::POST, "/api/users/addresses")
        .token(&token)
        .json(wrong_type)
        .send()
        .await;
    r.expect(StatusCode::UNPROCESSABLE_ENTITY, Some("validation_failed"));
    assert_eq!(r.body["errors"][0]["field"], "country", "{}", r.text);

    s.call(Method::DELETE, &format!("/api/users/addresses/{id}"))
        .token(&token)
        .send()
        .await
        .expect(StatusCode::NO_CONTENT, None);
}
