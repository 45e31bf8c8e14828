//! Labelled data for classifiers and regressors: a CSV label column (numbers
//! or names), CSV target columns, a folder per class (.npy and .csv files of
//! one sample each), and the errors on bad input.

use ember_data::npy::write_npy;
use ember_data::{load_class_folders, load_labeled_csv, load_regression_csv};

use super::{gzip, scratch_dir, write};

#[test]
fn csv_label_column_of_names_and_of_numbers() {
    let dir = scratch_dir("labeled-csv");
    let named = "sepal,petal,species\n1,2,setosa\n3,4,virginica\n5,6,setosa\n7,8,versicolor\n";
    write(&dir.join("named.csv"), named.as_bytes());
    write(&dir.join("named.csv.gz"), gzip(named.as_bytes()));
    for file in ["named.csv", "named.csv.gz"] {
        for col in [None, Some("species"), Some("-1"), Some("2")] {
            let l = load_labeled_csv(&dir.join(file), col).expect("valid CSV");
            // Sorted names, as scikit-learn's LabelEncoder orders them.
            assert_eq!(l.classes, vec!["setosa", "versicolor", "virginica"]);
            assert_eq!(l.data.labels, Some(vec![0, 2, 0, 1]));
            assert_eq!(
                (l.data.dims.as_slice(), l.data.x.as_slice()),
                (&[2][..], &[1., 2., 3., 4., 5., 6., 7., 8.][..])
            );
        }
    }
    // The label in the first column, as integers: class indices, named by their digits.
    write(&dir.join("numbers.csv"), b"2,0.5,0.25\n0,1,1\n");
    let l = load_labeled_csv(&dir.join("numbers.csv"), Some("0")).expect("valid CSV");
    assert_eq!(
        (l.classes.clone(), l.data.labels.clone()),
        (vec!["0".into(), "1".into(), "2".into()], Some(vec![2, 0]))
    );
    assert_eq!(l.data.x, vec![0.5, 0.25, 1.0, 1.0]);
}

fn labeled_error(text: &str, label: Option<&str>) -> String {
    let dir = scratch_dir("labeled-csv-bad");
    let path = dir.join("bad.csv");
    write(&path, text.as_bytes());
    let msg = load_labeled_csv(&path, label).expect_err("bad CSV must be rejected").to_string();
    assert!(msg.contains("bad.csv"), "message must name the file: {msg}");
    msg
}

#[test]
fn csv_label_column_errors_name_the_row() {
    // A time series row with a value missing (ragged): the line is named.
    let msg = labeled_error("t0,t1,t2,label\n1,2,3,a\n1,2,b\n", None);
    assert!(msg.contains("line 3") && msg.contains("row has 3 values, expected 4"), "{msg}");
    let msg = labeled_error("1,2,a\n1,x,b\n", None);
    assert!(msg.contains("line 2, column 2") && msg.contains("\"x\" is not a number"), "{msg}");
    let msg = labeled_error("a,b,label\n1,2,\n", None);
    assert!(msg.contains("line 2, column 3") && msg.contains("label is empty"), "{msg}");
    let msg = labeled_error("a,b,label\n1,2,x\n", Some("class"));
    assert!(msg.contains("label column \"class\" is not in the header"), "{msg}");
    assert!(labeled_error("", None).contains("empty"));
    assert!(labeled_error("a,b,label\n", None).contains("empty"));
    let msg = labeled_error("label\n1\n", None);
    assert!(msg.contains("no feature columns"), "{msg}");
}

#[test]
fn csv_target_columns() {
    let dir = scratch_dir("regression-csv");
    write(&dir.join("t.csv"), b"x1,y,x2,z\n1,10,2,-1\n3,30,4,-3\n");
    let t = load_regression_csv(&dir.join("t.csv"), &[]).expect("valid CSV");
    assert_eq!(
        (t.names.clone(), t.y.clone(), t.x.x.clone()),
        (vec!["z".to_string()], vec![-1.0, -3.0], vec![1., 10., 2., 3., 30., 4.])
    );
    let t = load_regression_csv(&dir.join("t.csv"), &["y".into(), "z".into()]).expect("two targets");
    assert_eq!((t.y, t.x.x, t.x.dims), (vec![10.0, -1.0, 30.0, -3.0], vec![1., 2., 3., 4.], vec![2]));
    let msg = load_regression_csv(&dir.join("t.csv"), &["y".into(), "1".into()]).expect_err("twice").to_string();
    assert!(msg.contains("named twice"), "{msg}");
    write(&dir.join("bad.csv"), b"x,y\n1,2\n3,inf\n");
    let msg = load_regression_csv(&dir.join("bad.csv"), &[]).expect_err("infinite target").to_string();
    assert!(msg.contains("line 3, column 2"), "{msg}");
}

#[test]
fn folder_per_class_of_npy_and_csv_samples() {
    let dir = scratch_dir("class-folders");
    std::fs::create_dir_all(dir.join("up")).expect("mkdir");
    std::fs::create_dir_all(dir.join("down")).expect("mkdir");
    // Time series [steps = 3, channels = 2]: a .npy and a .csv (one line per step).
    write_npy(&dir.join("up/a.npy"), &[3, 2], &[1., 2., 3., 4., 5., 6.]).expect("npy");
    write(&dir.join("up/.hidden"), b"not a sample");
    write(&dir.join("down/b.csv"), b"6,5\n4,3\n2,1\n");
    write(&dir.join("down/c.csv.gz"), gzip(b"0,0\n0,0\n0,1\n"));
    let l = load_class_folders(&dir).expect("valid folders");
    assert_eq!(l.classes, vec!["down", "up"]);
    assert_eq!((l.data.n, l.data.dims.as_slice()), (3, &[3, 2][..]));
    assert_eq!(l.data.labels, Some(vec![0, 0, 1]));
    assert_eq!(&l.data.x[..6], &[6., 5., 4., 3., 2., 1.]);
    assert_eq!(&l.data.x[12..], &[1., 2., 3., 4., 5., 6.]);
}

fn folder_error(setup: impl FnOnce(&std::path::Path)) -> String {
    let dir = scratch_dir("class-folders-bad");
    std::fs::create_dir_all(dir.join("a")).expect("mkdir");
    setup(&dir);
    load_class_folders(&dir).expect_err("bad folder must be rejected").to_string()
}

#[test]
fn folder_per_class_errors_name_the_file() {
    let msg = folder_error(|d| {
        write(&d.join("a/one.csv"), b"1,2\n3,4\n");
        write(&d.join("a/two.csv"), b"1,2\n3\n");
    });
    assert!(msg.contains("two.csv") && msg.contains("line 2") && msg.contains("ragged series"), "{msg}");
    // An image of the wrong size.
    let msg = folder_error(|d| {
        write_npy(&d.join("a/one.npy"), &[2, 2], &[0.0; 4]).expect("npy");
        write_npy(&d.join("a/two.npy"), &[3, 2], &[0.0; 6]).expect("npy");
    });
    assert!(msg.contains("two.npy") && msg.contains("shape [3, 2]") && msg.contains("one.npy"), "{msg}");
    let msg = folder_error(|d| write(&d.join("a/empty.csv"), b""));
    assert!(msg.contains("empty.csv") && msg.contains("empty"), "{msg}");
    let msg = folder_error(|d| write(&d.join("a/x.png"), b"\x89PNG"));
    assert!(msg.contains("x.png") && msg.contains(".npy or .csv"), "{msg}");
    let msg = folder_error(|d| std::fs::create_dir_all(d.join("b")).expect("mkdir"));
    assert!(msg.contains("class \"a\" has no sample files"), "{msg}");
    let dir = scratch_dir("class-folders-none");
    let msg = load_class_folders(&dir).expect_err("no class folders").to_string();
    assert!(msg.contains("no class folders"), "{msg}");
}
