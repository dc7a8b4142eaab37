//! Shipping by region (issue 17): templates through the admin API, orders
//! priced by them (preview and placing agree to the fen, on the batch and
//! the single path), `UNDELIVERABLE` with nothing written, template edits
//! seen by the next preview, and bad input refused with the field named.
//!
//! The shop: template 甲 by weight (first 1000 g 800, each further 500 g
//! 300; Xinjiang and Tibet first 1000 g 2500, further 500 g 800; 南京市
//! first 1000 g 500, further 500 g 200; free in Jiangsu from 20000 of its
//! goods), template 乙 by piece (first 1 600, each further 100; not
//! delivered to Xinjiang and Tibet), and three products: 称重 (甲, 1200 g,
//! 3000), 件装 (乙, 1000), 平邮 (no template, 500). The store's flat fee
//! (800) and threshold (9900) are the defaults.
use serde_json::{Value, json};

use crate::fixtures::{PLACE_ORDER, create_category, create_product_from, id_of, order_of, text};
use crate::helpers::{TestApp, error_code, ok, spawn_app};

const TEMPLATE_FIELDS: &str = "id name chargeBy retired defaultRule { first firstFeeFen additional additionalFeeFen } regionRules { regions { code name } rule { first firstFeeFen } } freeRules { regions { code } minGoodsFen minQuantity } noDeliveryRegions { code name }";

fn create_template_query() -> String {
    format!(
        "mutation($i: ShippingTemplateInput!) {{ createShippingTemplate(input: $i) {{ {TEMPLATE_FIELDS} }} }}"
    )
}

fn update_template_query() -> String {
    format!(
        "mutation($id: ID!, $i: ShippingTemplateInput!) {{ updateShippingTemplate(id: $id, input: $i) {{ {TEMPLATE_FIELDS} }} }}"
    )
}

const PREVIEW: &str =
    "query($i: OrderInput!) { previewOrder(input: $i) { itemsFen shippingFen payableFen } }";

fn rule(first: i64, first_fee: i64, additional: i64, additional_fee: i64) -> Value {
    json!({ "first": first, "firstFeeFen": first_fee, "additional": additional, "additionalFeeFen": additional_fee })
}

fn weight_template() -> Value {
    json!({
        "name": "称重模板",
        "chargeBy": "WEIGHT",
        "defaultRule": rule(1000, 800, 500, 300),
        "regionRules": [
            { "regions": ["新疆", "540000"], "rule": rule(1000, 2500, 500, 800) },
            { "regions": ["南京市"], "rule": rule(1000, 500, 500, 200) }
        ],
        "freeRules": [{ "regions": ["江苏省"], "minGoodsFen": 20000 }]
    })
}

fn piece_template() -> Value {
    json!({
        "name": "按件模板",
        "chargeBy": "PIECE",
        "defaultRule": rule(1, 600, 1, 100),
        "noDeliveryRegions": ["新疆维吾尔自治区", "西藏"]
    })
}

struct ShipShop {
    admin: String,
    weight: String,
    piece: String,
    /// SKU ids: 称重, 件装, 平邮.
    skus: [String; 3],
}

async fn create_template(app: &TestApp, admin: &str, input: Value) -> Value {
    app.gql_ok(Some(admin), &create_template_query(), json!({ "i": input }))
        .await["createShippingTemplate"]
        .clone()
}

async fn ship_shop(app: &TestApp) -> ShipShop {
    let admin = app.admin_token().await;
    let weight = create_template(app, &admin, weight_template()).await;
    assert_eq!(weight["chargeBy"], "WEIGHT", "{weight}");
    assert_eq!(
        weight["regionRules"][0]["regions"],
        json!([{ "code": "650000", "name": "新疆维吾尔自治区" }, { "code": "540000", "name": "西藏自治区" }]),
        "names and codes are both taken and stored as codes: {weight}"
    );
    assert_eq!(weight["freeRules"][0]["regions"][0]["code"], "320000");
    let piece = create_template(app, &admin, piece_template()).await;
    assert_eq!(
        piece["noDeliveryRegions"],
        json!([{ "code": "650000", "name": "新疆维吾尔自治区" }, { "code": "540000", "name": "西藏自治区" }]),
        "{piece}"
    );
    let (weight, piece) = (id_of(&weight), id_of(&piece));
    let cat = create_category(app, &admin, "c", None).await;
    let mut skus = Vec::new();
    for (title, price, template, facts) in [
        (
            "称重",
            3000,
            Some(&weight),
            json!({ "weightGrams": 1200, "code": "W-1200", "imageUrl": "https://img.example/w.jpg" }),
        ),
        ("件装", 1000, Some(&piece), json!({ "code": "P-1" })),
        ("平邮", 500, None, json!({})),
    ] {
        let mut sku =
            json!({ "specs": [{ "name": "规格", "value": "1" }], "priceFen": price, "stock": 50 });
        for (k, v) in facts.as_object().expect("facts") {
            sku[k] = v.clone();
        }
        let p = create_product_from(
            app,
            &admin,
            json!({ "title": title, "categoryId": cat, "skus": [sku], "shippingTemplateId": template }),
        )
        .await;
        skus.push(text(&p["skus"][0]["id"]));
    }
    let v = app
        .gql_ok(
            None,
            "query($id: ID!) { sku: product(id: $id) { shippingTemplateId skus { weightGrams code imageUrl } } }",
            json!({ "id": product_of(app, &skus[0]).await }),
        )
        .await;
    assert_eq!(v["sku"]["shippingTemplateId"], json!(weight), "{v}");
    assert_eq!(
        v["sku"]["skus"][0],
        json!({ "weightGrams": 1200, "code": "W-1200", "imageUrl": "https://img.example/w.jpg" })
    );
    ShipShop {
        admin,
        weight,
        piece,
        skus: skus.try_into().expect("three SKUs"),
    }
}

/// The product of a SKU, through the admin's product list.
async fn product_of(app: &TestApp, sku: &str) -> String {
    let v = app
        .gql_ok(
            None,
            "{ products(first: 50) { nodes { id skus { id } } } }",
            json!({}),
        )
        .await;
    v["products"]["nodes"]
        .as_array()
        .expect("products")
        .iter()
        .find(|p| p["skus"][0]["id"] == sku)
        .map(id_of)
        .unwrap_or_else(|| panic!("no product has SKU {sku}: {v}"))
}

/// A customer with one address in (province, city); returns (token, address id).
async fn buyer_in(app: &TestApp, name: &str, province: &str, city: &str) -> (String, String) {
    let token = app.customer_token(name).await;
    let data = app
        .gql_ok(
            Some(&token),
            "mutation($i: AddressInput!) { saveAddress(input: $i) { id isDefault province city provinceCode cityCode } }",
            json!({ "i": { "name": "张三", "phone": "13800138000", "province": province, "city": city, "district": "某区", "detail": "某路 1 号" } }),
        )
        .await;
    assert_eq!(
        data["saveAddress"]["province"], province,
        "names kept: {data}"
    );
    (token, id_of(&data["saveAddress"]))
}

fn items(s: &ShipShop, lines: &[(usize, i64)]) -> Value {
    lines
        .iter()
        .map(|(i, q)| json!({ "skuId": s.skus[*i], "quantity": q }))
        .collect()
}

async fn preview(app: &TestApp, token: &str, input: &Value) -> Value {
    app.gql(Some(token), PREVIEW, json!({ "i": input })).await
}

/// Previews then places `input`; both must succeed and agree. Returns the
/// order's shipping.
async fn preview_and_place(app: &TestApp, token: &str, input: Value, key: &str) -> i64 {
    let p = preview(app, token, &input).await;
    let p = &ok(&p)["previewOrder"];
    let v = app
        .gql(Some(token), PLACE_ORDER, json!({ "i": input, "k": key }))
        .await;
    let o = &ok(&v)["placeOrder"]["order"];
    assert_eq!(
        o["shippingFen"], p["shippingFen"],
        "preview {p} vs order {o}"
    );
    assert_eq!(o["payableFen"], p["payableFen"], "preview {p} vs order {o}");
    assert_eq!(o["itemsFen"], p["itemsFen"]);
    o["shippingFen"].as_i64().expect("shippingFen")
}

#[tokio::test]
async fn preview_and_order_agree_in_three_regions() {
    let app = spawn_app().await;
    let s = ship_shop(&app).await;
    // 2 × 称重 (2400 g, 6000), 2 × 件装 (2000), 1 × 平邮 (500): 8500 of
    // goods, below the store's 9900.
    let all = items(&s, &[(0, 2), (1, 2), (2, 1)]);

    // Zhejiang: 称重 by the default rule 800 + ceil(1400 / 500) = 3 × 300
    // = 1700; 件装 600 + 1 × 100 = 700; 平邮 the flat 800.
    let (zj, zj_addr) = buyer_in(&app, "zj", "浙江省", "杭州市").await;
    let input = json!({ "items": all, "addressId": zj_addr });
    assert_eq!(
        preview_and_place(&app, &zj, input, "zj-1").await,
        1700 + 700 + 800
    );

    // Nanjing: its city rule, 500 + 3 × 200 = 1100 (Jiangsu's free rule
    // needs 20000 of 称重's goods); the rest as above. Placed once through
    // the batch writer and once alone (useBalance), the same either way.
    let (nj, nj_addr) = buyer_in(&app, "nj", "江苏", "南京").await;
    let codes = app
        .gql_ok(
            Some(&nj),
            "{ myAddresses { provinceCode cityCode } }",
            json!({}),
        )
        .await;
    assert_eq!(
        codes["myAddresses"][0],
        json!({ "provinceCode": "320000", "cityCode": "320100" }),
        "short names are located and stored as codes: {codes}"
    );
    let input = json!({ "items": all, "addressId": nj_addr });
    assert_eq!(
        preview_and_place(&app, &nj, input.clone(), "nj-1").await,
        1100 + 700 + 800
    );
    let mut alone = input;
    alone["useBalance"] = json!(true);
    assert_eq!(
        preview_and_place(&app, &nj, alone, "nj-2").await,
        1100 + 700 + 800
    );

    // Xinjiang (件装 is not delivered there): 称重 by the remote rule
    // 2500 + 3 × 800 = 4900, 平邮 800.
    let (xj, xj_addr) = buyer_in(&app, "xj", "新疆维吾尔自治区", "乌鲁木齐市").await;
    let input = json!({ "items": items(&s, &[(0, 2), (2, 1)]), "addressId": xj_addr });
    assert_eq!(
        preview_and_place(&app, &xj, input, "xj-1").await,
        4900 + 800
    );

    // Reaching the store-wide threshold (9900) ships everything free, templates or not.
    let input = json!({ "items": items(&s, &[(0, 3), (2, 2)]), "addressId": xj_addr });
    assert_eq!(preview_and_place(&app, &xj, input, "xj-2").await, 0);
}

#[tokio::test]
async fn an_address_outside_a_template_is_undeliverable_and_nothing_is_written() {
    let app = spawn_app().await;
    let s = ship_shop(&app).await;
    let (buyer, addr) = buyer_in(&app, "tibet", "西藏自治区", "拉萨市").await;
    for i in [1, 2] {
        ok(&app
            .gql(
                Some(&buyer),
                "mutation($s: ID!) { addToCart(skuId: $s, quantity: 1) { items { quantity } } }",
                json!({ "s": s.skus[i] }),
            )
            .await);
    }
    // The cart flags the line its default address cannot get.
    let v = app
        .gql_ok(
            Some(&buyer),
            "{ cart { items { deliverable sku { id } } } }",
            json!({}),
        )
        .await;
    for item in v["cart"]["items"].as_array().expect("cart") {
        let undeliverable = item["sku"]["id"] == json!(s.skus[1]);
        assert_eq!(item["deliverable"], !undeliverable, "{v}");
    }
    let input = json!({ "items": items(&s, &[(2, 1), (1, 2)]), "addressId": addr });
    let refused = |v: &Value| {
        assert_eq!(error_code(v), "UNDELIVERABLE", "{v}");
        let ext = &v["errors"][0]["extensions"];
        assert_eq!(ext["skuId"], json!(s.skus[1]), "names the SKU: {v}");
        assert_eq!(ext["region"], "西藏自治区", "names the region: {v}");
        assert!(
            v["errors"][0]["message"]
                .as_str()
                .unwrap_or_default()
                .contains("件装"),
            "{v}"
        );
    };
    refused(&preview(&app, &buyer, &input).await);
    // Without addressId the default address is the one: refused as well.
    refused(&preview(&app, &buyer, &json!({ "items": input["items"] })).await);
    refused(
        &app.gql(Some(&buyer), PLACE_ORDER, json!({ "i": input, "k": "t-1" }))
            .await,
    );
    let mut alone = input.clone();
    alone["useBalance"] = json!(true);
    refused(
        &app.gql(Some(&buyer), PLACE_ORDER, json!({ "i": alone, "k": "t-2" }))
            .await,
    );

    // Nothing written: no order, stock and cart as they were.
    let v = app
        .gql_ok(
            Some(&buyer),
            "{ myOrders { totalCount } cart { items { quantity sku { id stock } } } }",
            json!({}),
        )
        .await;
    assert_eq!(v["myOrders"]["totalCount"], 0, "{v}");
    let cart = v["cart"]["items"].as_array().expect("cart");
    assert_eq!(cart.len(), 2, "the cart keeps its lines: {v}");
    assert!(
        cart.iter().all(|i| i["sku"]["stock"] == 50),
        "stock untouched: {v}"
    );

    // The deliverable line alone goes through.
    let input = json!({ "items": items(&s, &[(2, 1)]), "addressId": addr });
    assert_eq!(preview_and_place(&app, &buyer, input, "t-3").await, 800);
}

#[tokio::test]
async fn template_edits_are_seen_by_the_next_preview_and_placed_orders_keep_theirs() {
    let app = spawn_app().await;
    let s = ship_shop(&app).await;
    let (buyer, addr) = buyer_in(&app, "edit", "浙江", "宁波").await;
    let input = json!({ "items": items(&s, &[(1, 3)]), "addressId": addr });
    // 3 pieces: 600 + 2 × 100.
    let placed = app
        .gql(Some(&buyer), PLACE_ORDER, json!({ "i": input, "k": "e-1" }))
        .await;
    let first = ok(&placed)["placeOrder"]["order"].clone();
    assert_eq!(first["shippingFen"], 800, "{first}");

    let mut edited = piece_template();
    edited["defaultRule"] = rule(2, 1000, 1, 250);
    let v = app
        .gql_ok(
            Some(&s.admin),
            &update_template_query(),
            json!({ "id": s.piece, "i": edited }),
        )
        .await;
    assert_eq!(
        v["updateShippingTemplate"]["defaultRule"]["firstFeeFen"],
        1000
    );
    // 3 pieces now: 1000 + 1 × 250.
    let p = preview(&app, &buyer, &input).await;
    assert_eq!(ok(&p)["previewOrder"]["shippingFen"], 1250, "{p}");
    let o = order_of(&app, &buyer, &first["id"]).await;
    assert_eq!(
        o["shippingFen"], 800,
        "a placed order keeps its shipping: {o}"
    );

    // A free rule for Zhejiang from 3 pieces, then Zhejiang not delivered to.
    edited["freeRules"] = json!([{ "regions": ["浙江省"], "minQuantity": 3 }]);
    app.gql_ok(
        Some(&s.admin),
        &update_template_query(),
        json!({ "id": s.piece, "i": edited }),
    )
    .await;
    let p = preview(&app, &buyer, &input).await;
    assert_eq!(ok(&p)["previewOrder"]["shippingFen"], 0, "{p}");
    edited["freeRules"] = json!([]);
    edited["noDeliveryRegions"] = json!(["330200"]);
    app.gql_ok(
        Some(&s.admin),
        &update_template_query(),
        json!({ "id": s.piece, "i": edited }),
    )
    .await;
    let p = preview(&app, &buyer, &input).await;
    assert_eq!(error_code(&p), "UNDELIVERABLE", "{p}");
    assert_eq!(p["errors"][0]["extensions"]["region"], "宁波市", "{p}");

    // The weight template is untouched by all this.
    let v = app
        .gql_ok(
            Some(&s.admin),
            &format!("query($id: ID!) {{ shippingTemplate(id: $id) {{ {TEMPLATE_FIELDS} }} }}"),
            json!({ "id": s.weight }),
        )
        .await;
    assert_eq!(
        v["shippingTemplate"]["defaultRule"],
        rule(1000, 800, 500, 300)
    );
}

#[tokio::test]
async fn bad_input_is_refused_with_the_field_named_and_only_admins_write() {
    let app = spawn_app().await;
    let s = ship_shop(&app).await;
    let refused = |v: Value, field: &str| {
        assert_eq!(error_code(&v), "BAD_USER_INPUT", "{v}");
        assert_eq!(v["errors"][0]["extensions"]["field"], field, "{v}");
    };
    let create = |input: Value| {
        let app = &app;
        let admin = s.admin.clone();
        async move {
            app.gql(
                Some(&admin),
                &create_template_query(),
                json!({ "i": input }),
            )
            .await
        }
    };
    // Overlapping region rules: 南京市 lies in 江苏, listed before it.
    let mut t = weight_template();
    t["regionRules"] = json!([
        { "regions": ["江苏"], "rule": rule(1000, 500, 500, 200) },
        { "regions": ["浙江", "南京市"], "rule": rule(1000, 600, 500, 200) }
    ]);
    refused(create(t).await, "regionRules[1].regions[1]");
    let mut t = weight_template();
    t["regionRules"][1]["regions"] = json!(["新疆"]);
    refused(create(t).await, "regionRules[1].regions[0]");
    // Negative fees.
    let mut t = weight_template();
    t["defaultRule"]["firstFeeFen"] = json!(-1);
    refused(create(t).await, "defaultRule.firstFeeFen");
    let mut t = weight_template();
    t["regionRules"][0]["rule"]["additionalFeeFen"] = json!(-100);
    refused(create(t).await, "regionRules[0].rule.additionalFeeFen");
    // Unknown regions, wherever they are named.
    let mut t = piece_template();
    t["noDeliveryRegions"] = json!(["新疆", "火星"]);
    refused(create(t).await, "noDeliveryRegions[1]");
    let mut t = weight_template();
    t["freeRules"][0]["regions"] = json!(["Atlantis"]);
    refused(create(t).await, "freeRules[0].regions[0]");
    let mut t = weight_template();
    t["regionRules"][0]["regions"] = json!(["999999"]);
    refused(create(t).await, "regionRules[0].regions[0]");
    // A zero step and a free rule with no condition.
    let mut t = piece_template();
    t["defaultRule"]["additional"] = json!(0);
    refused(create(t).await, "defaultRule.additional");
    let mut t = piece_template();
    t["freeRules"] = json!([{ "regions": ["江苏"] }]);
    refused(create(t).await, "freeRules[0]");
    // An update is checked the same way, and changes nothing when refused.
    let mut t = piece_template();
    t["defaultRule"]["firstFeeFen"] = json!(-5);
    refused(
        app.gql(
            Some(&s.admin),
            &update_template_query(),
            json!({ "id": s.piece, "i": t }),
        )
        .await,
        "defaultRule.firstFeeFen",
    );

    // SKU facts: a code another live SKU has, a negative weight.
    let cat = create_category(&app, &s.admin, "d", None).await;
    let product = |sku: Value| json!({ "title": "x", "categoryId": cat, "skus": [sku] });
    let create_product = "mutation($i: ProductInput!) { createProduct(input: $i) { id } }";
    let v = app
        .gql(
            Some(&s.admin),
            create_product,
            json!({ "i": product(json!({ "specs": [{ "name": "a", "value": "b" }], "priceFen": 1, "stock": 1, "code": "W-1200" })) }),
        )
        .await;
    refused(v, "skus[0].code");
    let v = app
        .gql(
            Some(&s.admin),
            create_product,
            json!({ "i": product(json!({ "specs": [{ "name": "a", "value": "b" }], "priceFen": 1, "stock": 1, "weightGrams": -1 })) }),
        )
        .await;
    refused(v, "skus[0].weightGrams");
    let mut p =
        product(json!({ "specs": [{ "name": "a", "value": "b" }], "priceFen": 1, "stock": 1 }));
    p["shippingTemplateId"] = json!("999999");
    let v = app
        .gql(Some(&s.admin), create_product, json!({ "i": p }))
        .await;
    assert_eq!(error_code(&v), "NOT_FOUND", "{v}");

    // Retiring: refused while a product uses it; once free, retired and
    // no longer offered.
    let retire = "mutation($id: ID!) { retireShippingTemplate(id: $id) { id retired } }";
    let v = app
        .gql(Some(&s.admin), retire, json!({ "id": s.piece }))
        .await;
    assert_eq!(error_code(&v), "CONFLICT", "{v}");
    let piece_product = product_of(&app, &s.skus[1]).await;
    app.gql_ok(
        Some(&s.admin),
        "mutation($id: ID!) { updateProduct(id: $id, input: { shippingTemplateId: null }) { shippingTemplateId } }",
        json!({ "id": piece_product }),
    )
    .await;
    let v = app
        .gql_ok(Some(&s.admin), retire, json!({ "id": s.piece }))
        .await;
    assert_eq!(v["retireShippingTemplate"]["retired"], true);
    let v = app
        .gql_ok(
            Some(&s.admin),
            "{ shippingTemplates { id } all: shippingTemplates(includeRetired: true) { id } }",
            json!({}),
        )
        .await;
    assert_eq!(v["shippingTemplates"], json!([{ "id": s.weight }]), "{v}");
    assert_eq!(v["all"].as_array().map(Vec::len), Some(2), "{v}");
    let v = app
        .gql(
            Some(&s.admin),
            "mutation($id: ID!, $t: ID!) { updateProduct(id: $id, input: { shippingTemplateId: $t }) { id } }",
            json!({ "id": piece_product, "t": s.piece }),
        )
        .await;
    refused(v, "shippingTemplateId");

    // Only ADMIN reads and writes templates; anyone reads the region table.
    let buyer = app.customer_token("nosy").await;
    let v = app
        .gql(
            Some(&buyer),
            &create_template_query(),
            json!({ "i": piece_template() }),
        )
        .await;
    assert_eq!(error_code(&v), "FORBIDDEN", "{v}");
    let v = app
        .gql(Some(&buyer), "{ shippingTemplates { id } }", json!({}))
        .await;
    assert_eq!(error_code(&v), "FORBIDDEN", "{v}");
    let v = app
        .gql(None, "{ shippingTemplates { id } }", json!({}))
        .await;
    assert_eq!(error_code(&v), "UNAUTHENTICATED", "{v}");
    let v = app
        .gql_ok(
            None,
            "{ shippingRegions { code name provinceCode } }",
            json!({}),
        )
        .await;
    let regions = v["shippingRegions"].as_array().expect("regions");
    assert!(regions.len() > 330, "{}", regions.len());
    assert!(
        regions.contains(&json!({ "code": "320100", "name": "南京市", "provinceCode": "320000" }))
    );
}

#[tokio::test]
async fn the_demo_store_charges_fruit_by_weight_and_keeps_snacks_out_of_tibet() {
    let app = crate::helpers::spawn_app_with(&[("SEED_DEMO", "true")]).await;
    let admin = app.admin_token().await;
    let v = app
        .gql_ok(
            Some(&admin),
            "{ shippingTemplates { name chargeBy } }",
            json!({}),
        )
        .await;
    assert_eq!(
        v["shippingTemplates"].as_array().map(Vec::len),
        Some(2),
        "{v}"
    );
    let first_sku = |keyword: &'static str| {
        let app = &app;
        async move {
            let v = app
                .gql_ok(
                    None,
                    "query($k: String!) { products(keyword: $k, first: 1) { nodes { shippingTemplateId skus { id weightGrams } } } }",
                    json!({ "k": keyword }),
                )
                .await;
            let p = v["products"]["nodes"][0].clone();
            assert!(p["shippingTemplateId"].is_string(), "{v}");
            p["skus"][0].clone()
        }
    };
    let orange = first_sku("赣南脐橙").await;
    assert_eq!(orange["weightGrams"], 1500, "3斤装 weighs 1500 g: {orange}");
    let (xj, xj_addr) = buyer_in(&app, "demo-xj", "新疆", "喀什地区").await;
    let input =
        json!({ "items": [{ "skuId": orange["id"], "quantity": 1 }], "addressId": xj_addr });
    // 1500 g to a remote province: 2000 + ceil(500 / 1000) × 1000.
    assert_eq!(preview_and_place(&app, &xj, input, "demo-1").await, 3000);
    let (zj, zj_addr) = buyer_in(&app, "demo-zj", "浙江省", "杭州市").await;
    let input =
        json!({ "items": [{ "skuId": orange["id"], "quantity": 1 }], "addressId": zj_addr });
    // Elsewhere: 800 + 1 × 400.
    assert_eq!(preview_and_place(&app, &zj, input, "demo-2").await, 1200);

    let snack = first_sku("芒果干").await;
    let (tibet, tibet_addr) = buyer_in(&app, "demo-xz", "西藏", "拉萨").await;
    let v = preview(
        &app,
        &tibet,
        &json!({ "items": [{ "skuId": snack["id"], "quantity": 1 }], "addressId": tibet_addr }),
    )
    .await;
    assert_eq!(error_code(&v), "UNDELIVERABLE", "{v}");
}

#[tokio::test]
async fn a_suppliers_default_template_charges_its_products_without_one() {
    let app = spawn_app().await;
    let s = ship_shop(&app).await;
    let sup = crate::fixtures::create_supplier(&app, &s.admin, json!({ "name": "丙" })).await;
    let sid = &sup["supplier"]["id"];
    // 平邮 (no template) and 称重 (its own template) are both 丙's.
    crate::fixtures::link_sku(&app, &s.admin, &s.skus[2], sid, "丙-1", 100).await;
    crate::fixtures::link_sku(&app, &s.admin, &s.skus[0], sid, "丙-2", 100).await;
    let (buyer, addr) = buyer_in(&app, "sup", "浙江省", "杭州市").await;
    let input = json!({ "items": items(&s, &[(0, 1), (2, 4)]), "addressId": addr });
    let shipping_of = |v: Value| ok(&v)["previewOrder"]["shippingFen"].clone();
    // 称重 1200 g: 800 + 1 × 300; 平邮 the flat 800.
    assert_eq!(shipping_of(preview(&app, &buyer, &input).await), 1100 + 800);

    let set = "mutation($s: ID!, $t: ID) { setSupplierShippingTemplate(supplierId: $s, shippingTemplateId: $t) { supplierId shippingTemplate { id } } }";
    let v = app
        .gql_ok(Some(&s.admin), set, json!({ "s": sid, "t": s.piece }))
        .await;
    assert_eq!(
        v["setSupplierShippingTemplate"]["shippingTemplate"]["id"],
        json!(s.piece)
    );
    // 平邮 by 丙's default (按件): 4 pieces 600 + 3 × 100; 称重 keeps its own.
    assert_eq!(
        preview_and_place(&app, &buyer, input.clone(), "sup-1").await,
        1100 + 900
    );
    let v = app
        .gql_ok(
            Some(&s.admin),
            "{ supplierShippingTemplates { supplierId shippingTemplate { id } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        v["supplierShippingTemplates"],
        json!([{ "supplierId": sid, "shippingTemplate": { "id": s.piece } }])
    );
    // …and so 平邮 no longer goes to Tibet.
    let (tibet, tibet_addr) = buyer_in(&app, "sup-xz", "西藏", "拉萨").await;
    let v = preview(
        &app,
        &tibet,
        &json!({ "items": items(&s, &[(2, 1)]), "addressId": tibet_addr }),
    )
    .await;
    assert_eq!(error_code(&v), "UNDELIVERABLE", "{v}");
    assert_eq!(v["errors"][0]["extensions"]["skuId"], json!(s.skus[2]));

    // Cleared: the flat rule again. Unknown suppliers are NOT_FOUND.
    let v = app
        .gql_ok(Some(&s.admin), set, json!({ "s": sid, "t": null }))
        .await;
    assert!(
        v["setSupplierShippingTemplate"]["shippingTemplate"].is_null(),
        "{v}"
    );
    assert_eq!(shipping_of(preview(&app, &buyer, &input).await), 1100 + 800);
    let v = app
        .gql(Some(&s.admin), set, json!({ "s": "999999", "t": s.piece }))
        .await;
    assert_eq!(error_code(&v), "NOT_FOUND", "{v}");
}

#[tokio::test]
async fn members_free_shipping_applies_on_top_of_templates() {
    let app = spawn_app().await;
    let s = ship_shop(&app).await;
    let (free, free_addr) = buyer_in(&app, "vip", "新疆", "乌鲁木齐").await;
    let (paying, paying_addr) = buyer_in(&app, "member", "新疆", "乌鲁木齐").await;
    let ships_free = crate::fixtures::membership_plan(&app, &s.admin, 100, 30, 100, true).await;
    let pays_shipping = crate::fixtures::membership_plan(&app, &s.admin, 100, 30, 90, false).await;
    crate::fixtures::buy_membership(&app, &free, &ships_free, "m-1").await;
    crate::fixtures::buy_membership(&app, &paying, &pays_shipping, "m-2").await;
    let order = |addr: &str| json!({ "items": items(&s, &[(0, 2), (2, 1)]), "addressId": addr });
    // A plan that ships free: nothing, even by the remote rule.
    assert_eq!(
        preview_and_place(&app, &free, order(&free_addr), "o-1").await,
        0
    );
    // A plan that does not: 称重's remote rule 2500 + 3 × 800 and 平邮's 800,
    // on member prices (goods 7650, below the threshold).
    assert_eq!(
        preview_and_place(&app, &paying, order(&paying_addr), "o-2").await,
        4900 + 800
    );
}
