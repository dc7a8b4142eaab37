//! The price of an order, as one pure function: member price → promotion →
//! coupon → shipping → stored balance. `previewOrder` and `placeOrder` both
//! call [`price`], so they agree to the fen. Steps whose feature is not
//! switched on for the customer contribute zero.
use crate::{modules::shipping::fee::Plan as ShippingPlan, money::percent_half_up};

/// One line as priced: list price, optional member price, quantity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LineInput {
    pub list_price_fen: i64,
    pub member_price_fen: Option<i64>,
    pub quantity: i64,
}

/// An active membership's terms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Membership {
    /// 90 = pay 90%.
    pub discount_percent: i64,
    pub free_shipping: bool,
}

/// A full-reduction promotion (满减): `off_fen` off when goods reach `threshold_fen`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Promotion {
    pub threshold_fen: i64,
    pub off_fen: i64,
}

/// A coupon: `off_fen` off when goods reach `threshold_fen`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Coupon {
    pub threshold_fen: i64,
    pub off_fen: i64,
}

/// Store shipping settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shipping {
    pub flat_fee_fen: i64,
    /// Goods after discounts at or above this ship free.
    pub free_from_fen: i64,
}

#[derive(Clone, Debug, Default)]
pub struct PricingInput {
    pub lines: Vec<LineInput>,
    pub membership: Option<Membership>,
    /// The promotions running now; the one that takes most off applies.
    pub promotions: Vec<Promotion>,
    pub coupon: Option<Coupon>,
    /// `None` = nothing to ship (membership and top-up orders).
    pub shipping: Option<Shipping>,
    /// Lines charged by shipping templates (运费模板); `None`: every line
    /// by the store's flat fee, as before templates.
    pub shipping_plan: Option<ShippingPlan>,
    /// Balance the customer chose to use (0 when not using it).
    pub balance_available_fen: i64,
}

/// The breakdown shown in the preview and stored on the order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Breakdown {
    /// Per line: the unit price charged (member price applied) and the line total.
    pub lines: Vec<(i64, i64)>,
    pub items_fen: i64,
    pub member_discount_fen: i64,
    pub promotion_discount_fen: i64,
    pub coupon_discount_fen: i64,
    /// The goods reached the coupon's threshold (it applied, even if the
    /// goods were already down to 0).
    pub coupon_reached: bool,
    pub shipping_fen: i64,
    /// Goods after discounts plus shipping.
    pub total_fen: i64,
    pub balance_fen: i64,
    /// What WeChat Pay collects.
    pub payable_fen: i64,
}

/// What the best of these promotions takes off `goods`: promotions do not
/// stack (a store running 满100减10 and 满200减30 means one or the other).
pub fn best_promotion_off(promotions: &[Promotion], goods: i64) -> i64 {
    promotions
        .iter()
        .filter(|p| goods >= p.threshold_fen)
        .map(|p| p.off_fen.min(goods))
        .max()
        .unwrap_or(0)
}

pub fn price(input: &PricingInput) -> Breakdown {
    let mut b = Breakdown::default();
    for line in &input.lines {
        let unit = match input.membership {
            Some(m) => line
                .member_price_fen
                .unwrap_or_else(|| percent_half_up(line.list_price_fen, m.discount_percent))
                .min(line.list_price_fen),
            None => line.list_price_fen,
        };
        b.items_fen += line.list_price_fen * line.quantity;
        b.member_discount_fen += (line.list_price_fen - unit) * line.quantity;
        b.lines.push((unit, unit * line.quantity));
    }
    let mut goods = b.items_fen - b.member_discount_fen;
    b.promotion_discount_fen = best_promotion_off(&input.promotions, goods);
    goods -= b.promotion_discount_fen;
    if let Some(c) = input.coupon
        && goods >= c.threshold_fen
    {
        b.coupon_reached = true;
        b.coupon_discount_fen = c.off_fen.min(goods);
        goods -= b.coupon_discount_fen;
    }
    // Members who ship free, then the store-wide threshold, win over any
    // template: both were promises to the customer before templates.
    b.shipping_fen = match input.shipping {
        None => 0,
        Some(_) if input.membership.is_some_and(|m| m.free_shipping) => 0,
        Some(s) if goods >= s.free_from_fen => 0,
        Some(s) => match &input.shipping_plan {
            None => s.flat_fee_fen,
            Some(plan) => {
                let lines: Vec<(i64, i64)> = input
                    .lines
                    .iter()
                    .zip(&b.lines)
                    .map(|(l, &(_, total))| (l.quantity, total))
                    .collect();
                plan.fee(s.flat_fee_fen, &lines)
            }
        },
    };
    b.total_fen = goods + b.shipping_fen;
    b.balance_fen = input.balance_available_fen.clamp(0, b.total_fen);
    b.payable_fen = b.total_fen - b.balance_fen;
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHIP: Shipping = Shipping {
        flat_fee_fen: 800,
        free_from_fen: 9900,
    };

    fn line(price: i64, member: Option<i64>, q: i64) -> LineInput {
        LineInput {
            list_price_fen: price,
            member_price_fen: member,
            quantity: q,
        }
    }

    #[test]
    fn plain_order_pays_shipping_below_the_threshold() {
        let b = price(&PricingInput {
            lines: vec![line(3990, None, 2)],
            shipping: Some(SHIP),
            ..Default::default()
        });
        assert_eq!(b.items_fen, 7980);
        assert_eq!(b.shipping_fen, 800);
        assert_eq!(b.total_fen, 8780);
        assert_eq!(b.payable_fen, 8780);
        assert_eq!(b.lines, vec![(3990, 7980)]);
    }

    #[test]
    fn free_shipping_from_the_threshold_after_discounts() {
        let b = price(&PricingInput {
            lines: vec![line(9900, None, 1)],
            shipping: Some(SHIP),
            ..Default::default()
        });
        assert_eq!(b.shipping_fen, 0);
        let promo = Some(Promotion {
            threshold_fen: 9900,
            off_fen: 1000,
        });
        let b = price(&PricingInput {
            lines: vec![line(9900, None, 1)],
            promotions: promo.into_iter().collect(),
            shipping: Some(SHIP),
            ..Default::default()
        });
        assert_eq!(b.promotion_discount_fen, 1000);
        assert_eq!(
            b.shipping_fen, 800,
            "8900 of goods after the promotion is below 9900"
        );
        assert_eq!(b.total_fen, 9700);
    }

    #[test]
    fn members_pay_member_price_or_the_plan_discount_half_up() {
        let m = Some(Membership {
            discount_percent: 90,
            free_shipping: false,
        });
        let b = price(&PricingInput {
            lines: vec![line(1995, None, 1), line(5000, Some(4000), 2)],
            membership: m,
            shipping: Some(SHIP),
            ..Default::default()
        });
        assert_eq!(b.lines, vec![(1796, 1796), (4000, 8000)]);
        assert_eq!(b.member_discount_fen, 199 + 2000);
        assert_eq!(b.items_fen - b.member_discount_fen, 9796);
        assert_eq!(b.shipping_fen, 800);
        let free = Some(Membership {
            discount_percent: 100,
            free_shipping: true,
        });
        let b = price(&PricingInput {
            lines: vec![line(100, None, 1)],
            membership: free,
            shipping: Some(SHIP),
            ..Default::default()
        });
        assert_eq!(b.shipping_fen, 0);
        assert_eq!(b.total_fen, 100);
    }

    #[test]
    fn coupon_after_promotion_never_below_zero() {
        let b = price(&PricingInput {
            lines: vec![line(1000, None, 1)],
            promotions: vec![Promotion {
                threshold_fen: 0,
                off_fen: 600,
            }],
            coupon: Some(Coupon {
                threshold_fen: 0,
                off_fen: 600,
            }),
            shipping: None,
            ..Default::default()
        });
        assert_eq!(b.promotion_discount_fen, 600);
        assert_eq!(b.coupon_discount_fen, 400);
        assert_eq!(b.total_fen, 0);
    }

    #[test]
    fn balance_covers_what_it_can() {
        let input = |bal| PricingInput {
            lines: vec![line(5000, None, 1)],
            shipping: Some(SHIP),
            balance_available_fen: bal,
            ..Default::default()
        };
        let b = price(&input(2000));
        assert_eq!((b.balance_fen, b.payable_fen), (2000, 3800));
        let b = price(&input(100_000));
        assert_eq!((b.balance_fen, b.payable_fen), (5800, 0));
    }

    #[test]
    fn the_best_promotion_applies_and_they_do_not_stack() {
        let tiers = vec![
            Promotion {
                threshold_fen: 10_000,
                off_fen: 1_000,
            },
            Promotion {
                threshold_fen: 20_000,
                off_fen: 3_000,
            },
        ];
        let goods = |fen| {
            price(&PricingInput {
                lines: vec![line(fen, None, 1)],
                promotions: tiers.clone(),
                ..Default::default()
            })
            .promotion_discount_fen
        };
        assert_eq!(goods(9_999), 0);
        assert_eq!(goods(10_000), 1_000);
        assert_eq!(goods(19_999), 1_000);
        assert_eq!(goods(20_000), 3_000, "the better tier, not both");
        assert_eq!(goods(50_000), 3_000);
    }

    #[test]
    fn a_coupon_counts_goods_after_the_promotion() {
        let b = price(&PricingInput {
            lines: vec![line(10_000, None, 1)],
            promotions: vec![Promotion {
                threshold_fen: 10_000,
                off_fen: 1_000,
            }],
            coupon: Some(Coupon {
                threshold_fen: 10_000,
                off_fen: 500,
            }),
            ..Default::default()
        });
        assert_eq!(b.promotion_discount_fen, 1_000);
        assert_eq!(
            b.coupon_discount_fen, 0,
            "9000 left is below the coupon's 10000"
        );
        assert!(!b.coupon_reached);
    }

    #[test]
    fn a_coupon_reached_by_goods_already_down_to_zero_still_applies() {
        let b = price(&PricingInput {
            lines: vec![line(1000, None, 1)],
            promotions: vec![Promotion {
                threshold_fen: 1000,
                off_fen: 1000,
            }],
            coupon: Some(Coupon {
                threshold_fen: 0,
                off_fen: 100,
            }),
            ..Default::default()
        });
        assert!(b.coupon_reached);
        assert_eq!((b.coupon_discount_fen, b.total_fen), (0, 0));
    }

    /// A plan of two templates and a flat line, to a remote province.
    fn remote_plan() -> ShippingPlan {
        use crate::modules::shipping::fee::{
            ChargeBy, Destination, PlanLine, RegionRule, Rule, Rules, Template,
        };
        let rule = |first, first_fee_fen, additional, additional_fee_fen| Rule {
            first,
            first_fee_fen,
            additional,
            additional_fee_fen,
        };
        ShippingPlan {
            destination: Some(Destination {
                province: "650000".into(),
                city: Some("650100".into()),
            }),
            templates: vec![
                Template {
                    id: 1,
                    name: "by weight".into(),
                    charge_by: ChargeBy::Weight,
                    rules: Rules {
                        default_rule: rule(1000, 1000, 500, 300),
                        region_rules: vec![RegionRule {
                            regions: vec!["650000".into()],
                            rule: rule(1000, 2500, 500, 800),
                        }],
                        free_rules: vec![],
                        no_delivery: vec![],
                    },
                },
                Template {
                    id: 2,
                    name: "by piece".into(),
                    charge_by: ChargeBy::Piece,
                    rules: Rules {
                        default_rule: rule(1, 500, 1, 200),
                        region_rules: vec![],
                        free_rules: vec![],
                        no_delivery: vec![],
                    },
                },
            ],
            lines: vec![
                Some(PlanLine {
                    template: 0,
                    unit_grams: 1200,
                }),
                Some(PlanLine {
                    template: 1,
                    unit_grams: 0,
                }),
                None,
            ],
        }
    }

    #[test]
    fn templates_are_summed_and_the_store_rules_apply_on_top() {
        let input = |membership, free_from_fen| PricingInput {
            lines: vec![line(3000, None, 2), line(1000, None, 3), line(500, None, 1)],
            membership,
            shipping: Some(Shipping {
                flat_fee_fen: 800,
                free_from_fen,
            }),
            shipping_plan: Some(remote_plan()),
            ..Default::default()
        };
        // Goods 6000 + 3000 + 500 = 9500, below 9900.
        // Weight group: 2 × 1200 = 2400 g to Xinjiang: 2500 + ceil(1400/500)=3 × 800 = 4900.
        // Piece group: 3 pieces: 500 + 2 × 200 = 900. Flat line: 800.
        let b = price(&input(None, 9900));
        assert_eq!(b.shipping_fen, 4900 + 900 + 800);
        assert_eq!(b.total_fen, 9500 + 6600);
        // The store-wide threshold reached: nothing, whatever the templates say.
        let b = price(&input(None, 9500));
        assert_eq!(b.shipping_fen, 0);
        // A member whose plan ships free pays none; one whose plan does not
        // pays the templates on member prices (95% here: 9025 of goods).
        let free = Membership {
            discount_percent: 95,
            free_shipping: true,
        };
        assert_eq!(price(&input(Some(free), 9900)).shipping_fen, 0);
        let paying = Membership {
            free_shipping: false,
            ..free
        };
        let b = price(&input(Some(paying), 9900));
        assert_eq!(b.items_fen - b.member_discount_fen, 9025);
        assert_eq!(b.shipping_fen, 6600);
    }

    /// Property: whatever the inputs, the parts add up and nothing is negative.
    #[test]
    fn the_breakdown_always_adds_up() {
        let mut seed: u64 = 42;
        let mut next = |m: i64| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((seed >> 33) as i64) % m
        };
        for _ in 0..5000 {
            let lines = (0..1 + next(4))
                .map(|_| {
                    let p = next(20_000);
                    line(p, (next(2) == 0).then(|| next(p + 1)), 1 + next(99))
                })
                .collect();
            let input = PricingInput {
                lines,
                membership: (next(2) == 0).then(|| Membership {
                    discount_percent: 50 + next(51),
                    free_shipping: next(2) == 0,
                }),
                promotions: (0..next(3))
                    .map(|_| Promotion {
                        threshold_fen: next(50_000),
                        off_fen: next(5_000),
                    })
                    .collect(),
                coupon: (next(2) == 0).then(|| Coupon {
                    threshold_fen: next(50_000),
                    off_fen: next(5_000),
                }),
                shipping: (next(3) > 0).then_some(SHIP),
                shipping_plan: (next(2) == 0).then(remote_plan),
                balance_available_fen: next(100_000),
            };
            let b = price(&input);
            let goods = b.items_fen
                - b.member_discount_fen
                - b.promotion_discount_fen
                - b.coupon_discount_fen;
            assert!(goods >= 0 && b.member_discount_fen >= 0);
            assert_eq!(b.total_fen, goods + b.shipping_fen);
            assert_eq!(b.total_fen, b.balance_fen + b.payable_fen);
            assert!(b.balance_fen >= 0 && b.payable_fen >= 0);
            assert_eq!(
                b.lines.iter().map(|l| l.1).sum::<i64>(),
                b.items_fen - b.member_discount_fen
            );
        }
    }
}
