//! The naming rules on arbitrary bytes: `check_name_bytes`, `Namespace::get_bytes` and
//! `Namespace::signal_bytes` never panic, and a name is accepted exactly when it is 1 to 255
//! bytes of ASCII letters, digits, `_`, `.` and `-`.

#![no_main]

use libfuzzer_sys::fuzz_target;
use signals_core::{
    check_name, check_name_bytes, check_namespace_name_bytes, Error, NameKind, NameRule, Namespace,
    MAX_NAME_LEN,
};

fn allowed(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-')
}

fuzz_target!(|data: &[u8]| {
    let valid = (1..=MAX_NAME_LEN).contains(&data.len()) && data.iter().all(|&b| allowed(b));
    let checked = check_name_bytes(data);
    assert_eq!(checked.is_ok(), valid, "{data:?}");
    match checked {
        Ok(()) => {}
        Err(NameRule::Empty) => assert!(data.is_empty()),
        Err(NameRule::TooLong { len }) => {
            assert_eq!(len, data.len());
            assert!(len > MAX_NAME_LEN);
        }
        Err(NameRule::BadCharacter { index }) => {
            assert!(!allowed(data[index]));
            assert!(data[..index].iter().all(|&b| allowed(b)));
        }
        Err(rule @ NameRule::DotInNamespace { .. }) => {
            panic!("a namespace rule for any name: {rule:?}")
        }
    }
    if let Ok(text) = std::str::from_utf8(data) {
        assert_eq!(check_name(text), checked);
    }

    // Names are interned for the life of the process: create only a bounded number of them
    // (valid names of at most two bytes), and check every invalid one.
    if valid && data.len() > 2 {
        return;
    }
    // A namespace name has no `.` besides: a valid name with one is a signal name only.
    let expected = |kind: NameKind| match kind {
        NameKind::Namespace => check_namespace_name_bytes(data),
        _ => checked,
    };
    let expect_error = |result: Result<(), Error>, kind: NameKind| match result {
        Ok(()) => assert_eq!(expected(kind), Ok(())),
        Err(Error::InvalidName {
            kind: got,
            name,
            rule,
        }) => {
            assert_eq!(got, kind);
            assert_eq!(Err(rule), expected(kind));
            assert_eq!(name, String::from_utf8_lossy(data));
            let message = Error::InvalidName { kind, name, rule }.to_string();
            assert!(
                message.starts_with(&format!("invalid {kind} name ")),
                "{message}"
            );
        }
        Err(other) => panic!("unexpected error {other}"),
    };
    expect_error(
        Namespace::get_bytes(data).map(|ns| assert_eq!(ns.name().as_bytes(), data)),
        NameKind::Namespace,
    );
    let namespace = Namespace::get("fuzz").unwrap();
    expect_error(
        namespace
            .signal_bytes(data)
            .map(|s| assert_eq!(s.name().as_bytes(), data)),
        NameKind::Signal,
    );
});
