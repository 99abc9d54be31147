//! "Did you mean": the closest of some names to one that was not found.

/// The candidate closest to `name` by edit distance, when it is close enough to be a typo (at
/// most a third of the name's length, and at least one edit).
pub(crate) fn closest<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let limit = (name.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .map(|candidate| (strsim::osa_distance(name, candidate), candidate))
        .filter(|(distance, _)| *distance <= limit)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate)
}

/// `"; did you mean `x`?"`, or nothing, for the end of a message.
pub(crate) fn hint<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    match closest(name, candidates) {
        Some(candidate) => format!("; did you mean `{candidate}`?"),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::closest;

    #[test]
    fn closest_names() {
        let names = ["activity", "audit", "stats"];
        assert_eq!(closest("activty", names), Some("activity"));
        assert_eq!(closest("audti", names), Some("audit"));
        assert_eq!(closest("notify", names), None);
        assert_eq!(closest("x", ["y"]), Some("y"));
        assert_eq!(closest("", names), None);
    }
}
