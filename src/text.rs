//! The one cleaning rule for an article's plain-text fields (title, author names, tags,
//! captions): the text as a reader will see it. Applied once, when an article is
//! accepted; HTML fields are cleaned by `sanitize` instead.
//!
//! The rule: characters a reader cannot be shown are removed (controls, which XML 1.0
//! forbids or discourages, and Unicode noncharacters); whitespace runs become one space;
//! and a run of zero-width or bidi controls that stands alone, touching no visible
//! character, is dropped with the whitespace around it. Inside a word those marks stay:
//! they join emoji, shape Persian words and order mixed-direction text.

/// `text` cleaned by the rule above; empty when it has no visible character.
pub fn clean(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for word in text.split(char::is_whitespace) {
        if !word.chars().any(visible) {
            continue;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.extend(word.chars().filter(|&c| !unshowable(c)));
    }
    out
}

/// True when `c` puts ink on the page: not whitespace, not a control, not a zero-width or
/// bidi mark.
pub(crate) fn visible(c: char) -> bool {
    !(c.is_whitespace() || unshowable(c) || default_ignorable(c))
}

/// Controls (C0, DEL, C1: XML 1.0 forbids most C0 and discourages the rest) and
/// noncharacters (U+FDD0–U+FDEF and the last two of every plane, U+FFFE and U+FFFF among
/// them, which XML forbids or discourages).
fn unshowable(c: char) -> bool {
    c.is_control() || matches!(c, '\u{FDD0}'..='\u{FDEF}') || (c as u32 & 0xFFFE) == 0xFFFE
}

/// Unicode's Default_Ignorable_Code_Point property (DerivedCoreProperties.txt, Unicode 15):
/// characters a renderer shows as nothing — zero-width spaces and joiners, bidi marks and
/// embeddings, the soft hyphen, variation selectors, Hangul fillers, tag characters —
/// less the noncharacters, which `unshowable` already covers.
fn default_ignorable(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{061C}'
            | '\u{115F}'..='\u{1160}'
            | '\u{17B4}'..='\u{17B5}'
            | '\u{180B}'..='\u{180F}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}'
            | '\u{3164}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{FEFF}'
            | '\u{FFA0}'
            | '\u{FFF0}'..='\u{FFF8}'
            | '\u{1BCA0}'..='\u{1BCA3}'
            | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0000}'..='\u{E0FFF}'
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn text_with_nothing_to_see_is_empty() {
        for junk in [
            "",
            "   ",
            "\u{1}\u{7}\u{1b}",
            "\u{200B}\u{200C}\u{FEFF}",
            " \u{200F} \u{202E}\u{2066} ",
            "\u{3164}\u{115F}",
            "\u{AD}\t\n\u{85}\u{A0}",
            "\u{FFFE}\u{FFFF}\u{FDD0}\u{10FFFF}",
        ] {
            assert_eq!(clean(junk), "", "{junk:?}");
        }
    }

    #[test]
    fn visible_text_is_kept_with_one_space_between_words() {
        assert_eq!(clean("  Tennis \t and\n\n Padel "), "Tennis and Padel");
        assert_eq!(clean("Bell\u{7} rings"), "Bell rings");
        assert_eq!(clean("a \u{200B} b \u{200F}"), "a b");
        assert_eq!(
            clean("Fish &amp; chips"),
            "Fish &amp; chips",
            "text, not HTML"
        );
    }

    #[test]
    fn marks_inside_words_stay() {
        for word in [
            "👨\u{200D}👩\u{200D}👧",
            "می\u{200C}خواهم",
            "\u{200F}שלום",
            "❤\u{FE0F}",
        ] {
            assert_eq!(clean(word), word);
        }
    }

    proptest! {
        #[test]
        fn cleaning_is_idempotent_and_leaves_no_blank(s in any::<String>()) {
            let once = clean(&s);
            prop_assert_eq!(clean(&once), once.clone());
            prop_assert!(once.is_empty() || once.split(' ').all(|w| w.chars().any(visible)));
            prop_assert!(!once.chars().any(unshowable));
        }
    }
}
