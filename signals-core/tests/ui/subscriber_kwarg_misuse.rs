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

/// Not `Deserialize`: a bag from another process could not give one.
struct Opaque;

#[subscriber(namespace = "ui_subscriber_kwarg", signal = "greeted", kwarg = "user")]
fn opaque(_: &SenderKey<'_>, _: &Opaque) {}

fn main() {}
