//! The dashboard's chart of failures and lockouts over time, drawn on the
//! server as SVG (no script, no external resource; colours through classes
//! of the stylesheet with presentation-attribute fallbacks).

use std::fmt::Write as _;

use chrono::{DateTime, Duration, Utc};

/// One time slot of the chart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bucket {
    /// Start of the slot.
    pub start: DateTime<Utc>,
    /// Failed attempts in the slot.
    pub failures: u64,
    /// Failed attempts that were locked out, in the slot.
    pub lockouts: u64,
}

/// `count` slots of `step` ending at `end`, filled from `(time, failures,
/// locked_out)` events (events outside are ignored).
pub fn bucketize(
    end: DateTime<Utc>,
    step: Duration,
    count: usize,
    events: impl IntoIterator<Item = (DateTime<Utc>, u64, bool)>,
) -> Vec<Bucket> {
    let count = count.max(1);
    let steps = i32::try_from(count).unwrap_or(i32::MAX);
    let start = end - step * steps;
    let mut buckets: Vec<Bucket> = (0..count)
        .map(|i| Bucket {
            start: start + step * i32::try_from(i).unwrap_or(0),
            failures: 0,
            lockouts: 0,
        })
        .collect();
    let step_ms = step.num_milliseconds().max(1);
    for (t, n, locked) in events {
        if t < start || t >= end {
            continue;
        }
        let idx = usize::try_from((t - start).num_milliseconds() / step_ms).unwrap_or(0);
        if let Some(b) = buckets.get_mut(idx) {
            b.failures = b.failures.saturating_add(n);
            if locked {
                b.lockouts = b.lockouts.saturating_add(n);
            }
        }
    }
    buckets
}

/// A round upper bound for the y axis, and the tick step.
fn scale(max: u64) -> (u64, u64) {
    if max <= 4 {
        return (4, 1);
    }
    let mut step = 1u64;
    loop {
        for m in [1u64, 2, 5] {
            let s = step.saturating_mul(m);
            if max.div_ceil(s) <= 5 {
                return (max.div_ceil(s) * s, s);
            }
        }
        step = step.saturating_mul(10);
    }
}

fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Renders the chart. `label_every` buckets get an x-axis label formatted
/// with `label_format` (chrono syntax).
pub fn render(buckets: &[Bucket], label_every: usize, label_format: &str, title: &str) -> String {
    const W: f64 = 760.0;
    const H: f64 = 260.0;
    const LEFT: f64 = 44.0;
    const RIGHT: f64 = 12.0;
    const TOP: f64 = 16.0;
    const BOTTOM: f64 = 40.0;
    let plot_w = W - LEFT - RIGHT;
    let plot_h = H - TOP - BOTTOM;
    let max = buckets.iter().map(|b| b.failures).max().unwrap_or(0);
    let (top, step) = scale(max);
    let y = |v: u64| TOP + plot_h - (v as f64 / top as f64) * plot_h;
    let n = buckets.len().max(1);
    let slot = plot_w / n as f64;
    let bar = (slot * 0.8).max(1.0);

    let total_f: u64 = buckets.iter().map(|b| b.failures).sum();
    let total_l: u64 = buckets.iter().map(|b| b.lockouts).sum();
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg class="chart" viewBox="0 0 {W} {H}" role="img" aria-labelledby="chart-title chart-desc" xmlns="http://www.w3.org/2000/svg">"#
    );
    let _ = write!(
        s,
        r#"<title id="chart-title">{}</title><desc id="chart-desc">{total_f} failed attempts, {total_l} of them locked out, in {n} time slots.</desc>"#,
        esc(title)
    );
    // Grid and y labels.
    let mut v = 0;
    while v <= top {
        let yy = y(v);
        let _ = write!(
            s,
            r##"<line class="grid" x1="{LEFT}" x2="{x2}" y1="{yy:.1}" y2="{yy:.1}" stroke="#d0d7de" stroke-width="1"/><text class="axis" x="{lx}" y="{ty:.1}" text-anchor="end" font-size="11" fill="#57606a">{v}</text>"##,
            x2 = W - RIGHT,
            lx = LEFT - 6.0,
            ty = yy + 4.0
        );
        v += step;
    }
    // Bars.
    for (i, b) in buckets.iter().enumerate() {
        let x = LEFT + slot * i as f64 + (slot - bar) / 2.0;
        let when = b.start.format("%Y-%m-%d %H:%M UTC").to_string();
        if b.failures > 0 {
            let yy = y(b.failures);
            let _ = write!(
                s,
                r##"<rect class="bar-failures" x="{x:.1}" y="{yy:.1}" width="{bar:.1}" height="{h:.1}" fill="#0969da"><title>{when}: {f} failed</title></rect>"##,
                h = TOP + plot_h - yy,
                f = b.failures,
                when = esc(&when)
            );
        }
        if b.lockouts > 0 {
            let yy = y(b.lockouts);
            let _ = write!(
                s,
                r##"<rect class="bar-lockouts" x="{x:.1}" y="{yy:.1}" width="{bar:.1}" height="{h:.1}" fill="#cf222e"><title>{when}: {l} locked out</title></rect>"##,
                h = TOP + plot_h - yy,
                l = b.lockouts,
                when = esc(&when)
            );
        }
        if label_every > 0 && i % label_every == 0 {
            let _ = write!(
                s,
                r##"<text class="axis" x="{tx:.1}" y="{ty}" text-anchor="middle" font-size="11" fill="#57606a">{}</text>"##,
                esc(&b.start.format(label_format).to_string()),
                tx = LEFT + slot * i as f64 + slot / 2.0,
                ty = H - BOTTOM + 16.0
            );
        }
    }
    let _ = write!(
        s,
        r##"<line class="baseline" x1="{LEFT}" x2="{x2}" y1="{by}" y2="{by}" stroke="#57606a" stroke-width="1"/>"##,
        x2 = W - RIGHT,
        by = TOP + plot_h
    );
    // Legend.
    let ly = H - 10.0;
    let _ = write!(
        s,
        r##"<rect class="bar-failures" x="{LEFT}" y="{ry}" width="10" height="10" fill="#0969da"/><text class="axis" x="{t1}" y="{ly}" font-size="11" fill="#24292f">failed attempts</text><rect class="bar-lockouts" x="{x2}" y="{ry}" width="10" height="10" fill="#cf222e"/><text class="axis" x="{t2}" y="{ly}" font-size="11" fill="#24292f">locked out</text>"##,
        ry = ly - 9.0,
        t1 = LEFT + 14.0,
        x2 = LEFT + 120.0,
        t2 = LEFT + 134.0
    );
    s.push_str("</svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_and_scale() {
        let end = Utc::now();
        let b = bucketize(
            end,
            Duration::hours(1),
            24,
            [
                (end - Duration::minutes(10), 1, false),
                (end - Duration::minutes(20), 2, true),
                (end - Duration::hours(30), 1, true),
                (end, 1, false),
            ],
        );
        assert_eq!(b.len(), 24);
        assert_eq!(b[23].failures, 3);
        assert_eq!(b[23].lockouts, 2);
        assert_eq!(b.iter().map(|b| b.failures).sum::<u64>(), 3);
        assert_eq!(scale(0), (4, 1));
        assert_eq!(scale(7), (8, 2));
        assert_eq!(scale(23), (25, 5));
        assert_eq!(scale(480), (500, 100));
        let svg = render(&b, 6, "%H:%M", "a <title>");
        assert!(svg.starts_with("<svg"));
        assert!(svg.contains("a &lt;title&gt;"));
        assert!(svg.contains("2 locked out"));
    }
}
