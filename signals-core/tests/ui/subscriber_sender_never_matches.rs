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

// These can match, and compile.
#[subscriber(sender = "web")]
fn string_for_a_string_sender(_sender: &str, _event: &Named) {}

#[subscriber(sender = -7)]
fn integer_for_an_integer_sender(_sender: &i64, _event: &Numbered) {}

fn main() {}
