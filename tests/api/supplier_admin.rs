//! What the admin console's 商品 and 供应商 pages need beyond creating
//! things (issue 19): a category edited (seen at once by cached reads) or
//! removed only when empty; a supplier's details edited and its webhook
//! signing secret rotated; its webhook deliveries listed for ADMIN and that
//! SUPPLIER, and a failed one retried; a SKU unlinked from its supplier
//! (orders placed before keep their supplier and cost); a supplier's linked
//! SKUs in one request. Each mutation for OWNER and OPERATIONS, refused to
//! CUSTOMER_SERVICE, customers and suppliers, and written to the audit log.
use serde_json::{Value, json};
use wiremock::{
    Mock, MockServer, ResponseTemplate,
    matchers::{method, path},
};

use crate::{
    fixtures::{
        create_category, create_product, create_supplier, demo_pay, link_sku, new_buyer,
        paid_order, placed, shop, staff, supplier_token, text,
    },
    helpers::{TestApp, error_code, ok, spawn_app, spawn_app_with},
};

const UPDATE_CATEGORY: &str = "mutation($id: ID!, $i: CategoryInput!) { updateCategory(id: $id, input: $i) { id name parentId sort iconUrl } }";
const DELETE_CATEGORY: &str = "mutation($id: ID!) { deleteCategory(id: $id) }";
const UPDATE_SUPPLIER: &str = "mutation($id: ID!, $i: SupplierInput!) { updateSupplier(supplierId: $id, input: $i) { id name contact webhookUrl returnAddress active } }";
const ROTATE_SECRET: &str = "mutation($id: ID!) { rotateSupplierWebhookSecret(supplierId: $id) }";
const UNLINK: &str = "mutation($s: ID!) { unlinkSkuFromSupplier(skuId: $s) { id supplierLink { supplierSkuCode } } }";
const RETRY: &str =
    "mutation($id: ID!) { retryWebhookDelivery(id: $id) { id status attempts nextAttemptAt } }";
const DELIVERY_FIELDS: &str =
    "id event status attempts lastError createdAt deliveredAt nextAttemptAt fulfillmentId";
const SKU_FIELDS: &str = "sku { id } productId productTitle supplierSkuCode costFen dropShip";

/// The error code of `query` for `token`, which must be refused.
async fn refused(app: &TestApp, token: &str, query: &str, vars: Value) -> String {
    let v = app.gql(Some(token), query, vars).await;
    assert!(v["data"].is_null() || !v["errors"].is_null(), "{v}");
    error_code(&v).to_string()
}

/// The audit entries of mutation `action`, newest first.
async fn audited(app: &TestApp, owner: &str, action: &str) -> Vec<Value> {
    let data = app
        .gql_ok(
            Some(owner),
            "query($f: AuditFilter) { auditLog(filter: $f, first: 100) { nodes { actor action target } } }",
            json!({ "f": { "action": action } }),
        )
        .await;
    data["auditLog"]["nodes"].as_array().unwrap().clone()
}

/// The supplier `id` as `token` sees it through `suppliers`, with `fields`.
async fn supplier_as(app: &TestApp, token: &str, id: &str, fields: &str) -> Value {
    let data = app
        .gql_ok(
            Some(token),
            &format!("{{ suppliers {{ id {fields} }} }}"),
            json!({}),
        )
        .await;
    data["suppliers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == id)
        .unwrap_or_else(|| panic!("no supplier {id}: {data}"))
        .clone()
}

async fn category_names(app: &TestApp) -> Vec<(String, Option<String>)> {
    let data = app
        .gql_ok(None, "{ categories { id name parentId } }", json!({}))
        .await;
    data["categories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (text(&c["name"]), c["parentId"].as_str().map(str::to_string)))
        .collect()
}

#[tokio::test]
async fn a_category_is_edited_for_cached_reads_at_once_and_removed_only_when_empty() {
    let app = spawn_app().await;
    let owner = app.admin_token().await;
    let ops = staff(&app, &owner, "ops", "OPERATIONS").await.token;
    let cs = staff(&app, &owner, "service", "CUSTOMER_SERVICE")
        .await
        .token;
    let buyer = new_buyer(&app, "cat").await;
    let top = create_category(&app, &owner, "服装", None).await;
    let sub = create_category(&app, &owner, "上衣", Some(&top)).await;
    let p = create_product(&app, &owner, &sub, "T恤", &[1000]).await;
    let pid = text(&p["id"]);
    // Read (and cached) by shoppers before the edit.
    let product_category = "query($id: ID!) { product(id: $id) { category { name } } }";
    let before = app
        .gql_ok(None, product_category, json!({ "id": pid }))
        .await;
    assert_eq!(before["product"]["category"]["name"], "上衣", "{before}");
    assert!(
        category_names(&app)
            .await
            .contains(&("上衣".into(), Some(top.clone())))
    );

    let v = app
        .gql_ok(
            Some(&ops),
            UPDATE_CATEGORY,
            json!({ "id": sub, "i": { "name": "短袖", "parentId": top, "sort": 5, "iconUrl": "https://img.example/t.png" } }),
        )
        .await;
    assert_eq!(
        v["updateCategory"],
        json!({ "id": sub, "name": "短袖", "parentId": top, "sort": 5, "iconUrl": "https://img.example/t.png" })
    );
    assert!(
        category_names(&app)
            .await
            .contains(&("短袖".into(), Some(top.clone())))
    );
    let after = app
        .gql_ok(None, product_category, json!({ "id": pid }))
        .await;
    assert_eq!(after["product"]["category"]["name"], "短袖", "{after}");
    // Moved to the top level by the owner: every field is set as given.
    let v = app
        .gql_ok(
            Some(&owner),
            UPDATE_CATEGORY,
            json!({ "id": sub, "i": { "name": "短袖" } }),
        )
        .await;
    assert_eq!(
        (
            &v["updateCategory"]["parentId"],
            &v["updateCategory"]["sort"],
            &v["updateCategory"]["iconUrl"]
        ),
        (&Value::Null, &json!(0), &Value::Null),
        "{v}"
    );
    assert!(category_names(&app).await.contains(&("短袖".into(), None)));
    app.gql_ok(
        Some(&owner),
        UPDATE_CATEGORY,
        json!({ "id": sub, "i": { "name": "短袖", "parentId": top } }),
    )
    .await;

    // Bad input: a loop, itself, an empty name, unknown ids.
    for (id, input, code) in [
        (
            &top,
            json!({ "name": "服装", "parentId": sub }),
            "BAD_USER_INPUT",
        ),
        (
            &top,
            json!({ "name": "服装", "parentId": top }),
            "BAD_USER_INPUT",
        ),
        (&sub, json!({ "name": " " }), "BAD_USER_INPUT"),
        (
            &sub,
            json!({ "name": "x", "iconUrl": "ftp://x" }),
            "BAD_USER_INPUT",
        ),
        (
            &sub,
            json!({ "name": "x", "parentId": "999999" }),
            "NOT_FOUND",
        ),
        (&"999999".to_string(), json!({ "name": "x" }), "NOT_FOUND"),
    ] {
        let v = app
            .gql(Some(&ops), UPDATE_CATEGORY, json!({ "id": id, "i": input }))
            .await;
        assert_eq!(error_code(&v), code, "{input}: {v}");
    }
    assert!(category_names(&app).await.contains(&("服装".into(), None)));

    // Not for customer service, customers or suppliers.
    let jia = create_supplier(&app, &owner, json!({ "name": "甲" })).await;
    let jia_token = supplier_token(&app, &jia["apiKey"]).await;
    for token in [&cs, &buyer, &jia_token] {
        let vars = json!({ "id": sub, "i": { "name": "偷改" } });
        assert_eq!(
            refused(&app, token, UPDATE_CATEGORY, vars).await,
            "FORBIDDEN"
        );
        let vars = json!({ "id": sub });
        assert_eq!(
            refused(&app, token, DELETE_CATEGORY, vars).await,
            "FORBIDDEN"
        );
    }
    assert!(
        category_names(&app)
            .await
            .contains(&("短袖".into(), Some(top.clone())))
    );

    // Removed only when no product (on shelf or not) and no sub-category is in it.
    app.gql_ok(
        Some(&owner),
        "mutation($id: ID!) { setProductStatus(id: $id, status: OFF_SHELF) { id } }",
        json!({ "id": pid }),
    )
    .await;
    let v = app
        .gql(Some(&ops), DELETE_CATEGORY, json!({ "id": sub }))
        .await;
    assert_eq!(error_code(&v), "CONFLICT", "a product is in it: {v}");
    let v = app
        .gql(Some(&ops), DELETE_CATEGORY, json!({ "id": top }))
        .await;
    assert_eq!(error_code(&v), "CONFLICT", "a sub-category is in it: {v}");
    app.gql_ok(
        Some(&owner),
        "mutation($id: ID!, $i: ProductUpdateInput!) { updateProduct(id: $id, input: $i) { id } }",
        json!({ "id": pid, "i": { "categoryId": top } }),
    )
    .await;
    let v = app
        .gql_ok(Some(&ops), DELETE_CATEGORY, json!({ "id": sub }))
        .await;
    assert_eq!(v["deleteCategory"], true);
    let names = category_names(&app).await;
    assert_eq!(
        names,
        vec![("服装".to_string(), None)],
        "the cached tree follows"
    );
    let v = app
        .gql(Some(&ops), DELETE_CATEGORY, json!({ "id": sub }))
        .await;
    assert_eq!(error_code(&v), "NOT_FOUND", "{v}");
    let v = app
        .gql(Some(&ops), DELETE_CATEGORY, json!({ "id": top }))
        .await;
    assert_eq!(error_code(&v), "CONFLICT", "the product moved here: {v}");

    // Audited, with what they acted on.
    let entries = audited(&app, &owner, "updateCategory").await;
    assert_eq!(entries.len(), 3, "refusals are not audited: {entries:?}");
    assert_eq!(entries[2]["actor"], "ops");
    assert_eq!(entries[2]["target"], sub.as_str());
    let entries = audited(&app, &owner, "deleteCategory").await;
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(
        (entries[0]["actor"].as_str(), entries[0]["target"].as_str()),
        (Some("ops"), Some(sub.as_str()))
    );
}

#[tokio::test]
async fn a_supplier_is_edited_and_its_webhook_secret_rotated_by_operations_only() {
    let app = spawn_app().await;
    let owner = app.admin_token().await;
    let ops = staff(&app, &owner, "ops", "OPERATIONS").await.token;
    let cs = staff(&app, &owner, "service", "CUSTOMER_SERVICE")
        .await
        .token;
    let buyer = new_buyer(&app, "sup").await;
    let jia = create_supplier(
        &app,
        &owner,
        json!({ "name": "甲", "contact": "张三", "webhookUrl": "https://erp.jia.example/hook", "returnAddress": "杭州" }),
    )
    .await;
    let sid = text(&jia["supplier"]["id"]);
    let jia_token = supplier_token(&app, &jia["apiKey"]).await;
    let yi = create_supplier(&app, &owner, json!({ "name": "乙" })).await;
    let yi_token = supplier_token(&app, &yi["apiKey"]).await;

    let v = app
        .gql_ok(
            Some(&ops),
            UPDATE_SUPPLIER,
            json!({ "id": sid, "i": { "name": " 甲供应链 ", "contact": "李四 13800000000", "webhookUrl": "https://erp2.jia.example/hook", "returnAddress": "杭州 退货仓" } }),
        )
        .await;
    assert_eq!(
        v["updateSupplier"],
        json!({ "id": sid, "name": "甲供应链", "contact": "李四 13800000000", "webhookUrl": "https://erp2.jia.example/hook", "returnAddress": "杭州 退货仓", "active": true })
    );
    let seen = supplier_as(&app, &owner, &sid, "name contact webhookUrl").await;
    assert_eq!(
        seen["webhookUrl"], "https://erp2.jia.example/hook",
        "{seen}"
    );
    // Omitted details are cleared; the key still signs in.
    let v = app
        .gql_ok(
            Some(&owner),
            UPDATE_SUPPLIER,
            json!({ "id": sid, "i": { "name": "甲" } }),
        )
        .await;
    assert_eq!(
        (
            &v["updateSupplier"]["contact"],
            &v["updateSupplier"]["webhookUrl"],
            &v["updateSupplier"]["returnAddress"]
        ),
        (&Value::Null, &Value::Null, &Value::Null),
        "{v}"
    );
    supplier_token(&app, &jia["apiKey"]).await;

    for (input, code, field) in [
        (json!({ "name": "" }), "BAD_USER_INPUT", Some("name")),
        (
            json!({ "name": "甲", "webhookUrl": "ftp://erp.jia.example" }),
            "BAD_USER_INPUT",
            Some("webhookUrl"),
        ),
        (
            json!({ "name": "甲", "contact": "x".repeat(129) }),
            "BAD_USER_INPUT",
            Some("contact"),
        ),
        (
            json!({ "name": "甲", "returnAddress": "x".repeat(301) }),
            "BAD_USER_INPUT",
            Some("returnAddress"),
        ),
    ] {
        let v = app
            .gql(
                Some(&ops),
                UPDATE_SUPPLIER,
                json!({ "id": sid, "i": input }),
            )
            .await;
        assert_eq!(error_code(&v), code, "{input}: {v}");
        assert_eq!(v["errors"][0]["extensions"]["field"].as_str(), field, "{v}");
    }
    let v = app
        .gql(
            Some(&ops),
            UPDATE_SUPPLIER,
            json!({ "id": "999999", "i": { "name": "x" } }),
        )
        .await;
    assert_eq!(error_code(&v), "NOT_FOUND", "{v}");

    // A new secret each time, never the one before.
    let first = app
        .gql_ok(Some(&ops), ROTATE_SECRET, json!({ "id": sid }))
        .await;
    let first = text(&first["rotateSupplierWebhookSecret"]);
    let second = app
        .gql_ok(Some(&owner), ROTATE_SECRET, json!({ "id": sid }))
        .await;
    let second = text(&second["rotateSupplierWebhookSecret"]);
    assert!(first.len() >= 32, "{first}");
    assert!(first != second && first != text(&jia["webhookSecret"]));
    let v = app
        .gql(Some(&ops), ROTATE_SECRET, json!({ "id": "999999" }))
        .await;
    assert_eq!(error_code(&v), "NOT_FOUND", "{v}");

    for token in [&cs, &buyer, &jia_token, &yi_token] {
        let vars = json!({ "id": sid, "i": { "name": "偷改" } });
        assert_eq!(
            refused(&app, token, UPDATE_SUPPLIER, vars).await,
            "FORBIDDEN"
        );
        let vars = json!({ "id": sid });
        assert_eq!(refused(&app, token, ROTATE_SECRET, vars).await, "FORBIDDEN");
    }
    assert_eq!(supplier_as(&app, &owner, &sid, "name").await["name"], "甲");

    let entries = audited(&app, &owner, "updateSupplier").await;
    assert_eq!(entries.len(), 2, "{entries:?}");
    assert_eq!(
        (entries[1]["actor"].as_str(), entries[1]["target"].as_str()),
        (Some("ops"), Some(sid.as_str()))
    );
    let entries = audited(&app, &owner, "rotateSupplierWebhookSecret").await;
    assert_eq!(entries.len(), 2, "{entries:?}");
    assert_eq!(entries[1]["target"], sid.as_str());
}

/// Waits (the attempt after a payment or a retry runs in the background)
/// until the supplier's newest delivery, as `token` sees it through
/// `suppliers`, satisfies `done`.
async fn delivery_when(
    app: &TestApp,
    token: &str,
    sid: &str,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let fields = format!("webhookDeliveries(first: 1) {{ nodes {{ {DELIVERY_FIELDS} }} }}");
    for _ in 0..100 {
        let s = supplier_as(app, token, sid, &fields).await;
        let d = &s["webhookDeliveries"]["nodes"][0];
        if done(d) {
            return d.clone();
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the delivery never got there");
}

#[tokio::test]
async fn webhook_deliveries_are_shown_to_admin_and_their_supplier_and_a_failed_one_is_retried() {
    let hook = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/broken"))
        .respond_with(ResponseTemplate::new(500))
        .mount(&hook)
        .await;
    Mock::given(method("POST"))
        .and(path("/hook"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&hook)
        .await;
    let allowed = hook.address().to_string();
    let app = spawn_app_with(&[("WEBHOOK_ALLOWED_HOSTS", &allowed)]).await;
    let owner = app.admin_token().await;
    let ops = staff(&app, &owner, "ops", "OPERATIONS").await.token;
    let cs = staff(&app, &owner, "service", "CUSTOMER_SERVICE")
        .await
        .token;
    let cat = create_category(&app, &owner, "c", None).await;
    let p = create_product(&app, &owner, &cat, "代发", &[5000]).await;
    let sku = text(&p["skus"][0]["id"]);
    let jia = create_supplier(
        &app,
        &owner,
        json!({ "name": "甲", "webhookUrl": format!("{}/broken", hook.uri()) }),
    )
    .await;
    let sid = text(&jia["supplier"]["id"]);
    let jia_token = supplier_token(&app, &jia["apiKey"]).await;
    let yi = create_supplier(&app, &owner, json!({ "name": "乙" })).await;
    let yi_token = supplier_token(&app, &yi["apiKey"]).await;
    link_sku(&app, &owner, &sku, &sid, "JIA-1", 3000).await;
    let buyer = new_buyer(&app, "hook").await;
    let paid = paid_order(&app, &buyer, json!([{ "skuId": sku, "quantity": 1 }]), "k").await;
    let order = app
        .gql_ok(
            Some(&owner),
            "query($id: ID!) { order(id: $id) { fulfillments { id supplier { id } } } }",
            json!({ "id": paid["id"] }),
        )
        .await;
    let fid = text(&order["order"]["fulfillments"][0]["id"]);

    // Attempted once right after payment, to be retried.
    let d = delivery_when(&app, &owner, &sid, |d| d["attempts"].as_i64() >= Some(1)).await;
    assert_eq!(
        (
            d["status"].as_str(),
            d["event"].as_str(),
            d["lastError"].as_str(),
            d["fulfillmentId"].as_str()
        ),
        (
            Some("PENDING"),
            Some("fulfillment.created"),
            Some("HTTP 500"),
            Some(fid.as_str())
        ),
        "{d}"
    );
    assert!(
        d["nextAttemptAt"].is_string() && d["deliveredAt"].is_null(),
        "{d}"
    );
    let did = text(&d["id"]);
    // Not FAILED yet: no retry by hand.
    let v = app.gql(Some(&ops), RETRY, json!({ "id": did })).await;
    assert_eq!(error_code(&v), "CONFLICT", "{v}");

    // The jobs try it on its back-off schedule until they give up.
    let mut now = chrono::Utc::now();
    for _ in 0..20 {
        now += chrono::Duration::days(2);
        siyu::modules::supplier::webhook::deliver_due(&app.state, now)
            .await
            .unwrap();
    }
    let failed_only =
        format!("webhookDeliveries(status: FAILED) {{ nodes {{ {DELIVERY_FIELDS} }} }}");
    let s = supplier_as(&app, &owner, &sid, &failed_only).await;
    let d = &s["webhookDeliveries"]["nodes"][0];
    assert_eq!(
        (
            d["id"].as_str(),
            d["status"].as_str(),
            d["attempts"].as_i64(),
            d["lastError"].as_str()
        ),
        (
            Some(did.as_str()),
            Some("FAILED"),
            Some(9),
            Some("HTTP 500")
        ),
        "{s}"
    );
    assert!(
        d["nextAttemptAt"].is_null(),
        "not attempted again by itself: {d}"
    );
    let s = supplier_as(
        &app,
        &owner,
        &sid,
        "webhookDeliveries(status: DELIVERED) { nodes { id } }",
    )
    .await;
    assert_eq!(s["webhookDeliveries"]["nodes"], json!([]), "{s}");

    // Its supplier sees its own (through its fulfillments); customer
    // service reads them too (ADMIN); a customer and the other supplier do not.
    let own = app
        .gql_ok(
            Some(&jia_token),
            "{ supplierFulfillments { nodes { supplier { webhookDeliveries { nodes { id status } } } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        own["supplierFulfillments"]["nodes"][0]["supplier"]["webhookDeliveries"]["nodes"],
        json!([{ "id": did, "status": "FAILED" }]),
        "{own}"
    );
    let s = supplier_as(&app, &cs, &sid, "webhookDeliveries { nodes { id } }").await;
    assert_eq!(
        s["webhookDeliveries"]["nodes"][0]["id"],
        did.as_str(),
        "{s}"
    );
    let mine = app
        .gql_ok(
            Some(&buyer),
            "query($id: ID!) { order(id: $id) { fulfillments { supplier { name webhookDeliveries { nodes { id } } } } } }",
            json!({ "id": paid["id"] }),
        )
        .await;
    let seen = &mine["order"]["fulfillments"][0]["supplier"];
    assert_eq!(
        (seen["name"].as_str(), &seen["webhookDeliveries"]),
        (Some("甲"), &Value::Null),
        "{mine}"
    );
    let v = app
        .gql(Some(&yi_token), "{ suppliers { id } }", json!({}))
        .await;
    assert_eq!(error_code(&v), "FORBIDDEN", "{v}");
    let other = app
        .gql_ok(
            Some(&yi_token),
            "{ supplierFulfillments { nodes { id } } }",
            json!({}),
        )
        .await;
    assert_eq!(other["supplierFulfillments"]["nodes"], json!([]), "{other}");

    // A retry: not by customer service or a customer (FORBIDDEN), nor the
    // other supplier (NOT_FOUND, as its fulfillments are); by operations it
    // goes to the same broken URL and is given up again after one attempt.
    for (token, code) in [
        (&cs, "FORBIDDEN"),
        (&buyer, "FORBIDDEN"),
        (&yi_token, "NOT_FOUND"),
    ] {
        assert_eq!(
            refused(&app, token, RETRY, json!({ "id": did })).await,
            code
        );
    }
    let v = app.gql(Some(&ops), RETRY, json!({ "id": "999999" })).await;
    assert_eq!(error_code(&v), "NOT_FOUND", "{v}");
    let v = app.gql_ok(Some(&ops), RETRY, json!({ "id": did })).await;
    assert_eq!(
        (
            v["retryWebhookDelivery"]["status"].as_str(),
            v["retryWebhookDelivery"]["attempts"].as_i64()
        ),
        (Some("PENDING"), Some(9)),
        "{v}"
    );
    assert!(
        v["retryWebhookDelivery"]["nextAttemptAt"].is_string(),
        "{v}"
    );
    let d = delivery_when(&app, &owner, &sid, |d| d["attempts"] == 10).await;
    assert_eq!(
        (d["status"].as_str(), d["lastError"].as_str()),
        (Some("FAILED"), Some("HTTP 500")),
        "{d}"
    );

    // The URL fixed and the secret rotated; the supplier retries its own:
    // delivered to the new URL, signed with the new secret.
    app.gql_ok(
        Some(&ops),
        UPDATE_SUPPLIER,
        json!({ "id": sid, "i": { "name": "甲", "webhookUrl": format!("{}/hook", hook.uri()) } }),
    )
    .await;
    let secret = app
        .gql_ok(Some(&ops), ROTATE_SECRET, json!({ "id": sid }))
        .await;
    let secret = text(&secret["rotateSupplierWebhookSecret"]);
    let v = app
        .gql_ok(Some(&jia_token), RETRY, json!({ "id": did }))
        .await;
    assert_eq!(v["retryWebhookDelivery"]["status"], "PENDING", "{v}");
    let d = delivery_when(&app, &owner, &sid, |d| d["status"] == "DELIVERED").await;
    assert_eq!(
        (d["attempts"].as_i64(), d["lastError"].as_str()),
        (Some(11), None),
        "{d}"
    );
    assert!(
        d["deliveredAt"].is_string() && d["nextAttemptAt"].is_null(),
        "{d}"
    );
    let received = hook.received_requests().await.unwrap();
    let good: Vec<_> = received
        .iter()
        .filter(|r| r.url.path() == "/hook")
        .collect();
    assert_eq!(good.len(), 1, "delivered once");
    let header = |name: &str| {
        good[0]
            .headers
            .get(name)
            .unwrap()
            .to_str()
            .unwrap()
            .to_string()
    };
    let ts: i64 = header("x-siyu-timestamp").parse().unwrap();
    let body = String::from_utf8(good[0].body.clone()).unwrap();
    assert_eq!(
        header("x-siyu-signature"),
        siyu::modules::supplier::webhook::signature(&secret, ts, &body)
    );
    assert_eq!(header("x-siyu-delivery"), did);
    let v = app.gql(Some(&jia_token), RETRY, json!({ "id": did })).await;
    assert_eq!(error_code(&v), "CONFLICT", "delivered: {v}");

    // Retries by staff are audited; the supplier's own is not a staff action.
    let entries = audited(&app, &owner, "retryWebhookDelivery").await;
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(
        (entries[0]["actor"].as_str(), entries[0]["target"].as_str()),
        (Some("ops"), Some(did.as_str()))
    );
}

#[tokio::test]
async fn a_supplier_lists_its_skus_and_an_unlinked_sku_is_self_operated_for_new_orders_only() {
    let app = spawn_app().await;
    let shop = shop(&app, 10).await;
    let owner = shop.admin.clone();
    let ops = staff(&app, &owner, "ops", "OPERATIONS").await.token;
    let cs = staff(&app, &owner, "service", "CUSTOMER_SERVICE")
        .await
        .token;
    let (jia, yi) = (shop.supplier_ids[0].clone(), shop.supplier_ids[1].clone());
    let (jia_token, yi_token) = (
        shop.supplier_tokens[0].clone(),
        shop.supplier_tokens[1].clone(),
    );
    let buyer = new_buyer(&app, "unlink").await;
    let sku0 = shop.sku(0).to_string();

    // 乙 also ships a product of three SKUs: its list comes a page at a time.
    let cat = create_category(&app, &owner, "多规格", None).await;
    let multi = create_product(&app, &owner, &cat, "乙三色", &[100, 200, 300]).await;
    for (i, s) in multi["skus"].as_array().unwrap().iter().enumerate() {
        link_sku(&app, &owner, &s["id"], &yi, &format!("乙-色{i}"), 50).await;
    }
    let page = |first: i64, after: Option<&str>| {
        format!(
            "skus(first: {first}, after: {}) {{ nodes {{ {SKU_FIELDS} }} pageInfo {{ hasNextPage endCursor }} }}",
            after.map_or("null".to_string(), |a| format!("\"{a}\""))
        )
    };
    let s = supplier_as(&app, &owner, &yi, &page(3, None)).await;
    let nodes = s["skus"]["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 3, "{s}");
    assert_eq!(
        nodes[0]["sku"]["id"], multi["skus"][2]["id"],
        "newest SKU first: {s}"
    );
    assert_eq!(
        (
            nodes[0]["productTitle"].as_str(),
            nodes[0]["productId"].as_str()
        ),
        (Some("乙三色"), multi["id"].as_str())
    );
    assert_eq!(s["skus"]["pageInfo"]["hasNextPage"], true, "{s}");
    let after = text(&s["skus"]["pageInfo"]["endCursor"]);
    let s = supplier_as(&app, &owner, &yi, &page(3, Some(&after))).await;
    let nodes = s["skus"]["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 1, "{s}");
    assert_eq!(
        (
            nodes[0]["productTitle"].as_str(),
            nodes[0]["supplierSkuCode"].as_str(),
            nodes[0]["costFen"].as_i64()
        ),
        (Some("乙供商品"), Some("乙-1"), Some(1001))
    );
    assert_eq!(s["skus"]["pageInfo"]["hasNextPage"], false, "{s}");
    let v = app
        .gql(
            Some(&owner),
            &format!("{{ suppliers {{ {} }} }}", page(101, None)),
            json!({}),
        )
        .await;
    assert_eq!(error_code(&v), "BAD_USER_INPUT", "{v}");

    // One supplier by id, as the console reads it: ADMIN; a supplier its
    // own only; no customer.
    let one = "query($id: ID!) { supplier(id: $id) { name skus { nodes { supplierSkuCode } } } }";
    let v = app.gql_ok(Some(&owner), one, json!({ "id": jia })).await;
    assert_eq!(
        v["supplier"],
        json!({ "name": "甲", "skus": { "nodes": [{ "supplierSkuCode": "甲-1" }] } })
    );
    let v = app
        .gql_ok(Some(&jia_token), one, json!({ "id": jia }))
        .await;
    assert_eq!(v["supplier"]["name"], "甲", "{v}");
    for (token, id) in [(&jia_token, &yi), (&owner, &"999999".to_string())] {
        let v = app.gql_ok(Some(token), one, json!({ "id": id })).await;
        assert_eq!(v["supplier"], Value::Null, "{v}");
    }
    assert_eq!(
        refused(&app, &buyer, one, json!({ "id": jia })).await,
        "FORBIDDEN"
    );

    // 甲's own view (through its SKU's link) and others'.
    let through_link = "query($id: ID!) { product(id: $id) { skus { supplierLink { supplier { skus { nodes { sku { id } productTitle supplierSkuCode costFen dropShip } } } } } } }";
    let pid0 = shop.products[0].0.clone();
    let own = app
        .gql_ok(Some(&jia_token), through_link, json!({ "id": pid0 }))
        .await;
    assert_eq!(
        own["product"]["skus"][0]["supplierLink"]["supplier"]["skus"]["nodes"],
        json!([{ "sku": { "id": sku0 }, "productTitle": "甲供商品", "supplierSkuCode": "甲-1", "costFen": 1000, "dropShip": true }]),
        "{own}"
    );
    for token in [&yi_token, &buyer] {
        let v = app
            .gql_ok(Some(token), through_link, json!({ "id": pid0 }))
            .await;
        assert_eq!(v["product"]["skus"][0]["supplierLink"], Value::Null, "{v}");
    }
    let v = app
        .gql_ok(
            Some(&yi_token),
            "query($id: ID!) { product(id: $id) { skus { supplierLink { supplier { skus { nodes { productTitle } } } } } } }",
            json!({ "id": shop.products[1].0 }),
        )
        .await;
    assert_eq!(
        v["product"]["skus"][0]["supplierLink"]["supplier"]["skus"]["nodes"]
            .as_array()
            .unwrap()
            .len(),
        4,
        "{v}"
    );

    // An order placed (not yet paid) while the SKU is 甲's.
    let before = placed(&app, &buyer, shop.items(&[(0, 1)]), "before").await;

    for token in [&cs, &buyer, &jia_token] {
        assert_eq!(
            refused(&app, token, UNLINK, json!({ "s": sku0 })).await,
            "FORBIDDEN"
        );
    }
    let s = supplier_as(&app, &owner, &jia, "skus { nodes { sku { id } } }").await;
    assert_eq!(
        s["skus"]["nodes"].as_array().unwrap().len(),
        1,
        "still linked: {s}"
    );
    let v = app.gql_ok(Some(&ops), UNLINK, json!({ "s": sku0 })).await;
    assert_eq!(
        v["unlinkSkuFromSupplier"],
        json!({ "id": sku0, "supplierLink": null })
    );
    let s = supplier_as(&app, &owner, &jia, "skus { nodes { sku { id } } }").await;
    assert_eq!(s["skus"]["nodes"], json!([]), "{s}");
    // Again: nothing to remove, the SKU as it is. Unknown: NOT_FOUND.
    let v = app.gql_ok(Some(&owner), UNLINK, json!({ "s": sku0 })).await;
    assert_eq!(v["unlinkSkuFromSupplier"]["supplierLink"], Value::Null);
    let v = app.gql(Some(&ops), UNLINK, json!({ "s": "999999" })).await;
    assert_eq!(error_code(&v), "NOT_FOUND", "{v}");

    // The order placed before keeps 甲 and the cost it took; one placed
    // after is the store's own.
    demo_pay(&app, &buyer, &before["id"]).await;
    let after = paid_order(&app, &buyer, shop.items(&[(0, 1)]), "after").await;
    let fulfillments =
        "query($id: ID!) { order(id: $id) { fulfillments { supplier { id } costFen } } }";
    let o = app
        .gql_ok(Some(&owner), fulfillments, json!({ "id": before["id"] }))
        .await;
    assert_eq!(
        o["order"]["fulfillments"],
        json!([{ "supplier": { "id": jia }, "costFen": 1000 }]),
        "{o}"
    );
    let o = app
        .gql_ok(Some(&owner), fulfillments, json!({ "id": after["id"] }))
        .await;
    assert_eq!(
        o["order"]["fulfillments"][0]["supplier"],
        Value::Null,
        "{o}"
    );
    let payables = app
        .gql_ok(
            Some(&owner),
            "query($f: SupplierPayableFilter) { supplierPayables(filter: $f) { nodes { orderId amountFen } } }",
            json!({ "f": { "supplierId": jia } }),
        )
        .await;
    assert_eq!(
        payables["supplierPayables"]["nodes"],
        json!([{ "orderId": before["id"], "amountFen": 1000 }]),
        "{payables}"
    );
    let own = app
        .gql_ok(
            Some(&jia_token),
            "{ supplierFulfillments { nodes { id } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        own["supplierFulfillments"]["nodes"]
            .as_array()
            .unwrap()
            .len(),
        1,
        "{own}"
    );

    let entries = audited(&app, &owner, "unlinkSkuFromSupplier").await;
    assert_eq!(entries.len(), 2, "{entries:?}");
    assert_eq!(
        (entries[1]["actor"].as_str(), entries[1]["target"].as_str()),
        (Some("ops"), Some(sku0.as_str()))
    );
}

#[tokio::test]
async fn nothing_here_is_open_without_a_token() {
    let app = spawn_app().await;
    for (q, vars) in [
        (UPDATE_CATEGORY, json!({ "id": "1", "i": { "name": "x" } })),
        (DELETE_CATEGORY, json!({ "id": "1" })),
        (UPDATE_SUPPLIER, json!({ "id": "1", "i": { "name": "x" } })),
        (ROTATE_SECRET, json!({ "id": "1" })),
        (UNLINK, json!({ "s": "1" })),
        (RETRY, json!({ "id": "1" })),
    ] {
        let v = app.gql(None, q, vars).await;
        assert_eq!(error_code(&v), "UNAUTHENTICATED", "{q}: {v}");
    }
    // Shoppers still read the tree.
    let v = app.gql(None, "{ categories { id } }", json!({})).await;
    assert!(ok(&v)["categories"].is_array(), "{v}");
}
