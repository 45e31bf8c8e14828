//! Confusion matrices of classifiers.

use std::path::Path;

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{FONT, PlotError, drawing, invalid, render, title_style};

/// Most classes drawn (beyond, the cells are too small to read).
pub const MAX_CLASSES: usize = 64;

/// A confusion matrix: `counts[true][predicted]`, rows are the true classes
/// (top to bottom) and columns the predicted ones (left to right), each cell
/// shaded by its share of its row (the recall of the diagonal) and labelled
/// with its count. `names` names the classes, in order.
pub fn confusion_matrix(path: &Path, title: &str, names: &[String], counts: &[Vec<usize>]) -> Result<(), PlotError> {
    let k = names.len();
    if k == 0 || k > MAX_CLASSES {
        return Err(invalid(path, format!("{k} classes: a confusion matrix needs 1 to {MAX_CLASSES}")));
    }
    if counts.len() != k || counts.iter().any(|row| row.len() != k) {
        return Err(invalid(path, format!("the counts are not a {k}x{k} matrix")));
    }
    let cell = (560 / k).clamp(12, 90);
    let label_w = 30 + names.iter().map(|n| n.chars().count().min(24)).max().unwrap_or(1) * 9;
    let (top, margin) = (90usize, 30usize);
    let grid = cell * k;
    // Wide enough for the title (about 12 pixels a character at 22 points).
    let (w, h) = ((label_w + grid + margin).max(title.chars().count() * 12 + 40), top + grid + 60);
    // Centre the grid (and its labels) under a wider title.
    let label_w = label_w + (w - (label_w + grid + margin)) / 2;
    let size = (u32::try_from(w).unwrap_or(u32::MAX), u32::try_from(h).unwrap_or(u32::MAX));
    let short = |n: &String| n.chars().take(24).collect::<String>();
    render(path, size, |root| {
        let center = Pos::new(HPos::Center, VPos::Center);
        root.draw_text(title, &title_style(22).pos(center), ((w / 2) as i32, 28)).map_err(drawing)?;
        let axis = TextStyle::from((FONT, 16).into_font()).color(&BLACK).pos(center);
        let mid_x = (label_w + grid / 2) as i32;
        root.draw_text("predicted class", &axis, (mid_x, 62)).map_err(drawing)?;
        root.draw_text("rows: true class", &axis, (mid_x, (top + grid + 36) as i32)).map_err(drawing)?;
        let font = (cell / 3).clamp(9, 16) as u32;
        let label = TextStyle::from((FONT, 14).into_font()).color(&BLACK);
        for (r, row) in counts.iter().enumerate() {
            let total: usize = row.iter().sum();
            let y0 = (top + r * cell) as i32;
            let right = label.clone().pos(Pos::new(HPos::Right, VPos::Center));
            root.draw_text(&short(&names[r]), &right, ((label_w - 8) as i32, y0 + cell as i32 / 2)).map_err(drawing)?;
            for (c, &n) in row.iter().enumerate() {
                let x0 = (label_w + c * cell) as i32;
                let share = if total == 0 { 0.0 } else { n as f64 / total as f64 };
                let shade = (255.0 * (1.0 - 0.85 * share)).round() as u8;
                let fill = RGBColor(shade, shade, 255);
                let rect = [(x0, y0), (x0 + cell as i32, y0 + cell as i32)];
                root.draw(&Rectangle::new(rect, fill.filled())).map_err(drawing)?;
                root.draw(&Rectangle::new(rect, RGBColor(200, 200, 200))).map_err(drawing)?;
                let ink = if share > 0.6 { WHITE } else { BLACK };
                let text = TextStyle::from((FONT, font).into_font()).color(&ink).pos(center);
                let at = (x0 + cell as i32 / 2, y0 + cell as i32 / 2);
                root.draw_text(&n.to_string(), &text, at).map_err(drawing)?;
            }
        }
        // Column names above the grid, when they fit.
        if cell >= 30 {
            for (c, name) in names.iter().enumerate() {
                let x = (label_w + c * cell + cell / 2) as i32;
                let style = label.clone().pos(Pos::new(HPos::Center, VPos::Bottom));
                let text: String = name.chars().take(cell / 8).collect();
                root.draw_text(&text, &style, (x, top as i32 - 4)).map_err(drawing)?;
            }
        }
        Ok(())
    })
}
