#![no_main]
//! The bounded XML tree builder on arbitrary text, with tight limits.
use libfuzzer_sys::fuzz_target;
use vlsim::xml::{parse, Limits};

fuzz_target!(|text: &str| {
    let limits = Limits { max_depth: 8, max_elements: 64, max_attributes: 4 };
    let _ = parse(text, limits);
});
