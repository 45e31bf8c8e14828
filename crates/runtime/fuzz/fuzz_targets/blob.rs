//! Fuzzes the blob reader: any byte string must give `Ok` or `Err`, never a
//! panic; a blob that parses must run through the interpreter and bind (or
//! be refused by) typed models without panicking.
//!
//! Run with `cargo +nightly fuzz run blob` from `crates/runtime/`.
#![no_main]

use ember_runtime::TypedModel;
use ember_runtime::crc::crc32;
use ember_runtime::{Blob, Chain, Dense, Forward, Linear, Relu, SVector, dynamic};
use libfuzzer_sys::fuzz_target;

/// The MNIST encoder of the quickstart.
type MnistEncoder = Chain<Dense<784, 128, Relu>, Dense<128, 32, Linear>>;
/// The blobs autoencoder and its encoder.
type BlobsAe = Chain<Dense<3, 2, Linear>, Dense<2, 3, Linear>>;
type BlobsEncoder = Dense<3, 2, Linear>;

/// Copies `data` to a 16-byte boundary, as a host tool or `include_aligned!` does.
fn aligned(data: &[u8], storage: &mut Vec<u8>) -> core::ops::Range<usize> {
    storage.clear();
    storage.resize(data.len() + 16, 0);
    let start = (16 - storage.as_ptr() as usize % 16) % 16;
    storage[start..start + data.len()].copy_from_slice(data);
    start..start + data.len()
}

fn run(bytes: &[u8]) {
    let Ok(blob) = Blob::parse(bytes) else {
        return;
    };
    let h = blob.header();
    let input = vec![0.0f32; h.input.dims.elements()];
    let mut scratch = vec![0.0f32; dynamic::scratch_len(&blob)];
    let mut output = vec![0.0f32; h.output.dims.elements()];
    let written = dynamic::forward(&blob, &input, &mut scratch, &mut output).expect("a parsed blob runs");
    assert_eq!(written, output.len());

    if let Ok(m) = MnistEncoder::load(bytes) {
        let _ = m.forward(&SVector::zeros());
    }
    if let Ok(m) = BlobsAe::load(bytes) {
        let _ = m.forward(&SVector::zeros());
    }
    if let Ok(m) = BlobsEncoder::load(bytes) {
        let _ = m.forward(&SVector::zeros());
    }
}

fuzz_target!(|data: &[u8]| {
    let mut storage = Vec::new();
    let range = aligned(data, &mut storage);
    run(&storage[range.clone()]);
    // The same bytes with the total length and CRC-32 repaired, so that the
    // fuzzer explores the header and tensor checks behind the checksum.
    if data.len() >= 20 {
        let bytes = &mut storage[range.clone()];
        let len = bytes.len();
        bytes[12..16].copy_from_slice(&(len as u32).to_le_bytes());
        let crc = crc32(&bytes[..len - 4]);
        bytes[len - 4..].copy_from_slice(&crc.to_le_bytes());
        run(&storage[range]);
    }
    // The same bytes off alignment must be refused, not misread.
    if data.len() >= 20 {
        storage.clear();
        storage.resize(data.len() + 17, 0);
        let start = (16 - storage.as_ptr() as usize % 16) % 16 + 1;
        storage[start..start + data.len()].copy_from_slice(data);
        assert!(Blob::parse(&storage[start..start + data.len()]).is_err());
    }
});
