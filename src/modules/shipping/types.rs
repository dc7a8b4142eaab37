//! GraphQL shapes of shipping templates.
use async_graphql::{Enum, ID, InputObject, Object, SimpleObject};
use entity::shipping_template;

use super::{
    fee::{self, ChargeBy as FeeChargeBy},
    regions,
    service::{FreeDraft, RuleDraft, TemplateDraft},
};
use crate::api::{ids::to_id, scalars::Money, scalars::Timestamp};

/// What a template counts.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChargeBy {
    /// By the piece (按件).
    Piece,
    /// By weight in grams (按重量); a SKU's `weightGrams`.
    Weight,
}

impl From<ChargeBy> for FeeChargeBy {
    fn from(c: ChargeBy) -> Self {
        match c {
            ChargeBy::Piece => FeeChargeBy::Piece,
            ChargeBy::Weight => FeeChargeBy::Weight,
        }
    }
}

impl From<FeeChargeBy> for ChargeBy {
    fn from(c: FeeChargeBy) -> Self {
        match c {
            FeeChargeBy::Piece => ChargeBy::Piece,
            FeeChargeBy::Weight => ChargeBy::Weight,
        }
    }
}

/// A province or prefecture-level city of the mainland (GB/T 2260).
#[derive(SimpleObject, Clone)]
pub struct Region {
    /// The 6-digit code, e.g. 320000 (江苏省) or 320100 (南京市).
    pub code: String,
    /// The full name.
    pub name: String,
    /// The code of its province (its own code for a province).
    pub province_code: String,
}

impl From<regions::Region> for Region {
    fn from(r: regions::Region) -> Self {
        Region {
            code: r.code.into(),
            name: r.name.into(),
            province_code: r.province_code(),
        }
    }
}

fn regions_of(codes: &[String]) -> Vec<Region> {
    codes
        .iter()
        .filter_map(|c| regions::by_code(c))
        .map(Region::from)
        .collect()
}

/// First `first` pieces or grams for `firstFeeFen`, each further
/// `additional` (or part of it) for `additionalFeeFen`.
#[derive(SimpleObject, Clone)]
pub struct ShippingRule {
    /// Pieces or grams the first fee covers.
    pub first: i32,
    /// Fee for the first `first` units (fen).
    pub first_fee_fen: Money,
    /// Pieces or grams each further step covers (a part counts whole).
    pub additional: i32,
    /// Fee per further step (fen).
    pub additional_fee_fen: Money,
}

impl From<&fee::Rule> for ShippingRule {
    fn from(r: &fee::Rule) -> Self {
        ShippingRule {
            first: i32::try_from(r.first).unwrap_or(i32::MAX),
            first_fee_fen: Money(r.first_fee_fen),
            additional: i32::try_from(r.additional).unwrap_or(i32::MAX),
            additional_fee_fen: Money(r.additional_fee_fen),
        }
    }
}

/// A rule for the listed regions, instead of the default one.
#[derive(SimpleObject, Clone)]
pub struct RegionRule {
    /// Provinces or cities it covers.
    pub regions: Vec<Region>,
    /// How they are charged.
    pub rule: ShippingRule,
}

/// Free shipping for a template's lines in these regions from these figures.
#[derive(SimpleObject, Clone)]
pub struct FreeRule {
    /// Where it holds; empty = everywhere.
    pub regions: Vec<Region>,
    /// From this much of the template's goods (fen, member prices applied).
    pub min_goods_fen: Option<Money>,
    /// From this many pieces of the template's goods.
    pub min_quantity: Option<i32>,
}

/// A shipping fee template (运费模板).
pub struct ShippingTemplate {
    model: shipping_template::Model,
    rules: fee::Rules,
}

impl TryFrom<shipping_template::Model> for ShippingTemplate {
    type Error = crate::error::AppError;
    fn try_from(model: shipping_template::Model) -> Result<Self, Self::Error> {
        let rules = super::service::template_of(&model)?.rules;
        Ok(ShippingTemplate { model, rules })
    }
}

#[Object]
impl ShippingTemplate {
    /// Opaque id.
    async fn id(&self) -> ID {
        to_id(self.model.id)
    }
    /// The admin's name for it.
    async fn name(&self) -> &str {
        &self.model.name
    }
    /// By piece or by weight.
    async fn charge_by(&self) -> ChargeBy {
        FeeChargeBy::parse(&self.model.charge_by).into()
    }
    /// The rule where no region rule applies.
    async fn default_rule(&self) -> ShippingRule {
        (&self.rules.default_rule).into()
    }
    /// Rules for listed provinces or cities (a city's rule before its province's).
    async fn region_rules(&self) -> Vec<RegionRule> {
        self.rules
            .region_rules
            .iter()
            .map(|r| RegionRule {
                regions: regions_of(&r.regions),
                rule: (&r.rule).into(),
            })
            .collect()
    }
    /// Free-shipping rules; any one that holds makes the template's lines free.
    async fn free_rules(&self) -> Vec<FreeRule> {
        self.rules
            .free_rules
            .iter()
            .map(|f| FreeRule {
                regions: regions_of(&f.regions),
                min_goods_fen: f.min_goods_fen.map(Money),
                min_quantity: f.min_quantity.and_then(|q| i32::try_from(q).ok()),
            })
            .collect()
    }
    /// Where this template's products are not delivered (`UNDELIVERABLE`).
    async fn no_delivery_regions(&self) -> Vec<Region> {
        regions_of(&self.rules.no_delivery)
    }
    /// Retired: no longer offered for products.
    async fn retired(&self) -> bool {
        self.model.retired
    }
    /// When it was created.
    async fn created_at(&self) -> Timestamp {
        self.model.created_at.into()
    }
    /// When it last changed.
    async fn updated_at(&self) -> Timestamp {
        self.model.updated_at.into()
    }
}

/// A supplier's default template: its products that name none are charged by it.
#[derive(SimpleObject)]
pub struct SupplierShippingTemplate {
    /// The supplier.
    pub supplier_id: ID,
    /// Its default template; null when it has none (its products without a
    /// template of their own pay the store's flat fee).
    pub shipping_template: Option<ShippingTemplate>,
}

/// A rule: pieces or grams by the template's `chargeBy`.
#[derive(InputObject, Clone, Copy)]
pub struct ShippingRuleInput {
    /// Pieces or grams the first fee covers, 1 to 1,000,000.
    pub first: i32,
    /// Fee for them (fen), not negative.
    pub first_fee_fen: Money,
    /// Pieces or grams per further step, 1 to 1,000,000.
    pub additional: i32,
    /// Fee per further step (fen), not negative.
    pub additional_fee_fen: Money,
}

impl From<ShippingRuleInput> for RuleDraft {
    fn from(r: ShippingRuleInput) -> Self {
        RuleDraft {
            first: r.first,
            first_fee_fen: r.first_fee_fen.0,
            additional: r.additional,
            additional_fee_fen: r.additional_fee_fen.0,
        }
    }
}

/// A rule for some regions.
#[derive(InputObject)]
pub struct RegionRuleInput {
    /// Provinces or cities by name (江苏省, 江苏, 南京市) or GB/T 2260 code
    /// (320000); no region in two rules, no city of a listed province.
    pub regions: Vec<String>,
    /// How they are charged.
    pub rule: ShippingRuleInput,
}

/// Free shipping from a goods amount and/or a quantity.
#[derive(InputObject)]
pub struct FreeRuleInput {
    /// Where it holds, by name or code; none = everywhere.
    pub regions: Option<Vec<String>>,
    /// From this much of the template's goods (fen).
    pub min_goods_fen: Option<Money>,
    /// From this many pieces.
    pub min_quantity: Option<i32>,
}

/// A template, whole (an update replaces every rule).
#[derive(InputObject)]
pub struct ShippingTemplateInput {
    /// 1-64 characters.
    pub name: String,
    /// By piece or by weight.
    pub charge_by: ChargeBy,
    /// Where no region rule applies.
    pub default_rule: ShippingRuleInput,
    /// Rules for listed regions.
    pub region_rules: Option<Vec<RegionRuleInput>>,
    /// Free-shipping rules.
    pub free_rules: Option<Vec<FreeRuleInput>>,
    /// Provinces or cities not delivered to.
    pub no_delivery_regions: Option<Vec<String>>,
}

impl From<ShippingTemplateInput> for TemplateDraft {
    fn from(i: ShippingTemplateInput) -> Self {
        TemplateDraft {
            name: i.name,
            charge_by: i.charge_by.into(),
            default_rule: i.default_rule.into(),
            region_rules: i
                .region_rules
                .unwrap_or_default()
                .into_iter()
                .map(|r| (r.regions, r.rule.into()))
                .collect(),
            free_rules: i
                .free_rules
                .unwrap_or_default()
                .into_iter()
                .map(|f| FreeDraft {
                    regions: f.regions.unwrap_or_default(),
                    min_goods_fen: f.min_goods_fen.map(|m| m.0),
                    min_quantity: f.min_quantity,
                })
                .collect(),
            no_delivery: i.no_delivery_regions.unwrap_or_default(),
        }
    }
}
