//! PNG plots: training curves, 2-D scatter plots and image grids.
//!
//! Text is rendered with the DejaVu Sans font compiled into the binary (no
//! system fonts needed). Every function writes its PNG atomically: it draws
//! into a temporary `.png` beside `path` and renames it into place, so a
//! failure never leaves a partial file. The format is always PNG, whatever
//! the extension of `path`.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use ember_export::fsutil::{TempGuard, temp_path};

mod confusion;
mod grid;

pub use confusion::{MAX_CLASSES, confusion_matrix};
pub use grid::image_grid;

/// The font family name under which DejaVu Sans is registered.
const FONT: &str = "sans-serif";
/// Category10 colours, by label modulo 10.
const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// Why a plot could not be written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PlotError {
    /// The arguments cannot be plotted (empty series, mismatched lengths, ...).
    #[error("{}: cannot plot: {message}", path.display())]
    Input {
        /// The output file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// Drawing or encoding the PNG failed.
    #[error("{}: drawing failed: {message}", path.display())]
    Draw {
        /// The output file.
        path: PathBuf,
        /// The plotting library's message.
        message: String,
    },
    /// The finished PNG could not be moved into place.
    #[error("cannot write {}: {source}", path.display())]
    Io {
        /// The output file.
        path: PathBuf,
        /// The operating-system error.
        source: std::io::Error,
    },
}

type Area<'a> = DrawingArea<BitMapBackend<'a>, Shift>;

/// The plotting library's message when drawing fails (the file is added by
/// [`render`], which turns it into a [`PlotError::Draw`]).
#[derive(Clone, Debug, thiserror::Error)]
#[error("{0}")]
struct DrawFailure(String);

/// The [`DrawFailure`] of any plotters error.
fn drawing(e: impl std::fmt::Display) -> DrawFailure {
    DrawFailure(e.to_string())
}

type DrawResult = Result<(), DrawFailure>;

/// Registers the bundled DejaVu Sans with plotters, once per process.
fn register_font() -> DrawResult {
    static DONE: OnceLock<DrawResult> = OnceLock::new();
    DONE.get_or_init(|| {
        let bad = |_| DrawFailure("the bundled DejaVu font is invalid".into());
        plotters::style::register_font(FONT, FontStyle::Normal, dejavu::sans::regular()).map_err(bad)?;
        plotters::style::register_font(FONT, FontStyle::Bold, dejavu::sans::bold()).map_err(bad)
    })
    .clone()
}

/// Draws a `size` PNG with `draw` and moves it atomically to `path`.
fn render(path: &Path, size: (u32, u32), draw: impl FnOnce(&Area<'_>) -> DrawResult) -> Result<(), PlotError> {
    let failed = |f: DrawFailure| PlotError::Draw { path: path.to_path_buf(), message: f.0 };
    register_font().map_err(failed)?;
    let tmp = temp_path(path).with_extension("png");
    let guard = TempGuard::new(tmp.clone());
    {
        let root = BitMapBackend::new(&tmp, size).into_drawing_area();
        root.fill(&WHITE).map_err(|e| failed(drawing(e)))?;
        draw(&root).map_err(failed)?;
        root.present().map_err(|e| failed(drawing(e)))?;
    }
    guard.commit(path).map_err(|source| PlotError::Io { path: path.to_path_buf(), source })
}

fn invalid(path: &Path, message: impl Into<String>) -> PlotError {
    PlotError::Input { path: path.to_path_buf(), message: message.into() }
}

/// `lo..hi` covering the finite values with 5% padding (a unit range around a constant).
fn padded_range(values: impl Iterator<Item = f32>) -> std::ops::Range<f32> {
    let (lo, hi) = values.filter(|v| v.is_finite()).fold((f32::MAX, f32::MIN), |(l, h), v| (l.min(v), h.max(v)));
    if lo > hi {
        return 0.0..1.0;
    }
    let pad = if hi > lo { (hi - lo) * 0.05 } else { lo.abs().max(1.0) * 0.5 };
    (lo - pad)..(hi + pad)
}

fn title_style(size: u32) -> TextStyle<'static> {
    (FONT, size).into_font().style(FontStyle::Bold).color(&BLACK)
}

/// A line chart of one or more series against `1..=len` (for example `loss`
/// and `val_loss` per epoch), with a legend. Non-finite values are skipped.
/// The image is 900×560.
pub fn line_chart(
    path: &Path,
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[(&str, &[f32])],
) -> Result<(), PlotError> {
    let len = series.iter().map(|(_, s)| s.len()).max().unwrap_or(0);
    if len == 0 {
        return Err(invalid(path, "no data points"));
    }
    let y = padded_range(series.iter().flat_map(|(_, s)| s.iter().copied()));
    let x = if len == 1 { 0i32..2 } else { 1i32..len as i32 };
    render(path, (900, 560), |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(title, title_style(26))
            .margin(20)
            .x_label_area_size(50)
            .y_label_area_size(70)
            .build_cartesian_2d(x, y)
            .map_err(drawing)?;
        chart
            .configure_mesh()
            .x_desc(x_label)
            .y_desc(y_label)
            .x_labels(len.clamp(2, 12))
            .label_style((FONT, 15))
            .axis_desc_style((FONT, 18))
            .light_line_style(RGBColor(238, 238, 238))
            .max_light_lines(4)
            .draw()
            .map_err(drawing)?;
        for (i, (name, values)) in series.iter().enumerate() {
            let color = PALETTE[i % PALETTE.len()];
            let style = ShapeStyle::from(color).stroke_width(2);
            // One line per run of finite values: a NaN or infinity breaks the line.
            let points: Vec<Option<(i32, f32)>> =
                values.iter().enumerate().map(|(j, &v)| v.is_finite().then_some((j as i32 + 1, v))).collect();
            for run in points.split(Option::is_none) {
                let run = run.iter().flatten().copied();
                chart.draw_series(LineSeries::new(run, style)).map_err(drawing)?;
            }
            if values.len() <= 60 {
                let dots = points.iter().flatten().map(|&p| Circle::new(p, 3, color.filled()));
                chart.draw_series(dots).map_err(drawing)?;
            }
            chart
                .draw_series(LineSeries::new(std::iter::empty::<(i32, f32)>(), style))
                .map_err(drawing)?
                .label(*name)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], color.stroke_width(3)));
        }
        chart
            .configure_series_labels()
            .label_font((FONT, 16))
            .background_style(WHITE.mix(0.85))
            .border_style(RGBColor(180, 180, 180))
            .position(SeriesLabelPosition::UpperRight)
            .draw()
            .map_err(drawing)
    })
}

/// A scatter plot of 2-D points (for example a PCA projection or an
/// embedding), coloured by `labels` with a legend when given, and with a
/// small text label beside each point when `point_labels` is given.
/// The image is 800×800.
pub fn scatter_2d(
    path: &Path,
    title: &str,
    points: &[[f32; 2]],
    labels: Option<&[u32]>,
    point_labels: Option<&[String]>,
) -> Result<(), PlotError> {
    if points.is_empty() {
        return Err(invalid(path, "no points"));
    }
    if labels.is_some_and(|l| l.len() != points.len()) || point_labels.is_some_and(|l| l.len() != points.len()) {
        return Err(invalid(path, format!("{} points but a different number of labels", points.len())));
    }
    let x = padded_range(points.iter().map(|p| p[0]));
    let y = padded_range(points.iter().map(|p| p[1]));
    let mut classes: Vec<u32> = labels.map(<[u32]>::to_vec).unwrap_or_default();
    classes.sort_unstable();
    classes.dedup();
    let radius = if points.len() > 2000 { 2 } else { 4 };
    let legend_w = if labels.is_some() { 110 } else { 0 };
    render(path, (800 + legend_w, 800), |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(title, title_style(26))
            .margin(20)
            .margin_right(20 + legend_w)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(x, y)
            .map_err(drawing)?;
        chart
            .configure_mesh()
            .label_style((FONT, 14))
            .light_line_style(RGBColor(238, 238, 238))
            .max_light_lines(4)
            .draw()
            .map_err(drawing)?;
        let finite = |p: &&[f32; 2]| p[0].is_finite() && p[1].is_finite();
        match labels {
            None => {
                let style = PALETTE[0].mix(0.8).filled();
                chart
                    .draw_series(points.iter().filter(finite).map(|p| Circle::new((p[0], p[1]), radius, style)))
                    .map_err(drawing)?;
            }
            Some(labels) => {
                for &class in &classes {
                    let color = PALETTE[class as usize % PALETTE.len()];
                    let members = points.iter().zip(labels).filter(|(_, l)| **l == class).map(|(p, _)| p);
                    let circles =
                        members.filter(finite).map(|p| Circle::new((p[0], p[1]), radius, color.mix(0.8).filled()));
                    chart.draw_series(circles).map_err(drawing)?;
                }
            }
        }
        if let Some(texts) = point_labels {
            let style = TextStyle::from((FONT, 13).into_font()).color(&BLACK).pos(Pos::new(HPos::Left, VPos::Center));
            let items = points.iter().zip(texts).filter(|(p, _)| finite(p));
            let text = |(p, t): (&[f32; 2], &String)| {
                EmptyElement::at((p[0], p[1])) + Text::new(t.clone(), (7, 0), style.clone())
            };
            chart.draw_series(items.map(text)).map_err(drawing)?;
        }
        draw_legend(root, 790, &classes)
    })
}

/// A legend of class colours in the right margin of a scatter plot, from `x`.
fn draw_legend(root: &Area<'_>, x: i32, classes: &[u32]) -> DrawResult {
    const MAX_ENTRIES: usize = 30;
    let style = TextStyle::from((FONT, 16).into_font()).color(&BLACK).pos(Pos::new(HPos::Left, VPos::Center));
    for (i, &class) in classes.iter().take(MAX_ENTRIES).enumerate() {
        let y = 80 + 24 * i as i32;
        let color = PALETTE[class as usize % PALETTE.len()];
        root.draw(&Circle::new((x + 12, y), 6, color.filled())).map_err(drawing)?;
        root.draw_text(&class.to_string(), &style, (x + 26, y)).map_err(drawing)?;
    }
    if classes.len() > MAX_ENTRIES {
        let y = 80 + 24 * MAX_ENTRIES as i32;
        root.draw_text(&format!("+{} more", classes.len() - MAX_ENTRIES), &style, (x + 4, y)).map_err(drawing)?;
    }
    Ok(())
}
