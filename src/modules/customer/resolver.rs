//! Customer queries.
use async_graphql::{Context, Object, Result};

use super::{service, types::Customer};
use crate::{auth::ViewerExt, state::AppState};

#[derive(Default)]
pub struct CustomerQuery;

#[Object]
impl CustomerQuery {
    /// The signed-in customer (CUSTOMER).
    async fn me(&self, ctx: &Context<'_>) -> Result<Customer> {
        let id = ctx.viewer().customer_id()?;
        let state = ctx.data_unchecked::<AppState>();
        Ok(Customer::own(service::get(state, id).await?))
    }
}
