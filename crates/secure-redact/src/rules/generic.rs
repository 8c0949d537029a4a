//! Generic rules: an identifier that names a secret (`password`, `secret`, `token`, `api_key`,
//! ...) assigned a high-entropy value. These run after every specific rule and yield to them
//! when both match the same bytes.

use super::{raw, Spec};
use crate::Level::Sensitive;
use crate::Validator::Password;

pub(crate) fn rules() -> Vec<Spec> {
    vec![
        raw("generic-api-key", "High-entropy value assigned to a secret-named identifier (password, secret, token, api_key, ...)", Sensitive,
            &["key", "token", "secret", "password", "passwd", "pwd", "credential", "credentials", "auth", "passphrase"], GENERIC)
            .generic().win(64, 320).hit(crate::HitCheck::Assignment).anchored()
            .pos(&["genericToken = \"Zf3D0LXCM3EIMbgJpUNnkRtOfOueHznB\"", "{\"config.ini\": \"MY_TOKEN=eprhly7eq5wx7kjhgi2fc85c\\nX=1\"}",
                   "db_password: 'Tr0ub4dor-x9Qm2'", "<apiKey>\n    q8Rz3kLm9Vt2Xw7Yp4Bn\n</apiKey>", "System.setProperty(\"APP_SECRET\", \"q8Rz3kLm9Vt2Xw7Yp4Bn\")",
                   "some_api_token_123 = \"7ajYBc3d0Sm5pTlrbB8MurKPwWYLeqMCZFVZMMJPCWNxfLSeTjFRBKaiLJXN\"", "<password>Tr0ub4dor-x9Qm2</password>"])
            .neg(&["sequenceKey = \"18\"", "password = \"${DB_PASSWORD}\"", "token: TokenStream2,", "api_key = \"your-api-key-here\"",
                   "administrator_login_password = var.db_password", "let key = key_bytes2;", "const keyStr = \"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789\"",
                   "\"kms_key_id\": \"555ea4a3-d53a-4412-9c66-3a7cb667b0d6\",", "secret = \"changeme\"",
                   "ServerApplicationTrafficSecret => \"SERVER_TRAFFIC_SECRET_0\",", "API_KEY_ENV = \"ACME_API_KEY_V2\"",
                   ".header(\"sec-websocket-key\", \"6D69KGBOr4Re+Nj6zx9aQA==\")", "fn from(key: PrivatePkcs1KeyDer<'a>) -> Self {"]),
        raw("password-assignment", "Password with symbols assigned to a password-named identifier (quoted), or an XML key/value pair", Sensitive,
            &["password", "passwd", "pwd", "passphrase"], PASSWORD)
            .val(Password).ent(3.0).win(64, 160)
            .pos(&["db_password = \"Wq7!rT2#kd9Z\"", "<add key=\"SmtpPassword\" value=\"Hx4$mq!Lp2v\"/>",
                   "  'vm_password': \"Zr8^Tk3&qW\",", "ADMIN_PWD: 'Lm3@Qw9!Rt'"])
            .neg(&["password_regex = \"^(?=.*[A-Z])(?=.*\\d).{8,}$\"", "password = \"$DB_PASSWORD\"", "password: \"%(password)s\"",
                   "passwordHint = \"Abc123!x\"", "password = \"super$ecret\"", "password = \"xxxxxxxx\"",
                   "\"/docs/creating-a-strong-password\":\"/docs/en@3.0/creating-a-strong-password\"", "<add key=\"ClearTextPassword\" value=\"33f!!lloppa\" />"]),
    ]
}

/// `...SECRET_WORD SEP VALUE END`; the value must look random (checked in code).
const GENERIC: &str = concat!(
    r#"(?i:(?P<kw>api[_.\-]?key|apikey|api[_.\-]?token|api[_.\-]?secret|access[_.\-]?key|access[_.\-]?token|auth[_.\-]?token|auth[_.\-]?key|secret[_.\-]?key|client[_.\-]?secret|private[_.\-]?key|signing[_.\-]?key|encryption[_.\-]?key|master[_.\-]?key|refresh[_.\-]?token|bearer[_.\-]?token|session[_.\-]?token|secret|token|passw(?:or)?d|passwd|passphrase|pwd|credentials?|key|auth)(?:[_.\-]?\d{1,4})?)"#,
    r#"(?:\]?(?:[ \t]+(?:string|str|String))?[ \t]{0,4}["']\s*,|(?:\\?["'`])?\]?(?:[ \t]+(?:string|str|String))?[ \t]{0,4}(?:=>|:{1,3}=|[?.+|]=|=|:|>\s{0,16}))[ \t]{0,8}(?:\\?["'`][ \t]{0,4})?"#,
    r#"(?P<secret>[A-Za-z0-9_\-+/=.~]{8,})(?:\\?["'`\s;,)<\]}\\]|$)"#
);

/// `...PASSWORD_WORD SEP "VALUE"` (the identifier ends with the word, a numeric suffix aside),
/// or `key="...Password" value="VALUE"`; the value is checked by [`Password`].
const PASSWORD: &str = concat!(
    r#"(?i:(?P<kw>passw(?:or)?d|passwd|passphrase|pwd)(?:[_.\-]?\d{1,4})?)"#,
    r#"(?:\\?["'`])?\]?[ \t]{0,4}(?:=>|:=|=|:|value[ \t]*=)[ \t]{0,8}\\?["'`]"#,
    r#"(?P<secret>[^\s"'`\\]{8,64})\\?["'`]"#
);
