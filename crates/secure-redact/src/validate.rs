//! Validators and measures used to confirm a candidate: Shannon entropy, Luhn, IBAN mod-97,
//! JWT header, base64 bodies, US SSN ranges.

use base64::Engine as _;

/// A check run on the captured secret after the pattern matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Validator {
    /// Payment card number: digits (separators ignored) pass the Luhn checksum, the number is
    /// not within 64 of a power of two, and it is not an unquoted integer next to other
    /// numeric literals in a comma-and-space list of code (`f(5503284107318959, 446)`) unless
    /// a card word (`card`, `visa`, `pan`, ...) comes in the 64 bytes before it.
    Luhn,
    /// IBAN: known country length and mod-97 == 1.
    Iban,
    /// JWT: the header base64url-decodes to a JSON object with an `"alg"` field.
    Jwt,
    /// A base64-encoded JWT (`ZXlK...`): decodes to a JWT that passes [`Validator::Jwt`].
    JwtBase64,
    /// US social security number: area not 000/666/9xx, group not 00, serial not 0000.
    Ssn,
    /// PEM private key: the body between the armour lines is base64 (or an encrypted PEM header).
    PemBody,
    /// IPv4 address: four octets 0..=255, not a version-like or loopback/unspecified address.
    Ipv4,
    /// IPv6 address: eight groups, or three to seven around one `::`, with four digits or
    /// more in all (so `abc::def` paths of code are not addresses), not all of two hex digits
    /// (a hex dump's line).
    Ipv6,
    /// Phone number: 10 to 15 digits, not all the same.
    Phone,
    /// Value must mix at least two character classes (lower, upper, digit) — weeds out words.
    Mixed,
    /// Looks like a random token: [`Validator::Mixed`] and not a code identifier or type name
    /// (`AuthorizationRef`, `MI_UserCredentials_0`).
    Token,
    /// A PEM private key, base64-encoded (as Kubernetes secrets and env files hold them): the
    /// first 48 decoded bytes open with `-----BEGIN` and name a `PRIVATE KEY`.
    PemBase64,
    /// A typed password with symbols: at least one of `!@#$%^&*?`, three of lower case, upper
    /// case, digits and symbols, no brackets, `<>`, `|`, `;`, `,` or backslash (regexes, code,
    /// lists), not starting with `$`, `%` or `/` and with at most one `/` (a variable, a
    /// format, a path).
    Password,
}

impl Validator {
    /// Run the check on the secret `text[s..e]` where it was found: [`Validator::check`], and
    /// for [`Validator::Luhn`] the look around it (see [`in_number_list`]).
    pub(crate) fn check_at(self, text: &[u8], s: usize, e: usize) -> bool {
        let Some(secret) = text.get(s..e) else {
            return false;
        };
        self.check(secret) && !(self == Validator::Luhn && in_number_list(text, s, e))
    }

    /// Run the check on a captured secret.
    pub fn check(self, s: &[u8]) -> bool {
        match self {
            Validator::Luhn => card_ok(s),
            Validator::Iban => iban_ok(s),
            Validator::Jwt => jwt_ok(s),
            Validator::JwtBase64 => jwt_base64_ok(s),
            Validator::Ssn => ssn_ok(s),
            Validator::PemBody => pem_body_ok(s),
            Validator::Ipv4 => ipv4_ok(s),
            Validator::Ipv6 => ipv6_ok(s),
            Validator::Phone => phone_ok(s),
            Validator::Mixed => classes(s) >= 2,
            Validator::Token => classes(s) >= 2 && !code_identifier(s),
            Validator::PemBase64 => pem_base64_ok(s),
            Validator::Password => password_ok(s),
        }
    }
}

/// True for identifiers and type names of code: CamelCase or snake_case words, `__` paths,
/// long all-letter segments, or pronounceable words (many vowels, long letter runs).
pub(crate) fn code_identifier(v: &[u8]) -> bool {
    if !v
        .iter()
        .all(|b| b.is_ascii_alphanumeric() || *b == b'_' || *b == b'.' || *b == b':')
    {
        return false;
    }
    if memchr::memmem::find(v, b"__").is_some() || memchr::memmem::find(v, b"::").is_some() {
        return true;
    }
    if v.contains(&b'_')
        && v.split(|&b| b == b'_')
            .any(|s| s.len() >= 8 && s.iter().all(u8::is_ascii_alphabetic))
    {
        return true;
    }
    let letters = v.iter().filter(|b| b.is_ascii_alphabetic()).count();
    if letters == 0 {
        return false;
    }
    let vowels = v
        .iter()
        .filter(|b| matches!(b.to_ascii_lowercase(), b'a' | b'e' | b'i' | b'o' | b'u'))
        .count();
    // Letters in word-like runs: Capitalised (Xyy..), lowercase runs >= 4, uppercase runs >= 4.
    let mut wordy = 0;
    let mut i = 0;
    while i < v.len() {
        if !v[i].is_ascii_alphabetic() {
            i += 1;
            continue;
        }
        let start = i;
        if v[i].is_ascii_uppercase() {
            i += 1;
            if i < v.len() && v[i].is_ascii_lowercase() {
                while i < v.len() && v[i].is_ascii_lowercase() {
                    i += 1;
                }
                if i - start >= 3 {
                    wordy += i - start;
                }
            } else {
                while i < v.len()
                    && v[i].is_ascii_uppercase()
                    && !(i + 1 < v.len() && v[i + 1].is_ascii_lowercase())
                {
                    i += 1;
                }
                if i - start >= 4 {
                    wordy += i - start;
                }
            }
        } else {
            while i < v.len() && v[i].is_ascii_lowercase() {
                i += 1;
            }
            if i - start >= 4 {
                wordy += i - start;
            }
        }
    }
    vowels * 10 >= letters * 3 && wordy * 2 >= letters
}

/// Shannon entropy in bits per byte of `s` (0 for empty input).
pub fn shannon_entropy(s: &[u8]) -> f64 {
    byte_stats(s).entropy
}

/// What one pass over a value's byte counts tells: its entropy, and (for the placeholder
/// check's low-variety test, see [`crate::allowlist`]) how many distinct bytes it has and how
/// often the most frequent one occurs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct ByteStats {
    /// Shannon entropy in bits per byte (0 for empty input).
    pub(crate) entropy: f64,
    /// Distinct byte values.
    pub(crate) distinct: u32,
    /// Occurrences of the most frequent byte.
    pub(crate) max_count: u32,
}

/// [`ByteStats`] of `s`.
pub(crate) fn byte_stats(s: &[u8]) -> ByteStats {
    if s.is_empty() {
        return ByteStats {
            entropy: 0.0,
            distinct: 0,
            max_count: 0,
        };
    }
    let mut counts = [0u32; 256];
    // Which bytes occur, so the sum visits them in byte order without scanning all 256.
    let mut seen = [0u64; 4];
    for &b in s {
        counts[b as usize] += 1;
        seen[(b >> 6) as usize] |= 1 << (b & 63);
    }
    let n = s.len() as f64;
    // Equal counts give equal terms: each distinct count's term is computed once (the sum,
    // in byte order, is bit-for-bit the one computed term by term).
    let mut memo = [f64::NAN; 64];
    let term = |c: u32| {
        let p = f64::from(c) / n;
        -p * p.log2()
    };
    // `Iterator::sum` of f64 starts from -0.0; so does this.
    let mut sum = -0.0;
    let mut max_count = 0;
    for (w, &bits) in seen.iter().enumerate() {
        let mut bits = bits;
        while bits != 0 {
            let b = w * 64 + bits.trailing_zeros() as usize;
            bits &= bits - 1;
            let c = counts[b];
            max_count = max_count.max(c);
            let t = match memo.get_mut(c as usize) {
                Some(m) if !m.is_nan() => *m,
                Some(m) => {
                    *m = term(c);
                    *m
                }
                None => term(c),
            };
            sum += t;
        }
    }
    ByteStats {
        entropy: sum,
        distinct: seen.iter().map(|w| w.count_ones()).sum(),
        max_count,
    }
}

/// Number of character classes (lowercase, uppercase, digit) present.
pub(crate) fn classes(s: &[u8]) -> u32 {
    let l = s.iter().any(u8::is_ascii_lowercase) as u32;
    let u = s.iter().any(u8::is_ascii_uppercase) as u32;
    let d = s.iter().any(u8::is_ascii_digit) as u32;
    l + u + d
}

/// Luhn checksum over the ASCII digits of `s` (other bytes ignored); needs 12..=19 digits.
pub fn luhn_ok(s: &[u8]) -> bool {
    let digits: Vec<u32> = s
        .iter()
        .filter(|b| b.is_ascii_digit())
        .map(|b| u32::from(b - b'0'))
        .collect();
    if !(12..=19).contains(&digits.len()) {
        return false;
    }
    if digits.iter().all(|&d| d == digits[0]) {
        return false;
    }
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            if i % 2 == 1 {
                let x = d * 2;
                if x > 9 {
                    x - 9
                } else {
                    x
                }
            } else {
                d
            }
        })
        .sum();
    sum % 10 == 0
}

fn iban_len(cc: &[u8]) -> Option<usize> {
    const T: &[(&[u8; 2], usize)] = &[
        (b"AD", 24),
        (b"AE", 23),
        (b"AL", 28),
        (b"AT", 20),
        (b"AZ", 28),
        (b"BA", 20),
        (b"BE", 16),
        (b"BG", 22),
        (b"BH", 22),
        (b"BR", 29),
        (b"BY", 28),
        (b"CH", 21),
        (b"CR", 22),
        (b"CY", 28),
        (b"CZ", 24),
        (b"DE", 22),
        (b"DK", 18),
        (b"DO", 28),
        (b"EE", 20),
        (b"EG", 29),
        (b"ES", 24),
        (b"FI", 18),
        (b"FO", 18),
        (b"FR", 27),
        (b"GB", 22),
        (b"GE", 22),
        (b"GI", 23),
        (b"GL", 18),
        (b"GR", 27),
        (b"GT", 28),
        (b"HR", 21),
        (b"HU", 28),
        (b"IE", 22),
        (b"IL", 23),
        (b"IQ", 23),
        (b"IS", 26),
        (b"IT", 27),
        (b"JO", 30),
        (b"KW", 30),
        (b"KZ", 20),
        (b"LB", 28),
        (b"LC", 32),
        (b"LI", 21),
        (b"LT", 20),
        (b"LU", 20),
        (b"LV", 21),
        (b"MC", 27),
        (b"MD", 24),
        (b"ME", 22),
        (b"MK", 19),
        (b"MR", 27),
        (b"MT", 31),
        (b"MU", 30),
        (b"NL", 18),
        (b"NO", 15),
        (b"PK", 24),
        (b"PL", 28),
        (b"PS", 29),
        (b"PT", 25),
        (b"QA", 29),
        (b"RO", 24),
        (b"RS", 22),
        (b"SA", 24),
        (b"SC", 31),
        (b"SE", 24),
        (b"SI", 19),
        (b"SK", 24),
        (b"SM", 27),
        (b"TL", 23),
        (b"TN", 24),
        (b"TR", 26),
        (b"UA", 29),
        (b"VA", 22),
        (b"VG", 24),
        (b"XK", 20),
    ];
    T.iter().find(|(c, _)| c.as_slice() == cc).map(|(_, n)| *n)
}

/// Whether the card-shaped `text[s..e]` is a number among numbers of code rather than a card:
/// its digits are unbroken and unquoted, the list element just before or after it (across a
/// comma and whitespace, as code is laid out: `f(5503284107318959, 446)`, a table's
/// `116490258898219,\n    2213314919066161,`) is a numeric literal, and no card word (`card`,
/// `credit`, `debit`, `visa`, `amex`, `payment`, or `pan`, `cc`, `cvv` as words) is in the 64
/// bytes before it. A tenth of such integers pass Luhn by chance; cards are written in
/// groups, quoted, or named. Comma-separated values without a space (`4539...,12,2025`) are
/// not code and keep their cards.
fn in_number_list(text: &[u8], s: usize, e: usize) -> bool {
    let Some(v) = text.get(s..e) else {
        return false;
    };
    if v.is_empty() || !v.iter().all(u8::is_ascii_digit) {
        return false;
    }
    if s > 0 && matches!(text[s - 1], b'"' | b'\'' | b'`') {
        return false;
    }
    if card_word_before(&text[s.saturating_sub(64)..s]) {
        return false;
    }
    let blank = |b: u8| matches!(b, b' ' | b'\t' | b'\n' | b'\r');
    let token = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.');
    // The element before: `NUMBER,<blank>+` then ours.
    let before = {
        let mut i = s;
        let mut blanks = 0;
        while i > 0 && blank(text[i - 1]) {
            i -= 1;
            blanks += 1;
        }
        if blanks > 0 && i > 0 && text[i - 1] == b',' {
            let end = i - 1;
            let mut j = end;
            while j > 0 && token(text[j - 1]) {
                j -= 1;
            }
            numeric_literal(&text[j..end])
        } else {
            false
        }
    };
    // The element after: ours, `<spaces>,<blank>+NUMBER`.
    let after = || {
        let mut i = e;
        while i < text.len() && matches!(text[i], b' ' | b'\t') {
            i += 1;
        }
        if text.get(i) != Some(&b',') {
            return false;
        }
        i += 1;
        let from = i;
        while i < text.len() && blank(text[i]) {
            i += 1;
        }
        if i == from {
            return false;
        }
        if text.get(i) == Some(&b'-') {
            i += 1;
        }
        let mut j = i;
        while j < text.len() && token(text[j]) {
            j += 1;
        }
        numeric_literal(&text[i..j])
    };
    before || after()
}

/// A word that names a payment card in `w` (ASCII case-insensitive): `card`, `credit`,
/// `debit`, `visa`, `amex`, `payment` anywhere, `pan`, `cc`, `cvv` as whole words.
fn card_word_before(w: &[u8]) -> bool {
    let mut buf = [0u8; 64];
    let lower = &mut buf[..w.len().min(64)];
    for (d, b) in lower.iter_mut().zip(w) {
        *d = b.to_ascii_lowercase();
    }
    let lower = &*lower;
    let has = |p: &[u8]| memchr::memmem::find(lower, p).is_some();
    if [
        &b"card"[..],
        b"credit",
        b"debit",
        b"visa",
        b"amex",
        b"payment",
    ]
    .iter()
    .any(|p| has(p))
    {
        return true;
    }
    lower
        .split(|b| !b.is_ascii_alphanumeric())
        .any(|word| matches!(word, b"pan" | b"cc" | b"cvv"))
}

/// A numeric literal of code: digits (with `_` or one `.`), an optional exponent and an
/// optional type suffix (`446`, `1_000`, `1e9`, `0.5f64`, `10u64`, `7L`); a leading sign
/// is the caller's.
fn numeric_literal(t: &[u8]) -> bool {
    if !t.first().is_some_and(u8::is_ascii_digit) {
        return false;
    }
    let mut i = 0;
    let mut dot = false;
    while i < t.len() && (t[i].is_ascii_digit() || t[i] == b'_' || (t[i] == b'.' && !dot)) {
        dot |= t[i] == b'.';
        i += 1;
    }
    if i < t.len() && matches!(t[i], b'e' | b'E') && t.get(i + 1).is_some_and(u8::is_ascii_digit) {
        i += 1;
        while i < t.len() && t[i].is_ascii_digit() {
            i += 1;
        }
    }
    let suffix = &t[i..];
    suffix.is_empty()
        || matches!(
            suffix,
            b"u8"
                | b"u16"
                | b"u32"
                | b"u64"
                | b"u128"
                | b"usize"
                | b"i8"
                | b"i16"
                | b"i32"
                | b"i64"
                | b"i128"
                | b"isize"
                | b"f32"
                | b"f64"
                | b"L"
                | b"l"
                | b"UL"
                | b"ul"
                | b"LL"
                | b"ULL"
                | b"u"
                | b"U"
                | b"f"
                | b"F"
                | b"d"
                | b"D"
                | b"n"
        )
}

/// A plausible payment card: Luhn-valid, and not an integer constant of code (a number within
/// 64 of a power of two, as bit masks and limits are).
pub(crate) fn card_ok(s: &[u8]) -> bool {
    if !luhn_ok(s) {
        return false;
    }
    let v = s.iter().filter(|b| b.is_ascii_digit()).fold(0u64, |a, &b| {
        a.wrapping_mul(10).wrapping_add(u64::from(b - b'0'))
    });
    !(0..=64u64).any(|k| v.wrapping_add(k).is_power_of_two() || v.wrapping_sub(k).is_power_of_two())
}

/// IBAN check: spaces ignored, known country length, mod-97 of the rearranged number is 1.
pub fn iban_ok(s: &[u8]) -> bool {
    let v: Vec<u8> = s
        .iter()
        .filter(|b| !b.is_ascii_whitespace())
        .map(u8::to_ascii_uppercase)
        .collect();
    if v.len() < 15 || !v.iter().all(u8::is_ascii_alphanumeric) {
        return false;
    }
    match iban_len(&v[..2]) {
        Some(n) if n == v.len() => {}
        _ => return false,
    }
    mod97(&v) == 1
}

/// ISO 7064 mod-97 of an IBAN after moving the first four characters to the end (letters as 10..35).
pub fn mod97(v: &[u8]) -> u32 {
    let mut r: u32 = 0;
    for &b in v[4..].iter().chain(v[..4].iter()) {
        if b.is_ascii_digit() {
            r = (r * 10 + u32::from(b - b'0')) % 97;
        } else if b.is_ascii_uppercase() {
            let x = u32::from(b - b'A') + 10;
            r = (r * 100 + x) % 97;
        } else {
            return u32::MAX;
        }
    }
    r
}

fn b64_decode_any(s: &[u8]) -> Option<Vec<u8>> {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    URL_SAFE_NO_PAD
        .decode(s)
        .or_else(|_| URL_SAFE.decode(s))
        .or_else(|_| STANDARD_NO_PAD.decode(s))
        .or_else(|_| STANDARD.decode(s))
        .ok()
}

/// Registered JOSE header parameter names (RFC 7515, 7516, 7518, 7797, 8225) and common claims
/// seen in headers.
const JOSE_HEADER: &[&str] = &[
    "alg", "typ", "enc", "kid", "cty", "crit", "jku", "jwk", "x5u", "x5c", "x5t", "x5t#S256",
    "epk", "apu", "apv", "zip", "b64", "iv", "tag", "p2s", "p2c", "ppt", "url", "nonce", "iss",
    "sub", "aud", "ver", "use", "key_ops", "kty", "k",
];

/// JWT check: the first dot-separated part base64url-decodes to a JSON object with `"alg"`.
pub fn jwt_ok(s: &[u8]) -> bool {
    let head = s.split(|&b| b == b'.').next().unwrap_or_default();
    if let Some(dec) = b64_decode_any(head) {
        if let Ok(serde_json::Value::Object(m)) = serde_json::from_slice::<serde_json::Value>(&dec)
        {
            return m.keys().any(|k| JOSE_HEADER.contains(&k.as_str()));
        }
    }
    // A damaged or cut header still counts when it opens a JSON object with a JOSE name.
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let n = head.len() / 4 * 4;
    let Ok(dec) = URL_SAFE_NO_PAD.decode(&head[..n]) else {
        return false;
    };
    dec.starts_with(b"{\"")
        && (JOSE_HEADER
            .iter()
            .any(|k| dec[2..].starts_with(format!("{k}\"").as_bytes()))
            || ["\"alg\"", "\"typ\""]
                .iter()
                .any(|k| memchr::memmem::find(&dec, k.as_bytes()).is_some()))
}

fn jwt_base64_ok(s: &[u8]) -> bool {
    // Decode the longest prefix that is a multiple of 4 (the tail may be cut).
    let n = s.len() / 4 * 4;
    use base64::engine::general_purpose::STANDARD;
    let Ok(dec) = STANDARD.decode(&s[..n]).or_else(|_| STANDARD.decode(s)) else {
        return false;
    };
    dec.starts_with(b"eyJ") && jwt_ok(&dec)
}

/// US SSN ranges (the SSA never issues area 000, 666 or 9xx, group 00 or serial 0000).
pub fn ssn_ok(s: &[u8]) -> bool {
    let d: Vec<u8> = s
        .iter()
        .filter(|b| b.is_ascii_digit())
        .map(|b| b - b'0')
        .collect();
    if d.len() != 9 {
        return false;
    }
    let area = u32::from(d[0]) * 100 + u32::from(d[1]) * 10 + u32::from(d[2]);
    let group = d[3] * 10 + d[4];
    let serial = d[5..].iter().fold(0u32, |a, &x| a * 10 + u32::from(x));
    area != 0
        && area != 666
        && area < 900
        && group != 0
        && serial != 0
        && !d.iter().all(|&x| x == d[0])
        && d[..] != [1, 2, 3, 4, 5, 6, 7, 8, 9]
}

/// See [`Validator::PemBase64`]: the first 64 base64 characters (line breaks and escaped
/// `\n` skipped) decode to the armour line of a private key.
fn pem_base64_ok(s: &[u8]) -> bool {
    let mut head = [0u8; 64];
    let mut n = 0;
    let mut i = 0;
    while i < s.len() && n < head.len() {
        match s[i] {
            b'\\' => i += 1, // `\n`: skip both
            b if b.is_ascii_alphanumeric() || b == b'+' || b == b'/' => {
                head[n] = b;
                n += 1;
            }
            _ => {}
        }
        i += 1;
    }
    let Ok(dec) = base64::engine::general_purpose::STANDARD.decode(&head[..n / 4 * 4]) else {
        return false;
    };
    dec.starts_with(b"-----BEGIN") && memchr::memmem::find(&dec, b"PRIVATE KEY").is_some()
}

/// See [`Validator::Password`].
fn password_ok(s: &[u8]) -> bool {
    if s.first().is_some_and(|b| matches!(b, b'$' | b'%' | b'/'))
        || s.iter().filter(|&&b| b == b'/').count() >= 2
    {
        return false;
    }
    if s.iter().any(|b| {
        matches!(
            b,
            b'(' | b')' | b'[' | b']' | b'{' | b'}' | b'<' | b'>' | b'|' | b';' | b',' | b'\\'
        ) || !b.is_ascii_graphic()
    }) {
        return false;
    }
    let special = s.iter().any(|b| b"!@#$%^&*?".contains(b));
    special && classes(s) + 1 >= 3
}

fn pem_body_ok(s: &[u8]) -> bool {
    // Body: skip the armour line, then require mostly base64 characters (escaped "\n" allowed).
    let start = memchr::memmem::find(s, b"KEY").map(|i| i + 3).unwrap_or(0);
    let body = &s[start..];
    let mut b64 = 0usize;
    for w in body.split(|&b| b == b'-') {
        for &b in w {
            if b.is_ascii_alphanumeric() || b == b'+' || b == b'/' || b == b'=' {
                b64 += 1;
            }
        }
        if b64 >= 40 {
            break;
        }
    }
    b64 >= 40 || memchr::memmem::find(s, b"ENCRYPTED").is_some()
}

/// See [`Validator::Ipv6`]: the standard library's parser decides the shape (hex groups only,
/// no embedded IPv4, as the rule's pattern takes).
fn ipv6_ok(s: &[u8]) -> bool {
    if !s.iter().all(|b| b.is_ascii_hexdigit() || *b == b':') {
        return false;
    }
    let parses = std::str::from_utf8(s).is_ok_and(|t| t.parse::<std::net::Ipv6Addr>().is_ok());
    let groups = || s.split(|&b| b == b':').filter(|g| !g.is_empty());
    let digits = s.iter().filter(|b| b.is_ascii_digit()).count();
    // Groups all of two hex digits are a hex dump (`0c:ef:bc:59:53:00:7d:b1`), not an address.
    parses && groups().count() >= 3 && digits >= 4 && !groups().all(|g| g.len() == 2)
}

fn ipv4_ok(s: &[u8]) -> bool {
    let Ok(t) = std::str::from_utf8(s) else {
        return false;
    };
    let parts: Vec<&str> = t.split('.').collect();
    if parts.len() != 4 {
        return false;
    }
    let mut o = [0u32; 4];
    for (i, p) in parts.iter().enumerate() {
        if p.is_empty() || p.len() > 3 || (p.len() > 1 && p.starts_with('0')) {
            return false;
        }
        match p.parse::<u32>() {
            Ok(v) if v <= 255 => o[i] = v,
            _ => return false,
        }
    }
    // Unspecified, broadcast and loopback are not personal data.
    !(o == [0, 0, 0, 0] || o == [255, 255, 255, 255] || o[0] == 127 || o[0] == 0)
}

fn phone_ok(s: &[u8]) -> bool {
    let d: Vec<u8> = s.iter().copied().filter(u8::is_ascii_digit).collect();
    (10..=15).contains(&d.len()) && !d.iter().all(|&x| x == d[0])
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// `in_number_list` on the marked number (`#` before it) of each text.
    fn listed(t: &str) -> bool {
        let s = t.find('#').unwrap();
        let text = t.replace('#', "");
        let e = s + text[s..].bytes().take_while(u8::is_ascii_digit).count();
        in_number_list(text.as_bytes(), s, e)
    }

    #[test]
    fn numbers_among_numbers_of_code() {
        for t in [
            "check_normalize(#5503284107318959, 446, 11270725851789228032, 435);",
            "round_to_f64(11270725851789228032, 435, #5503284107318959, 446);",
            "f::<f64, { B }>(5, -640, false, #4172256988254845, 10);",
            "    116490258898219,\n    #2213314919066161,\n    42",
            "[#4539337344197924, -1_000u64]",
            "(0.5f64, #4539337344197924)",
            "span, 12, #4539337344197924",
        ] {
            assert!(listed(t), "{t}");
        }
        for t in [
            "card: #4539337344197924, 446",
            "cards = [4111111111111111, #4539337344197924, 12]",
            "PAN #4539337344197924, 12",
            "#4539337344197924,12,2025",
            "x(\"#4539337344197924\", 12)",
            "f(#4539337344197924, false)",
            "f(#4539337344197924)",
            "f(a, #4539337344197924, b2)",
        ] {
            assert!(!listed(t), "{t}");
        }
        assert!(!in_number_list(b"4539 3373 4419 7924, 12", 0, 19));
        assert!(!in_number_list(b"12, 45", 4, 99));
        for n in ["446", "1_000", "1e9", "0.5f64", "10u64", "7L", "3.14"] {
            assert!(numeric_literal(n.as_bytes()), "{n}");
        }
        for n in ["", "b2", "0x1f", "1.2.3", "12abc", "e9"] {
            assert!(!numeric_literal(n.as_bytes()), "{n}");
        }
    }

    proptest::proptest! {
        /// Whatever `ipv6_ok` accepts, the standard library parses as an IPv6 address.
        #[test]
        fn ipv6_ok_accepts_only_addresses(
            s in proptest::collection::vec(proptest::sample::select(b"0123456789abcdefABCDEF::::".to_vec()), 0..44)
        ) {
            if ipv6_ok(&s) {
                let text = String::from_utf8(s.clone()).unwrap();
                proptest::prop_assert!(text.parse::<std::net::Ipv6Addr>().is_ok(), "{text}");
            }
        }
    }

    #[test]
    fn ipv6_shapes() {
        for ok in [
            "2001:db8::8a2e:370:7334",
            "fe80::1ff:fe23:4567:890a",
            "2001:0db8:85a3:0000:0000:8a2e:0370:7334",
            "::2001:db8:1",
            "2001:db8:1::",
        ] {
            assert!(ipv6_ok(ok.as_bytes()), "{ok}");
        }
        for bad in [
            "abc::def",
            "fe80::1",
            "1::2::3:4",
            "12345::1:2:3",
            "0c:ef:bc:59:53:00:7d:b1",
            ":1:2:3:4:5:6:7",
            "1:2:3:4:5:6:7:8:9",
            "2001:db8:::1",
        ] {
            assert!(!ipv6_ok(bad.as_bytes()), "{bad}");
        }
    }

    #[test]
    fn luhn_known() {
        assert!(luhn_ok(b"4111 1111 1111 1111"));
        assert!(luhn_ok(b"5555555555554444"));
        assert!(!luhn_ok(b"4111111111111112"));
    }

    #[test]
    fn iban_known() {
        assert!(iban_ok(b"GB82 WEST 1234 5698 7654 32"));
        assert!(iban_ok(b"DE89370400440532013000"));
        assert!(!iban_ok(b"DE89370400440532013001"));
    }

    #[test]
    fn jwt_header() {
        assert!(jwt_ok(
            b"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxIn0.abc"
        ));
        assert!(!jwt_ok(b"eyJmb28iOjF9.x.y"));
    }

    #[test]
    fn entropy_bounds() {
        assert_eq!(shannon_entropy(b"aaaa"), 0.0);
        assert!((shannon_entropy(b"ab") - 1.0).abs() < 1e-9);
    }

    /// The term-by-term sum over all 256 byte values, in byte order.
    fn entropy_reference(s: &[u8]) -> f64 {
        if s.is_empty() {
            return 0.0;
        }
        let mut counts = [0u32; 256];
        for &b in s {
            counts[b as usize] += 1;
        }
        let n = s.len() as f64;
        counts
            .iter()
            .filter(|&&c| c > 0)
            .map(|&c| {
                let p = f64::from(c) / n;
                -p * p.log2()
            })
            .sum()
    }

    proptest::proptest! {
        /// Bit for bit the reference (thresholds compare against it), including counts above
        /// the memo's range.
        #[test]
        fn entropy_is_bitwise_the_reference(s in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..400), run in 0usize..200) {
            let mut s = s;
            s.extend(std::iter::repeat_n(b'a', run));
            proptest::prop_assert_eq!(shannon_entropy(&s).to_bits(), entropy_reference(&s).to_bits());
        }
    }
}
