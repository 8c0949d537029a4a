//! SVG charts for `docs/BENCHMARKS.md`, written by hand (a few rectangles and polylines do not
//! justify a plotting dependency in every CI build).
//!
//! - one ratio chart per component: each figure with a peer, ours relative to the peer (1.0 line);
//! - one line chart per (component, series): value against x for us and for the peer.

use serde_json::Value;
use std::fmt::Write as _;
use std::path::Path;

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn s<'a>(r: &'a Value, k: &str) -> &'a str {
    r.get(k).and_then(Value::as_str).unwrap_or("")
}

fn n(r: &Value, k: &str) -> Option<f64> {
    r.get(k).and_then(Value::as_f64)
}

/// Writes the charts of `records` into `dir`; returns (group, file name) pairs for linking.
pub fn write(records: &[Value], dir: &Path) -> Result<Vec<(String, String)>, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut out = Vec::new();
    let mut groups: Vec<&str> = records.iter().map(|r| s(r, "group")).collect();
    groups.sort();
    groups.dedup();
    for g in groups {
        let rs: Vec<&Value> = records.iter().filter(|r| s(r, "group") == g).collect();
        let ratios: Vec<(String, f64)> = rs
            .iter()
            .filter_map(|r| {
                Some((
                    format!("{} / {}", s(r, "name"), s(r, "metric")),
                    n(r, "ratio")?,
                ))
            })
            .collect();
        if !ratios.is_empty() {
            let file = format!("{g}-ratios.svg");
            std::fs::write(dir.join(&file), ratio_chart(g, &ratios)).map_err(|e| e.to_string())?;
            out.push((g.to_string(), file));
        }
        let mut series: Vec<&str> = rs
            .iter()
            .filter(|r| r.get("x").is_some_and(Value::is_number))
            .map(|r| s(r, "series"))
            .collect();
        series.sort();
        series.dedup();
        for (i, se) in series.iter().enumerate() {
            let pts: Vec<&&Value> = rs
                .iter()
                .filter(|r| s(r, "series") == *se && n(r, "x").is_some())
                .collect();
            let file = format!("{g}-series-{i}.svg");
            std::fs::write(dir.join(&file), line_chart(g, se, &pts)).map_err(|e| e.to_string())?;
            out.push((g.to_string(), file));
        }
    }
    Ok(out)
}

fn ratio_chart(group: &str, ratios: &[(String, f64)]) -> String {
    let row = 22.0;
    let left = 360.0;
    let width = 360.0;
    let max = ratios.iter().map(|r| r.1).fold(2.0_f64, f64::max).min(20.0);
    let h = 50.0 + row * ratios.len() as f64;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="12">
<text x="10" y="18" font-weight="bold">{g}: ours relative to the peer (right of the line: ours better)</text>
"#,
        w = left + width + 80.0,
        g = esc(group)
    );
    for (i, (label, ratio)) in ratios.iter().enumerate() {
        let y = 34.0 + row * i as f64;
        let bar = (ratio.min(max) / max) * width;
        let color = if *ratio >= 1.0 { "#3a8f3a" } else { "#c0392b" };
        let _ = writeln!(
            svg,
            r#"<text x="{lx}" y="{ty}" text-anchor="end">{label}</text><rect x="{left}" y="{y}" width="{bar:.1}" height="{bh}" fill="{color}"/><text x="{vx:.1}" y="{ty}">{ratio:.2}x</text>"#,
            lx = left - 6.0,
            ty = y + 13.0,
            label = esc(label),
            bh = row - 6.0,
            vx = left + bar + 4.0,
        );
    }
    let one = left + width / max;
    let _ = write!(
        svg,
        r#"<line x1="{one:.1}" y1="26" x2="{one:.1}" y2="{y2}" stroke="black" stroke-dasharray="4 3"/><text x="{one:.1}" y="{ty}" text-anchor="middle">1.0x</text>
</svg>
"#,
        y2 = h - 14.0,
        ty = h - 2.0
    );
    svg
}

fn line_chart(group: &str, series: &str, pts: &[&&Value]) -> String {
    let (w, h, l, r, t, b) = (640.0, 360.0, 70.0, 20.0, 40.0, 50.0);
    let mut ours: Vec<(f64, f64)> = pts
        .iter()
        .filter_map(|p| Some((n(p, "x")?, n(p, "value")?)))
        .collect();
    let mut peer: Vec<(f64, f64)> = pts
        .iter()
        .filter_map(|p| Some((n(p, "x")?, n(p, "peer_value")?)))
        .collect();
    ours.sort_by(|a, b| a.0.total_cmp(&b.0));
    peer.sort_by(|a, b| a.0.total_cmp(&b.0));
    let all = ours.iter().chain(peer.iter());
    let (mut x0, mut x1, mut y1) = (f64::MAX, f64::MIN, 0.0_f64);
    for &(x, y) in all {
        x0 = x0.min(x);
        x1 = x1.max(x);
        y1 = y1.max(y);
    }
    let log_x = x0 > 0.0 && x1 / x0 >= 100.0;
    let fx = |x: f64| {
        let (a, b, v) = if log_x {
            (x0.ln(), x1.ln(), x.ln())
        } else {
            (x0, x1, x)
        };
        l + if b > a { (v - a) / (b - a) } else { 0.5 } * (w - l - r)
    };
    let fy = |y: f64| h - b - if y1 > 0.0 { y / y1 } else { 0.0 } * (h - t - b);
    let unit = pts.first().map(|p| s(p, "unit")).unwrap_or("");
    let peer_name = pts
        .iter()
        .map(|p| s(p, "peer"))
        .find(|p| !p.is_empty())
        .unwrap_or("peer");
    let mut svg = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="12">
<text x="10" y="18" font-weight="bold">{g}: {se} ({unit})</text>
<line x1="{l}" y1="{yb}" x2="{xr}" y2="{yb}" stroke="black"/><line x1="{l}" y1="{t}" x2="{l}" y2="{yb}" stroke="black"/>
<text x="{l}" y="{yl}" text-anchor="start">{x0}</text><text x="{xr}" y="{yl}" text-anchor="end">{x1}{logn}</text>
<text x="{lm}" y="{t}" text-anchor="end">{y1:.3}</text><text x="{lm}" y="{yb}" text-anchor="end">0</text>
"#,
        g = esc(group),
        se = esc(series),
        unit = esc(unit),
        yb = h - b,
        xr = w - r,
        yl = h - b + 16.0,
        lm = l - 4.0,
        logn = if log_x { " (log x)" } else { "" },
    );
    for (line, color, name) in [(&ours, "#1f6fb2", "ours"), (&peer, "#d35400", peer_name)] {
        if line.is_empty() {
            continue;
        }
        let poly: Vec<String> = line
            .iter()
            .map(|&(x, y)| format!("{:.1},{:.1}", fx(x), fy(y)))
            .collect();
        let _ = writeln!(
            svg,
            r#"<polyline fill="none" stroke="{color}" stroke-width="2" points="{}"/>"#,
            poly.join(" ")
        );
        for &(x, y) in line.iter() {
            let _ = writeln!(
                svg,
                r#"<circle cx="{:.1}" cy="{:.1}" r="3" fill="{color}"/>"#,
                fx(x),
                fy(y)
            );
        }
        let ly = if name == "ours" { t - 10.0 } else { t + 6.0 };
        let _ = writeln!(
            svg,
            r#"<text x="{}" y="{ly}" fill="{color}" text-anchor="end">{}</text>"#,
            w - r,
            esc(name)
        );
    }
    svg.push_str("</svg>\n");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn writes_ratio_and_line_charts() {
        let records = vec![
            json!({"group": "g", "name": "a", "metric": "ops", "unit": "op/s", "value": 2.0,
                   "peer": "p", "peer_value": 1.0, "ratio": 2.0, "series": "throughput", "x": 1.0}),
            json!({"group": "g", "name": "b", "metric": "ops", "unit": "op/s", "value": 3.0,
                   "peer": "p", "peer_value": 4.0, "ratio": 0.75, "series": "throughput", "x": 64.0}),
        ];
        let dir = std::env::temp_dir().join(format!("xtask-charts-{}", std::process::id()));
        let files = write(&records, &dir).unwrap();
        assert_eq!(files.len(), 2);
        let ratio = std::fs::read_to_string(dir.join(&files[0].1)).unwrap();
        assert!(ratio.contains("2.00x") && ratio.contains("0.75x"));
        let line = std::fs::read_to_string(dir.join(&files[1].1)).unwrap();
        assert_eq!(line.matches("<polyline").count(), 2);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
