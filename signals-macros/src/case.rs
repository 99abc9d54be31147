//! Default names: a type's name in snake_case.

/// `UserCreated` -> `user_created`, `HTTPRequestSent` -> `http_request_sent`,
/// `Resource2Downloaded` -> `resource2_downloaded`.
pub fn snake_case(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::with_capacity(name.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        if c == '_' {
            if !out.is_empty() && !out.ends_with('_') {
                out.push('_');
            }
            continue;
        }
        if c.is_uppercase() {
            let prev = i.checked_sub(1).map(|p| chars[p]);
            let next = chars.get(i + 1).copied();
            let starts_word = match prev {
                None => false,
                Some(p) if p.is_lowercase() || p.is_ascii_digit() => true,
                // The last capital of an acronym starts the next word: `HTTPRequest`.
                Some(p) if p.is_uppercase() => next.is_some_and(char::is_lowercase),
                Some(_) => false,
            };
            if starts_word && !out.is_empty() && !out.ends_with('_') {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    while out.ends_with('_') && out.len() > 1 {
        out.pop();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::snake_case;

    #[test]
    fn converts_type_names() {
        for (from, to) in [
            ("UserCreated", "user_created"),
            ("Ping", "ping"),
            ("HTTPRequestSent", "http_request_sent"),
            ("IOError", "io_error"),
            ("Resource2Downloaded", "resource2_downloaded"),
            ("V2", "v2"),
            ("already_snake", "already_snake"),
            ("Mixed_Case", "mixed_case"),
            ("ABC", "abc"),
        ] {
            assert_eq!(snake_case(from), to, "{from}");
        }
    }
}
