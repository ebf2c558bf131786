//! INTERIM: replaced by the helper's sanitizer.
use std::borrow::Cow;
use url::Url;
pub fn clean_html(html: &str, _base: &Url) -> String {
    xml_safe(html).into_owned()
}
pub fn xml_safe(text: &str) -> Cow<'_, str> {
    let bad = |c: char| matches!(c, '\u{0}'..='\u{8}' | '\u{b}' | '\u{c}' | '\u{e}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}');
    if text.contains(bad) {
        Cow::Owned(text.chars().filter(|c| !bad(*c)).collect())
    } else {
        Cow::Borrowed(text)
    }
}
