use signals_core::{signal, subscriber};

#[signal(namespace = "ui_never")]
struct Named {
    id: u32,
}

#[signal(namespace = "ui_never", sender = i64)]
struct Numbered {
    id: u32,
}

#[subscriber(sender = 7)]
fn integer_for_a_string_sender(_sender: &str, _event: &Named) {}

#[subscriber(sender = None)]
fn none_for_a_string_sender(_sender: &str, _event: &Named) {}

#[subscriber(sender = "seven")]
fn string_for_an_integer_sender(_sender: &i64, _event: &Numbered) {}

#[signal(namespace = "ui_never", sender = u8)]
struct Small {
    id: u32,
}

#[subscriber(sender = -1)]
fn negative_for_an_unsigned_sender(_sender: &u8, _event: &Small) {}

#[subscriber(sender = 256)]
fn too_large_for_a_u8_sender(_sender: &u8, _event: &Small) {}

// These can match, and compile.
#[subscriber(sender = "web")]
fn string_for_a_string_sender(_sender: &str, _event: &Named) {}

#[subscriber(sender = -7)]
fn integer_for_an_integer_sender(_sender: &i64, _event: &Numbered) {}

#[subscriber(sender = 255)]
fn in_range_for_a_u8_sender(_sender: &u8, _event: &Small) {}

fn main() {}
