//! CSV loaders: float CSV, MNIST CSV, the bundled MNIST file, load_auto.

use ember_data::{DataError, bundled_mnist, load_auto, load_csv, load_mnist_csv};

use super::{gzip, scratch_dir, write};

fn csv_error(text: &str, label: Option<&str>) -> String {
    let dir = scratch_dir("csv-bad");
    let path = dir.join("bad.csv");
    write(&path, text.as_bytes());
    let err = load_csv(&path, label).expect_err("bad CSV must be rejected");
    let msg = err.to_string();
    assert!(msg.contains("bad.csv"), "message must name the file: {msg}");
    msg
}

#[test]
fn float_csv_with_header_and_label() {
    let dir = scratch_dir("csv");
    let text = "a, b ,label\n1.5,-2,3\n\n0,1e-3,\"0\"\r\n";
    write(&dir.join("plain.csv"), text.as_bytes());
    write(&dir.join("zipped.csv.gz"), gzip(text.as_bytes()));
    for name in ["plain.csv", "zipped.csv.gz"] {
        for label in ["label", "2", "-1"] {
            let d = load_csv(&dir.join(name), Some(label)).expect("valid CSV");
            assert_eq!((d.n, d.dims.as_slice()), (2, &[2][..]));
            assert_eq!(d.x, vec![1.5, -2.0, 0.0, 1e-3]);
            assert_eq!(d.labels, Some(vec![3, 0]));
        }
    }
    let d = load_csv(&dir.join("plain.csv"), None).expect("valid CSV");
    assert_eq!((d.dims.as_slice(), d.labels), (&[3][..], None));
    let msg = load_csv(&dir.join("plain.csv"), Some("a")).expect_err("1.5 is no label").to_string();
    assert!(msg.contains("line 2, column 1") && msg.contains("not a non-negative integer"), "{msg}");
    let auto = load_auto(&dir.join("zipped.csv.gz")).expect("auto CSV");
    assert_eq!((auto.n, auto.dims.as_slice(), auto.labels), (2, &[3][..], None));
}

#[test]
fn float_csv_errors_name_line_and_column() {
    let msg = csv_error("1,2\n3,NaN\n", None);
    assert!(msg.contains("line 2, column 2") && msg.contains("NaN"), "{msg}");
    let msg = csv_error("x,y\n1,2\n3,4,5\n", None);
    assert!(msg.contains("line 3") && msg.contains("expected 2 columns, found 3"), "{msg}");
    let msg = csv_error("1,2\n3,abc\n", None);
    assert!(msg.contains("line 2, column 2") && msg.contains("\"abc\" is not a number"), "{msg}");
    let msg = csv_error("1,inf\n", None);
    assert!(msg.contains("line 1, column 2") && msg.contains("infinite"), "{msg}");
    let msg = csv_error("1,1e39\n", None);
    assert!(msg.contains("line 1, column 2"), "{msg}");
    let msg = csv_error("1,2\n3,4.5\n", Some("1"));
    assert!(msg.contains("line 2, column 2") && msg.contains("label"), "{msg}");
    let msg = csv_error("a,b\n1,2\n", Some("c"));
    assert!(msg.contains("\"c\" is not in the header"), "{msg}");
    let msg = csv_error("1,2\n", Some("7"));
    assert!(msg.contains("out of range"), "{msg}");
    let msg = csv_error("", None);
    assert!(msg.contains("empty"), "{msg}");
    let msg = csv_error("\n  \n", None);
    assert!(msg.contains("empty"), "{msg}");
    let msg = csv_error("a,b\n", None);
    assert!(msg.contains("empty"), "{msg}");
    let msg = csv_error("1,2\n\u{0}\u{ff}\u{fe}", None);
    assert!(msg.contains("line 2"), "{msg}");
}

#[test]
fn invalid_utf8_is_an_error_with_its_line() {
    let dir = scratch_dir("csv-bin");
    let path = dir.join("binary.csv");
    write(&path, b"1,2\n3,4\n\xff\xfe");
    let err = load_csv(&path, None).expect_err("binary");
    assert!(matches!(err, DataError::Csv { line: 3, .. }), "{err:?}");
}

fn mnist_row(pixel: &str, label: &str) -> String {
    let mut cells = vec!["0"; 784];
    cells[100] = pixel;
    format!("{},{label}\n", cells.join(","))
}

#[test]
fn mnist_csv_errors_name_the_line() {
    let dir = scratch_dir("mnist-csv");
    let path = dir.join("m.csv");
    write(&path, format!("{}{}", mnist_row("255", "3"), mnist_row("256", "4")).as_bytes());
    let msg = load_mnist_csv(&path).expect_err("pixel 256").to_string();
    assert!(msg.contains("m.csv") && msg.contains("line 2, column 101") && msg.contains("256"), "{msg}");
    write(&path, format!("{}1,2,3\n", mnist_row("1", "3")).as_bytes());
    let msg = load_mnist_csv(&path).expect_err("short row").to_string();
    assert!(msg.contains("line 2") && msg.contains("found 3"), "{msg}");
    write(&path, mnist_row("-1", "3").as_bytes());
    assert!(load_mnist_csv(&path).expect_err("negative").to_string().contains("line 1, column 101"));
    write(&path, mnist_row("0.5", "3").as_bytes());
    assert!(load_mnist_csv(&path).expect_err("fraction").to_string().contains("not an integer"));
    // A header line is skipped; 785 integer columns make load_auto pick MNIST scaling.
    let header: Vec<String> = (0..785).map(|i| format!("c{i}")).collect();
    write(&path, format!("{}\n{}", header.join(","), mnist_row("51", "9")).as_bytes());
    for d in [load_mnist_csv(&path).expect("with header"), load_auto(&path).expect("auto")] {
        assert_eq!((d.n, d.dims.as_slice(), d.labels.as_deref()), (1, &[784][..], Some(&[9][..])));
        assert_eq!(d.x[100], 0.2);
    }
}

#[test]
fn bundled_mnist_has_500_of_each_digit() {
    let d = bundled_mnist().expect("bundled MNIST");
    assert_eq!((d.n, d.dims.as_slice(), d.x.len()), (5000, &[784][..], 5000 * 784));
    let mut counts = [0usize; 10];
    for &l in d.labels.as_deref().expect("labels") {
        counts[l as usize] += 1;
    }
    assert_eq!(counts, [500; 10]);
    assert!(d.x.iter().all(|&v| (0.0..=1.0).contains(&v)));
    assert!(d.x.contains(&1.0) && d.x.iter().any(|&v| v > 0.0 && v < 1.0));
    assert_eq!(
        load_auto(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../crates/data/mnist_5k.csv.gz"))
            .expect("auto"),
        d
    );
}
