//! `pressfeed-corpus`: prints generated articles as NDJSON on stdout, the bundled demo set
//! or a corpus for benchmarks. The generating is the library's; this only parses flags.
//!
//!   cargo run -p pressfeed-corpus -- --demo > feeds/demo/articles.ndjson
//!   cargo run --release -p pressfeed-corpus -- --articles 100000 --sections 20

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;
use pressfeed_corpus::{CorpusSpec, demo_articles, generate, to_ndjson_line};

/// Print generated articles as NDJSON: the demo set, or a corpus for benchmarks.
#[derive(Parser)]
#[command(name = "pressfeed-corpus")]
struct Cli {
    /// The bundled demo set (feeds/demo/articles.ndjson) instead of a corpus.
    #[arg(long)]
    demo: bool,
    /// How many articles the corpus has.
    #[arg(long, default_value_t = 1000)]
    articles: usize,
    /// Spread over this many sections, `section-01` ...
    #[arg(long, default_value_t = 20)]
    sections: usize,
    /// The same seed makes the same corpus, byte for byte.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match print(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("pressfeed-corpus: {e}");
            ExitCode::FAILURE
        }
    }
}

fn print(cli: &Cli) -> std::io::Result<()> {
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let spec = CorpusSpec {
        articles: cli.articles,
        sections: (1..=cli.sections)
            .map(|i| format!("section-{i:02}"))
            .collect(),
        seed: cli.seed,
    };
    let lines: Box<dyn Iterator<Item = serde_json::Value>> = if cli.demo {
        Box::new(demo_articles().into_iter())
    } else {
        Box::new(generate(&spec))
    };
    for article in lines {
        writeln!(out, "{}", to_ndjson_line(&article))?;
    }
    out.flush()
}
