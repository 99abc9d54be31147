use signals_core::subscriber;

struct NotASignal;

#[subscriber]
fn audit(_sender: &str, _event: &NotASignal) {}

fn main() {}
