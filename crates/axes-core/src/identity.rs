//! Client identity (SPEC §3): which IP an attempt comes from, and the
//! canonical form of IPs, usernames and other recorded fields.

use std::net::IpAddr;

use ipnet::{IpNet, Ipv6Net};
use unicode_normalization::UnicodeNormalization;

/// The longest value kept for usernames, user agents and paths (characters),
/// as in the original's columns.
pub const MAX_FIELD_CHARS: usize = 255;
/// The longest `Accept` header kept (characters).
pub const MAX_ACCEPT_CHARS: usize = 1025;
/// The longest rendering of query or form data kept (characters).
pub const MAX_DATA_CHARS: usize = 1024;

/// Resolves the client IP from the socket peer and a forwarded header.
///
/// The peer is the client unless it is a trusted proxy; then the client is
/// the right-most address of the forwarded header that is not itself a
/// trusted proxy. A client can never choose its own IP by sending a header.
#[derive(Debug, Clone, Default)]
pub struct ClientIpResolver {
    trusted_proxies: Vec<IpNet>,
}

impl ClientIpResolver {
    /// A resolver that believes forwarded headers only from `trusted_proxies`.
    pub fn new(trusted_proxies: Vec<IpNet>) -> Self {
        Self { trusted_proxies }
    }

    fn is_trusted(&self, ip: IpAddr) -> bool {
        let ip = fold_mapped(ip);
        self.trusted_proxies.iter().any(|n| n.contains(&ip))
    }

    /// The client IP. `forwarded` holds the values of every instance of the
    /// configured header, in the order received.
    ///
    /// `None` (unknown) when there is no peer, or when the peer is a trusted
    /// proxy and the entry it vouches for is malformed (`unknown`, an
    /// obfuscated identifier, a zone index, a decimal or zero-padded IPv4…):
    /// such an attempt is never counted under the proxy's own address, which
    /// would let one client lock out everyone behind the proxy. A chain of
    /// more than [`MAX_FORWARDED_HOPS`] trusted hops is unknown too. A
    /// trusted peer that sends no header is itself the client; one that sends
    /// an empty header (or one of only commas) names no client: unknown.
    pub fn resolve<'a>(
        &self,
        peer: Option<IpAddr>,
        forwarded: impl IntoIterator<Item = &'a str>,
    ) -> Option<IpAddr> {
        let peer = peer.map(fold_mapped)?;
        if !self.is_trusted(peer) {
            return Some(peer);
        }
        let values: Vec<&str> = forwarded.into_iter().collect();
        if values.is_empty() {
            // No header: the trusted peer is itself the client.
            return Some(peer);
        }
        // Right to left: the right-most entries were appended by our proxies.
        let mut hops = values
            .iter()
            .rev()
            .flat_map(|v| v.rsplit(','))
            .map(str::trim)
            .filter(|s| !s.is_empty());
        let mut last = peer;
        for seen in 0..MAX_FORWARDED_HOPS {
            let Some(hop) = hops.next() else {
                // A header with no entry at all (empty, or only commas)
                // names no client: unknown, not the proxy.
                return (seen > 0).then_some(last);
            };
            match parse_hop(hop) {
                Some(ip) if self.is_trusted(ip) => last = ip,
                Some(ip) => return Some(ip),
                // The entry a trusted proxy vouches for is not an address.
                None => return None,
            }
        }
        // Exactly MAX_FORWARDED_HOPS trusted hops: the left-most vouches.
        match hops.next() {
            None => Some(last),
            Some(_) => None,
        }
    }
}

/// The most forwarded-header entries read, from the right.
pub const MAX_FORWARDED_HOPS: usize = 64;

/// Parses one entry of a forwarded header: `1.2.3.4`, `1.2.3.4:80`,
/// `::1`, `[::1]:80`.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim().trim_matches('"');
    if let Ok(ip) = hop.parse::<IpAddr>() {
        return Some(fold_mapped(ip));
    }
    if let Some(rest) = hop.strip_prefix('[') {
        let end = rest.find(']')?;
        return rest[..end].parse().ok().map(fold_mapped);
    }
    let (host, port) = hop.rsplit_once(':')?;
    if port.chars().all(|c| c.is_ascii_digit()) {
        return host.parse::<std::net::Ipv4Addr>().ok().map(IpAddr::V4);
    }
    None
}

/// Folds IPv4-mapped IPv6 (`::ffff:1.2.3.4`) to IPv4.
pub fn fold_mapped(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map(IpAddr::V4)
            .unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    }
}

/// The canonical text under which an address is counted: IPv4 as is, IPv6
/// as its network of `ipv6_prefix` bits (`2001:db8:1:2::/64`), or the plain
/// address with a prefix of 128.
pub fn canonical_ip(ip: IpAddr, ipv6_prefix: u8) -> String {
    match fold_mapped(ip) {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) if ipv6_prefix >= 128 => v6.to_string(),
        IpAddr::V6(v6) => match Ipv6Net::new(v6, ipv6_prefix) {
            Ok(net) => net.trunc().to_string(),
            Err(_) => v6.to_string(),
        },
    }
}

/// Parses an operator-given IP (CLI, admin, API) into its canonical text.
/// Accepts an address, or an IPv6 network written as the stored prefix.
pub fn parse_canonical_ip(text: &str, ipv6_prefix: u8) -> Result<String, String> {
    let text = text.trim();
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Ok(canonical_ip(ip, ipv6_prefix));
    }
    if let Ok(net) = text.parse::<Ipv6Net>() {
        return Ok(canonical_ip(IpAddr::V6(net.addr()), ipv6_prefix));
    }
    Err(format!("`{}` is not a valid IP address", bounded(text, 64)))
}

/// A rule that turns a raw username into the form failures are counted by.
pub type UsernameRule = std::sync::Arc<dyn Fn(&str) -> String + Send + Sync>;

/// The default username rule: Unicode NFKC, lowercase, trimmed — to a
/// fixed point, so that a stored username normalises to itself (lowercasing
/// can leave text NFKC changes again: `Y` + ring above lowercases to `y` +
/// ring above, which composes to `ẙ`; `İ` lowercases to `i` + dot above,
/// which reorders with a following mark).
pub fn normalize_username(raw: &str) -> String {
    // Every login passes here: ASCII (most names) is already NFKC, and
    // ASCII lowercasing and trimming reach their fixed point at once.
    if raw.is_ascii() {
        return raw.trim().to_ascii_lowercase();
    }
    let step = |s: &str| -> String {
        let lower: String = s.nfkc().collect::<String>().to_lowercase();
        lower.nfkc().collect::<String>().trim().to_owned()
    };
    let mut current = step(raw);
    // Each step only composes, folds case or trims; two more rounds reach
    // the fixed point for every input the fuzzer has found.
    for _ in 0..4 {
        let next = step(&current);
        if next == current {
            break;
        }
        current = next;
    }
    current
}

/// Strips NUL bytes and cuts `text` to `max` characters.
pub fn bounded(text: &str, max: usize) -> String {
    text.chars().filter(|c| *c != '\0').take(max).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(s: &str) -> IpNet {
        s.parse().unwrap()
    }

    #[test]
    fn untrusted_peer_is_the_client_whatever_the_header() {
        let r = ClientIpResolver::new(vec![net("10.0.0.0/8")]);
        let ip = r.resolve(Some("203.0.113.9".parse().unwrap()), ["1.1.1.1"]);
        assert_eq!(ip, Some("203.0.113.9".parse().unwrap()));
    }

    #[test]
    fn trusted_proxy_gives_rightmost_untrusted() {
        let r = ClientIpResolver::new(vec![net("10.0.0.0/8")]);
        let ip = r.resolve(
            Some("10.0.0.1".parse().unwrap()),
            ["6.6.6.6, 198.51.100.7", "10.0.0.2"],
        );
        assert_eq!(ip, Some("198.51.100.7".parse().unwrap()));
    }

    #[test]
    fn garbage_vouched_for_by_a_proxy_is_unknown_not_the_proxy() {
        let r = ClientIpResolver::new(vec![net("10.0.0.0/8")]);
        let proxy = Some("10.0.0.1".parse().unwrap());
        for bad in [
            "nonsense, 10.0.0.2",
            "unknown",
            "3405803783",
            "203.000.113.007",
            "fe80::1%eth0",
            "_hidden",
            "1.2.3.4:http",
        ] {
            assert_eq!(r.resolve(proxy, [bad]), None, "{bad}");
        }
        // Garbage left of a real client is the client's own business.
        assert_eq!(
            r.resolve(proxy, ["garbage, 198.51.100.7"]),
            Some("198.51.100.7".parse().unwrap())
        );
        // A trusted peer with no header is the client itself; with an empty
        // one, or one of bytes that are not text, the client is unknown.
        assert_eq!(r.resolve(proxy, std::iter::empty()), proxy);
        assert_eq!(r.resolve(proxy, [""]), None);
        assert_eq!(r.resolve(proxy, [" , ,"]), None);
        assert_eq!(r.resolve(proxy, ["\u{fffd}"]), None);
        assert_eq!(
            r.resolve(proxy, ["\u{fffd}, 198.51.100.7"]),
            "198.51.100.7".parse().ok()
        );
    }

    #[test]
    fn long_headers_are_read_from_the_right() {
        let r = ClientIpResolver::new(vec![net("10.0.0.0/8")]);
        let proxy = Some("10.0.0.1".parse().unwrap());
        // A client that pads the header cannot push our proxy's entry out.
        let padded = format!("{}198.51.100.7", "6.6.6.6, ".repeat(500));
        assert_eq!(
            r.resolve(proxy, [padded.as_str()]),
            Some("198.51.100.7".parse().unwrap())
        );
        // More trusted hops than are read: unknown; exactly that many: the
        // left-most.
        let chain = vec!["10.0.0.9"; MAX_FORWARDED_HOPS + 1].join(",");
        assert_eq!(r.resolve(proxy, [chain.as_str()]), None);
        let chain = vec!["10.0.0.9"; MAX_FORWARDED_HOPS].join(",");
        assert_eq!(r.resolve(proxy, [chain.as_str()]), "10.0.0.9".parse().ok());
    }

    #[test]
    fn ports_and_brackets() {
        assert_eq!(parse_hop("1.2.3.4:80"), Some("1.2.3.4".parse().unwrap()));
        assert_eq!(
            parse_hop("[2001:db8::1]:443"),
            Some("2001:db8::1".parse().unwrap())
        );
        assert_eq!(
            parse_hop("::ffff:1.2.3.4"),
            Some("1.2.3.4".parse().unwrap())
        );
    }

    #[test]
    fn canonical_forms() {
        assert_eq!(
            canonical_ip("::ffff:192.0.2.1".parse().unwrap(), 64),
            "192.0.2.1"
        );
        assert_eq!(
            canonical_ip("2001:db8:1:2:3:4:5:6".parse().unwrap(), 64),
            "2001:db8:1:2::/64"
        );
        assert_eq!(
            canonical_ip("2001:db8::1".parse().unwrap(), 128),
            "2001:db8::1"
        );
        assert_eq!(
            parse_canonical_ip("2001:db8:1:2::9", 64).unwrap(),
            "2001:db8:1:2::/64"
        );
        assert!(parse_canonical_ip("300.1.1.1", 64).is_err());
    }

    #[test]
    fn usernames_fold() {
        assert_eq!(normalize_username("  Admin "), "admin");
        assert_eq!(normalize_username("ＡＤＭＩＮ"), "admin");
        assert_eq!(bounded("a\0b", 10), "ab");
        assert_eq!(bounded(&"x".repeat(300), 255).len(), 255);
    }
}
