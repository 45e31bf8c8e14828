//! Synthetic blobs and input noise.

use ember_data::{make_blobs, noise};

const CENTRES: [[f32; 3]; 3] = [[0.0, 0.0, 0.0], [10.0, -5.0, 2.0], [-8.0, 8.0, -8.0]];

#[test]
fn blobs_are_deterministic_and_near_their_centres() {
    let a = make_blobs(301, &CENTRES, 0.5, 42);
    assert_eq!(a, make_blobs(301, &CENTRES, 0.5, 42));
    assert_ne!(a.x, make_blobs(301, &CENTRES, 0.5, 43).x);
    assert_eq!((a.n, a.dims.as_slice(), a.x.len()), (301, &[3][..], 903));
    let labels = a.labels.as_deref().expect("labels");
    let mut counts = [0usize; 3];
    let mut sums = [[0f64; 3]; 3];
    let mut sq = 0f64;
    for (i, &l) in labels.iter().enumerate() {
        counts[l as usize] += 1;
        for (c, v) in a.sample(i).iter().enumerate() {
            sums[l as usize][c] += f64::from(*v);
            sq += (f64::from(*v) - f64::from(CENTRES[l as usize][c])).powi(2);
        }
    }
    assert_eq!(counts, [101, 100, 100]);
    for (l, centre) in CENTRES.iter().enumerate() {
        for c in 0..3 {
            // The mean of 100 N(c, 0.25) draws is within 5 standard errors (0.25).
            let mean = sums[l][c] / counts[l] as f64;
            assert!((mean - f64::from(centre[c])).abs() < 0.25, "cluster {l} axis {c}: {mean}");
        }
    }
    let var = sq / 903.0;
    assert!((var - 0.25).abs() < 0.05, "variance {var}");
    // Shuffled: the clusters are interleaved, not in blocks.
    assert!(labels.windows(2).filter(|w| w[0] != w[1]).count() > 100);
}

#[test]
fn random_centres_lie_in_the_box() {
    let b = make_blobs(1000, 4, 0.1, 7);
    assert_eq!(b, make_blobs(1000, 4, 0.1, 7));
    assert_eq!(b.labels.as_deref().map(|l| l.iter().max().copied()), Some(Some(3)));
    assert!(b.x.iter().all(|v| v.abs() < 11.0));
    assert_eq!(make_blobs(10, 0, 1.0, 1).n, 0);
}

#[test]
fn gaussian_noise_is_clipped_and_seeded() {
    let x = vec![0.5f32; 20000];
    let y = noise::gaussian(&x, 0.1, 3);
    assert_eq!(y, noise::gaussian(&x, 0.1, 3));
    assert!(y.iter().all(|v| (0.0..=1.0).contains(v)));
    let mean = y.iter().map(|&v| f64::from(v)).sum::<f64>() / 20000.0;
    let var = y.iter().map(|&v| (f64::from(v) - 0.5).powi(2)).sum::<f64>() / 20000.0;
    assert!((mean - 0.5).abs() < 0.005 && (var - 0.01).abs() < 0.001, "{mean} {var}");
    let z = noise::gaussian(&[0.0, 1.0], 100.0, 1);
    assert!(z.iter().all(|&v| v == 0.0 || v == 1.0));
}

#[test]
fn salt_and_pepper_replaces_a_fraction() {
    let x = vec![0.5f32; 20000];
    let y = noise::salt_and_pepper(&x, 0.2, 9);
    assert_eq!(y, noise::salt_and_pepper(&x, 0.2, 9));
    let salt = y.iter().filter(|&&v| v == 1.0).count();
    let pepper = y.iter().filter(|&&v| v == 0.0).count();
    assert_eq!(salt + pepper + y.iter().filter(|&&v| v == 0.5).count(), 20000);
    assert!((1800..2200).contains(&salt) && (1800..2200).contains(&pepper), "{salt} {pepper}");
    assert_eq!(noise::salt_and_pepper(&x, 0.0, 9), x);
}
