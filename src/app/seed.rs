//! The demo store: seeded into an empty database on the first embedded
//! start (`SEED_DEMO`, on by default in development, impossible in
//! production) or on demand with `siyu seed-demo`. Everything goes through
//! the same services as the admin API, so it is validated the same way.
use crate::{
    error::AppResult,
    modules::catalogue::service::{self, CategoryDraft, ProductDraft, SkuDraft, Spec},
    modules::shipping::{
        fee::ChargeBy,
        service::{self as shipping, FreeDraft, RuleDraft, TemplateDraft},
    },
    modules::supplier::service::{self as supplier, LinkDraft, SupplierDraft},
    state::AppState,
};

/// The demo store's shipping templates: fresh fruit by weight with
/// surcharges to the remote provinces, snacks by the piece not sent to
/// Xinjiang and Tibet (their supplier does not deliver there). Returns
/// (fruit, snacks).
async fn seed_shipping(state: &AppState) -> AppResult<(i64, i64)> {
    let rule = |first, first_fee_fen, additional, additional_fee_fen| RuleDraft {
        first,
        first_fee_fen,
        additional,
        additional_fee_fen,
    };
    let fruit = shipping::create_template(
        state,
        TemplateDraft {
            name: "生鲜按重量（偏远加价）".into(),
            charge_by: ChargeBy::Weight,
            default_rule: rule(1000, 800, 1000, 400),
            region_rules: vec![(
                ["新疆", "西藏", "青海", "甘肃", "宁夏", "内蒙古"]
                    .map(String::from)
                    .to_vec(),
                rule(1000, 2000, 1000, 1000),
            )],
            free_rules: vec![FreeDraft {
                regions: ["江苏", "浙江", "上海"].map(String::from).to_vec(),
                min_goods_fen: Some(9900),
                min_quantity: None,
            }],
            no_delivery: vec![],
        },
    )
    .await?;
    let snacks = shipping::create_template(
        state,
        TemplateDraft {
            name: "零食按件（新疆西藏不发）".into(),
            charge_by: ChargeBy::Piece,
            default_rule: rule(1, 600, 1, 100),
            region_rules: vec![],
            free_rules: vec![FreeDraft {
                regions: vec![],
                min_goods_fen: None,
                min_quantity: Some(5),
            }],
            no_delivery: ["新疆", "西藏"].map(String::from).to_vec(),
        },
    )
    .await?;
    Ok((fruit.id, snacks.id))
}

/// Grams of a pack named like "5斤装" (1 斤 = 500 g); `None` otherwise.
fn pack_grams(spec: &str) -> Option<i32> {
    let jin: i32 = spec.strip_suffix("斤装")?.parse().ok()?;
    Some(jin * 500)
}

/// (category, brand, [(title, subtitle, base price in fen, spec name, [spec values])])
type CategorySeed = (
    &'static str,
    &'static str,
    &'static [(
        &'static str,
        &'static str,
        i64,
        &'static str,
        &'static [&'static str],
    )],
);

const STORE: &[CategorySeed] = &[
    (
        "生鲜水果",
        "果园直发",
        &[
            (
                "赣南脐橙",
                "现摘现发 果肉细嫩多汁",
                3990,
                "规格",
                &["3斤装", "5斤装", "10斤装"],
            ),
            (
                "阳光玫瑰青提",
                "无籽脆甜 玫瑰香",
                5990,
                "规格",
                &["1斤装", "2斤装"],
            ),
            ("云南蓝莓", "大果 每盒125g", 2990, "规格", &["4盒", "8盒"]),
            (
                "海南贵妃芒",
                "树上熟 香甜软糯",
                3590,
                "规格",
                &["3斤装", "5斤装"],
            ),
            (
                "烟台红富士苹果",
                "脆甜多汁 果径80mm+",
                4590,
                "规格",
                &["5斤装", "10斤装"],
            ),
            (
                "四川爱媛果冻橙",
                "入口即化",
                4290,
                "规格",
                &["5斤装", "9斤装"],
            ),
            (
                "智利车厘子",
                "JJ级 空运直达",
                12900,
                "规格",
                &["1斤装", "2斤装", "5斤装"],
            ),
            (
                "新疆阿克苏冰糖心苹果",
                "糖心明显",
                4990,
                "规格",
                &["5斤装", "10斤装"],
            ),
        ],
    ),
    (
        "肉禽蛋品",
        "牧场优选",
        &[
            (
                "散养土鸡蛋",
                "林下散养 30枚",
                3990,
                "规格",
                &["30枚", "60枚"],
            ),
            (
                "内蒙古羔羊肉卷",
                "涮火锅必备",
                5990,
                "规格",
                &["500g", "1kg"],
            ),
            ("黑猪五花肉", "肥瘦相间", 4590, "规格", &["500g", "1kg"]),
            ("原切牛排", "谷饲180天", 8990, "规格", &["4片装", "8片装"]),
            ("三黄鸡", "整只 约1.2kg", 4990, "规格", &["1只", "2只"]),
            ("冷冻大虾", "单冻 大号", 6990, "规格", &["500g", "1kg"]),
            ("咸鸭蛋", "流油起沙 20枚", 3290, "规格", &["20枚"]),
        ],
    ),
    (
        "粮油调味",
        "田间好物",
        &[
            ("五常稻花香大米", "当季新米", 6990, "规格", &["5kg", "10kg"]),
            ("压榨花生油", "一级 物理压榨", 8990, "规格", &["5L"]),
            ("古法酿造酱油", "180天晒制", 2590, "规格", &["500ml", "1L"]),
            ("手工挂面", "筋道爽滑", 1990, "规格", &["1kg", "2kg"]),
            ("山西老陈醋", "5年陈酿", 2290, "规格", &["500ml", "1L"]),
            ("东北小米", "黄金苗 熬粥香", 2990, "规格", &["2.5kg"]),
            ("郫县豆瓣酱", "红油豆瓣", 1590, "规格", &["500g", "1kg"]),
            ("有机黑木耳", "肉厚无根", 3990, "规格", &["250g", "500g"]),
        ],
    ),
    (
        "休闲零食",
        "零食铺子",
        &[
            (
                "每日坚果",
                "7种坚果果干 30包",
                9990,
                "规格",
                &["15包", "30包"],
            ),
            (
                "手撕牛肉干",
                "内蒙古风干",
                4990,
                "口味",
                &["原味", "香辣", "五香"],
            ),
            ("芒果干", "厚切 无添加", 2590, "规格", &["200g", "500g"]),
            ("海苔脆", "儿童零食", 1990, "口味", &["原味", "芝士"]),
            ("猪肉脯", "靖江特产", 3590, "规格", &["250g", "500g"]),
            ("夏威夷果", "奶油味 大颗粒", 3990, "规格", &["500g"]),
            (
                "麻辣小龙虾尾",
                "开袋即食",
                4590,
                "口味",
                &["麻辣", "十三香"],
            ),
            ("山楂条", "酸甜开胃", 1290, "规格", &["300g", "600g"]),
        ],
    ),
    (
        "酒水饮料",
        "悦饮",
        &[
            (
                "冷萃咖啡液",
                "0糖0脂 12颗",
                5990,
                "口味",
                &["经典", "燕麦拿铁"],
            ),
            (
                "苏打气泡水",
                "0糖 24瓶",
                4990,
                "口味",
                &["白桃", "青柠", "西柚"],
            ),
            (
                "明前龙井",
                "2026新茶 250g",
                19800,
                "规格",
                &["125g", "250g"],
            ),
            (
                "云南普洱熟茶",
                "七子饼 357g",
                16800,
                "规格",
                &["1饼", "3饼"],
            ),
            (
                "精酿啤酒",
                "比利时风味 12罐",
                8990,
                "口味",
                &["小麦白啤", "IPA"],
            ),
            ("NFC橙汁", "鲜榨冷藏 1L", 2990, "规格", &["1瓶", "4瓶"]),
            ("椰子水", "100%纯椰子水", 3990, "规格", &["12瓶"]),
        ],
    ),
    (
        "乳品烘焙",
        "晨光牧场",
        &[
            (
                "低温鲜牛奶",
                "巴氏杀菌 950ml",
                1990,
                "规格",
                &["1瓶", "6瓶"],
            ),
            (
                "希腊酸奶",
                "高蛋白 无蔗糖",
                3990,
                "口味",
                &["原味", "蓝莓", "草莓"],
            ),
            ("全麦吐司", "0添加蔗糖", 1590, "规格", &["400g", "800g"]),
            ("黄油牛角包", "法式现烤 6个", 2990, "规格", &["6个", "12个"]),
            (
                "马苏里拉奶酪",
                "拉丝 披萨用",
                3290,
                "规格",
                &["250g", "500g"],
            ),
            ("奶酪棒", "儿童高钙 30支", 5990, "口味", &["原味", "草莓"]),
            (
                "手工蛋黄酥",
                "红豆咸蛋黄 6枚",
                3590,
                "规格",
                &["6枚", "12枚"],
            ),
        ],
    ),
    (
        "个护清洁",
        "洁净家",
        &[
            (
                "氨基酸洗面奶",
                "温和清洁 120g",
                5990,
                "规格",
                &["1支", "2支"],
            ),
            ("洗衣凝珠", "除菌除螨 52颗", 4990, "香型", &["樱花", "青柠"]),
            ("竹浆抽纸", "3层 24包", 3990, "规格", &["24包", "48包"]),
            ("牙膏套装", "美白护龈", 3590, "规格", &["3支装"]),
            ("洗发水", "无硅油 控油蓬松", 6990, "规格", &["500ml", "1L"]),
            ("厨房湿巾", "去油污 80抽", 1990, "规格", &["3包", "6包"]),
            ("沐浴露", "香氛 留香持久", 5590, "香型", &["白茶", "玫瑰"]),
            ("洗洁精", "食品级 果蔬可用", 1690, "规格", &["1.5kg", "3kg"]),
        ],
    ),
    (
        "家居日用",
        "简居",
        &[
            ("乳胶枕", "泰国天然乳胶", 12900, "规格", &["1只", "2只"]),
            (
                "纯棉四件套",
                "60支长绒棉",
                29900,
                "尺寸",
                &["1.5m床", "1.8m床"],
            ),
            (
                "保温杯",
                "316不锈钢 500ml",
                8990,
                "颜色",
                &["白色", "黑色", "雾蓝"],
            ),
            (
                "密封保鲜盒",
                "玻璃 微波可用",
                6990,
                "规格",
                &["4件套", "8件套"],
            ),
            ("香薰蜡烛", "大豆蜡 200g", 4990, "香型", &["无花果", "雪松"]),
            ("收纳箱", "可叠加 大号", 3990, "规格", &["1个", "3个"]),
            ("不粘炒锅", "麦饭石 32cm", 15900, "规格", &["32cm"]),
        ],
    ),
];

/// Seeds the demo store when the catalogue is empty; returns whether it did.
pub async fn seed_demo(state: &AppState) -> AppResult<bool> {
    if service::has_products(&state.db).await? {
        return Ok(false);
    }
    let mut suppliers = Vec::new();
    for (name, contact, returns) in [
        (
            "鲜果源头供应链",
            "王经理 13800000001",
            "王经理 13800000001 浙江省杭州市余杭区仓前街道鲜果仓 3 号库 售后组",
        ),
        (
            "好味食品工厂店",
            "李经理 13800000002",
            "李经理 13800000002 广东省佛山市顺德区容桂街道食品工业园 8 栋 退货处",
        ),
        (
            "洁净家日化",
            "赵经理 13800000003",
            "赵经理 13800000003 江苏省苏州市吴中区木渎镇日化产业园 2 号门 退货",
        ),
    ] {
        let (s, _key) = supplier::create_supplier(
            state,
            SupplierDraft {
                name: name.into(),
                contact: Some(contact.into()),
                webhook_url: None,
                return_address: Some(returns.into()),
            },
        )
        .await?;
        suppliers.push(s.id);
    }

    let (fruit_shipping, snack_shipping) = seed_shipping(state).await?;
    let mut product_ids = Vec::new();
    for (ci, (category, brand, items)) in STORE.iter().enumerate() {
        let cat = service::create_category(
            state,
            CategoryDraft {
                name: (*category).into(),
                parent_id: None,
                sort: ci as i32,
                icon_url: None,
            },
        )
        .await?;
        for (pi, (title, subtitle, base, spec_name, values)) in items.iter().enumerate() {
            let skus = values
                .iter()
                .enumerate()
                .map(|(vi, v)| {
                    // Bigger packs cost more but less per unit: a believable price ladder.
                    let price = base + (vi as i64) * base * 7 / 10;
                    SkuDraft {
                        id: None,
                        specs: vec![Spec {
                            name: (*spec_name).into(),
                            value: (*v).into(),
                        }],
                        price_fen: price,
                        original_price_fen: Some(price * 13 / 10),
                        member_price_fen: (pi % 2 == 0).then_some(price * 9 / 10),
                        stock: Some(50 + ((ci * 7 + pi * 13 + vi * 29) % 150) as i32),
                        weight_grams: pack_grams(v),
                        ..Default::default()
                    }
                })
                .collect();
            let bundle = service::create_product(
                state,
                ProductDraft {
                    title: Some((*title).into()),
                    subtitle: Some((*subtitle).into()),
                    description: Some(format!(
                        "{title}：{subtitle}。产地直发，坏果包赔，48小时内发货。"
                    )),
                    category_id: Some(cat.id),
                    brand: Some((*brand).into()),
                    images: Some(vec![format!(
                        "https://img.siyu.example/products/{}-{}.jpg",
                        ci + 1,
                        pi + 1
                    )]),
                    skus: Some(skus),
                    shipping_template_id: match ci {
                        0 => Some(Some(fruit_shipping)),
                        3 => Some(Some(snack_shipping)),
                        _ => None,
                    },
                },
            )
            .await?;
            // Fruit, snacks and cleaning products are drop-shipped by a supplier each.
            let supplier_for = match ci {
                0 => Some(suppliers[0]),
                3 => Some(suppliers[1]),
                6 => Some(suppliers[2]),
                _ => None,
            };
            if let Some(sid) = supplier_for {
                for sku in &bundle.skus {
                    supplier::link_sku(
                        state,
                        sku.id,
                        LinkDraft {
                            supplier_id: sid,
                            supplier_sku_code: format!("S{sid}-{}", sku.id),
                            cost_fen: sku.price_fen * 6 / 10,
                            drop_ship: true,
                        },
                    )
                    .await?;
                }
            }
            product_ids.push(bundle.product.id);
        }
    }
    for (rank, idx) in [6usize, 0, 23].iter().enumerate() {
        if let Some(id) = product_ids.get(*idx) {
            service::pin_hot(state, *id, Some(rank as i32)).await?;
        }
    }
    use crate::modules::membership::service::{self as membership, PlanDraft, TopUpDraft};
    for (name, price, days, pct) in [("季卡", 2900, 90, 95), ("年卡", 9900, 365, 90)] {
        membership::create_plan(
            state,
            PlanDraft {
                name: Some(name.into()),
                price_fen: Some(price),
                duration_days: Some(days),
                discount_percent: Some(pct),
                free_shipping: Some(true),
                active: Some(true),
            },
        )
        .await?;
    }
    use crate::modules::coupon::service::{self as coupons, PromotionDraft, TemplateDraft};
    let coupon = |name: &str, threshold_fen, off_fen, claimable| TemplateDraft {
        name: name.into(),
        threshold_fen,
        off_fen,
        total_quantity: None,
        per_customer_limit: Some(1),
        valid_days: Some(30),
        valid_from: None,
        valid_to: None,
        claimable: Some(claimable),
        claim_starts_at: None,
        claim_ends_at: None,
    };
    coupons::create_template(state, coupon("新人券 满59减10", 5_900, 1_000, true)).await?;
    let gift =
        coupons::create_template(state, coupon("充值礼 满99减15", 9_900, 1_500, false)).await?;
    coupons::create_promotion(
        state,
        PromotionDraft {
            name: "全场满199减20".into(),
            threshold_fen: 19_900,
            off_fen: 2_000,
            starts_at: None,
            ends_at: chrono::Utc::now() + chrono::Duration::days(365),
        },
    )
    .await?;
    for (name, pay, bonus) in [("充100送20", 10_000, 2_000), ("充500送120", 50_000, 12_000)] {
        membership::create_top_up_plan(
            state,
            TopUpDraft {
                name: Some(name.into()),
                pay_fen: Some(pay),
                bonus_fen: Some(bonus),
                gift_coupon_template_ids: Some(vec![gift.id]),
                ..Default::default()
            },
        )
        .await?;
    }
    tracing::info!(products = product_ids.len(), "demo store seeded");
    Ok(true)
}

/// Seeds `count` generated products (for benchmarks) into an empty catalogue.
pub async fn seed_bulk(state: &AppState, count: usize) -> AppResult<()> {
    let cat = service::create_category(
        state,
        CategoryDraft {
            name: "压测商品".into(),
            parent_id: None,
            sort: 0,
            icon_url: None,
        },
    )
    .await?;
    for i in 0..count {
        let base = 990 + (i as i64 * 37) % 20_000;
        service::create_product(
            state,
            ProductDraft {
                title: Some(format!("压测商品 {i:05}")),
                subtitle: Some("benchmark".into()),
                description: None,
                category_id: Some(cat.id),
                brand: Some("bench".into()),
                images: Some(vec![format!("https://img.siyu.example/bench/{i}.jpg")]),
                skus: Some(
                    (0..2)
                        .map(|v| SkuDraft {
                            id: None,
                            specs: vec![Spec {
                                name: "规格".into(),
                                value: format!("{v}"),
                            }],
                            price_fen: base + v * 500,
                            original_price_fen: None,
                            member_price_fen: None,
                            stock: Some(1_000_000),
                            ..Default::default()
                        })
                        .collect(),
                ),
                shipping_template_id: None,
            },
        )
        .await?;
    }
    Ok(())
}
