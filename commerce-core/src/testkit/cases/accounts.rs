//! Cases on accounts: emails, addresses, one-time and refresh tokens, failed sign-ins.

use super::*;

/// Conformance case: Login failures are counted per key within the window.
pub async fn login_failures_are_counted_per_key_within_the_window<S: Storage>(store: Arc<S>) {
    let t0 = now();
    let minute = Duration::minutes(1);
    let window_start = t0 - minute;
    // Ada's email at 3, the address (shared with Bob) at 4.
    let keys = |email: &str| {
        vec![
            (format!("email:{email}"), 3u32),
            ("ip:192.0.2.7".to_string(), 4u32),
        ]
    };
    let attempt = |email: &str, at| {
        let store = store.clone();
        let keys = keys(email);
        async move {
            let id = LoginAttemptId::random();
            let refused = store
                .begin_login_attempt(id, &keys, window_start, at)
                .await
                .unwrap();
            (id, refused)
        }
    };
    for i in 0..3 {
        assert_eq!(attempt("ada@example.com", t0 + minute * i).await.1, None);
    }
    // At its limit, Ada's email is refused until its oldest failure leaves the window,
    // and the refusal is not counted (the address still has room for one).
    assert_eq!(
        attempt("ada@example.com", t0 + minute * 3).await.1,
        Some(t0)
    );
    let (bob, refused) = attempt("bob@example.com", t0 + minute * 3).await;
    assert_eq!(refused, None, "the address's fourth");
    // Now the address is full too: Bob is refused by it, told the later of the two.
    assert_eq!(
        attempt("bob@example.com", t0 + minute * 4).await.1,
        Some(t0)
    );
    // Bob's password was right: his attempt is taken back, on every key it touched.
    store.forget_login_attempt(bob).await.unwrap();
    assert_eq!(attempt("bob@example.com", t0 + minute * 4).await.1, None);
    // Failures before the window do not count: from t0 + 1m, Ada's first is gone.
    let later = t0 + minute;
    assert_eq!(
        store
            .begin_login_attempt(
                LoginAttemptId::random(),
                &[("email:ada@example.com".to_string(), 3)],
                later,
                t0 + minute * 5,
            )
            .await
            .unwrap(),
        None
    );
    // Purging forgets what is older than asked: Ada's first failure on both keys.
    assert_eq!(
        store.purge_login_failures(t0 + minute / 2).await.unwrap(),
        2
    );

    // A burst of parallel attempts on a fresh key: exactly its limit get through.
    let burst: Vec<_> = (0..24)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .begin_login_attempt(
                        LoginAttemptId::random(),
                        &[("email:carol@example.com".to_string(), 5)],
                        window_start,
                        t0,
                    )
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut counted = 0;
    for attempt in burst {
        if attempt.await.unwrap().is_none() {
            counted += 1;
        }
    }
    assert_eq!(counted, 5, "the check and the count are one step");
}

/// Conformance case: Emails are unique and one address is default.
pub async fn emails_are_unique_and_one_address_is_default<S: Storage>(store: Arc<S>) {
    let ada = user("ada@example.com");
    store
        .insert_user(&ada, &ChangeRecord::none())
        .await
        .unwrap();
    assert_eq!(
        store
            .insert_user(&user("ada@example.com"), &ChangeRecord::none())
            .await,
        Err(StorageError::Duplicate(UniqueRule::UserEmail))
    );
    assert_eq!(
        store
            .user_by_email("ada@example.com")
            .await
            .unwrap()
            .map(|u| u.id),
        Some(ada.id)
    );
    let mut vendor = user("vendor@example.com");
    vendor.role = Role::Vendor;
    store
        .insert_user(&vendor, &ChangeRecord::none())
        .await
        .unwrap();
    let vendors = store
        .list_users(&UserFilter {
            role: Some(Role::Vendor),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        vendors.items.iter().map(|u| u.id).collect::<Vec<_>>(),
        vec![vendor.id]
    );
    let found = store
        .list_users(&UserFilter {
            text: Some("ADA@".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(found.items.len(), 1);
    let everyone = walk(|page| {
        let store = store.clone();
        async move {
            store
                .list_users(&UserFilter {
                    page,
                    ..Default::default()
                })
                .await
        }
    })
    .await;
    assert_eq!(everyone.len(), 2, "every user once, page by page");
    let save = |default: bool| SavedAddress {
        id: AddressId::random(),
        user_id: ada.id,
        label: Some("home".into()),
        address: address(),
        is_default: default,
        created_at: now(),
    };
    let (home, work) = (save(true), save(true));
    store.save_address(&home).await.unwrap();
    store.save_address(&work).await.unwrap();
    let list = store.addresses(ada.id).await.unwrap();
    assert_eq!(
        list.iter()
            .filter(|a| a.is_default)
            .map(|a| a.id)
            .collect::<Vec<_>>(),
        vec![work.id]
    );
    assert_eq!(
        store.delete_address(vendor.id, home.id).await,
        Err(StorageError::NotFound),
        "not another user's"
    );
    store.delete_address(ada.id, home.id).await.unwrap();
    assert_eq!(store.addresses(ada.id).await.unwrap().len(), 1);
}

/// Conformance case: One time tokens work once and expire.
pub async fn one_time_tokens_work_once_and_expire<S: Storage>(store: Arc<S>) {
    let ada = user("ada@example.com");
    store
        .insert_user(&ada, &ChangeRecord::none())
        .await
        .unwrap();
    let now = now();
    let token = |hash: &str, ttl| OneTimeToken {
        token_hash: hash.into(),
        user_id: ada.id,
        purpose: TokenPurpose::VerifyEmail,
        expires_at: now + ttl,
        used_at: None,
    };
    store
        .insert_one_time(&token("fresh", Duration::hours(1)))
        .await
        .unwrap();
    store
        .insert_one_time(&token("old", Duration::seconds(-1)))
        .await
        .unwrap();
    assert_eq!(
        store
            .use_one_time("fresh", TokenPurpose::ResetPassword, now)
            .await
            .unwrap(),
        None,
        "wrong purpose"
    );
    assert!(store
        .use_one_time("fresh", TokenPurpose::VerifyEmail, now)
        .await
        .unwrap()
        .is_some());
    assert_eq!(
        store
            .use_one_time("fresh", TokenPurpose::VerifyEmail, now)
            .await
            .unwrap(),
        None,
        "single use"
    );
    assert_eq!(
        store
            .use_one_time("old", TokenPurpose::VerifyEmail, now)
            .await
            .unwrap(),
        None,
        "expired"
    );
    assert_eq!(
        store
            .use_one_time("unknown", TokenPurpose::VerifyEmail, now)
            .await
            .unwrap(),
        None
    );
}

/// Conformance case: Refresh tokens revoke once and by family.
pub async fn refresh_tokens_revoke_once_and_by_family<S: Storage>(store: Arc<S>) {
    let ada = user("ada@example.com");
    store
        .insert_user(&ada, &ChangeRecord::none())
        .await
        .unwrap();
    let now = now();
    let family = TokenFamilyId::random();
    let token = |hash: &str, family| RefreshToken {
        token_hash: hash.into(),
        family_id: family,
        user_id: ada.id,
        issued_at: now,
        expires_at: now + Duration::days(30),
        revoked_at: None,
    };
    for (h, f) in [
        ("r1", family),
        ("r2", family),
        ("other", TokenFamilyId::random()),
    ] {
        store.insert_refresh(&token(h, f)).await.unwrap();
    }
    // Two rotations racing: exactly one wins.
    let (a, b) = tokio::join!(
        store.revoke_refresh("r1", now),
        store.revoke_refresh("r1", now)
    );
    assert!(a.unwrap() ^ b.unwrap());
    store.revoke_family(family, now).await.unwrap();
    assert!(store
        .refresh_token("r2")
        .await
        .unwrap()
        .unwrap()
        .revoked_at
        .is_some());
    assert!(store
        .refresh_token("other")
        .await
        .unwrap()
        .unwrap()
        .revoked_at
        .is_none());
    store.revoke_all_of_user(ada.id, now).await.unwrap();
    assert!(store
        .refresh_token("other")
        .await
        .unwrap()
        .unwrap()
        .revoked_at
        .is_some());
    assert!(!store.revoke_refresh("missing", now).await.unwrap());
}
