use signals_core::plugin;

// Neither `Default` nor `Plugin`.
#[plugin]
struct Activity;

fn main() {}
