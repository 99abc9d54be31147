use signals_core::{signal, subscriber};

#[signal(namespace = "ui_impl_trait_sender")]
struct Saved {
    id: u32,
}

#[subscriber]
fn audit(_sender: &impl AsRef<str>, _event: &Saved) {}

fn main() {}
