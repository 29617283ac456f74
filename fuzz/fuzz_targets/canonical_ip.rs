//! `canonical_ip` / `parse_canonical_ip`: the canonical text an address is
//! counted under, and the operator's way back to it.
//!
//! Input: one byte of IPv6 prefix, then either text (any bytes, read as
//! UTF-8 lossily) or the bytes of an address.
//!
//! What must hold, for every prefix 0..=255:
//! - `parse_canonical_ip` never panics; what it returns is a fixed point
//!   (`parse_canonical_ip(c) == Ok(c)`), short, without blanks; its error
//!   message echoes at most 64 characters of the input.
//! - For any address `ip`: `parse_canonical_ip(canonical_ip(ip, p), p) ==
//!   Ok(canonical_ip(ip, p))`, and parsing the address's own text gives the
//!   same canonical text.
//! - IPv4 is counted as itself, also when written as IPv4-mapped IPv6.
//! - IPv6 with a prefix under 128 is counted as its network of that prefix
//!   (the network contains the address; every address of it gets the same
//!   text); with 128 or more, as the address itself.

#![no_main]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use axes_core::identity::{canonical_ip, fold_mapped, parse_canonical_ip};
use ipnet::Ipv6Net;
use libfuzzer_sys::fuzz_target;

/// The longest canonical text: a full IPv6 address and `/128`.
const MAX_CANONICAL: usize = 39 + 4;

fn check_canonical(c: &str, prefix: u8) {
    assert!(c.len() <= MAX_CANONICAL, "{c:?}");
    assert!(!c.contains(char::is_whitespace), "{c:?}");
    assert_eq!(
        parse_canonical_ip(c, prefix).as_deref(),
        Ok(c),
        "fixed point"
    );
}

fn check_address(ip: IpAddr, prefix: u8, other_host: u128) {
    let c = canonical_ip(ip, prefix);
    check_canonical(&c, prefix);
    assert_eq!(
        parse_canonical_ip(&ip.to_string(), prefix).as_deref(),
        Ok(c.as_str())
    );
    match fold_mapped(ip) {
        IpAddr::V4(v4) => {
            assert_eq!(c, v4.to_string());
            let mapped = IpAddr::V6(v4.to_ipv6_mapped());
            assert_eq!(canonical_ip(mapped, prefix), c);
        }
        IpAddr::V6(v6) if prefix >= 128 => assert_eq!(c, v6.to_string()),
        IpAddr::V6(v6) => {
            let net: Ipv6Net = c.parse().expect("an IPv6 network");
            assert_eq!(net.prefix_len(), prefix);
            assert!(net.contains(&v6));
            assert_eq!(net, net.trunc());
            // Another address of the same network counts the same (unless
            // it is IPv4-mapped, and so counted as IPv4).
            let host = u128::from(net.hostmask()) & other_host;
            let other = Ipv6Addr::from(u128::from(net.network()) | host);
            if other.to_ipv4_mapped().is_none() {
                assert_eq!(canonical_ip(IpAddr::V6(other), prefix), c);
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&prefix, rest)) = data.split_first() else {
        return;
    };

    // Arbitrary text.
    let text = String::from_utf8_lossy(rest);
    match parse_canonical_ip(&text, prefix) {
        Ok(c) => check_canonical(&c, prefix),
        Err(message) => {
            let echoed = message.chars().count();
            assert!(echoed <= 64 + 40, "error message of {echoed} characters");
        }
    }

    // The same bytes as an address.
    let mut bytes = [0u8; 33];
    for (b, r) in bytes.iter_mut().zip(rest) {
        *b = *r;
    }
    let v6 = u128::from_be_bytes(bytes[1..17].try_into().unwrap_or_default());
    let other = u128::from_be_bytes(bytes[17..33].try_into().unwrap_or_default());
    let ip = if bytes[0] & 1 == 0 {
        IpAddr::V4(Ipv4Addr::from(u32::try_from(v6 >> 96).unwrap_or_default()))
    } else {
        IpAddr::V6(Ipv6Addr::from(v6))
    };
    check_address(ip, prefix, other);
});
