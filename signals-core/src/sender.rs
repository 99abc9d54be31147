//! Senders: who sent a signal, and how a subscriber picks one.
//!
//! A subscriber listens to every sender ([`SenderFilter::Any`]) or to one
//! ([`SenderFilter::Only`]). Senders are compared through their [`SenderKey`]: strings and
//! integers by value, `None` as its own key, and other types through a key they choose.

use std::borrow::Cow;
use std::fmt;

/// The identity of a sender, as subscribers' filters compare it.
///
/// Keys of different variants are never equal: the string `"5"`, the integer `5` and the id `5`
/// are three different senders. Integers of every width compare by value (`5u8` equals `5i64`).
///
/// ```
/// use signals_core::{Sender, SenderKey};
///
/// assert_eq!("dataset".sender_key(), SenderKey::from("dataset"));
/// assert_eq!(5u8.sender_key(), 5i64.sender_key());
/// assert_ne!(SenderKey::from("5"), SenderKey::Int(5));
/// assert_eq!(None::<String>.sender_key(), SenderKey::None);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SenderKey<'a> {
    /// No sender (CKAN sends `None`, for example for `perform_password_reset`).
    None,
    /// An integer sender, compared by value whatever its width.
    Int(i128),
    /// A string sender, compared by value.
    Str(Cow<'a, str>),
    /// A sender of another type, identified by a number it chooses (see [`Sender`]).
    Id(u64),
}

impl SenderKey<'_> {
    /// A key that owns its string, to be stored in a filter.
    ///
    /// ```
    /// use signals_core::SenderKey;
    ///
    /// let name = String::from("dataset");
    /// let owned: SenderKey<'static> = SenderKey::from(name.as_str()).into_owned();
    /// drop(name);
    /// assert_eq!(owned.as_str(), Some("dataset"));
    /// ```
    pub fn into_owned(self) -> SenderKey<'static> {
        match self {
            SenderKey::None => SenderKey::None,
            SenderKey::Int(i) => SenderKey::Int(i),
            SenderKey::Str(s) => SenderKey::Str(Cow::Owned(s.into_owned())),
            SenderKey::Id(i) => SenderKey::Id(i),
        }
    }

    /// A key borrowing from this one (cheap: no allocation).
    ///
    /// ```
    /// use signals_core::SenderKey;
    ///
    /// let key = SenderKey::from(String::from("dataset"));
    /// assert_eq!(key.reborrow(), key);
    /// ```
    pub fn reborrow(&self) -> SenderKey<'_> {
        match self {
            SenderKey::None => SenderKey::None,
            SenderKey::Int(i) => SenderKey::Int(*i),
            SenderKey::Str(s) => SenderKey::Str(Cow::Borrowed(s)),
            SenderKey::Id(i) => SenderKey::Id(*i),
        }
    }

    /// The integer, when this is an integer sender (CKAN's `isignal_number` example sends
    /// numbers).
    pub fn as_int(&self) -> Option<i128> {
        match self {
            SenderKey::Int(value) => Some(*value),
            _ => None,
        }
    }

    /// The string, when this is a string sender.
    ///
    /// ```
    /// use signals_core::SenderKey;
    ///
    /// assert_eq!(SenderKey::from("dataset").as_str(), Some("dataset"));
    /// assert_eq!(SenderKey::Int(5).as_str(), None);
    /// assert_eq!(SenderKey::Int(5).as_int(), Some(5));
    /// ```
    pub fn as_str(&self) -> Option<&str> {
        match self {
            SenderKey::Str(s) => Some(s),
            _ => None,
        }
    }
}

impl fmt::Display for SenderKey<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SenderKey::None => f.write_str("None"),
            SenderKey::Int(i) => write!(f, "{i}"),
            SenderKey::Str(s) => write!(f, "{s:?}"),
            SenderKey::Id(i) => write!(f, "#{i}"),
        }
    }
}

impl<'a> From<&'a str> for SenderKey<'a> {
    fn from(s: &'a str) -> Self {
        SenderKey::Str(Cow::Borrowed(s))
    }
}

impl From<String> for SenderKey<'static> {
    fn from(s: String) -> Self {
        SenderKey::Str(Cow::Owned(s))
    }
}

/// A type that can be a signal's sender.
///
/// Implemented for `str`, `String`, every integer type, `()` and `Option<T>` (both `None`
/// senders), and references to senders. Other types choose their key:
///
/// ```
/// use signals_core::{Sender, SenderKey};
///
/// struct WebApp { name: &'static str }
///
/// impl Sender for WebApp {
///     fn sender_key(&self) -> SenderKey<'_> {
///         SenderKey::from(self.name)
///     }
/// }
///
/// assert_eq!(WebApp { name: "ckan" }.sender_key(), SenderKey::from("ckan"));
/// ```
pub trait Sender {
    /// The key subscribers' sender filters are compared with.
    ///
    /// ```
    /// use signals_core::{Sender, SenderKey};
    ///
    /// assert_eq!(String::from("a").sender_key(), "a".sender_key());
    /// assert_eq!(().sender_key(), SenderKey::None);
    /// ```
    fn sender_key(&self) -> SenderKey<'_>;

    /// Rebuilds a sender from a key, for by-name sends to a declared signal. Types that cannot
    /// be rebuilt keep the default, `None`, and can then be sent only through the typed API.
    ///
    /// ```
    /// use signals_core::{Sender, SenderKey};
    ///
    /// let key = SenderKey::from("dataset");
    /// assert_eq!(<str as Sender>::from_sender_key(&key), Some("dataset"));
    /// assert_eq!(<str as Sender>::from_sender_key(&SenderKey::Int(1)), None);
    /// ```
    fn from_sender_key<'k>(key: &'k SenderKey<'_>) -> Option<&'k Self> {
        let _ = key;
        None
    }

    /// Rebuilds an owned sender from a key, for by-name sends to a declared signal when
    /// [`from_sender_key`](Self::from_sender_key) cannot lend one: integers narrower than
    /// `i128` (in range), `String`, `Option` of those. Types that cannot be rebuilt keep the
    /// default, `None`.
    ///
    /// ```
    /// use signals_core::{Sender, SenderKey};
    ///
    /// assert_eq!(i64::owned_from_sender_key(&SenderKey::Int(7)), Some(Box::new(7)));
    /// assert_eq!(u8::owned_from_sender_key(&SenderKey::Int(300)), None);
    /// let none = <Option<String>>::owned_from_sender_key(&SenderKey::None);
    /// assert_eq!(none, Some(Box::new(None)));
    /// ```
    fn owned_from_sender_key(key: &SenderKey<'_>) -> Option<Box<Self>> {
        let _ = key;
        None
    }

    /// Calls `f` with the sender `key` stands for: lent by the key, or rebuilt, on the stack
    /// where it can be (integers), so that a by-name send allocates nothing for it. `None`
    /// when it cannot be rebuilt.
    #[doc(hidden)]
    fn with_sender_from_key<R>(key: &SenderKey<'_>, f: impl FnOnce(&Self) -> R) -> Option<R> {
        if let Some(sender) = Self::from_sender_key(key) {
            return Some(f(sender));
        }
        Self::owned_from_sender_key(key).map(|sender| f(&sender))
    }

    /// The kinds of key `sender_key` can give, so that `#[subscriber(sender = ...)]` rejects
    /// at compile time a literal that could never match. The default, every kind, suits any
    /// type; the crate's own sender types narrow it.
    #[doc(hidden)]
    const KEY_KINDS: KeyKinds = KeyKinds::ANY;
}

/// The kinds of key a sender type gives (see [`Sender::KEY_KINDS`]): `None`, strings, and
/// integers within a range (empty when `int_min > int_max`).
#[doc(hidden)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyKinds {
    none: bool,
    str: bool,
    int_min: i128,
    int_max: i128,
}

impl KeyKinds {
    /// Any kind.
    pub const ANY: KeyKinds = KeyKinds {
        none: true,
        str: true,
        int_min: i128::MIN,
        int_max: i128::MAX,
    };
    const NONE: KeyKinds = KeyKinds {
        none: true,
        str: false,
        int_min: 1,
        int_max: 0,
    };
    const STR: KeyKinds = KeyKinds {
        none: false,
        str: true,
        int_min: 1,
        int_max: 0,
    };

    /// Integers from `min` to `max`.
    const fn ints(min: i128, max: i128) -> KeyKinds {
        KeyKinds {
            none: false,
            str: false,
            int_min: min,
            int_max: max,
        }
    }

    const fn or(self, other: KeyKinds) -> KeyKinds {
        let (self_ints, other_ints) =
            (self.int_min <= self.int_max, other.int_min <= other.int_max);
        let (int_min, int_max) = match (self_ints, other_ints) {
            (true, true) => (
                if self.int_min < other.int_min {
                    self.int_min
                } else {
                    other.int_min
                },
                if self.int_max > other.int_max {
                    self.int_max
                } else {
                    other.int_max
                },
            ),
            (true, false) => (self.int_min, self.int_max),
            (false, _) => (other.int_min, other.int_max),
        };
        KeyKinds {
            none: self.none || other.none,
            str: self.str || other.str,
            int_min,
            int_max,
        }
    }
}

/// A sender literal in `#[subscriber(sender = ...)]`.
#[doc(hidden)]
#[derive(Clone, Copy, Debug)]
pub enum SenderLiteral {
    /// `sender = "..."`.
    Str,
    /// `sender = 7`.
    Int(i128),
    /// `sender = None`.
    None,
}

/// Fails the build, from a `const` item `#[subscriber]` generates, when `literal` can never
/// equal a key of a sender type that gives `kinds`.
#[doc(hidden)]
pub const fn check_sender_literal(kinds: KeyKinds, literal: SenderLiteral) {
    match literal {
        SenderLiteral::Str if !kinds.str => panic!(
            "this `sender = \"...\"` can never match: the signal's sender type gives no string \
             keys; filter with a value of its sender type"
        ),
        SenderLiteral::Int(_) if kinds.int_min > kinds.int_max => panic!(
            "this integer `sender` can never match: the signal's sender type gives no integer \
             keys; filter with a value of its sender type"
        ),
        SenderLiteral::Int(value) if value < kinds.int_min || value > kinds.int_max => panic!(
            "this integer `sender` can never match: it is out of the range of the signal's \
             sender type"
        ),
        SenderLiteral::None if !kinds.none => panic!(
            "this `sender = None` can never match: the signal's sender type is never `None`; \
             filter with a value of its sender type"
        ),
        _ => {}
    }
}

impl Sender for str {
    const KEY_KINDS: KeyKinds = KeyKinds::STR;
    fn sender_key(&self) -> SenderKey<'_> {
        SenderKey::Str(Cow::Borrowed(self))
    }
    fn from_sender_key<'k>(key: &'k SenderKey<'_>) -> Option<&'k Self> {
        key.as_str()
    }
}

impl Sender for String {
    const KEY_KINDS: KeyKinds = KeyKinds::STR;
    fn sender_key(&self) -> SenderKey<'_> {
        SenderKey::Str(Cow::Borrowed(self))
    }
    fn owned_from_sender_key(key: &SenderKey<'_>) -> Option<Box<Self>> {
        key.as_str().map(|s| Box::new(s.to_owned()))
    }
}

impl Sender for () {
    const KEY_KINDS: KeyKinds = KeyKinds::NONE;
    fn sender_key(&self) -> SenderKey<'_> {
        SenderKey::None
    }
    fn from_sender_key<'k>(key: &'k SenderKey<'_>) -> Option<&'k Self> {
        match key {
            SenderKey::None => Some(&()),
            _ => None,
        }
    }
}

impl<T: Sender> Sender for Option<T> {
    const KEY_KINDS: KeyKinds = KeyKinds::NONE.or(T::KEY_KINDS);
    fn sender_key(&self) -> SenderKey<'_> {
        match self {
            Some(sender) => sender.sender_key(),
            None => SenderKey::None,
        }
    }
    fn owned_from_sender_key(key: &SenderKey<'_>) -> Option<Box<Self>> {
        match key {
            SenderKey::None => Some(Box::new(None)),
            _ => T::owned_from_sender_key(key).map(|sender| Box::new(Some(*sender))),
        }
    }
}

impl<T: Sender + ?Sized> Sender for &T {
    const KEY_KINDS: KeyKinds = T::KEY_KINDS;
    fn sender_key(&self) -> SenderKey<'_> {
        (**self).sender_key()
    }
}

impl Sender for SenderKey<'_> {
    fn sender_key(&self) -> SenderKey<'_> {
        self.reborrow()
    }
}

macro_rules! int_senders {
    ($($t:ty),*) => {$(
        impl Sender for $t {
            const KEY_KINDS: KeyKinds = KeyKinds::ints(<$t>::MIN as i128, <$t>::MAX as i128);
            fn sender_key(&self) -> SenderKey<'_> {
                SenderKey::Int(*self as i128)
            }
            fn owned_from_sender_key(key: &SenderKey<'_>) -> Option<Box<Self>> {
                Self::with_sender_from_key(key, |sender| Box::new(*sender))
            }
            fn with_sender_from_key<R>(
                key: &SenderKey<'_>,
                f: impl FnOnce(&Self) -> R,
            ) -> Option<R> {
                match key {
                    SenderKey::Int(value) => <$t>::try_from(*value).ok().map(|sender| f(&sender)),
                    _ => None,
                }
            }
        }
    )*};
}
int_senders!(i8, i16, i32, i64, isize, u8, u16, u32, u64, usize);

impl Sender for i128 {
    const KEY_KINDS: KeyKinds = KeyKinds::ints(i128::MIN, i128::MAX);
    fn sender_key(&self) -> SenderKey<'_> {
        SenderKey::Int(*self)
    }
    fn from_sender_key<'k>(key: &'k SenderKey<'_>) -> Option<&'k Self> {
        match key {
            SenderKey::Int(i) => Some(i),
            _ => None,
        }
    }
}

/// Which senders a subscription listens to.
///
/// `Any` is a variant of its own: it never equals a sender's key, so a sender whose value is
/// `0` or `None` cannot be mistaken for "every sender" (a bug blinker has with `ANY`).
///
/// ```
/// use signals_core::{SenderFilter, SenderKey};
///
/// assert!(SenderFilter::Any.matches(&SenderKey::None));
/// assert!(!SenderFilter::only(&0).matches(&SenderKey::None));
/// assert_eq!(SenderFilter::only("dataset").to_string(), "sender \"dataset\"");
/// assert_eq!(SenderFilter::Any.to_string(), "any sender");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum SenderFilter {
    /// Every sender.
    Any,
    /// The one sender with this key.
    Only(SenderKey<'static>),
}

impl SenderFilter {
    /// A filter for one sender.
    ///
    /// ```
    /// use signals_core::{SenderFilter, SenderKey};
    /// assert_eq!(SenderFilter::only("dataset"), SenderFilter::Only(SenderKey::from("dataset")));
    /// ```
    pub fn only<S: Sender + ?Sized>(sender: &S) -> Self {
        SenderFilter::Only(sender.sender_key().into_owned())
    }

    /// Whether a send from `key` reaches a subscription with this filter.
    ///
    /// ```
    /// use signals_core::{SenderFilter, SenderKey};
    ///
    /// let filter = SenderFilter::only("dataset");
    /// assert!(filter.matches(&SenderKey::from("dataset")));
    /// assert!(!filter.matches(&SenderKey::from("group")));
    /// assert!(SenderFilter::Any.matches(&SenderKey::Int(5)));
    /// ```
    pub fn matches(&self, key: &SenderKey<'_>) -> bool {
        match self {
            SenderFilter::Any => true,
            SenderFilter::Only(own) => own == key,
        }
    }
}

impl fmt::Display for SenderFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SenderFilter::Any => f.write_str("any sender"),
            SenderFilter::Only(key) => write!(f, "sender {key}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_never_equals_a_sender() {
        for key in [
            SenderKey::None,
            SenderKey::Int(0),
            SenderKey::from(""),
            SenderKey::Id(0),
        ] {
            assert_ne!(SenderFilter::Any, SenderFilter::Only(key.clone()));
            assert!(SenderFilter::Any.matches(&key));
        }
    }

    #[test]
    fn keys_of_different_kinds_differ() {
        assert_ne!(SenderKey::from("5"), SenderKey::Int(5));
        assert_ne!(SenderKey::Int(5), SenderKey::Id(5));
        assert_ne!(SenderKey::None, SenderKey::Int(0));
        assert_eq!(u64::MAX.sender_key(), SenderKey::Int(u64::MAX as i128));
        assert_eq!(
            Some("x".to_string()).sender_key(),
            "x".to_string().sender_key()
        );
    }

    #[test]
    fn rebuilds_recoverable_senders() {
        let key = SenderKey::from("a");
        assert_eq!(<str as Sender>::from_sender_key(&key), Some("a"));
        assert_eq!(
            <i128 as Sender>::from_sender_key(&SenderKey::Int(3)),
            Some(&3)
        );
        assert_eq!(<() as Sender>::from_sender_key(&SenderKey::None), Some(&()));
        assert_eq!(<String as Sender>::from_sender_key(&key), None);
    }
}
