//! HTTP calls to addresses that someone else chose (supplier webhooks), made
//! so that they cannot be aimed at the inside of our network.
//!
//! A webhook URL is typed in by an admin and may be changed by whoever holds
//! that account; the server then POSTs signed order data (buyer phone
//! included) to it from inside the data centre. So the client that sends it:
//!
//! - follows no redirect (a 307 would re-post the signed body elsewhere);
//! - uses no proxy (a proxy would connect inward on our behalf);
//! - in production speaks https only;
//! - connects only to public addresses: every address a name resolves to is
//!   checked on every attempt, inside the connector's DNS step, so a name
//!   that resolved to a public address when it was saved and to 127.0.0.1
//!   now (DNS rebinding) is refused when it matters. reqwest connects to an
//!   IP literal without asking the resolver, so literals are checked before
//!   the request is built.
//!
//! `WEBHOOK_ALLOWED_HOSTS` admits named on-premise receivers on purpose;
//! they are sent through a second client without the address check (still
//! no redirects, no proxy).
use std::{
    net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr},
    sync::Arc,
    time::Duration,
};

use reqwest::{
    Url,
    dns::{Addrs, Name, Resolve, Resolving},
    redirect,
};

/// Why a target is refused: shown to the admin and recorded on the attempt.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Refused(pub String);

/// One `WEBHOOK_ALLOWED_HOSTS` entry: a host, on any port or on one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AllowedHost {
    /// As `Url::host_str` spells it (lower case, IPv6 in brackets).
    host: String,
    port: Option<u16>,
}

impl AllowedHost {
    /// A comma-separated list of `host` or `host:port` (IPv6 as `[::1]` or
    /// `[::1]:8080`; a bare IPv6 address means any port).
    pub fn parse_list(list: &str) -> Result<Vec<Self>, String> {
        list.split(',')
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .map(Self::parse)
            .collect()
    }

    fn parse(entry: &str) -> Result<Self, String> {
        let bad = || format!("{entry:?} is not a host or host:port");
        let (host, port) = if entry.starts_with('[') {
            let end = entry.find(']').ok_or_else(bad)?;
            match &entry[end + 1..] {
                "" => (&entry[..=end], None),
                rest => (
                    &entry[..=end],
                    Some(rest.strip_prefix(':').ok_or_else(bad)?),
                ),
            }
        } else if entry.matches(':').count() == 1 {
            let (host, port) = entry.split_once(':').ok_or_else(bad)?;
            (host, Some(port))
        } else if entry.contains(':') {
            // A bare IPv6 address: brackets make the URL parser read it as one.
            return Self::parse(&format!("[{entry}]"));
        } else {
            (entry, None)
        };
        let port = port
            .map(|p| p.parse::<u16>().map_err(|_| bad()))
            .transpose()?;
        // The URL parser spells the host the way a target URL's host will be
        // spelled (case, IDNA, IPv4 shorthands), so the two compare equal.
        let url = Url::parse(&format!("http://{host}/")).map_err(|_| bad())?;
        let host = url.host_str().filter(|h| !h.is_empty()).ok_or_else(bad)?;
        Ok(Self {
            host: host.to_string(),
            port,
        })
    }

    fn admits(&self, url: &Url) -> bool {
        url.host_str() == Some(self.host.as_str())
            && self
                .port
                .is_none_or(|p| url.port_or_known_default() == Some(p))
    }
}

/// Whether an address belongs to the public internet. Refused: loopback,
/// private (RFC 1918, IPv6 unique local), link-local (the cloud metadata
/// address 169.254.169.254 among them), shared/CGNAT 100.64.0.0/10 (Alibaba
/// Cloud's metadata service is 100.100.100.200), multicast, unspecified,
/// broadcast and reserved; IPv6 forms that carry an IPv4 address
/// (v4-mapped, v4-compatible, NAT64) are judged by that address.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    !(ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_multicast()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || a == 0 // "this network"
        || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT)
        || (a == 192 && b == 0 && ip.octets()[2] == 0) // IETF protocol assignments
        || a >= 240) // reserved
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_public_v4(v4);
    }
    let segments = ip.segments();
    // v4-compatible (::a.b.c.d, deprecated but still routed by some stacks)
    // and NAT64 (64:ff9b::/96) reach the IPv4 address they carry.
    if segments[..6] == [0; 6] || segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        let [.., hi, lo] = segments;
        let v4 = Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo));
        return !ip.is_loopback() && !ip.is_unspecified() && is_public_v4(v4);
    }
    !(ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || ip.is_unique_local()
        || ip.is_unicast_link_local()
        || segments[0] & 0xffc0 == 0xfec0) // site-local (deprecated)
}

/// A resolver that answers only with public addresses: a name with any
/// other address among its answers is refused as a whole, so that a
/// connection attempt can never fall through to the inward one.
struct PublicOnly;

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        Box::pin(async move {
            let host = name.as_str().to_string();
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            check_resolved(&host, &addrs)?;
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

fn check_resolved(host: &str, addrs: &[SocketAddr]) -> Result<(), Refused> {
    if let Some(inner) = addrs.iter().find(|a| !is_public(a.ip())) {
        return Err(Refused(format!(
            "{host} resolves to {}, which is not a public address (WEBHOOK_ALLOWED_HOSTS admits on-premise receivers)",
            inner.ip()
        )));
    }
    Ok(())
}

/// Which client sends to a target that passed the checks.
#[derive(Debug, PartialEq, Eq)]
enum Route {
    /// Named in `WEBHOOK_ALLOWED_HOSTS`: no address check.
    Allowed,
    /// Anything else: only public addresses, checked at connect time.
    Public,
}

/// The clients for webhook deliveries, and the rule for their targets.
#[derive(Clone)]
pub struct GuardedClient {
    public: reqwest::Client,
    allowed: reqwest::Client,
    allow_list: Arc<Vec<AllowedHost>>,
    https_only: bool,
    timeout: Duration,
}

impl GuardedClient {
    pub fn new(
        allow_list: Vec<AllowedHost>,
        https_only: bool,
        timeout: Duration,
    ) -> reqwest::Result<Self> {
        let base = || {
            reqwest::Client::builder()
                .redirect(redirect::Policy::none())
                .no_proxy()
                .https_only(https_only)
                .timeout(timeout)
                .connect_timeout(timeout)
        };
        Ok(Self {
            public: base().dns_resolver(PublicOnly).build()?,
            allowed: base().build()?,
            allow_list: Arc::new(allow_list),
            https_only,
            timeout,
        })
    }

    fn route(&self, url: &str) -> Result<(Url, Route), Refused> {
        let url = Url::parse(url).map_err(|_| Refused("must be an absolute http(s) URL".into()))?;
        match url.scheme() {
            "https" => {}
            "http" if !self.https_only => {}
            "http" => return Err(Refused("must be an https URL in production".into())),
            _ => return Err(Refused("must be an http(s) URL".into())),
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(Refused("must not carry a user name or password".into()));
        }
        if self.allow_list.iter().any(|a| a.admits(&url)) {
            return Ok((url, Route::Allowed));
        }
        let literal = match url.host() {
            Some(url::Host::Ipv4(ip)) => Some(IpAddr::V4(ip)),
            Some(url::Host::Ipv6(ip)) => Some(IpAddr::V6(ip)),
            Some(url::Host::Domain(_)) => None,
            None => return Err(Refused("must name a host".into())),
        };
        if let Some(ip) = literal.filter(|ip| !is_public(*ip)) {
            return Err(Refused(format!(
                "{ip} is not a public address (WEBHOOK_ALLOWED_HOSTS admits on-premise receivers)"
            )));
        }
        Ok((url, Route::Public))
    }

    /// A POST to `url`, or why it may not be sent. Names are checked again
    /// when the connection is made.
    pub fn post(&self, url: &str) -> Result<reqwest::RequestBuilder, Refused> {
        let (url, route) = self.route(url)?;
        let client = match route {
            Route::Allowed => &self.allowed,
            Route::Public => &self.public,
        };
        Ok(client.post(url))
    }

    /// Checks a URL when it is saved, resolving its name once: an early
    /// answer for the admin. A name that does not resolve (yet) passes; the
    /// check at connect time is the one that holds.
    pub async fn vet(&self, url: &str) -> Result<(), Refused> {
        let (url, route) = self.route(url)?;
        if route == Route::Allowed {
            return Ok(());
        }
        if let (Some(url::Host::Domain(host)), Some(port)) =
            (url.host(), url.port_or_known_default())
            && let Ok(Ok(addrs)) =
                tokio::time::timeout(self.timeout, tokio::net::lookup_host((host, port))).await
        {
            check_resolved(host, &addrs.collect::<Vec<_>>())?;
        }
        Ok(())
    }
}

/// The refusal behind a failed send, if the guard was what stopped it.
pub fn refusal(err: &reqwest::Error) -> Option<&Refused> {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = source {
        if let Some(refused) = e.downcast_ref::<Refused>() {
            return Some(refused);
        }
        source = e.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn inward_addresses_are_not_public() {
        for inward in [
            "127.0.0.1",
            "127.9.9.9",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "100.100.100.200",
            "0.0.0.0",
            "0.1.2.3",
            "224.0.0.1",
            "255.255.255.255",
            "240.0.0.1",
            "192.0.0.8",
            "::1",
            "::",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "fec0::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::ffff:169.254.169.254",
            "::127.0.0.1",
            "64:ff9b::a9fe:a9fe",
        ] {
            assert!(!is_public(ip(inward)), "{inward}");
        }
        for public in [
            "1.1.1.1",
            "8.8.8.8",
            "172.32.0.1",
            "100.128.0.1",
            "203.0.113.9",
            "2001:4860:4860::8888",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
        ] {
            assert!(is_public(ip(public)), "{public}");
        }
    }

    #[test]
    fn allow_list_entries() {
        let list = AllowedHost::parse_list(
            " Hooks.Local , 127.0.0.1:9000, [::1]:8443, ::1, erp.corp:80 ,",
        )
        .unwrap();
        let url = |u: &str| Url::parse(u).unwrap();
        let admitted = |u: &str| list.iter().any(|a| a.admits(&url(u)));
        assert!(admitted("http://hooks.local:1234/x"));
        assert!(admitted("https://HOOKS.local/x"));
        assert!(admitted("http://127.0.0.1:9000/x"));
        assert!(!admitted("http://127.0.0.1:9001/x"));
        assert!(admitted("https://[::1]:8443/"));
        assert!(admitted("https://[::1]:1/"), "bare ::1 admits any port");
        assert!(admitted("http://erp.corp/"), "the default port counts");
        assert!(!admitted("https://erp.corp/"));
        assert!(!admitted("http://hooks.local.evil.com/"));
        for bad in ["a:b", "[::1", "[::1]x", "host:99999", "a b"] {
            assert!(AllowedHost::parse_list(bad).is_err(), "{bad}");
        }
    }

    fn client(allow: &str, https_only: bool) -> GuardedClient {
        // As at start-up: reqwest is built without a crypto provider.
        let _ = rustls::crypto::ring::default_provider().install_default();
        GuardedClient::new(
            AllowedHost::parse_list(allow).unwrap(),
            https_only,
            Duration::from_secs(1),
        )
        .unwrap()
    }

    #[test]
    fn literal_hosts_are_checked_before_sending() {
        let c = client("", false);
        for inward in [
            "http://127.0.0.1:8080/hook",
            "http://[::1]/hook",
            "http://[::ffff:7f00:1]/hook",
            "http://2130706433/hook",
            "http://0x7f.1/hook",
            "http://10.0.0.1/hook",
            "http://169.254.169.254/latest/meta-data",
        ] {
            assert!(c.route(inward).is_err(), "{inward}");
        }
        assert_eq!(c.route("http://8.8.8.8/h").unwrap().1, Route::Public);
        assert_eq!(
            c.route("http://hooks.example.com/h").unwrap().1,
            Route::Public
        );
        assert!(c.route("ftp://example.com/").is_err());
        assert!(c.route("http://user:pw@example.com/").is_err());
        let allowed = client("127.0.0.1:8080", false);
        assert_eq!(
            allowed.route("http://127.0.0.1:8080/hook").unwrap().1,
            Route::Allowed
        );
        assert!(allowed.route("http://127.0.0.1:8081/hook").is_err());
    }

    #[test]
    fn production_sends_https_only() {
        let c = client("127.0.0.1", true);
        assert!(c.route("http://hooks.example.com/h").is_err());
        assert!(c.route("http://127.0.0.1/h").is_err());
        assert!(c.route("https://hooks.example.com/h").is_ok());
    }

    #[tokio::test]
    async fn names_are_resolved_and_checked() {
        let c = client("", false);
        let refused = c.vet("http://localhost:1/hook").await.unwrap_err();
        assert!(refused.0.contains("not a public address"), "{refused}");
        // The connector refuses too, on every attempt, without sending.
        let err = c
            .post("http://localhost:1/hook")
            .unwrap()
            .send()
            .await
            .unwrap_err();
        assert!(refusal(&err).is_some(), "{err:?}");
        assert!(
            client("localhost", false)
                .vet("http://localhost:1/")
                .await
                .is_ok()
        );
    }
}
