//! The GraphQL shape of the store's figures.
use async_graphql::Object;

use super::service::Metrics;
use crate::{
    api::scalars::Money,
    modules::operations::types::{LifecycleCount, SceneCount},
};

/// The store's figures over a period (`from` inclusive, `to` exclusive);
/// member count, balances, pending commissions and lifecycle counts are as
/// of now.
pub struct StoreMetrics(pub Metrics);

fn rate(part: i64, whole: i64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        (part as f64 / whole as f64 * 10_000.0).round() / 10_000.0
    }
}

#[Object]
impl StoreMetrics {
    /// Gross merchandise value: goods orders paid in the period, shipping
    /// and balance included, whatever happened to them later.
    async fn gmv_fen(&self) -> Money {
        Money(self.0.sales.gmv_fen)
    }
    /// Goods orders paid in the period.
    async fn paid_orders(&self) -> i32 {
        self.0.sales.paid_orders as i32
    }
    /// Customers who paid for goods in the period.
    async fn buyers(&self) -> i32 {
        self.0.sales.buyers as i32
    }
    /// Average order value (客单价): GMV ÷ paid orders.
    async fn average_order_value_fen(&self) -> Money {
        Money(crate::money::div_half_up(
            self.0.sales.gmv_fen,
            self.0.sales.paid_orders,
        ))
    }
    /// Spend per customer (单客价): GMV ÷ buyers.
    async fn spend_per_customer_fen(&self) -> Money {
        Money(crate::money::div_half_up(
            self.0.sales.gmv_fen,
            self.0.sales.buyers,
        ))
    }
    /// Repurchase rate (复购率): the share of the period's buyers who paid
    /// for two or more orders in it (0-1, four decimals).
    async fn repurchase_rate(&self) -> f64 {
        rate(self.0.sales.repeat_buyers, self.0.sales.buyers)
    }
    /// The share of the period's buyers who had reached their 2nd paid
    /// order by the end of it (0-1).
    async fn second_purchase_rate(&self) -> f64 {
        rate(self.0.sales.reached[0], self.0.sales.buyers)
    }
    /// … their 3rd.
    async fn third_purchase_rate(&self) -> f64 {
        rate(self.0.sales.reached[1], self.0.sales.buyers)
    }
    /// … their 5th.
    async fn fifth_purchase_rate(&self) -> f64 {
        rate(self.0.sales.reached[2], self.0.sales.buyers)
    }
    /// Refunds of goods orders approved in the period (late payments sent
    /// back are not counted: they were never sales).
    async fn refunded_fen(&self) -> Money {
        Money(self.0.sales.refunded_fen)
    }
    /// Customers who first signed in during the period.
    async fn new_customers(&self) -> i32 {
        self.0
            .new_customers_by_scene
            .iter()
            .map(|(_, n)| *n)
            .sum::<i64>() as i32
    }
    /// The same, by entry scene, the largest group first.
    async fn new_customers_by_scene(&self) -> Vec<SceneCount> {
        self.0
            .new_customers_by_scene
            .iter()
            .map(|(scene, n)| SceneCount {
                scene: scene.clone(),
                customers: *n as i32,
            })
            .collect()
    }
    /// Active memberships now.
    async fn member_count(&self) -> i32 {
        self.0.members as i32
    }
    /// Memberships sold in the period (not refunded).
    async fn membership_revenue_fen(&self) -> Money {
        Money(self.0.sales.membership_revenue_fen)
    }
    /// All stored balances together now: the store's prepaid liability.
    async fn stored_balance_outstanding_fen(&self) -> Money {
        Money(self.0.outstanding_balance_fen)
    }
    /// Commissions waiting for their return window now.
    async fn commissions_pending_fen(&self) -> Money {
        Money(self.0.commissions_pending_fen)
    }
    /// Commissions settled during the period.
    async fn commissions_settled_fen(&self) -> Money {
        Money(self.0.commissions_settled_fen)
    }
    /// Customers at each lifecycle stage now.
    async fn lifecycle(&self) -> Vec<LifecycleCount> {
        self.0
            .lifecycle
            .iter()
            .map(|(s, n)| LifecycleCount {
                stage: (*s).into(),
                customers: *n as i32,
            })
            .collect()
    }
}
