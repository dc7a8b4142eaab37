//! Ending sessions before their access tokens expire.
//!
//! An access token is valid until its `exp` by itself; to sign out at once,
//! every token names its session (`sid`, the refresh family it was issued
//! with) and its issue time in milliseconds, and the shared cache holds two
//! kinds of revocation, each for as long as a token can still be accepted
//! ([`JwtKeys::accepted_for`]), after which the tokens it voids have expired
//! anyway:
//!
//! - `auth:revoked:<sid>`: that session ended (`logout`, a refresh token
//!   reused after the grace window).
//! - `auth:not-before:<ROLE>:<id>`: every token of that subject issued at or
//!   before this millisecond is void (a supplier disabled or its API key
//!   rotated, the admin's password changed). One key per subject, however
//!   many sessions it has.
//!
//! The request path reads both in one round trip (an MGET on Redis) and
//! never the database. Writes go through [`Cache::pin`]: on Redis every
//! instance sees them at once; the in-process store keeps them where
//! eviction cannot reach. When the cache cannot answer, a token is accepted
//! (fail open, like the rate limits): refusing every signed-in user while
//! Redis is down would be the larger harm, and the outage is logged and
//! counted.
//!
//! The comparison with `not-before` assumes the instances' clocks agree
//! to well under a request's duration (NTP).
use chrono::Utc;

use super::{Role, Viewer, token::JwtKeys};
use crate::{
    cache::{Cache, keys},
    error::{AppError, AppResult},
};

/// The session of the request's access token (request data next to the
/// [`Viewer`], for `logout`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    /// The refresh family the token was issued with.
    pub sid: String,
}

/// The viewer a bearer token speaks for, and its session: a token that is
/// forged, expired or whose session was ended is `InvalidToken`.
pub async fn authenticate(jwt: &JwtKeys, cache: &Cache, token: &str) -> (Viewer, Option<Session>) {
    let Some(claims) = jwt.verify(token) else {
        return (Viewer::InvalidToken, None);
    };
    let found = cache
        .get_many_bytes(&[
            keys::revoked_session(&claims.sid),
            keys::subject_not_before(claims.role.as_str(), claims.subject_id),
        ])
        .await;
    let ended = found.first().is_some_and(Option::is_some);
    let not_before = found
        .get(1)
        .and_then(Option::as_deref)
        .and_then(|b| std::str::from_utf8(b).ok())
        .and_then(|s| s.parse::<i64>().ok());
    if ended || not_before.is_some_and(|nb| claims.issued_ms <= nb) {
        return (Viewer::InvalidToken, None);
    }
    (claims.viewer(), Some(Session { sid: claims.sid }))
}

/// Voids every access token of session `sid` from now on. Its refresh
/// tokens are the caller's to revoke (they live in the database).
pub async fn end_session(jwt: &JwtKeys, cache: &Cache, sid: &str) -> AppResult<()> {
    cache
        .pin(
            &keys::revoked_session(sid),
            b"1".to_vec(),
            jwt.accepted_for(),
        )
        .await
        .map_err(|e| {
            AppError::internal(anyhow::anyhow!(
                "the session could not be ended: the cache did not take its revocation ({e})"
            ))
        })
}

/// Voids every access token issued so far to one subject (all its
/// sessions). Call it after the change that takes away its right to sign
/// in has committed, so that a token issued by a sign-in racing with that
/// change is older than the mark.
pub async fn end_subject_sessions(
    jwt: &JwtKeys,
    cache: &Cache,
    role: Role,
    subject_id: i64,
) -> AppResult<()> {
    let now_ms = Utc::now().timestamp_millis();
    cache
        .pin(
            &keys::subject_not_before(role.as_str(), subject_id),
            now_ms.to_string().into_bytes(),
            jwt.accepted_for(),
        )
        .await
        .map_err(|e| {
            AppError::internal(anyhow::anyhow!(
                "the sessions of {} {subject_id} could not be ended: the cache did not take the revocation ({e})",
                role.as_str()
            ))
        })
}

#[cfg(test)]
mod tests {
    use std::{sync::Arc, time::Duration};

    use super::*;
    use crate::cache::MemoryCache;

    fn setup() -> (JwtKeys, Cache) {
        (
            JwtKeys::new("0123456789abcdef0123456789abcdef", Duration::from_secs(60)),
            Cache::new(Arc::new(MemoryCache::default()), "t"),
        )
    }

    #[tokio::test]
    async fn ended_sessions_and_subjects_void_their_tokens() {
        let (jwt, cache) = setup();
        let (a, _) = jwt.issue(Role::Supplier, 1, None, "fam-a").unwrap();
        let (b, _) = jwt.issue(Role::Supplier, 1, None, "fam-b").unwrap();
        let (other, _) = jwt.issue(Role::Supplier, 2, None, "fam-c").unwrap();
        let (viewer, session) = authenticate(&jwt, &cache, &a).await;
        assert_eq!(viewer, Viewer::Supplier(1));
        assert_eq!(session.unwrap().sid, "fam-a");

        end_session(&jwt, &cache, "fam-a").await.unwrap();
        assert_eq!(
            authenticate(&jwt, &cache, &a).await,
            (Viewer::InvalidToken, None)
        );
        assert_eq!(authenticate(&jwt, &cache, &b).await.0, Viewer::Supplier(1));

        end_subject_sessions(&jwt, &cache, Role::Supplier, 1)
            .await
            .unwrap();
        assert_eq!(authenticate(&jwt, &cache, &b).await.0, Viewer::InvalidToken);
        assert_eq!(
            authenticate(&jwt, &cache, &other).await.0,
            Viewer::Supplier(2)
        );
        // A token issued after the mark is good (a supplier enabled again).
        tokio::time::sleep(Duration::from_millis(2)).await;
        let (fresh, _) = jwt.issue(Role::Supplier, 1, None, "fam-d").unwrap();
        assert_eq!(
            authenticate(&jwt, &cache, &fresh).await.0,
            Viewer::Supplier(1)
        );
        assert_eq!(
            authenticate(&jwt, &cache, "garbage").await,
            (Viewer::InvalidToken, None)
        );
    }
}
