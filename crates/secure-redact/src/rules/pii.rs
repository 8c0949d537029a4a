//! Personal data: e-mail addresses, phone numbers, payment cards (Luhn), IBANs (mod-97),
//! US social security numbers, IPv4 and IPv6 addresses.

use super::{raw, Spec};
use crate::Level::{Internal, Sensitive};
use crate::Validator::{Iban, Ipv4, Ipv6, Luhn, Phone, Ssn};

pub(crate) fn rules() -> Vec<Spec> {
    vec![
        raw("email", "E-mail address", Internal, &["@"],
            r"(?:^|[^A-Za-z0-9._%+\-])([A-Za-z0-9][A-Za-z0-9._%+\-]{0,63}@[A-Za-z0-9](?:[A-Za-z0-9\-]{0,62}\.)+[A-Za-z]{2,24})\b").win(72, 260).hit(crate::HitCheck::EmailAt)
            .allow(&[r"(?i)@(?:example|test|localhost|domain|email|company)\.(?:com|org|net|io)$", r"(?i)^(?:git|noreply|no-reply|user|username|name|you|your\.?name|someone|foo|bar)@"])
            .pos(&["contact: jane.doe@acme-corp.de", "mailto:ops+alerts@mail.globex.io",
                   "https://acme-corp.de/contact?email=jane.doe@acme-corp.de"])
            .neg(&["user@example.com", "git@github.com:org/repo.git", "version@1.2.3",
                   "postgres://admin:S3cr3tPassw0rd@db.internal:5432/app", "ssh://deploy@build.acme-corp.net/srv"]),
        raw("phone-number", "Phone number (E.164 or North American)", Internal, &[],
            r"(?:^|[^\w+.\-/])(\+[1-9][0-9]{0,2}[ .\-]?(?:\([0-9]{1,4}\)[ .\-]?)?[0-9]{2,4}(?:[ .\-][0-9]{2,8}){1,4}|\([2-9][0-9]{2}\) ?[2-9][0-9]{2}-[0-9]{4}|[2-9][0-9]{2}-[2-9][0-9]{2}-[0-9]{4}|[2-9][0-9]{2}\.[2-9][0-9]{2}\.[0-9]{4})(?:[^\w.\-/]|\.(?:[^\w.]|$)|$)")
            .val(Phone)
            .digits()
            .pos(&["call +44 20 7946 0958 now", "tel: (415) 555-2671", "+1-202-555-0143", "Call me at 212-555-0147.", "mobile 415.555.0198", "UK +44 7700 900123", "Berlin +49 30 12345678"])
            .neg(&["version 1.2.3-4", "x = 20 + 30"]),
        raw("credit-card", "Payment card number (Luhn-checked)", Sensitive, &[],
            r"(?:^|[^\w.\-+/])((?:4[0-9]{3}|5[1-5][0-9]{2}|2[2-7][0-9]{2}|6011|65[0-9]{2}|35[0-9]{2})(?:[ \-]?[0-9]{4}){3}|3[47][0-9]{2}[ \-]?[0-9]{6}[ \-]?[0-9]{5}|3(?:0[0-5]|[68][0-9])[0-9][ \-]?[0-9]{6}[ \-]?[0-9]{4})(?:[^\w.\-/]|\.(?:[^\w.]|$)|$)")
            .val(Luhn)
            .digits()
            .pos(&["card: 4539 3373 4419 7924", "My card is 4539 3373 4419 7924.", "pan=5186-3760-9260-3090", "amex 3782 822463 10005",
                   "cards: 4539337344197924, 5186376092603090", "4539337344197924,12,2025"])
            .neg(&["4111 1111 1111 1112", "id=41111111111111119999",
                   "check_normalize(5503284107318959, 446, 11270725851789228032, 435);",
                   "    116490258898219,\n    2213314919066161,\n    42"]),
        raw("iban", "International bank account number (mod-97-checked)", Sensitive, &[],
            r"(?:^|[^A-Za-z0-9])([A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?)(?:[^A-Za-z0-9]|$)")
            .val(Iban)
            .digits()
            .pos(&["IBAN: GB82 WEST 1234 5698 7654 32", "iban=DE89370400440532013000"])
            .neg(&["DE89370400440532013001"]),
        raw("us-ssn", "US social security number", Sensitive, &[],
            r"(?:^|[^\w\-.])([0-9]{3}-[0-9]{2}-[0-9]{4})(?:[^\w\-.]|\.(?:[^\w.]|$)|$)").val(Ssn)
            .digits()
            .pos(&["SSN: 536-22-8726", "My SSN is 536-22-8726."]).neg(&["000-12-3456", "666-12-3456", "123-45-6789"]),
        raw("ipv4-address", "IPv4 address", Internal, &[],
            r"(?:^|[^\w.])((?:[0-9]{1,3}\.){3}[0-9]{1,3})(?:[^\w.]|\.(?:[^\w.]|$)|$)").val(Ipv4)
            .digits()
            .pos(&["host 203.0.113.42 up", "ip=10.12.0.7", "It runs on 203.0.113.42."]).neg(&["127.0.0.1", "999.1.1.1", "version 1.2.3.4.5"]),
        raw("ipv6-address", "IPv6 address (full or compressed form)", Internal, &[],
            r"(?:^|[^\w:])((?:[0-9a-fA-F]{1,4}:){7}[0-9a-fA-F]{1,4}|(?:[0-9a-fA-F]{1,4}:){1,6}(?::[0-9a-fA-F]{1,4}){1,6})(?:[^\w:]|$)")
            .val(Ipv6)
            .digits()
            .pos(&["addr 2001:0db8:85a3:0000:0000:8a2e:0370:7334", "v6 fe80::1ff:fe23:4567:890a up", "peer 2001:db8::8a2e:370:7334."])
            .neg(&["use abc::def;", "fe80::1", "1:2:3:4:5:6:7:8:9", "    0c:ef:bc:59:53:00:7d:b1\n"]),
    ]
}
