//! SaaS, mail, SMS and observability: SendGrid, Mailgun, Mailchimp, Sendinblue/Brevo, Postmark,
//! Twilio, MessageBird, Datadog, New Relic, Sentry, Grafana, Dynatrace, Sumo Logic, LaunchDarkly,
//! Algolia, Asana, Airtable, Adobe, Adafruit, Atlassian, Notion, Linear, Okta, 1Password,
//! Postman, and more named by the providers' docs.

use super::{ctx, raw, Spec};
use crate::Level::{Classified, Sensitive};

pub(crate) fn rules() -> Vec<Spec> {
    vec![
        raw("sendgrid-api-token", "SendGrid API key", Sensitive, &["sg."], r"\b(SG\.[A-Za-z0-9=_\-.]{66})(?:[^A-Za-z0-9=_\-.]|$)").ent(3.5)
            .pos(&["SENDGRID_API_KEY=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"]),
        raw("mailgun-private-api-token", "Mailgun private API key", Sensitive, &["key-"], r"\b(key-[a-f0-9]{32})\b")
            .pos(&["MAILGUN_API_KEY=key-bf1335662377aff8c7b209018901ea4e"]),
        raw("mailgun-pub-key", "Mailgun public validation key", Sensitive, &["pubkey-"], r"\b(pubkey-[a-f0-9]{32})\b")
            .pos(&["pubkey-cbc4bd4ad1ae98215584810a0021565b"]),
        ctx("mailgun-signing-key", "Mailgun webhook signing key", Sensitive, &["mailgun"], "mailgun", r"[a-h0-9]{32}-[a-h0-9]{8}-[a-h0-9]{8}")
            .pos(&["MAILGUN_SIGNING_KEY=8b70521b1499a07c269dcbcd6393c6c7-00001111-22223333"]),
        ctx("mailchimp-api-key", "Mailchimp API key", Sensitive, &["mailchimp"], "mailchimp", r"[a-f0-9]{32}-us\d{1,2}")
            .pos(&["MAILCHIMP_API_KEY=340f905acea8395441c4c533664f967c-us20"])
            .neg(&["MailchimpSDK.initialize(token: 3012a5754bbd716926f99c028f7ea428-us18)"]),
        raw("sendinblue-api-token", "Brevo (Sendinblue) API / SMTP key", Sensitive, &["xkeysib-", "xsmtpsib-"], r"\b(x(?:keysib|smtpsib)-[a-f0-9]{64}-[A-Za-z0-9]{16})\b")
            .pos(&["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"]),
        ctx("postmark-server-token", "Postmark server / account token", Sensitive, &["postmark"], "postmark", r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
            .pos(&["POSTMARK_SERVER_TOKEN=3c9f1d2e-8a7b-4c6d-9e0f-1a2b3c4d5e6f"]),
        ctx("mandrill-api-key", "Mandrill API key", Sensitive, &["mandrill"], "mandrill", r"[A-Za-z0-9_\-]{22}").ent(3.5)
            .pos(&["MANDRILL_API_KEY=q8Rz3kLm9Vt2Xw7Yp4Bn6C"]),
        ctx("sparkpost-api-key", "SparkPost API key", Sensitive, &["sparkpost"], "sparkpost", r"[a-f0-9]{40}")
            .pos(&["SPARKPOST_API_KEY=3f9a1c7e2b4d6f8a0c1e3b5d7f9a2c4e6b8d0f1a"]),
        ctx("mailjet-api-key", "Mailjet API key / secret", Sensitive, &["mailjet"], "mailjet", r"[a-f0-9]{32}")
            .pos(&["MAILJET_API_SECRET=3f9a1c7e2b4d6f8a0c1e3b5d7f9a2c4e"]),
        raw("twilio-api-key", "Twilio API key (SK...)", Sensitive, &["sk"], r"\b(SK[0-9a-fA-F]{32})\b").ent(3.0)
            .pos(&["TWILIO_API_KEY=SKb7e3cda964e52df7f6427ff86b251446"]),
        ctx("twilio-auth-token", "Twilio auth token", Sensitive, &["twilio"], "twilio", r"[a-f0-9]{32}")
            .pos(&["TWILIO_AUTH_TOKEN=3f9a1c7e2b4d6f8a0c1e3b5d7f9a2c4e"]),
        ctx("messagebird-api-token", "MessageBird API key", Sensitive, &["messagebird", "message-bird", "message_bird"], r"message[_\-]?bird", r"[A-Za-z0-9]{25}").ent(3.0)
            .pos(&["MESSAGEBIRD_API_KEY=347bgf54cn1tiavf99xnfkqsg"]),
        ctx("messagebird-client-id", "MessageBird client id", Sensitive, &["messagebird", "message-bird", "message_bird"], r"message[_\-]?bird",
            r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}")
            .pos(&["MessageBirdClientId=12345678-ABCD-ABCD-ABCD-1234567890AB"]),
        ctx("vonage-api-secret", "Vonage / Nexmo API secret", Sensitive, &["nexmo", "vonage"], r"nexmo|vonage", r"[A-Za-z0-9]{16}").ent(3.0)
            .pos(&["NEXMO_API_SECRET=q8Rz3kLm9Vt2Xw7Y"]),
        ctx("datadog-access-token", "Datadog API / application key", Sensitive, &["datadog", "dd_api_key", "dd_app_key", "dd_application_key"],
            r"datadog|dd_api_key|dd_app(?:lication)?_key", r"[a-z0-9]{40}|[a-f0-9]{32}").ent(3.0)
            .pos(&["DD_API_KEY=3f9a1c7e2b4d6f8a0c1e3b5d7f9a2c4e"]),
        raw("new-relic-admin-api-key", "New Relic admin API key", Sensitive, &["nraa-"], r"\b(NRAA-[a-f0-9]{27})\b")
            .pos(&["admin_key: NRAA-b86666d96b0c08fd4bdaed5ac06"]),
        raw("adafruit-io-key", "Adafruit IO key", Sensitive, &["aio_"], r"\b(aio_[A-Za-z0-9]{28})\b").ent(3.5)
            .pos(&["#define IO_KEY \"aio_u8jzPde0IgxLd6GncfBAepfJBd0K\""])
            .neg(&["aio_read_write_completion_queue_size"]),
        raw("dependency-track-api-key", "Dependency-Track API key", Sensitive, &["odt_"], r"\b(odt_[A-Za-z0-9]{32})\b").ent(3.5)
            .pos(&["X-Api-Key: odt_AkWvj7FAc9QeWJKY40uvSwMFLZDe1f8r"]),
        raw("teamcity-access-token", "TeamCity access token", Sensitive, &["eyj0exaioiaivenwmij9"],
            r"\b(eyJ0eXAiOiAiVENWMiJ9\.[A-Za-z0-9_\-]{36}\.[A-Za-z0-9_\-]{48})(?:[^A-Za-z0-9_\-]|$)").win(0, 140)
            .pos(&["TEAMCITY_TOKEN=eyJ0eXAiOiAiVENWMiJ9.Zk1jUXo4dGJTWGZ1OVEyaHd5a0xtM1JwYjRx.YjJmM2M5ZTItNGQxYS00ZTdiLWE1YzAtMTkyZjNkOGU2YTdi"]),
        raw("salesforce-access-token", "Salesforce access token (org id, '!', session) near a Salesforce name", Sensitive,
            &["salesforce", "sfdc", "force.com"],
            r"\b(00[A-Za-z0-9]{13}![A-Za-z0-9_.]{96})(?:[^A-Za-z0-9_.]|$)").ent(3.5).win(200, 300)
            .pos(&["SFDC_ACCESS_TOKEN=00DueQpBenQtYh5!tUsGr7CmY.uCu3ZR1zTOlUcR64cXQLioDnkHIfxIq2HZt_PlJhx2jIclHkCiHp6bR1IqfEouHgxzNNAL5wIScGebcy8F5n3_"]),
        raw("new-relic-user-api-key", "New Relic user API key", Sensitive, &["nrak-"], r"\b(NRAK-[A-Za-z0-9]{27})\b")
            .pos(&["NRAK-nw2o3w5d6807sid51ztxi12gtzw"]),
        raw("new-relic-browser-api-token", "New Relic browser API token", Sensitive, &["nrjs-"], r"\b(NRJS-[a-f0-9]{19})\b")
            .pos(&["NRJS-48e609337520baa67d3"]),
        raw("new-relic-insert-key", "New Relic insights insert key", Sensitive, &["nrii-"], r"\b(NRII-[A-Za-z0-9\-]{32})(?:[^A-Za-z0-9\-]|$)")
            .pos(&["NRII-b0eea0941982fefd9b414a3b2cf813d0"]),
        raw("new-relic-license-key", "New Relic ingest license key", Sensitive, &["nral"], r"\b((?:eu01xx[a-fA-F0-9]{30}|[a-fA-F0-9]{36})NRAL)\b")
            .pos(&["license_key: 3f9a1c7e2b4d6f8a0c1e3b5d7f9a2c4e6b8dNRAL", "NEW_RELIC_LICENSE_KEY=eu01xx3f9a1c7e2b4d6f8a0c1e3b5d7fFFFFNRAL"]),
        raw("new-relic-insights-query-key", "New Relic insights query key", Sensitive, &["nriq-"], r"\b(NRIQ-[A-Za-z0-9_\-]{27,32})(?:[^A-Za-z0-9_\-]|$)").ent(3.5)
            .pos(&["query_key: NRIQ-Xq3Lm9Vt2Xw7Yp4Bn6Cd1Ef5Gh0Jk2"]),
        raw("new-relic-mobile-app-token", "New Relic mobile application token", Sensitive, &["-nrma"], r"\b((?:AA|eu01xx)[a-f0-9]{40}-NRMA)\b").win(50, 8)
            .pos(&["NEW_RELIC_APP_TOKEN=AA3f9a1c7e2b4d6f8a0c1e3b5d7f9a2c4e6b8d0f1a-NRMA"]),
        raw("zoho-oauth-token", "Zoho OAuth access or refresh token", Sensitive, &["1000."], r"\b(1000\.[a-f0-9]{32}\.[a-f0-9]{32})\b")
            .pos(&["ZOHO_REFRESH_TOKEN=1000.3f9a1c7e2b4d6f8a0c1e3b5d7f9a2c4e.6b8d0f1a2c3e4b5d6f7a8c9e0b1d2f3a"])
            .neg(&["total = 1000.50"]),
        ctx("new-relic-user-api-id", "New Relic account / user API id", Sensitive, &["new-relic", "newrelic", "new_relic"], r"new[_\-]?relic", r"[A-Za-z0-9]{64}").ent(3.0)
            .pos(&["NEWRELIC_ACCOUNT_ID=8td34ra515puq6tfg290mvviciixuok3gnbnlzztdwphlgc4rgsgg4af1j21s9xl"]),
        raw("sentry-user-token", "Sentry user auth token", Sensitive, &["sntryu_"], r"\b(sntryu_[a-f0-9]{64})\b")
            .pos(&["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"])
            .neg(&["sntryu_9232615a307416c06760ec0a622dd2c2fd61248a12ce91ef7a9e1fd1cc5700d"]),
        raw("sentry-org-token", "Sentry organization auth token", Sensitive, &["sntrys_"], r"\b(sntrys_eyJ[A-Za-z0-9+/]{30,}={0,2}_[A-Za-z0-9+/]{43})(?:[^A-Za-z0-9+/]|$)")
            .pos(&["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"]),
        ctx("sentry-access-token", "Sentry legacy auth token", Sensitive, &["sentry"], "sentry", r"[a-f0-9]{64}")
            .pos(&["SENTRY_AUTH_TOKEN=ba887a21f66ea15bec89baa5daa3e745ef5a490dcfafc5a1c046c1dc7a55c5c4"]),
        raw("sentry-dsn", "Sentry DSN with key", Sensitive, &["sentry.io", "ingest."], r"https://([a-f0-9]{32})@[a-z0-9.\-]*(?:sentry\.io|ingest\.[a-z.]+)/\d+")
            .pos(&["SENTRY_DSN=https://3f9a1c7e2b4d6f8a0c1e3b5d7f9a2c4e@o123456.ingest.sentry.io/1234567"]),
        raw("grafana-api-key", "Grafana API key", Sensitive, &["eyjrijoi"], r"\b(eyJrIjoi[A-Za-z0-9]{70,}={0,3})")
            .pos(&["eyJrIjoi18p0c1616iroodom0zoymcf64i7nwprrv1shluq1mmds7v2wflai0vgjs4mzdmknu4an2b"]),
        raw("grafana-cloud-api-token", "Grafana Cloud access policy token", Sensitive, &["glc_"], r"\b(glc_[A-Za-z0-9+/]{32,}={0,3})").ent(3.0)
            .pos(&["glc_eadu9avuj4q14eilpjhv13fxq0wkksxm"])
            .neg(&["API_KEY=\"glc_111111111111111111111111111111111111111111=\"", "static void GLC_CreateLightmapTextureArray(void);"]),
        raw("grafana-service-account-token", "Grafana service account token", Sensitive, &["glsa_"], r"\b(glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8})\b").ent(3.0)
            .pos(&["glsa_rj6d93ukh693qnyo62mqmst67yb1iuts_6a26575b"]).neg(&["glsa_XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX_AAAAAAAA"]),
        raw("dynatrace-api-token", "Dynatrace API token", Sensitive, &["dt0c01."], r"\b(dt0c01\.[A-Za-z0-9]{24}\.[A-Za-z0-9]{64})\b")
            .pos(&["dt0c01.m4raq6kseqkvwajnx4s1y7jl.bbtnlj6kcum9nm2q5spwtiqm9bjxmv41ayiqkvsbsoh1wwa7t38zvq828a6ycq8v"]),
        ctx("sumologic-access-id", "Sumo Logic access id", Sensitive, &["sumo"], "sumo", r"su[A-Za-z0-9]{12}").ent(3.0)
            .pos(&["SUMO_ACCESS_ID=suwNA7X4COUhqy"]).neg(&["sumOfExposures = sumOfExposures;"]),
        ctx("sumologic-access-token", "Sumo Logic access key", Sensitive, &["sumo"], "sumo", r"[A-Za-z0-9]{64}").ent(3.0)
            .pos(&["SUMO_ACCESS_KEY=pbwckkuj6aga0wb4ydsjh0lp326mr53x5wsrbddei9zi1n1hljutferiftmv28qs"]),
        ctx("launchdarkly-access-token", "LaunchDarkly access token", Sensitive, &["launchdarkly"], "launchdarkly", r"[A-Za-z0-9=_\-]{40}").ent(3.0)
            .pos(&["LAUNCHDARKLY_TOKEN=q1aqp_o1kuxl8v2eiyi4e7p=a8p2a8-j6u-c-ff9"]),
        ctx("algolia-api-key", "Algolia API key", Sensitive, &["algolia"], "algolia", r"[A-Za-z0-9]{32}").ent(3.0)
            .pos(&["ALGOLIA_API_KEY=efde52cf2727a7029326d2f4498e728e"]),
        ctx("asana-client-id", "Asana client id", Sensitive, &["asana"], "asana", r"[0-9]{16}").ent(2.5)
            .pos(&["ASANA_CLIENT_ID=1844845740450978"]),
        ctx("asana-client-secret", "Asana client secret / PAT", Sensitive, &["asana"], "asana", r"[A-Za-z0-9]{32}|[0-9]/[0-9]{16}:[A-Za-z0-9]{32}").ent(3.0)
            .pos(&["ASANA_SECRET=hgj13fey8miw98e0f1rsfn5urz0om2yv"]),
        ctx("airtable-api-key", "Airtable legacy API key", Sensitive, &["airtable"], "airtable", r"[A-Za-z0-9]{17}").ent(3.0)
            .pos(&["AIRTABLE_API_KEY=8qu2bso74zhwdao6q"]),
        raw("airtable-personal-access-token", "Airtable personal access token", Sensitive, &["pat"], r"\b(pat[A-Za-z0-9]{14}\.[a-f0-9]{64})\b")
            .pos(&["pats2l7bu3z9cp48l.23f936877be4d64d1152f814d93cbd01077dbae1a59b0c4e42482d83dbb022ce"]),
        ctx("adobe-client-id", "Adobe client id", Sensitive, &["adobe"], "adobe", r"[a-f0-9]{32}")
            .pos(&["ADOBE_CLIENT_ID=24e222ddfe57ede657a3c668adb1e1ca"]),
        raw("adobe-client-secret", "Adobe client secret", Sensitive, &["p8e-"], r"\b(p8e-[A-Za-z0-9]{32})\b").ent(3.0)
            .pos(&["ADOBE_CLIENT_SECRET=p8e-q8Rz3kLm9Vt2Xw7Yp4Bn6Cd1Ef5Gh0Jk"]),
        ctx("adafruit-api-key", "Adafruit IO key", Sensitive, &["adafruit"], "adafruit", r"[A-Za-z0-9_\-]{32}").ent(3.0)
            .pos(&["ADAFRUIT_IO_KEY=cudi155_vky7b2e-m8ytn750_2-izyyl"]),
        raw("age-secret-key", "age encryption secret key", Classified, &["age-secret-key-1"], r"\b(AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58})\b")
            .pos(&["AGE-SECRET-KEY-138HWLLEP2QLUENF6KC584Q54E8VQJSHYECYHM3R3XRJF03M5VHMPED9R6U"]),
        raw("authress-service-client-access-key", "Authress service client access key", Sensitive, &["sc_", "ext_", "scauth_", "authress_"],
            r"\b((?:sc|ext|scauth|authress)_[A-Za-z0-9]{5,30}\.[A-Za-z0-9]{4,6}\.acc[_\-][A-Za-z0-9\-]{10,32}\.[A-Za-z0-9+/_=\-]{30,120})")
            .anchored()
            .pos(&["sc_wwqx8cq7li.gqg4.acc_2h3w9d1dio.3ud_hzinoab76d56a1mfv2dhzjvlpuk6vs8uu108"]),
        ctx("beamer-api-token", "Beamer API key", Sensitive, &["beamer"], "beamer", r"b_[A-Za-z0-9=_\-]{44}")
            .pos(&["BEAMER_API_KEY=b_ys8wwv3t0apv_6b41jymwmp8pd15pgqdxqrlfrkdq09w"]),
        raw("clickhouse-cloud-api-secret-key", "ClickHouse Cloud API secret", Sensitive, &["4b1d"], r"\b(4b1d[A-Za-z0-9]{38})\b")
            .pos(&["4b1dbRdW3rOcB7xLthrM4BTBGK1qPLkHigpN1bXD6z"]),
        ctx("confluent-access-token", "Confluent Cloud API key", Sensitive, &["confluent"], "confluent", r"[A-Za-z0-9]{16}").ent(3.0)
            .pos(&["CONFLUENT_API_KEY=cgoxi4443jgjkokp"]),
        ctx("confluent-secret-key", "Confluent Cloud API secret", Sensitive, &["confluent"], "confluent", r"[A-Za-z0-9+/]{64}").ent(3.0)
            .pos(&["CONFLUENT_SECRET=fqh5y87g677e546qcgj0y6df4wwyilncl2r3emeqzw1qik159bgeftoou8v9ldmx"]),
        ctx("contentful-delivery-api-token", "Contentful delivery API token", Sensitive, &["contentful"], "contentful", r"[A-Za-z0-9=_\-]{43}").ent(3.0)
            .pos(&["CONTENTFUL_TOKEN=w7swtn1wbdp42c1isflcs8mn04mzsmbbrk0h7syt8zd"]),
        raw("defined-networking-api-token", "Defined Networking API token", Sensitive, &["dnkey-"], r"\b(dnkey-[A-Za-z0-9=_\-]{26}-[A-Za-z0-9=_\-]{52})")
            .pos(&["dnkey-dp9rt_u8zyvri6b4kxflk4ye3p-3r768xlopvpjkx8yys3mcre3w-v97ar2mdpd6p5udz4iuwjjg=4x"]),
        ctx("dropbox-api-token", "Dropbox app key / secret", Sensitive, &["dropbox"], "dropbox", r"[A-Za-z0-9]{15}").ent(3.0)
            .pos(&["DROPBOX_APP_KEY=6wj29p5h8zaiztj"]),
        raw("dropbox-short-lived-api-token", "Dropbox short-lived access token", Sensitive, &["sl."], r"\b(sl\.[A-Za-z0-9\-=_]{135,})").ent(3.5)
            .pos(&["dropbox_api_token = \"sl.f845av29sgyido-zmjm=18k22_fw-f2m5lisy1pdw1stqt6ka_bavbx5_25ad3hw12rcymyj2-22m444ux5dtlif7tzsvg=j9rj--pv5op0swe4s5tzdxrid28gz04kfh0f5z7o\""]),
        ctx("dropbox-long-lived-api-token", "Dropbox long-lived access token", Sensitive, &["dropbox"], "dropbox", r"[A-Za-z0-9]{11}AAAAAAAAAA[A-Za-z0-9\-_=]{43}")
            .pos(&["dropbox_api_token = \"w1vc68eknw1AAAAAAAAAAd4wqnacufn=55jt4yrrl_juhf1jhvaogk1ppfgtxi4s\""]),
        ctx("etsy-access-token", "Etsy API key", Sensitive, &["etsy"], "etsy", r"[A-Za-z0-9]{24}").ent(3.0)
            .pos(&["ETSY_API_KEY=5277jws6k12pxxfxndcxfow8"]).neg(&["SetSysctl = \"epl1wamz3905h9m95291p872\""]),
        ctx("flickr-access-token", "Flickr API key", Sensitive, &["flickr"], "flickr", r"[A-Za-z0-9]{32}").ent(3.0)
            .pos(&["FLICKR_API_KEY=gt276se48co58slb38cuenspleoq8kd5"]),
        raw("frameio-api-token", "Frame.io API token", Sensitive, &["fio-u-"], r"\b(fio-u-[A-Za-z0-9\-_=]{64})")
            .pos(&["fio-u-4kzqobf_w4jobcwzv41_3t0m50w53nilfmr7yxi67kjqm1rcne022s5mlp8kl=w6"]),
        ctx("freshbooks-access-token", "FreshBooks access token", Sensitive, &["freshbooks"], "freshbooks", r"[A-Za-z0-9]{64}").ent(3.0)
            .pos(&["FRESHBOOKS_TOKEN=g68y5z8d8tpcgnvf43czaa37i3e51tsh4wbybesg08h6beomufeghfe9tq2pwg31"]),
        raw("freemius-secret-key", "Freemius secret key in PHP config", Sensitive, &["secret_key"],
            r#"(?i:[\x22']?secret_key[\x22']?)\s*=>\s*[\x22'](sk_[\S]{29})[\x22']"#).path(r"(?i)\.php$"),
        ctx("hubspot-api-key", "HubSpot API key", Sensitive, &["hubspot"], "hubspot", r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}")
            .pos(&["HUBSPOT_API_KEY=8e6d5d76-a80e-8a03-35f6-61b4ec03fe81"]),
        raw("hubspot-private-app-token", "HubSpot private app token", Sensitive, &["pat-na1-", "pat-eu1-"], r"\b(pat-(?:na|eu)1-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\b")
            .pos(&["pat-na1-3c9f1d2e-8a7b-4c6d-9e0f-1a2b3c4d5e6f"]),
        raw("infracost-api-token", "Infracost API token", Sensitive, &["ico-"], r"\b(ico-[A-Za-z0-9]{32})\b")
            .pos(&["ico-d8NoJP677dmYDLmNobwKag9PTGqvwd0C"]),
        ctx("intercom-api-key", "Intercom access token", Sensitive, &["intercom"], "intercom", r"[A-Za-z0-9=_\-]{60}").ent(3.0)
            .pos(&["INTERCOM_TOKEN=msvs=u-gawz8vglbc6kx08n8heya3f60b_tr4v_23_4xjyp7j4=swg74m3np"]),
        raw("intra42-client-secret", "42 Intra client secret", Sensitive, &["s-s4t2"], r"\b(s-s4t2(?:ud|af)-[a-f0-9]{64})\b")
            .pos(&["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"]),
        raw("linear-api-key", "Linear API key", Sensitive, &["lin_api_"], r"\b(lin_api_[A-Za-z0-9]{40})\b")
            .pos(&["lin_api_3udq4yzdtz039a1f7pfbzx0xb2nxbg8n28kjy23v"]),
        ctx("linear-client-secret", "Linear OAuth client secret", Sensitive, &["linear"], "linear", r"[a-f0-9]{32}")
            .pos(&["LINEAR_CLIENT_SECRET=11a4fae52c1d74ee3a737d493d141660"]),
        ctx("looker-client-id", "Looker API client id", Sensitive, &["looker"], "looker", r"[A-Za-z0-9]{20}").ent(3.0)
            .pos(&["LOOKER_CLIENT_ID=eovdmen82zda4vyhcgs4"]),
        ctx("looker-client-secret", "Looker API client secret", Sensitive, &["looker"], "looker", r"[A-Za-z0-9]{24}").ent(3.0)
            .pos(&["LOOKER_CLIENT_SECRET=te963078060ds2pevxciw8y2"]),
        raw("mapbox-api-token", "Mapbox access token", Sensitive, &["pk.", "sk."], r"\b([ps]k\.[A-Za-z0-9]{60}\.[A-Za-z0-9_\-]{22})\b")
            .anchored()
            .pos(&["pk.gfyahkxxqwmi6y248a1h72r5efu1z5dad3jh12s1g7cne3n48cf9zxyr5y5k.e5iijafdbknn0lkyp379x9"]),
        raw("maxmind-license-key", "MaxMind license key", Sensitive, &["_mmk"], r"\b([A-Za-z0-9]{6}_[A-Za-z0-9]{29}_mmk)\b")
            .pos(&["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"]),
        ctx("cisco-meraki-api-key", "Cisco Meraki API key", Sensitive, &["meraki"], "meraki", r"[0-9a-f]{40}")
            .pos(&["MERAKI_API_KEY=6183a3f73aa41919266bff460c449eb5145de1b7"]).neg(&["meraki-api-key: acdeFf05b1a6d4c890237bf08c5e6e8d2b4d0f2e"]),
        raw("notion-api-token", "Notion integration token", Sensitive, &["ntn_"], r"\b(ntn_[0-9]{11}[A-Za-z0-9]{35})\b")
            .pos(&["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"]),
        ctx("notion-secret-legacy", "Notion legacy integration secret", Sensitive, &["notion"], "notion", r"secret_[A-Za-z0-9]{43}")
            .pos(&["NOTION_TOKEN=secret_nwIp3SfD67jIKeaVSTQvvpQZpPTejqZHKpKENg5zfjO"]),
        ctx("nytimes-access-token", "New York Times API key", Sensitive, &["nytimes", "new-york-times", "newyorktimes"], r"nytimes|new[_\-]?york[_\-]?times", r"[A-Za-z0-9=_\-]{32}").ent(3.0)
            .pos(&["NYTIMES_API_KEY=ahupvzienve2bxkqepn3py5sy5938nm0"]),
        ctx("okta-access-token", "Okta API token", Sensitive, &["okta"], "okta", r"00[A-Za-z0-9=_\-]{40}").ent(3.0)
            .pos(&["OKTA_API_TOKEN=003eB7G_Grbpm5t0j2KZgzaxbeNq7kxQU06b_-ia-s"]),
        raw("1password-secret-key", "1Password account secret key", Classified, &["a3-"],
            r"\b(A3-[A-Z0-9]{6}-(?:[A-Z0-9]{11}|[A-Z0-9]{6}-[A-Z0-9]{5})-[A-Z0-9]{5}-[A-Z0-9]{5}-[A-Z0-9]{5})\b")
            .pos(&["A3-ASWWYB-798JRY-LJVD4-23DC2-86TVM-H43EB", "A3-ASWWYB-798JRYLJVD4-23DC2-86TVM-H43EB"]),
        raw("1password-service-account-token", "1Password service account token", Classified, &["ops_eyj"], r"\b(ops_eyJ[A-Za-z0-9+/]{250,}={0,3})")
            .pos(&["OP_SERVICE_ACCOUNT_TOKEN=ops_eyJzaWduSW5BZGRyZXNzIjoiemFjaC1hbmQtbGVhbm5lLjFwYXNzd29yZC5jb20iLCJ1c2VyQXV0aCI6eyJtZXRob2QiOiJTUlBnLTQwOTYiLCJhbGciOiJQQkVLMmctSFMyNTYiLCJpdGVyYXRpb25zIjo2NTAwMDAsInNhbHQiOiJlYUZRQmNVemJyTHhnM2d4bHFQLVVBIn0sImVtYWlsIjoiMm9iNGRpeDdiNTdrYUAxcGFzc3dvcmRzZXJ2aWNlYWNjb3VudHMuY29tIn0"])
            .neg(&["fn::secret: ops_eyJzaWduSW5B..[Redacted]"]),
        raw("postman-api-token", "Postman API key", Sensitive, &["pmak-"], r"\b(PMAK-[a-f0-9]{24}-[a-f0-9]{34})\b")
            .pos(&["PMAK-ddde7574db679e76a9deba37-7662b03e93b7dd9c01ad7c5769c8626eda"]),
        raw("prefect-api-token", "Prefect API key", Sensitive, &["pnu_"], r"\b(pnu_[A-Za-z0-9]{36})\b").ent(3.0)
            .pos(&["pnu_amyhlarzqlbdk14z4dwrqpligzwodssxpdmn"]).neg(&["PREFECT_API_KEY = \"pnu_XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX\""]),
        ctx("rapidapi-access-token", "RapidAPI key", Sensitive, &["rapidapi"], "rapidapi", r"[A-Za-z0-9_\-]{50}").ent(3.0)
            .pos(&["RAPIDAPI_KEY=tu4dqqkhuewkt19fomwwr8vqhuym47nss1f41-ivlou6he1556"]),
        raw("readme-api-token", "ReadMe API key", Sensitive, &["rdme_"], r"\b(rdme_[a-z0-9]{70})\b").ent(3.0)
            .pos(&["rdme_pi3w0ycjlooja24xk6nwh3kfb68coe4sychowi428vyv50v2coba6s6xaj8fn2ti8kmt0o"]),
        ctx("sendbird-access-id", "Sendbird application id", Sensitive, &["sendbird"], "sendbird", r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
            .pos(&["SENDBIRD_APP_ID=993ba04c-480b-105f-c5dc-4c9dfcff34aa"]),
        ctx("sendbird-access-token", "Sendbird API token", Sensitive, &["sendbird"], "sendbird", r"[a-f0-9]{40}")
            .pos(&["SENDBIRD_TOKEN=6f106f0445332a5318d9863a93a5f57a69323c27"]),
        raw("settlemint-token", "SettleMint access token", Sensitive, &["sm_pat_", "sm_aat_", "sm_sat_"], r"\b(sm_(?:pat|aat|sat)_[A-Za-z0-9]{16})\b").ent(3.0)
            .pos(&["sm_pat_evrc4vs3waisu9vs"]).neg(&["nonMatchingToken := \"sm_sat_y5mcczmanx\""]),
        ctx("squarespace-access-token", "Squarespace API key", Sensitive, &["squarespace"], "squarespace", r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
            .pos(&["SQUARESPACE_KEY=7bf774d7-efad-0948-006c-e2802c0488a2"]),
        ctx("trello-access-token", "Trello API token", Sensitive, &["trello"], "trello", r"[A-Za-z0-9\-]{32}").ent(3.0)
            .pos(&["TRELLO_TOKEN=UHrkcGB2K0PXMwQXqm-OTfws4u-zxLFU"]),
        raw("typeform-api-token", "Typeform personal access token", Sensitive, &["tfp_"], r"\b(tfp_[A-Za-z0-9\-_.=]{59})")
            .pos(&["tfp_gefl_=krr=4=zyo0oac4wb7ibw8kkpeyp7952pht1-qtro0m6lkdw1674iz"]),
        ctx("zendesk-secret-key", "Zendesk API token", Sensitive, &["zendesk"], "zendesk", r"[A-Za-z0-9]{40}").ent(3.0)
            .pos(&["ZENDESK_API_TOKEN=hxk6zj6z2lv9rfwn6yo6e3532huek29ml8ti1isk"]),
        raw("pagerduty-api-key", "PagerDuty API key in context", Sensitive, &["pagerduty"], r"(?i:pagerduty)[\w.\-]{0,30}[\x22'`]?\s*[:=]\s*[\x22'`]?([A-Za-z0-9_+\-]{20})\b").ent(3.5)
            .pos(&["PAGERDUTY_TOKEN=q8Rz3kLm9Vt2Xw7Yp4Bn"]),
        raw("honeycomb-api-key", "Honeycomb API key in context", Sensitive, &["honeycomb"], r"(?i:honeycomb)[\w.\-]{0,30}[\x22'`]?\s*[:=]\s*[\x22'`]?([A-Za-z0-9]{22,32})\b").ent(3.5)
            .pos(&["HONEYCOMB_API_KEY=q8Rz3kLm9Vt2Xw7Yp4Bn6C"]),
        raw("segment-write-key", "Segment write key in context", Sensitive, &["segment"], r"(?i:segment)[\w.\-]{0,20}(?i:write)[\w.\-]{0,10}[\x22'`]?\s*[:=]\s*[\x22'`]?([A-Za-z0-9]{32})\b").ent(3.5)
            .pos(&["SEGMENT_WRITE_KEY=q8Rz3kLm9Vt2Xw7Yp4Bn6Cd1Ef5Gh0Jk"]),
        raw("mapbox-secret-scope", "Mapbox secret download token", Sensitive, &["mapbox"], r"(?i:mapbox)[\w.\-]{0,30}[\x22'`]?\s*[:=]\s*[\x22'`]?(sk\.eyJ[A-Za-z0-9_\-]{40,}\.[A-Za-z0-9_\-]{22})").ent(3.5)
            .pos(&["MAPBOX_DOWNLOADS_TOKEN=sk.eyJ1IjoiYWNtZSIsImEiOiJxOFJ6M2tMbTlWdDJYdzdZIn0.q8Rz3kLm9Vt2Xw7Yp4Bn6C"]),
        raw("auth0-client-secret", "Auth0 client secret in context", Sensitive, &["auth0"], r"(?i:auth0)[\w.\-]{0,30}[\x22'`]?\s*[:=]\s*[\x22'`]?([A-Za-z0-9_\-]{64})\b").ent(4.0)
            .pos(&["AUTH0_CLIENT_SECRET=c6VwcbIjMPFLVjFUPXQzkM4Bv3aYavhNYRVwDfRk9XIrghoy32NFR5PYZpcb9T20"]),
        raw("firebase-cloud-messaging-key", "Firebase Cloud Messaging server key", Sensitive, &["aaaa"], r"\b(AAAA[A-Za-z0-9_\-]{7}:APA91b[A-Za-z0-9_\-]{134})\b")
            .pos(&["AAAA39BICbt:APA91bw5ze9lfAEZ7770h2dcPyGOJJhrG80usp2w5dFjxCAyIOk6CptT9IoQhobswHGETh8lMYQOymAAiTdR9Up14PehPjPB9atpTDBMf4rpaFQOqb7XOfCsVtaXrZMAzSv2gENfMTx0"]),
        raw("supabase-service-key", "Supabase secret key", Classified, &["sb_secret_"], r"\b(sb_secret_[A-Za-z0-9_\-]{31,})\b")
            .pos(&["SUPABASE_KEY=sb_secret_q8Rz3kLm9Vt2Xw7Yp4Bn6Cd1Ef5Gh0Jk"]),
        raw("mongodb-atlas-api-key", "MongoDB Atlas / Realm API private key in context", Sensitive, &["atlas_private_key", "mongodb_atlas"],
            r"(?i:atlas_private_key|mongodb_atlas[\w]{0,20})[\x22'`]?\s*[:=]\s*[\x22'`]?([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})")
            .pos(&["MONGODB_ATLAS_PRIVATE_KEY=3c9f1d2e-8a7b-4c6d-9e0f-1a2b3c4d5e6f"]),
    ]
}
