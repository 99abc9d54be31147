use signals_core::signal;

#[signal(namespace = "ui_cfg_field")]
struct Saved {
    id: u32,
    #[cfg(unix)]
    extra: u32,
    #[cfg_attr(all(), cfg(any()))]
    hidden: u32,
}

fn main() {}
