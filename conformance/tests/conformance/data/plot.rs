//! Every plot function writes a valid PNG of a sensible size, atomically.

use std::path::Path;

use ember_data::{bundled_mnist, make_blobs};
use ember_train::pca::Pca;
use ember_train::plot::{PlotError, image_grid, line_chart, scatter_2d};

use super::{files_in, scratch_dir};

/// Width and height from the IHDR chunk, after checking the PNG signature
/// (PNG specification, sections 5.2 and 11.2.2).
fn png_size(path: &Path) -> (u32, u32) {
    let bytes = std::fs::read(path).expect("PNG written");
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "PNG signature");
    assert_eq!(&bytes[8..16], b"\x00\x00\x00\x0dIHDR", "IHDR first");
    let be = |i: usize| u32::from_be_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]);
    assert_eq!(&bytes[bytes.len() - 8..bytes.len() - 4], b"IEND", "complete file");
    (be(16), be(20))
}

#[test]
fn line_chart_writes_a_png() {
    let dir = scratch_dir("plot-line");
    let loss = [0.30f32, 0.21, 0.17, 0.15, 0.14, 0.133, 0.128, 0.125, 0.123, 0.121];
    let val = [0.25f32, 0.19, 0.165, 0.152, 0.146, 0.142, 0.14, 0.139, 0.139, 0.14];
    let path = dir.join("loss.png");
    line_chart(
        &path,
        "Dense autoencoder on MNIST",
        "epoch",
        "binary cross-entropy",
        &[("loss", &loss), ("val_loss", &val)],
    )
    .expect("plot");
    assert_eq!(png_size(&path), (900, 560));
    line_chart(&dir.join("one.png"), "one point", "epoch", "loss", &[("loss", &[1.0])]).expect("single point");
    let gap = [1.0, 0.8, f32::NAN, 0.5, 0.45, f32::INFINITY, 0.4];
    line_chart(&dir.join("gap.png"), "with NaN", "epoch", "loss", &[("loss", &gap), ("val", &loss)])
        .expect("NaN skipped");
    let err = line_chart(&dir.join("empty.png"), "t", "x", "y", &[("loss", &[])]).expect_err("no data");
    assert!(matches!(err, PlotError::Input { .. }) && err.to_string().contains("empty.png"), "{err}");
    assert_eq!(files_in(&dir), vec!["gap.png", "loss.png", "one.png"]);
    eprintln!("line chart: {}", path.display());
}

#[test]
fn scatter_2d_writes_a_png() {
    let dir = scratch_dir("plot-scatter");
    let mnist = bundled_mnist().expect("bundled MNIST");
    let pca = Pca::fit(&mnist.x, mnist.n, 784, 2);
    let codes = pca.transform(&mnist.x);
    let points: Vec<[f32; 2]> = codes.chunks_exact(2).map(|c| [c[0], c[1]]).collect();
    let path = dir.join("mnist-pca.png");
    scatter_2d(&path, "MNIST, first two principal components", &points, mnist.labels.as_deref(), None).expect("plot");
    assert_eq!(png_size(&path), (910, 800));
    let blobs = make_blobs(12, 3, 1.0, 1);
    let pts: Vec<[f32; 2]> = blobs.x.chunks_exact(3).map(|p| [p[0], p[1]]).collect();
    let names: Vec<String> = (0..12).map(|i| format!("word{i}")).collect();
    let labelled = dir.join("words.png");
    scatter_2d(&labelled, "Embedding", &pts, blobs.labels.as_deref(), Some(&names)).expect("plot");
    scatter_2d(&dir.join("plain.png"), "No labels", &pts, None, None).expect("plot");
    assert_eq!(png_size(&labelled), (910, 800));
    assert_eq!(png_size(&dir.join("plain.png")), (800, 800));
    assert!(scatter_2d(&dir.join("bad.png"), "t", &pts, Some(&[1, 2]), None).is_err());
    assert_eq!(files_in(&dir), vec!["mnist-pca.png", "plain.png", "words.png"]);
    eprintln!("scatter: {} {}", path.display(), labelled.display());
}

#[test]
fn image_grid_writes_a_png() {
    let dir = scratch_dir("plot-grid");
    let all = bundled_mnist().expect("bundled MNIST");
    let mnist = all.select(&(0..10).map(|i| i * 500 + i).collect::<Vec<_>>());
    let pca = Pca::fit(&mnist.x, 10, 784, 4);
    let rec = pca.inverse_transform(&pca.transform(&mnist.x));
    let path = dir.join("grid.png");
    image_grid(&path, "PCA reconstructions", &[("original", &mnist.x), ("reconstruction", &rec)], 28, 28, 10)
        .expect("plot");
    let (w, h) = png_size(&path);
    assert!(w > 10 * 28 && h > 2 * 28 && w < 2000 && h < 1000, "{w}x{h}");
    let err = image_grid(&dir.join("bad.png"), "t", &[("x", &[0.0; 5])], 2, 2, 1).expect_err("not whole images");
    assert!(err.to_string().contains("whole 2x2 images"), "{err}");
    assert_eq!(files_in(&dir), vec!["grid.png"]);
    eprintln!("grid: {}", path.display());
}
