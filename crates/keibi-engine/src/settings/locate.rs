//! Where a key is in a settings file, for problems found after it was read (a list
//! file that does not exist, a source with two paths): the line and column of the
//! key, found by reading the text's indentation as block YAML is written. In flow
//! collections (`{a: 1}`) or keys it cannot follow, the nearest enclosing key found
//! is given instead (the section's line at worst), never a wrong later line.

/// One step of a path: a mapping key, or an item of a sequence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seg {
    Key(String),
    Item(usize),
}

/// A line's indentation, its text after it, and whether it holds content.
pub(super) fn parts(line: &str) -> (usize, &str) {
    let t = line.trim_start_matches(' ');
    (line.len() - t.len(), t)
}

pub(super) fn is_content(line: &str) -> bool {
    let t = line.trim();
    !t.is_empty() && !t.starts_with('#') && t != "---"
}

/// The key a line (after its indentation and any `- ` item marks) starts with.
fn key_of(t: &str) -> Option<&str> {
    let (k, _) = t.split_once(':')?;
    let k = k.trim();
    let k = k
        .strip_prefix('"')
        .and_then(|k| k.strip_suffix('"'))
        .or_else(|| k.strip_prefix('\'').and_then(|k| k.strip_suffix('\'')))
        .unwrap_or(k);
    Some(k)
}

/// Strips `- ` item marks: the text and how many columns they took.
fn strip_items(t: &str) -> (usize, &str) {
    let mut t2 = t;
    let mut n = 0;
    while let Some(rest) = t2
        .strip_prefix("- ")
        .or_else(|| t2.strip_prefix('-').filter(|r| r.is_empty()))
    {
        let trimmed = rest.trim_start_matches(' ');
        n += t2.len() - trimmed.len();
        t2 = trimmed;
    }
    (n, t2)
}

/// The 1-based line and column of `path` in `text`.
pub fn locate(text: &str, path: &[Seg]) -> (usize, usize) {
    let lines: Vec<&str> = text.lines().collect();
    // The value at the current step starts at line `lo` (its key's line, whose rest
    // may hold the value's first item) and ends before the first line that `ends`
    // it; `parent_indent` is the column of the node found so far.
    let mut lo = 0usize;
    let mut found = (1usize, 1usize);
    let mut parent_indent: Option<usize> = None;
    let mut parent_is_key = false;
    // A line indented no deeper than the node found ends it (a key's sequence may
    // be written at the key's own indentation).
    let ends = |line: &str, parent: Option<usize>, is_key: bool| {
        let Some(col) = parent else { return false };
        let (ind, t) = parts(line);
        is_content(line) && ind <= col && !(is_key && ind == col && t.starts_with('-'))
    };
    for seg in path {
        let mut hit = None;
        match seg {
            Seg::Key(k) => {
                for (i, line) in lines.iter().enumerate().skip(lo) {
                    if !is_content(line) {
                        continue;
                    }
                    if i != lo && ends(line, parent_indent, parent_is_key) {
                        break;
                    }
                    let (ind, t) = parts(line);
                    let (marks, t) = strip_items(t);
                    let col = ind + marks;
                    if parent_indent.is_some_and(|p| col <= p) && i != lo {
                        continue;
                    }
                    if key_of(t) == Some(k.as_str()) && !t.starts_with('{') {
                        hit = Some((i, col));
                        break;
                    }
                }
            }
            Seg::Item(n) => {
                let mut dash_col = None;
                let mut count = 0;
                for (i, line) in lines.iter().enumerate().skip(lo) {
                    if !is_content(line) {
                        continue;
                    }
                    if i != lo && ends(line, parent_indent, parent_is_key) {
                        break;
                    }
                    let (ind, t) = parts(line);
                    // The first item may follow the key on its line (`- - a`).
                    let (ind, t) = if i == lo && parent_indent.is_some() {
                        match t.split_once(": ") {
                            Some((_, rest)) if rest.trim_start().starts_with("- ") => {
                                (ind + t.len() - rest.trim_start().len(), rest.trim_start())
                            }
                            _ => continue,
                        }
                    } else {
                        (ind, t)
                    };
                    if !(t.starts_with("- ") || t == "-") {
                        continue;
                    }
                    match dash_col {
                        None => dash_col = Some(ind),
                        Some(c) if c != ind => continue,
                        _ => {}
                    }
                    if count == *n {
                        hit = Some((i, ind));
                        break;
                    }
                    count += 1;
                }
            }
        }
        let Some((line, col)) = hit else {
            return found;
        };
        found = (line + 1, col + 1);
        lo = line;
        parent_is_key = matches!(seg, Seg::Key(_));
        parent_indent = Some(col);
    }
    found
}

/// The blocks of lines `[lo, hi)` hold: one per key of a mapping, or one per item of
/// a sequence, each `(first line, end)`. Block YAML only; comments and blank lines
/// belong to the block before them.
pub fn blocks(lines: &[&str], lo: usize, hi: usize) -> Vec<(usize, usize)> {
    let mut starts = Vec::new();
    let mut shape: Option<(usize, bool)> = None;
    for (i, line) in lines.iter().enumerate().take(hi).skip(lo) {
        if !is_content(line) {
            continue;
        }
        let (ind, t) = parts(line);
        let dash = t.starts_with('-');
        match shape {
            None => {
                shape = Some((ind, dash));
                starts.push(i);
            }
            Some((at, seq)) if ind == at && dash == seq => starts.push(i),
            Some((at, _)) if ind < at => break,
            _ => {}
        }
    }
    let ends = starts.iter().skip(1).copied().chain(std::iter::once(hi));
    starts.iter().copied().zip(ends).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(s: &str) -> Seg {
        Seg::Key(s.to_string())
    }

    #[test]
    fn keys_and_items_are_found_in_block_yaml() {
        let text = "\
# comment
sources:
  poll_interval: 1s
  inputs:
    - path: /a
      format: x
    # between
    - glob: '/b/*.log'
      instance: db2
lists:
  threat:
    - one.txt
    - two.txt
tuning:
  suppress:
  - type: T
    ip: 10.0.0.0/8
";
        assert_eq!(locate(text, &[k("sources")]), (2, 1));
        assert_eq!(locate(text, &[k("sources"), k("poll_interval")]), (3, 3));
        assert_eq!(
            locate(text, &[k("sources"), k("inputs"), Seg::Item(0), k("path")]),
            (5, 7)
        );
        assert_eq!(
            locate(
                text,
                &[k("sources"), k("inputs"), Seg::Item(0), k("format")]
            ),
            (6, 7)
        );
        assert_eq!(
            locate(
                text,
                &[k("sources"), k("inputs"), Seg::Item(1), k("instance")]
            ),
            (9, 7)
        );
        assert_eq!(
            locate(text, &[k("lists"), k("threat"), Seg::Item(1)]),
            (13, 5)
        );
        assert_eq!(
            locate(text, &[k("tuning"), k("suppress"), Seg::Item(0), k("ip")]),
            (17, 5)
        );
        // Not there: the nearest enclosing key.
        assert_eq!(
            locate(text, &[k("sources"), k("inputs"), Seg::Item(5), k("path")]),
            (4, 3)
        );
        assert_eq!(locate(text, &[k("store"), k("path")]), (1, 1));
    }

    #[test]
    fn flow_collections_give_the_enclosing_key() {
        let text = "lists: {threat: [a.txt, b.txt]}\n";
        assert_eq!(
            locate(text, &[k("lists"), k("threat"), Seg::Item(1)]),
            (1, 1)
        );
    }
}
