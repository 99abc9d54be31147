use signals_core::{signal, subscriber, Signal};

// A mistake in the attribute is the one error: the struct still implements `Signal`, so the
// code that uses it compiles as if the attribute were right.
#[signal(namespace = "ui_typo", nmae = "saved")]
struct Saved {
    id: u32,
}

#[subscriber]
fn audit(_sender: &str, _event: &Saved) {}

fn main() {
    let _ = Saved::NAME;
    let _ = Saved { id: 1 }.send("web");
}
