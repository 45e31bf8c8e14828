//! CSV files with a text and a label column.

use ember_data::text::{TextError, keras_imdb_spec, load_text_csv, load_text_csv_like, read_text_column};
use ember_runtime::spec::{Side, TokenizerKind};

use super::{assert_device_agrees, rows, scratch_dir, spec, write};

#[test]
fn quoted_fields_and_string_labels() {
    let dir = scratch_dir("csv");
    let path = dir.join("reviews.csv");
    let text = "id,review,sentiment\r\n\
                1,\"good, very good\",pos\r\n\
                2,\"bad\nbad \"\"bad\"\"\", neg\n\
                3,meh,neutral\n";
    write(&path, text);
    let s = spec(TokenizerKind::Vocabulary, 7, 5, Side::Post, Side::Post);
    let t = load_text_csv(&path, "review", "sentiment", &s).expect("load");
    assert_eq!(t.classes, ["neg", "neutral", "pos"]);
    assert_eq!(t.data.labels, Some(vec![2, 0, 1]));
    // bad 3, good 2, very 1, meh 1 (very first): list bad, good, very, meh.
    assert_eq!(t.vocab.as_deref(), Some(&["bad".to_string(), "good".into(), "very".into(), "meh".into()][..]));
    assert_eq!(rows(&t), vec![vec![1, 4, 5, 4, 0], vec![1, 3, 3, 3, 0], vec![1, 6, 0, 0, 0]]);
    assert_device_agrees(&t, &["good, very good", "bad\nbad \"bad\"", "meh"]);

    // A test file tokenized like the training file; labels by name or number.
    let test_path = dir.join("test.csv");
    write(&test_path, "sentiment,review\npos,very unknown\n0,\"bad, good\"\n");
    let u = load_text_csv_like(&test_path, "review", "sentiment", &t).expect("like");
    assert_eq!((u.classes.clone(), u.vocab.clone(), u.tokenizer), (t.classes.clone(), t.vocab.clone(), t.tokenizer));
    assert_eq!(u.data.labels, Some(vec![2, 0]));
    assert_eq!(rows(&u), vec![vec![1, 5, 2, 0, 0], vec![1, 3, 4, 0, 0]]);

    write(&test_path, "sentiment,review\nmixed,words\n");
    let msg = load_text_csv_like(&test_path, "review", "sentiment", &t).expect_err("unknown class").to_string();
    assert!(msg.contains("test.csv, line 2: label \"mixed\" is not one of the classes (neg, neutral, pos)"), "{msg}");
}

#[test]
fn integer_labels_and_gzip() {
    let dir = scratch_dir("csv-int");
    let path = dir.join("r.csv.gz");
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut enc, "text,label\nhello world,0\nworld,3\n".as_bytes()).expect("gzip");
    write(&path, enc.finish().expect("gzip"));
    let s = spec(TokenizerKind::Hashing, 100, 4, Side::Pre, Side::Pre);
    let t = load_text_csv(&path, "text", "label", &s).expect("load");
    assert_eq!(t.classes, ["0", "1", "2", "3"]);
    assert_eq!(t.data.labels, Some(vec![0, 3]));
    assert_eq!(t.vocab, None);
    assert_device_agrees(&t, &["hello world", "world"]);
}

fn csv_error(text: &[u8], text_col: &str, label_col: &str) -> String {
    let dir = scratch_dir("csv-bad");
    let path = dir.join("bad.csv");
    write(&path, text);
    let err = load_text_csv(&path, text_col, label_col, &keras_imdb_spec(100, 8)).expect_err("bad CSV");
    let msg = err.to_string();
    assert!(msg.contains("bad.csv"), "message must name the file: {msg}");
    msg
}

#[test]
fn bad_csv_files_are_errors() {
    let msg = csv_error(b"text,label\nhi,1\n", "text", "sentiment");
    assert!(msg.ends_with("bad.csv, line 1: no label column named \"sentiment\" (columns: text, label)"), "{msg}");
    let msg = csv_error(b"body,label\nhi,1\n", "text", "label");
    assert!(msg.contains("no text column named \"text\""), "{msg}");
    let msg = csv_error(b"text,label\nhi,1\n\"a,b\",2,extra\n", "text", "label");
    assert!(msg.contains("line 3: expected 2 fields like the header, found 3"), "{msg}");
    let msg = csv_error(b"text,label\nhi,1\n\"...!\",0\n", "text", "label");
    assert!(msg.ends_with("bad.csv, line 3: text holds no word (empty, or only spaces and punctuation)"), "{msg}");
    let msg = csv_error(b"text,label\nhi,\n", "text", "label");
    assert!(msg.contains("line 2: empty label in column \"label\""), "{msg}");
    let msg = csv_error(b"text,label\n", "text", "label");
    assert!(msg.contains("no data rows after the header"), "{msg}");
    let msg = csv_error(b"", "text", "label");
    assert!(msg.contains("the file is empty"), "{msg}");
    // A huge class number is an error naming its line, not billions of class names.
    let msg = csv_error(b"text,label\nhi,1\nthere,4000000000\n", "text", "label");
    assert!(
        msg.ends_with("bad.csv, line 3: label 4000000000 is not below 65536 (the most classes a data set may have)"),
        "{msg}"
    );
    let msg = csv_error(b"text,label\ncaf\xe9,1\n", "text", "label");
    assert!(msg.ends_with("bad.csv, line 2: not valid UTF-8 text"), "{msg}");
    let err = load_text_csv(std::path::Path::new("/nonexistent/x.csv"), "t", "l", &keras_imdb_spec(100, 8));
    assert!(matches!(err, Err(TextError::Data(_))));
}

#[test]
fn a_text_column_alone_with_its_lines() {
    let dir = scratch_dir("csv-column");
    let path = dir.join("texts.csv");
    write(&path, "id,review\n1,\"good, very\ngood\"\n2,bad\n");
    let (texts, lines) = read_text_column(&path, "review").expect("column");
    assert_eq!(texts, ["good, very\ngood", "bad"]);
    assert_eq!(lines, [2, 4]);
    let e = read_text_column(&path, "text").unwrap_err().to_string();
    assert!(e.contains("no text column named \"text\"") && e.contains("id, review"), "{e}");
    write(&path, "id,review\n");
    let e = read_text_column(&path, "review").unwrap_err().to_string();
    assert!(e.contains("no data rows"), "{e}");
}
