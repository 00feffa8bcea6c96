//! Scores a CERT r4.2-layout directory and prints `scores_csv`; with an answers file, also
//! prints the evaluation to stderr.
//! `cargo run --release --example score -- DIR [answers.csv] > scores.csv`
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let dir = std::path::PathBuf::from(args.next().ok_or("usage: score DIR [answers.csv]")?);
    let (report, scores) = risk::score_cert_dir(&dir, &risk::CertOptions::default(), &risk::ScoringConfig::default())?;
    eprintln!(
        "{} events, {} malformed (first: {:?}), {} duplicates, {} out of order, {} unknown users, {} departed, missing LDAP months {:?}",
        report.events,
        report.malformed_count,
        report.malformed.first(),
        report.duplicates,
        report.out_of_order,
        report.unknown_users,
        report.departed_users,
        report.missing_ldap_months
    );
    risk::write_scores_csv(&scores.users, std::io::stdout().lock())?;
    if let Some(answers) = args.next() {
        let file = std::io::BufReader::new(std::fs::File::open(answers)?);
        let eval = risk::evaluate(&scores.users, &risk::Answers::read(file)?);
        eprintln!("{eval:#?}");
    }
    Ok(())
}
