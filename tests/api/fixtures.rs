//! What the tests stand on, built in one place: a shop (categories, products,
//! suppliers), customers with addresses, orders in each state, refunds,
//! plans and coupon templates; and the GraphQL texts more than one test file
//! sends.
//!
//! Every helper here checks the answer to each call it makes and fails the
//! test at that call, showing the answer: a setup that went wrong must not
//! pass for (or hide) the behaviour a test is about. Helpers that return a
//! whole response (`place`, `request_refund`) are for tests that look at
//! refusals themselves.
use serde::Serialize;
use serde_json::{Value, json};

use crate::helpers::{TestApp, ok};

/// The library's services that tests call directly, to run the jobs at the
/// times they choose or to drive a race below the API. Their paths are named
/// here only, so that moving them inside `src/` changes these lines alone.
pub mod lib {
    pub use siyu::app::seed::{seed_bulk, seed_demo};
    pub use siyu::modules::{
        membership::service::terms as membership_terms,
        order::reconcile::reconcile_due,
        order::{
            provider::{demo_pay, retry_refunds, start as start_payment},
            service::{
                Confirmation, ItemRequest, OrderRequest, PaymentOutcome, PlanKind, approve_refund,
                auto_complete, cancel_own, confirm_payment, expire_unpaid, find as find_order,
                place, place_plan_order, request_refund,
            },
        },
        referral::service::settle_due,
        supplier::webhook::{deliver_due, deliveries_of},
        wallet::service::{adjust, ledger_sum, wallet_of},
    };
    pub use siyu::state::AppState;
}

/// The selection of an order that order tests read. A macro so that the
/// query texts below can be `concat!`ed at compile time.
macro_rules! order_fields {
    () => {
        "id orderNo status itemsFen memberDiscountFen promotionDiscountFen couponDiscountFen shippingFen totalFen payableFen paidFen balancePaidFen lines { title quantity unitPriceFen specs { value } } fulfillments { id status supplier { id name } lines { title } }"
    };
}

pub const PLACE_ORDER: &str = concat!(
    "mutation($i: OrderInput!, $k: String!) { placeOrder(input: $i, idempotencyKey: $k) { order { ",
    order_fields!(),
    " } wechatPayParams { appId package signType paySign timeStamp nonceStr } } }"
);
pub const ORDER: &str = concat!(
    "query($id: ID!) { order(id: $id) { ",
    order_fields!(),
    " } }"
);
pub const DEMO_PAY: &str = concat!(
    "mutation($id: ID!) { demoPay(orderId: $id) { ",
    order_fields!(),
    " } }"
);
pub const CANCEL_ORDER: &str = "mutation($id: ID!) { cancelOrder(id: $id) { id status } }";
pub const CONFIRM_RECEIPT: &str = "mutation($id: ID!) { confirmReceipt(id: $id) { id status } }";
pub const REQUEST_REFUND: &str = "mutation($id: ID!, $r: String!) { requestRefund(orderId: $id, reason: $r) { id status amountFen order { status } } }";
pub const APPROVE_REFUND: &str =
    "mutation($id: ID!) { approveRefund(refundId: $id) { id status amountFen order { status } } }";
pub const SHIP: &str = "mutation($id: ID!, $c: String!, $t: String!) { shipFulfillment(id: $id, carrier: $c, trackingNo: $t) { status carrier trackingNo } }";
pub const ADD_TO_CART: &str = "mutation($s: ID!, $q: Int!) { addToCart(skuId: $s, quantity: $q) { items { quantity sku { id } } } }";
pub const SET_SKU_STOCK: &str =
    "mutation($s: ID!, $n: Int!) { setSkuStock(skuId: $s, stock: $n) { id stock } }";
pub const SET_PRODUCT_STATUS: &str = "mutation($id: ID!, $s: ProductStatus!) { setProductStatus(id: $id, status: $s) { id status } }";
pub const UPDATE_PRODUCT: &str =
    "mutation($id: ID!, $i: ProductUpdateInput!) { updateProduct(id: $id, input: $i) { id } }";
pub const SYNC_SUPPLIER_STOCK: &str = "mutation($i: [SupplierStockInput!]!) { syncSupplierStock(items: $i) { updated unknownCodes } }";
pub const COUPON_TEMPLATE: &str = "mutation($i: CouponTemplateInput!) { createCouponTemplate(input: $i) { id name thresholdFen offFen totalQuantity remaining perCustomerLimit claimable active } }";

// The catalogue.

pub async fn create_category(
    app: &TestApp,
    admin: &str,
    name: &str,
    parent: Option<&str>,
) -> String {
    let data = app
        .gql_ok(
            Some(admin),
            "mutation($i: CategoryInput!) { createCategory(input: $i) { id } }",
            json!({ "i": { "name": name, "parentId": parent } }),
        )
        .await;
    id_of(&data["createCategory"])
}

pub const PRODUCT_FIELDS: &str = "id title status minPriceFen maxPriceFen hotPin skus { id priceFen stock specs { name value } }";

/// Creates a product from a whole `ProductInput`; returns it (`PRODUCT_FIELDS`).
pub async fn create_product_from(app: &TestApp, admin: &str, input: Value) -> Value {
    app.gql_ok(
        Some(admin),
        &format!(
            "mutation($i: ProductInput!) {{ createProduct(input: $i) {{ {PRODUCT_FIELDS} }} }}"
        ),
        json!({ "i": input }),
    )
    .await["createProduct"]
        .clone()
}

/// A product with one SKU per price, 10 in stock each.
pub async fn create_product(
    app: &TestApp,
    admin: &str,
    category: &str,
    title: &str,
    prices: &[i64],
) -> Value {
    let skus: Vec<Value> = prices
        .iter()
        .enumerate()
        .map(|(i, p)| json!({ "specs": [{ "name": "规格", "value": format!("{i}号") }], "priceFen": p, "stock": 10 }))
        .collect();
    create_product_from(
        app,
        admin,
        json!({ "title": title, "categoryId": category, "skus": skus }),
    )
    .await
}

pub async fn set_stock(app: &TestApp, admin: &str, sku: &str, stock: i64) {
    let data = app
        .gql_ok(Some(admin), SET_SKU_STOCK, json!({ "s": sku, "n": stock }))
        .await;
    assert_eq!(data["setSkuStock"]["stock"], stock, "{data}");
}

/// `ON_SHELF` or `OFF_SHELF`.
pub async fn set_status(app: &TestApp, admin: &str, product: &str, status: &str) {
    let data = app
        .gql_ok(
            Some(admin),
            SET_PRODUCT_STATUS,
            json!({ "id": product, "s": status }),
        )
        .await;
    assert_eq!(data["setProductStatus"]["status"], status, "{data}");
}

pub async fn update_product(app: &TestApp, admin: &str, product: &str, input: Value) {
    app.gql_ok(
        Some(admin),
        UPDATE_PRODUCT,
        json!({ "id": product, "i": input }),
    )
    .await;
}

/// The stock of each SKU of a product, as shoppers see it (empty when they
/// cannot see the product).
pub async fn stock_of(app: &TestApp, product: &str) -> Vec<i64> {
    let data = app
        .gql_ok(
            None,
            "query($id: ID!) { product(id: $id) { skus { stock } salesCount } }",
            json!({ "id": product }),
        )
        .await;
    data["product"]["skus"]
        .as_array()
        .map(|s| s.iter().map(|k| k["stock"].as_i64().unwrap()).collect())
        .unwrap_or_default()
}

// Suppliers.

/// Creates a supplier from a `SupplierInput`; returns
/// `{ apiKey webhookSecret supplier { id name } }`.
pub async fn create_supplier(app: &TestApp, admin: &str, input: Value) -> Value {
    app.gql_ok(
        Some(admin),
        "mutation($i: SupplierInput!) { createSupplier(input: $i) { apiKey webhookSecret supplier { id name } } }",
        json!({ "i": input }),
    )
    .await["createSupplier"]
        .clone()
}

/// Links a SKU to a supplier, drop-shipped under `code` at `cost`.
pub async fn link_sku(
    app: &TestApp,
    admin: &str,
    sku: &(impl Serialize + ?Sized),
    supplier: &(impl Serialize + ?Sized),
    code: &str,
    cost: i64,
) {
    app.gql_ok(
        Some(admin),
        "mutation($s: ID!, $i: SupplierLinkInput!) { linkSkuToSupplier(skuId: $s, input: $i) { id } }",
        json!({ "s": sku, "i": { "supplierId": supplier, "supplierSkuCode": code, "costFen": cost, "dropShip": true } }),
    )
    .await;
}

/// Signs a supplier in with its API key; returns the access token.
pub async fn supplier_token(app: &TestApp, api_key: &(impl Serialize + ?Sized)) -> String {
    let data = app
        .gql_ok(
            None,
            "mutation($k: String!) { supplierLogin(apiKey: $k) { accessToken role } }",
            json!({ "k": api_key }),
        )
        .await;
    assert_eq!(data["supplierLogin"]["role"], "SUPPLIER", "{data}");
    text(&data["supplierLogin"]["accessToken"])
}

pub struct Shop {
    pub admin: String,
    /// (product id, sku ids)
    pub products: Vec<(String, Vec<String>)>,
    /// Suppliers 甲 and 乙.
    pub supplier_ids: Vec<String>,
    pub supplier_tokens: Vec<String>,
}

impl Shop {
    /// The first SKU of product `i`.
    pub fn sku(&self, i: usize) -> &str {
        &self.products[i].1[0]
    }

    /// Order lines of (product index, quantity).
    pub fn items(&self, lines: &[(usize, i64)]) -> Value {
        lines
            .iter()
            .map(|(p, q)| json!({ "skuId": self.sku(*p), "quantity": q }))
            .collect()
    }
}

/// Three products with `stock` units each: one per supplier 甲 and 乙
/// (drop-shipped as `甲-1` at 1000 and `乙-1` at 1001), one self-operated;
/// prices 3000, 2500, 1000.
pub async fn shop(app: &TestApp, stock: i64) -> Shop {
    let admin = app.admin_token().await;
    let cat = create_category(app, &admin, "c", None).await;
    let mut products = Vec::new();
    for (title, price) in [("甲供商品", 3000), ("乙供商品", 2500), ("自营商品", 1000)] {
        let p = create_product(app, &admin, &cat, title, &[price]).await;
        let sku = text(&p["skus"][0]["id"]);
        set_stock(app, &admin, &sku, stock).await;
        products.push((text(&p["id"]), vec![sku]));
    }
    let (mut supplier_ids, mut supplier_tokens) = (Vec::new(), Vec::new());
    for (i, name) in ["甲", "乙"].iter().enumerate() {
        let s = create_supplier(app, &admin, json!({ "name": name })).await;
        let sid = &s["supplier"]["id"];
        link_sku(
            app,
            &admin,
            &products[i].1[0],
            sid,
            &format!("{name}-1"),
            1000 + i as i64,
        )
        .await;
        supplier_ids.push(text(sid));
        supplier_tokens.push(supplier_token(app, &s["apiKey"]).await);
    }
    Shop {
        admin,
        products,
        supplier_ids,
        supplier_tokens,
    }
}

// Customers.

/// A signed-in customer.
pub struct Customer {
    pub token: String,
    pub id: String,
    pub code: String,
}

/// Signs in the demo customer `name`.
pub async fn customer(app: &TestApp, name: &str) -> Customer {
    invited(app, name, None).await
}

/// Signs in the demo customer `name`, invited with the referral code `by`.
pub async fn invited(app: &TestApp, name: &str, by: Option<&str>) -> Customer {
    let v = app.login(&format!("demo:{name}"), by, None).await;
    let login = &ok(&v)["wechatLogin"];
    Customer {
        token: text(&login["accessToken"]),
        id: text(&login["customer"]["id"]),
        code: text(&login["customer"]["referralCode"]),
    }
}

/// Saves 张三's address in Hangzhou (the default, being the customer's
/// first); returns its id.
pub async fn save_address(app: &TestApp, token: &str) -> String {
    let data = app
        .gql_ok(
            Some(token),
            "mutation($i: AddressInput!) { saveAddress(input: $i) { id isDefault } }",
            json!({ "i": { "name": "张三", "phone": "13800138000", "province": "浙江省", "city": "杭州市", "district": "西湖区", "detail": "文三路 1 号" } }),
        )
        .await;
    assert_eq!(data["saveAddress"]["isDefault"], true, "{data}");
    id_of(&data["saveAddress"])
}

/// A demo customer with an address to ship to; returns the token.
pub async fn new_buyer(app: &TestApp, name: &str) -> String {
    let token = app.customer_token(name).await;
    save_address(app, &token).await;
    token
}

pub async fn add_to_cart(app: &TestApp, token: &str, sku: &str, quantity: i64) -> Value {
    app.gql_ok(Some(token), ADD_TO_CART, json!({ "s": sku, "q": quantity }))
        .await["addToCart"]
        .clone()
}

// Orders.

/// Places an order of `input` (an `OrderInput`); returns the whole response.
pub async fn place_input(app: &TestApp, token: &str, input: Value, key: &str) -> Value {
    app.gql(Some(token), PLACE_ORDER, json!({ "i": input, "k": key }))
        .await
}

/// Places an order of `items`; returns the whole response.
pub async fn place(app: &TestApp, token: &str, items: Value, key: &str) -> Value {
    place_input(app, token, json!({ "items": items }), key).await
}

/// Places an order of `items` that must be placed; returns the order.
pub async fn placed(app: &TestApp, token: &str, items: Value, key: &str) -> Value {
    let v = place(app, token, items, key).await;
    let order = ok(&v)["placeOrder"]["order"].clone();
    assert!(order["id"].is_string(), "{v}");
    order
}

/// The password of the staff accounts tests create.
pub const STAFF_PASSWORD: &str = "staff-password-1";

/// A staff account, signed in.
pub struct Staff {
    pub id: String,
    pub token: String,
}

/// The owner creates a staff account of `role`; it signs in.
pub async fn staff(app: &TestApp, owner: &str, username: &str, role: &str) -> Staff {
    let data = app
        .gql_ok(
            Some(owner),
            "mutation($i: StaffInput!) { createStaff(input: $i) { id role } }",
            json!({ "i": { "username": username, "password": STAFF_PASSWORD, "role": role } }),
        )
        .await;
    assert_eq!(data["createStaff"]["role"], role, "{data}");
    let login = app
        .gql_ok(
            None,
            "mutation($u: String!, $p: String!) { adminLogin(username: $u, password: $p) { accessToken staffRole } }",
            json!({ "u": username, "p": STAFF_PASSWORD }),
        )
        .await;
    assert_eq!(login["adminLogin"]["staffRole"], role, "{login}");
    Staff {
        id: text(&data["createStaff"]["id"]),
        token: text(&login["adminLogin"]["accessToken"]),
    }
}

/// Pays an order with `demoPay`; returns it as paid.
pub async fn demo_pay(app: &TestApp, token: &str, order: &(impl Serialize + ?Sized)) -> Value {
    let data = app
        .gql_ok(Some(token), DEMO_PAY, json!({ "id": order }))
        .await;
    assert_eq!(data["demoPay"]["status"], "PAID", "{data}");
    data["demoPay"].clone()
}

/// Pays a plan order (membership, top-up) with `demoPay`: nothing ships, so
/// it is COMPLETED at once. Returns it.
pub async fn demo_pay_plan(app: &TestApp, token: &str, order: &(impl Serialize + ?Sized)) -> Value {
    let data = app
        .gql_ok(Some(token), DEMO_PAY, json!({ "id": order }))
        .await;
    assert_eq!(data["demoPay"]["status"], "COMPLETED", "{data}");
    data["demoPay"].clone()
}

/// Places an order of `items` and pays it; returns the order as paid.
pub async fn paid_order(app: &TestApp, token: &str, items: Value, key: &str) -> Value {
    let order = placed(app, token, items, key).await;
    demo_pay(app, token, &order["id"]).await
}

/// The buyer cancels its unpaid order.
pub async fn cancel(app: &TestApp, token: &str, order: &(impl Serialize + ?Sized)) {
    let data = app
        .gql_ok(Some(token), CANCEL_ORDER, json!({ "id": order }))
        .await;
    assert_eq!(data["cancelOrder"]["status"], "CANCELLED", "{data}");
}

/// The order as `token` sees it (`ORDER_FIELDS`; null when it cannot).
pub async fn order_of(app: &TestApp, token: &str, id: &(impl Serialize + ?Sized)) -> Value {
    app.gql_ok(Some(token), ORDER, json!({ "id": id })).await["order"].clone()
}

pub async fn status_of(app: &TestApp, token: &str, id: &(impl Serialize + ?Sized)) -> Value {
    order_of(app, token, id).await["status"].clone()
}

/// Ships a fulfillment (as its supplier or ADMIN); returns the whole response.
pub async fn ship(app: &TestApp, token: &str, fulfillment: &(impl Serialize + ?Sized)) -> Value {
    app.gql(
        Some(token),
        SHIP,
        json!({ "id": fulfillment, "c": "顺丰", "t": "SF1" }),
    )
    .await
}

/// Ships a fulfillment that must ship.
pub async fn shipped(app: &TestApp, token: &str, fulfillment: &(impl Serialize + ?Sized)) {
    let v = ship(app, token, fulfillment).await;
    assert_eq!(ok(&v)["shipFulfillment"]["status"], "SHIPPED", "{v}");
}

/// Ships every part of a paid order as ADMIN, and the buyer confirms receipt.
pub async fn complete(app: &TestApp, admin: &str, buyer: &str, id: &(impl Serialize + ?Sized)) {
    for f in order_of(app, buyer, id).await["fulfillments"]
        .as_array()
        .unwrap()
    {
        shipped(app, admin, &f["id"]).await;
    }
    let data = app
        .gql_ok(Some(buyer), CONFIRM_RECEIPT, json!({ "id": id }))
        .await;
    assert_eq!(data["confirmReceipt"]["status"], "COMPLETED", "{data}");
}

// Refunds.

/// The buyer asks for a refund of the whole order; returns the whole response.
pub async fn request_refund(
    app: &TestApp,
    buyer: &str,
    id: &(impl Serialize + ?Sized),
    reason: &str,
) -> Value {
    app.gql(
        Some(buyer),
        REQUEST_REFUND,
        json!({ "id": id, "r": reason }),
    )
    .await
}

/// A refund the buyer asks for and gets asked; returns the refund.
pub async fn refund_requested(app: &TestApp, buyer: &str, id: &(impl Serialize + ?Sized)) -> Value {
    let v = request_refund(app, buyer, id, "不想要了").await;
    let refund = ok(&v)["requestRefund"].clone();
    assert_eq!(refund["status"], "PENDING", "{v}");
    refund
}

/// ADMIN approves a refund; returns the whole response.
pub async fn approve_refund(
    app: &TestApp,
    admin: &str,
    refund: &(impl Serialize + ?Sized),
) -> Value {
    app.gql(Some(admin), APPROVE_REFUND, json!({ "id": refund }))
        .await
}

/// The buyer asks for a refund of the whole order and ADMIN approves it;
/// returns the approved refund (the money back, through the demo payment).
pub async fn refunded(
    app: &TestApp,
    buyer: &str,
    admin: &str,
    id: &(impl Serialize + ?Sized),
) -> Value {
    let refund = refund_requested(app, buyer, id).await;
    let v = approve_refund(app, admin, &refund["id"]).await;
    let approved = ok(&v)["approveRefund"].clone();
    assert_eq!(approved["status"], "REFUNDED", "{v}");
    approved
}

// Plans and coupons.

pub async fn membership_plan(
    app: &TestApp,
    admin: &str,
    price: i64,
    days: i64,
    percent: i64,
    free_shipping: bool,
) -> String {
    let data = app
        .gql_ok(
            Some(admin),
            "mutation($i: MembershipPlanInput!) { createMembershipPlan(input: $i) { id } }",
            json!({ "i": { "name": "年卡", "priceFen": price, "durationDays": days, "discountPercent": percent, "freeShipping": free_shipping } }),
        )
        .await;
    id_of(&data["createMembershipPlan"])
}

/// Buys and pays a membership under `key`; returns the order id.
pub async fn buy_membership(app: &TestApp, token: &str, plan: &str, key: &str) -> Value {
    let data = app
        .gql_ok(
            Some(token),
            "mutation($p: ID!, $k: String!) { buyMembership(planId: $p, idempotencyKey: $k) { order { id } } }",
            json!({ "p": plan, "k": key }),
        )
        .await;
    let id = data["buyMembership"]["order"]["id"].clone();
    demo_pay_plan(app, token, &id).await;
    id
}

/// A top-up plan: pay `pay`, get `bonus` on top.
pub async fn top_up_plan(app: &TestApp, admin: &str, pay: i64, bonus: i64) -> String {
    let data = app
        .gql_ok(
            Some(admin),
            "mutation($i: TopUpPlanInput!) { createTopUpPlan(input: $i) { id } }",
            json!({ "i": { "name": "充值", "payFen": pay, "bonusFen": bonus } }),
        )
        .await;
    id_of(&data["createTopUpPlan"])
}

/// Places a top-up of `plan` under `key`; returns the unpaid order.
pub async fn top_up_order(
    app: &TestApp,
    token: &str,
    plan: &(impl Serialize + ?Sized),
    key: &str,
) -> Value {
    let data = app
        .gql_ok(
            Some(token),
            "mutation($p: ID!, $k: String!) { topUp(planId: $p, idempotencyKey: $k) { order { id status payableFen } } }",
            json!({ "p": plan, "k": key }),
        )
        .await;
    data["topUp"]["order"].clone()
}

/// Creates a coupon template from a `CouponTemplateInput`; returns it.
pub async fn coupon_template(app: &TestApp, admin: &str, input: Value) -> Value {
    app.gql_ok(Some(admin), COUPON_TEMPLATE, json!({ "i": input }))
        .await["createCouponTemplate"]
        .clone()
}

// Reading answers.

/// The `id` of an object in an answer.
pub fn id_of(v: &Value) -> String {
    text(&v["id"])
}

/// A string in an answer, or a panic showing what is there instead.
pub fn text(v: &Value) -> String {
    v.as_str()
        .unwrap_or_else(|| panic!("expected a string, got {v}"))
        .to_string()
}
