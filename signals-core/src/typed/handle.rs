//! The typed handle: connect and send with the struct's own types.

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;

use crate::by_name::handle::NamedSignal;
use crate::connect::IntoReceiver;
use crate::connection::Connection;
use crate::engine::deliver::Mode;
use crate::error::Error;
use crate::receiver::SourceLocation;
use crate::report::SendReport;
use crate::sending::{Sending, TypedSend};
use crate::typed::signal::Signal;

/// The typed handle of a signal declared by `T`: connect and send with the struct's types.
/// Everything else (its name, introspection, disconnect by receiver, mute) is on the by-name
/// handle, [`named`](TypedSignal::named).
///
/// ```
/// use signals_core::{signal, Signal};
///
/// #[signal(namespace = "doc_typed_signal")]
/// struct Saved { id: u32 }
///
/// let handle = Saved::signal(); // `Copy`: pass it around freely
/// let c = handle.connect(|_: &str, ev: &Saved| assert_eq!(ev.id, 1));
/// assert!(handle.named().has_receivers_for("web")); // by-name operations: `named()`
/// assert_eq!(handle.send("web", &Saved { id: 1 }).receivers_called(), 1);
/// c.disconnect();
/// ```
pub struct TypedSignal<T> {
    pub(crate) named: NamedSignal,
    pub(crate) _args: PhantomData<fn() -> T>,
}

impl<T> Clone for TypedSignal<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for TypedSignal<T> {}

impl<T> fmt::Debug for TypedSignal<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "TypedSignal<{}>({})",
            std::any::type_name::<T>(),
            self.named
        )
    }
}

impl<T: Signal> TypedSignal<T> {
    /// The by-name handle of the same signal.
    ///
    /// ```
    /// use signals_core::{signal, Namespace, Signal};
    ///
    /// #[signal(namespace = "doc_typed_named")]
    /// struct Saved { id: u32 }
    ///
    /// let by_name = Namespace::get("doc_typed_named")?.signal("saved")?;
    /// assert_eq!(Saved::signal().named(), by_name);
    /// # Ok::<(), signals_core::Error>(())
    /// ```
    pub fn named(&self) -> NamedSignal {
        self.named
    }

    /// `Ok` when the signal joined its namespace; the reason when it lives detached (another
    /// struct declares the same name). Which of two conflicting structs wins is not
    /// guaranteed; the registry lists the conflict in [`problems`](crate::registry::Registry::problems).
    ///
    /// ```
    /// use signals_core::{signal, Signal};
    ///
    /// #[signal(namespace = "doc_typed_check")]
    /// struct Saved { id: u32 }
    ///
    /// #[signal(namespace = "doc_typed_check", name = "saved")]
    /// struct SavedAgain { id: u64 }
    ///
    /// let first = Saved::signal().check();
    /// let second = SavedAgain::signal().check();
    /// assert!(first.is_ok() != second.is_ok()); // one of them joined, the other is detached
    /// ```
    pub fn check(&self) -> Result<(), Error> {
        match &self.named.core().detached {
            Some(error) => Err((**error).clone()),
            None => Ok(()),
        }
    }

    /// Connects `receiver`: a function or closure `Fn(&Sender, &Self) -> R` for every sender,
    /// or a [`Receiver`](crate::Receiver) that says more (one sender, async, weak, a key, a
    /// name). `R` is the signal's output, `()` when it has none, or a `Result` of it.
    ///
    /// Connecting the same function again for the same sender gives the same connection
    /// ([`Connection::is_new`] is `false`); a closure that captures state is a receiver of
    /// its own unless it has a key. Receivers run in connection order.
    ///
    /// ```
    /// use signals_core::{signal, Receiver, Signal};
    ///
    /// #[signal(namespace = "doc_typed_connect")]
    /// struct Saved { id: u32 }
    ///
    /// fn audit(_: &str, ev: &Saved) {
    ///     println!("saved {}", ev.id);
    /// }
    ///
    /// let all = Saved::signal().connect(audit);
    /// let web = Saved::signal().connect(Receiver::new(audit).sender("web"));
    /// assert_eq!(Saved { id: 1 }.send("web").receivers_called(), 1); // once, not twice
    /// all.disconnect();
    /// web.disconnect();
    /// ```
    #[track_caller]
    pub fn connect<M>(&self, receiver: impl IntoReceiver<T, M>) -> Connection {
        receiver
            .lower()
            .connect(self.named.core(), SourceLocation::caller())
    }

    /// Sends `args` from `sender`: the same as [`Signal::send`] (`args.send(sender)`).
    #[inline]
    pub fn send(&self, sender: &T::Sender, args: &T) -> SendReport {
        self.dispatch(args, sender, Mode::Robust, None)
    }

    /// Sends `args` from `sender`, awaiting every receiver: the same as
    /// [`Signal::send_async`].
    pub fn send_async<'a>(
        &self,
        sender: &'a T::Sender,
        args: &'a T,
    ) -> impl Future<Output = SendReport> + Send + 'a {
        self.sending(sender, args).run_async()
    }

    /// A send with options: the same as [`Signal::sending`].
    pub fn sending<'a>(&self, sender: &'a T::Sender, args: &'a T) -> Sending<'a, TypedSend<'a, T>> {
        Sending::new(TypedSend {
            signal: *self,
            sender,
            args,
        })
    }
}
