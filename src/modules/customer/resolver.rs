//! Customer queries.
use async_graphql::{Context, ID, Object, Result};

use super::{service, types::Customer};
use crate::{api::ids::lookup_id, auth::ViewerExt, state::AppState};

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

    /// One customer with its wallet, membership and promoter figures (ADMIN).
    async fn customer(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Customer>> {
        ctx.viewer().staff_id(crate::auth::staff::ANY)?;
        let state = ctx.data_unchecked::<AppState>();
        let Some(id) = lookup_id(&id) else {
            return Ok(None);
        };
        Ok(service::find(state, id).await?.map(Customer::from))
    }
}
