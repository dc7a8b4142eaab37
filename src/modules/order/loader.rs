//! DataLoaders: one statement per batch of orders, whatever the page size.
use std::collections::HashMap;

use async_graphql::dataloader::Loader;
use entity::{fulfillment, order_line, refund};
use sea_orm::DatabaseConnection;

use super::{fulfillment as ful, query};
use crate::error::AppError;

/// An order's lines, by order id.
pub struct LinesByOrderLoader(pub DatabaseConnection);

impl Loader<i64> for LinesByOrderLoader {
    type Value = Vec<order_line::Model>;
    type Error = AppError;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, Self::Value>, Self::Error> {
        let mut out: HashMap<i64, Self::Value> = keys.iter().map(|k| (*k, Vec::new())).collect();
        for l in query::lines_of(&self.0, keys).await? {
            out.entry(l.order_id).or_default().push(l);
        }
        Ok(out)
    }
}

/// An order's fulfillments, by order id.
pub struct FulfillmentsByOrderLoader(pub DatabaseConnection);

impl Loader<i64> for FulfillmentsByOrderLoader {
    type Value = Vec<fulfillment::Model>;
    type Error = AppError;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, Self::Value>, Self::Error> {
        let mut out: HashMap<i64, Self::Value> = keys.iter().map(|k| (*k, Vec::new())).collect();
        for f in ful::of_orders(&self.0, keys).await? {
            out.entry(f.order_id).or_default().push(f);
        }
        Ok(out)
    }
}

/// An order's refunds, by order id.
pub struct RefundsByOrderLoader(pub DatabaseConnection);

impl Loader<i64> for RefundsByOrderLoader {
    type Value = Vec<refund::Model>;
    type Error = AppError;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, Self::Value>, Self::Error> {
        let mut out: HashMap<i64, Self::Value> = keys.iter().map(|k| (*k, Vec::new())).collect();
        for r in query::refunds_of(&self.0, keys).await? {
            out.entry(r.order_id).or_default().push(r);
        }
        Ok(out)
    }
}
