//! Archives built for tests, shared by the dlp test binaries.

use std::io::Write;

/// A zip of `files`, deflated as `zip` writes by default.
pub fn zip_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    zip_after(&[], files)
}

/// A zip of `files` written after `prefix` in one stream, its offsets counted from the
/// start of `prefix`: as a self-extracting program is built, and as `zip -A` leaves
/// archives joined with `cat`.
#[allow(dead_code)] // Not every test binary writes an archive after other bytes.
pub fn zip_after(prefix: &[u8], files: &[(&str, &[u8])]) -> Vec<u8> {
    use std::io::Seek;
    let mut stream = std::io::Cursor::new(prefix.to_vec());
    stream.seek(std::io::SeekFrom::End(0)).unwrap();
    let mut writer = zip::ZipWriter::new(stream);
    for (name, bytes) in files {
        writer
            .start_file(*name, zip::write::SimpleFileOptions::default())
            .unwrap();
        writer.write_all(bytes).unwrap();
    }
    writer.finish().unwrap().into_inner()
}

/// A ustar archive of one file.
pub fn tar_of(name: &str, bytes: &[u8]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_ustar();
    header.set_size(bytes.len() as u64);
    header.set_mode(0o644);
    header.set_cksum();
    builder.append_data(&mut header, name, bytes).unwrap();
    builder.into_inner().unwrap()
}
