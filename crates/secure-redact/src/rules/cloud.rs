//! Cloud providers: AWS, GCP, Azure, Alibaba, DigitalOcean, Heroku, Cloudflare, Fastly, Fly.io,
//! Netlify, Yandex, OpenShift, Scalingo, PlanetScale, Databricks, HashiCorp, Pulumi, Doppler.

use super::{ctx, raw, Spec};
use crate::Level::{Classified, Sensitive};
use crate::Validator::Mixed;

pub(crate) fn rules() -> Vec<Spec> {
    vec![
        raw("aws-access-key", "AWS access key id (AKIA/ASIA/...)", Classified, &["akia", "asia", "abia", "acca", "a3t"],
            r"\b((?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16})\b").ent(3.0)
            .pos(&["aws_access_key_id = AKIAZ7Q4MXWD2KJ5HRTE", "id: ASIAQ2W3E4R5T6Y7U2I3"])
            .neg(&["AKIAIOSFODNN7EXAMPLE", "TODAYINASIAASACKOFRICEFELLOVER", "AKIAXXXXXXXXXXXXXXXX"]),
        ctx("aws-secret-key", "AWS secret access key assigned in context", Classified,
            &["secret_access_key", "secretaccesskey", "secret-access-key", "aws_secret", "awssecret", "aws_sak"],
            r"(?:aws)?[_.\-]?(?:secret[_.\-]?access[_.\-]?key|secret[_.\-]?key|sak)", r"[A-Za-z0-9/+]{40}").ent(3.5)
            .no_anchor()
            .pos(&["aws_secret_access_key = \"q8Rz3kLm9Vt2Xw7Yp4Bn6Cd1Ef5Gh0Jk2Lm4No6P\""])
            .neg(&["aws_secret_access_key = \"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\""]),
        ctx("aws-session-token", "AWS temporary session token", Sensitive, &["session_token", "sessiontoken", "session-token", "security_token"],
            r"(?:aws)?[_.\-]?(?:session|security)[_.\-]?token", r"[A-Za-z0-9/+=]{100,}").ent(4.0)
            .no_anchor()
            .pos(&["aws_session_token = IQoJb3JpZ2luX2VjEHQaCXVzLWVhc3QtMSJHMEUCIQDm7kL9vA3bX2cY8dQ1fR4gH6jK0lM5nP7sT9uW2xZ3yAIgZ5b8C1d4E7f0G3h6J9k2L5m8N1p4Q7r0S3t6U9v2W5x8Y1z4"]),
        raw("aws-bedrock-api-key", "Amazon Bedrock long-lived API key", Classified, &["absk"],
            r"\b(ABSKQmVkcm9ja0FQSUtleS[A-Za-z0-9+/]{80,}={0,2})").ent(3.5)
            .pos(&["key = ABSKQmVkcm9ja0FQSUtleS1hY2Nlc3Mta2V5LTEyMzQ1Njc4OTA6bW9yZS1yYW5kb20tYnl0ZXMtYmFzZTY0LXN0dWZmLXE4UnozaypMbTlWdDJYdzdZcDRCbjZDZDFFZjVHaDBKaw=="])
            .neg(&["ABSKQmVkcm9ja0FQSUtleS1EXAMPLEEXAMPLEEXAMPLEEXAMPLEEXAMPLEEXAMPLEEXAMPLEEXAMPLEEXAMPLEEXAMPLEEXAMPLEEXAMPLEEXAMPLEEXAMPLEEXAMPLEEXAMPLE"]),
        raw("aws-bedrock-short-lived-key", "Amazon Bedrock short-lived API key", Sensitive, &["bedrock-api-key-"],
            r"\b(bedrock-api-key-YmVkcm9jay5hbWF6b25hd3MuY29t[A-Za-z0-9+/=%&_\-]*)")
            .pos(&["token: bedrock-api-key-YmVkcm9jay5hbWF6b25hd3MuY29tLz9BY3Rpb249Q2FsbFdpdGhCZWFyZXJUb2tlbg=="]),
        raw("aws-mws-key", "Amazon MWS auth token", Sensitive, &["amzn.mws."],
            r"(amzn\.mws\.[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})")
            .pos(&["amzn.mws.4ea38b7b-f563-7709-4bae-87aeaef1b6c9"]),
        raw("gcp-api-key", "Google Cloud / Firebase API key", Sensitive, &["aiza"],
            r"\b(AIza[0-9A-Za-z_\-]{35})(?:[^0-9A-Za-z_\-]|$)").ent(3.0)
            // Keys Google publishes in its own public samples and docs.
            .allow(&[r"^AIzaSy(?:AnLA7NfeLquW1tJFpx_eQCxoX-oo6YyIs|CkEhVjf3pduRDt6d1yKOMitrUEke8agEM|DMAScliyLx7F0NPDEJi1QmyCgHIAODrlU|ANUvH9H9BsUccjsu2pCmEkOPjjaXeDQgY|A4UrcGxgwQFTfaI3no3t7Lt1sjmdnP5sQ|BF2RrAIm4a0mO64EShQfqfd2AFnzAvvuU|A8vmApnrHNFE0bApF4hoZ11srVL_n0nvY)$"])
            .pos(&["apiKey: \"AIzaSyD8f3kLq0Zx7Vb2Nm4Pq9Rt6Yw1Ue5Io3A\""])
            .neg(&["AIzaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "AIzaSyabcdefghijklmnopqrstuvwxyz1234567"]),
        raw("gcp-service-account", "GCP service-account key file (private_key_id)", Classified, &["private_key_id"],
            r#""private_key_id"\s*:\s*"([a-f0-9]{40})""#)
            .pos(&[r#"{"type": "service_account", "private_key_id": "3f9a1c7e2b4d6f8a0c1e3b5d7f9a2c4e6b8d0f1a"}"#]),
        raw("gcp-oauth-client-secret", "Google OAuth client secret", Sensitive, &["gocspx-"],
            r"\b(GOCSPX-[A-Za-z0-9_\-]{28})(?:[^A-Za-z0-9_\-]|$)")
            .pos(&["client_secret=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"]),
        raw("gcp-oauth-access-token", "Google OAuth access token", Sensitive, &["ya29."],
            r"\b(ya29\.[0-9A-Za-z_\-]{30,})").ent(3.5)
            .pos(&["Authorization: Bearer ya29.a0AfH6SMBx3kLq9Zx7Vb2Nm4Pq9Rt6Yw1Ue5Io3AbCdEf"]),
        raw("azure-storage-key", "Azure storage account key / connection string", Classified, &["accountkey"],
            r"(?i:AccountKey)\s*=\s*([A-Za-z0-9+/]{86}==)")
            .pos(&["DefaultEndpointsProtocol=https;AccountName=acme;AccountKey=pTyGJMuHbEL31IeL2HPcHyGcFRl1SPnXNYvMIHa/2o76umfXfKm/r5kJP1VrT+1FJors/6ILi8IHn5kxsC7tVO==;EndpointSuffix=core.windows.net"]),
        raw("azure-shared-access-key", "Azure Service Bus / Event Hubs / IoT shared access key", Classified, &["sharedaccesskey="],
            r"(?i:SharedAccessKey)=([A-Za-z0-9+/]{42,44}=)")
            .pos(&["Endpoint=sb://acme.servicebus.windows.net/;SharedAccessKeyName=Root;SharedAccessKey=q8Rz3kLm9Vt2Xw7Yp4Bn6Cd1Ef5Gh0Jk2Lm4No6Pq8R="]),
        raw("azure-sas-token", "Azure shared access signature", Sensitive, &["sig="],
            r"[?&]sv=\d{4}-\d{2}-\d{2}[^\s'\x22<>]*?[?&]sig=([A-Za-z0-9%+/]{30,120}(?:%3D|=){0,2})")
            .pos(&["https://acme.blob.core.windows.net/c?sv=2021-06-08&ss=b&srt=o&sp=r&se=2030-01-01&sig=q8Rz3kLm9Vt2Xw7Yp4Bn6Cd1Ef5Gh0Jk2Lm4No6P%3D"]),
        raw("azure-ad-client-secret", "Microsoft Entra ID (Azure AD) client secret", Sensitive, &["q~"],
            r"(?:^|[^A-Za-z0-9_~.\-])([A-Za-z0-9_~.\-]{3}\dQ~[A-Za-z0-9_~.\-]{31,34})(?:[^A-Za-z0-9_~.\-]|$)").ent(3.0)
            .pos(&["client_secret=Xy78Q~Hg5kLq9Zx7Vb2Nm4Pq9Rt6Yw1Ue5Io3AbC"])
            .neg(&["client_secret=bP88Q~xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"]),
        ctx("azure-devops-pat", "Azure DevOps personal access token", Sensitive, &["azure_devops", "azuredevops", "azure-devops", "ado_pat", "azdo"],
            r"azure[_\-]?devops|ado_pat|azdo", r"[a-z0-9]{52}").ent(3.5)
            .pos(&["AZURE_DEVOPS_PAT=5dnsipzz5fk2z9ri19r0wyojfljooa5lqsaj08xui6d39zzzzg4z"]),
        raw("alibaba-access-key-id", "Alibaba Cloud AccessKey id", Sensitive, &["ltai"],
            r"\b(LTAI[A-Za-z0-9]{12,20})\b").ent(3.0)
            .pos(&["accessKeyId: LTAI5tQ8Rz3kLm9Vt2Xw7Yp4"]),
        ctx("alibaba-secret-key", "Alibaba Cloud AccessKey secret", Sensitive, &["alibaba", "aliyun"], r"alibaba|aliyun", r"[A-Za-z0-9]{30}").ent(3.0)
            .pos(&["alibaba_secret = \"7v40oiowqnjt94zdqsubk7uhudjf6n\""]),
        raw("digitalocean-pat", "DigitalOcean personal access token", Sensitive, &["dop_v1_"], r"\b(dop_v1_[a-f0-9]{64})\b")
            .pos(&["DO_TOKEN=dop_v1_9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b"]),
        raw("digitalocean-access-token", "DigitalOcean OAuth access token", Sensitive, &["doo_v1_"], r"\b(doo_v1_[a-f0-9]{64})\b")
            .pos(&["doo_v1_1a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b"]),
        raw("digitalocean-refresh-token", "DigitalOcean OAuth refresh token", Sensitive, &["dor_v1_"], r"\b(dor_v1_[a-f0-9]{64})\b")
            .pos(&["dor_v1_2a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b"]),
        ctx("heroku-api-key", "Heroku API key", Sensitive, &["heroku"], "heroku",
            r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}")
            .pos(&["HEROKU_API_KEY=caf3f598-bde0-a155-92f4-7f3dba0e6c4f"]),
        raw("heroku-api-key-v2", "Heroku API key (HRKU- format)", Sensitive, &["hrku-"], r"\b(HRKU-[A-Za-z0-9_\-]{60})\b")
            .pos(&["HRKU-AAUQk8zYNEfBSPleWRfuMm01QKFhx3O98b9-gJhRUq7Am62UTnVYdEfumjMs"]),
        ctx("cloudflare-global-api-key", "Cloudflare global API key", Sensitive, &["cloudflare", "cf_api_key", "cf_key"], r"cloudflare|cf_api|cf_key", r"[a-f0-9]{37}")
            .pos(&["CLOUDFLARE_GLOBAL_API_KEY: 674538c7ecac77d064958a04a83d9e9db068c"]),
        ctx("cloudflare-api-token", "Cloudflare API token", Sensitive, &["cloudflare", "cf_api_token", "cf_token"], r"cloudflare|cf_api|cf_token", r"[A-Za-z0-9_\-]{40}").ent(3.5)
            .pos(&["cloudflare_api_token = \"Bu0rrK-lerk6y0Suqo1qSqlDDajOk61wZchCkje4\""]),
        raw("cloudflare-origin-ca-key", "Cloudflare Origin CA key", Sensitive, &["v1.0-"], r"\b(v1\.0-[a-f0-9]{24}-[a-f0-9]{146})\b")
            .pos(&["CLOUDFLARE_ORIGIN_CA: v1.0-aaa334dc886f30631ba0a610-0d98ef66290d7e50aac7c27b5986c99e6f3f1084c881d8ac0eae5de1d1aa0644076ff57022069b3237d19afe60ad045f207ef2b16387ee37b749441b2ae2e9ebe5b4606e846475d4a5"]),
        ctx("fastly-api-token", "Fastly API token", Sensitive, &["fastly"], "fastly", r"[A-Za-z0-9_\-=]{32}").ent(3.0)
            .pos(&["FASTLY_API_TOKEN=oax_ye5__bqqste0ahn_h5gj7nwvo=p1"]),
        raw("flyio-access-token", "Fly.io access / macaroon token", Sensitive, &["fo1_", "fm1a_", "fm1r_", "fm2_"],
            r"\b((?:fo1_[A-Za-z0-9_\-]{43}|fm1[ar]_[A-Za-z0-9+/]{100,}={0,3}|fm2_[A-Za-z0-9+/]{100,}={0,3}))").ent(3.5)
            .pos(&["FLY_API_TOKEN=fo1_t5eSjisQc2WNOoO9ynVrAzQVluP-vIRthKHs67y1y8E"])
            .neg(&["api_key = \"fo1_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"", "value=\"7SWa-Fo1_hsC6oovfBsJFLGPUl2EhkSWPbJhWANwgaJWBDl1vxd9VN\""]),
        ctx("netlify-access-token", "Netlify access token", Sensitive, &["netlify"], "netlify", r"[A-Za-z0-9_\-=]{40,46}").ent(3.0)
            .pos(&["NETLIFY_AUTH_TOKEN=jshfuh0gm_geezncgtm1z7lbcl5q7jacpkmvbigd"]),
        raw("yandex-api-key", "Yandex Cloud API key", Sensitive, &["aqvn"], r"\b(AQVN[A-Za-z0-9_\-]{35,38})\b")
            .pos(&["AQVN5xk9iRnp2O8OHwi-htYSOAPYYfA95j8s-0J"]),
        ctx("yandex-aws-access-token", "Yandex Cloud static access key", Sensitive, &["yandex"], "yandex", r"YC[A-Za-z0-9_\-]{38}")
            .pos(&["yandex_key = YCqMgdWvq0W644ZWrRnBwRmIfBnrfeYB4NnQ24mU"]),
        raw("yandex-access-token", "Yandex Cloud IAM token", Sensitive, &["t1."],
            r"\b(t1\.[A-Z0-9a-z_\-]+={0,2}\.[A-Z0-9a-z_\-]{86}={0,2})")
            .pos(&["t1.D=.CGm7l8D1wSAX9X92mIWwDqUWfTO7-ZDBeWDFvDa1iJpU8iA88lHnFnhvIYrZCQuRnsmQ1RcHCLdLAPEu9m8RVZ"]),
        raw("openshift-user-token", "OpenShift user token", Sensitive, &["sha256~"], r"\b(sha256~[A-Za-z0-9_\-]{43})(?:[^A-Za-z0-9_\-]|$)").ent(3.5)
            .pos(&["oc login --token=sha256~bnM4_JUOrwDL44DlWWSvA2b3cH_Ah8N6FAOCE27Rl_9"])
            .neg(&["--set token=\"sha256~XXXXXXXXXX_PUT_YOUR_TOKEN_HERE_XXXXXXXXXXXX\""]),
        raw("scalingo-api-token", "Scalingo API token", Sensitive, &["tk-us-"], r"\b(tk-us-[A-Za-z0-9_\-]{48})\b")
            .pos(&["tk-us-60eglub3lwnescg9qmsc33lc11sk5z6zt9v6e-unl63oox5t"]),
        raw("planetscale-password", "PlanetScale database password", Classified, &["pscale_pw_"], r"\b(pscale_pw_[A-Za-z0-9_\-=.]{32,64})")
            .pos(&["pscale_pw_p8gwg6n4=uilumvucnxv=7yw=lt9=yw="]),
        raw("planetscale-api-token", "PlanetScale service token", Sensitive, &["pscale_tkn_"], r"\b(pscale_tkn_[A-Za-z0-9_\-=.]{32,64})")
            .pos(&["pscale_tkn_w36_sadw3oo5xtdel940hokg5b_jo8kv"]),
        raw("planetscale-oauth-token", "PlanetScale OAuth token", Sensitive, &["pscale_oauth_"], r"\b(pscale_oauth_[A-Za-z0-9_\-=.]{32,64})")
            .pos(&["pscale_oauth_-lh6dxt7-7br2jxo60oc72gwp=395_mf"]),
        raw("databricks-api-token", "Databricks personal access token", Sensitive, &["dapi"], r"\b(dapi[a-f0-9]{32}(?:-\d)?)\b").ent(3.0)
            .pos(&["DATABRICKS_TOKEN=dapi416a8b10de9c53f61961cd930b924ff7"])
            .neg(&["DATABRICKS_TOKEN=dapi123456789012345678a9bc01234defg5"]),
        raw("hashicorp-tf-api-token", "Terraform Cloud / Enterprise API token", Sensitive, &["atlasv1"],
            r"\b([A-Za-z0-9]{14}\.atlasv1\.[A-Za-z0-9_=\-]{60,70})")
            .pos(&["c77de8f058b242.atlasv1.u256bykc5293ctzibcip4ai4_o-yxr=mod32slj=_dvqzrjwbn04_-tip0y_"]),
        raw("hashicorp-tf-password", "Password literal in a Terraform / HCL file", Sensitive, &["password"],
            r#"(?i:[\w\-]*password)\s*=\s*"([^"$\s]{6,})""#).path(r"(?i)\.(?:tf|tfvars|hcl)$").ent(2.5)
            .pos(&[]).neg(&[]),
        raw("vault-service-token", "HashiCorp Vault service token", Classified, &["hvs.", "vault"],
            r"(?:\b(hvs\.[A-Za-z0-9_\-]{90,120})|(?i:vault)[\w.\-]{0,30}[\x22'`]?\s*[:=]?\s*[\x22'`]?(s\.(?:[A-Za-z0-9]{24}|[A-Za-z0-9_\-]{90,120}))\b)").ent(3.5)
            .pos(&["VAULT_TOKEN=s.8Ui8cEyaTlZ5kIJxDwvDIBpj", "hvs.CAESIP2jTxc9S2K7Z6CtcFWQv7-044m_oSsxnPE1H3nF89l3GiYKHGh2cy5sQmlIZVNyTWJNcDRsYWJpQjlhYjVlb1cQh6PL8wEYAg"])
            .neg(&["s.xxxxxxxxxxxxxxxxxxxxxxxx", "s.AcceptanceTimeoutSeconds "]),
        // The keyword is the token's own prefix: `token` followed by an assignment is common in
        // configs, `s.` (the rest of the pattern's rarest literal) is not.
        raw("vault-service-token-context", "HashiCorp Vault legacy token in a token assignment", Sensitive, &["s."],
            r"(?i:token)[\x22'`]?\s*[:=]\s*[\x22'`]?(s\.[A-Za-z0-9]{24})\b").val(Mixed).ent(3.5).win(64, 40)
            .pos(&["token: s.ZC9Ecf4M5g9o34Q6RkzGsj0z"]),
        raw("vault-batch-token", "HashiCorp Vault batch token", Sensitive, &["hvb."], r"\b(hvb\.[A-Za-z0-9_\-]{138,})")
            .pos(&["hvb.joah0-14rf5r1n38cfz8decqlm7gbk7j0ocrs9ofji96vbbho2bjubyogxna884qmfkoea5sokt6s7idaws6uuk2nfktpomng9jax-rlx69d-o4ake5u5t-0f1rlxq1ot4agxk84ny"]),
        raw("vault-unseal-key", "HashiCorp Vault unseal key as `vault operator init` prints it", Classified, &["unseal key"],
            r"(?i:unseal key)(?: [0-9]{1,2})?:[ \t]*([A-Za-z0-9+/]{43}=|[a-f0-9]{64})(?:[^A-Za-z0-9+/=]|$)").win(0, 120)
            .pos(&["Unseal Key 1: hT61qtc4xatws8phP9nhFyJfm5di4PzJ59FHz5r1pY4="]),
        raw("pulumi-api-token", "Pulumi access token", Sensitive, &["pul-"], r"\b(pul-[a-f0-9]{40})\b")
            .pos(&["PULUMI_ACCESS_TOKEN=pul-b3e0d12f5d9b696648d257cc4490d9336a16171c"]),
        raw("doppler-api-token", "Doppler token", Sensitive, &["dp.pt.", "dp.st.", "dp.sa.", "dp.ct.", "dp.scim.", "dp.audit."],
            r"\b(dp\.(?:pt|st(?:\.[a-z0-9_\-]{1,40})?|sa|ct|scim|audit)\.[A-Za-z0-9]{40,44})\b")
            .pos(&["DOPPLER_TOKEN=dp.pt.gxkj6h56qxufoj4tvlb5ss7ndllxpumd94ohycleck8", "dp.audit.ESQedUStPKR0CsTy4Qwb8DwkNhFdnXsiVpzz63FfkCz",
                   "DOPPLER_TOKEN=dp.st.prd.Jr4i0B3JrTAwR4y9ojfljoQoaF1LlqsajAIxNKu8iS2"]),
        raw("kubernetes-secret-yaml", "Kubernetes Secret manifest with data values", Sensitive, &["kind:"],
            r"(?s)(?i:kind:\s*[\x22']?secret[\x22']?)[ \t]*\r?\n(?:.*?\n)?[ \t]*(?:data|stringData):[ \t]*\n(?:[ \t]*#[^\n]*\n)*[ \t]+[\w.\-]+:[ \t]*(?:\|[\-+]?[ \t]*\n[ \t]+)?[\x22']?([A-Za-z0-9+/]{4,}={0,2})[\x22']?|(?s)\n?[ \t]*(?:data|stringData):[ \t]*\n(?:[ \t]*#[^\n]*\n)*[ \t]+[\w.\-]+:[ \t]*(?:\|[\-+]?[ \t]*\n[ \t]+)?[\x22']?([A-Za-z0-9+/]{4,}={0,2})[\x22']?[ \t]*\n.*?(?i:kind:\s*[\x22']?secret[\x22']?)(?:\s|$)")
            .path(r"(?i)\.ya?ml$").win(1024, 1024),
    ]
}
