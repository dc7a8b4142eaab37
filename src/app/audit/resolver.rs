//! `auditLog` (ADMIN: OWNER).
use async_graphql::{Context, ID, InputObject, Object, Result, connection::Connection};

use crate::{
    api::{
        ids::to_id,
        pagination::{decode_cursor, id_connection, page_size},
        scalars::Timestamp,
    },
    auth::{ViewerExt, staff as may},
    error::AppError,
    state::AppState,
};

/// One staff mutation that succeeded.
pub struct AuditEntry(entity::audit_entry::Model);

#[Object]
impl AuditEntry {
    async fn id(&self) -> ID {
        to_id(self.0.id)
    }

    /// The staff account's username at the time.
    async fn actor(&self) -> &str {
        &self.0.actor
    }

    /// The mutation (`approveRefund`).
    async fn action(&self) -> &str {
        &self.0.action
    }

    /// The id it acted on, when it names one.
    async fn target(&self) -> Option<&str> {
        self.0.target.as_deref()
    }

    /// Its arguments as a JSON object; passwords, secrets, tokens and keys
    /// are `"[redacted]"`, lists longer than 100 cut.
    async fn arguments(&self) -> &str {
        &self.0.arguments
    }

    async fn created_at(&self) -> Timestamp {
        self.0.created_at.into()
    }
}

/// Which entries `auditLog` lists.
#[derive(InputObject, Default)]
pub struct AuditFilter {
    /// A staff username, exactly.
    pub actor: Option<String>,
    /// A mutation name, exactly (`approveWithdrawal`).
    pub action: Option<String>,
    /// At or after.
    pub from: Option<Timestamp>,
    /// Before.
    pub to: Option<Timestamp>,
}

#[derive(Default)]
pub struct AuditQuery;

#[Object]
impl AuditQuery {
    /// The audit log, newest first (ADMIN: OWNER): every mutation a staff
    /// account ran successfully, except signing in and out.
    async fn audit_log(
        &self,
        ctx: &Context<'_>,
        filter: Option<AuditFilter>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<String, AuditEntry>> {
        ctx.viewer().staff_id(may::OWNER)?;
        let f = filter.unwrap_or_default();
        let filter = super::Filter {
            actor: f.actor,
            action: f.action,
            from: f.from.map(|t| t.0),
            to: f.to.map(|t| t.0),
        };
        if let (Some(from), Some(to)) = (filter.from, filter.to)
            && from >= to
        {
            return Err(AppError::bad_input("filter.to", "must be after filter.from").into());
        }
        let state = ctx.data_unchecked::<AppState>();
        let first = page_size(first)?;
        let after: Option<i64> = decode_cursor(after.as_deref())?;
        let (rows, more) = super::list(state, &filter, first, after).await?;
        Ok(id_connection(
            rows.into_iter().map(|r| (r.id, AuditEntry(r))).collect(),
            more,
            after.is_some(),
        ))
    }
}
