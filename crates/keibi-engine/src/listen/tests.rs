use super::syslog::Framer;
use super::*;

fn frames(max: usize, chunks: &[&[u8]]) -> Vec<String> {
    let mut f = Framer::new(max);
    let mut out = Vec::new();
    for c in chunks {
        f.push(c, &mut |m| {
            out.push(String::from_utf8_lossy(m).into_owned())
        });
    }
    f.finish(&mut |m| out.push(String::from_utf8_lossy(m).into_owned()));
    out
}

#[test]
fn octet_counting_and_newline_framing_in_any_chunks() {
    let all: &[u8] = b"5 hello11 hello world<13>Nov 28 a b: c\nlast";
    for cut in 0..all.len() {
        let got = frames(1024, &[&all[..cut], &all[cut..]]);
        assert_eq!(
            got,
            ["hello", "hello world", "<13>Nov 28 a b: c", "last"],
            "cut at {cut}"
        );
    }
    // Bounded: an over-long counted frame keeps its head, the rest is passed over;
    // an over-long line likewise.
    assert_eq!(frames(4, &[b"10 abcdefghij3 xyz"]), ["abcd", "xyz"]);
    assert_eq!(frames(4, &[b"10 abcde", b"fghij3 xyz"]), ["abcd", "xyz"]);
    assert_eq!(frames(4, &[b"abcdefgh", b"ij\nok\n"]), ["abcd", "ok"]);
    // A line that starts with digits is a line.
    assert_eq!(frames(64, &[b"2026-11-28 x\n"]), ["2026-11-28 x"]);
}

#[test]
fn the_inbox_takes_a_whole_offer_or_none() {
    let inbox = Inbox::new(1000);
    let line = |n: usize| Item::Line {
        stream: Arc::from("s"),
        format: None,
        line: vec![b'x'; n],
    };
    assert_eq!(inbox.offer(vec![line(2000)]), Offer::TooBig);
    assert_eq!(inbox.offer(vec![line(300), line(300)]), Offer::Queued);
    assert_eq!(inbox.offer(vec![line(300)]), Offer::Full);
    let (got, more) = inbox.take(1);
    assert_eq!((got.len(), more), (1, true));
    assert_eq!(inbox.offer(vec![line(300)]), Offer::Queued);
}

#[test]
fn secrets_compare_whole() {
    assert!(same_secret(b"abc", b"abc"));
    assert!(!same_secret(b"abd", b"abc"));
    assert!(!same_secret(b"ab", b"abc"));
    assert!(!same_secret(b"abcd", b"abc"));
    assert!(!same_secret(b"", b"abc"));
}
