//! Grids of grayscale images.

use std::path::Path;

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{FONT, PlotError, drawing, invalid, render, title_style};

/// A grid of grayscale images: one row per named set (for example
/// `("original", ..)` and `("reconstruction", ..)`), the first `cols` images
/// of each set, each `width`×`height` values in `[0, 1]` (row-major; values
/// outside are clipped, NaN is drawn red), the set's name on the left. Tiles
/// are scaled up by an integer factor to about 64 pixels.
pub fn image_grid(
    path: &Path,
    title: &str,
    rows: &[(&str, &[f32])],
    width: usize,
    height: usize,
    cols: usize,
) -> Result<(), PlotError> {
    let pixels = width * height;
    if rows.is_empty() || cols == 0 || pixels == 0 {
        return Err(invalid(path, "need at least one row, one column and a non-empty image size"));
    }
    if let Some((name, data)) = rows.iter().find(|(_, d)| d.len() % pixels != 0 || d.is_empty()) {
        return Err(invalid(
            path,
            format!("row {name:?} holds {} values, not whole {width}x{height} images", data.len()),
        ));
    }
    let scale = 64usize.div_ceil(width.max(height)).max(1);
    let (tile_w, tile_h, gap) = (width * scale, height * scale, 6usize);
    let label_w = 20 + rows.iter().map(|(n, _)| n.chars().count()).max().unwrap_or(0) * 10;
    let (top, margin) = (56usize, 14usize);
    let w = label_w + cols * (tile_w + gap) + margin;
    let h = top + rows.len() * (tile_h + gap) + margin;
    let size = (u32::try_from(w).unwrap_or(u32::MAX), u32::try_from(h).unwrap_or(u32::MAX));
    if w > 16_384 || h > 16_384 {
        return Err(invalid(path, format!("the grid would be {w}x{h} pixels; show fewer or smaller images")));
    }
    render(path, size, |root| {
        let title_pos = Pos::new(HPos::Center, VPos::Center);
        root.draw_text(title, &title_style(24).pos(title_pos), ((w / 2) as i32, (top / 2) as i32)).map_err(drawing)?;
        for (r, (name, data)) in rows.iter().enumerate() {
            let y0 = top + r * (tile_h + gap);
            let style = TextStyle::from((FONT, 17).into_font()).color(&BLACK).pos(Pos::new(HPos::Right, VPos::Center));
            root.draw_text(name, &style, ((label_w - 12) as i32, (y0 + tile_h / 2) as i32)).map_err(drawing)?;
            for (c, image) in data.chunks_exact(pixels).take(cols).enumerate() {
                let x0 = label_w + c * (tile_w + gap);
                for (i, &v) in image.iter().enumerate() {
                    let color = if v.is_nan() {
                        RGBColor(255, 0, 0)
                    } else {
                        let g = (v.clamp(0.0, 1.0) * 255.0).round() as u8;
                        RGBColor(g, g, g)
                    };
                    let (px, py) = ((x0 + (i % width) * scale) as i32, (y0 + (i / width) * scale) as i32);
                    let rect = Rectangle::new([(px, py), (px + scale as i32, py + scale as i32)], color.filled());
                    root.draw(&rect).map_err(drawing)?;
                }
            }
        }
        Ok(())
    })
}
