use std::cell::Cell;

use signals_core::signal;

#[signal(namespace = "ckanext")]
struct Counted {
    count: Cell<u32>,
}

fn main() {}
