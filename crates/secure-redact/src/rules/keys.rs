//! Private keys and structured tokens: PEM private keys (RSA, EC, DSA, OpenSSH, PKCS#8, encrypted,
//! PGP) including JSON-embedded keys with `\n` escapes, PuTTY keys, PKCS#12 files, JWTs,
//! URLs and connection strings with inline passwords, `Authorization` headers, curl credentials.

use super::{raw, Spec};
use crate::Level::{Classified, Sensitive};
use crate::Validator::{Jwt, JwtBase64, Mixed, PemBase64, PemBody, Token};

pub(crate) fn rules() -> Vec<Spec> {
    vec![
        raw("private-key-base64", "PEM private key, base64-encoded (Kubernetes secrets, env files)", Classified, &["ls0tls1crudjti"],
            r"\b(LS0tLS1CRUdJTi[A-Za-z0-9+/]{40,}(?:(?:\r?\n|\\n)[ \t]*[A-Za-z0-9+/]{4,})*={0,2})")
            .val(PemBase64).win(0, 16384)
            .pos(&["tls.key: LS0tLS1CRUdJTiBSU0EgUFJJVkFURSBLRVktLS0tLQpNSUlFcFFJQkFBS0NBUUVBbjYvTzhsaStTWDRtOThMTFl0L1BLU3pFbVErK1pCRDdMb2g5UDEzZjR5UTkyRUYzCnl4UjVNc1hGdTlQUnNyWVFBNy80VVRQSGlDNHkyc0FWQ0JnNEMyeXlCcFVFdE1RanlDRVNpNlk9Ci0tLS0tRU5EIFJTQSBQUklWQVRFIEtFWS0tLS0tCg==",
                   "SSH_KEY_B64=LS0tLS1CRUdJTiBPUEVOU1NIIFBSSVZBVEUgS0VZLS0tLS0KYjNCbGJuTnphQzFyWlhrdGRqRUFB\nQUFBQkc1dmJtVUFBQUFFYm05dVpRQUFBQUFBQUFBQkFBQUFNd0FBQUF0emMyZ3RaVwotLS0tLUVO\nRCBPUEVOU1NIIFBSSVZBVEUgS0VZLS0tLS0K"])
            .neg(&["ca.crt: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUJzekNDQVZtZ0F3SUJBZ0lVUTJGegotLS0tLUVORCBDRVJUSUZJQ0FURS0tLS0tCg=="]),
        raw("netrc-password", "Password in a .netrc / _netrc machine entry (machine, login, password)", Sensitive, &["machine"],
            r"(?:^|\s)machine[ \t]+[^\s]+\s+login[ \t]+[^\s]+\s+password[ \t]+([^\s]{6,})").win(8, 400)
            .pos(&["machine api.example-corp.net\n  login deploy\n  password 7cc938e45e63e9014f88f811be240ba0395c02dd"])
            .neg(&["machine learning password strength estimators", "machine api.example-corp.net login deploy password xxxxxxxx"]),
        raw("django-insecure-secret-key", "Django SECRET_KEY as startproject writes it (django-insecure-...)", Sensitive, &["django-insecure-"],
            r"(django-insecure-[^\s'\x22`\\]{30,80})").win(0, 100)
            .pos(&["SECRET_KEY = 'django-insecure-9#kq2m!x7@v^z4)w8(e1r5t%y3u6i0o-p_a=s'"])
            .neg(&["SECRET_KEY = 'django-insecure-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'"]),
        raw("private-key", "PEM private key (RSA, EC, DSA, OpenSSH, PKCS#8, encrypted, PGP)", Classified, &["private key"],
            r"(-----BEGIN[ A-Z0-9_\-]{0,40}PRIVATE KEY(?: BLOCK)?-----(?s:.){20,}?-----END[ A-Z0-9_\-]{0,40}PRIVATE KEY(?: BLOCK)?-----)")
            .val(PemBody).win(32, 32768)
            .pos(&["-----BEGIN RSA PRIVATE KEY-----\nMIIEpQIBAAKCAQEAn6/O8li+SX4m98LLYt/PKSzEmQ++ZBD7Loh9P13f4yQ92EF3\nyxR5MsXFu9PRsrYQA7/4UTPHiC4y2sAVCBg4C2yyBpUEtMQjyCESi6Y=\n-----END RSA PRIVATE KEY-----",
                   "{\"private_key\": \"-----BEGIN PRIVATE KEY-----\\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQDAC4AWkdwKYSd8\\nKs14IReLcYgADhoXk56ZzXI=\\n-----END PRIVATE KEY-----\\n\"}",
                   "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\nQyNTUxOQAAACDq8Rz3kLm9Vt2Xw7Yp4Bn6Cd1Ef5Gh0Jk2Lm4No6PQAAAJg=\n-----END OPENSSH PRIVATE KEY-----"])
            .neg(&["-----BEGIN OPENSSH PRIVATE KEY----------END OPENSSH PRIVATE KEY-----"]),
        raw("putty-private-key", "PuTTY private key file", Classified, &["putty-user-key-file-"],
            r"(PuTTY-User-Key-File-[23]:[^\n]{1,100}\n(?s:.)*?Private-Lines:\s*\d+\s*\n[A-Za-z0-9+/=\r\n]{40,})").win(16, 12000)
            .pos(&["PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nComment: me\nPublic-Lines: 2\nAAAAC3NzaC1lZDI1NTE5AAAAIOq8Rz3kLm9Vt2Xw7Yp4Bn6Cd1Ef5Gh0Jk2Lm4No6Pq\nPrivate-Lines: 1\nAAAAIHq8Rz3kLm9Vt2Xw7Yp4Bn6Cd1Ef5Gh0Jk2Lm4No6Pq8Rz3kLm9Vt2Xw7Yp4Bn\nPrivate-MAC: 3f9a1c7e\n"]),
        raw("pkcs12-file", "PKCS#12 / PFX key store file", Classified, &[], r"(?i)\.(?:p12|pfx)$").path(r"(?i)\.(?:p12|pfx)$").file(),
        raw("jwt", "JSON Web Token (header decodes to JSON with alg)", Sensitive, &["eyj"],
            r"\b(eyJ[A-Za-z0-9_\-]{8,}={0,2}\.eyJ[A-Za-z0-9_\-]{4,}={0,2}(?:\.(?:[A-Za-z0-9_\-]{8,}={0,2})?)?)(?:[^A-Za-z0-9_\-.=]|$)")
            .val(Jwt).win(8, 8192)
            .pos(&["Authorization: Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJhIjoxLCJiIjoyLCJjIjozfQ.hxhGCCCmGV9nT1slief1WgEsOsfdnlVizNrODxfh1M8",
                   "String tokenWithNoneAlg = \"eyJhbGciOiJub25lIn0.eyJzdWIiOiJ0ZXN0LXVzZXIifQ.\";"])
            .neg(&["eyJmb28iOiJiYXIiLCJiYXoiOjF9.eyJmb28iOiJiYXIifQ.c2lnbmF0dXJlMTIz"]),
        raw("jwt-base64", "Base64-encoded JSON Web Token", Sensitive, &["zxlk"],
            r"\b(ZXlK[A-Za-z0-9+/]{40,}={0,2})").val(JwtBase64).win(8, 8192)
            .pos(&["ZXlKaGJHY2lPaUpGVXpNNE5DSjkuZXlKcGMzTWlPaUpxYjJVaUxBMEtJQ0psZUhBaU9qRXpNREE0TVRrek9EQXNEUW9nSW1oMGRIQTZMeTlsZUdGdGNHeGxMbU52YlM5cGMxOXliMjkwSWpwMGNuVmxmUS5kQmpmdEplWjRDVlAtbUI5MksyN3VoYlVKVTFwMXJfd1cxZ0ZXRk9Falhr"]),
        raw("url-credentials", "URL or connection string with an inline password (scheme://user:pass@host)", Classified, &["://"],
            r"\b[A-Za-z][A-Za-z0-9+.\-]{1,30}://[^\s:@/\x22'`<>(){}\[\]]{0,128}:(?P<secret>[^\s@/\x22'`<>{}\[\]$]{4,128})@(?P<host>[A-Za-z0-9][A-Za-z0-9_.\-]*)")
            .win(48, 512).hit(crate::HitCheck::UrlUserinfo)
            .pos(&["DATABASE_URL=postgres://app:Tr0ub4dor-x9@db.internal:5432/app", "mongodb+srv://svc:q8Rz3kLm9Vt2@cluster0.ab1cd.mongodb.net/test",
                   "amqp://guest:Zx7Vb2Nm4Pq9@rabbit.prod:5672/", "REDIS_URL=redis://:Zx7Vb2Nm4Pq9Lk3@cache.prod:6379/0"])
            .neg(&["postgres://user:password@localhost/db", "redis://:${REDIS_PASSWORD}@redis:6379", "https://user:<password>@example.com"]),
        raw("authorization-header", "HTTP Authorization header with a Bearer / Basic / Token credential", Sensitive, &["authorization"],
            r#"(?i:authorization)[\x22']?\s*[:=]\s*[\x22']?\s*(?:(?i:bearer|basic|token|digest|apikey|api-key|key|sso-key)\s+)?([A-Za-z0-9._~+/=\-]{12,})(?:[^A-Za-z0-9._~+/=\-]|$)"#)
            .val(Token).win(8, 2200)
            .pos(&["curl -H 'Authorization: Basic YnJvd3Nlcjo9cT0z' https://api", "curl --header  'Authorization:  5eb4223e-5008-46e5-be67-c7b8f2732305'"])
            .neg(&["-H \"Authorization: Bearer $API_KEY\"", "--header \"Authorization: Basic ...\"", "-H \"Authorization: Token **********\""]),
        raw("api-key-header", "API key / token sent in an HTTP header (X-Api-Key, Api-Token, Private-Token, ...)", Sensitive,
            &["api-key", "api-token", "apikey", "auth-token", "access-token", "private-token"],
            r#"(?i:x-api-key|api-key|api-token|x-apikey|apikey|x-auth-token|x-access-token|private-token)[\x22']?\s*:\s*[\x22']?([A-Za-z0-9._~+/=\-]{8,})[\x22']"#)
            .val(Token).ent(2.8)
            .pos(&["curl -X POST --header \"Api-Token: Sk94HG7f6KB\""]).neg(&["-H \"apikey: $API_KEY\""]),
        raw("curl-auth-user", "Credentials passed to curl -u / --user", Sensitive, &["curl"],
            r#"\bcurl\b(?s:.)*?\s(?:-u|--user)[ =]+[\x22']?(?:[^\s\x22':$<\[{]{0,64}:[\x22']?([^\s\x22'$<\[{]{4,128})|([^\s\x22':$<\[{]{6,128}):)[\x22']?(?:\s|$)"#)
            .val(Token).win(0, 800)
            .pos(&["curl -u developer:yqDVtkqPECriaLRi https://x", "curl -u \":d2LkV78zLx!t\" https://localhost:9200"])
            .neg(&["curl -u <user:password> https://test.com/endpoint", "curl --user neo4j:[PASSWORD] http://x", "curl -u username:token",
                   "curl -sL --user \"$1:$2\" \"$3\""]),
        raw("basic-auth-credentials-header", "Pre-encoded HTTP basic credentials in code", Sensitive, &["basic "],
            r"(?i:basic)\s+([A-Za-z0-9+/]{16,}={0,2})(?:[^A-Za-z0-9+/=]|$)").val(Token).ent(3.5)
            .pos(&["headers['X-Auth'] = 'Basic dXNlcjpxOFJ6M2tMbTlWdDJYdzdZ'"]),
        raw("ssh-password-sshpass", "Password passed to sshpass -p", Sensitive, &["sshpass"],
            r#"sshpass\s+-p\s*[\x22']?([^\s\x22'$]{6,})"#).val(Mixed)
            .pos(&["sshpass -p 'q8Rz3kLm9Vt2' ssh root@10.0.0.1"]),
        raw("mysql-password-flag", "Password passed inline to mysql -p", Sensitive, &["mysql"],
            r#"\bmysql(?:dump|admin)?\b[^\n]*?\s-p([^\s\x22'$-][^\s\x22'$]{5,})"#).val(Mixed)
            .pos(&["mysql -u root -pQ8rz3Klm9 appdb"]),
        raw("jdbc-password", "JDBC URL with a password parameter", Classified, &["jdbc:"],
            r"jdbc:[a-z0-9]+:[^\s\x22']*?[;?&](?i:password|pwd)=([^\s;&\x22'$]{4,})").val(Mixed)
            .pos(&["jdbc:sqlserver://db:1433;databaseName=app;user=sa;password=Q8rz3Klm9x"]),
        raw("odbc-connection-password", "Connection string with Password=", Classified, &["password=", "pwd="],
            r"(?i:(?:server|data source|host)=[^;\x22'\n]{1,};[^\x22'\n]*?(?:password|pwd)=)([^;\x22'\s$]{4,128})").val(Mixed).win(300, 300)
            .pos(&["Server=tcp:db.acme.net,1433;Database=app;User ID=svc;Password=Q8rz3Klm9x!;Encrypt=true"]),
    ]
}
