//! Access tokens: HS256 JWTs with pinned algorithm, issuer and audience.
use std::time::Duration;

use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use super::{Role, Viewer};
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
}

/// Signing and verification keys derived from `JWT_SECRET`.
pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    ttl: Duration,
}

impl JwtKeys {
    pub fn new(secret: &str, ttl: Duration) -> Self {
        // Only HS256 is accepted: `alg: none` or an RS/HS confusion fails here.
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = 5;
        Self {
            encoding: EncodingKey::from_secret(secret.as_bytes()),
            decoding: DecodingKey::from_secret(secret.as_bytes()),
            validation,
            ttl,
        }
    }

    /// A signed access token and its expiry.
    pub fn issue(&self, role: Role, subject_id: i64) -> AppResult<(String, DateTime<Utc>)> {
        let now = Utc::now();
        let exp = now + chrono::Duration::from_std(self.ttl).map_err(AppError::internal)?;
        let claims = Claims {
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            sub: subject_id.to_string(),
            role,
            iat: now.timestamp(),
            exp: exp.timestamp(),
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(AppError::internal)?;
        Ok((token, exp))
    }

    /// The viewer a token speaks for; any defect gives `InvalidToken`.
    pub fn viewer(&self, token: &str) -> Viewer {
        let Ok(data) = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
        else {
            return Viewer::InvalidToken;
        };
        let Ok(id) = data.claims.sub.parse::<i64>() else {
            return Viewer::InvalidToken;
        };
        match data.claims.role {
            Role::Customer => Viewer::Customer(id),
            Role::Admin => Viewer::Admin(id),
            Role::Supplier => Viewer::Supplier(id),
        }
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

    #[test]
    fn round_trip() {
        let (t, _) = keys().issue(Role::Admin, 3).unwrap();
        assert_eq!(keys().viewer(&t), Viewer::Admin(3));
    }

    #[test]
    fn forged_expired_and_none_tokens_are_invalid() {
        let (t, _) = keys().issue(Role::Customer, 1).unwrap();
        let other = JwtKeys::new("another-secret-another-secret-xx", Duration::from_secs(60));
        assert_eq!(other.viewer(&t), Viewer::InvalidToken);

        let now = Utc::now().timestamp();
        let claims = serde_json::json!({"iss": ISSUER, "aud": AUDIENCE, "sub": "1", "role": "ADMIN", "iat": now, "exp": now + 600});
        let none = format!(
            "{}.{}.",
            b64(serde_json::json!({"alg": "none", "typ": "JWT"})),
            b64(claims.clone())
        );
        assert_eq!(keys().viewer(&none), Viewer::InvalidToken);

        let enc = EncodingKey::from_secret(SECRET.as_bytes());
        let expired = serde_json::json!({"iss": ISSUER, "aud": AUDIENCE, "sub": "1", "role": "ADMIN", "iat": now - 900, "exp": now - 600});
        let t = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &expired, &enc).unwrap();
        assert_eq!(keys().viewer(&t), Viewer::InvalidToken);

        let wrong_aud = serde_json::json!({"iss": ISSUER, "aud": "other", "sub": "1", "role": "ADMIN", "iat": now, "exp": now + 600});
        let t = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &wrong_aud, &enc).unwrap();
        assert_eq!(keys().viewer(&t), Viewer::InvalidToken);

        let hs512 = jsonwebtoken::encode(&Header::new(Algorithm::HS512), &claims, &enc).unwrap();
        assert_eq!(keys().viewer(&hs512), Viewer::InvalidToken);
        assert_eq!(keys().viewer("garbage"), Viewer::InvalidToken);
    }
}
