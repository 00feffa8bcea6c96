//! Generates a data set, scores it, prints quality and speed.
//! `cargo run --release --example evaluate -- DIR [users] [days] [http_per_day] [seed] [top]`
//! (the r4.2 scale: `DIR 1000 500 82 SEED`)
use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let dir = PathBuf::from(args.get(1).map_or("/tmp/risk-eval", String::as_str));
    let num = |i: usize, d: u64| args.get(i).and_then(|s| s.parse().ok()).unwrap_or(d);
    let mut config = risk::GeneratorConfig::r42(num(5, 7));
    config.users = num(2, 300) as usize;
    config.days = num(3, 300) as u32;
    config.http_per_day = num(4, 10) as u32;
    let scale = config.users as f64 / 1000.0;
    config.insiders_per_scenario = ((14.0 * scale).round() as usize).max(1);
    config.hard_negatives_per_kind = ((15.0 * scale).round() as usize).max(1);
    config.benign_departures = ((85.0 * scale).round() as usize).max(2);
    // RISK_REUSE=1 scores what an earlier run generated into DIR; RISK_NO_BENCH=1 skips
    // the throughput measurement.
    let answers = if std::env::var_os("RISK_REUSE").is_some() {
        let file = std::io::BufReader::new(std::fs::File::open(dir.join("answers.csv"))?);
        risk::Answers::read(file)?
    } else {
        let summary = risk::generate(&config, &dir)?;
        println!("generated {} events in {}", summary.events, dir.display());
        summary.answers
    };
    if std::env::var_os("RISK_NO_BENCH").is_none() {
        let bench = risk::bench_cert_dir(&dir)?;
        println!("{bench}");
    }
    let (report, scores) = risk::score_cert_dir(&dir, &risk::CertOptions::default(), &risk::ScoringConfig::default())?;
    println!(
        "read: {} events, {} malformed, {} duplicates, {} departed",
        report.events, report.malformed_count, report.duplicates, report.departed_users
    );
    let eval = risk::evaluate(&scores.users, &answers);
    println!(
        "AUC {:.4}  AP {:.4}  recall@k {:?}  thieves in the top {} ≥ 7 days early {}/{} (alerted ≥ 7 days early {})  benign departing alerted {}/{}  alerts {}",
        eval.auc,
        eval.average_precision,
        eval.recall_at_k,
        risk::ScoringConfig::default().top_k,
        eval.departing_top_7d,
        eval.departing_top_lead_days.len(),
        eval.departing_alerted_7d,
        eval.benign_departing_alerted,
        eval.benign_departing,
        scores.alerts.len()
    );
    let truth: std::collections::HashMap<_, _> = answers.rows.iter().map(|a| (a.user.clone(), a.clone())).collect();
    let mut ranked = scores.users.clone();
    ranked.sort_by(|a, b| b.score.total_cmp(&a.score));
    for (rank, s) in ranked.iter().enumerate().take(num(6, 40) as usize) {
        let label = truth
            .get(&s.user)
            .map_or("-".to_string(), |a| format!("{}:{}", a.kind, a.scenario));
        let lead = truth
            .get(&s.user)
            .and_then(|a| a.last_day.zip(s.first_alert))
            .map(|(l, f)| l - f);
        println!(
            "{rank:3} {} {:5.1} lead={:?} {label} | {}",
            s.user,
            s.score,
            lead,
            s.reasons.join("; ")
        );
    }
    for a in answers.rows.iter().filter(|a| a.is_insider()) {
        let s = scores.users.iter().find(|s| s.user == a.user);
        let rank = ranked.iter().position(|r| r.user == a.user);
        let top = eval
            .departing_top_lead_days
            .iter()
            .find(|(u, _)| *u == a.user)
            .and_then(|(_, l)| *l);
        let flag = if a.last_day.is_some() && top.is_none_or(|d| d < 7) {
            " LATE"
        } else {
            ""
        };
        println!(
            "insider {} {} rank {:?} score {:?} alert lead {:?} top lead {:?} first alert before start {}{flag}",
            a.user,
            a.scenario,
            rank,
            s.map(|s| s.score),
            s.and_then(|s| s.first_alert).zip(a.last_day).map(|(f, l)| l - f),
            top,
            s.and_then(|s| s.first_alert).zip(a.start).is_some_and(|(f, st)| f < st),
        );
    }
    Ok(())
}
