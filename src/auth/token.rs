//! Access tokens: HS256 JWTs with pinned algorithm, issuer and audience.
use std::time::Duration;

use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use super::{Role, Staff, StaffRole, Viewer};
use crate::error::{AppError, AppResult};

const ISSUER: &str = "siyu";
const AUDIENCE: &str = "siyu-api";

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    iss: String,
    aud: String,
    /// Subject id (customer, admin or supplier, by `role`).
    sub: String,
    role: Role,
    iat: i64,
    exp: i64,
    /// The session: the refresh family the token was issued with, so that
    /// signing out (`auth::session`) can void it before `exp`. Required: a
    /// token from before sessions existed cannot be signed out, so it is
    /// refused.
    sid: String,
    /// When it was issued, in milliseconds: `iat` has whole seconds, too
    /// coarse to tell a token issued just before a supplier was disabled
    /// from one issued just after it was enabled again.
    iat_ms: i64,
    /// The staff role of an ADMIN token (required for ADMIN: a token from
    /// before staff roles is refused, so its holder signs in again).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    staff: Option<StaffRole>,
}

/// What a valid access token says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verified {
    pub role: Role,
    pub subject_id: i64,
    /// The session (refresh family) it belongs to.
    pub sid: String,
    /// Issue time, milliseconds since the Unix epoch.
    pub issued_ms: i64,
    /// The staff role of an ADMIN token (always there for ADMIN).
    pub staff: Option<StaffRole>,
}

impl Verified {
    /// The viewer the token speaks for.
    pub fn viewer(&self) -> Viewer {
        match (self.role, self.staff) {
            (Role::Customer, _) => Viewer::Customer(self.subject_id),
            (Role::Admin, Some(role)) => Viewer::Admin(Staff {
                id: self.subject_id,
                role,
            }),
            (Role::Admin, None) => Viewer::InvalidToken,
            (Role::Supplier, _) => Viewer::Supplier(self.subject_id),
        }
    }
}

/// Signing and verification keys derived from `JWT_SECRET`.
pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    ttl: Duration,
}

/// Clock leeway allowed on `exp`.
const LEEWAY_SECS: u64 = 5;

impl JwtKeys {
    pub fn new(secret: &str, ttl: Duration) -> Self {
        // Only HS256 is accepted: `alg: none` or an RS/HS confusion fails here.
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = LEEWAY_SECS;
        Self {
            encoding: EncodingKey::from_secret(secret.as_bytes()),
            decoding: DecodingKey::from_secret(secret.as_bytes()),
            validation,
            ttl,
        }
    }

    /// How long after its issue a token may still be accepted (its
    /// lifetime and the leeway): a revocation must be kept that long.
    pub fn accepted_for(&self) -> Duration {
        self.ttl + Duration::from_secs(LEEWAY_SECS)
    }

    /// A signed access token of session `sid` and its expiry; `staff` is
    /// the staff role of an ADMIN subject.
    pub fn issue(
        &self,
        role: Role,
        subject_id: i64,
        staff: Option<StaffRole>,
        sid: &str,
    ) -> AppResult<(String, DateTime<Utc>)> {
        let now = Utc::now();
        let exp = now + chrono::Duration::from_std(self.ttl).map_err(AppError::internal)?;
        let claims = Claims {
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            sub: subject_id.to_string(),
            role,
            iat: now.timestamp(),
            exp: exp.timestamp(),
            sid: sid.to_string(),
            iat_ms: now.timestamp_millis(),
            staff: staff.filter(|_| role == Role::Admin),
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(AppError::internal)?;
        Ok((token, exp))
    }

    /// What a token says when it is genuine and not expired; `None` for any
    /// defect. Whether its session was ended is `auth::session`'s question.
    pub fn verify(&self, token: &str) -> Option<Verified> {
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation).ok()?;
        let subject_id = data.claims.sub.parse::<i64>().ok()?;
        if data.claims.sid.is_empty()
            || (data.claims.role == Role::Admin) != data.claims.staff.is_some()
        {
            return None;
        }
        Some(Verified {
            role: data.claims.role,
            subject_id,
            sid: data.claims.sid,
            issued_ms: data.claims.iat_ms,
            staff: data.claims.staff,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;

    const SECRET: &str = "0123456789abcdef0123456789abcdef";

    fn keys() -> JwtKeys {
        JwtKeys::new(SECRET, Duration::from_secs(60))
    }

    fn b64(v: serde_json::Value) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
    }

    fn viewer(keys: &JwtKeys, token: &str) -> Viewer {
        keys.verify(token)
            .map_or(Viewer::InvalidToken, |v| v.viewer())
    }

    #[test]
    fn round_trip() {
        let (t, _) = keys()
            .issue(Role::Admin, 3, Some(StaffRole::Finance), "family-1")
            .unwrap();
        let v = keys().verify(&t).unwrap();
        assert_eq!(
            v.viewer(),
            Viewer::Admin(Staff {
                id: 3,
                role: StaffRole::Finance
            })
        );
        assert_eq!(v.sid, "family-1");
        assert!((v.issued_ms - Utc::now().timestamp_millis()).abs() < 5_000);
    }

    #[test]
    fn admin_tokens_without_a_staff_role_are_invalid() {
        let now = Utc::now().timestamp();
        let enc = EncodingKey::from_secret(SECRET.as_bytes());
        let old = serde_json::json!({"iss": ISSUER, "aud": AUDIENCE, "sub": "1", "role": "ADMIN", "iat": now, "exp": now + 600, "sid": "f", "iat_ms": now * 1000});
        let t = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &old, &enc).unwrap();
        assert_eq!(viewer(&keys(), &t), Viewer::InvalidToken);
    }

    #[test]
    fn tokens_without_a_session_are_invalid() {
        let now = Utc::now().timestamp();
        let enc = EncodingKey::from_secret(SECRET.as_bytes());
        let old = serde_json::json!({"iss": ISSUER, "aud": AUDIENCE, "sub": "1", "role": "ADMIN", "iat": now, "exp": now + 600});
        let t = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &old, &enc).unwrap();
        assert_eq!(viewer(&keys(), &t), Viewer::InvalidToken);
    }

    #[test]
    fn forged_expired_and_none_tokens_are_invalid() {
        let (t, _) = keys().issue(Role::Customer, 1, None, "f").unwrap();
        let other = JwtKeys::new("another-secret-another-secret-xx", Duration::from_secs(60));
        assert_eq!(viewer(&other, &t), Viewer::InvalidToken);

        let now = Utc::now().timestamp();
        let claims = serde_json::json!({"iss": ISSUER, "aud": AUDIENCE, "sub": "1", "role": "ADMIN", "iat": now, "exp": now + 600, "sid": "f", "iat_ms": now * 1000});
        let none = format!(
            "{}.{}.",
            b64(serde_json::json!({"alg": "none", "typ": "JWT"})),
            b64(claims.clone())
        );
        assert_eq!(viewer(&keys(), &none), Viewer::InvalidToken);

        let enc = EncodingKey::from_secret(SECRET.as_bytes());
        let expired = serde_json::json!({"iss": ISSUER, "aud": AUDIENCE, "sub": "1", "role": "ADMIN", "iat": now - 900, "exp": now - 600, "sid": "f", "iat_ms": (now - 900) * 1000});
        let t = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &expired, &enc).unwrap();
        assert_eq!(viewer(&keys(), &t), Viewer::InvalidToken);

        let wrong_aud = serde_json::json!({"iss": ISSUER, "aud": "other", "sub": "1", "role": "ADMIN", "iat": now, "exp": now + 600, "sid": "f", "iat_ms": now * 1000});
        let t = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &wrong_aud, &enc).unwrap();
        assert_eq!(viewer(&keys(), &t), Viewer::InvalidToken);

        let hs512 = jsonwebtoken::encode(&Header::new(Algorithm::HS512), &claims, &enc).unwrap();
        assert_eq!(viewer(&keys(), &hs512), Viewer::InvalidToken);
        assert_eq!(viewer(&keys(), "garbage"), Viewer::InvalidToken);
    }
}
