use signals_core::{signal, subscriber, Kwargs, SenderKey};

#[signal(namespace = "ui_subscriber_kwarg")]
struct Greeted {
    user: String,
}

// `kwarg` on a typed subscriber: it reads by name.
#[subscriber(kwarg = "user")]
fn typed(_: &str, _: &Greeted) {}

// `kwarg` on an async subscriber.
#[subscriber(namespace = "ui_subscriber_kwarg", signal = "greeted", kwarg = "user")]
async fn later(_: &SenderKey<'static>, _: &String) {}

// `kwarg` with the whole bag.
#[subscriber(namespace = "ui_subscriber_kwarg", signal = "greeted", kwarg = "user")]
fn bag(_: &SenderKey<'_>, _: &dyn Kwargs) {}

// A name no field can have.
#[subscriber(namespace = "ui_subscriber_kwarg", signal = "greeted", kwarg = "r#user")]
fn raw(_: &SenderKey<'_>, _: &String) {}

// A string kwarg read as `str`.
#[subscriber(namespace = "ui_subscriber_kwarg", signal = "greeted", kwarg = "user")]
fn unsized_str(_: &SenderKey<'_>, _: &str) {}

// The kwarg by value: the message shows the kwarg form.
#[subscriber(namespace = "ui_subscriber_kwarg", signal = "greeted", kwarg = "user")]
fn by_value(_: &SenderKey<'_>, _: String) {}

fn main() {
    let _ = Greeted { user: String::new() }.user;
}
