//! Credentials that can be withdrawn, and sessions that end before their
//! tokens expire: the admin's password rotated through `ADMIN_PASSWORD`,
//! a supplier's API key rotated, a supplier disabled, `logout`; and
//! concurrent refreshes of one refresh token.
use serde_json::{Value, json};

use crate::{
    fixtures::{create_supplier, supplier_token, text},
    helpers::{ADMIN_USER, TestApp, error_code, ok, spawn_app, spawn_app_with, spawn_second_with},
};

const ME: &str = "{ me { id } }";
const SUPPLIERS: &str = "{ suppliers { id active } }";
const FULFILLMENTS: &str = "{ supplierFulfillments { nodes { id } } }";
const LOGOUT: &str = "mutation { logout }";
const REFRESH: &str = "mutation($t: String!) { refreshToken(refreshToken: $t) { accessToken refreshToken expiresAt role } }";
const ADMIN_LOGIN: &str = "mutation($u: String!, $p: String!) { adminLogin(username: $u, password: $p) { accessToken refreshToken } }";
const SUPPLIER_LOGIN: &str =
    "mutation($k: String!) { supplierLogin(apiKey: $k) { accessToken refreshToken role } }";
const ROTATE_KEY: &str = "mutation($id: ID!) { rotateSupplierKey(supplierId: $id) { apiKey supplier { id name active } } }";
const SET_ACTIVE: &str = "mutation($id: ID!, $a: Boolean!) { setSupplierActive(supplierId: $id, active: $a) { id active } }";

/// An access and a refresh token.
struct Pair {
    access: String,
    refresh: String,
}

fn pair(v: &Value) -> Pair {
    Pair {
        access: text(&v["accessToken"]),
        refresh: text(&v["refreshToken"]),
    }
}

async fn admin_login(app: &TestApp, password: &str) -> Value {
    app.gql(None, ADMIN_LOGIN, json!({ "u": ADMIN_USER, "p": password }))
        .await
}

async fn refresh(app: &TestApp, token: &str) -> Value {
    app.gql(None, REFRESH, json!({ "t": token })).await
}

/// A customer's login pair.
async fn customer_pair(app: &TestApp, name: &str) -> Pair {
    let v = app.login(&format!("demo:{name}"), None, None).await;
    pair(&ok(&v)["wechatLogin"])
}

/// A supplier created by the admin: its id and API key.
async fn new_supplier(app: &TestApp, admin: &str, name: &str) -> (String, String) {
    let s = create_supplier(app, admin, json!({ "name": name })).await;
    (text(&s["supplier"]["id"]), text(&s["apiKey"]))
}

#[tokio::test]
async fn a_changed_admin_password_replaces_the_old_one_at_restart() {
    const OLD: &str = "old-admin-password-1";
    const NEW: &str = "new-admin-password-2";
    // A restart is a second instance on the same database: the PostgreSQL
    // schema and Redis prefix when the suite runs on both, else a SQLite file.
    let shared = ["TEST_DATABASE_URL", "TEST_REDIS_URL"]
        .iter()
        .all(|k| std::env::var(k).is_ok());
    let file = std::env::temp_dir().join(format!("siyu-cred-{}.db", uuid::Uuid::new_v4()));
    let sqlite = format!("sqlite://{}?mode=rwc", file.display());
    let with = |password: &'static str| {
        let mut vars = vec![("ADMIN_USERNAME", ADMIN_USER), ("ADMIN_PASSWORD", password)];
        if !shared {
            vars.push(("DATABASE_URL", sqlite.as_str()));
        }
        vars
    };
    let first = spawn_app_with(&with(OLD)).await;
    assert_eq!(first.shared.is_some(), shared);
    let restart = |password: &'static str| {
        let (first, vars) = (&first, with(password));
        async move {
            if shared {
                spawn_second_with(first, &vars).await
            } else {
                spawn_app_with(&vars).await
            }
        }
    };

    let before = pair(&ok(&admin_login(&first, OLD).await)["adminLogin"]);
    ok(&first.gql(Some(&before.access), SUPPLIERS, json!({})).await);

    let second = restart(NEW).await;
    let v = admin_login(&second, OLD).await;
    assert_eq!(error_code(&v), "UNAUTHENTICATED", "old password: {v}");
    let after = pair(&ok(&admin_login(&second, NEW).await)["adminLogin"]);
    ok(&second.gql(Some(&after.access), SUPPLIERS, json!({})).await);
    // The admin's sessions from before the change ended with it.
    let v = second.gql(Some(&before.access), SUPPLIERS, json!({})).await;
    assert_eq!(error_code(&v), "UNAUTHENTICATED", "old access token: {v}");
    let v = refresh(&second, &before.refresh).await;
    assert_eq!(error_code(&v), "UNAUTHENTICATED", "old refresh token: {v}");

    // Restarting with the password unchanged leaves the sessions alone.
    let third = restart(NEW).await;
    let v = refresh(&third, &after.refresh).await;
    assert_eq!(ok(&v)["refreshToken"]["role"], "ADMIN");
    ok(&admin_login(&third, NEW).await);

    for suffix in ["", "-wal", "-shm"] {
        std::fs::remove_file(format!("{}{suffix}", file.display())).ok();
    }
}

#[tokio::test]
async fn a_rotated_supplier_key_replaces_the_old_one_and_its_sessions() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let (id, old_key) = new_supplier(&app, &admin, "甲").await;
    let old_session =
        pair(&ok(&app.gql(None, SUPPLIER_LOGIN, json!({ "k": old_key })).await)["supplierLogin"]);
    ok(&app
        .gql(Some(&old_session.access), FULFILLMENTS, json!({}))
        .await);

    let v = app
        .gql_ok(Some(&admin), ROTATE_KEY, json!({ "id": id }))
        .await;
    let new_key = text(&v["rotateSupplierKey"]["apiKey"]);
    assert_ne!(new_key, old_key);
    assert_eq!(v["rotateSupplierKey"]["supplier"]["id"], id.as_str());
    assert_eq!(v["rotateSupplierKey"]["supplier"]["active"], true);

    let v = app.gql(None, SUPPLIER_LOGIN, json!({ "k": old_key })).await;
    assert_eq!(error_code(&v), "UNAUTHENTICATED", "old key: {v}");
    let token = supplier_token(&app, &new_key).await;
    ok(&app.gql(Some(&token), FULFILLMENTS, json!({})).await);
    // What was signed in with the old key is signed out.
    let v = app
        .gql(Some(&old_session.access), FULFILLMENTS, json!({}))
        .await;
    assert_eq!(error_code(&v), "UNAUTHENTICATED", "old session: {v}");
    let v = refresh(&app, &old_session.refresh).await;
    assert_eq!(error_code(&v), "UNAUTHENTICATED", "old refresh token: {v}");

    // ADMIN only.
    let customer = app.customer_token("c").await;
    for (token, code) in [
        (Some(customer.as_str()), "FORBIDDEN"),
        (Some(token.as_str()), "FORBIDDEN"),
        (None, "UNAUTHENTICATED"),
    ] {
        let v = app.gql(token, ROTATE_KEY, json!({ "id": id })).await;
        assert_eq!(error_code(&v), code, "{v}");
    }
    // Nothing changed by the refused calls: the new key still signs in.
    supplier_token(&app, &new_key).await;
    let v = app
        .gql(Some(&admin), ROTATE_KEY, json!({ "id": "999999" }))
        .await;
    assert_eq!(error_code(&v), "NOT_FOUND", "{v}");
}

#[tokio::test]
async fn a_disabled_supplier_is_signed_out_and_cannot_sign_in() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let (id, key) = new_supplier(&app, &admin, "乙").await;
    let (other_id, other_key) = new_supplier(&app, &admin, "丙").await;
    let session =
        pair(&ok(&app.gql(None, SUPPLIER_LOGIN, json!({ "k": key })).await)["supplierLogin"]);
    let other = supplier_token(&app, &other_key).await;
    ok(&app
        .gql(Some(&session.access), FULFILLMENTS, json!({}))
        .await);

    let v = app
        .gql_ok(Some(&admin), SET_ACTIVE, json!({ "id": id, "a": false }))
        .await;
    assert_eq!(v["setSupplierActive"]["active"], false);

    let v = app
        .gql(Some(&session.access), FULFILLMENTS, json!({}))
        .await;
    assert_eq!(error_code(&v), "UNAUTHENTICATED", "access token: {v}");
    let v = refresh(&app, &session.refresh).await;
    assert_eq!(error_code(&v), "UNAUTHENTICATED", "refresh token: {v}");
    let v = app.gql(None, SUPPLIER_LOGIN, json!({ "k": key })).await;
    assert_eq!(error_code(&v), "UNAUTHENTICATED", "login: {v}");
    // Another supplier is not touched.
    ok(&app.gql(Some(&other), FULFILLMENTS, json!({})).await);
    let list = app.gql_ok(Some(&admin), SUPPLIERS, json!({})).await;
    let active: Vec<(String, bool)> = list["suppliers"]
        .as_array()
        .expect("a list")
        .iter()
        .map(|s| (text(&s["id"]), s["active"].as_bool().expect("active")))
        .collect();
    assert_eq!(active, [(id.clone(), false), (other_id, true)]);

    // Only ADMIN.
    let v = app
        .gql(Some(&other), SET_ACTIVE, json!({ "id": id, "a": true }))
        .await;
    assert_eq!(error_code(&v), "FORBIDDEN", "{v}");

    let v = app
        .gql_ok(Some(&admin), SET_ACTIVE, json!({ "id": id, "a": true }))
        .await;
    assert_eq!(v["setSupplierActive"]["active"], true);
    let token = supplier_token(&app, &key).await;
    ok(&app.gql(Some(&token), FULFILLMENTS, json!({})).await);
    // Enabling again does not bring the old session back.
    let v = app
        .gql(Some(&session.access), FULFILLMENTS, json!({}))
        .await;
    assert_eq!(error_code(&v), "UNAUTHENTICATED", "old access token: {v}");
    let v = refresh(&app, &session.refresh).await;
    assert_eq!(error_code(&v), "UNAUTHENTICATED", "old refresh token: {v}");
}

#[tokio::test]
async fn logout_ends_the_session_at_once() {
    let app = spawn_app().await;
    let mine = customer_pair(&app, "bye").await;
    let elsewhere = customer_pair(&app, "bye").await;
    ok(&app.gql(Some(&mine.access), ME, json!({})).await);

    let v = app.gql_ok(Some(&mine.access), LOGOUT, json!({})).await;
    assert_eq!(v["logout"], true);
    let v = app.gql(Some(&mine.access), ME, json!({})).await;
    assert_eq!(error_code(&v), "UNAUTHENTICATED", "access token: {v}");
    let v = refresh(&app, &mine.refresh).await;
    assert_eq!(error_code(&v), "UNAUTHENTICATED", "refresh token: {v}");
    let v = app.gql(Some(&mine.access), LOGOUT, json!({})).await;
    assert_eq!(error_code(&v), "UNAUTHENTICATED", "again: {v}");
    // The customer's other session (another phone) is still signed in.
    ok(&app.gql(Some(&elsewhere.access), ME, json!({})).await);
    ok(&refresh(&app, &elsewhere.refresh).await);

    let v = app.gql(None, LOGOUT, json!({})).await;
    assert_eq!(error_code(&v), "UNAUTHENTICATED", "anonymous: {v}");
    let v = app.gql(Some("garbage"), LOGOUT, json!({})).await;
    assert_eq!(error_code(&v), "UNAUTHENTICATED", "bad token: {v}");

    // ADMIN and SUPPLIER sign out the same way.
    let admin = app.admin_token().await;
    let (_, key) = new_supplier(&app, &admin, "丁").await;
    let supplier = supplier_token(&app, &key).await;
    for (token, query) in [(admin, SUPPLIERS), (supplier, FULFILLMENTS)] {
        ok(&app.gql(Some(&token), query, json!({})).await);
        let v = app.gql_ok(Some(&token), LOGOUT, json!({})).await;
        assert_eq!(v["logout"], true);
        let v = app.gql(Some(&token), query, json!({})).await;
        assert_eq!(error_code(&v), "UNAUTHENTICATED", "{query}: {v}");
    }
}

#[tokio::test]
async fn concurrent_refreshes_of_one_token_get_the_same_pair() {
    let app = spawn_app().await;
    let first = customer_pair(&app, "rush").await;

    let (a, b) = tokio::join!(refresh(&app, &first.refresh), refresh(&app, &first.refresh));
    let (a, b) = (&ok(&a)["refreshToken"], &ok(&b)["refreshToken"]);
    assert_eq!(a, b, "both refreshes answer the same pair");
    let next = pair(a);
    assert_ne!(next.refresh, first.refresh);
    ok(&app.gql(Some(&next.access), ME, json!({})).await);

    // More at once, on the new token: still one pair for all.
    let answers =
        futures_util::future::join_all((0..5).map(|_| refresh(&app, &next.refresh))).await;
    let pairs: Vec<&Value> = answers.iter().map(|v| &ok(v)["refreshToken"]).collect();
    assert!(pairs.iter().all(|p| *p == pairs[0]), "{answers:?}");
    let last = pair(pairs[0]);
    ok(&app.gql(Some(&last.access), ME, json!({})).await);
    ok(&refresh(&app, &last.refresh).await);
}

#[tokio::test]
async fn a_repeat_within_the_grace_window_is_refused_once_the_session_ended() {
    let app = spawn_app().await;
    let first = customer_pair(&app, "gone").await;
    let next = pair(&ok(&refresh(&app, &first.refresh).await)["refreshToken"]);
    let v = app.gql_ok(Some(&next.access), LOGOUT, json!({})).await;
    assert_eq!(v["logout"], true);
    let v = refresh(&app, &first.refresh).await;
    assert_eq!(error_code(&v), "UNAUTHENTICATED", "{v}");
}

#[tokio::test]
async fn a_repeat_after_the_grace_window_revokes_the_family() {
    let app = spawn_app_with(&[("REFRESH_REUSE_GRACE_SECS", "1")]).await;
    let first = customer_pair(&app, "late").await;
    let next = pair(&ok(&refresh(&app, &first.refresh).await)["refreshToken"]);
    ok(&app.gql(Some(&next.access), ME, json!({})).await);

    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    let v = refresh(&app, &first.refresh).await;
    assert_eq!(error_code(&v), "UNAUTHENTICATED", "reuse: {v}");
    // Every token of the family is dead, the access token too.
    let v = refresh(&app, &next.refresh).await;
    assert_eq!(error_code(&v), "UNAUTHENTICATED", "successor: {v}");
    let v = app.gql(Some(&next.access), ME, json!({})).await;
    assert_eq!(error_code(&v), "UNAUTHENTICATED", "access token: {v}");
}
