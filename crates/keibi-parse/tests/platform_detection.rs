//! The managed platforms' formats (cnpg, cloudsql, azure, heroku, supabase) claim their
//! own fixtures and none of the others: every fixture under `tests/data/` is detected
//! from its first 64 KiB, as `keibi events` does, and a file outside a platform's folder
//! must not come out as that platform's format.

use std::io::Read;
use std::path::Path;

use keibi_parse::{detect, Format};

const PLATFORMS: &[(&str, Format)] = &[
    ("cnpg", Format::Cnpg),
    ("cloudsql", Format::CloudSql),
    ("azure", Format::Azure),
    ("heroku", Format::Heroku),
    ("supabase", Format::Supabase),
];

fn head(path: &Path) -> (Vec<u8>, bool) {
    let raw = std::fs::read(path).expect("fixture");
    let bytes = if raw.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(&raw[..])
            .take(64 << 10)
            .read_to_end(&mut out)
            .expect("gzip fixture");
        out
    } else {
        raw
    };
    let complete = bytes.len() <= 64 << 10;
    (bytes.into_iter().take(64 << 10).collect(), complete)
}

#[test]
fn each_platform_claims_its_fixtures_and_no_other() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let mut checked = 0;
    for dir in std::fs::read_dir(&root).expect("tests/data").flatten() {
        // Files beside the folders (the COUNTS table) are not fixtures.
        if !dir.path().is_dir() {
            continue;
        }
        let name = dir.file_name().to_string_lossy().into_owned();
        let own = PLATFORMS.iter().find(|(d, _)| *d == name).map(|(_, f)| *f);
        // A format's folder may group fixtures in subfolders (postgres/pgbadger/).
        let mut files = Vec::new();
        let mut dirs = vec![dir.path()];
        while let Some(d) = dirs.pop() {
            for e in std::fs::read_dir(&d).expect("folder").flatten() {
                let p = e.path();
                if p.is_dir() {
                    dirs.push(p);
                } else {
                    files.push(p);
                }
            }
        }
        for path in files {
            if path.extension().is_some_and(|e| e == "md") {
                continue;
            }
            let (bytes, complete) = head(&path);
            let found = detect(&bytes, complete);
            match own {
                Some(f) => assert_eq!(found, Some(f), "{}", path.display()),
                None => assert!(
                    !PLATFORMS.iter().any(|(_, f)| found == Some(*f)),
                    "{} is detected as {found:?}",
                    path.display()
                ),
            }
            checked += 1;
        }
    }
    assert!(checked > 40, "only {checked} fixtures found");
}
