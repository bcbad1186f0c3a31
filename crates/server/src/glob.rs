//! Glob patterns as Redis matches them (`KEYS`, `SCAN MATCH`), shared by the server and by the
//! conformance matchers for error texts.

/// Glob matching as Redis's `stringmatchlen`: `*`, `?`, `[abc]`, `[^a]`, `[a-z]`, `\x`.
pub fn glob_match(pattern: &[u8], text: &[u8]) -> bool {
    // Iterative with one backtrack point for `*`, so no pattern can recurse deeply.
    let (mut p, mut t) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        let Some(&pc) = pattern.get(p) else {
            match star {
                Some((sp, st)) => {
                    p = sp + 1;
                    t = st + 1;
                    star = Some((sp, st + 1));
                    continue;
                }
                None => return false,
            }
        };
        let tc = text.get(t).copied().unwrap_or(0);
        let (matched, advance) = match pc {
            b'*' => {
                star = Some((p, t));
                p += 1;
                continue;
            }
            b'?' => (true, 1),
            b'\\' if pattern.get(p + 1).is_some() => (pattern.get(p + 1) == Some(&tc), 2),
            b'[' => match class_match(pattern.get(p + 1..).unwrap_or_default(), tc) {
                Some((m, len)) => (m, len + 1),
                None => (pc == tc, 1),
            },
            _ => (pc == tc, 1),
        };
        if matched {
            p += advance;
            t += 1;
        } else if let Some((sp, st)) = star {
            p = sp + 1;
            t = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    pattern
        .get(p..)
        .unwrap_or_default()
        .iter()
        .all(|&c| c == b'*')
}

/// Matches `c` against a class body (after `[`); returns (matched, bytes consumed incl. `]`).
fn class_match(body: &[u8], c: u8) -> Option<(bool, usize)> {
    let (negate, mut i) = if body.first() == Some(&b'^') {
        (true, 1)
    } else {
        (false, 0)
    };
    let mut matched = false;
    loop {
        match body.get(i)? {
            b']' => return Some((matched != negate, i + 1)),
            b'\\' => {
                if body.get(i + 1) == Some(&c) {
                    matched = true;
                }
                i += 2;
            }
            &lo if body.get(i + 1) == Some(&b'-')
                && body.get(i + 2).is_some_and(|&h| h != b']') =>
            {
                let hi = *body.get(i + 2)?;
                let (lo, hi) = if lo <= hi { (lo, hi) } else { (hi, lo) };
                if (lo..=hi).contains(&c) {
                    matched = true;
                }
                i += 3;
            }
            &other => {
                if other == c {
                    matched = true;
                }
                i += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_like_redis() {
        assert!(glob_match(b"*", b"anything"));
        assert!(glob_match(b"h?llo", b"hello"));
        assert!(glob_match(b"h*llo", b"heeeello"));
        assert!(glob_match(b"h[ae]llo", b"hallo"));
        assert!(!glob_match(b"h[^e]llo", b"hello"));
        assert!(glob_match(b"h[a-b]llo", b"hbllo"));
        assert!(glob_match(b"respect:*", b"respect:x"));
        assert!(!glob_match(b"respect:*", b"other"));
        assert!(glob_match(b"a\\*b", b"a*b"));
        assert!(!glob_match(b"a\\*b", b"axb"));
        assert!(glob_match(&[b'*'; 1000], b"x"));
    }
}
