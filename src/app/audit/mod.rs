//! The audit log: every mutation a staff account (the ADMIN role) runs
//! successfully is written, append-only, as one `audit_entry` row (who,
//! which mutation, on what id, with which arguments, when), and the owner
//! reads them with `auditLog`.
//!
//! It is recorded once for all, by a schema extension around each root
//! mutation field ([`Audit`]), not by the resolvers: a mutation added later
//! is audited without anyone remembering to. Every staff mutation of this
//! schema moves money, changes what customers see or changes who may act
//! (staff, suppliers); sign-in and sign-out (`adminLogin`, `refreshToken`,
//! `logout`) are sessions, not store operations, and are left out.
//!
//! The row is written right after the mutation succeeded, never for a
//! refusal or a failure. It is not the mutation's own transaction (each
//! domain commits its own): if the write fails after the mutation
//! committed, the mutation's answer stands and the failure is logged at
//! `error` and counted as an `AUDIT_WRITE_FAILED` error, so that an alert can
//! catch a gap.
//!
//! Arguments are stored as JSON with their variables filled in; any field
//! whose name speaks of a password, secret, token or private key is
//! replaced by `"[redacted]"`, and lists are cut to their first
//! [`LIST_KEPT`] items.
pub mod resolver;

use std::sync::{Arc, Mutex};

use async_graphql::{
    Request, ServerResult, Value, Variables,
    extensions::{
        Extension, ExtensionContext, ExtensionFactory, NextPrepareRequest, NextResolve, ResolveInfo,
    },
};
use async_graphql_value::ConstValue;
use chrono::{DateTime, Utc};
use entity::audit_entry;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

use crate::{
    auth::{Staff, Viewer},
    error::AppResult,
    state::AppState,
};

/// Mutations that are sessions, not store operations.
const UNAUDITED: &[&str] = &["adminLogin", "refreshToken", "logout"];
/// Items of a list argument kept in the log.
pub const LIST_KEPT: usize = 100;
/// Argument names (lower-cased, any part) whose values are never stored.
const SECRET_WORDS: &[&str] = &["password", "secret", "token", "apikey", "privatekey"];

/// The schema extension recording staff mutations.
pub struct Audit;

impl ExtensionFactory for Audit {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(AuditRequest::default())
    }
}

/// One request's auditing: its variables, kept from the start to fill in
/// the arguments of the fields that name them.
#[derive(Default)]
struct AuditRequest {
    variables: Mutex<Variables>,
}

#[async_trait::async_trait]
impl Extension for AuditRequest {
    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        if let Ok(mut v) = self.variables.lock() {
            v.clone_from(&request.variables);
        }
        next.run(ctx, request).await
    }

    async fn resolve(
        &self,
        ctx: &ExtensionContext<'_>,
        info: ResolveInfo<'_>,
        next: NextResolve<'_>,
    ) -> ServerResult<Option<Value>> {
        let root_mutation = info.path_node.parent.is_none()
            && info.parent_type
                == ctx
                    .schema_env
                    .registry
                    .mutation_type
                    .as_deref()
                    .unwrap_or("Mutation");
        let staff = match ctx.data_opt::<Viewer>() {
            Some(Viewer::Admin(staff)) if root_mutation && !UNAUDITED.contains(&info.name) => {
                *staff
            }
            _ => return next.run(ctx, info).await,
        };
        let action = info.name.to_string();
        let arguments = {
            let variables = self.variables.lock().map(|v| v.clone()).unwrap_or_default();
            arguments(&info.field.arguments, &variables)
        };
        let result = next.run(ctx, info).await;
        if let (Ok(answer), Some(state)) = (&result, ctx.data_opt::<AppState>()) {
            let target = top_target(&arguments)
                .or_else(|| answer.as_ref().and_then(answer_id))
                .or_else(|| input_target(&arguments));
            if let Err(e) = record(state, staff, &action, target, &arguments).await {
                crate::metrics::count_error("AUDIT_WRITE_FAILED");
                tracing::error!(action, actor_id = staff.id, error = %e, "the audit log missed a staff mutation that succeeded");
            }
        }
        result
    }
}

/// A field's arguments as JSON, variables filled in, secrets redacted.
fn arguments(
    args: &[(
        async_graphql::Positioned<async_graphql::Name>,
        async_graphql::Positioned<async_graphql_value::Value>,
    )],
    variables: &Variables,
) -> serde_json::Map<String, serde_json::Value> {
    args.iter()
        .map(|(name, value)| {
            let v = value
                .node
                .clone()
                .into_const_with(|var| {
                    Ok::<_, std::convert::Infallible>(
                        variables.get(&var).cloned().unwrap_or(ConstValue::Null),
                    )
                })
                .unwrap_or(ConstValue::Null);
            let name = name.node.to_string();
            let json = redact(&name, v.into_json().unwrap_or(serde_json::Value::Null));
            (name, json)
        })
        .collect()
}

fn secret(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    SECRET_WORDS.iter().any(|w| lower.contains(w))
}

/// `value` of the argument or field `name`, with secrets inside redacted
/// and long lists cut.
fn redact(name: &str, value: serde_json::Value) -> serde_json::Value {
    use serde_json::Value as J;
    if secret(name) && !value.is_null() {
        return J::String("[redacted]".into());
    }
    match value {
        J::Object(map) => J::Object(
            map.into_iter()
                .map(|(k, v)| {
                    let v = redact(&k, v);
                    (k, v)
                })
                .collect(),
        ),
        J::Array(items) => {
            let total = items.len();
            let mut kept: Vec<J> = items
                .into_iter()
                .take(LIST_KEPT)
                .map(|v| redact(name, v))
                .collect();
            if total > LIST_KEPT {
                kept.push(J::String(format!("… {} more", total - LIST_KEPT)));
            }
            J::Array(kept)
        }
        other => other,
    }
}

fn id_like(name: &str) -> bool {
    name == "id" || name.ends_with("Id")
}

fn scalar_id(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// What a mutation acted on: its first id argument (`id`, `…Id`); else
/// the id of what it answered (a created row), when selected; else an id
/// in its `input`.
fn top_target(args: &serde_json::Map<String, serde_json::Value>) -> Option<String> {
    args.iter()
        .find(|(k, _)| id_like(k))
        .and_then(|(_, v)| scalar_id(v))
}

fn input_target(args: &serde_json::Map<String, serde_json::Value>) -> Option<String> {
    args.get("input")?
        .as_object()?
        .iter()
        .find(|(k, _)| id_like(k))
        .and_then(|(_, v)| scalar_id(v))
}

/// The `id` of what a mutation answered (a created row), when selected.
fn answer_id(answer: &Value) -> Option<String> {
    let Value::Object(fields) = answer else {
        return None;
    };
    match fields.get("id")? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

async fn record(
    state: &AppState,
    staff: Staff,
    action: &str,
    target: Option<String>,
    arguments: &serde_json::Map<String, serde_json::Value>,
) -> AppResult<()> {
    let actor = crate::app::login::staff::username(&state.db, staff.id).await?;
    audit_entry::ActiveModel {
        actor_id: Set(staff.id),
        actor: Set(actor),
        action: Set(action.to_string()),
        target: Set(target),
        arguments: Set(serde_json::Value::Object(arguments.clone()).to_string()),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&state.db)
    .await?;
    Ok(())
}

/// What `auditLog` filters on.
#[derive(Default)]
pub struct Filter {
    pub actor: Option<String>,
    pub action: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

/// A page of entries, newest first, after cursor id `after`; and whether
/// more follow.
pub async fn list(
    state: &AppState,
    filter: &Filter,
    first: u64,
    after: Option<i64>,
) -> AppResult<(Vec<audit_entry::Model>, bool)> {
    let mut q = audit_entry::Entity::find().order_by_desc(audit_entry::Column::Id);
    if let Some(actor) = &filter.actor {
        q = q.filter(audit_entry::Column::Actor.eq(actor.trim()));
    }
    if let Some(action) = &filter.action {
        q = q.filter(audit_entry::Column::Action.eq(action.trim()));
    }
    if let Some(from) = filter.from {
        q = q.filter(audit_entry::Column::CreatedAt.gte(from));
    }
    if let Some(to) = filter.to {
        q = q.filter(audit_entry::Column::CreatedAt.lt(to));
    }
    if let Some(after) = after {
        q = q.filter(audit_entry::Column::Id.lt(after));
    }
    let mut rows = q.limit(first + 1).all(&state.db).await?;
    let more = rows.len() as u64 > first;
    rows.truncate(first as usize);
    Ok((rows, more))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn secrets_are_redacted_and_lists_cut() {
        let v = redact(
            "input",
            json!({"username": "ann", "password": "hunter2hunter2", "nested": {"apiKey": "k", "privateKeyPem": "p"}, "ids": (0..150).collect::<Vec<_>>()}),
        );
        assert_eq!(v["username"], "ann");
        assert_eq!(v["password"], "[redacted]");
        assert_eq!(v["nested"]["apiKey"], "[redacted]");
        assert_eq!(v["nested"]["privateKeyPem"], "[redacted]");
        assert_eq!(v["ids"].as_array().unwrap().len(), LIST_KEPT + 1);
        assert_eq!(v["ids"][LIST_KEPT], "… 50 more");
        assert_eq!(redact("password", json!("x")), json!("[redacted]"));
    }

    #[test]
    fn the_target_is_the_first_id_argument() {
        let args = |v: serde_json::Value| v.as_object().unwrap().clone();
        assert_eq!(
            top_target(&args(json!({"refundId": "7", "note": "ok"}))),
            Some("7".into())
        );
        assert_eq!(
            input_target(&args(json!({"input": {"productId": 3, "title": "t"}}))),
            Some("3".into())
        );
        assert_eq!(top_target(&args(json!({"ids": ["1", "2"]}))), None);
    }
}
