//! `loss.png` in the checkpoint folder: train and dev loss per epoch, redrawn after every epoch.
//!
//! Text is drawn with a system TrueType font (Debian's `fonts-dejavu-core`, which
//! `tools/setup-debian.sh` installs); without one the plot is skipped with a warning, and
//! `history.csv` still holds every figure.

use std::path::Path;
use std::sync::OnceLock;

use plotters::prelude::*;

use crate::train::checkpoint::EpochRecord;

const FONT_CANDIDATES: [&str; 3] = [
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
];

/// Registers a system font with plotters once; false when none is installed.
fn font_available() -> bool {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    *REGISTERED.get_or_init(|| {
        FONT_CANDIDATES
            .iter()
            .find_map(|p| std::fs::read(p).ok())
            .is_some_and(|bytes| {
                let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
                plotters::style::register_font("sans-serif", FontStyle::Normal, bytes).is_ok()
            })
    })
}

/// Draws the loss curves to `path` (PNG). Returns `Ok(false)` when no font is installed.
pub fn plot_losses(path: &Path, history: &[EpochRecord]) -> Result<bool, String> {
    if !font_available() {
        return Ok(false);
    }
    let train: Vec<(f64, f64)> = history
        .iter()
        .map(|r| (r.epoch as f64, r.train_loss))
        .collect();
    let dev: Vec<(f64, f64)> = history
        .iter()
        .filter_map(|r| r.dev_loss.map(|d| (r.epoch as f64, d)))
        .collect();
    let max_epoch = history.last().map_or(1.0, |r| r.epoch.max(1) as f64);
    let max_loss = train
        .iter()
        .chain(&dev)
        .map(|p| p.1)
        .filter(|v| v.is_finite())
        .fold(1e-3, f64::max);
    let root = BitMapBackend::new(path, (900, 540)).into_drawing_area();
    let e = |e: &dyn std::fmt::Display| e.to_string();
    root.fill(&WHITE).map_err(|x| e(&x))?;
    let mut chart = ChartBuilder::on(&root)
        .caption("CTC loss per epoch", ("sans-serif", 24))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0..max_epoch, 0.0..max_loss * 1.05)
        .map_err(|x| e(&x))?;
    chart
        .configure_mesh()
        .x_desc("epoch")
        .y_desc("loss")
        .draw()
        .map_err(|x| e(&x))?;
    chart
        .draw_series(LineSeries::new(train, BLUE.stroke_width(2)))
        .map_err(|x| e(&x))?
        .label("train")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], BLUE.stroke_width(2)));
    if !dev.is_empty() {
        chart
            .draw_series(LineSeries::new(dev, RED.stroke_width(2)))
            .map_err(|x| e(&x))?
            .label("dev")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], RED.stroke_width(2)));
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(|x| e(&x))?;
    root.present().map_err(|x| e(&x))?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_a_png_when_a_font_is_installed() {
        let history: Vec<EpochRecord> = (0..5)
            .map(|epoch| EpochRecord {
                epoch,
                train_loss: 100.0 / (epoch + 1) as f64,
                dev_loss: Some(120.0 / (epoch + 1) as f64),
                learning_rate: 1e-3,
                seconds: 1.0,
            })
            .collect();
        let path = std::env::temp_dir().join(format!("ds-plot-{}.png", std::process::id()));
        let drawn = plot_losses(&path, &history).unwrap();
        if drawn {
            let bytes = std::fs::read(&path).unwrap();
            assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"));
            std::fs::remove_file(&path).unwrap();
        } else {
            assert!(FONT_CANDIDATES.iter().all(|p| !Path::new(p).exists()));
        }
    }
}
