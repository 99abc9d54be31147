//! A subscriber is a free function wherever it is declared: in a module, in a function's
//! body, in a block. An associated function of the same name elsewhere changes nothing.
#![deny(warnings)]

use signals_core::{signal, subscriber, Signal};
use std::sync::atomic::{AtomicUsize, Ordering};

static CALLS: AtomicUsize = AtomicUsize::new(0);

#[signal(namespace = "pass_places")]
struct Saved {
    id: u32,
}

struct Auditor;

impl Auditor {
    // Not a subscriber: the free `audit` below is.
    fn audit(_sender: &str, _event: &Saved) {
        unreachable!("an associated function is never connected");
    }
}

#[subscriber]
fn audit(_sender: &str, event: &Saved) {
    CALLS.fetch_add(event.id as usize, Ordering::SeqCst);
}

#[subscriber]
fn r#type(_sender: &str, event: &Saved) {
    CALLS.fetch_add(event.id as usize * 10, Ordering::SeqCst);
}

fn main() {
    #[subscriber]
    fn in_a_body(_sender: &str, event: &Saved) {
        CALLS.fetch_add(event.id as usize * 100, Ordering::SeqCst);
    }

    {
        #[subscriber]
        fn in_a_block(_sender: &str, event: &Saved) {
            CALLS.fetch_add(event.id as usize * 1000, Ordering::SeqCst);
        }
    }

    let _ = Auditor::audit;
    assert_eq!(Saved { id: 1 }.send("web").receivers_called(), 4);
    assert_eq!(CALLS.load(Ordering::SeqCst), 1111);
}
