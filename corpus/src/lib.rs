//! Deterministic demo and benchmark articles: the bundled demo site and large corpora.
//! A development crate of the workspace: neither the pressfeed library nor its binary
//! contains it; tests and benchmarks use it, and its binary (`main.rs`) prints its NDJSON.
//!
//! All randomness comes from a hand-written splitmix64 stream and all dates from integer
//! calendar arithmetic, so the output is byte-identical across runs, machines and
//! dependency upgrades (a `rand` or `chrono` release could otherwise change the corpus).

#![forbid(unsafe_code)]

use serde_json::{Value, json};
use words::*;

/// What to generate.
pub struct CorpusSpec {
    pub articles: usize,
    pub sections: Vec<String>,
    pub seed: u64,
}

/// Section slugs of the demo site, in the order of `feeds/sections/`.
pub const DEMO_SECTIONS: [&str; 6] = [
    "top-news",
    "world",
    "business",
    "lifestyle",
    "sports",
    "technology",
];

const DAY: i64 = 86_400;
const DEMO_COUNT: usize = 300;
// Picked among a few candidates for a demo mix close to the nominal shares (video, drafts).
const DEMO_SEED: u64 = 0x5EED_2022_0520;
const DEMO_START: i64 = days_from_civil(2022, 4, 1) * DAY;
// Two hours before the seed story, which must stay the newest item of its sections.
const DEMO_END: i64 = days_from_civil(2022, 5, 14) * DAY + 8 * 3600;
// Far enough ahead that scheduled demo articles stay in the future for the demo's lifetime.
const DEMO_FUTURE: i64 = days_from_civil(2099, 1, 1) * DAY;
const CORPUS_END: i64 = days_from_civil(2026, 11, 1) * DAY;
const CORPUS_STEP: i64 = 600;
const SITE: &str = "https://asianlite.example";
const CDN: &str = "https://cdn.asianlite.example";

/// The bundled demo set: the seed story plus ~300 generated articles over DEMO_SECTIONS.
pub fn demo_articles() -> Vec<serde_json::Value> {
    let plan = Plan {
        sections: DEMO_SECTIONS.iter().map(|s| s.to_string()).collect(),
        seed: DEMO_SEED,
        start: DEMO_START,
        step: (DEMO_END - DEMO_START) / DEMO_COUNT as i64,
        end: DEMO_END,
        future: DEMO_FUTURE,
    };
    let mut out = Vec::with_capacity(DEMO_COUNT + 1);
    out.push(seed_story());
    out.extend((0..DEMO_COUNT).map(|i| plan.article(i)));
    out
}

/// A corpus of `spec.articles` generated articles (seed story not included) over `spec.sections`.
///
/// Articles are about ten minutes apart, oldest first, the newest just before
/// 2026-11-01T00:00:00Z. Each article is derived from `(seed, index)` alone, so the
/// iterator holds no state beyond the plan and nothing accumulates while streaming.
/// `use<>`: the iterator owns its plan, so it may outlive the borrowed spec.
pub fn generate(spec: &CorpusSpec) -> impl Iterator<Item = serde_json::Value> + use<> {
    let mut sections: Vec<String> = Vec::new();
    for s in spec.sections.iter().map(|s| slugify(s, usize::MAX)) {
        if !s.is_empty() && !sections.contains(&s) {
            sections.push(s);
        }
    }
    if sections.is_empty() {
        sections.push("news".to_string());
    }
    let count = spec.articles;
    let plan = Plan {
        sections,
        seed: spec.seed,
        start: CORPUS_END - (count as i64).saturating_mul(CORPUS_STEP),
        step: CORPUS_STEP,
        end: CORPUS_END,
        future: CORPUS_END,
    };
    (0..count).map(move |i| plan.article(i))
}

/// One article in the NDJSON form (one line, no trailing newline).
pub fn to_ndjson_line(article: &serde_json::Value) -> String {
    // Compact serialisation escapes control characters inside strings, so no raw newline
    // can appear; Value's Display is that serialisation and cannot fail.
    article.to_string()
}

fn seed_story() -> Value {
    let body = concat!(
        "<p>Lloyd Austin, the US Defence Secretary, has held a telephone conversation with ",
        "Russian Defence Minister Sergei Shoigu. It was the first time the two had talked since ",
        "Moscow launched its war against Ukraine on February 24.</p>",
        "<p>According to Pentagon Press Secretary John Kirby, Austin used the call to press for a ",
        "ceasefire in Ukraine without delay, and underlined why the two sides should keep their ",
        "channels of communication open.</p>",
        "<p>The previous contact between the pair was on February 18, Kirby said, less than a week ",
        "before Russian troops crossed into Ukraine.</p>",
        "<p>https://www.youtube.com/watch?v=SJ6vaRpQ0fc</p>",
        "<p>At a briefing later in the day, Kirby repeated that the Secretary had called for the ",
        "fighting to stop and had pointed to the value of staying in touch.</p>",
        "<p>Moscow's account was shorter. In a brief statement, the Russian Defence Ministry said ",
        "the ministers had talked about topical questions of international security, Ukraine ",
        "among them.</p>",
        "<h2>Military chiefs may be next</h2>",
        "<p>A similar exchange could follow between the two countries' top generals. CNN, citing a ",
        "US defence official, reported that Mark Milley, Chairman of the US Joint Chiefs of Staff, ",
        "is expected to approach his Russian counterpart Valery Gerasimov to ask for a call. The ",
        "two last spoke on February 11.</p>",
        "<p>Also read: <a href=\"/2022/05/13/britain-france-urge-allies/\">Britain, France urge ",
        "allies to keep pressure on Putin</a></p>",
    );
    json!({
        "id": "austin-shoigu-call-2022-05-14",
        "url": "https://asianlite.example/2022/05/14/austin-speaks-with-russian-counterpart/",
        "title": "Austin speaks with Russian counterpart for first time since Ukraine invasion",
        "sections": ["top-news", "world"],
        "status": "published",
        "published_at": "2022-05-14T09:30:00Z",
        "updated_at": "2022-05-14T10:02:00Z",
        "authors": [{"name": "Asian Lite News", "url": "https://asianlite.example/"}],
        "summary": "US Defence Secretary Lloyd Austin has spoken by phone with Russia's Sergei \
            Shoigu, their first contact since the invasion of Ukraine began on February 24. \
            The Pentagon said Austin pressed for an immediate ceasefire.",
        "body_html": body,
        "tags": ["Russia", "Ukraine", "Pentagon", "Lloyd Austin", "Sergei Shoigu"],
        "image": {"url": "https://cdn.asianlite.example/2022/05/austin.jpg", "type": "image/jpeg",
                  "width": 1200, "height": 675, "length": 183211,
                  "caption": "Lloyd Austin", "credit": "Pentagon"},
        "media": [{"url": "https://www.youtube.com/watch?v=SJ6vaRpQ0fc", "medium": "video",
                   "title": "Briefing", "duration": 95}]
    })
}

/// splitmix64: tiny, well mixed, and its stream is fixed by this code alone.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform-enough in `0..n`; the modulo bias is irrelevant for demo text.
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo).max(1) as usize) as i64
    }
    fn pct(&mut self, p: usize) -> bool {
        self.below(100) < p
    }
    fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len())]
    }
}

/// One section's vocabulary. Subjects take "the" in body text; topics take "the" too.
struct Bank {
    subjects: &'static [&'static str],
    /// (headline present tense, body past tense)
    actions: &'static [(&'static str, &'static str)],
    topics: &'static [&'static str],
    concerns: &'static [&'static str],
    tags: &'static [&'static str],
}

fn bank(section: &str) -> &'static Bank {
    match section {
        "world" => &WORLD,
        "business" | "economy" | "markets" => &BUSINESS,
        "lifestyle" | "culture" | "entertainment" => &LIFESTYLE,
        "sports" | "sport" => &SPORTS,
        "technology" | "tech" | "science" => &TECH,
        _ => &NEWS,
    }
}

// Word banks are data, one list per line; rustfmt would spread them over hundreds of lines.
#[rustfmt::skip]
mod words {
    use super::Bank;
    pub(super) const NEWS: Bank = Bank {
        subjects: &["prime minister", "Home Office", "opposition leader", "election commission", "health ministry", "Supreme Court", "city council", "police chief"],
        actions: &[("announces", "announced"), ("defends", "defended"), ("reviews", "reviewed"), ("orders", "ordered"), ("approves", "approved"), ("rejects", "rejected"), ("delays", "delayed")],
        topics: &["new visa scheme", "fuel price relief", "inquiry into hospital delays", "heatwave action plan", "school funding changes", "crackdown on online fraud", "housing repair fund", "rail fare freeze"],
        concerns: &["cost of living pressure", "public anger", "strain on hospitals", "housing shortage", "mistrust of officials"],
        tags: &["Politics", "Government", "UK", "India", "Elections", "Public Health", "Policing", "Housing"],
    };
    pub(super) const WORLD: Bank = Bank {
        subjects: &["UN chief", "EU foreign policy chief", "Indian foreign minister", "UK foreign secretary", "Gulf trade bloc", "Japanese prime minister", "Sri Lankan president", "Nepalese government"],
        actions: &[("backs", "backed"), ("calls for", "called for"), ("warns over", "warned over"), ("weighs", "weighed"), ("pledges support for", "pledged support for"), ("pushes for", "pushed for")],
        topics: &["new sanctions on Moscow", "ceasefire talks", "regional trade pact", "emergency grain shipments", "refugee funding", "border reopening", "climate finance pledges", "UN monitoring mission"],
        concerns: &["humanitarian crisis", "fuel shortages", "diplomatic tension", "pressure on food prices", "security fears"],
        tags: &["Diplomacy", "United Nations", "Ukraine", "Sanctions", "Refugees", "South Asia", "Gulf", "Climate"],
    };
    pub(super) const BUSINESS: Bank = Bank {
        subjects: &["central bank", "finance ministry", "Meridian Bank board", "Indus Motors chief executive", "Gulfstar Airways", "Harbourline Ports", "Sterling Foods", "textile exporters' council"],
        actions: &[("unveils", "unveiled"), ("raises", "raised"), ("cuts", "cut"), ("confirms", "confirmed"), ("scraps", "scrapped"), ("bets on", "bet on")],
        topics: &["interest rate outlook", "expansion into Europe", "quarterly dividend", "factory investment plan", "fuel surcharge", "export incentive scheme", "green bond issue", "hiring freeze"],
        concerns: &["inflation worries", "supply chain disruption", "weak consumer demand", "currency volatility", "energy costs"],
        tags: &["Economy", "Markets", "Banking", "Trade", "Inflation", "Aviation", "Manufacturing", "Investment"],
    };
    pub(super) const LIFESTYLE: Bank = Bank {
        subjects: &["celebrity chef", "Bollywood star", "London fashion house", "wellness app", "Dubai hotel group", "festival organiser", "Mayfair restaurant", "heritage trust"],
        actions: &[("unveils", "unveiled"), ("celebrates", "celebrated"), ("launches", "launched"), ("reimagines", "reimagined"), ("showcases", "showcased"), ("opens", "opened")],
        topics: &["monsoon tasting menu", "summer collection", "Diwali pop-up market", "mindfulness retreat", "street food festival", "heritage textile exhibition", "Eid fashion edit", "rooftop cinema season"],
        concerns: &["interest in sustainable fashion", "demand for wellness travel", "nostalgia for home cooking", "rising ticket prices", "appetite for live events"],
        tags: &["Food", "Fashion", "Travel", "Bollywood", "Culture", "Wellness", "Festivals", "Design"],
    };
    pub(super) const SPORTS: Bank = Bank {
        subjects: &["India captain", "England head coach", "Pakistan cricket board", "Sri Lanka team", "hockey federation", "Asian Games committee", "Bangladesh skipper", "Lancashire squad"],
        actions: &[("eyes", "eyed"), ("prepares for", "prepared for"), ("names squad for", "named a squad for"), ("books place in", "booked a place in"), ("bows out of", "bowed out of"), ("dominates", "dominated")],
        topics: &["Asia Cup final", "T20 series decider", "county championship", "Commonwealth Games trials", "opening Test", "hockey semi-final", "badminton open", "women's World Cup qualifier"],
        concerns: &["injury worries", "scheduling pressure", "fan frustration", "selection debate", "form concerns"],
        tags: &["Cricket", "Hockey", "Badminton", "Football", "Asia Cup", "Commonwealth Games", "T20", "Olympics"],
    };
    pub(super) const TECH: Bank = Bank {
        subjects: &["Bengaluru start-up", "chipmaker", "UK regulator", "telecom operator", "fintech firm", "smartphone maker", "cybersecurity agency", "space agency"],
        actions: &[("rolls out", "rolled out"), ("unveils", "unveiled"), ("invests in", "invested in"), ("warns over", "warned over"), ("tests", "tested"), ("scales back", "scaled back")],
        topics: &["5G coverage in rural districts", "AI translation tool", "new data centre", "digital payments security", "satellite broadband", "electric scooter battery", "cloud gaming service", "open banking rules"],
        concerns: &["data privacy concerns", "chip shortages", "ransomware attacks", "competition from rivals", "skills shortages"],
        tags: &["Technology", "AI", "Start-ups", "Cybersecurity", "Telecoms", "Fintech", "Space", "Gadgets"],
    };
    pub(super) const PLACES: &[&str] = &["New Delhi", "London", "Dhaka", "Colombo", "Dubai", "Kathmandu", "Islamabad", "Singapore", "Brussels", "Washington", "Mumbai", "Tokyo", "Riyadh", "Manchester", "Birmingham", "Leicester"];
    pub(super) const WEEKDAYS: [&str; 7] = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
    pub(super) const SENTENCES: &[&str] = &[
        "The {S} said on {W} that the {T} would be reviewed again before the end of the month.",
        "Officials in {P} said the {T} had been under discussion for several weeks.",
        "The decision comes amid growing {C} across the region.",
        "Analysts in {P} expect the {T} to dominate discussions in the coming weeks.",
        "Critics say too little has been done about the {C} for far too long.",
        "It was not immediately clear how the {T} would affect households in {P}.",
        "The announcement follows {N} months of talks between officials, business groups and community leaders.",
        "Figures published on {W} showed a rise of {X} per cent compared with the same period last year.",
        "A spokesperson said further details would be shared once the {T} had been finalised.",
        "Community groups in {P} welcomed the move but called for clearer timelines.",
        "Observers noted that the {C} had already shaped the debate in {P}.",
        "Some have linked the plan to the {O}, although officials declined to comment on any connection.",
        "Earlier this year, a similar proposal stalled after objections from several partners.",
        "Supporters say the {T} could become a model for other cities, including {P}.",
        "The {S} is expected to set out a timetable at a press conference next week.",
        "Opposition figures said the {O} should take priority over the {T}.",
        "Independent experts cautioned that the full impact may take {N} months to become clear.",
        "Residents interviewed in {P} were divided, with many saying they wanted to see results first.",
    ];
    pub(super) const SUMMARY_TAILS: &[&str] = &["Officials said more details would follow within days.", "The move comes amid growing {C}.", "Reaction in {P} was mixed.", "Critics said the {O} deserved more attention."];
    pub(super) const HEADINGS: &[&str] = &["What happens next", "Background", "Reaction in {P}", "By the numbers", "What critics say", "The wider picture"];
    pub(super) const QUOTES: &[&str] = &["We have listened carefully, and this is the right step for the people we serve.", "There is still a lot of work to do, but the direction is clear.", "Nobody should underestimate how much this matters to families in {P}.", "We will judge this by results, not by announcements.", "Pretending the {C} will simply go away helps no one."];
    pub(super) const SPEAKERS: &[&str] = &["Farah Siddiqui, a community organiser", "Daniel Hughes, an independent analyst", "Arjun Mehta, a former official", "Nadia Rahman, a local business owner", "Tom Whitfield, a policy researcher"];
    pub(super) const DESK: &[(&str, Option<&str>)] = &[
        ("Asian Lite News", Some("https://asianlite.example/")), ("Rahul Verma", Some("https://asianlite.example/author/rahul-verma/")),
        ("Sarah Collins", Some("https://asianlite.example/author/sarah-collins/")), ("Imran Qureshi", None),
        ("Meera Iyer", Some("https://asianlite.example/author/meera-iyer/")), ("Asian Lite Sports Desk", None),
    ];
    pub(super) const CREDITS: &[&str] = &["Asian Lite", "Handout", "File photo", "Social media", "Agency"];
    pub(super) const SIZES: &[(u32, u32)] = &[(1200, 675), (1600, 900), (1024, 683), (800, 533), (1200, 800)];
    // jpeg twice: most newsroom uploads are still jpeg.
    pub(super) const IMAGE_TYPES: &[(&str, &str)] = &[("jpg", "image/jpeg"), ("jpg", "image/jpeg"), ("webp", "image/webp")];
    pub(super) const YT_ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    pub(super) const VIMEO_IFRAME: &str = r#"<iframe src="https://player.vimeo.com/video/{ID}" width="640" height="360" frameborder="0" allow="autoplay; fullscreen; picture-in-picture" allowfullscreen></iframe>"#;
    pub(super) const YT_IFRAME: &str = r#"<iframe width="560" height="315" src="https://www.youtube.com/embed/{ID}" title="YouTube video player" frameborder="0" allowfullscreen></iframe>"#;
}

/// Where and when articles go; shared by the demo set and `generate`.
struct Plan {
    sections: Vec<String>,
    seed: u64,
    /// Article `i` is published in `[start + i*step, start + i*step + 0.9*step)`.
    start: i64,
    step: i64,
    /// Updates are clamped here so no ordinary article looks edited after the window.
    end: i64,
    /// Scheduled articles are published within 60 days after this.
    future: i64,
}

/// Per-article content picks, kept together so templates stay coherent with the headline.
struct Ctx<'a> {
    bank: &'a Bank,
    subject: &'a str,
    topic: &'a str,
    weekday: &'a str,
}

impl Plan {
    fn article(&self, i: usize) -> Value {
        // Seeding from (seed, index) alone keeps articles independent of each other, so
        // `generate` stays a plain map over indices and any article can be rebuilt alone.
        let mut r = Rng(self.seed ^ Rng(i as u64).next());
        let primary = self.sections[r.below(self.sections.len())].as_str();
        let mut sections = vec![primary];
        if r.pct(25) {
            // Prefer the hub sections, as editors do; fall back to any other section.
            let hub = ["top-news", "world"][r.below(2)];
            let other = self.sections[r.below(self.sections.len())].as_str();
            let has_hub = self.sections.iter().any(|s| s == hub);
            let second = if has_hub { hub } else { other };
            if second != primary {
                sections.push(second);
            }
        }

        let roll = r.below(100);
        let (draft, scheduled) = (roll < 3, (3..5).contains(&roll));
        let slot = self.start + i as i64 * self.step + r.range(0, self.step * 9 / 10);
        let ahead = self.future + r.range(DAY, 60 * DAY);
        let published = if scheduled { ahead } else { slot };
        let edit = r.range(300, 2 * DAY) * i64::from(!scheduled && r.pct(40));
        let updated = (published + edit).min(self.end).max(published);

        let bank = bank(primary);
        let (action, action_past) = r.pick(bank.actions);
        let (subject, topic) = (r.pick(bank.subjects), r.pick(bank.topics));
        let weekday = WEEKDAYS[(published.div_euclid(DAY) + 4).rem_euclid(7) as usize];
        let ctx = Ctx {
            bank,
            subject,
            topic,
            weekday,
        };
        let (place, concern) = (r.pick(PLACES), r.pick(bank.concerns));
        let title = match r.below(3) {
            0 => capitalize(&format!("{subject} {action} {topic}")),
            1 => capitalize(&format!("{subject} {action} {topic} amid {concern}")),
            _ => format!("{place}: {subject} {action} {topic}"),
        };

        let slug = slugify(&title, 6);
        let date = rfc3339(published);
        let (y, m, d) = (&date[0..4], &date[5..7], &date[8..10]);
        let place = r.pick(PLACES);
        let lead = format!(
            "The {subject} {action_past} the {topic} on {weekday}, in a step officials in {place} described as long overdue."
        );
        let summary = format!("{lead} {}", fill(r.pick(SUMMARY_TAILS), &ctx, &mut r));
        let (body, media) = body_html(&lead, &format!("/uploads/{y}/{m}/{slug}"), &ctx, &mut r);

        let mut desk = DESK.to_vec();
        let mut authors = Vec::new();
        for _ in 0..[0, 1, 1, 1, 1, 1, 1, 1, 2, 2][r.below(10)] {
            let (name, url) = desk.remove(r.below(desk.len()));
            authors.push(json!({ "name": name, "url": url }));
        }
        let mut tag_pool = [bank.tags, &[r.pick(PLACES)]].concat();
        let tags: Vec<&str> = (0..1 + r.below(6))
            .map(|_| tag_pool.remove(r.below(tag_pool.len())))
            .collect();
        let ((width, height), (ext, mime)) = (r.pick(SIZES), r.pick(IMAGE_TYPES));
        let image = json!({
            "url": format!("{CDN}/{y}/{m}/{slug}.{ext}"), "type": mime, "width": width, "height": height,
            "length": r.range(40_000, 400_000),
            "caption": r.pct(70).then(|| format!("{} in {}", capitalize(subject), r.pick(PLACES))),
            "credit": r.pct(60).then(|| r.pick(CREDITS)),
        });
        // Optional fields go in as null and are pruned, so each is decided in one place.
        prune(json!({
            "id": format!("{slug}-{y}-{m}-{d}-{i:04}"), "url": format!("{SITE}/{y}/{m}/{d}/{slug}-{i:04}/"),
            "title": title, "sections": sections, "status": if draft { "draft" } else { "published" },
            "published_at": (!draft).then_some(date.as_str()), "updated_at": rfc3339(updated),
            "authors": (!authors.is_empty()).then_some(authors), "summary": r.pct(90).then_some(summary),
            "body_html": body, "tags": r.pct(90).then_some(tags), "image": r.pct(80).then_some(image),
            "media": media.map(|m| [m]),
        }))
    }
}

/// Drops null members of objects, recursively.
fn prune(v: Value) -> Value {
    match v {
        Value::Object(m) => m
            .into_iter()
            .filter(|(_, v)| !v.is_null())
            .map(|(k, v)| (k, prune(v)))
            .collect(),
        Value::Array(a) => a.into_iter().map(prune).collect(),
        other => other,
    }
}

/// Builds 2–6 KB of paragraphs plus optional extras; returns the video's media entry, if any.
fn body_html(lead: &str, upload: &str, ctx: &Ctx, r: &mut Rng) -> (String, Option<Value>) {
    // A shuffled deck spreads the templates evenly and avoids back-to-back repeats.
    let mut deck: Vec<&str> = Vec::new();
    let mut paragraphs: Vec<String> = Vec::new();
    let target = r.range(2200, 4600) as usize;
    let mut len = 0;
    while len < target {
        let mut p = format!("<p>{}", if paragraphs.is_empty() { lead } else { "" });
        for _ in 0..3 + r.below(3) {
            if deck.is_empty() {
                deck = SENTENCES.to_vec();
                for k in (1..deck.len()).rev() {
                    deck.swap(k, r.below(k + 1));
                }
            }
            let sentence = fill(deck.pop().unwrap_or_default(), ctx, r);
            p += if p.len() > 3 { " " } else { "" };
            p += &sentence;
        }
        p += "</p>";
        len += p.len();
        paragraphs.push(p);
    }

    // Extras go in back to front so the earlier insertion points stay where intended.
    let n = paragraphs.len();
    if r.pct(25) {
        let (quote, who) = (fill(r.pick(QUOTES), ctx, r), r.pick(SPEAKERS));
        let html = format!("<blockquote><p>\"{quote}\"</p><p>{who}</p></blockquote>");
        paragraphs.insert(n.min(3), html);
    }
    if r.pct(40) {
        let heading = fill(r.pick(HEADINGS), ctx, r);
        paragraphs.insert(n.min(2), format!("<h2>{heading}</h2>"));
    }
    if r.pct(30) {
        let (who, place) = (capitalize(ctx.subject), r.pick(PLACES));
        let alt = format!("{who} at an event in {place}");
        let img = format!(r#"<img src="{upload}-{}.jpg" alt="{alt}">"#, 2 + r.below(4));
        let html = match r.pct(50) {
            true => format!("<figure>{img}<figcaption>{alt}</figcaption></figure>"),
            false => format!("<p>{img}</p>"),
        };
        paragraphs.insert(1, html);
    }
    if !r.pct(22) {
        return (paragraphs.concat(), None);
    }
    let at = 1 + r.below(paragraphs.len());
    let title = format!("Video: {}", capitalize(ctx.topic));
    let duration = r.range(30, 600);
    let id: String = (0..11)
        .map(|_| char::from(YT_ALPHABET[r.below(64)]))
        .collect();
    let vimeo = r.range(100_000_000, 999_999_999).to_string();
    let mut url = format!("https://www.youtube.com/watch?v={id}");
    let html = match r.below(30) {
        0..10 => format!("<p>{url}</p>"),
        10..19 => format!("<p>https://youtu.be/{id}?t={}</p>", 10 * r.range(1, 9)),
        19..27 => YT_IFRAME.replace("{ID}", &id),
        _ => {
            url = format!("https://vimeo.com/{vimeo}");
            VIMEO_IFRAME.replace("{ID}", &vimeo)
        }
    };
    paragraphs.insert(at, html);
    let media = json!({ "url": url, "medium": "video", "title": title, "duration": duration });
    // Feeds do not always declare embedded video, so the media entry is sometimes missing.
    (paragraphs.concat(), r.pct(90).then_some(media))
}

/// Expands `{S}` subject, `{T}` topic, `{O}` other topic, `{C}` concern, `{P}` place,
/// `{W}` weekday, `{N}` small count and anything else as a percentage.
fn fill(template: &str, ctx: &Ctx, r: &mut Rng) -> String {
    let mut out = String::with_capacity(template.len() + 32);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        match rest.as_bytes().get(open + 1) {
            Some(b'S') => out.push_str(ctx.subject),
            Some(b'T') => out.push_str(ctx.topic),
            Some(b'O') => {
                // A different topic, or "the X should take priority over the X" can happen.
                let mut other = r.pick(ctx.bank.topics);
                while other == ctx.topic {
                    other = r.pick(ctx.bank.topics);
                }
                out.push_str(other);
            }
            Some(b'C') => out.push_str(r.pick(ctx.bank.concerns)),
            Some(b'P') => out.push_str(r.pick(PLACES)),
            Some(b'W') => out.push_str(ctx.weekday),
            Some(b'N') => out.push_str(&r.range(2, 19).to_string()),
            _ => out.push_str(&format!("{}.{}", r.range(1, 13), r.below(10))),
        }
        rest = rest.get(open + 3..).unwrap_or_default();
    }
    out + rest
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// Lowercase ASCII words joined by '-', at most `max_words` of them.
fn slugify(s: &str, max_words: usize) -> String {
    let mut out = String::with_capacity(s.len());
    let mut words = 0;
    for ch in s.chars().filter(|&c| c != '\'') {
        let starts_word = out.is_empty() || out.ends_with('-');
        if ch.is_ascii_alphanumeric() {
            words += usize::from(starts_word);
            if words > max_words {
                break;
            }
            out.push(ch.to_ascii_lowercase());
        } else if !starts_word {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_string()
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
const fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// Unix seconds to `YYYY-MM-DDTHH:MM:SSZ`.
fn rfc3339(t: i64) -> String {
    let ((y, m, d), s) = (civil_from_days(t.div_euclid(DAY)), t.rem_euclid(DAY));
    let (hh, mm, ss) = (s / 3600, s / 60 % 60, s % 60);
    format!("{y:04}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}Z")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    const SEED_ID: &str = "austin-shoigu-call-2022-05-14";

    /// Strict parse of the `Z` form we emit; the round trip rejects impossible dates.
    fn parse(s: &str) -> i64 {
        let digit_to_9 = |c: char| if c.is_ascii_digit() { '9' } else { c };
        assert_eq!(
            s.chars().map(digit_to_9).collect::<String>(),
            "9999-99-99T99:99:99Z"
        );
        let n = |at: usize, len: usize| s[at..at + len].parse::<i64>().unwrap_or(-1);
        let days = days_from_civil(n(0, 4), n(5, 2), n(8, 2));
        let t = days * DAY + n(11, 2) * 3600 + n(14, 2) * 60 + n(17, 2);
        assert_eq!(rfc3339(t), s, "not a real date");
        t
    }

    fn text<'a>(a: &'a Value, key: &str) -> &'a str {
        a.get(key).and_then(Value::as_str).unwrap_or_default()
    }

    fn stamp(a: &Value, key: &str) -> Option<i64> {
        a.get(key).map(|v| parse(v.as_str().unwrap_or_default()))
    }

    fn has_youtube(a: &Value) -> bool {
        let body = text(a, "body_html");
        body.contains("youtube.com/") || body.contains("youtu.be/")
    }

    fn is_slug(s: &str) -> bool {
        let ok = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-';
        !s.is_empty() && s.bytes().all(ok)
    }

    fn image_ok(img: &Value) -> bool {
        let dims = ["width", "height", "length"].map(|k| img[k].as_u64().unwrap_or(0));
        let mime = matches!(text(img, "type"), "image/jpeg" | "image/webp");
        text(img, "url").starts_with(CDN) && mime && !dims.contains(&0)
    }

    /// Every YouTube id after a known URL prefix is exactly 11 chars of the id alphabet.
    fn video_ids_ok(body: &str) -> bool {
        let yt = |c: &u8| YT_ALPHABET.contains(c);
        let mut ok = true;
        for prefix in ["watch?v=", "youtu.be/", "youtube.com/embed/"] {
            for (at, _) in body.match_indices(prefix) {
                let id = &body.as_bytes()[at + prefix.len()..];
                ok &= id.len() > 11 && id[..11].iter().all(yt) && !yt(&id[11]);
            }
        }
        ok
    }

    fn check(a: &Value) {
        let (id, url, body) = (text(a, "id"), text(a, "url"), text(a, "body_html"));
        let id_char = |c: u8| c.is_ascii_alphanumeric() || b"._:-".contains(&c);
        let list = |k: &str| a.get(k).map(|v| v.as_array().map_or(0, Vec::len));
        let sections: Vec<&str> = a["sections"]
            .as_array()
            .into_iter()
            .flatten()
            .map(text_of)
            .collect();
        let (published, updated) = (stamp(a, "published_at"), stamp(a, "updated_at"));
        let draft = text(a, "status") == "draft";

        let id_ok = (1..=200).contains(&id.len()) && id.bytes().all(id_char);
        let url_ok = url.starts_with("https://asianlite.example/") && !url.contains(' ');
        let sections_ok = matches!(sections.len(), 1 | 2) && sections.iter().all(|s| is_slug(s));
        let distinct_ok = sections.first() != sections.get(1);
        let status_ok = draft || (text(a, "status") == "published" && published.is_some());
        let body_ok = body.starts_with("<p>") && !body.contains('\n') && video_ids_ok(body);
        let tags_ok = list("tags").is_none_or(|n| (1..=6).contains(&n));
        let authors_ok = list("authors").is_none_or(|n| (1..=2).contains(&n));
        let rules = [
            ("id", id_ok),
            ("url", url_ok),
            ("title", !text(a, "title").trim().is_empty()),
            ("sections", sections_ok && distinct_ok),
            ("status", status_ok),
            ("updated_at", updated >= published),
            ("body", body_ok),
            ("image", a.get("image").is_none_or(image_ok)),
            ("tags", tags_ok),
            ("authors", authors_ok),
        ];
        for (rule, ok) in rules {
            assert!(ok, "{rule} rule broken by {id}");
        }
    }

    fn text_of(v: &Value) -> &str {
        v.as_str().unwrap_or_default()
    }

    fn spec(articles: usize, seed: u64) -> CorpusSpec {
        let sections = DEMO_SECTIONS.map(String::from).to_vec();
        CorpusSpec {
            articles,
            sections,
            seed,
        }
    }

    fn distinct(all: &[Value], key: &str) -> usize {
        all.iter()
            .map(|a| text(a, key))
            .collect::<HashSet<_>>()
            .len()
    }

    #[test]
    fn deterministic() {
        let lines = |s: &CorpusSpec| generate(s).map(|a| to_ndjson_line(&a)).collect::<Vec<_>>();
        assert_eq!(lines(&spec(500, 7)), lines(&spec(500, 7)));
        assert_ne!(lines(&spec(50, 7)), lines(&spec(50, 8)));
        assert_eq!(demo_articles(), demo_articles());
    }

    #[test]
    fn generate_thousand_valid_unique_and_in_window() {
        let all: Vec<Value> = generate(&spec(1000, 42)).collect();
        assert_eq!(all.len(), 1000);
        assert_eq!(distinct(&all, "id") + distinct(&all, "url"), 2000);
        let mut last = i64::MIN;
        for a in &all {
            check(a);
            let len = text(a, "body_html").len();
            assert!((2048..=6144).contains(&len), "body length {len}");
            if let Some(p) = stamp(a, "published_at").filter(|&p| p < CORPUS_END) {
                assert!(p > last, "published dates ascend");
                last = p;
            }
        }
        assert!(last > CORPUS_END - 3600);
        let count = |f: &dyn Fn(&Value) -> bool| all.iter().filter(|a| f(a)).count();
        let drafts = count(&|a| a["status"] == "draft");
        let future = count(&|a| stamp(a, "published_at") >= Some(CORPUS_END));
        assert!(
            (10..=60).contains(&drafts) && (5..=45).contains(&future),
            "{drafts} {future}"
        );
        for field in ["image", "summary", "authors", "tags", "media"] {
            let n = count(&|a| a.get(field).is_some());
            assert!(n > 100 && n < 1000, "{field}: {n}");
        }
        assert!(count(&|a| a["sections"].get(1).is_some()) > 100);
    }

    #[test]
    fn youtube_share_and_forms() {
        let all: Vec<Value> = generate(&spec(1000, 3)).collect();
        let yt = all.iter().filter(|a| has_youtube(a)).count();
        assert!((140..=260).contains(&yt), "youtube share {yt}/1000");
        let bodies: String = all.iter().map(|a| text(a, "body_html")).collect();
        let forms = [
            "watch?v=",
            "<p>https://youtu.be/",
            "youtube.com/embed/",
            "vimeo.com/",
        ];
        let extras = ["src=\"/uploads/", "<figure>", "<h2>", "<blockquote>"];
        for form in forms.iter().chain(&extras) {
            assert!(bodies.contains(form), "{form}");
        }
    }

    #[test]
    fn odd_specs() {
        let mut opinion = spec(20, 1);
        opinion.sections = ["Opinion Pages", "", "opinion-pages"]
            .map(String::from)
            .to_vec();
        for a in generate(&opinion) {
            check(&a);
            assert_eq!(a["sections"], json!(["opinion-pages"]));
        }
        let mut empty = spec(0, 0);
        empty.sections.clear();
        assert_eq!(generate(&empty).count(), 0);
        empty.articles = 5;
        assert!(generate(&empty).all(|a| a["sections"] == json!(["news"])));
    }

    #[test]
    fn demo_seed_story_first_and_newest() {
        let demo = demo_articles();
        assert_eq!(demo.len(), DEMO_COUNT + 1);
        assert_eq!(distinct(&demo, "id"), demo.len());
        assert_eq!(text(&demo[0], "id"), SEED_ID);
        assert!(has_youtube(&demo[0]));
        demo.iter().for_each(check);
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
        let now = now.map_or(0, |d| d.as_secs() as i64);
        for section in ["top-news", "world"] {
            let newest = demo
                .iter()
                .filter(|a| {
                    a["sections"]
                        .as_array()
                        .is_some_and(|s| s.contains(&section.into()))
                })
                .filter_map(|a| Some((stamp(a, "published_at").filter(|&p| p <= now)?, a)))
                .max_by_key(|(p, _)| *p);
            let newest = newest.map(|(_, a)| text(a, "id"));
            assert_eq!(newest, Some(SEED_ID), "{section}");
        }
        assert!(demo.iter().any(|a| text(a, "published_at") > "2099"));
        assert!(demo.iter().any(|a| a["status"] == "draft"));
        for field in ["image", "summary", "authors", "tags", "media"] {
            let missing = demo.iter().any(|a| a.get(field).is_none());
            assert!(missing, "{field} always present");
        }
    }

    #[test]
    fn ndjson_is_one_line() {
        for a in demo_articles().iter().take(50) {
            let line = to_ndjson_line(a);
            assert!(!line.contains('\n') && !line.contains('\r'));
            assert_eq!(&serde_json::from_str::<Value>(&line).expect("json"), a);
        }
    }
}
