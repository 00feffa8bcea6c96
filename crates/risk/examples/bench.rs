//! Scoring throughput vs bare csv parsing: `cargo run --release --example bench -- DIR`
//! (make DIR with `--example generate`).
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args().nth(1).ok_or("usage: bench DIR")?;
    println!("{}", risk::bench_cert_dir(std::path::Path::new(&dir))?);
    Ok(())
}
