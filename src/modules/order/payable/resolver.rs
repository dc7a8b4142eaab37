//! `supplierPayables` (ADMIN: all; SUPPLIER: its own) and
//! `markSupplierPayablesPaid` (ADMIN).
use std::collections::HashMap;

use async_graphql::{
    Context, Enum, ID, InputObject, MergedObject, Object, Result, connection::Connection,
    dataloader::DataLoader,
};
use entity::{supplier_payable, supplier_payable_entry};

use crate::{
    api::{
        ids::{parse_id, to_id},
        pagination::{TotalCount, decode_cursor, id_connection_with, page_size},
        scalars::{Money, Timestamp},
    },
    auth::{Viewer, ViewerExt},
    error::AppError,
    modules::supplier::{loader::SupplierLoader, types::Supplier},
    state::AppState,
};

/// Where a supplier payable is.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum SupplierPayableStatus {
    /// Its order's return window is open: returns may still reduce it.
    Pending,
    /// Owed now.
    Due,
    /// The store transferred it (`markSupplierPayablesPaid`).
    Paid,
}

impl SupplierPayableStatus {
    fn as_str(self) -> &'static str {
        match self {
            Self::Pending => super::PENDING,
            Self::Due => super::DUE,
            Self::Paid => super::PAID,
        }
    }
    fn parse(s: &str) -> Self {
        match s {
            super::DUE => Self::Due,
            super::PAID => Self::Paid,
            _ => Self::Pending,
        }
    }
}

/// What moved a payable's money.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum SupplierPayableEntryKind {
    /// The cost of the supplier's lines, when the order was paid.
    Accrue,
    /// Refunded units (negative).
    Adjust,
    /// The store's transfer (negative).
    Pay,
    /// A debt of the supplier carried into a payment: positive on the
    /// payable whose balance was negative, negative on the one paid less.
    Net,
}

/// Filters of `supplierPayables`.
#[derive(InputObject, Default)]
pub struct SupplierPayableFilter {
    /// ADMIN: one supplier's. A SUPPLIER sees only its own whatever it names.
    pub supplier_id: Option<ID>,
    pub status: Option<SupplierPayableStatus>,
    /// Opened (its order paid) at or after.
    pub from: Option<Timestamp>,
    /// Opened before.
    pub to: Option<Timestamp>,
}

/// One row of a payable's ledger.
pub struct SupplierPayableEntry(supplier_payable_entry::Model);

#[Object]
impl SupplierPayableEntry {
    async fn kind(&self) -> SupplierPayableEntryKind {
        match self.0.kind.as_str() {
            super::ADJUST => SupplierPayableEntryKind::Adjust,
            super::PAY => SupplierPayableEntryKind::Pay,
            super::NET => SupplierPayableEntryKind::Net,
            _ => SupplierPayableEntryKind::Accrue,
        }
    }
    /// Signed: ACCRUE positive, ADJUST and PAY negative, NET either.
    async fn amount_fen(&self) -> Money {
        Money(self.0.amount_fen)
    }
    /// The after-sale an ADJUST comes from.
    async fn after_sale_id(&self) -> Option<ID> {
        self.0.after_sale_id.map(to_id)
    }
    /// The store's reference of a PAY.
    async fn reference(&self) -> Option<&str> {
        self.0.reference.as_deref()
    }
    async fn created_at(&self) -> Timestamp {
        self.0.created_at.into()
    }
}

/// What the store owes a drop-ship supplier for one fulfillment.
pub struct SupplierPayable {
    row: supplier_payable::Model,
    entries: Vec<supplier_payable_entry::Model>,
}

impl SupplierPayable {
    fn sum(&self, kinds: &[&str]) -> i64 {
        self.entries
            .iter()
            .filter(|e| kinds.contains(&e.kind.as_str()))
            .map(|e| e.amount_fen)
            .sum()
    }
}

#[Object]
impl SupplierPayable {
    async fn id(&self) -> ID {
        to_id(self.row.id)
    }
    async fn supplier(&self, ctx: &Context<'_>) -> Result<Option<Supplier>> {
        let loader = ctx.data_unchecked::<DataLoader<SupplierLoader>>();
        Ok(loader.load_one(self.row.supplier_id).await?.map(Supplier))
    }
    async fn fulfillment_id(&self) -> ID {
        to_id(self.row.fulfillment_id)
    }
    async fn order_id(&self) -> ID {
        to_id(self.row.order_id)
    }
    async fn status(&self) -> SupplierPayableStatus {
        SupplierPayableStatus::parse(&self.row.status)
    }
    /// What the goods cost: accrued at payment, less refunds (ACCRUE + ADJUST).
    async fn amount_fen(&self) -> Money {
        Money(self.sum(&[super::ACCRUE, super::ADJUST]))
    }
    /// What the store transferred (the PAY entries, as a positive amount).
    async fn paid_fen(&self) -> Money {
        Money(-self.sum(&[super::PAY]))
    }
    /// Carried between this payable and others of its supplier (the NET
    /// entries): negative when a debt of the supplier was deducted from
    /// this payment, positive when this payable's debt was cleared so.
    async fn netted_fen(&self) -> Money {
        Money(self.sum(&[super::NET]))
    }
    /// The sum of every entry: what is still owed; negative when lines were
    /// refunded after the payment (the supplier owes it back, carried into
    /// its next payment).
    async fn balance_fen(&self) -> Money {
        Money(self.entries.iter().map(|e| e.amount_fen).sum())
    }
    /// Its ledger, oldest first.
    async fn entries(&self) -> Vec<SupplierPayableEntry> {
        self.entries
            .iter()
            .cloned()
            .map(SupplierPayableEntry)
            .collect()
    }
    /// When it was opened (its order paid).
    async fn created_at(&self) -> Timestamp {
        self.row.created_at.into()
    }
    async fn due_at(&self) -> Option<Timestamp> {
        self.row.due_at.map(Into::into)
    }
    async fn paid_at(&self) -> Option<Timestamp> {
        self.row.paid_at.map(Into::into)
    }
    async fn paid_reference(&self) -> Option<&str> {
        self.row.paid_reference.as_deref()
    }
}

/// The balance of a filtered list of payables.
pub struct PayableBalance(super::Filter);

#[Object]
impl PayableBalance {
    /// The balance of all that match the filters (all pages): what the
    /// store owes, net of payments and of returns after payment.
    async fn balance_fen(&self, ctx: &Context<'_>) -> Result<Money> {
        let state = ctx.data_unchecked::<AppState>();
        Ok(Money(super::balance_of(state, &self.0).await?))
    }
}

/// The fields of the list itself: `totalCount` and `balanceFen`.
#[derive(MergedObject)]
pub struct PayableListFields(TotalCount, PayableBalance);

pub type SupplierPayableConnection = Connection<String, SupplierPayable, PayableListFields>;

#[derive(Default)]
pub struct PayableQuery;

#[Object]
impl PayableQuery {
    /// What the store owes its drop-ship suppliers, one payable per supplier
    /// fulfillment, newest first: ADMIN all; a SUPPLIER its own.
    async fn supplier_payables(
        &self,
        ctx: &Context<'_>,
        filter: Option<SupplierPayableFilter>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<SupplierPayableConnection> {
        let scope = match ctx.viewer() {
            Viewer::Admin(_) => None,
            v => Some(v.supplier_id()?),
        };
        let f = filter.unwrap_or_default();
        let filter = super::Filter {
            scope,
            supplier_id: f
                .supplier_id
                .as_ref()
                .map(|s| parse_id(s, "filter.supplierId"))
                .transpose()?,
            status: f.status.map(SupplierPayableStatus::as_str),
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
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        let mut entries: HashMap<i64, Vec<_>> = super::entries_of(state, &ids).await?;
        Ok(id_connection_with(
            rows.into_iter()
                .map(|row| {
                    let entries = entries.remove(&row.id).unwrap_or_default();
                    (row.id, SupplierPayable { row, entries })
                })
                .collect(),
            more,
            after.is_some(),
            PayableListFields(super::total(&filter), PayableBalance(filter)),
        ))
    }
}

#[derive(Default)]
pub struct PayableMutation;

#[Object]
impl PayableMutation {
    /// Records the store's transfer of the payables `ids` (ADMIN: FINANCE), due ones
    /// only, with the bank or voucher `reference`. Already paid ones are
    /// skipped; returns how many were newly paid. An unknown id
    /// (`NOT_FOUND`) or one not due yet (`CONFLICT`) changes nothing.
    async fn mark_supplier_payables_paid(
        &self,
        ctx: &Context<'_>,
        ids: Vec<ID>,
        reference: String,
    ) -> Result<i32> {
        let admin = ctx.viewer().staff_id(crate::auth::staff::FINANCE)?;
        let ids = ids
            .iter()
            .map(|i| parse_id(i, "ids"))
            .collect::<Result<Vec<i64>, AppError>>()?;
        let state = ctx.data_unchecked::<AppState>();
        let n = super::mark_paid(state, admin, &ids, &reference, chrono::Utc::now()).await?;
        Ok(i32::try_from(n).unwrap_or(i32::MAX))
    }
}
