//! "Did you mean": the closest known name to a misspelt one, and the lists of names that
//! error messages show.

/// The candidate closest to `name` by edit distance, if it is close enough to be a typo:
/// at most one edit per three characters (and at least one).
pub(crate) fn closest<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    candidates
        .into_iter()
        .filter(|candidate| *candidate != name)
        .map(|candidate| (edit_distance(name, candidate), candidate))
        .filter(|(distance, candidate)| *distance <= (candidate.chars().count() / 3).max(1))
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate)
}

/// `; did you mean `x`?` when a candidate is close, else nothing: appended to a message.
pub(crate) fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> String {
    closest(name, candidates)
        .map(|closest| format!("; did you mean `{closest}`?"))
        .unwrap_or_default()
}

/// `` `a`, `b`, `c` ``.
pub(crate) fn backticked<'a>(names: impl IntoIterator<Item = &'a str>) -> String {
    names
        .into_iter()
        .map(|name| format!("`{name}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Edit distance by characters, counting an insertion, a deletion, a substitution or a
/// swap of two neighbours as one edit (optimal string alignment): `STRAT` is one edit from
/// `START`.
pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    // rows[i][j]: the distance between a[..i] and b[..j].
    let mut rows = vec![vec![0; b.len() + 1]; a.len() + 1];
    for (i, row) in rows.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in rows[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (rows[i - 1][j] + 1)
                .min(rows[i][j - 1] + 1)
                .min(rows[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(rows[i - 2][j - 2] + 1);
            }
            rows[i][j] = best;
        }
    }
    rows[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distance_counts_insertions_deletions_and_substitutions() {
        assert_eq!(edit_distance("answr", "answer"), 1);
        assert_eq!(edit_distance("answer", "answr"), 1);
        assert_eq!(edit_distance("call_modle", "call_model"), 1);
        assert_eq!(edit_distance("STRAT", "START"), 1);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("plan", "plan"), 0);
        assert_eq!(edit_distance("", "abc"), 3);
    }

    #[test]
    fn a_close_name_is_suggested_and_a_far_one_is_not() {
        let nodes = ["call_model", "review"];
        assert_eq!(closest("call_modle", nodes), Some("call_model"));
        assert_eq!(closest("reveiw", nodes), Some("review"));
        assert_eq!(closest("summarise", nodes), None);
        assert_eq!(did_you_mean("x", nodes), "");
    }

    #[test]
    fn names_are_listed_in_backticks() {
        assert_eq!(backticked(["plan", "END"]), "`plan`, `END`");
    }
}
