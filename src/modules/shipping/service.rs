//! Shipping templates (ADMIN writes), and what pricing asks of them: the
//! templates of an order's lines and the plan that charges them for an
//! address, or the refusal of a line the address is outside of.
use std::collections::{HashMap, HashSet};

use chrono::Utc;
use entity::{product, shipping_template, supplier_shipping_template};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, SqlErr, TransactionTrait, sea_query::OnConflict,
};

use super::{
    fee::{ChargeBy, Destination, FreeRule, Plan, PlanLine, RegionRule, Rule, Rules, Template},
    regions::{self, Region},
};
use crate::{
    error::{AppError, AppResult},
    state::AppState,
    validate,
};

/// A rule as an admin gives it.
#[derive(Clone, Copy, Debug)]
pub struct RuleDraft {
    pub first: i32,
    pub first_fee_fen: i64,
    pub additional: i32,
    pub additional_fee_fen: i64,
}

/// A free rule as an admin gives it.
#[derive(Clone, Debug)]
pub struct FreeDraft {
    pub regions: Vec<String>,
    pub min_goods_fen: Option<i64>,
    pub min_quantity: Option<i32>,
}

/// A template as an admin gives it: regions by name or code.
#[derive(Clone, Debug)]
pub struct TemplateDraft {
    pub name: String,
    pub charge_by: ChargeBy,
    pub default_rule: RuleDraft,
    pub region_rules: Vec<(Vec<String>, RuleDraft)>,
    pub free_rules: Vec<FreeDraft>,
    pub no_delivery: Vec<String>,
}

/// Pieces, or grams up to a tonne.
const MAX_UNITS: i32 = 1_000_000;

fn check_rule(r: &RuleDraft, at: &str) -> AppResult<Rule> {
    if !(1..=MAX_UNITS).contains(&r.first) {
        return Err(AppError::bad_input(
            format!("{at}.first"),
            format!("must be 1 to {MAX_UNITS} (pieces or grams)"),
        ));
    }
    if !(1..=MAX_UNITS).contains(&r.additional) {
        return Err(AppError::bad_input(
            format!("{at}.additional"),
            format!("must be 1 to {MAX_UNITS} (pieces or grams)"),
        ));
    }
    Ok(Rule {
        first: i64::from(r.first),
        first_fee_fen: validate::fen(r.first_fee_fen, &format!("{at}.firstFeeFen"), 0)?,
        additional: i64::from(r.additional),
        additional_fee_fen: validate::fen(
            r.additional_fee_fen,
            &format!("{at}.additionalFeeFen"),
            0,
        )?,
    })
}

/// Regions by name or code → codes, each known and listed once.
fn region_codes(list: &[String], at: &str) -> AppResult<Vec<String>> {
    let mut out: Vec<String> = Vec::with_capacity(list.len());
    for (i, name) in list.iter().enumerate() {
        let r = regions::find(name).ok_or_else(|| {
            AppError::bad_input(
                format!("{at}[{i}]"),
                format!(
                    "{name:?} is not a mainland province or city: give its name (江苏省, 南京市) \
                     or its GB/T 2260 code (320000, 320100)"
                ),
            )
        })?;
        if out.iter().any(|c| c == r.code) {
            return Err(AppError::bad_input(
                format!("{at}[{i}]"),
                format!("{} is listed twice", r.name),
            ));
        }
        out.push(r.code.to_string());
    }
    Ok(out)
}

fn region_name(code: &str) -> &'static str {
    regions::by_code(code).map_or("?", |r| r.name)
}

/// Each destination meets at most one region rule or no-delivery entry: a
/// region in two of them, or a city where its province is listed too, is
/// refused (the admin meant one of the two; we will not guess which).
fn check_overlaps(rules: &Rules) -> AppResult<()> {
    let mut seen: HashMap<String, String> = HashMap::new();
    let mut listed: Vec<(String, String)> = Vec::new();
    for (i, rr) in rules.region_rules.iter().enumerate() {
        for (j, c) in rr.regions.iter().enumerate() {
            listed.push((c.clone(), format!("regionRules[{i}].regions[{j}]")));
        }
    }
    for (j, c) in rules.no_delivery.iter().enumerate() {
        listed.push((c.clone(), format!("noDeliveryRegions[{j}]")));
    }
    for (code, at) in &listed {
        if let Some(before) = seen.get(code) {
            return Err(AppError::bad_input(
                at.clone(),
                format!("{} is already listed at {before}", region_name(code)),
            ));
        }
        seen.insert(code.clone(), at.clone());
    }
    for (code, at) in &listed {
        let province = format!("{}0000", &code[..2]);
        if province != *code
            && let Some(before) = seen.get(&province)
        {
            return Err(AppError::bad_input(
                at.clone(),
                format!(
                    "{} lies in {}, already listed at {before}",
                    region_name(code),
                    region_name(&province)
                ),
            ));
        }
    }
    Ok(())
}

/// Checks a draft and turns it into the stored rules (names → codes).
pub fn check_draft(d: &TemplateDraft) -> AppResult<(String, Rules)> {
    let name = validate::text(&d.name, "name", 64)?;
    let default_rule = check_rule(&d.default_rule, "defaultRule")?;
    let mut region_rules = Vec::with_capacity(d.region_rules.len());
    for (i, (regions, rule)) in d.region_rules.iter().enumerate() {
        if regions.is_empty() {
            return Err(AppError::bad_input(
                format!("regionRules[{i}].regions"),
                "a region rule needs at least one region",
            ));
        }
        region_rules.push(RegionRule {
            regions: region_codes(regions, &format!("regionRules[{i}].regions"))?,
            rule: check_rule(rule, &format!("regionRules[{i}].rule"))?,
        });
    }
    let mut free_rules = Vec::with_capacity(d.free_rules.len());
    for (i, f) in d.free_rules.iter().enumerate() {
        let at = format!("freeRules[{i}]");
        if f.min_goods_fen.is_none() && f.min_quantity.is_none() {
            return Err(AppError::bad_input(
                at,
                "a free rule needs minGoodsFen, minQuantity or both",
            ));
        }
        let min_goods_fen = f
            .min_goods_fen
            .map(|m| validate::fen(m, &format!("{at}.minGoodsFen"), 0))
            .transpose()?;
        if let Some(q) = f.min_quantity
            && !(1..=MAX_UNITS).contains(&q)
        {
            return Err(AppError::bad_input(
                format!("{at}.minQuantity"),
                format!("must be 1 to {MAX_UNITS}"),
            ));
        }
        free_rules.push(FreeRule {
            regions: region_codes(&f.regions, &format!("{at}.regions"))?,
            min_goods_fen,
            min_quantity: f.min_quantity.map(i64::from),
        });
    }
    let rules = Rules {
        default_rule,
        region_rules,
        free_rules,
        no_delivery: region_codes(&d.no_delivery, "noDeliveryRegions")?,
    };
    check_overlaps(&rules)?;
    Ok((name, rules))
}

/// A stored template as priced.
pub fn template_of(m: &shipping_template::Model) -> AppResult<Template> {
    Ok(Template {
        id: m.id,
        name: m.name.clone(),
        charge_by: ChargeBy::parse(&m.charge_by),
        rules: serde_json::from_str(&m.rules).map_err(AppError::internal)?,
    })
}

fn rules_json(rules: &Rules) -> AppResult<String> {
    serde_json::to_string(rules).map_err(AppError::internal)
}

/// Adds a template (ADMIN).
pub async fn create_template(
    state: &AppState,
    draft: TemplateDraft,
) -> AppResult<shipping_template::Model> {
    let (name, rules) = check_draft(&draft)?;
    let now = Utc::now();
    Ok(shipping_template::ActiveModel {
        name: Set(name),
        charge_by: Set(draft.charge_by.as_str().into()),
        rules: Set(rules_json(&rules)?),
        retired: Set(false),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&state.db)
    .await?)
}

/// Replaces a template's rules (ADMIN). The next preview or order prices
/// by them; orders placed before keep what they were charged.
pub async fn update_template(
    state: &AppState,
    id: i64,
    draft: TemplateDraft,
) -> AppResult<shipping_template::Model> {
    let existing = find(&state.db, id).await?;
    let (name, rules) = check_draft(&draft)?;
    let mut a: shipping_template::ActiveModel = existing.into();
    a.name = Set(name);
    a.charge_by = Set(draft.charge_by.as_str().into());
    a.rules = Set(rules_json(&rules)?);
    a.updated_at = Set(Utc::now());
    Ok(a.update(&state.db).await?)
}

/// Retires a template (ADMIN): it leaves the list and can no longer be
/// given to a product. Refused (`CONFLICT`) while a product still uses it,
/// so no product is ever charged by a template the admin thinks is gone.
pub async fn retire_template(state: &AppState, id: i64) -> AppResult<shipping_template::Model> {
    let existing = find(&state.db, id).await?;
    let users = product::Entity::find()
        .filter(product::Column::ShippingTemplateId.eq(id))
        .count(&state.db)
        .await?;
    let suppliers = supplier_shipping_template::Entity::find()
        .filter(supplier_shipping_template::Column::ShippingTemplateId.eq(id))
        .count(&state.db)
        .await?;
    if users + suppliers > 0 {
        return Err(AppError::Conflict(format!(
            "{users} product(s) and {suppliers} supplier(s) still use shipping template {id}; \
             give them another template (or none) first"
        )));
    }
    let mut a: shipping_template::ActiveModel = existing.into();
    a.retired = Set(true);
    a.updated_at = Set(Utc::now());
    Ok(a.update(&state.db).await?)
}

async fn find(db: &impl ConnectionTrait, id: i64) -> AppResult<shipping_template::Model> {
    shipping_template::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("shipping template {id} does not exist")))
}

/// One template (ADMIN).
pub async fn template(state: &AppState, id: i64) -> AppResult<Option<shipping_template::Model>> {
    Ok(shipping_template::Entity::find_by_id(id)
        .one(&state.db)
        .await?)
}

/// The store's templates, oldest first; retired ones only when asked.
pub async fn templates(
    state: &AppState,
    include_retired: bool,
) -> AppResult<Vec<shipping_template::Model>> {
    let mut q = shipping_template::Entity::find().order_by_asc(shipping_template::Column::Id);
    if !include_retired {
        q = q.filter(shipping_template::Column::Retired.eq(false));
    }
    Ok(q.all(&state.db).await?)
}

/// A template a product may be given: it exists and is not retired
/// (`field` names the input).
pub async fn require_usable(db: &impl ConnectionTrait, id: i64, field: &str) -> AppResult<()> {
    match shipping_template::Entity::find_by_id(id).one(db).await? {
        Some(t) if !t.retired => Ok(()),
        Some(_) => Err(AppError::bad_input(
            field,
            format!("shipping template {id} is retired"),
        )),
        None => Err(AppError::NotFound(format!(
            "{field}: shipping template {id} does not exist"
        ))),
    }
}

/// Sets (or, with `None`, clears) a supplier's default template (ADMIN):
/// its products without a template of their own are charged by it.
/// Returns the template now in force.
pub async fn set_supplier_default(
    state: &AppState,
    supplier_id: i64,
    template_id: Option<i64>,
) -> AppResult<Option<shipping_template::Model>> {
    let txn = state.db.begin().await?;
    let Some(t) = template_id else {
        supplier_shipping_template::Entity::delete_by_id(supplier_id)
            .exec(&txn)
            .await?;
        txn.commit().await?;
        return Ok(None);
    };
    require_usable(&txn, t, "shippingTemplateId").await?;
    let row = supplier_shipping_template::ActiveModel {
        supplier_id: Set(supplier_id),
        shipping_template_id: Set(t),
        updated_at: Set(Utc::now()),
    };
    let written = supplier_shipping_template::Entity::insert(row)
        .on_conflict(
            OnConflict::column(supplier_shipping_template::Column::SupplierId)
                .update_columns([
                    supplier_shipping_template::Column::ShippingTemplateId,
                    supplier_shipping_template::Column::UpdatedAt,
                ])
                .to_owned(),
        )
        .exec_without_returning(&txn)
        .await;
    match written {
        Ok(_) => {}
        // The supplier row is not this domain's to read: its foreign key says.
        Err(e) if matches!(e.sql_err(), Some(SqlErr::ForeignKeyConstraintViolation(_))) => {
            return Err(AppError::NotFound(format!(
                "supplierId: supplier {supplier_id} does not exist"
            )));
        }
        Err(e) => return Err(e.into()),
    }
    let model = find(&txn, t).await?;
    txn.commit().await?;
    Ok(Some(model))
}

/// Every supplier's default template, by supplier id (ADMIN).
pub async fn supplier_defaults_all(state: &AppState) -> AppResult<Vec<(i64, i64)>> {
    Ok(supplier_shipping_template::Entity::find()
        .order_by_asc(supplier_shipping_template::Column::SupplierId)
        .all(&state.db)
        .await?
        .into_iter()
        .map(|r| (r.supplier_id, r.shipping_template_id))
        .collect())
}

/// The default templates of these suppliers (template id by supplier id).
pub async fn supplier_defaults(
    db: &impl ConnectionTrait,
    supplier_ids: &[i64],
) -> AppResult<HashMap<i64, i64>> {
    if supplier_ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(supplier_shipping_template::Entity::find()
        .filter(supplier_shipping_template::Column::SupplierId.is_in(supplier_ids.iter().copied()))
        .all(db)
        .await?
        .into_iter()
        .map(|r| (r.supplier_id, r.shipping_template_id))
        .collect())
}

/// Templates by id, as priced.
pub type Templates = HashMap<i64, Template>;

/// The templates with these ids (retired ones too: a product may still
/// point at one that was retired while it was being edited).
pub async fn templates_by_ids(db: &impl ConnectionTrait, ids: &[i64]) -> AppResult<Templates> {
    let ids: Vec<i64> = ids
        .iter()
        .copied()
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    if ids.is_empty() {
        return Ok(Templates::new());
    }
    shipping_template::Entity::find()
        .filter(shipping_template::Column::Id.is_in(ids))
        .all(db)
        .await?
        .iter()
        .map(|m| template_of(m).map(|t| (m.id, t)))
        .collect()
}

/// Where an address is, for templates: its province and city codes, or
/// `None` when its province is not a mainland one the table knows.
pub fn destination(province: &str, city: &str) -> Option<Destination> {
    regions::locate(province, city).map(|(p, c)| Destination {
        province: p.code.to_string(),
        city: c.map(|c| c.code.to_string()),
    })
}

/// The codes an address is stored with (province, city).
pub fn codes_of(province: &str, city: &str) -> (Option<String>, Option<String>) {
    match regions::locate(province, city) {
        Some((p, c)) => (Some(p.code.to_string()), c.map(|c| c.code.to_string())),
        None => (None, None),
    }
}

/// One line to ship, as the plan needs it.
pub struct LineToShip<'a> {
    pub sku_id: i64,
    /// For the refusal's message: the product title and the spec.
    pub label: &'a str,
    pub template_id: Option<i64>,
    pub unit_grams: i64,
}

/// The address of an order, by name (as customers type it).
#[derive(Clone, Copy)]
pub struct Address<'a> {
    pub province: &'a str,
    pub city: &'a str,
}

/// Charges `lines` by their templates for `address`: `None` when no line
/// has a template (every line by the flat rule, as before templates).
/// A line whose template does not deliver to the address, or whose
/// address is not a mainland province the table knows, is refused with
/// `UNDELIVERABLE` naming the SKU and the region. Without an address (a
/// preview before one is saved) the default rules apply and nothing is
/// refused.
pub fn plan(
    templates: &Templates,
    lines: &[LineToShip<'_>],
    address: Option<Address<'_>>,
) -> AppResult<Option<Plan>> {
    if lines.iter().all(|l| l.template_id.is_none()) {
        return Ok(None);
    }
    let dest = match address {
        None => None,
        Some(a) => Some(destination(a.province, a.city).ok_or_else(|| {
            let l = lines.iter().find(|l| l.template_id.is_some());
            AppError::Undeliverable {
                sku_id: l.map_or(0, |l| l.sku_id),
                region: a.province.to_string(),
                message: format!(
                    "{} cannot be shipped to {:?}: not a mainland province we deliver to",
                    l.map_or("", |l| l.label),
                    a.province
                ),
            }
        })?),
    };
    let mut order: Vec<i64> = Vec::new();
    let mut plan_lines = Vec::with_capacity(lines.len());
    for l in lines {
        let Some(tid) = l.template_id else {
            plan_lines.push(None);
            continue;
        };
        let Some(t) = templates.get(&tid) else {
            // A template deleted under the product: no row is ever deleted,
            // so this is a broken reference; charge the flat rule.
            plan_lines.push(None);
            continue;
        };
        if let Some(d) = &dest
            && !t.delivers_to(d)
        {
            let region = refused_region(t, d);
            return Err(AppError::Undeliverable {
                sku_id: l.sku_id,
                message: format!("{} is not delivered to {}", l.label, region.name),
                region: region.name.to_string(),
            });
        }
        let index = match order.iter().position(|&o| o == tid) {
            Some(i) => i,
            None => {
                order.push(tid);
                order.len() - 1
            }
        };
        plan_lines.push(Some(PlanLine {
            template: index,
            unit_grams: l.unit_grams,
        }));
    }
    Ok(Some(Plan {
        destination: dest,
        templates: order.iter().map(|id| templates[id].clone()).collect(),
        lines: plan_lines,
    }))
}

/// The listed region that keeps `t` from `d` (the city when listed, else the province).
fn refused_region(t: &Template, d: &Destination) -> Region {
    let nd = &t.rules.no_delivery;
    d.city
        .as_ref()
        .filter(|c| nd.contains(c))
        .or(Some(&d.province))
        .and_then(|c| regions::by_code(c))
        .unwrap_or(Region {
            code: "",
            name: "?",
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(first: i32, fee: i64) -> RuleDraft {
        RuleDraft {
            first,
            first_fee_fen: fee,
            additional: 1,
            additional_fee_fen: 100,
        }
    }

    fn draft() -> TemplateDraft {
        TemplateDraft {
            name: "remote".into(),
            charge_by: ChargeBy::Piece,
            default_rule: rule(1, 600),
            region_rules: vec![(vec!["新疆".into(), "540000".into()], rule(1, 2000))],
            free_rules: vec![FreeDraft {
                regions: vec!["江苏省".into()],
                min_goods_fen: Some(5000),
                min_quantity: None,
            }],
            no_delivery: vec![],
        }
    }

    fn field_of(e: AppError) -> String {
        match e {
            AppError::BadUserInput { field, .. } => field,
            other => panic!("not BAD_USER_INPUT: {other:?}"),
        }
    }

    #[test]
    fn names_and_codes_are_stored_as_codes() {
        let (_, rules) = check_draft(&draft()).unwrap();
        assert_eq!(rules.region_rules[0].regions, vec!["650000", "540000"]);
        assert_eq!(rules.free_rules[0].regions, vec!["320000"]);
    }

    #[test]
    fn bad_input_names_the_field() {
        let mut d = draft();
        d.region_rules.push((vec!["西藏自治区".into()], rule(1, 1)));
        assert_eq!(
            field_of(check_draft(&d).unwrap_err()),
            "regionRules[1].regions[0]"
        );
        let mut d = draft();
        d.region_rules.push((vec!["乌鲁木齐市".into()], rule(1, 1)));
        assert_eq!(
            field_of(check_draft(&d).unwrap_err()),
            "regionRules[1].regions[0]",
            "a city inside a province listed elsewhere"
        );
        let mut d = draft();
        d.no_delivery = vec!["新疆".into()];
        assert_eq!(
            field_of(check_draft(&d).unwrap_err()),
            "noDeliveryRegions[0]"
        );
        let mut d = draft();
        d.default_rule.first_fee_fen = -1;
        assert_eq!(
            field_of(check_draft(&d).unwrap_err()),
            "defaultRule.firstFeeFen"
        );
        let mut d = draft();
        d.region_rules[0].1.additional_fee_fen = -5;
        assert_eq!(
            field_of(check_draft(&d).unwrap_err()),
            "regionRules[0].rule.additionalFeeFen"
        );
        let mut d = draft();
        d.free_rules[0].regions = vec!["火星".into()];
        assert_eq!(
            field_of(check_draft(&d).unwrap_err()),
            "freeRules[0].regions[0]"
        );
        let mut d = draft();
        d.free_rules[0].min_goods_fen = None;
        assert_eq!(field_of(check_draft(&d).unwrap_err()), "freeRules[0]");
        let mut d = draft();
        d.default_rule.first = 0;
        assert_eq!(field_of(check_draft(&d).unwrap_err()), "defaultRule.first");
    }

    #[test]
    fn the_plan_refuses_a_line_outside_its_template_and_names_it() {
        let mut d = draft();
        d.no_delivery = vec!["西藏".into()];
        d.region_rules = vec![];
        let (name, rules) = check_draft(&d).unwrap();
        let t = Template {
            id: 9,
            name,
            charge_by: ChargeBy::Piece,
            rules,
        };
        let templates: Templates = [(9, t)].into_iter().collect();
        let lines = [
            LineToShip {
                sku_id: 1,
                label: "flat",
                template_id: None,
                unit_grams: 0,
            },
            LineToShip {
                sku_id: 2,
                label: "茶叶 (规格: 250g)",
                template_id: Some(9),
                unit_grams: 250,
            },
        ];
        let tibet = Address {
            province: "西藏自治区",
            city: "拉萨市",
        };
        match plan(&templates, &lines, Some(tibet)).unwrap_err() {
            AppError::Undeliverable {
                sku_id,
                region,
                message,
            } => {
                assert_eq!((sku_id, region.as_str()), (2, "西藏自治区"));
                assert!(message.contains("茶叶"), "{message}");
            }
            other => panic!("{other:?}"),
        }
        let jiangsu = Address {
            province: "江苏",
            city: "南京",
        };
        let p = plan(&templates, &lines, Some(jiangsu)).unwrap().unwrap();
        assert_eq!(p.lines[0], None);
        assert_eq!(p.lines[1].map(|l| l.unit_grams), Some(250));
        assert!(
            plan(&templates, &lines[..1], Some(jiangsu))
                .unwrap()
                .is_none()
        );
        let unknown = Address {
            province: "p",
            city: "c",
        };
        assert!(matches!(
            plan(&templates, &lines, Some(unknown)),
            Err(AppError::Undeliverable { sku_id: 2, .. })
        ));
    }
}
