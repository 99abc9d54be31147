use signals_core::subscriber;

#[subscriber]
struct Audit;

fn main() {}
