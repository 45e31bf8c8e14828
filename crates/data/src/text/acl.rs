//! The Stanford `aclImdb` folders: one review per `.txt` file.

use std::path::{Path, PathBuf};

use ember_runtime::spec::{TokenizerKind, TokenizerSpec};
use rayon::prelude::*;

use super::vocab::{build_vocab, encode_all};
use super::{TextData, TextError, check_spec};

/// The class folders, in label order.
const CLASSES: [&str; 2] = ["neg", "pos"];

/// Loads `aclImdb` (as unpacked from `aclImdb_v1.tar.gz`): `(train, test)`.
///
/// Reads `<root>/{train,test}/{neg,pos}/*.txt`: label 0 is `neg`, 1 is
/// `pos`; `unsup`, the `urls_*.txt` lists and anything not ending in `.txt`
/// are ignored. Within a split the samples are all of `neg`, then all of
/// `pos`, each in file-name order (sorted bytes), so the result is
/// deterministic; shuffle with [`TextData::shuffled`] before a validation
/// split. Texts are tokenized as they are (the `<br />` tags of the reviews
/// become the word `br`, as in Keras's preprocessed IMDB).
///
/// With [`TokenizerKind::Vocabulary`] the word list is built from the
/// training reviews only ([`build_vocab`]) and used for both splits.
///
/// # Errors
/// [`TextError::Folder`] if a class folder is missing or has no `.txt`
/// file, [`TextError::Io`], [`TextError::NotUtf8`] and
/// [`TextError::NoWords`] naming the review file, [`TextError::Spec`].
pub fn load_acl_imdb(root: &Path, spec: &TokenizerSpec) -> Result<(TextData, TextData), TextError> {
    check_spec(spec)?;
    let train = read_split(root, "train")?;
    let test = read_split(root, "test")?;
    let vocab = match spec.kind {
        TokenizerKind::Hashing => None,
        TokenizerKind::Vocabulary => {
            Some(build_vocab(&train.texts, (spec.vocab - spec.reserved) as usize, spec.lowercase))
        }
    };
    let classes: Vec<String> = CLASSES.iter().map(|c| c.to_string()).collect();
    let mut out = Vec::new();
    for split in [train, test] {
        let ids = encode_all(spec, vocab.as_deref(), &split.texts)
            .map_err(|i| TextError::NoWords { where_: split.files[i].display().to_string() })?;
        out.push(TextData::from_ids(ids, split.labels, classes.clone(), *spec, vocab.clone())?);
    }
    let test = out.pop();
    match (out.pop(), test) {
        (Some(train), Some(test)) => Ok((train, test)),
        _ => Err(TextError::Spec("internal: two splits expected".into())),
    }
}

/// Loads one split (`"train"` or `"test"`) of `aclImdb` tokenized by
/// `spec` with a given word list (for example a trained model's, so that
/// held-out reviews get the ids the model was trained with), as
/// [`load_acl_imdb`] reads it: all of `neg`, then all of `pos`.
///
/// # Errors
/// As [`load_acl_imdb`], for that split alone.
pub fn load_acl_imdb_split(
    root: &Path,
    split: &str,
    spec: &TokenizerSpec,
    vocab: Option<Vec<String>>,
) -> Result<TextData, TextError> {
    check_spec(spec)?;
    if spec.kind == TokenizerKind::Vocabulary && vocab.is_none() {
        return Err(TextError::Spec("a word-list tokenizer needs its word list to read reviews".into()));
    }
    let s = read_split(root, split)?;
    let ids = encode_all(spec, vocab.as_deref(), &s.texts)
        .map_err(|i| TextError::NoWords { where_: s.files[i].display().to_string() })?;
    let classes: Vec<String> = CLASSES.iter().map(|c| c.to_string()).collect();
    TextData::from_ids(ids, s.labels, classes, *spec, vocab)
}

/// The reviews of one split.
struct Split {
    files: Vec<PathBuf>,
    texts: Vec<String>,
    labels: Vec<u32>,
}

fn read_split(root: &Path, split: &str) -> Result<Split, TextError> {
    let mut files = Vec::new();
    let mut labels = Vec::new();
    for (label, class) in CLASSES.iter().enumerate() {
        let dir = root.join(split).join(class);
        let folder = |message: String| TextError::Folder { path: dir.clone(), message };
        let entries = std::fs::read_dir(&dir).map_err(|e| {
            folder(format!(
                "cannot list the {split}/{class} folder ({e}); expected <root>/{{train,test}}/{{neg,pos}}/*.txt"
            ))
        })?;
        let mut names = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| TextError::io(&dir, e))?;
            let path = entry.path();
            if path.extension().is_some_and(|x| x == "txt") && path.is_file() {
                names.push(path);
            }
        }
        if names.is_empty() {
            return Err(folder(format!("no .txt review in {split}/{class}")));
        }
        names.sort();
        labels.extend(std::iter::repeat_n(label as u32, names.len()));
        files.extend(names);
    }
    let read: Vec<Result<String, TextError>> = files
        .par_iter()
        .map(|f| {
            let bytes = std::fs::read(f).map_err(|e| TextError::io(f, e))?;
            String::from_utf8(bytes).map_err(|_| TextError::NotUtf8 { where_: f.display().to_string() })
        })
        .collect();
    // The first failing file in order, whatever the threads did.
    let texts = read.into_iter().collect::<Result<Vec<String>, TextError>>()?;
    Ok(Split { files, texts, labels })
}
