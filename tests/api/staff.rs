//! Staff accounts, their roles at the one guard, and the audit log (issue
//! 19, item 4).
use serde_json::{Value, json};

use crate::{fixtures::*, helpers::*};

const CREATE_STAFF: &str =
    "mutation($i: StaffInput!) { createStaff(input: $i) { id username role active } }";
const SET_ACTIVE: &str =
    "mutation($id: ID!, $a: Boolean!) { setStaffActive(id: $id, active: $a) { id active } }";
const RESET: &str =
    "mutation($id: ID!, $p: String!) { resetStaffPassword(id: $id, password: $p) { id } }";
const LOGIN: &str = "mutation($u: String!, $p: String!) { adminLogin(username: $u, password: $p) { accessToken refreshToken role staffRole } }";
const REFRESH: &str =
    "mutation($r: String!) { refreshToken(refreshToken: $r) { accessToken staffRole } }";
const WHO: &str = "{ viewerStaff { id username role active } }";
const AUDIT: &str = "query($f: AuditFilter, $n: Int, $a: String) { auditLog(filter: $f, first: $n, after: $a) { nodes { id actor action target arguments createdAt } pageInfo { hasNextPage endCursor } } }";
const CATEGORY: &str = "mutation($n: String!) { createCategory(input: { name: $n }) { id } }";
const ADJUST: &str = "mutation($c: ID!, $a: Money!, $k: String!) { adjustWallet(customerId: $c, amountFen: $a, reason: \"补偿\", idempotencyKey: $k) { balanceFen } }";
const PASSWORD: &str = "staff-password-1";

struct Signed {
    id: String,
    access: String,
    refresh: String,
}

/// The owner creates `username` with `role`; returns its id.
async fn create(app: &TestApp, owner: &str, username: &str, role: &str) -> String {
    let data = app
        .gql_ok(
            Some(owner),
            CREATE_STAFF,
            json!({ "i": { "username": username, "password": PASSWORD, "role": role } }),
        )
        .await;
    assert_eq!(data["createStaff"]["role"], role, "{data}");
    assert_eq!(data["createStaff"]["active"], true, "{data}");
    text(&data["createStaff"]["id"])
}

async fn login(app: &TestApp, username: &str, password: &str) -> Value {
    app.gql(None, LOGIN, json!({ "u": username, "p": password }))
        .await
}

/// Creates `username` with `role` and signs it in.
async fn staff(app: &TestApp, owner: &str, username: &str, role: &str) -> Signed {
    let id = create(app, owner, username, role).await;
    let v = login(app, username, PASSWORD).await;
    let l = &ok(&v)["adminLogin"];
    assert_eq!(l["role"], "ADMIN", "{v}");
    assert_eq!(l["staffRole"], role, "{v}");
    let access = text(&l["accessToken"]);
    let who = app.gql_ok(Some(&access), WHO, json!({})).await;
    assert_eq!(who["viewerStaff"]["role"], role, "{who}");
    assert_eq!(who["viewerStaff"]["id"], id.as_str(), "{who}");
    Signed {
        id,
        access,
        refresh: text(&l["refreshToken"]),
    }
}

async fn code(app: &TestApp, token: &str, query: &str, vars: Value) -> String {
    let v = app.gql(Some(token), query, vars).await;
    error_code(&v).to_string()
}

async fn audit(app: &TestApp, owner: &str, filter: Value) -> Vec<Value> {
    let data = app
        .gql_ok(Some(owner), AUDIT, json!({ "f": filter, "n": 100 }))
        .await;
    data["auditLog"]["nodes"].as_array().unwrap().clone()
}

#[tokio::test]
async fn each_role_may_do_its_work_and_nothing_else() {
    let app = spawn_app().await;
    let shop = shop(&app, 10).await;
    let owner = shop.admin.clone();
    let ops = staff(&app, &owner, "ops", "OPERATIONS").await;
    let cs = staff(&app, &owner, "service", "CUSTOMER_SERVICE").await;
    let fin = staff(&app, &owner, "finance", "FINANCE").await;

    // The catalogue: operations (and the owner), nobody else.
    for t in [&cs.access, &fin.access] {
        assert_eq!(
            code(&app, t, CATEGORY, json!({ "n": "no" })).await,
            "FORBIDDEN"
        );
    }
    app.gql_ok(Some(&ops.access), CATEGORY, json!({ "n": "ops" }))
        .await;
    app.gql_ok(Some(&owner), CATEGORY, json!({ "n": "owner" }))
        .await;

    // Refunds: customer service approves; finance and operations may not.
    let buyer = customer(&app, "buyer").await;
    save_address(&app, &buyer.token).await;
    let order = paid_order(&app, &buyer.token, shop.items(&[(2, 1)]), "k1").await;
    let refund = refund_requested(&app, &buyer.token, &order["id"]).await;
    for t in [&fin.access, &ops.access] {
        let v = approve_refund(&app, t, &refund["id"]).await;
        assert_eq!(error_code(&v), "FORBIDDEN", "{v}");
    }
    let v = approve_refund(&app, &cs.access, &refund["id"]).await;
    assert_eq!(ok(&v)["approveRefund"]["status"], "REFUNDED", "{v}");

    // Wallets: finance adjusts; customer service and operations may not.
    for t in [&cs.access, &ops.access] {
        let c = code(
            &app,
            t,
            ADJUST,
            json!({ "c": buyer.id, "a": 500, "k": "w1" }),
        )
        .await;
        assert_eq!(c, "FORBIDDEN");
    }
    let data = app
        .gql_ok(
            Some(&fin.access),
            ADJUST,
            json!({ "c": buyer.id, "a": 500, "k": "w1" }),
        )
        .await;
    assert_eq!(data["adjustWallet"]["balanceFen"], 500, "{data}");

    // Withdrawals and supplier payables: finance gets past the guard (to
    // the lookup), customer service does not.
    let review = "mutation { reviewWithdrawal(id: \"999999\", approve: true) { id } }";
    let pay = "mutation { markSupplierPayablesPaid(ids: [\"999999\"], reference: \"r\") }";
    for q in [review, pay] {
        assert_eq!(code(&app, &fin.access, q, json!({})).await, "NOT_FOUND");
        assert_eq!(code(&app, &cs.access, q, json!({})).await, "FORBIDDEN");
        assert_eq!(code(&app, &ops.access, q, json!({})).await, "FORBIDDEN");
    }

    // Coupons and segments: operations.
    let template = json!({ "i": { "name": "满100减10", "thresholdFen": 10000, "offFen": 1000, "totalQuantity": 10, "perCustomerLimit": 1, "validDays": 7 } });
    assert_eq!(
        code(&app, &fin.access, COUPON_TEMPLATE, template.clone()).await,
        "FORBIDDEN"
    );
    app.gql_ok(Some(&ops.access), COUPON_TEMPLATE, template)
        .await;
    let segment = "mutation { createSegment(name: \"all\", filter: {}) { id } }";
    assert_eq!(
        code(&app, &cs.access, segment, json!({})).await,
        "FORBIDDEN"
    );
    app.gql_ok(Some(&ops.access), segment, json!({})).await;

    // Every staff role reads the store.
    for t in [&ops.access, &cs.access, &fin.access] {
        let data = app
            .gql_ok(Some(t), "{ orders(first: 5) { nodes { id } } }", json!({}))
            .await;
        assert_eq!(data["orders"]["nodes"].as_array().unwrap().len(), 1);
    }

    // Staff and the audit log: the owner alone.
    for t in [&ops.access, &cs.access, &fin.access] {
        assert_eq!(code(&app, t, AUDIT, json!({})).await, "FORBIDDEN");
        assert_eq!(
            code(&app, t, "{ staff { nodes { id } } }", json!({})).await,
            "FORBIDDEN"
        );
        let c = code(
            &app,
            t,
            CREATE_STAFF,
            json!({ "i": { "username": "x", "password": PASSWORD, "role": "OWNER" } }),
        )
        .await;
        assert_eq!(c, "FORBIDDEN");
    }
    // Customers are not staff at all.
    assert_eq!(code(&app, &buyer.token, WHO, json!({})).await, "FORBIDDEN");
    let list = app
        .gql_ok(
            Some(&owner),
            "{ staff(first: 2) { nodes { username role } pageInfo { hasNextPage endCursor } } }",
            json!({}),
        )
        .await;
    assert_eq!(list["staff"]["nodes"][0]["username"], "finance", "{list}");
    assert_eq!(list["staff"]["pageInfo"]["hasNextPage"], true, "{list}");
    let rest = app
        .gql_ok(
            Some(&owner),
            "query($a: String) { staff(first: 10, after: $a) { nodes { username role } } }",
            json!({ "a": list["staff"]["pageInfo"]["endCursor"] }),
        )
        .await;
    let names: Vec<&str> = rest["staff"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["username"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["ops", ADMIN_USER], "{rest}");
    assert_eq!(rest["staff"]["nodes"][1]["role"], "OWNER", "{rest}");
}

#[tokio::test]
async fn disabling_or_resetting_ends_sessions_and_an_owner_remains() {
    let app = spawn_app().await;
    let owner = app.admin_token().await;
    let cs = staff(&app, &owner, "service", "CUSTOMER_SERVICE").await;

    // Names, passwords and duplicates.
    let bad = |i: Value| {
        let (app, owner) = (&app, &owner);
        async move { code(app, owner, CREATE_STAFF, json!({ "i": i })).await }
    };
    assert_eq!(
        bad(json!({ "username": "service", "password": PASSWORD, "role": "FINANCE" })).await,
        "CONFLICT"
    );
    assert_eq!(
        bad(json!({ "username": "short", "password": "short", "role": "FINANCE" })).await,
        "BAD_USER_INPUT"
    );
    assert_eq!(
        bad(json!({ "username": "a b", "password": PASSWORD, "role": "FINANCE" })).await,
        "BAD_USER_INPUT"
    );

    // Disabled: its access token stops at once, its refresh token and its
    // password too.
    let data = app
        .gql_ok(Some(&owner), SET_ACTIVE, json!({ "id": cs.id, "a": false }))
        .await;
    assert_eq!(data["setStaffActive"]["active"], false, "{data}");
    assert_eq!(
        code(&app, &cs.access, WHO, json!({})).await,
        "UNAUTHENTICATED"
    );
    let v = app.gql(None, REFRESH, json!({ "r": cs.refresh })).await;
    assert_eq!(error_code(&v), "UNAUTHENTICATED", "{v}");
    let v = login(&app, "service", PASSWORD).await;
    assert_eq!(error_code(&v), "UNAUTHENTICATED", "{v}");
    assert!(
        v["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("disabled"),
        "{v}"
    );

    // Enabled again: it signs in anew.
    app.gql_ok(Some(&owner), SET_ACTIVE, json!({ "id": cs.id, "a": true }))
        .await;
    let v = login(&app, "service", PASSWORD).await;
    let access = text(&ok(&v)["adminLogin"]["accessToken"]);
    let refresh = text(&ok(&v)["adminLogin"]["refreshToken"]);
    // A refresh keeps the role.
    let r = app.gql(None, REFRESH, json!({ "r": refresh })).await;
    assert_eq!(
        ok(&r)["refreshToken"]["staffRole"],
        "CUSTOMER_SERVICE",
        "{r}"
    );
    let access2 = text(&ok(&r)["refreshToken"]["accessToken"]);

    // A password reset ends its sessions; the new password works.
    assert_eq!(
        code(&app, &owner, RESET, json!({ "id": cs.id, "p": "short" })).await,
        "BAD_USER_INPUT"
    );
    app.gql_ok(
        Some(&owner),
        RESET,
        json!({ "id": cs.id, "p": "a-new-password-2" }),
    )
    .await;
    for t in [&access, &access2] {
        assert_eq!(code(&app, t, WHO, json!({})).await, "UNAUTHENTICATED");
    }
    let v = login(&app, "service", PASSWORD).await;
    assert_eq!(error_code(&v), "UNAUTHENTICATED", "{v}");
    let v = login(&app, "service", "a-new-password-2").await;
    assert_eq!(ok(&v)["adminLogin"]["staffRole"], "CUSTOMER_SERVICE");

    // Nobody disables their own account, and an owner always remains.
    let me = text(&app.gql_ok(Some(&owner), WHO, json!({})).await["viewerStaff"]["id"]);
    assert_eq!(
        code(&app, &owner, SET_ACTIVE, json!({ "id": me, "a": false })).await,
        "CONFLICT"
    );
    let second = staff(&app, &owner, "owner2", "OWNER").await;
    // Two owners disabling each other at once: at most one succeeds.
    let (a, b) = tokio::join!(
        app.gql(
            Some(&owner),
            SET_ACTIVE,
            json!({ "id": second.id, "a": false })
        ),
        app.gql(
            Some(&second.access),
            SET_ACTIVE,
            json!({ "id": me, "a": false })
        ),
    );
    let succeeded = [&a, &b].iter().filter(|v| v["errors"].is_null()).count();
    assert!(succeeded <= 1, "{a} {b}");
    for v in [&a, &b] {
        assert!(
            v["errors"].is_null() || ["CONFLICT", "UNAUTHENTICATED"].contains(&error_code(v)),
            "{v}"
        );
    }
    // An owner who is still active can sign in and sees an active owner.
    let owners = [(ADMIN_USER, ADMIN_PASS), ("owner2", PASSWORD)];
    let mut active = 0;
    for (u, p) in owners {
        if login(&app, u, p).await["errors"].is_null() {
            active += 1;
        }
    }
    assert!(active >= 1, "no owner left: {a} {b}");
    assert_eq!(active, 2 - succeeded, "{a} {b}");
}

#[tokio::test]
async fn staff_mutations_are_audited_for_the_owner_only() {
    let app = spawn_app().await;
    let shop = shop(&app, 10).await;
    let owner = shop.admin.clone();
    let ops = staff(&app, &owner, "ops", "OPERATIONS").await;
    let cs = staff(&app, &owner, "service", "CUSTOMER_SERVICE").await;
    let fin = staff(&app, &owner, "finance", "FINANCE").await;

    // The owner's createStaff: the password never reaches the log.
    let created = audit(&app, &owner, json!({ "action": "createStaff" })).await;
    assert_eq!(created.len(), 3, "{created:?}");
    assert_eq!(created[0]["actor"], ADMIN_USER);
    assert_eq!(created[0]["target"], fin.id.as_str());
    let args: Value = serde_json::from_str(created[0]["arguments"].as_str().unwrap()).unwrap();
    assert_eq!(args["input"]["username"], "finance", "{args}");
    assert_eq!(args["input"]["password"], "[redacted]", "{args}");
    for e in &created {
        assert!(!e["arguments"].as_str().unwrap().contains(PASSWORD), "{e}");
    }

    // Money and what customers see, by the roles that may.
    let buyer = customer(&app, "buyer").await;
    save_address(&app, &buyer.token).await;
    let order = paid_order(&app, &buyer.token, shop.items(&[(2, 1)]), "k1").await;
    let refund = refund_requested(&app, &buyer.token, &order["id"]).await;
    let v = approve_refund(&app, &cs.access, &refund["id"]).await;
    ok(&v);
    app.gql_ok(
        Some(&fin.access),
        ADJUST,
        json!({ "c": buyer.id, "a": 500, "k": "w1" }),
    )
    .await;
    let product = shop.products[0].0.clone();
    let v = app
        .gql(
            Some(&ops.access),
            SET_PRODUCT_STATUS,
            json!({ "id": product, "s": "OFF_SHELF" }),
        )
        .await;
    ok(&v);
    // Refused and failed mutations are not written.
    assert_eq!(
        code(&app, &cs.access, CATEGORY, json!({ "n": "no" })).await,
        "FORBIDDEN"
    );
    let v = approve_refund(&app, &cs.access, &refund["id"]).await;
    assert!(!v["errors"].is_null(), "approving twice: {v}");
    let v = app
        .gql(
            Some(&fin.access),
            "mutation { reviewWithdrawal(id: \"999999\", approve: true) { id } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&v), "NOT_FOUND");

    let approved = audit(&app, &owner, json!({ "action": "approveRefund" })).await;
    assert_eq!(approved.len(), 1, "{approved:?}");
    assert_eq!(approved[0]["actor"], "service");
    assert_eq!(approved[0]["target"], refund["id"]);
    let adjusted = audit(&app, &owner, json!({ "actor": "finance" })).await;
    assert_eq!(adjusted.len(), 1, "{adjusted:?}");
    assert_eq!(adjusted[0]["action"], "adjustWallet");
    assert_eq!(adjusted[0]["target"], buyer.id.as_str());
    let args: Value = serde_json::from_str(adjusted[0]["arguments"].as_str().unwrap()).unwrap();
    assert_eq!(args["amountFen"], 500, "{args}");
    assert_eq!(args["reason"], "补偿", "{args}");
    let shelved = audit(&app, &owner, json!({ "actor": "ops" })).await;
    assert_eq!(shelved.len(), 1, "{shelved:?}");
    assert_eq!(shelved[0]["action"], "setProductStatus");
    assert_eq!(shelved[0]["target"], product.as_str());
    assert!(
        audit(
            &app,
            &owner,
            json!({ "actor": "service", "action": "createCategory" })
        )
        .await
        .is_empty()
    );
    assert!(
        audit(&app, &owner, json!({ "action": "reviewWithdrawal" }))
            .await
            .is_empty()
    );
    // Sign-ins and customers' mutations are not staff operations.
    assert!(
        audit(&app, &owner, json!({ "action": "adminLogin" }))
            .await
            .is_empty()
    );
    assert!(
        audit(&app, &owner, json!({ "action": "placeOrder" }))
            .await
            .is_empty()
    );
    assert!(
        audit(&app, &owner, json!({ "action": "requestRefund" }))
            .await
            .is_empty()
    );

    // Newest first, by pages, and by time.
    let data = app.gql_ok(Some(&owner), AUDIT, json!({ "n": 2 })).await;
    let page = &data["auditLog"];
    assert_eq!(page["nodes"][0]["action"], "setProductStatus", "{page}");
    assert_eq!(page["nodes"][1]["action"], "adjustWallet", "{page}");
    assert_eq!(page["pageInfo"]["hasNextPage"], true);
    let data = app
        .gql_ok(
            Some(&owner),
            AUDIT,
            json!({ "n": 1, "a": page["pageInfo"]["endCursor"] }),
        )
        .await;
    assert_eq!(
        data["auditLog"]["nodes"][0]["action"], "approveRefund",
        "{data}"
    );
    let future = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
    assert!(
        audit(&app, &owner, json!({ "from": future }))
            .await
            .is_empty()
    );
    let past = (chrono::Utc::now() - chrono::Duration::hours(1)).to_rfc3339();
    assert!(
        !audit(&app, &owner, json!({ "from": past, "to": future }))
            .await
            .is_empty()
    );

    // Only the owner reads it.
    for t in [&ops.access, &cs.access, &fin.access, &buyer.token] {
        assert_eq!(code(&app, t, AUDIT, json!({})).await, "FORBIDDEN");
    }
    let v = app.gql(None, AUDIT, json!({})).await;
    assert_eq!(error_code(&v), "UNAUTHENTICATED");
}
