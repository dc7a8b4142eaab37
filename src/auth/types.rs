//! The roles a token can carry.
use async_graphql::Enum;
use serde::{Deserialize, Serialize};

/// What a caller is allowed to do.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Role {
    /// A shopper in the mini-program.
    Customer,
    /// A store operator.
    Admin,
    /// A drop-shipping supplier's integration.
    Supplier,
}

impl Role {
    pub fn as_str(&self) -> &'static str {
        match self {
            Role::Customer => "CUSTOMER",
            Role::Admin => "ADMIN",
            Role::Supplier => "SUPPLIER",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "CUSTOMER" => Some(Role::Customer),
            "ADMIN" => Some(Role::Admin),
            "SUPPLIER" => Some(Role::Supplier),
            _ => None,
        }
    }
}

/// What a staff account (the ADMIN role) may do: each ADMIN operation names
/// the staff roles it admits ([`super::Viewer::staff_id`]); `Owner` is
/// admitted everywhere.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum StaffRole {
    /// Everything, and the only one who manages staff and reads the audit log.
    Owner,
    /// Catalogue, coupons and promotions, segments and campaigns, plans,
    /// shipping templates, suppliers, shipping parcels.
    Operations,
    /// Refunds and after-sales.
    CustomerService,
    /// Withdrawals, supplier payables, reconciliation, wallet adjustments.
    Finance,
}

impl StaffRole {
    pub fn as_str(&self) -> &'static str {
        match self {
            StaffRole::Owner => "OWNER",
            StaffRole::Operations => "OPERATIONS",
            StaffRole::CustomerService => "CUSTOMER_SERVICE",
            StaffRole::Finance => "FINANCE",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "OWNER" => Some(StaffRole::Owner),
            "OPERATIONS" => Some(StaffRole::Operations),
            "CUSTOMER_SERVICE" => Some(StaffRole::CustomerService),
            "FINANCE" => Some(StaffRole::Finance),
            _ => None,
        }
    }
}
