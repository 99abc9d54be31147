// The generated code does not resolve names at the call site: a local `str`, `Option` or
// `Result` does not change what it means.
#![allow(non_camel_case_types, dead_code)]

mod shadows {
    pub struct str;
    pub struct Option;
    pub struct Result;
}

use shadows::{str, Option, Result};

#[signals_core::signal(namespace = "pass_shadowed")]
struct Saved {
    id: u32,
}

#[signals_core::subscriber]
fn audit(_sender: &std::primitive::str, _event: &Saved) {}

fn main() {
    let _ = (str, Option, Result);
    use signals_core::Signal;
    assert_eq!(Saved { id: 1 }.send("web").receivers_called(), 1);
}
