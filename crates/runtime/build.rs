//! Sets `cfg(ember_dsp)` for Arm targets with the DSP extension (`SXTB16`,
//! `SMLAD`): every Armv7E-M target (`thumbv7em-*`: Cortex-M4, M7), and any
//! target built with the `dsp` feature enabled (`-C target-feature=+dsp`,
//! e.g. a Cortex-M33). Stable Rust does not expose Arm's `dsp` target feature
//! to `cfg(target_feature)`, so the target name decides.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(ember_dsp)");
    println!("cargo::rerun-if-env-changed=TARGET");
    let target = std::env::var("TARGET").unwrap_or_default();
    let arch = std::env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
    let features = std::env::var("CARGO_CFG_TARGET_FEATURE").unwrap_or_default();
    let dsp_feature = features.split(',').any(|f| f == "dsp");
    if arch == "arm" && (target.starts_with("thumbv7em") || dsp_feature) {
        println!("cargo::rustc-cfg=ember_dsp");
    }
}
