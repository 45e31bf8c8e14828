//! Generated data: deterministic from the seed, of the documented shapes,
//! with balanced classes and the properties each generator promises.

use ember_data::generated::{self, ANOMALY_KINDS, GESTURE_CLASSES, KWS_CLASSES};

#[test]
fn sine_is_sin_plus_small_noise() {
    let t = generated::sine(500, 1);
    assert_eq!((t.x.n, t.x.dims.as_slice(), t.y.len()), (500, &[1][..], 500));
    assert!(t.x.x.iter().all(|&x| (0.0..std::f32::consts::TAU).contains(&x)));
    let noise: Vec<f64> = t.x.x.iter().zip(&t.y).map(|(&x, &y)| (y as f64) - (x as f64).sin()).collect();
    let var = noise.iter().map(|e| e * e).sum::<f64>() / noise.len() as f64;
    assert!((0.005..0.02).contains(&var), "noise variance {var}, 0.01 intended");
    assert_eq!(generated::sine(500, 1), t, "same seed, same data");
    assert_ne!(generated::sine(500, 2).y, t.y);
}

#[test]
fn sensor_windows_and_planted_anomalies() {
    let w = generated::sensor_windows(40, 3);
    assert_eq!((w.n, w.dims.as_slice(), w.x.len()), (40, &[32, 3][..], 40 * 96));
    assert_eq!(generated::sensor_windows(40, 3), w);
    let a = generated::sensor_anomalies(30, 3);
    assert_eq!(a.classes, ANOMALY_KINDS.to_vec());
    assert_eq!(a.data.dims, vec![32, 3]);
    let labels = a.data.labels.clone().expect("labels");
    for k in 0..3 {
        assert_eq!(labels.iter().filter(|&&l| l == k).count(), 10, "kind {k}");
    }
    // The same seed gives the same normal windows underneath: each anomaly
    // changes only one channel of its window.
    for (i, &label) in labels.iter().enumerate() {
        let (clean, bad) = (w.sample(i), a.data.sample(i));
        let changed: Vec<usize> = (0..96).filter(|&j| clean[j] != bad[j]).map(|j| j % 3).collect();
        assert!(!changed.is_empty() && changed.iter().all(|&c| c == changed[0]), "window {i}: {changed:?}");
        if label == 0 {
            assert_eq!(changed.len(), 1, "a spike changes one value");
            let j = (0..96).find(|&j| clean[j] != bad[j]).expect("changed");
            assert!((bad[j] - clean[j]).abs() >= 3.0);
        }
    }
}

#[test]
fn kws_and_gesture_data_have_balanced_classes_of_the_right_shape() {
    let k = generated::kws_features(60, 5);
    assert_eq!((k.data.dims.as_slice(), k.classes.len()), (&[49, 10, 1][..], KWS_CLASSES.len()));
    let g = generated::gesture_windows(50, 5);
    assert_eq!((g.data.dims.as_slice(), g.classes.len()), (&[64, 3][..], GESTURE_CLASSES.len()));
    for l in [&k, &g] {
        let labels = l.data.labels.as_deref().expect("labels");
        for c in 0..l.classes.len() as u32 {
            assert_eq!(labels.iter().filter(|&&x| x == c).count(), labels.len() / l.classes.len());
        }
        assert!(l.data.x.iter().all(|v| v.is_finite()));
    }
    assert_eq!(generated::kws_features(60, 5), k);
    assert_eq!(generated::gesture_windows(50, 5), g);
    // Idle gestures: about 1 g on z; shakes move x much more.
    let spread = |i: usize, axis: usize| {
        let s = g.data.sample(i);
        let v: Vec<f32> = s.chunks(3).map(|a| a[axis]).collect();
        v.iter().cloned().fold(f32::MIN, f32::max) - v.iter().cloned().fold(f32::MAX, f32::min)
    };
    assert!(spread(0, 0) < 0.5 && spread(1, 0) > 1.0, "idle {} vs shake {}", spread(0, 0), spread(1, 0));
    // Silence is noise alone; a "high" word raises the top bands above the bottom ones.
    let band_mean = |i: usize, bands: std::ops::Range<usize>| {
        let s = k.data.sample(i);
        s.chunks(10).flat_map(|f| f[bands.clone()].to_vec()).sum::<f32>() / 49.0
    };
    assert!(band_mean(4, 7..10) > band_mean(4, 0..3) + 1.0);
    assert!(band_mean(0, 0..10).abs() < 1.0);
}

#[test]
fn mnist_images_are_28_by_28_by_1() {
    let m = generated::mnist_images().expect("bundled");
    assert_eq!((m.data.n, m.data.dims.as_slice(), m.classes.len()), (5000, &[28, 28, 1][..], 10));
    let flat = ember_data::bundled_mnist().expect("bundled");
    assert_eq!(m.data.x, flat.x);
}
