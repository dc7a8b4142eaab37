//! The shipping fee of an order, pure: lines are grouped by template (lines
//! without one form the flat-rule group), each group is charged by its
//! template for the destination, and the groups are summed. The store-wide
//! free-shipping threshold and members' free shipping are applied on top of
//! this sum by `pricing::price`.
//!
//! Per template group:
//! 1. a free rule whose regions hold the destination (or that names none)
//!    and whose conditions the group meets → 0;
//! 2. otherwise the region rule listing the destination's city, else the
//!    one listing its province, else the default rule:
//!    `firstFee + ceil(max(0, units − first) / additional) × additionalFee`,
//!    units being pieces or grams (`chargeBy`).
//!
//! The flat-rule group pays the store's flat fee once, as orders did before
//! templates.
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// What a template counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ChargeBy {
    /// Pieces (件).
    Piece,
    /// Grams (重量).
    Weight,
}

impl ChargeBy {
    pub fn as_str(self) -> &'static str {
        match self {
            ChargeBy::Piece => "PIECE",
            ChargeBy::Weight => "WEIGHT",
        }
    }

    pub fn parse(s: &str) -> Self {
        if s == "WEIGHT" {
            ChargeBy::Weight
        } else {
            ChargeBy::Piece
        }
    }
}

/// First `first` units for `first_fee_fen`, each further `additional` (or
/// part of it) for `additional_fee_fen`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rule {
    pub first: i64,
    pub first_fee_fen: i64,
    pub additional: i64,
    pub additional_fee_fen: i64,
}

impl Rule {
    /// The fee for `units` pieces or grams of a group with something in it
    /// (a group weighing nothing still pays the first fee).
    pub fn fee(&self, units: i64) -> i64 {
        let beyond = (units - self.first).max(0);
        let steps = if self.additional > 0 {
            (beyond + self.additional - 1) / self.additional
        } else {
            0
        };
        self.first_fee_fen + steps * self.additional_fee_fen
    }
}

/// A rule for some regions (GB/T 2260 codes of provinces or cities).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegionRule {
    pub regions: Vec<String>,
    pub rule: Rule,
}

/// Free shipping for a group reaching these figures, in these regions
/// (none = everywhere). Both conditions must hold when both are given.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FreeRule {
    pub regions: Vec<String>,
    pub min_goods_fen: Option<i64>,
    pub min_quantity: Option<i64>,
}

/// A template's rules, as stored (JSON) and as priced.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rules {
    pub default_rule: Rule,
    #[serde(default)]
    pub region_rules: Vec<RegionRule>,
    #[serde(default)]
    pub free_rules: Vec<FreeRule>,
    #[serde(default)]
    pub no_delivery: Vec<String>,
}

/// A template as priced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Template {
    pub id: i64,
    pub name: String,
    pub charge_by: ChargeBy,
    pub rules: Rules,
}

/// Where an order goes, as codes: its province and, when known, its city.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Destination {
    pub province: String,
    pub city: Option<String>,
}

impl Destination {
    /// The listed region (province or city) that holds this destination.
    fn within(&self, regions: &[String]) -> bool {
        regions
            .iter()
            .any(|r| *r == self.province || Some(r) == self.city.as_ref())
    }

    fn names_city(&self, regions: &[String]) -> bool {
        self.city.as_ref().is_some_and(|c| regions.contains(c))
    }
}

/// What a group holds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GroupTotals {
    pub quantity: i64,
    pub grams: i64,
    /// The group's goods at the prices charged per line (member prices
    /// applied), before order-wide promotions and coupons.
    pub goods_fen: i64,
}

impl Template {
    /// Whether the template delivers to `dest`.
    pub fn delivers_to(&self, dest: &Destination) -> bool {
        !dest.within(&self.rules.no_delivery)
    }

    /// The rule for `dest`: a region rule naming its city, else one naming
    /// its province, else the default rule. No destination (a preview
    /// without an address) is charged by the default rule.
    pub fn rule_for(&self, dest: Option<&Destination>) -> &Rule {
        let Some(d) = dest else {
            return &self.rules.default_rule;
        };
        let rr = &self.rules.region_rules;
        rr.iter()
            .find(|r| d.names_city(&r.regions))
            .or_else(|| rr.iter().find(|r| r.regions.contains(&d.province)))
            .map_or(&self.rules.default_rule, |r| &r.rule)
    }

    /// Whether a free rule covers this group at `dest`.
    pub fn is_free(&self, dest: Option<&Destination>, g: GroupTotals) -> bool {
        self.rules.free_rules.iter().any(|f| {
            let here = f.regions.is_empty() || dest.is_some_and(|d| d.within(&f.regions));
            here && f.min_goods_fen.is_none_or(|m| g.goods_fen >= m)
                && f.min_quantity.is_none_or(|m| g.quantity >= m)
        })
    }

    /// The group's fee at `dest`.
    pub fn fee(&self, dest: Option<&Destination>, g: GroupTotals) -> i64 {
        if self.is_free(dest, g) {
            return 0;
        }
        let units = match self.charge_by {
            ChargeBy::Piece => g.quantity,
            ChargeBy::Weight => g.grams,
        };
        self.rule_for(dest).fee(units)
    }
}

/// How an order's lines are charged: the templates in play and, per line
/// (in the order's line order), the template it belongs to with the
/// weight of one unit, or `None` for the flat rule.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Plan {
    pub destination: Option<Destination>,
    pub templates: Vec<Template>,
    pub lines: Vec<Option<PlanLine>>,
}

/// A line charged by a template.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PlanLine {
    /// Index into [`Plan::templates`].
    pub template: usize,
    pub unit_grams: i64,
}

impl Plan {
    /// The order's shipping before the store-wide threshold and members'
    /// free shipping: each template group's fee, plus the flat fee once
    /// when a line has no template. `lines` is (quantity, line total) per
    /// line, in the order of [`Plan::lines`].
    pub fn fee(&self, flat_fee_fen: i64, lines: &[(i64, i64)]) -> i64 {
        let mut flat = false;
        let mut groups: BTreeMap<usize, GroupTotals> = BTreeMap::new();
        for (i, &(quantity, total)) in lines.iter().enumerate() {
            match self.lines.get(i).copied().flatten() {
                Some(pl) if pl.template < self.templates.len() => {
                    let g = groups.entry(pl.template).or_default();
                    g.quantity += quantity;
                    g.grams += pl.unit_grams * quantity;
                    g.goods_fen += total;
                }
                _ => flat = true,
            }
        }
        let templated: i64 = groups
            .iter()
            .map(|(&t, &g)| self.templates[t].fee(self.destination.as_ref(), g))
            .sum();
        templated + if flat { flat_fee_fen } else { 0 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const JIANGSU: &str = "320000";
    const NANJING: &str = "320100";
    const SUZHOU: &str = "320500";
    const XINJIANG: &str = "650000";
    const TIBET: &str = "540000";

    fn rule(first: i64, first_fee: i64, additional: i64, additional_fee: i64) -> Rule {
        Rule {
            first,
            first_fee_fen: first_fee,
            additional,
            additional_fee_fen: additional_fee,
        }
    }

    fn template(id: i64, charge_by: ChargeBy, default_rule: Rule) -> Template {
        Template {
            id,
            name: format!("t{id}"),
            charge_by,
            rules: Rules {
                default_rule,
                region_rules: vec![],
                free_rules: vec![],
                no_delivery: vec![],
            },
        }
    }

    fn to(province: &str, city: Option<&str>) -> Destination {
        Destination {
            province: province.into(),
            city: city.map(Into::into),
        }
    }

    fn group(quantity: i64, grams: i64, goods_fen: i64) -> GroupTotals {
        GroupTotals {
            quantity,
            grams,
            goods_fen,
        }
    }

    #[test]
    fn by_piece_first_then_each_further_step() {
        // First 1 piece 600, each further 2 pieces (or part) 300.
        let t = template(1, ChargeBy::Piece, rule(1, 600, 2, 300));
        let d = to(JIANGSU, Some(NANJING));
        assert_eq!(t.fee(Some(&d), group(1, 0, 1000)), 600);
        assert_eq!(
            t.fee(Some(&d), group(2, 0, 1000)),
            900,
            "1 beyond: one step"
        );
        assert_eq!(
            t.fee(Some(&d), group(3, 0, 1000)),
            900,
            "2 beyond: one step"
        );
        assert_eq!(
            t.fee(Some(&d), group(4, 0, 1000)),
            1200,
            "3 beyond: two steps"
        );
    }

    #[test]
    fn by_weight_rounds_up_to_the_next_unit() {
        // First 1000 g 800, each further 500 g (or part) 200.
        let t = template(1, ChargeBy::Weight, rule(1000, 800, 500, 200));
        let d = to(JIANGSU, None);
        assert_eq!(
            t.fee(Some(&d), group(3, 1000, 0)),
            800,
            "exactly the first unit"
        );
        assert_eq!(
            t.fee(Some(&d), group(3, 1001, 0)),
            1000,
            "1 g over: a whole step"
        );
        assert_eq!(t.fee(Some(&d), group(3, 1500, 0)), 1000);
        assert_eq!(t.fee(Some(&d), group(3, 1501, 0)), 1200);
        assert_eq!(
            t.fee(Some(&d), group(1, 0, 0)),
            800,
            "weightless goods pay the first fee"
        );
        // 2 × 1.2 kg = 2400 g: 800 + ceil(1400 / 500) = 3 steps × 200 = 1400.
        assert_eq!(t.fee(Some(&d), group(2, 2400, 0)), 1400);
    }

    #[test]
    fn a_region_rule_overrides_the_default_and_a_city_beats_its_province() {
        let mut t = template(1, ChargeBy::Piece, rule(1, 600, 1, 100));
        t.rules.region_rules = vec![
            RegionRule {
                regions: vec![XINJIANG.into(), TIBET.into()],
                rule: rule(1, 2000, 1, 1000),
            },
            RegionRule {
                regions: vec![SUZHOU.into()],
                rule: rule(1, 400, 1, 50),
            },
        ];
        let g = group(3, 0, 5000);
        assert_eq!(
            t.fee(Some(&to(XINJIANG, Some("650100"))), g),
            2000 + 2 * 1000
        );
        assert_eq!(t.fee(Some(&to(JIANGSU, Some(SUZHOU))), g), 400 + 2 * 50);
        assert_eq!(t.fee(Some(&to(JIANGSU, Some(NANJING))), g), 600 + 2 * 100);
        assert_eq!(t.fee(None, g), 800, "no address: the default rule");
    }

    #[test]
    fn a_free_rule_applies_in_its_regions_from_its_figures() {
        let mut t = template(1, ChargeBy::Piece, rule(1, 600, 1, 100));
        t.rules.free_rules = vec![
            FreeRule {
                regions: vec![JIANGSU.into()],
                min_goods_fen: Some(5000),
                min_quantity: None,
            },
            FreeRule {
                regions: vec![],
                min_goods_fen: Some(20_000),
                min_quantity: Some(3),
            },
        ];
        let nanjing = to(JIANGSU, Some(NANJING));
        let xinjiang = to(XINJIANG, None);
        assert_eq!(
            t.fee(Some(&nanjing), group(1, 0, 5000)),
            0,
            "Jiangsu from 50 yuan"
        );
        assert_eq!(t.fee(Some(&nanjing), group(1, 0, 4999)), 600);
        assert_eq!(
            t.fee(Some(&xinjiang), group(1, 0, 5000)),
            600,
            "not in Xinjiang"
        );
        assert_eq!(
            t.fee(Some(&xinjiang), group(3, 0, 20_000)),
            0,
            "everywhere, both met"
        );
        assert_eq!(
            t.fee(Some(&xinjiang), group(2, 0, 20_000)),
            700,
            "one of two is not enough"
        );
        assert_eq!(
            t.fee(None, group(1, 0, 9000)),
            600,
            "a regional rule needs an address"
        );
    }

    #[test]
    fn no_delivery_regions_by_province_or_city() {
        let mut t = template(1, ChargeBy::Piece, rule(1, 600, 1, 100));
        t.rules.no_delivery = vec![XINJIANG.into(), SUZHOU.into()];
        assert!(!t.delivers_to(&to(XINJIANG, Some("650100"))));
        assert!(!t.delivers_to(&to(JIANGSU, Some(SUZHOU))));
        assert!(t.delivers_to(&to(JIANGSU, Some(NANJING))));
    }

    #[test]
    fn several_templates_in_one_order_are_summed_with_the_flat_group_once() {
        let mut heavy = template(1, ChargeBy::Weight, rule(1000, 1000, 1000, 500));
        heavy.rules.region_rules = vec![RegionRule {
            regions: vec![XINJIANG.into()],
            rule: rule(1000, 3000, 1000, 1500),
        }];
        let light = template(2, ChargeBy::Piece, rule(2, 500, 1, 100));
        let plan = |dest| Plan {
            destination: Some(dest),
            templates: vec![heavy.clone(), light.clone()],
            lines: vec![
                Some(PlanLine {
                    template: 0,
                    unit_grams: 2500,
                }),
                Some(PlanLine {
                    template: 1,
                    unit_grams: 0,
                }),
                None,
                Some(PlanLine {
                    template: 1,
                    unit_grams: 0,
                }),
                None,
            ],
        };
        let lines = [(1, 3000), (2, 1000), (1, 500), (2, 1000), (3, 900)];
        // heavy: 2500 g → 1000 + ceil(1500/1000)=2 × 500 = 2000;
        // light: 4 pieces → 500 + 2 × 100 = 700; flat lines: 800 once.
        assert_eq!(
            plan(to(JIANGSU, Some(NANJING))).fee(800, &lines),
            2000 + 700 + 800
        );
        // Xinjiang: heavy 3000 + 2 × 1500 = 6000; light 700; flat 800.
        assert_eq!(plan(to(XINJIANG, None)).fee(800, &lines), 6000 + 700 + 800);
        // Templated lines only: no flat fee.
        assert_eq!(plan(to(JIANGSU, None)).fee(800, &lines[..2]), 2000 + 500);
    }
}
