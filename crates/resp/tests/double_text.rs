//! Doubles are written as redis-server 7.0 writes them (`%.17g`): the codec's formatter
//! against the C library's `snprintf` for many doubles.

use proptest::prelude::*;
use respect_resp::format_g17;

/// The C library's `%.17g` of `d`.
fn c_g17(d: f64) -> String {
    let mut buf = [0u8; 64];
    // SAFETY: the buffer is 64 bytes and its size is passed; `%.17g` of a double needs at
    // most 24 bytes, and snprintf always NUL-terminates within the size.
    let n = unsafe { libc::snprintf(buf.as_mut_ptr().cast(), buf.len(), c"%.17g".as_ptr(), d) };
    let n = usize::try_from(n).expect("snprintf succeeded");
    String::from_utf8(buf[..n].to_vec()).expect("ASCII")
}

#[test]
fn tricky_doubles_match_the_c_library() {
    for d in [
        0.0,
        -0.0,
        1.0,
        -1.0,
        0.1,
        1.1,
        1.5,
        1e-4,
        1e-5,
        9.99999999999999e-5,
        1e16,
        1e17,
        9.999_999_999_999_999e16,
        99_999_999_999_999_999.0,
        123_456_789_012_345_678.0,
        1e21,
        1e300,
        -1e-300,
        f64::MAX,
        f64::MIN_POSITIVE,
        5e-324,
        0.5,
        0.125,
        2.5,
        1.0 / 3.0,
        4_503_599_627_370_496.0,
        9_007_199_254_740_993.0,
    ] {
        assert_eq!(format_g17(d), c_g17(d), "{d:e}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(20_000))]

    #[test]
    fn any_finite_double_matches_the_c_library(bits in any::<u64>()) {
        let d = f64::from_bits(bits);
        prop_assume!(d.is_finite());
        prop_assert_eq!(format_g17(d), c_g17(d));
    }

    #[test]
    fn scores_people_type_match_the_c_library(n in -1_000_000_000i64..1_000_000_000, scale in 0i32..12) {
        let d = n as f64 / 10f64.powi(scale);
        prop_assert_eq!(format_g17(d), c_g17(d));
    }
}
