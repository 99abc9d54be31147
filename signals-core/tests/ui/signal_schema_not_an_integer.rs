use signals_core::signal;

#[signal(namespace = "ui_schema", schema = "x")]
struct Saved {
    id: u32,
}

#[signal(namespace = "ui_schema", schema = two)]
struct Deleted {
    id: u32,
}

fn main() {}
