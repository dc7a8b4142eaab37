//! Who is calling, and what each role may do.
//!
//! The GraphQL handler turns the `Authorization: Bearer` token into a
//! [`Viewer`] (through [`session::authenticate`], which also refuses tokens
//! of sessions that were ended) and puts it into the request data. Resolvers never inspect
//! tokens or roles themselves: they call one guard of [`Viewer`]
//! (`customer_id`, `staff_id`, `supplier_id`), which is the single place per
//! role where access is decided and where `UNAUTHENTICATED` vs `FORBIDDEN` is
//! chosen. ADMIN operations name the staff roles they admit there
//! (`staff_id(&[StaffRole::Finance])`); the owner is admitted to all.
pub mod password;
pub mod session;
pub mod token;
pub mod types;

use crate::error::{AppError, AppResult};
pub use types::{Role, StaffRole};

/// A signed-in staff account (the ADMIN role) and its staff role, as its
/// access token states it. A role never changes (a new role is a new
/// account), so the token's is current; disabling the account or resetting
/// its password ends its sessions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Staff {
    pub id: i64,
    pub role: StaffRole,
}

/// Staff roles, as ADMIN operations name them (the owner is always admitted).
pub mod staff {
    use crate::auth::types::StaffRole;

    /// Every staff role: reading the store (orders, customers, figures).
    pub const ANY: &[StaffRole] = &[
        StaffRole::Operations,
        StaffRole::CustomerService,
        StaffRole::Finance,
    ];
    /// The owner alone (staff accounts, the audit log, the commission rule).
    pub const OWNER: &[StaffRole] = &[];
    /// Catalogue, suppliers, coupons, segments, campaigns, plans, shipping.
    pub const OPERATIONS: &[StaffRole] = &[StaffRole::Operations];
    /// Refunds and after-sales.
    pub const SERVICE: &[StaffRole] = &[StaffRole::CustomerService];
    /// Withdrawals, payables, reconciliation, wallet adjustments.
    pub const FINANCE: &[StaffRole] = &[StaffRole::Finance];
    /// A refund that failed at WeChat Pay: sent again or recorded as paid
    /// another way, by the customer service that approved it or finance.
    pub const REFUND_FOLLOW_UP: &[StaffRole] = &[StaffRole::CustomerService, StaffRole::Finance];
}

/// The caller of one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Viewer {
    /// No token.
    Anonymous,
    /// A token was sent but is bad, expired or forged. Public fields still
    /// answer; anything that needs a role fails with `UNAUTHENTICATED`.
    InvalidToken,
    Customer(i64),
    /// A staff account (the ADMIN role).
    Admin(Staff),
    Supplier(i64),
}

impl Viewer {
    pub fn role(&self) -> Option<Role> {
        match self {
            Viewer::Customer(_) => Some(Role::Customer),
            Viewer::Admin(_) => Some(Role::Admin),
            Viewer::Supplier(_) => Some(Role::Supplier),
            Viewer::Anonymous | Viewer::InvalidToken => None,
        }
    }

    pub fn is_admin(&self) -> bool {
        matches!(self, Viewer::Admin(_))
    }

    fn require(&self, role: Role) -> AppResult<i64> {
        match (self, role) {
            (Viewer::Customer(id), Role::Customer) | (Viewer::Supplier(id), Role::Supplier) => {
                Ok(*id)
            }
            (Viewer::Admin(staff), Role::Admin) => Ok(staff.id),
            _ => Err(self.refused(role)),
        }
    }

    /// Why this viewer is not `role`.
    fn refused(&self, role: Role) -> AppError {
        match self {
            Viewer::Anonymous | Viewer::InvalidToken => self.unauthenticated(),
            _ => AppError::Forbidden(format!("only the {} role may do this", role.as_str())),
        }
    }

    fn unauthenticated(&self) -> AppError {
        match self {
            Viewer::InvalidToken => AppError::Unauthenticated(
                "the access token is invalid or expired; refresh it or sign in again".into(),
            ),
            _ => AppError::Unauthenticated(
                "sign in first: this needs an access token (Authorization: Bearer …)".into(),
            ),
        }
    }

    /// The caller's role, whichever it is (`logout`), or `UNAUTHENTICATED`.
    pub fn any_role(&self) -> AppResult<Role> {
        self.role().ok_or_else(|| self.unauthenticated())
    }

    /// The calling customer's id, or the right error.
    pub fn customer_id(&self) -> AppResult<i64> {
        self.require(Role::Customer)
    }

    /// The calling staff account's id when its role is `OWNER` or one of
    /// `may`, or the right error (`FORBIDDEN` for another staff role). The
    /// one place where staff roles are checked.
    pub fn staff_id(&self, may: &[StaffRole]) -> AppResult<i64> {
        Ok(self.staff(may)?.id)
    }

    /// [`Self::staff_id`], with the staff role.
    pub fn staff(&self, may: &[StaffRole]) -> AppResult<Staff> {
        let Viewer::Admin(staff) = *self else {
            return Err(self.refused(Role::Admin));
        };
        if staff.role == StaffRole::Owner || may.contains(&staff.role) {
            return Ok(staff);
        }
        let allowed: Vec<&str> = std::iter::once("OWNER")
            .chain(may.iter().map(StaffRole::as_str))
            .collect();
        Err(AppError::Forbidden(format!(
            "only the staff roles {} may do this; this account is {}",
            allowed.join(", "),
            staff.role.as_str()
        )))
    }

    /// The calling supplier's id, or the right error.
    pub fn supplier_id(&self) -> AppResult<i64> {
        self.require(Role::Supplier)
    }
}

/// Reads the viewer from a resolver's context.
pub trait ViewerExt {
    fn viewer(&self) -> Viewer;
}

impl ViewerExt for async_graphql::Context<'_> {
    fn viewer(&self) -> Viewer {
        self.data_opt::<Viewer>()
            .copied()
            .unwrap_or(Viewer::Anonymous)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guards_pick_the_right_code() {
        assert_eq!(Viewer::Customer(7).customer_id().unwrap(), 7);
        let owner = Viewer::Admin(Staff {
            id: 1,
            role: StaffRole::Owner,
        });
        let finance = Viewer::Admin(Staff {
            id: 2,
            role: StaffRole::Finance,
        });
        assert_eq!(owner.staff_id(staff::OWNER).unwrap(), 1);
        assert_eq!(owner.staff_id(staff::OPERATIONS).unwrap(), 1);
        assert_eq!(finance.staff_id(staff::FINANCE).unwrap(), 2);
        assert_eq!(finance.staff_id(staff::ANY).unwrap(), 2);
        assert_eq!(
            finance.staff_id(staff::SERVICE).unwrap_err().code(),
            "FORBIDDEN"
        );
        assert_eq!(
            finance.staff_id(staff::OWNER).unwrap_err().code(),
            "FORBIDDEN"
        );
        assert_eq!(Viewer::Supplier(3).supplier_id().unwrap(), 3);
        assert_eq!(
            Viewer::Anonymous.customer_id().unwrap_err().code(),
            "UNAUTHENTICATED"
        );
        assert_eq!(
            Viewer::InvalidToken
                .staff_id(staff::ANY)
                .unwrap_err()
                .code(),
            "UNAUTHENTICATED"
        );
        assert_eq!(
            Viewer::Customer(7).staff_id(staff::ANY).unwrap_err().code(),
            "FORBIDDEN"
        );
        assert_eq!(owner.customer_id().unwrap_err().code(), "FORBIDDEN");
        assert_eq!(
            Viewer::Supplier(1).customer_id().unwrap_err().code(),
            "FORBIDDEN"
        );
        assert_eq!(
            Viewer::Customer(1).supplier_id().unwrap_err().code(),
            "FORBIDDEN"
        );
        assert_eq!(Viewer::Supplier(2).any_role().unwrap(), Role::Supplier);
        assert_eq!(
            Viewer::InvalidToken.any_role().unwrap_err().code(),
            "UNAUTHENTICATED"
        );
    }
}
