//! The IDX reader on arbitrary bytes: `Ok` or a named error, never a panic,
//! never an allocation far beyond the input (run with `-malloc_limit_mb`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(idx) = wengert::data::idx::read_idx(data) {
        assert_eq!(idx.dims().iter().product::<usize>(), idx.data().len());
    }
});
