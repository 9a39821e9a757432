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
    let points = 400u64;
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
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (900, 520)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let mut chart = ChartBuilder::on(&root)
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
                "requests per worker (nothing measured: 100 KiB/request assumed, max-requests not counted)"
            })
            .y_desc("memory of the unit (MiB)")
            .draw()
            .map_err(|e| e.to_string())?;
        chart
            .draw_series(LineSeries::new(now, RED.stroke_width(2)))
            .map_err(|e| e.to_string())?
            .label(format!(
                "current: {} workers, cap {}",
                plan.now.processes,
                cap_text(plan.now.cap)
            ))
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], RED));
        chart
            .draw_series(LineSeries::new(advised, BLUE.stroke_width(2)))
            .map_err(|e| e.to_string())?
            .label(format!(
                "advised: {} workers, cap {}, max-requests {}",
                plan.advised.processes,
                cap_text(plan.advised.cap),
                plan.advised.max_requests
            ))
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLUE));
        if let Some(l) = limit {
            chart
                .draw_series(LineSeries::new(
                    vec![(0.0, l), (horizon as f64, l)],
                    BLACK.stroke_width(1),
                ))
                .map_err(|e| e.to_string())?
                .label(format!("hard limit {l:.0} MiB"))
                .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLACK));
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK)
            .position(SeriesLabelPosition::UpperLeft)
            .draw()
            .map_err(|e| e.to_string())?;
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(out)
}

fn cap_text(cap: u64) -> String {
    if cap == 0 {
        "none".into()
    } else {
        format!("{} MiB", cap >> 20)
    }
}
