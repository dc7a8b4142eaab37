//! Schema migrations, applied at start-up by the server (and by tests).
//!
//! Written with sea-query's builder so that one migration runs on SQLite
//! (embedded default) and PostgreSQL (production) alike. Invariants that money
//! and stock depend on are enforced here too (CHECK constraints), as a backstop
//! to the conditional updates in the services.
pub use sea_orm_migration::prelude::*;

mod m20261122_000001_identity;
mod m20261122_000002_catalogue;
mod m20261122_000003_orders;
mod m20261122_000004_webhooks;
mod m20261122_000005_membership_wallet;
mod m20261122_000006_referral;
mod m20261123_000007_order_write_path;
mod m20261201_000008_coupons;
mod m20261201_000009_customer_operations;
mod m20261210_000010_credentials;
mod m20261210_000011_membership_grants;
mod m20261210_000012_refund_tracking;
mod m20261210_000013_fulfillment_ack;
mod m20261210_000014_after_sales;
mod m20261210_000015_after_sale_refunds;
mod m20261210_000016_wechat_platform;
mod m20261210_000017_payouts;
mod m20261210_000018_shipping_templates;
mod m20261210_000019_supplier_payables;
mod m20261210_000020_wechat_followup;
mod m20261210_000021_staff_audit;
mod m20261210_000023_customer_filter_indexes;
mod m20261210_000024_payable_netting;
mod m20261210_000028_campaigns;
mod m20261210_000030_order_line_supplier_code;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261122_000001_identity::Migration),
            Box::new(m20261122_000002_catalogue::Migration),
            Box::new(m20261122_000003_orders::Migration),
            Box::new(m20261122_000004_webhooks::Migration),
            Box::new(m20261122_000005_membership_wallet::Migration),
            Box::new(m20261122_000006_referral::Migration),
            Box::new(m20261123_000007_order_write_path::Migration),
            Box::new(m20261201_000008_coupons::Migration),
            Box::new(m20261201_000009_customer_operations::Migration),
            Box::new(m20261210_000010_credentials::Migration),
            Box::new(m20261210_000011_membership_grants::Migration),
            Box::new(m20261210_000012_refund_tracking::Migration),
            Box::new(m20261210_000013_fulfillment_ack::Migration),
            Box::new(m20261210_000014_after_sales::Migration),
            Box::new(m20261210_000015_after_sale_refunds::Migration),
            Box::new(m20261210_000016_wechat_platform::Migration),
            Box::new(m20261210_000017_payouts::Migration),
            Box::new(m20261210_000018_shipping_templates::Migration),
            Box::new(m20261210_000019_supplier_payables::Migration),
            Box::new(m20261210_000020_wechat_followup::Migration),
            Box::new(m20261210_000021_staff_audit::Migration),
            Box::new(m20261210_000023_customer_filter_indexes::Migration),
            Box::new(m20261210_000024_payable_netting::Migration),
            Box::new(m20261210_000028_campaigns::Migration),
            Box::new(m20261210_000030_order_line_supplier_code::Migration),
        ]
    }
}
