//! The `Signal` trait: a struct whose fields are a signal's keyword arguments.

use std::future::Future;
use std::marker::PhantomData;
use std::thread::LocalKey;

use crate::by_name::handle::NamedSignal;
use crate::kwargs::Kwargs;
use crate::report::SendReport;
use crate::sender::Sender;
use crate::sending::{Sending, TypedSend};
use crate::typed::handle::TypedSignal;
use crate::typed::shape::ThreadSnapshot;

/// A signal declared by a struct: its fields are the keyword arguments.
///
/// `#[signal]` writes this impl; writing it by hand takes a [`SignalCell`](crate::SignalCell) for the cached
/// lookup:
///
/// ```
/// use signals_core::{Kwarg, Kwargs, NamedSignal, Signal, SignalCell};
///
/// /// Sent when a user is created.
/// struct UserCreated {
///     user: String,
/// }
///
/// impl Kwargs for UserCreated {
///     fn kwarg(&self, name: &str) -> Option<Kwarg<'_>> {
///         (name == "user").then(|| Kwarg::new("user", &self.user))
///     }
///     fn kwargs(&self) -> Vec<Kwarg<'_>> {
///         vec![Kwarg::new("user", &self.user)]
///     }
/// }
///
/// impl Signal for UserCreated {
///     type Sender = str;
///     type Output = ();
///     const NAMESPACE: &'static str = "doc_typed";
///     const NAME: &'static str = "user_created";
///     fn named() -> NamedSignal {
///         static CELL: SignalCell = SignalCell::new();
///         CELL.resolve::<Self>()
///     }
/// }
///
/// let connection = UserCreated::signal().connect(|name: &str, ev: &UserCreated| {
///     assert_eq!(name, ev.user);
/// });
/// let report = UserCreated { user: "alice".into() }.send("alice");
/// assert_eq!(report.receivers_called(), 1);
/// connection.disconnect();
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a signal",
    label = "not a signal",
    note = "declare it with `#[signal(namespace = \"...\")]` on the struct, or implement `signals_core::Signal` by hand"
)]
pub trait Signal: Kwargs + Sized {
    /// Who sends it (`str` for CKAN's string senders). `Sync`, so that an async send, which
    /// borrows it across awaits, can move between threads; `Send`, so that a by-name async send
    /// can hold one rebuilt from a key (see [`Sender::owned_from_sender_key`]).
    type Sender: Sender + ?Sized + Send + Sync + 'static;
    /// What each receiver returns, collected by
    /// [`sending(..).collect()`](Sending::collect).
    type Output: Send + 'static;
    /// The namespace, such as `ckan`.
    const NAMESPACE: &'static str;
    /// The registered name inside the namespace.
    const NAME: &'static str;
    /// The signal's documentation.
    const DOCS: &'static str = "";
    /// The version of the struct's shape, for readers in other processes: 1 unless
    /// `#[signal(schema = 2)]` says otherwise. Count it up when a change to the fields would
    /// make an older reader misread the struct's JSON (see [`crate::wire`]).
    ///
    /// ```
    /// use signals_core::{signal, Signal};
    ///
    /// #[signal(namespace = "doc_signal_schema", schema = 2)]
    /// struct Saved { id: u32, by: String }
    ///
    /// assert_eq!(Saved::SCHEMA, 2);
    /// assert_eq!(Saved::named().declaration().unwrap().schema, 2);
    /// ```
    const SCHEMA: u32 = 1;

    /// Where each field lies in the struct, for by-name receivers of one kwarg
    /// ([`Receiver::kwarg`](crate::Receiver::kwarg)), which read it there when the send's bag
    /// is the struct. `#[signal]` lists every field; the default, none, has them read by name
    /// (the same values, a little slower). Not public API.
    #[doc(hidden)]
    const FIELDS: &'static [crate::kwargs::Field] = &[];

    /// The signal's runtime object, found once and cached (use a [`SignalCell`](crate::SignalCell)).
    ///
    /// ```
    /// use signals_core::{signal, Namespace, Signal};
    ///
    /// #[signal(namespace = "doc_signal_named")]
    /// struct Saved { id: u32 }
    ///
    /// assert_eq!(Saved::named(), Namespace::get("doc_signal_named")?.signal("saved")?);
    /// # Ok::<(), signals_core::Error>(())
    /// ```
    fn named() -> NamedSignal;

    /// This thread's cached snapshot of the signal, for the send path. `#[signal]` gives each
    /// signal type a `thread_local!` of its own; the default, `None`, uses a cache shared by
    /// every signal of the thread, which costs a look-up and a downcast per send.
    #[doc(hidden)]
    #[inline]
    fn thread_snapshot() -> Option<&'static LocalKey<ThreadSnapshot<Self>>> {
        None
    }

    /// The typed handle: connect and send; inspect and mute through its by-name handle,
    /// [`named`](TypedSignal::named).
    ///
    /// ```
    /// use signals_core::{signal, Signal};
    ///
    /// #[signal(namespace = "doc_signal_signal")]
    /// struct Saved { id: u32 }
    ///
    /// let handle = Saved::signal();
    /// assert_eq!(handle.named().qualified_name(), "doc_signal_signal.saved");
    /// assert!(!handle.named().has_receivers());
    /// ```
    fn signal() -> TypedSignal<Self> {
        TypedSignal {
            named: Self::named(),
            _args: PhantomData,
        }
    }

    /// Sends `self` from `sender` to every matching receiver, in connection order, and
    /// reports what happened (Django's `send_robust`). Failures (errors and
    /// panics) are reported and do not stop the send. For the other ways to send (stop at the
    /// first failure, collect the values, run async receivers together), see
    /// [`sending`](Signal::sending).
    ///
    /// A sync send does not run async receivers (it would have to block the thread on them,
    /// and it may be a runtime's thread): it runs every sync receiver in order and reports
    /// each async receiver it meets, at its place, as a failure of kind
    /// [`FailureKind::AsyncReceiver`](crate::FailureKind::AsyncReceiver). Use
    /// [`send_async`](Signal::send_async) when async receivers may be connected.
    ///
    /// ```
    /// use signals_core::{signal, Signal};
    ///
    /// #[signal(namespace = "doc_signal_send")]
    /// struct Saved { id: u32 }
    ///
    /// let _ok = Saved::signal().connect(|_: &str, ev: &Saved| assert_eq!(ev.id, 7)).scoped();
    /// let _bad = Saved::signal().connect(|_: &str, _: &Saved| Err::<(), _>("no")).scoped();
    /// let report = Saved { id: 7 }.send("web");
    /// assert_eq!(report.receivers_called(), 2);
    /// assert_eq!(report.failures().len(), 1);
    /// ```
    #[inline]
    fn send(&self, sender: &Self::Sender) -> SendReport {
        Self::signal().send(sender, self)
    }

    /// Sends `self` from `sender`, awaiting every receiver, sync and async alike, one at a
    /// time in connection order. The report is the one [`send`](Signal::send) gives.
    ///
    /// Nothing runs until the future is first polled; the receivers are those connected then,
    /// less any disconnected before its turn. The future is `Send` and needs no particular
    /// executor. Dropping it midway (a timeout, a cancelled task) drops the async receiver in
    /// flight at its await point: the receivers before it ran, those after it do not run,
    /// and nothing stays locked or connected.
    fn send_async<'a>(
        &'a self,
        sender: &'a Self::Sender,
    ) -> impl Future<Output = SendReport> + Send + 'a {
        self.sending(sender).run_async()
    }

    /// A send with options: [`fail_fast`](Sending::fail_fast),
    /// [`collect`](Sending::collect), then [`run`](Sending::run),
    /// [`run_async`](Sending::run_async) or [`run_concurrent`](Sending::run_concurrent).
    ///
    /// ```
    /// use signals_core::{signal, Signal};
    ///
    /// #[signal(namespace = "doc_signal_sending", output = u32)]
    /// struct Count { n: u32 }
    ///
    /// let _a = Count::signal().connect(|_: &str, ev: &Count| ev.n).scoped();
    /// let _b = Count::signal().connect(|_: &str, ev: &Count| ev.n * 10).scoped();
    /// let values = Count { n: 2 }.sending("web").collect().run().into_values();
    /// assert_eq!(values, [2, 20]);
    /// ```
    fn sending<'a>(&'a self, sender: &'a Self::Sender) -> Sending<'a, TypedSend<'a, Self>> {
        Self::signal().sending(sender, self)
    }
}
