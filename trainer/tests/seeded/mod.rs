//! Seeded test values shared by the backend test files (`mod seeded;`).

/// Deterministic values in [-scale, scale) (xorshift64*).
pub fn values(seed: u64, n: usize, scale: f64) -> Vec<f32> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            s ^= s >> 12;
            s ^= s << 25;
            s ^= s >> 27;
            let r = (s.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 40) as f64 / (1u64 << 24) as f64;
            ((r * 2.0 - 1.0) * scale) as f32
        })
        .collect()
}
