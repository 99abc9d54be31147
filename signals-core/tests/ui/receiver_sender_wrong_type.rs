use signals_core::{signal, Receiver, Signal};

#[signal(namespace = "ui_receiver_sender")]
struct Saved {
    id: u32,
}

fn main() {
    // `Saved`'s senders are strings: a receiver for sender 7 would never be called.
    Saved::signal().connect(Receiver::new(|_: &str, _: &Saved| {}).sender(&7));
    // Its own sender type, or a reference to it, is fine.
    Saved::signal().connect(Receiver::new(|_: &str, _: &Saved| {}).sender("web"));
    Saved::signal().connect(Receiver::new(|_: &str, _: &Saved| {}).sender(&"web"));
}
