use signals_core::signal;

// Schema versions start at 1 (the default).
#[signal(namespace = "ui_schema", schema = 0)]
struct Saved {
    id: u32,
}

fn main() {}
