//! Kernels compiled twice, as is and with AVX2 + FMA, the AVX2 build picked
//! at run time (see [`simd_fn!`](crate::simd_fn)), so that plain slice loops
//! vectorise 8 lanes wide without a `target-cpu` flag. Results may then
//! differ in the last bits from the baseline build; the choice depends only
//! on the CPU.

/// Whether AVX2 and FMA are available.
pub fn available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Defines a function whose body is compiled twice, as is and with AVX2 +
/// FMA, and which runs the AVX2 build when [`available`]. Functions the body
/// calls must be `#[inline(always)]` (or `#[inline]`) to be compiled into it.
/// (A closure cannot do this: it is compiled on its own, without the features.)
#[macro_export]
macro_rules! simd_fn {
    ($(#[$m:meta])* $vis:vis fn $name:ident($($arg:ident : $ty:ty),* $(,)?) $(-> $ret:ty)? $body:block) => {
        $(#[$m])*
        #[allow(clippy::too_many_arguments)]
        $vis fn $name($($arg: $ty),*) $(-> $ret)? {
            #[inline(always)]
            #[allow(clippy::too_many_arguments)]
            fn body($($arg: $ty),*) $(-> $ret)? $body
            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = "avx2,fma")]
            #[allow(clippy::too_many_arguments)]
            unsafe fn avx2($($arg: $ty),*) $(-> $ret)? {
                body($($arg),*)
            }
            #[cfg(target_arch = "x86_64")]
            if $crate::simd::available() {
                // SAFETY: the CPU has AVX2 and FMA (checked just above).
                return unsafe { avx2($($arg),*) };
            }
            body($($arg),*)
        }
    };
}
