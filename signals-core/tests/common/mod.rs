//! Hand-written signals for the runtime's tests: what a person writes without the macros.

#![allow(dead_code)]

use std::sync::{Arc, Mutex};

/// Declares a typed signal struct by hand: `hand_signal!(Name, "ns", "name", Sender, Output { field: Ty, ... })`.
#[macro_export]
macro_rules! hand_signal {
    ($ty:ident, $ns:literal, $name:literal, $sender:ty, $output:ty { $($field:ident : $fty:ty),* $(,)? }) => {
        #[derive(Debug, Clone, PartialEq)]
        pub struct $ty { $(pub $field: $fty),* }

        impl signals_core::Kwargs for $ty {
            fn kwarg(&self, name: &str) -> Option<signals_core::Kwarg<'_>> {
                match name {
                    $(stringify!($field) => Some(signals_core::Kwarg::new(stringify!($field), &self.$field)),)*
                    _ => None,
                }
            }
            fn kwargs(&self) -> Vec<signals_core::Kwarg<'_>> {
                vec![$(signals_core::Kwarg::new(stringify!($field), &self.$field)),*]
            }
        }

        impl signals_core::Signal for $ty {
            type Sender = $sender;
            type Output = $output;
            const NAMESPACE: &'static str = $ns;
            const NAME: &'static str = $name;
            fn named() -> signals_core::NamedSignal {
                static CELL: signals_core::SignalCell = signals_core::SignalCell::new();
                CELL.resolve::<Self>()
            }
        }
    };
}

/// A shared log receivers write to.
#[derive(Clone, Default)]
pub struct Log(Arc<Mutex<Vec<String>>>);

impl Log {
    pub fn push(&self, entry: impl Into<String>) {
        self.0.lock().unwrap().push(entry.into());
    }

    pub fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }

    pub fn len(&self) -> usize {
        self.0.lock().unwrap().len()
    }
}
