//! Receivers: a subscriber's identity, its description, and what one call of it returns.

use std::any::{Any, TypeId};
use std::borrow::Cow;
use std::fmt;
use std::panic::Location;

use crate::error::KwargError;

/// The error type a receiver may return: any error, boxed.
///
/// ```
/// use signals_core::{BoxError, DynKwargs, Kwargs, Namespace, SenderKey};
///
/// fn audit(_: &SenderKey<'_>, kwargs: &dyn Kwargs) -> Result<(), BoxError> {
///     let n: &u32 = kwargs.try_get("n")?;
///     if *n == 0 {
///         return Err("n must not be 0".into());
///     }
///     Ok(())
/// }
///
/// let signal = Namespace::get("doc_box_error")?.signal("saved")?;
/// let c = signal.connect(audit);
/// assert!(!signal.send(&"web", &DynKwargs::new().with("n", 0u32))?.is_ok());
/// c.disconnect();
/// # Ok::<(), signals_core::Error>(())
/// ```
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Where a receiver was written or connected. `file` is the path as the compiler was given
/// it (relative to the workspace or absolute, depending on the build).
///
/// ```
/// use signals_core::SourceLocation;
///
/// let at = SourceLocation { file: "src/audit.rs", line: 12, column: 5 };
/// assert_eq!(at.to_string(), "src/audit.rs:12:5");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub struct SourceLocation {
    /// Source file, as `file!()` gives it.
    pub file: &'static str,
    /// Line, from 1.
    pub line: u32,
    /// Column, from 1.
    pub column: u32,
}

impl SourceLocation {
    /// The location of the caller (use it in `#[track_caller]` functions).
    ///
    /// ```
    /// use signals_core::SourceLocation;
    ///
    /// #[track_caller]
    /// fn here() -> SourceLocation {
    ///     SourceLocation::caller()
    /// }
    ///
    /// let at = here();
    /// assert_eq!((at.file, at.line), (file!(), line!() - 1));
    /// ```
    #[track_caller]
    pub fn caller() -> Self {
        Location::caller().into()
    }
}

impl From<&'static Location<'static>> for SourceLocation {
    fn from(l: &'static Location<'static>) -> Self {
        SourceLocation {
            file: l.file(),
            line: l.line(),
            column: l.column(),
        }
    }
}

impl fmt::Display for SourceLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

/// What makes two connections "the same receiver".
///
/// Connecting the same receiver twice for the same sender gives one connection, and a receiver
/// connected for every sender and for sender X is called once when X sends.
/// - Functions and closures that capture nothing are identified by their type: every
///   connection of `audit` is the same receiver.
/// - Closures that capture state are each a receiver of their own, unless you give them a
///   key ([`Receiver::key`](crate::Receiver::key), which makes a [`ReceiverId::Key`];
///   Django's `dispatch_uid`).
/// - A receiver of one kwarg ([`Receiver::kwarg`](crate::Receiver::kwarg)) is identified by
///   its function and the kwarg: the same function for two kwargs is two receivers (and
///   `disconnect(&f)` disconnects both).
///
/// "Captures nothing" is what the compiler decides: a closure that mentions a variable only
/// as `let _ = x;` does not capture it, and counts as a function.
///
/// Not guaranteed: an identity for a function *pointer* (`let f: fn(&str, &Saved) = audit;`,
/// or functions kept in a table as `fn` pointers). A pointer has no type of its own, and Rust
/// does not promise that one function has one address, so each connect of a pointer is a
/// receiver of its own and `disconnect(&f)` finds nothing: connect the function item itself
/// (`audit`), or give the connection a key.
///
/// ```
/// use signals_core::ReceiverId;
///
/// fn audit(_: &str) {}
/// let pointer: fn(&str) = audit;
/// assert_eq!(ReceiverId::of(&pointer), None);
/// ```
///
/// ```
/// use signals_core::ReceiverId;
///
/// fn audit() {}
/// assert!(matches!(ReceiverId::of(&audit), Some(ReceiverId::Fn(_))));
/// assert_eq!(ReceiverId::from("audit"), ReceiverId::key("audit"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ReceiverId {
    /// A function, or a closure that captures nothing.
    Fn(TypeId),
    /// A key chosen by whoever connected the receiver.
    Key(Cow<'static, str>),
    /// A capturing closure without a key: equal to nothing else.
    Unique(u64),
    /// A receiver of one kwarg ([`Receiver::kwarg`](crate::Receiver::kwarg)) whose function
    /// has an identity ([`Fn`](Self::Fn)): the function's type and the kwarg's name. Boxed:
    /// every receiver's identity takes the room of the largest kind.
    Kwarg(Box<(TypeId, Cow<'static, str>)>),
}

impl ReceiverId {
    /// Whether `self`, a connection's identity, is the receiver `asked` names: the same
    /// identity, or, for a function, one of its receivers of one kwarg.
    pub(crate) fn is_named_by(&self, asked: &ReceiverId) -> bool {
        match (self, asked) {
            (ReceiverId::Kwarg(kwarg), ReceiverId::Fn(function)) => kwarg.0 == *function,
            _ => self == asked,
        }
    }

    /// The identity of `f` when it has one of its own: `Some` for functions and closures that
    /// capture nothing, `None` for capturing closures (which need a key).
    ///
    /// ```
    /// use signals_core::ReceiverId;
    ///
    /// fn audit() {}
    /// assert_eq!(ReceiverId::of(&audit), ReceiverId::of(&audit));
    /// let n = 3;
    /// assert_eq!(ReceiverId::of(&move || n), None);
    /// ```
    pub fn of<F: Any>(f: &F) -> Option<ReceiverId> {
        let _ = f;
        (std::mem::size_of::<F>() == 0).then(|| ReceiverId::Fn(TypeId::of::<F>()))
    }

    /// A receiver identified by a key of your choosing.
    ///
    /// ```
    /// use signals_core::ReceiverId;
    ///
    /// assert_eq!(ReceiverId::key("audit"), ReceiverId::Key("audit".into()));
    /// assert_eq!(ReceiverId::key(String::from("audit")), ReceiverId::from("audit"));
    /// ```
    pub fn key(key: impl Into<Cow<'static, str>>) -> ReceiverId {
        ReceiverId::Key(key.into())
    }
}

impl From<&'static str> for ReceiverId {
    fn from(key: &'static str) -> Self {
        ReceiverId::Key(Cow::Borrowed(key))
    }
}

impl From<String> for ReceiverId {
    fn from(key: String) -> Self {
        ReceiverId::Key(Cow::Owned(key))
    }
}

/// The description of a connected receiver: what `receivers_for`, failure reports and the
/// meta-signals show. It displays as `` `name` at file:line:column ``, followed by
/// `` (plugin `p`) `` for a plugin's connection.
///
/// ```
/// use signals_core::plugins::{self, Plugin, Subscriptions};
/// use signals_core::{plugin, Kwargs, Namespace, Receiver, ReceiverId, SenderKey};
///
/// #[plugin(name = "p")]
/// #[derive(Default)]
/// struct P;
///
/// impl Plugin for P {
///     fn subscriptions(&self, s: &mut Subscriptions) {
///         let audit = |_: &SenderKey<'_>, _: &dyn Kwargs| {};
///         s.connect_by_name("doc_receiver_info", "saved", Receiver::new(audit).name("audit").key("audit"));
///     }
/// }
///
/// let loaded = plugins::use_plugin("p")?;
/// let signal = Namespace::get("doc_receiver_info")?.signal("saved")?;
/// let info = signal.receivers_for(&"me").remove(0);
/// assert_eq!(info.id, ReceiverId::key("audit"));
/// assert!(!info.weak && !info.is_async);
/// assert!(info.to_string().starts_with("`audit` at "));
/// assert!(info.to_string().ends_with(" (plugin `p`)"));
/// drop(loaded);
/// assert!(!signal.has_receivers());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReceiverInfo {
    /// The receiver's name: the function's path, or the closure's, or a name given at connect.
    pub name: Cow<'static, str>,
    /// Where it was declared (`#[subscriber]`) or connected (run time).
    pub location: SourceLocation,
    /// The plugin that owns the connection, if any.
    pub plugin: Option<Cow<'static, str>>,
    /// Its identity (see [`ReceiverId`]).
    pub id: ReceiverId,
    /// Whether it is bound weakly to a target and goes when the target is dropped.
    pub weak: bool,
    /// Whether it is an async receiver.
    pub is_async: bool,
}

impl fmt::Display for ReceiverInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}` at {}", self.name, self.location)?;
        if let Some(plugin) = &self.plugin {
            write!(f, " (plugin `{plugin}`)")?;
        }
        Ok(())
    }
}

/// Why a receiver call did not end normally. Rare, so boxed: the normal result of a call
/// stays small enough to come back in registers.
///
/// Two variants, the tag in the error pointer's niche: the sync send loop is compiled around
/// this shape, and a third variant (which needs a tag word) costs it an instruction per send.
/// An async receiver met by a sync send is therefore a `Failed` with the marker error
/// [`AsyncInSyncSend`], which the report turns into its own failure kind.
#[derive(Debug)]
pub(crate) enum Abnormal {
    /// It returned an error.
    Failed(BoxError),
    /// It is weakly bound and its target is gone: it did not run and will be disconnected.
    Gone,
}

/// The marker error of an async receiver called by a sync send: it did not run. A zero-sized
/// type, so boxing it allocates nothing. Private: no receiver can return it.
#[derive(Debug)]
pub(crate) struct AsyncInSyncSend;

impl fmt::Display for AsyncInSyncSend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an async receiver cannot run in a sync send")
    }
}

impl std::error::Error for AsyncInSyncSend {}

/// The marker error of a typed receiver met by a send whose bag is not the signal's struct
/// (a bag decoded from JSON, see [`NamedSignal::send_json`](crate::NamedSignal::send_json)):
/// it did not run. Private: no receiver can return it.
#[derive(Debug)]
pub(crate) struct TypedInByNameSend;

impl fmt::Display for TypedInByNameSend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a typed receiver cannot take a by-name bag")
    }
}

impl std::error::Error for TypedInByNameSend {}

/// The result of calling one receiver once.
///
/// Shaped so that for the common output `()` it is a tag and a pointer, which comes back from
/// the call in two registers (a `Result<Option<O>, _>` is returned through memory).
pub(crate) enum CallResult<O> {
    /// It ran and gave a value.
    Value(O),
    /// It ran with no value to give (a by-name receiver seen from a typed send).
    NoValue,
    /// It failed, or it is gone.
    Abnormal(Box<Abnormal>),
    /// It was not called: its list entry is switched off (`engine/slots.rs`). Never made by
    /// a receiver.
    Off,
    /// It was not called: its list entry must be checked against its connections first
    /// (`engine/slots.rs`). Never made by a receiver.
    Check,
}

impl CallResult<AnyValue> {
    /// The outcome of a by-name receiver as a receiver of a signal whose values are `O`: a
    /// value of another type is a failure ([`WrongValue`]), never a panic.
    #[inline]
    pub(crate) fn downcast<O: Any>(self) -> CallResult<O> {
        match self {
            CallResult::NoValue => CallResult::NoValue,
            CallResult::Value(value) => value.downcast::<O>(),
            CallResult::Abnormal(abnormal) => CallResult::Abnormal(abnormal),
            CallResult::Off => CallResult::Off,
            CallResult::Check => CallResult::Check,
        }
    }
}

/// A value returned by a by-name receiver, with the name of its type for error messages.
pub(crate) struct AnyValue {
    value: Box<dyn Any + Send>,
    type_name: &'static str,
}

impl AnyValue {
    /// `value`, or nothing for `()` (a receiver with no value to give).
    #[inline]
    pub(crate) fn of<V: Any + Send>(value: V) -> CallResult<AnyValue> {
        if TypeId::of::<V>() == TypeId::of::<()>() {
            return CallResult::NoValue;
        }
        CallResult::Value(AnyValue {
            value: Box::new(value),
            type_name: std::any::type_name::<V>(),
        })
    }

    /// `value` as it is, `()` included (a typed receiver's value seen by name).
    pub(crate) fn any<V: Any + Send>(value: V) -> AnyValue {
        AnyValue {
            value: Box::new(value),
            type_name: std::any::type_name::<V>(),
        }
    }

    #[cold]
    pub(crate) fn downcast<O: Any>(self) -> CallResult<O> {
        match self.value.downcast::<O>() {
            Ok(value) => CallResult::Value(*value),
            Err(_) => CallResult::Abnormal(Box::new(Abnormal::Failed(Box::new(WrongValue {
                expected: std::any::type_name::<O>(),
                actual: self.type_name,
            })))),
        }
    }
}

/// The marker error of a by-name receiver whose value is not of the type the send collects
/// (or the signal declares). The report turns it into
/// [`FailureKind::WrongValue`](crate::FailureKind::WrongValue).
#[derive(Debug)]
pub(crate) struct WrongValue {
    pub(crate) expected: &'static str,
    pub(crate) actual: &'static str,
}

impl fmt::Display for WrongValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "returned a `{}` where `{}` was expected",
            self.actual, self.expected
        )
    }
}

impl std::error::Error for WrongValue {}

/// A receiver's converted return value as a call result.
#[inline]
pub(crate) fn called<O>(result: Result<O, BoxError>) -> CallResult<O> {
    match result {
        Ok(value) => CallResult::Value(value),
        Err(error) => CallResult::Abnormal(Box::new(Abnormal::Failed(error))),
    }
}

/// The call result of an async receiver called by a sync send: it does not run.
#[cold]
#[inline(never)]
pub(crate) fn async_in_sync_send<O>() -> CallResult<O> {
    CallResult::Abnormal(Box::new(Abnormal::Failed(Box::new(AsyncInSyncSend))))
}

/// The call result of a typed receiver called with a bag that is not its struct: it does not
/// run.
#[cold]
#[inline(never)]
pub(crate) fn typed_in_by_name_send<O>() -> CallResult<O> {
    CallResult::Abnormal(Box::new(Abnormal::Failed(Box::new(TypedInByNameSend))))
}

/// The marker error of a by-name receiver that was not called because the send could not
/// make its sender's key: the sender's `Sender::sender_key` panicked (user code; the panic is
/// caught once, for the whole send).
#[derive(Debug)]
pub(crate) struct NoSenderKey;

impl fmt::Display for NoSenderKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "not called: the sender's key could not be made (the sender's `Sender::sender_key` \
             panicked); fix that implementation",
        )
    }
}

impl std::error::Error for NoSenderKey {}

/// The marker error of a by-name receiver of one kwarg that was not called: the kwarg is
/// missing, or of another type. The report turns it into
/// [`FailureKind::Kwarg`](crate::FailureKind::Kwarg).
#[derive(Debug)]
pub(crate) struct KwargUnread(pub(crate) KwargError);

impl fmt::Display for KwargUnread {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "not called: {}", self.0)
    }
}

impl std::error::Error for KwargUnread {}

/// The call result of a by-name receiver of one kwarg that could not read it (`error` says
/// why): it does not run.
#[cold]
#[inline(never)]
pub(crate) fn kwarg_unread<O>(error: KwargError) -> CallResult<O> {
    CallResult::Abnormal(Box::new(Abnormal::Failed(Box::new(KwargUnread(error)))))
}

/// The call result of a by-name receiver called without its sender's key (see
/// [`NoSenderKey`]): it does not run.
#[cold]
#[inline(never)]
pub(crate) fn without_key<O>() -> CallResult<O> {
    CallResult::Abnormal(Box::new(Abnormal::Failed(Box::new(NoSenderKey))))
}

/// The call result of a weak receiver whose target is gone.
pub(crate) fn gone<O>() -> CallResult<O> {
    CallResult::Abnormal(Box::new(Abnormal::Gone))
}

/// What a receiver function may return for a signal whose output is `O`: an `O`, or a
/// `Result<O, E>` whose error is reported in the send's report.
///
/// ```
/// use signals_core::IntoOutcome;
///
/// assert!(matches!(IntoOutcome::<()>::into_outcome(()), Ok(())));
/// assert!(matches!(IntoOutcome::<u8>::into_outcome(Ok::<u8, std::fmt::Error>(1)), Ok(1)));
/// assert!(IntoOutcome::<u8>::into_outcome(Err::<u8, _>(std::fmt::Error)).is_err());
/// ```
pub trait IntoOutcome<O> {
    /// Converts the return value.
    ///
    /// ```
    /// use signals_core::IntoOutcome;
    ///
    /// let value: Result<u8, _> = IntoOutcome::<u8>::into_outcome(7u8);
    /// assert_eq!(value.unwrap(), 7);
    /// ```
    fn into_outcome(self) -> Result<O, BoxError>;
}

impl<O> IntoOutcome<O> for O {
    fn into_outcome(self) -> Result<O, BoxError> {
        Ok(self)
    }
}

impl<O, E: Into<BoxError>> IntoOutcome<O> for Result<O, E> {
    fn into_outcome(self) -> Result<O, BoxError> {
        self.map_err(Into::into)
    }
}

/// What a by-name receiver may return: nothing (`()`), a value of a common type (numbers,
/// `bool`, `char`, `String`, `&'static str`, `Vec`, `Option`, a JSON value), or a
/// `Result<V, E>` for any value type `V` (`Ok(())` gives no value; an error is reported in
/// the send's report). A collecting send gets the values (see
/// [`Sending::collect`](crate::Sending::collect)); a value of another type than the one
/// collected is reported as [`FailureKind::WrongValue`](crate::FailureKind::WrongValue).
///
/// A type of your own: return `Ok::<_, std::convert::Infallible>(value)`, or implement this
/// trait for it (the method is provided).
///
/// ```
/// use signals_core::{IntoReply, Kwargs, SenderKey};
///
/// #[derive(Debug, PartialEq)]
/// struct Score(u32);
/// impl IntoReply for Score {}
///
/// fn score(_: &SenderKey<'_>, _: &dyn Kwargs) -> Score {
///     Score(3)
/// }
/// # let _ = score;
/// ```
pub trait IntoReply: Any + Send + Sized {
    /// The value, or `None` for no value, or the receiver's error.
    #[doc(hidden)]
    fn into_reply(self) -> CallResultOf {
        CallResultOf(AnyValue::of(self))
    }
}

/// A by-name receiver's converted return value. Not public API.
#[doc(hidden)]
#[allow(missing_debug_implementations)]
pub struct CallResultOf(pub(crate) CallResult<AnyValue>);

impl IntoReply for () {}

impl<V: Any + Send, E: Into<BoxError> + Any + Send> IntoReply for Result<V, E> {
    fn into_reply(self) -> CallResultOf {
        CallResultOf(match self {
            Ok(value) => AnyValue::of(value),
            Err(error) => CallResult::Abnormal(Box::new(Abnormal::Failed(error.into()))),
        })
    }
}

macro_rules! reply_values {
    ($($ty:ty),* $(,)?) => { $(impl IntoReply for $ty {})* };
}

reply_values!(
    bool,
    char,
    i8,
    i16,
    i32,
    i64,
    i128,
    isize,
    u8,
    u16,
    u32,
    u64,
    u128,
    usize,
    f32,
    f64,
    String,
    &'static str,
    serde_json::Value,
);

impl<V: Any + Send> IntoReply for Vec<V> {}
impl<V: Any + Send> IntoReply for Option<V> {}
