use signals_core::signal;

#[signal(namespace = "ui_schema", schema = 4294967296)]
struct Saved {
    id: u32,
}

#[signal(namespace = "ui_schema", schema = 2u8)]
struct Deleted {
    id: u32,
}

fn main() {}
