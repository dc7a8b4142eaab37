//! Logins, tokens, roles, referral binding.
use serde_json::json;

use crate::{
    fixtures::{customer, text},
    helpers::{ADMIN_PASS, ADMIN_USER, JWT_SECRET, error_code, ok, spawn_app, spawn_app_with},
};

const ME: &str = "{ me { id nickname referralCode } }";

#[tokio::test]
async fn demo_login_then_me() {
    let app = spawn_app().await;
    let v = app.login("demo:alice", None, Some("poster-qr")).await;
    let login = &v["data"]["wechatLogin"];
    assert_eq!(login["role"], "CUSTOMER", "{v}");
    assert_eq!(login["customer"]["nickname"], "alice");
    assert_eq!(login["customer"]["scene"], "poster-qr");
    let token = login["accessToken"].as_str().unwrap();
    let me = app.gql(Some(token), ME, json!({})).await;
    assert_eq!(me["data"]["me"]["id"], login["customer"]["id"]);
    // The same demo name is the same customer.
    let again = app.login("demo:alice", None, None).await;
    assert_eq!(
        again["data"]["wechatLogin"]["customer"]["id"],
        login["customer"]["id"]
    );
}

#[tokio::test]
async fn referral_and_scene_bind_on_first_login_only() {
    let app = spawn_app().await;
    let a = customer(&app, "a").await;
    let (a_id, a_code) = (a.id.as_str(), a.code);
    let c_code = customer(&app, "c").await.code;

    // Lower case is accepted: codes are read off posters.
    let b = app
        .login("demo:b", Some(&a_code.to_lowercase()), Some("share"))
        .await;
    assert_eq!(
        b["data"]["wechatLogin"]["customer"]["referrer"]["id"], a_id,
        "{b}"
    );
    // A later login with another code and scene changes neither.
    let b2 = app.login("demo:b", Some(&c_code), Some("ad")).await;
    assert_eq!(
        b2["data"]["wechatLogin"]["customer"]["referrer"]["id"],
        a_id
    );
    assert_eq!(b2["data"]["wechatLogin"]["customer"]["scene"], "share");
    // An existing customer cannot refer themselves later either.
    let a2 = app.login("demo:a", Some(&a_code), None).await;
    assert!(a2["data"]["wechatLogin"]["customer"]["referrer"].is_null());
    // A stale code does not block the login.
    let d = app.login("demo:d", Some("ZZZZZZ"), None).await;
    assert!(
        d["data"]["wechatLogin"]["customer"]["referrer"].is_null(),
        "{d}"
    );
}

#[tokio::test]
async fn referral_codes_are_unique_and_unambiguous() {
    let app = spawn_app().await;
    let mut codes = std::collections::HashSet::new();
    for i in 0..30 {
        let code = customer(&app, &format!("u{i}")).await.code;
        assert_eq!(code.len(), 6);
        assert!(!code.contains(['0', 'O', '1', 'I', 'L']), "{code}");
        assert!(codes.insert(code));
    }
}

#[tokio::test]
async fn concurrent_first_logins_create_one_customer() {
    let app = spawn_app().await;
    let logins = (0..10).map(|_| app.login("demo:rush", None, None));
    let results = futures_util::future::join_all(logins).await;
    let ids: std::collections::HashSet<String> = results
        .iter()
        .map(|v| {
            v["data"]["wechatLogin"]["customer"]["id"]
                .as_str()
                .unwrap_or_else(|| panic!("{v}"))
                .to_string()
        })
        .collect();
    assert_eq!(ids.len(), 1);
}

#[tokio::test]
async fn demo_codes_are_checked() {
    let app = spawn_app().await;
    let v = app.login("not-a-demo-code", None, None).await;
    assert_eq!(error_code(&v), "WECHAT_LOGIN_FAILED");
    let v = app.login("demo:", None, None).await;
    assert_eq!(error_code(&v), "BAD_USER_INPUT");
    assert_eq!(v["errors"][0]["extensions"]["field"], "code");
    let v = app.login("", None, None).await;
    assert_eq!(error_code(&v), "BAD_USER_INPUT");
    let long = "x".repeat(65);
    let v = app
        .gql(None, "mutation($n: String) { wechatLogin(input: {code: \"demo:x\", nickname: $n}) { role } }", json!({ "n": long }))
        .await;
    assert_eq!(v["errors"][0]["extensions"]["field"], "nickname", "{v}");
    let v = app
        .gql(None, "mutation { wechatLogin(input: {code: \"demo:x\", avatarUrl: \"javascript:alert(1)\"}) { role } }", json!({}))
        .await;
    assert_eq!(v["errors"][0]["extensions"]["field"], "avatarUrl", "{v}");
}

#[tokio::test]
async fn admin_login_right_and_wrong() {
    let app = spawn_app().await;
    let token = app.admin_token().await;
    // ADMIN is not a customer.
    let v = app.gql(Some(&token), ME, json!({})).await;
    assert_eq!(error_code(&v), "FORBIDDEN");

    for (u, p) in [(ADMIN_USER, "wrong-password"), ("nobody", ADMIN_PASS)] {
        let v = app
            .gql(None, "mutation($u: String!, $p: String!) { adminLogin(username: $u, password: $p) { accessToken } }", json!({ "u": u, "p": p }))
            .await;
        assert_eq!(error_code(&v), "UNAUTHENTICATED", "{v}");
        assert_eq!(v["errors"][0]["message"], "wrong username or password");
        assert!(v["data"].is_null());
    }
}

#[tokio::test]
async fn me_needs_a_valid_customer_token() {
    let app = spawn_app().await;
    let v = app.gql(None, ME, json!({})).await;
    assert_eq!(error_code(&v), "UNAUTHENTICATED");

    let forged = {
        use jsonwebtoken::{EncodingKey, Header, encode};
        let now = chrono::Utc::now().timestamp();
        let claims = json!({"iss": "siyu", "aud": "siyu-api", "sub": "1", "role": "CUSTOMER", "iat": now, "exp": now + 600});
        encode(
            &Header::default(),
            &claims,
            &EncodingKey::from_secret(b"some-other-secret-some-other-secret"),
        )
        .unwrap()
    };
    let expired = {
        use jsonwebtoken::{EncodingKey, Header, encode};
        let now = chrono::Utc::now().timestamp();
        let claims = json!({"iss": "siyu", "aud": "siyu-api", "sub": "1", "role": "CUSTOMER", "iat": now - 7200, "exp": now - 3600});
        encode(
            &Header::default(),
            &claims,
            &EncodingKey::from_secret(JWT_SECRET.as_bytes()),
        )
        .unwrap()
    };
    let none = {
        use base64::Engine;
        let b = |v: serde_json::Value| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
        };
        let now = chrono::Utc::now().timestamp();
        format!(
            "{}.{}.",
            b(json!({"alg": "none", "typ": "JWT"})),
            b(
                json!({"iss": "siyu", "aud": "siyu-api", "sub": "1", "role": "CUSTOMER", "iat": now, "exp": now + 600})
            )
        )
    };
    // Make customer 1 exist so that only the token can be at fault.
    app.customer_token("one").await;
    for bad in [forged.as_str(), expired.as_str(), none.as_str(), "garbage"] {
        let v = app.gql(Some(bad), ME, json!({})).await;
        assert_eq!(error_code(&v), "UNAUTHENTICATED", "{bad}: {v}");
    }
    // A non-Bearer Authorization header is no token either.
    let res = app
        .client
        .post(format!("{}/graphql", app.address))
        .header("authorization", "Basic YWRtaW46YWRtaW4=")
        .json(&json!({ "query": ME }))
        .send()
        .await
        .unwrap();
    let v: serde_json::Value = res.json().await.unwrap();
    assert_eq!(error_code(&v), "UNAUTHENTICATED");
}

const REFRESH: &str = "mutation($t: String!) { refreshToken(refreshToken: $t) { accessToken refreshToken role customer { id } } }";

#[tokio::test]
async fn refresh_tokens_rotate_and_reuse_revokes_the_family() {
    // No grace window: the repeat right below is a reuse (`credentials.rs`
    // has the window).
    let app = spawn_app_with(&[("REFRESH_REUSE_GRACE_SECS", "0")]).await;
    let login = app.login("demo:r", None, None).await;
    let first = text(&ok(&login)["wechatLogin"]["refreshToken"]);

    let v = app.gql(None, REFRESH, json!({ "t": first })).await;
    let second = v["data"]["refreshToken"]["refreshToken"]
        .as_str()
        .unwrap_or_else(|| panic!("{v}"))
        .to_string();
    assert_eq!(v["data"]["refreshToken"]["role"], "CUSTOMER");
    assert_eq!(
        v["data"]["refreshToken"]["customer"]["id"],
        login["data"]["wechatLogin"]["customer"]["id"]
    );
    let access = v["data"]["refreshToken"]["accessToken"].as_str().unwrap();
    assert!(app.gql(Some(access), ME, json!({})).await["data"]["me"]["id"].is_string());

    // The used token is refused, and that revokes the token issued from it.
    let v = app.gql(None, REFRESH, json!({ "t": first })).await;
    assert_eq!(error_code(&v), "UNAUTHENTICATED");
    let v = app.gql(None, REFRESH, json!({ "t": second })).await;
    assert_eq!(error_code(&v), "UNAUTHENTICATED");

    let v = app.gql(None, REFRESH, json!({ "t": "made-up" })).await;
    assert_eq!(error_code(&v), "UNAUTHENTICATED");
}

#[tokio::test]
async fn admin_tokens_refresh_too() {
    let app = spawn_app().await;
    let data = app
        .gql_ok(None, "mutation($u: String!, $p: String!) { adminLogin(username: $u, password: $p) { refreshToken } }", json!({ "u": ADMIN_USER, "p": ADMIN_PASS }))
        .await;
    let t = text(&data["adminLogin"]["refreshToken"]);
    let v = app.gql(None, REFRESH, json!({ "t": t })).await;
    assert_eq!(v["data"]["refreshToken"]["role"], "ADMIN", "{v}");
    assert!(v["data"]["refreshToken"]["customer"].is_null());
}

#[tokio::test]
async fn login_attempts_are_rate_limited_per_ip() {
    let app = spawn_app_with(&[("LOGIN_RATE_LIMIT_PER_MIN", "3")]).await;
    for _ in 0..3 {
        let v = app.login("demo:rl", None, None).await;
        assert!(v["errors"].is_null(), "{v}");
    }
    let v = app.login("demo:rl", None, None).await;
    assert_eq!(error_code(&v), "RATE_LIMITED");
    let v = app
        .gql(
            None,
            "mutation { adminLogin(username: \"admin\", password: \"x\") { role } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&v), "RATE_LIMITED");
}
