//! sea-orm entities of siyu: one module per table, rows only.
//!
//! Nothing here derives GraphQL traits: API types are built from these models
//! in each domain's `types.rs`, so a column such as a supplier's cost price can
//! never reach a client by accident. Money columns are `i64` fen.

pub mod address;
pub mod admin;
pub mod after_sale;
pub mod after_sale_line;
pub mod audit_entry;
pub mod campaign;
pub mod cart_item;
pub mod category;
pub mod commission;
pub mod commission_rule;
pub mod coupon;
pub mod coupon_issue;
pub mod coupon_template;
pub mod customer;
pub mod customer_stats;
pub mod customer_tag;
pub mod fulfillment;
pub mod membership;
pub mod membership_grant;
pub mod membership_plan;
pub mod order_line;
pub mod payment;
pub mod product;
pub mod product_sales_daily;
pub mod promoter;
pub mod promotion;
pub mod reconciliation;
pub mod reconciliation_difference;
pub mod refresh_token;
pub mod refund;
pub mod segment;
pub mod share_code;
pub mod shipping_template;
pub mod shop_order;
pub mod sku;
pub mod store_scale;
pub mod subscription_consent;
pub mod subscription_message;
pub mod subscription_message_attempt;
pub mod supplier;
pub mod supplier_payable;
pub mod supplier_payable_entry;
pub mod supplier_shipping_template;
pub mod supplier_sku_link;
pub mod top_up_plan;
pub mod wallet;
pub mod wallet_transaction;
pub mod webhook_attempt;
pub mod webhook_delivery;
pub mod wechat_carrier_map;
pub mod wechat_shipping;
pub mod wechat_shipping_attempt;
pub mod wechat_shipping_reminder;
pub mod withdrawal;
pub mod withdrawal_day;
pub mod withdrawal_entry;
