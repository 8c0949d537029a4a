//! Package registries: npm, PyPI, crates.io, RubyGems, NuGet, Docker Hub, Clojars, Hex.

use super::{raw, Spec};
use crate::Level::Sensitive;

pub(crate) fn rules() -> Vec<Spec> {
    vec![
        raw("npm-access-token", "npm access token", Sensitive, &["npm_"], r"\b(npm_[A-Za-z0-9]{36})\b").ent(3.0)
            .pos(&["//registry.npmjs.org/:_authToken=npm_c5fa9oqecnbzwjxaqm6av6luw6gto9hhg3jy"]),
        raw("npm-auth-token-npmrc", "npm legacy auth token in .npmrc", Sensitive, &["_authtoken"],
            r"(?i:_authToken)\s*=\s*([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})")
            .pos(&["//registry.npmjs.org/:_authToken=3c9f1d2e-8a7b-4c6d-9e0f-1a2b3c4d5e6f"]),
        raw("pypi-upload-token", "PyPI upload token", Sensitive, &["pypi-ageichlwas5vcmc"], r"\b(pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_\-]{50,})")
            .pos(&["password = pypi-AgEIcHlwaS5vcmc16a1310be23eaa17b436bc9f5876e79e3727628ddbc32efe7c004c240b6a5d39"]),
        raw("crates-io-api-token", "crates.io API token", Sensitive, &["cio"], r"\b(cio[A-Za-z0-9]{32})\b").ent(3.5)
            .pos(&["CARGO_REGISTRY_TOKEN=cioq8Rz3kLm9Vt2Xw7Yp4Bn6Cd1Ef5Gh0Jk"]),
        raw("rubygems-api-token", "RubyGems API key", Sensitive, &["rubygems_"], r"\b(rubygems_[a-f0-9]{48})\b")
            .pos(&["GEM_HOST_API_KEY=rubygems_16ba69c0699d42a634389a495cda89d2ecbcc2de5b9abc49"]),
        raw("nuget-api-key", "NuGet API key", Sensitive, &["oy2"], r"\b(oy2[a-z0-9]{43})\b").ent(3.5)
            .pos(&["dotnet nuget push -k oy2q8rz3klm9vt2xw7yp4bn6cd1ef5gh0jk2lm4no6pq8r"]),
        raw("nuget-config-password", "Clear-text password in NuGet.config", Sensitive, &["cleartextpassword"],
            r#"(?i:<add\s+key=\x22ClearTextPassword\x22\s+value=\x22)([^\x22]{6,})\x22"#).path(r"(?i)(?:^|/)nuget\.config$").ent(3.3),
        raw("docker-hub-pat", "Docker Hub personal / organization access token", Sensitive, &["dckr_pat_", "dckr_oat_"], r"\b(dckr_(?:pat|oat)_[A-Za-z0-9_\-]{27,36})(?:[^A-Za-z0-9_\-]|$)").ent(3.5)
            .pos(&["DOCKERHUB_TOKEN=dckr_pat_q8Rz3kLm9Vt2Xw7Yp4Bn6Cd1Ef5G", "docker login -u me -p dckr_pat_q8Rz3kLm9Vt2Xw7Yp4Bn6Cd1Ef5-"]),
        raw("docker-config-auth", "Registry credentials in ~/.docker/config.json", Sensitive, &["\"auth\""],
            r#""auth"\s*:\s*"([A-Za-z0-9+/]{16,}={0,2})""#).ent(3.0)
            .pos(&[r#"{"auths": {"https://index.docker.io/v1/": {"auth": "dXNlcjpxOFJ6M2tMbTlWdDJYdzdZ"}}}"#]),
        raw("clojars-api-token", "Clojars deploy token", Sensitive, &["clojars_"], r"(?i)\b(CLOJARS_[a-z0-9]{60})\b")
            .pos(&["CLOJARS_1gug8v8fqh9bjxsdjctyyksr8jljoo5jnth14783oyorh6a758yv6ufuxl4r"]),
        raw("hex-api-key", "Hex.pm API key in context", Sensitive, &["hex_api_key"], r"(?i:hex_api_key)\s*[=:]\s*[\x22']?([a-f0-9]{32})\b")
            .pos(&["HEX_API_KEY=3f9a1c7e2b4d6f8a0c1e3b5d7f9a2c4e"]),
    ]
}
