//! The client's address behind proxies (`TRUSTED_PROXIES`).
//!
//! Each proxy appends the address it received the request from to
//! `X-Forwarded-For`, so only the right-most entries were written by proxies
//! we run; everything to their left is whatever the client sent. With `N`
//! trusted proxies the client is the entry `N` hops from the right: the one
//! our outermost proxy saw. Taking the left-most entry instead would let a
//! client choose the address that per-IP limits count against (its own
//! rotated at will, or someone else's to lock them out).
use std::net::{IpAddr, SocketAddr};

/// The address per-client limits count against. `forwarded_for` are the
/// `X-Forwarded-For` header lines in the order received (several lines are
/// one list, as HTTP joins repeated fields). Fewer entries than
/// `trusted_proxies` means the request skipped a proxy: the left-most entry
/// is then the closest we have to a client, as Express's `trust proxy` does.
pub fn client_address<'a>(
    peer: Option<IpAddr>,
    forwarded_for: impl IntoIterator<Item = &'a str>,
    trusted_proxies: usize,
) -> String {
    let peer = || peer.map_or_else(|| "unknown".to_string(), |ip| ip.to_string());
    if trusted_proxies == 0 {
        return peer();
    }
    let hops: Vec<&str> = forwarded_for
        .into_iter()
        .flat_map(|line| line.split(','))
        .map(str::trim)
        .filter(|hop| !hop.is_empty())
        .collect();
    let Some(hop) = hops
        .len()
        .checked_sub(trusted_proxies)
        .map_or(hops.first(), |i| hops.get(i))
    else {
        return peer();
    };
    normalize(hop)
}

/// Proxies write `1.2.3.4`, `1.2.3.4:5678`, `::1` or `[::1]:5678`; the port
/// changes with every connection and must not split one client in two.
fn normalize(hop: &str) -> String {
    if let Ok(ip) = hop.parse::<IpAddr>() {
        return ip.to_string();
    }
    if let Ok(addr) = hop.parse::<SocketAddr>() {
        return addr.ip().to_string();
    }
    // Written by a proxy we trust (`unknown`, an obfuscated id): kept as it
    // is, bounded, so it still tells clients apart.
    hop.chars().take(64).collect()
}

#[cfg(test)]
mod tests {
    use super::client_address;
    use std::net::{IpAddr, Ipv4Addr};

    const PEER: Option<IpAddr> = Some(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)));

    #[test]
    fn no_trusted_proxy_ignores_the_header() {
        assert_eq!(client_address(PEER, ["6.6.6.6"], 0), "10.0.0.2");
        assert_eq!(client_address(None, ["6.6.6.6"], 0), "unknown");
    }

    #[test]
    fn the_client_is_n_hops_from_the_right() {
        let xff = ["6.6.6.6, 203.0.113.7, 198.51.100.1"];
        assert_eq!(client_address(PEER, xff, 1), "198.51.100.1");
        assert_eq!(client_address(PEER, xff, 2), "203.0.113.7");
        assert_eq!(client_address(PEER, xff, 3), "6.6.6.6");
        // Repeated header lines are one list, in order.
        assert_eq!(
            client_address(PEER, ["6.6.6.6", "203.0.113.7"], 1),
            "203.0.113.7"
        );
    }

    #[test]
    fn short_or_missing_headers() {
        assert_eq!(client_address(PEER, ["203.0.113.7"], 2), "203.0.113.7");
        assert_eq!(client_address(PEER, [], 1), "10.0.0.2");
        assert_eq!(client_address(PEER, [" , "], 1), "10.0.0.2");
    }

    #[test]
    fn ports_are_dropped() {
        assert_eq!(client_address(PEER, ["203.0.113.7:4711"], 1), "203.0.113.7");
        assert_eq!(
            client_address(PEER, ["[2001:db8::1]:443"], 1),
            "2001:db8::1"
        );
        assert_eq!(client_address(PEER, ["2001:DB8::1"], 1), "2001:db8::1");
    }
}
