//! What the admin console's customer pages need from the API at a real
//! store's size: RFM score filters and the R×F grid counted by the jobs
//! loop, `totalCount` of customer lists, editing and deleting segments,
//! the record of coupon campaigns, and a customer's team for staff; each
//! for the staff roles it is meant for and no one else.
use serde_json::{Value, json};

use crate::{
    fixtures::{Staff, coupon_template, id_of, paid_order, save_address, shop, staff, text},
    helpers::{TestApp, error_code, ok, spawn_app},
};

const LIST: &str = "query($f: CustomerFilter, $a: String) { customers(filter: $f, first: 100, after: $a) { totalCount nodes { id rfm { rScore fScore mScore } } pageInfo { hasNextPage endCursor } } }";
const GRID: &str = "{ rfmGrid { computedAt buyers cells { rScore fScore customers monetaryFen averageMonetaryFen } } }";
const SEGMENT: &str = "mutation($n: String!, $f: CustomerFilter!) { createSegment(name: $n, filter: $f) { id name customerCount filter } }";
const UPDATE: &str = "mutation($id: ID!, $i: SegmentUpdateInput!) { updateSegment(id: $id, input: $i) { id name customerCount filter } }";
const DELETE: &str = "mutation($id: ID!) { deleteSegment(id: $id) }";
const SEGMENTS: &str = "{ segments { id name customerCount } }";
const ISSUE: &str = "mutation($t: ID!, $s: ID, $c: [ID!], $k: String) { issueCoupons(templateId: $t, segmentId: $s, customerIds: $c, idempotencyKey: $k) }";
const CAMPAIGNS: &str = "query($n: Int, $a: String) { campaigns(first: $n, after: $a) { nodes { id staffId templateId template { id name } segmentId segmentName issued createdAt } pageInfo { hasNextPage endCursor } } }";
const TEAM: &str = "query($c: ID!, $l: Int, $n: Int, $a: String) { promoterTeam(customerId: $c, level: $l, first: $n, after: $a) { totalCount nodes { id nickname createdAt stats { totalSpentFen ordersCount } } pageInfo { hasNextPage endCursor } } }";

/// A signed-in customer: (token, id, referral code).
struct Who {
    token: String,
    id: String,
    code: String,
}

async fn join(app: &TestApp, name: &str, referral: Option<&str>) -> Who {
    let v = app
        .gql(
            None,
            "mutation($i: WechatLoginInput!) { wechatLogin(input: $i) { accessToken customer { id referralCode } } }",
            json!({ "i": { "code": format!("demo:{name}"), "referralCode": referral, "nickname": name } }),
        )
        .await;
    let l = &ok(&v)["wechatLogin"];
    Who {
        token: text(&l["accessToken"]),
        id: text(&l["customer"]["id"]),
        code: text(&l["customer"]["referralCode"]),
    }
}

/// The jobs (the RFM cutoffs and grid among them).
async fn run_jobs(app: &TestApp, owner: &str) {
    let v = app
        .gql(Some(owner), "mutation { runOrderJobs }", json!({}))
        .await;
    assert_eq!(v["data"]["runOrderJobs"], true, "{v}");
}

/// Every customer the filter lists (all pages), and its `totalCount`.
async fn all_listed(app: &TestApp, token: &str, filter: Value) -> (Vec<Value>, i64) {
    let (mut nodes, mut after, mut total) = (Vec::new(), Value::Null, None);
    loop {
        let v = app
            .gql(Some(token), LIST, json!({ "f": filter, "a": after }))
            .await;
        let c = &ok(&v)["customers"];
        let t = c["totalCount"].as_i64().unwrap_or_else(|| panic!("{v}"));
        assert!(total.is_none_or(|x| x == t), "one count on every page: {v}");
        total = Some(t);
        nodes.extend(c["nodes"].as_array().unwrap().iter().cloned());
        if c["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = c["pageInfo"]["endCursor"].clone();
    }
    (nodes, total.unwrap())
}

fn ids(nodes: &[Value]) -> Vec<String> {
    let mut v: Vec<String> = nodes.iter().map(|n| text(&n["id"])).collect();
    v.sort();
    v
}

#[tokio::test]
async fn rfm_score_filters_and_the_grid_match_the_scores_customers_show() {
    let app = spawn_app().await;
    let shop = shop(&app, 100).await;
    let owner = shop.admin.as_str();

    // Seven buyers, 1-5 orders each, last bought 0 to 300 days ago; two
    // customers who never bought.
    let plan: [(&str, usize, i64); 7] = [
        ("a", 5, 0),
        ("b", 4, 0),
        ("c", 1, 3),
        ("d", 2, 20),
        ("e", 1, 45),
        ("f", 3, 120),
        ("g", 2, 300),
    ];
    let mut buyers = Vec::new();
    for (name, orders, days) in plan {
        let who = join(&app, name, None).await;
        save_address(&app, &who.token).await;
        for i in 0..orders {
            let o = paid_order(
                &app,
                &who.token,
                shop.items(&[(2, 1)]),
                &format!("{name}{i}"),
            )
            .await;
            assert_eq!(o["status"], "PAID", "{o}");
        }
        if days > 0 {
            crate::operations::last_bought_days_ago(&app, &who.id, days).await;
        }
        buyers.push(who);
    }
    let _n1 = join(&app, "n1", None).await;
    let _n2 = join(&app, "n2", None).await;

    // Before the jobs loop's first computation: zeros, no date, and every
    // buyer scores 1 (as Customer.rfm shows until then).
    let g = app.gql_ok(Some(owner), GRID, json!({})).await;
    assert_eq!(g["rfmGrid"]["computedAt"], Value::Null, "{g}");
    assert_eq!(g["rfmGrid"]["buyers"], 0, "{g}");
    assert_eq!(g["rfmGrid"]["cells"].as_array().unwrap().len(), 25, "{g}");
    let (ones, n) = all_listed(&app, owner, json!({ "rScore": 1, "fScore": 1 })).await;
    assert_eq!(
        (ones.len(), n),
        (7, 7),
        "every buyer scores 1 before the jobs"
    );
    let (none, n) = all_listed(&app, owner, json!({ "rScore": 2 })).await;
    assert_eq!((none.len(), n), (0, 0));

    run_jobs(&app, owner).await;
    let (everyone, total) = all_listed(&app, owner, json!({})).await;
    assert_eq!((everyone.len(), total), (9, 9));
    let scored: Vec<&Value> = everyone.iter().filter(|n| !n["rfm"].is_null()).collect();
    assert_eq!(scored.len(), 7);
    let with = |pred: &dyn Fn(&Value) -> bool| -> Vec<String> {
        let mut v: Vec<String> = scored
            .iter()
            .filter(|n| pred(&n["rfm"]))
            .map(|n| text(&n["id"]))
            .collect();
        v.sort();
        v
    };
    // More than one score in use, or the comparison proves little.
    let rs: std::collections::BTreeSet<i64> = scored
        .iter()
        .map(|n| n["rfm"]["rScore"].as_i64().unwrap())
        .collect();
    let fs: std::collections::BTreeSet<i64> = scored
        .iter()
        .map(|n| n["rfm"]["fScore"].as_i64().unwrap())
        .collect();
    assert!(rs.len() >= 4 && fs.len() >= 3, "{rs:?} {fs:?}");

    for s in 1..=5 {
        for (name, key) in [
            ("rScore", "rScore"),
            ("fScore", "fScore"),
            ("mScore", "mScore"),
        ] {
            let (nodes, n) = all_listed(&app, owner, json!({ name: s })).await;
            assert_eq!(
                ids(&nodes),
                with(&|r: &Value| r[key] == s),
                "{name} {s}: exactly those whose rfm shows it"
            );
            assert_eq!(n, nodes.len() as i64, "{name} {s}: totalCount");
        }
    }

    // The grid: each cell holds the buyers the filter lists, and what they spent.
    let g = app.gql_ok(Some(owner), GRID, json!({})).await;
    let grid = &g["rfmGrid"];
    assert!(grid["computedAt"].is_string(), "{g}");
    assert_eq!(grid["buyers"], 7, "{g}");
    let cells = grid["cells"].as_array().unwrap();
    assert_eq!(cells.len(), 25);
    assert_eq!(
        (&cells[0]["rScore"], &cells[0]["fScore"]),
        (&json!(5), &json!(1))
    );
    assert_eq!(
        (&cells[24]["rScore"], &cells[24]["fScore"]),
        (&json!(1), &json!(5))
    );
    for cell in cells {
        let (r, f) = (
            cell["rScore"].as_i64().unwrap(),
            cell["fScore"].as_i64().unwrap(),
        );
        let (nodes, n) = all_listed(&app, owner, json!({ "rScore": r, "fScore": f })).await;
        assert_eq!(
            ids(&nodes),
            with(&|x: &Value| x["rScore"] == r && x["fScore"] == f),
            "cell {r}{f}"
        );
        assert_eq!(cell["customers"], n, "cell {r}{f}: {cell}");
        let spent: i64 = nodes
            .iter()
            .map(|n| {
                let id = text(&n["id"]);
                let i = buyers.iter().position(|b| b.id == id).unwrap();
                // Each order: 1000 + 800 shipping.
                1800 * plan[i].1 as i64
            })
            .sum();
        assert_eq!(cell["monetaryFen"], spent, "cell {r}{f}: {cell}");
        let avg = if n == 0 { 0 } else { (2 * spent + n) / (2 * n) };
        assert_eq!(cell["averageMonetaryFen"], avg, "cell {r}{f}: {cell}");
    }

    // Combined with the other filters, and saved in a segment.
    let r5 = with(&|x: &Value| x["rScore"] == 5);
    let (nodes, _) = all_listed(&app, owner, json!({ "rScore": 5, "minOrders": 3 })).await;
    let expect: Vec<String> = r5
        .iter()
        .filter(|id| {
            let i = buyers.iter().position(|b| &&b.id == id).unwrap();
            plan[i].1 >= 3
        })
        .cloned()
        .collect();
    assert_eq!(ids(&nodes), expect);
    let v = app
        .gql(
            Some(owner),
            SEGMENT,
            json!({ "n": "R5", "f": { "rScore": 5 } }),
        )
        .await;
    assert_eq!(
        ok(&v)["createSegment"]["customerCount"],
        r5.len() as i64,
        "{v}"
    );

    // Out of range: refused, naming the field.
    for (name, s) in [("rScore", 0), ("fScore", 6), ("mScore", -1)] {
        let v = app
            .gql(Some(owner), LIST, json!({ "f": { name: s } }))
            .await;
        assert_eq!(error_code(&v), "BAD_USER_INPUT", "{v}");
        assert_eq!(
            v["errors"][0]["extensions"]["field"],
            format!("filter.{name}"),
            "{v}"
        );
    }
}

#[tokio::test]
async fn segments_are_edited_and_deleted_and_campaigns_are_recorded() {
    let app = spawn_app().await;
    let owner = app.admin_token().await;
    let owner = owner.as_str();
    let Staff {
        id: ops_id,
        token: operator,
    } = staff(&app, owner, "ops", "OPERATIONS").await;
    let operator = operator.as_str();
    let c1 = join(&app, "c1", None).await;
    let c2 = join(&app, "c2", None).await;
    let c3 = join(&app, "c3", None).await;
    let tag = app
        .gql(
            Some(operator),
            "mutation($c: [ID!]!) { tagCustomers(customerIds: $c, tags: [\"vip\"]) }",
            json!({ "c": [c1.id, c2.id] }),
        )
        .await;
    assert_eq!(ok(&tag)["tagCustomers"], 2, "{tag}");
    let t = coupon_template(
        &app,
        operator,
        json!({ "name": "回归礼", "thresholdFen": 0, "offFen": 1000, "validDays": 14, "totalQuantity": 100, "claimable": false }),
    )
    .await;
    let template = id_of(&t);

    let v = app
        .gql(
            Some(operator),
            SEGMENT,
            json!({ "n": "VIP", "f": { "tags": ["vip"] } }),
        )
        .await;
    let seg = ok(&v)["createSegment"].clone();
    let seg_id = text(&seg["id"]);
    assert_eq!(seg["customerCount"], 2, "{v}");

    // Campaign to the segment, then to a hand-picked list; a repeat with
    // the same key is not a second campaign.
    let v = app
        .gql(
            Some(operator),
            ISSUE,
            json!({ "t": template, "s": seg_id, "k": "k1" }),
        )
        .await;
    assert_eq!(ok(&v)["issueCoupons"], 2, "{v}");
    let v = app
        .gql(
            Some(operator),
            ISSUE,
            json!({ "t": template, "s": seg_id, "k": "k1" }),
        )
        .await;
    assert_eq!(ok(&v)["issueCoupons"], 2, "{v}");
    let v = app
        .gql(Some(owner), ISSUE, json!({ "t": template, "c": [c3.id] }))
        .await;
    assert_eq!(ok(&v)["issueCoupons"], 1, "{v}");

    // Renamed and narrowed: the list follows, the first campaign keeps
    // the name it ran under.
    let v = app
        .gql(
            Some(operator),
            UPDATE,
            json!({ "id": seg_id, "i": { "name": "超级VIP", "filter": { "tags": ["vip"], "keyword": "c1" } } }),
        )
        .await;
    let s = &ok(&v)["updateSegment"];
    assert_eq!(s["name"], "超级VIP", "{v}");
    assert_eq!(s["customerCount"], 1, "{v}");
    // Only the name: the filter stays.
    let v = app
        .gql(
            Some(operator),
            UPDATE,
            json!({ "id": seg_id, "i": { "name": "VIP1" } }),
        )
        .await;
    assert_eq!(ok(&v)["updateSegment"]["customerCount"], 1, "{v}");
    for (vars, code, field) in [
        (
            json!({ "id": seg_id, "i": { "name": "" } }),
            "BAD_USER_INPUT",
            Some("input.name"),
        ),
        (
            json!({ "id": seg_id, "i": { "filter": { "rScore": 9 } } }),
            "BAD_USER_INPUT",
            Some("input.filter.rScore"),
        ),
        (
            json!({ "id": "999999", "i": { "name": "x" } }),
            "NOT_FOUND",
            None,
        ),
    ] {
        let v = app.gql(Some(operator), UPDATE, vars).await;
        assert_eq!(error_code(&v), code, "{v}");
        if let Some(f) = field {
            assert_eq!(v["errors"][0]["extensions"]["field"], f, "{v}");
        }
    }

    let v = app.gql_ok(Some(operator), CAMPAIGNS, json!({})).await;
    let list = v["campaigns"]["nodes"].as_array().unwrap().clone();
    assert_eq!(list.len(), 2, "{v}");
    assert_eq!(list[0]["segmentId"], Value::Null, "newest first: {v}");
    assert_eq!(list[0]["segmentName"], Value::Null);
    assert_eq!(list[0]["issued"], 1);
    assert!(list[0]["staffId"].is_string(), "{v}");
    assert_ne!(list[0]["staffId"], ops_id.as_str(), "the owner issued it");
    assert_eq!(list[1]["segmentId"], seg_id.as_str(), "{v}");
    assert_eq!(list[1]["segmentName"], "VIP", "{v}");
    assert_eq!(list[1]["issued"], 2);
    assert_eq!(list[1]["staffId"], ops_id.as_str());
    assert_eq!(list[1]["templateId"], template.as_str());
    assert_eq!(list[1]["template"]["name"], "回归礼");
    // Pages.
    let v = app
        .gql_ok(Some(operator), CAMPAIGNS, json!({ "n": 1 }))
        .await;
    assert_eq!(v["campaigns"]["nodes"][0]["id"], list[0]["id"]);
    assert_eq!(v["campaigns"]["pageInfo"]["hasNextPage"], true);
    let after = v["campaigns"]["pageInfo"]["endCursor"].clone();
    let v = app
        .gql_ok(Some(operator), CAMPAIGNS, json!({ "n": 1, "a": after }))
        .await;
    assert_eq!(v["campaigns"]["nodes"][0]["id"], list[1]["id"]);
    assert_eq!(v["campaigns"]["pageInfo"]["hasNextPage"], false);

    // Deleted: gone from segments, a campaign to it refused, its campaign kept.
    let v = app
        .gql(Some(operator), DELETE, json!({ "id": seg_id }))
        .await;
    assert_eq!(ok(&v)["deleteSegment"], true, "{v}");
    let v = app.gql_ok(Some(operator), SEGMENTS, json!({})).await;
    assert_eq!(v["segments"], json!([]), "{v}");
    let v = app
        .gql(Some(operator), DELETE, json!({ "id": seg_id }))
        .await;
    assert_eq!(error_code(&v), "NOT_FOUND", "{v}");
    let v = app
        .gql(Some(operator), ISSUE, json!({ "t": template, "s": seg_id }))
        .await;
    assert_eq!(error_code(&v), "NOT_FOUND", "{v}");
    let v = app.gql_ok(Some(operator), CAMPAIGNS, json!({})).await;
    assert_eq!(v["campaigns"]["nodes"].as_array().unwrap().len(), 2, "{v}");
    assert_eq!(v["campaigns"]["nodes"][1]["segmentName"], "VIP", "{v}");

    // The audit log has the operator's edits and deletion.
    let v = app
        .gql_ok(
            Some(owner),
            "query($f: AuditFilter) { auditLog(filter: $f, first: 100) { nodes { actor action target } } }",
            json!({ "f": { "actor": "ops" } }),
        )
        .await;
    let actions: Vec<(String, Value)> = v["auditLog"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| (text(&n["action"]), n["target"].clone()))
        .collect();
    for action in ["updateSegment", "deleteSegment"] {
        assert!(
            actions
                .iter()
                .any(|(a, t)| a == action && t == &json!(seg_id)),
            "{action} audited on the segment: {v}"
        );
    }
}

#[tokio::test]
async fn staff_see_a_customers_team_with_its_count() {
    let app = spawn_app().await;
    let shop = shop(&app, 20).await;
    let owner = shop.admin.as_str();
    let Staff { token: service, .. } = staff(&app, owner, "svc", "CUSTOMER_SERVICE").await;
    let p = join(&app, "promoter", None).await;
    let m1 = join(&app, "m1", Some(&p.code)).await;
    let m2 = join(&app, "m2", Some(&p.code)).await;
    let m3 = join(&app, "m3", Some(&p.code)).await;
    let g1 = join(&app, "g1", Some(&m1.code)).await;
    let _other = join(&app, "other", None).await;
    save_address(&app, &m2.token).await;
    let o = paid_order(&app, &m2.token, shop.items(&[(2, 2)]), "m2").await;
    assert_eq!(o["status"], "PAID", "{o}");

    let v = app
        .gql_ok(Some(&service), TEAM, json!({ "c": p.id, "n": 2 }))
        .await;
    let t = &v["promoterTeam"];
    assert_eq!(t["totalCount"], 3, "{v}");
    let page1: Vec<String> = t["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| text(&n["id"]))
        .collect();
    assert_eq!(
        page1,
        vec![m3.id.clone(), m2.id.clone()],
        "newest first: {v}"
    );
    assert_eq!(t["nodes"][1]["nickname"], "m2");
    assert!(t["nodes"][1]["createdAt"].is_string(), "{v}");
    assert_eq!(t["nodes"][1]["stats"]["ordersCount"], 1, "{v}");
    assert_eq!(
        t["nodes"][1]["stats"]["totalSpentFen"], o["totalFen"],
        "{v}"
    );
    let after = t["pageInfo"]["endCursor"].clone();
    let v = app
        .gql_ok(
            Some(&service),
            TEAM,
            json!({ "c": p.id, "n": 2, "a": after }),
        )
        .await;
    assert_eq!(v["promoterTeam"]["nodes"][0]["id"], m1.id.as_str(), "{v}");
    assert_eq!(v["promoterTeam"]["pageInfo"]["hasNextPage"], false, "{v}");

    let v = app
        .gql_ok(Some(&service), TEAM, json!({ "c": p.id, "l": 2 }))
        .await;
    assert_eq!(v["promoterTeam"]["totalCount"], 1, "{v}");
    assert_eq!(v["promoterTeam"]["nodes"][0]["id"], g1.id.as_str(), "{v}");
    // The customer's own view counts the same.
    let v = app
        .gql_ok(
            Some(&p.token),
            "{ myTeam(level: 1) { totalCount nodes { id } } }",
            json!({}),
        )
        .await;
    assert_eq!(v["myTeam"]["totalCount"], 3, "{v}");

    let v = app
        .gql(Some(&service), TEAM, json!({ "c": p.id, "l": 3 }))
        .await;
    assert_eq!(error_code(&v), "BAD_USER_INPUT", "{v}");
    let v = app
        .gql(Some(&service), TEAM, json!({ "c": "987654" }))
        .await;
    assert_eq!(error_code(&v), "NOT_FOUND", "{v}");
}

#[tokio::test]
async fn each_staff_role_may_use_what_it_is_meant_for() {
    let app = spawn_app().await;
    let owner = app.admin_token().await;
    let owner = owner.as_str();
    let Staff { token: finance, .. } = staff(&app, owner, "fin", "FINANCE").await;
    let Staff { token: service, .. } = staff(&app, owner, "svc", "CUSTOMER_SERVICE").await;
    let Staff {
        token: operator, ..
    } = staff(&app, owner, "ops", "OPERATIONS").await;
    let c1 = join(&app, "c1", None).await;
    let v = app
        .gql(Some(owner), SEGMENT, json!({ "n": "all", "f": {} }))
        .await;
    let seg = text(&ok(&v)["createSegment"]["id"]);

    // Reads: every staff role; never a customer or an anonymous caller.
    let reads: Vec<(&str, &str, Value)> = vec![
        ("rfmGrid", GRID, json!({})),
        ("customers", LIST, json!({ "f": { "rScore": 1 } })),
        ("promoterTeam", TEAM, json!({ "c": c1.id })),
    ];
    // Writes and the campaign record: OPERATIONS (and the owner).
    let writes: Vec<(&str, &str, Value)> = vec![
        (
            "updateSegment",
            UPDATE,
            json!({ "id": seg, "i": { "name": "x" } }),
        ),
        ("campaigns", CAMPAIGNS, json!({})),
        ("deleteSegment", DELETE, json!({ "id": seg })),
    ];
    for (name, query, vars) in reads.iter().chain(writes.iter()) {
        for (token, code) in [
            (Some(c1.token.as_str()), "FORBIDDEN"),
            (None, "UNAUTHENTICATED"),
            (Some("not-a-token"), "UNAUTHENTICATED"),
        ] {
            let v = app.gql(token, query, vars.clone()).await;
            assert_eq!(error_code(&v), code, "{name} as {token:?}: {v}");
            assert!(v["data"].is_null() || v["data"][name].is_null(), "{v}");
        }
    }
    for (name, query, vars) in &writes {
        for token in [&finance, &service] {
            let v = app.gql(Some(token), query, vars.clone()).await;
            assert_eq!(error_code(&v), "FORBIDDEN", "{name}: {v}");
        }
    }
    // Nothing changed.
    let v = app.gql_ok(Some(owner), SEGMENTS, json!({})).await;
    assert_eq!(v["segments"][0]["name"], "all", "{v}");

    for (name, query, vars) in &reads {
        for token in [&finance, &service, &operator] {
            let v = app.gql(Some(token), query, vars.clone()).await;
            assert!(v["errors"].is_null(), "{name}: {v}");
            assert!(!v["data"][name].is_null(), "{name}: {v}");
        }
    }
    for (name, query, vars) in &writes {
        let v = app.gql(Some(&operator), query, vars.clone()).await;
        assert!(v["errors"].is_null(), "{name} as OPERATIONS: {v}");
        assert!(!v["data"][name].is_null(), "{name}: {v}");
    }
    let v = app.gql_ok(Some(owner), CAMPAIGNS, json!({})).await;
    assert_eq!(
        v["campaigns"]["nodes"],
        json!([]),
        "the owner reads them: {v}"
    );
}
