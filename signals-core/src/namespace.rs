//! Namespaces: process-wide, interned groups of signals.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Mutex, PoisonError};

use crate::by_name::handle::NamedSignal;
use crate::engine::signal::SignalCore;
use crate::error::Error;
use crate::name::{check_name_bytes, check_namespace_name_bytes, NameKind};

struct NamespaceData {
    name: &'static str,
    signals: Mutex<BTreeMap<&'static str, &'static SignalCore>>,
}

static NAMESPACES: Mutex<BTreeMap<&'static str, &'static NamespaceData>> =
    Mutex::new(BTreeMap::new());

/// A namespace of signals, such as CKAN's `ckan` (core signals) and `ckanext` (extensions'
/// signals). Anyone may create more.
///
/// A namespace name follows the naming rules and has no `.`; a signal name may have dots
/// (`datastore.upsert`). So a qualified name, `namespace.signal`, names one signal: its first
/// dot ends the namespace (see [`check_namespace_name`](crate::check_namespace_name)).
///
/// Namespaces and the signals in them are interned for the life of the process: asking for
/// the same name twice gives the same one. Names are never freed, so do not create them from
/// unbounded untrusted input.
///
/// ```
/// use signals_core::Namespace;
///
/// let ckanext = Namespace::get("doc_ns_ckanext")?;
/// assert_eq!(ckanext, Namespace::get("doc_ns_ckanext")?);
/// let a = ckanext.signal("custom_something_happened")?;
/// assert_eq!(a, ckanext.signal("custom_something_happened")?);
///
/// let err = Namespace::get("ckan ext").unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     "invalid namespace name \"ckan ext\": the character at byte 4 is not allowed; \
///      use only ASCII letters, digits, `_`, `.` and `-`"
/// );
/// // `pq` with `x.y` is `pq.x.y`, so `pq.x` cannot be a namespace.
/// assert_eq!(Namespace::get("doc_ns_pq")?.signal("x.y")?.qualified_name(), "doc_ns_pq.x.y");
/// assert!(Namespace::get("doc_ns_pq.x").is_err());
/// # Ok::<(), signals_core::Error>(())
/// ```
#[derive(Clone, Copy)]
pub struct Namespace {
    data: &'static NamespaceData,
}

fn checked(kind: NameKind, bytes: &[u8]) -> Result<&str, Error> {
    let invalid = |rule| Error::InvalidName {
        kind,
        name: String::from_utf8_lossy(bytes).into_owned(),
        rule,
    };
    // A namespace name has no dot, so `namespace.signal` names one signal: the first dot of
    // a qualified name ends the namespace.
    match kind {
        NameKind::Namespace => check_namespace_name_bytes(bytes),
        NameKind::Signal | NameKind::Plugin => check_name_bytes(bytes),
    }
    .map_err(invalid)?;
    // The rules admit ASCII only, so this cannot fail once they pass.
    std::str::from_utf8(bytes).map_err(|e| {
        invalid(crate::NameRule::BadCharacter {
            index: e.valid_up_to(),
        })
    })
}

fn leak(name: &str) -> &'static str {
    Box::leak(name.to_owned().into_boxed_str())
}

impl Namespace {
    /// The namespace called `name`, created on first use (and never freed).
    ///
    /// ```
    /// use signals_core::Namespace;
    ///
    /// let ns = Namespace::get("doc_namespace_get")?;
    /// assert_eq!(ns.name(), "doc_namespace_get");
    /// assert!(Namespace::get("").is_err());
    /// # Ok::<(), signals_core::Error>(())
    /// ```
    pub fn get(name: &str) -> Result<Namespace, Error> {
        Self::get_bytes(name.as_bytes())
    }

    /// Like [`get`](Self::get), for names that come in as bytes (a config file, an
    /// environment variable): bytes that are not valid names, UTF-8 or not, are an error.
    ///
    /// ```
    /// use signals_core::Namespace;
    ///
    /// assert_eq!(Namespace::get_bytes(b"doc_namespace_bytes")?, Namespace::get("doc_namespace_bytes")?);
    /// assert!(Namespace::get_bytes(b"doc\xff").is_err());
    /// # Ok::<(), signals_core::Error>(())
    /// ```
    pub fn get_bytes(name: &[u8]) -> Result<Namespace, Error> {
        let name = checked(NameKind::Namespace, name)?;
        let mut all = NAMESPACES.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(data) = all.get(name) {
            return Ok(Namespace { data });
        }
        let data: &'static NamespaceData = Box::leak(Box::new(NamespaceData {
            name: leak(name),
            signals: Mutex::new(BTreeMap::new()),
        }));
        all.insert(data.name, data);
        Ok(Namespace { data })
    }

    /// Every namespace created so far, by name: those looked up at run time and, once any
    /// signal has been looked up (which builds the registry), those of every `#[signal]`
    /// struct linked into the binary. Other namespaces do not exist yet and are not listed.
    ///
    /// ```
    /// use signals_core::Namespace;
    ///
    /// let ns = Namespace::get("doc_namespace_all")?;
    /// assert!(Namespace::all().contains(&ns));
    /// # Ok::<(), signals_core::Error>(())
    /// ```
    pub fn all() -> Vec<Namespace> {
        let all = NAMESPACES.lock().unwrap_or_else(PoisonError::into_inner);
        all.values().map(|&data| Namespace { data }).collect()
    }

    /// The namespace's name.
    ///
    /// ```
    /// use signals_core::Namespace;
    ///
    /// assert_eq!(Namespace::get("doc_namespace_name")?.name(), "doc_namespace_name");
    /// # Ok::<(), signals_core::Error>(())
    /// ```
    pub fn name(&self) -> &'static str {
        self.data.name
    }

    /// The signal called `name` in this namespace, created on first use: every name is a
    /// singleton inside its namespace. As in blinker, a name nobody declares is not an
    /// error: a misspelt name gives a new signal nobody sends. To check a name, ask
    /// [`registry()`](fn@crate::registry)`.is_declared(namespace, name)`.
    ///
    /// ```
    /// use signals_core::Namespace;
    ///
    /// let ns = Namespace::get("doc_namespace_signal")?;
    /// assert_eq!(ns.signal("saved")?, ns.signal("saved")?);
    /// assert!(ns.signal("has space").is_err());
    /// # Ok::<(), signals_core::Error>(())
    /// ```
    pub fn signal(&self, name: &str) -> Result<NamedSignal, Error> {
        self.signal_bytes(name.as_bytes())
    }

    /// Like [`signal`](Self::signal), for names that come in as bytes.
    ///
    /// ```
    /// use signals_core::Namespace;
    ///
    /// let ns = Namespace::get("doc_namespace_signal_bytes")?;
    /// assert_eq!(ns.signal_bytes(b"saved")?, ns.signal("saved")?);
    /// assert!(ns.signal_bytes(b"\xff").is_err());
    /// # Ok::<(), signals_core::Error>(())
    /// ```
    pub fn signal_bytes(&self, name: &[u8]) -> Result<NamedSignal, Error> {
        let name = checked(NameKind::Signal, name)?;
        crate::startup::ensure_started();
        let mut signals = self
            .data
            .signals
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(&core) = signals.get(name) {
            return Ok(NamedSignal::from_core(core));
        }
        let core = SignalCore::leak(self.data.name, name, None, None);
        signals.insert(core.name(), core);
        Ok(NamedSignal::from_core(core))
    }

    /// Every signal of this namespace created so far, by name. As with [`all`](Self::all),
    /// the signals `#[signal]` structs declare are listed only once any signal has been
    /// looked up (which builds the registry): before that, this may miss them.
    ///
    /// ```
    /// use signals_core::Namespace;
    ///
    /// let ns = Namespace::get("doc_namespace_signals")?;
    /// let b = ns.signal("b")?;
    /// let a = ns.signal("a")?;
    /// assert_eq!(ns.signals(), [a, b]);
    /// # Ok::<(), signals_core::Error>(())
    /// ```
    pub fn signals(&self) -> Vec<NamedSignal> {
        let signals = self
            .data
            .signals
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        signals
            .values()
            .map(|&core| NamedSignal::from_core(core))
            .collect()
    }
}

impl PartialEq for Namespace {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq(self.data, other.data)
    }
}

impl Eq for Namespace {}

impl fmt::Debug for Namespace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Namespace({})", self.data.name)
    }
}

impl fmt::Display for Namespace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.data.name)
    }
}
