use signals_core::{plugin, signal, subscriber, Kwargs, SenderKey};

// Each attribute has a mistake besides its bad names: every bad name is still reported.
#[signal(namespace = "bad ns", nmae = "x")]
struct Saved {
    id: u32,
}

#[subscriber(namespace = "bad ns", signal = "ok", plugin = "bad plugin")]
fn audit(_sender: &SenderKey<'_>, _kwargs: &dyn Kwargs, _extra: u8) {}

#[plugin(name = "bad plugin")]
#[derive(Default)]
struct Audit<T>(T);

fn main() {}
