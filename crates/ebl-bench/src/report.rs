//! The results: JSON for machines, a table for people, an SVG plot of throughput and p99 latency
//! against concurrency.

use std::fmt::Write as _;

use crate::drive::RunResult;

const WIDTH: f64 = 760.0;
const HEIGHT: f64 = 420.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 70.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 60.0;
const COLOURS: [&str; 4] = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd"];

/// Throughput (solid, left axis) and p99 latency (dashed, right axis) against concurrency, one colour per
/// batch size.
pub(crate) fn svg(runs: &[RunResult]) -> String {
    let mut batches: Vec<usize> = runs.iter().map(|r| r.batch).collect();
    batches.sort_unstable();
    batches.dedup();
    let max_c = runs.iter().map(|r| r.concurrency).max().unwrap_or(1).max(2) as f64;
    let max_tps = runs.iter().map(|r| r.tps).fold(1.0, f64::max) * 1.1;
    let max_p99 = runs.iter().map(|r| r.p99_ms).fold(1.0, f64::max) * 1.1;
    let (w, h) = (WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM);
    let x = |c: usize| LEFT + (c as f64).log2() / max_c.log2() * w;
    let y_tps = |t: f64| TOP + h - t / max_tps * h;
    let y_p99 = |p: f64| TOP + h - p / max_p99 * h;
    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(out, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(
        out,
        r#"<text x="{}" y="22" text-anchor="middle" font-size="15">ebl-node: durable throughput (solid) and p99 commit latency (dashed)</text>"#,
        WIDTH / 2.0
    );
    let _ = writeln!(
        out,
        r#"<line x1="{LEFT}" y1="{}" x2="{}" y2="{}" stroke="black"/>"#,
        TOP + h,
        LEFT + w,
        TOP + h
    );
    let _ = writeln!(
        out,
        r#"<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{}" stroke="black"/>"#,
        TOP + h
    );
    let _ = writeln!(
        out,
        r#"<line x1="{}" y1="{TOP}" x2="{}" y2="{}" stroke="black"/>"#,
        LEFT + w,
        LEFT + w,
        TOP + h
    );
    for i in 0..=4 {
        let f = i as f64 / 4.0;
        let yy = TOP + h - f * h;
        let _ = writeln!(
            out,
            r##"<line x1="{LEFT}" y1="{yy}" x2="{}" y2="{yy}" stroke="#ddd"/>"##,
            LEFT + w
        );
        let _ = writeln!(
            out,
            r#"<text x="{}" y="{}" text-anchor="end">{:.0}</text>"#,
            LEFT - 6.0,
            yy + 4.0,
            max_tps * f
        );
        let _ = writeln!(
            out,
            r#"<text x="{}" y="{}">{:.1}</text>"#,
            LEFT + w + 6.0,
            yy + 4.0,
            max_p99 * f
        );
    }
    let mut c = 1;
    while c as f64 <= max_c {
        let _ = writeln!(
            out,
            r#"<text x="{}" y="{}" text-anchor="middle">{c}</text>"#,
            x(c),
            TOP + h + 18.0
        );
        c *= 2;
    }
    let _ = writeln!(
        out,
        r#"<text x="{}" y="{}" text-anchor="middle">concurrent clients</text>"#,
        LEFT + w / 2.0,
        HEIGHT - 18.0
    );
    let _ = writeln!(
        out,
        r#"<text transform="translate(16,{}) rotate(-90)" text-anchor="middle">transactions/s (durable)</text>"#,
        TOP + h / 2.0
    );
    let _ = writeln!(
        out,
        r#"<text transform="translate({},{}) rotate(90)" text-anchor="middle">p99 latency, ms</text>"#,
        WIDTH - 14.0,
        TOP + h / 2.0
    );
    for (i, batch) in batches.iter().enumerate() {
        let colour = COLOURS[i % COLOURS.len()];
        let mut points: Vec<&RunResult> = runs.iter().filter(|r| r.batch == *batch).collect();
        points.sort_by_key(|r| r.concurrency);
        let tps: Vec<String> = points
            .iter()
            .map(|r| format!("{:.1},{:.1}", x(r.concurrency), y_tps(r.tps)))
            .collect();
        let p99: Vec<String> = points
            .iter()
            .map(|r| format!("{:.1},{:.1}", x(r.concurrency), y_p99(r.p99_ms)))
            .collect();
        let _ = writeln!(
            out,
            r#"<polyline fill="none" stroke="{colour}" stroke-width="2" points="{}"/>"#,
            tps.join(" ")
        );
        let _ = writeln!(
            out,
            r#"<polyline fill="none" stroke="{colour}" stroke-width="2" stroke-dasharray="6,4" points="{}"/>"#,
            p99.join(" ")
        );
        let _ = writeln!(
            out,
            r#"<text x="{}" y="{}" fill="{colour}">batch {batch}</text>"#,
            LEFT + 10.0,
            TOP + 16.0 + 16.0 * i as f64
        );
    }
    out.push_str("</svg>\n");
    out
}
