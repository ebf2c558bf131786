//! The section file parser: TOML in, a validated `Section` or a `Problem` out. An accepted
//! section's schedule is asked for its next firing (the scheduler does exactly that), and
//! the file the admin API would write back reads back to the same section.
#![no_main]

use std::path::{Path, PathBuf};

use chrono::{TimeZone, Utc};
use libfuzzer_sys::fuzz_target;
use pressfeed::config::{Section, Site, parse_section, parse_toml};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = parse_toml::<Site>(Path::new("feeds/site.toml"), text);
    // The file name must match the slug; take it from the text so checks past it run.
    let stem = parse_toml::<Section>(Path::new("feeds/sections/x.toml"), text)
        .map(|s| s.slug.as_str().to_owned())
        .unwrap_or_else(|_| "world".to_owned());
    let path = PathBuf::from(format!("feeds/sections/{stem}.toml"));
    let Ok(section) = parse_section(&path, text) else {
        return;
    };
    let now = Utc.with_ymd_and_hms(2026, 11, 30, 12, 0, 0).unwrap();
    let _ = section.schedule.next_after(now);
    let written = section.to_toml().expect("a section always serializes");
    assert_eq!(
        parse_section(&path, &written).as_ref(),
        Ok(&section),
        "the written file reads back"
    );
});
