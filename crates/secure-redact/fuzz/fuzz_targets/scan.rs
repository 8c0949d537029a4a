//! Fuzz `Scanner::scan` / `scan_path`: any bytes, never a panic, spans inside the input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use secure_redact::Scanner;
use std::sync::OnceLock;

fuzz_target!(|data: &[u8]| {
    static S: OnceLock<Scanner> = OnceLock::new();
    let s = S.get_or_init(Scanner::new);
    for f in s.scan(data) {
        assert!(f.start <= f.end && f.end <= data.len());
        assert!(f.line >= 1 && f.column >= 1);
    }
    let _ = s.scan_path("deploy/secret.yaml", data);
});
