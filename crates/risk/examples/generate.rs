//! Writes a CERT r4.2-layout data set: `cargo run --release --example generate -- DIR [tiny|r42] [seed]`.
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let dir = std::path::PathBuf::from(args.get(1).ok_or("usage: generate DIR [tiny|r42] [seed]")?);
    let seed = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(1);
    let config = match args.get(2).map(String::as_str) {
        Some("tiny") => risk::GeneratorConfig::tiny(seed),
        _ => risk::GeneratorConfig::r42(seed),
    };
    let summary = risk::generate(&config, &dir)?;
    println!(
        "{} events, {} labelled people",
        summary.events,
        summary.answers.rows.len()
    );
    Ok(())
}
