//! `ClientIpResolver::resolve` on arbitrary peers, trusted proxy lists and
//! forwarded headers.
//!
//! What must hold (the resolver's contract: "the client is the right-most
//! address of the forwarded header that is not itself a trusted proxy; a
//! client can never choose its own IP by sending a header"):
//!
//! 1. It never panics.
//! 2. No peer: no address.
//! 3. A peer that is not a trusted proxy is the client, whatever the header.
//! 4. Any address returned is the peer or an address written in the header.
//! 5. Walking the header's entries from the right, past trusted proxies: the
//!    first untrusted address is the answer. Nothing left of it (written by
//!    the client, or by whoever the client is) is ever returned. When every
//!    entry is a trusted proxy, the answer is the left-most one (or the peer).
//! 6. A malformed entry stops the walk with no answer (see `MALFORMED HOP
//!    RULE` below), and so do more than `MAX_FORWARDED_HOPS` trusted hops.
//! 7. Well-formed entries parse to their address: `1.2.3.4`, `1.2.3.4:80`,
//!    `2001:db8::1`, `[2001:db8::1]:443`, `"1.2.3.4"`, `::ffff:1.2.3.4`,
//!    with blanks around.
//!
//! The oracle knows how a single entry parses only through the resolver
//! itself (`classify`: one entry behind a single trusted probe proxy), so it
//! tests the walk, splitting and trust decisions, not a copy of the parser.

#![no_main]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use arbitrary::Arbitrary;
use axes_core::identity::{ClientIpResolver, MAX_FORWARDED_HOPS, fold_mapped};
use ipnet::IpNet;
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
enum Peer {
    Absent,
    Addr(IpAddr),
    /// An address inside `proxies[index]`.
    InProxy(u8, u128),
}

#[derive(Arbitrary, Debug)]
struct Net {
    addr: IpAddr,
    prefix: u8,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Style {
    Plain,
    /// `1.2.3.4:port` or `[v6]:port`.
    Port(u16),
    /// `[v6]` or `[1.2.3.4]`, no port.
    Bracketed,
    Quoted,
    /// IPv4 written as IPv4-mapped IPv6.
    Mapped,
    Padded,
}

#[derive(Arbitrary, Debug)]
enum Hop {
    Addr(IpAddr, Style),
    /// An address inside `proxies[index]`.
    InProxy(u8, u128, Style),
    /// Anything at all (may hold commas, i.e. several entries).
    Raw(String),
    Blank,
}

#[derive(Arbitrary, Debug)]
struct Input {
    peer: Peer,
    proxies: Vec<Net>,
    /// One list of entries per header instance.
    headers: Vec<Vec<Hop>>,
}

fn net(n: &Net) -> IpNet {
    let max = match n.addr {
        IpAddr::V4(_) => 32,
        IpAddr::V6(_) => 128,
    };
    IpNet::new(n.addr, n.prefix % (max + 1)).expect("prefix in range")
}

/// An address inside `net`, with host bits from `host`.
fn inside(net: &IpNet, host: u128) -> IpAddr {
    match net {
        IpNet::V4(n) => {
            let mask = u32::from(n.hostmask());
            IpAddr::V4(Ipv4Addr::from(
                u32::from(n.network()) | (host as u32 & mask),
            ))
        }
        IpNet::V6(n) => {
            let mask = u128::from(n.hostmask());
            IpAddr::V6(Ipv6Addr::from(u128::from(n.network()) | (host & mask)))
        }
    }
}

/// Writes an address in `style`; `Some(address)` when the text is a
/// well-formed entry that must parse to it.
fn render(ip: IpAddr, style: Style) -> (String, Option<IpAddr>) {
    let want = Some(fold_mapped(ip));
    let text = match (style, ip) {
        (Style::Plain, _) => ip.to_string(),
        (Style::Port(p), IpAddr::V4(v4)) => format!("{v4}:{p}"),
        (Style::Port(p), IpAddr::V6(v6)) => format!("[{v6}]:{p}"),
        (Style::Bracketed, _) => format!("[{ip}]"),
        (Style::Quoted, _) => format!("\"{ip}\""),
        (Style::Mapped, IpAddr::V4(v4)) => v4.to_ipv6_mapped().to_string(),
        (Style::Mapped, IpAddr::V6(v6)) => v6.to_string(),
        (Style::Padded, _) => format!(" \t{ip}  "),
    };
    (text, want)
}

/// Probe proxies for `classify` (any two distinct addresses do).
const PROBE_1: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 0, 8));
const PROBE_2: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 0, 9));

fn probe(proxy: IpAddr, entry: &str) -> Option<IpAddr> {
    ClientIpResolver::new(vec![IpNet::from(proxy)]).resolve(Some(proxy), [entry])
}

/// How the resolver reads one entry: `Some(address)`, or `None` when it is
/// malformed. A single entry behind a trusted probe resolves to the entry's
/// address, or (malformed) to the probe under the old rule and to nothing
/// under the new one; two probes tell "malformed" from "the probe's own
/// address".
fn classify(entry: &str) -> Option<IpAddr> {
    match (probe(PROBE_1, entry), probe(PROBE_2, entry)) {
        (Some(a), _) if a != PROBE_1 => Some(a),
        (_, Some(b)) if b != PROBE_2 => Some(b),
        _ => None,
    }
}

fuzz_target!(|input: Input| {
    let proxies: Vec<IpNet> = input.proxies.iter().take(8).map(net).collect();
    let trusted = |ip: IpAddr| proxies.iter().any(|n| n.contains(&fold_mapped(ip)));
    let pick = |i: u8| (!proxies.is_empty()).then(|| proxies[usize::from(i) % proxies.len()]);

    let peer = match input.peer {
        Peer::Absent => None,
        Peer::Addr(ip) => Some(ip),
        Peer::InProxy(i, host) => {
            Some(pick(i).map_or(IpAddr::V4(Ipv4Addr::LOCALHOST), |n| inside(&n, host)))
        }
    };

    let mut headers: Vec<String> = Vec::new();
    for hops in input.headers.iter().take(8) {
        let mut parts = Vec::new();
        for hop in hops.iter().take(100) {
            let (text, want) = match hop {
                Hop::Addr(ip, style) => render(*ip, *style),
                Hop::InProxy(i, host, style) => match pick(*i) {
                    Some(n) => render(inside(&n, *host), *style),
                    None => render(IpAddr::V4(Ipv4Addr::LOCALHOST), *style),
                },
                Hop::Raw(s) => (s.clone(), None),
                Hop::Blank => (" ".to_owned(), None),
            };
            // 7. Well-formed entries parse to their address.
            if let Some(want) = want {
                assert_eq!(classify(&text), Some(want), "entry {text:?}");
            }
            parts.push(text);
        }
        headers.push(parts.join(","));
    }

    let resolver = ClientIpResolver::new(proxies.clone());
    // 1. Never panics.
    let got = resolver.resolve(peer, headers.iter().map(String::as_str));

    // 2. No peer, no address.
    let Some(peer) = peer.map(fold_mapped) else {
        assert_eq!(got, None);
        return;
    };
    // 3. An untrusted peer is the client.
    if !trusted(peer) {
        assert_eq!(got, Some(peer));
        return;
    }

    // The entries as the resolver must see them: every instance, split on
    // commas, blanks trimmed, empty entries skipped.
    let entries: Vec<&str> = headers
        .iter()
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    let parsed: Vec<Option<IpAddr>> = entries.iter().map(|e| classify(e)).collect();

    // 4. The peer, or an address written in the header.
    if let Some(ip) = got {
        assert!(
            ip == peer || parsed.contains(&Some(ip)),
            "{ip} is neither the peer nor in the header"
        );
    }

    // 5./6. Walk from the right, at most MAX_FORWARDED_HOPS entries: a
    // longer chain of trusted hops is an unknown client (the fixed
    // truncation bug read the LEFT-most 64, written by the client).
    let mut last = peer;
    for (hop, (entry, ip)) in entries.iter().zip(&parsed).rev().enumerate() {
        if hop >= MAX_FORWARDED_HOPS {
            assert_eq!(got, None, "more than {MAX_FORWARDED_HOPS} trusted hops");
            return;
        }
        match ip {
            Some(ip) if trusted(*ip) => last = *ip,
            Some(ip) => {
                assert_eq!(
                    got,
                    Some(*ip),
                    "the right-most untrusted entry is the client"
                );
                return;
            }
            None => {
                // MALFORMED HOP RULE: the entry a trusted proxy vouches
                // for is not an address — an unknown client, never the
                // proxy's own address (`last`, the old rule's answer).
                assert!(
                    got.is_none(),
                    "malformed entry {entry:?}: got {got:?}, last trusted {last}"
                );
                return;
            }
        }
    }
    if entries.is_empty() && !headers.is_empty() {
        // A header with no entry at all names no client.
        assert_eq!(got, None, "an empty header from a trusted proxy");
    } else {
        assert_eq!(got, Some(last), "every entry is a trusted proxy");
    }
});
