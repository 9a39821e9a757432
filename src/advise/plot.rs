//! `advise --plot FILE.svg`: the projected memory of the unit over requests
//! per worker, for the current config and for the advice, with the limit.

use plotters::prelude::*;

use super::model;
use super::plan::Plan;

const MIB: f64 = (1u64 << 20) as f64;

/// Render the plot as SVG text.
pub fn svg(plan: &Plan, title: &str) -> Result<String, String> {
    // Nothing measured: an assumed leak of 100 KiB per request, and
    // request counts bound nothing (a faster leak outruns any max-requests),
    // so the curves show the worst case, growth up to the memory caps.
    let measured = plan.growth > 0.0;
    let growth = if measured {
        plan.growth
    } else {
        100.0 * 1024.0
    };
    let worst = |c: &super::plan::Curve| super::plan::Curve {
        max_requests: if measured { c.max_requests } else { 0 },
        ..c.clone()
    };
    let (now_curve, advised_curve) = (worst(&plan.now), worst(&plan.advised));
    let limit = plan.limit_bytes.map(|l| l as f64 / MIB);
    // Far enough to see the current config cross the limit (or 3 recycles).
    let mut horizon = plan
        .advised
        .max_requests
        .max(plan.now.max_requests)
        .max(1000)
        * 3;
    if let Some(l) = limit {
        let per = (l * MIB / now_curve.processes.max(1) as f64 - plan.baseline as f64) / growth;
        horizon = horizon.max((per * 1.5) as u64);
    }
    // Far enough to see the current cap recycle a worker, too.
    if now_curve.cap > plan.baseline {
        horizon = horizon.max(((now_curve.cap - plan.baseline) as f64 / growth * 1.3) as u64);
    }
    let horizon = horizon.min(2_000_000);
    // Enough points to draw every tooth of a fast sawtooth.
    let points = horizon.clamp(400, 3000);
    let series = |c: &super::plan::Curve| -> Vec<(f64, f64)> {
        (0..=points)
            .map(|i| {
                let n = horizon * i / points;
                let m = model::projected(
                    n,
                    c.processes,
                    plan.baseline,
                    growth,
                    c.cap,
                    c.max_requests,
                    &plan.overhead,
                );
                (n as f64, m as f64 / MIB)
            })
            .collect()
    };
    let now = series(&now_curve);
    let advised = series(&advised_curve);
    let top = now
        .iter()
        .chain(&advised)
        .map(|p| p.1)
        .chain(limit)
        .fold(0.0f64, f64::max)
        * 1.1;
    // Where the advised curve recycles a worker: every `per_life` requests
    // (the cap), or at max-requests when that comes first. Computed by the
    // model, not observed.
    let per_life = if advised_curve.cap > plan.baseline && growth > 0.0 {
        ((advised_curve.cap - plan.baseline) as f64 / growth).floor() as u64 + 1
    } else {
        0
    };
    let period = match (per_life, advised_curve.max_requests) {
        (0, m) => m,
        (c, 0) => c,
        (c, m) => c.min(m),
    };
    let recycles: Vec<(f64, f64)> = if period > 0 && horizon / period <= 40 {
        (1..=horizon / period)
            .map(|k| {
                // The last request before the recycle, the top of the tooth.
                let n = k * period - 1;
                let m = model::projected(
                    n,
                    advised_curve.processes,
                    plan.baseline,
                    growth,
                    advised_curve.cap,
                    advised_curve.max_requests,
                    &plan.overhead,
                );
                (n as f64, m as f64 / MIB)
            })
            .collect()
    } else {
        Vec::new()
    };
    // Where the current config first goes above the limit.
    let crossing = limit.and_then(|l| now.iter().find(|p| p.1 > l).copied());
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (900, 620)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        // The legend below the chart, never over the data.
        let (upper, lower) = root.split_vertically(510);
        let mut chart = ChartBuilder::on(&upper)
            .caption(title, ("sans-serif", 20))
            .margin(16)
            .x_label_area_size(44)
            .y_label_area_size(64)
            .build_cartesian_2d(0f64..horizon as f64, 0f64..top.max(1.0))
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .x_desc(if measured {
                "requests per worker (growth as measured)"
            } else {
                "requests per worker (nothing measured: 100 KiB/request assumed; max-requests not drawn)"
            })
            .y_desc("memory of the unit (MiB)")
            .x_label_formatter(&|v| format!("{v:.0}"))
            .y_label_formatter(&|v| format!("{v:.0}"))
            .draw()
            .map_err(|e| e.to_string())?;
        chart
            .draw_series(LineSeries::new(now, RED.stroke_width(2)))
            .map_err(|e| e.to_string())?;
        chart
            .draw_series(LineSeries::new(advised, BLUE.stroke_width(2)))
            .map_err(|e| e.to_string())?;
        if let Some(l) = limit {
            chart
                .draw_series(LineSeries::new(
                    vec![(0.0, l), (horizon as f64, l)],
                    BLACK.stroke_width(1),
                ))
                .map_err(|e| e.to_string())?;
        }
        if let Some(p) = crossing {
            chart
                .draw_series(std::iter::once(Cross::new(p, 6, RED.stroke_width(2))))
                .map_err(|e| e.to_string())?;
        }
        chart
            .draw_series(
                recycles
                    .iter()
                    .map(|p| Circle::new(*p, 4, BLUE.stroke_width(1))),
            )
            .map_err(|e| e.to_string())?;

        let mut entries: Vec<(RGBColor, Mark, String)> = vec![
            (
                RED,
                Mark::Line,
                format!(
                    "current: {} workers, cap {}{}",
                    plan.now.processes,
                    cap_text(plan.now.cap),
                    requests_text(measured, plan.now.max_requests)
                ),
            ),
            (
                BLUE,
                Mark::Line,
                format!(
                    "advised: {} workers, cap {}{}",
                    plan.advised.processes,
                    cap_text(plan.advised.cap),
                    requests_text(measured, plan.advised.max_requests)
                ),
            ),
        ];
        if let Some(l) = limit {
            entries.push((BLACK, Mark::Line, format!("hard limit {l:.0} MiB")));
        }
        if let Some((n, m)) = crossing {
            entries.push((
                RED,
                Mark::Cross,
                format!(
                    "current: above the limit after {n:.0} requests per worker ({m:.0} MiB): the kernel OOM-kills"
                ),
            ));
        }
        if period > 0 {
            entries.push((
                BLUE,
                if recycles.is_empty() {
                    Mark::Line
                } else {
                    Mark::Circle
                },
                format!(
                    "advised: a worker recycles every {period} requests (computed by the model{})",
                    if recycles.is_empty() {
                        "; too close together to mark"
                    } else {
                        ""
                    }
                ),
            ));
        }
        let font = ("sans-serif", 15).into_font();
        for (i, (color, marker, text)) in entries.iter().enumerate() {
            let (x, y) = (80, 8 + 22 * i as i32);
            match marker {
                Mark::Circle => lower.draw(&Circle::new((x + 12, y + 8), 4, color.stroke_width(1))),
                Mark::Cross => lower.draw(&Cross::new((x + 12, y + 8), 6, color.stroke_width(2))),
                Mark::Line => lower.draw(&PathElement::new(
                    vec![(x, y + 8), (x + 24, y + 8)],
                    color.stroke_width(2),
                )),
            }
            .map_err(|e| e.to_string())?;
            lower
                .draw(&Text::new(text.clone(), (x + 32, y), font.clone()))
                .map_err(|e| e.to_string())?;
        }
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(out)
}

/// How a legend entry is drawn.
enum Mark {
    Line,
    Circle,
    Cross,
}

fn requests_text(measured: bool, max_requests: u64) -> String {
    match (measured, max_requests) {
        (_, 0) => String::new(),
        (true, m) => format!(", max-requests {m}"),
        // Not drawn: a request count bounds nothing against an assumed leak.
        (false, _) => String::new(),
    }
}

fn cap_text(cap: u64) -> String {
    if cap == 0 {
        "none".into()
    } else {
        format!("{} MiB", cap >> 20)
    }
}
