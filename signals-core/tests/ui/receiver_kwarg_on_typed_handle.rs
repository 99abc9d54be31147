use signals_core::{signal, Receiver, SenderKey, Signal};

#[signal(namespace = "ui_receiver_kwarg")]
struct Saved {
    id: u32,
}

fn main() {
    // A receiver of one kwarg reads by name: it connects to the by-name handle.
    Saved::signal().connect(Receiver::kwarg("id", |_: &SenderKey<'_>, _: &u32| {}));
    Saved::named().connect(Receiver::kwarg("id", |_: &SenderKey<'_>, _: &u32| {}));
}
