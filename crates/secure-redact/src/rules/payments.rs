//! Payments and finance: Stripe, Square, PayPal / Braintree, Adyen, Razorpay, Plaid, GoCardless,
//! Flutterwave, Coinbase, Kraken, KuCoin, Bittrex, Finicity, Finnhub, Shopify, Duffel, EasyPost,
//! Shippo, Lob.

use super::{ctx, raw, Spec};
use crate::Level::{Classified, Sensitive};

pub(crate) fn rules() -> Vec<Spec> {
    vec![
        raw("stripe-access-token", "Stripe secret / restricted key", Classified, &["sk_test_", "sk_live_", "sk_prod_", "rk_test_", "rk_live_", "rk_prod_"],
            r"\b((?:sk|rk)_(?:test|live|prod)_[A-Za-z0-9]{10,99})\b").ent(3.0)
            .pos(&["STRIPE_SECRET_KEY=sk_live_51H8q8Rz3kLm9Vt2Xw7Yp4Bn6Cd1Ef5Gh0Jk"]),
        raw("stripe-webhook-secret", "Stripe webhook signing secret", Sensitive, &["whsec_"], r"\b(whsec_[A-Za-z0-9]{32,64})\b")
            .pos(&["whsec_q8Rz3kLm9Vt2Xw7Yp4Bn6Cd1Ef5Gh0Jk2Lm"]),
        raw("square-access-token", "Square access token", Sensitive, &["sq0atp-", "eaaa"],
            r"\b(sq0atp-[A-Za-z0-9_\-]{22}|EAAA[A-Za-z0-9_\-+=]{60})\b")
            .pos(&["squareToken=sq0atp--UcU3zr1ZtoLuCr64CxqlI"]),
        raw("square-secret", "Square OAuth secret", Sensitive, &["sq0csp-"], r"\b(sq0csp-[A-Za-z0-9_\-]{43})\b")
            .pos(&["sq0csp-5NOOuHdhe1SsWuZAfNuKAjGR1oNm3mypFoNEHmMerY4"]),
        raw("paypal-braintree-access-token", "PayPal / Braintree access token", Classified, &["access_token$"],
            r"\b(access_token\$(?:production|sandbox)\$[0-9a-z]{16}\$[0-9a-f]{32})\b")
            .pos(&["access_token$production$q8rz3klm9vt2xw7y$3f9a1c7e2b4d6f8a0c1e3b5d7f9a2c4e"]),
        ctx("paypal-client-secret", "PayPal REST client secret", Sensitive, &["paypal"], "paypal", r"[A-Za-z0-9_\-]{80}").ent(4.0)
            .pos(&["PAYPAL_CLIENT_SECRET=H6yO4GFQRC5xLRwI0b26r08QZJi6gkfsUFRDzsLb5ER8BoFzQFm2OEQ3HdAVja76RnIChtP8HKQDLM7T"]),
        ctx("braintree-private-key", "Braintree private key", Sensitive, &["braintree"], "braintree", r"[a-f0-9]{32}")
            .pos(&["BRAINTREE_PRIVATE_KEY=3f9a1c7e2b4d6f8a0c1e3b5d7f9a2c4e"]),
        raw("adyen-api-key", "Adyen API key", Sensitive, &["aqe"], r"\b(AQE[A-Za-z0-9]{3,6}[A-Za-z0-9+/=_\-]{100,})\b").ent(4.0)
            .pos(&["ADYEN_API_KEY=AQEyhmfxK4q8Rz3kLm9Vt2Xw7Yp4Bn6Cd1Ef5Gh0Jk2Lm4No6Pq8Rz3kLm9Vt2Xw7Yp4Bn6Cd1Ef5Gh0Jk2Lm4No6Pq8Rz3kLm9Vt2Xw7Yp4Bn6Cd1Ef5Gh0"]),
        raw("razorpay-key", "Razorpay key", Sensitive, &["rzp_live_", "rzp_test_"], r"\b(rzp_(?:live|test)_[A-Za-z0-9]{14})\b")
            .pos(&["rzp_live_q8Rz3kLm9Vt2Xw"]),
        ctx("plaid-client-id", "Plaid client id", Sensitive, &["plaid"], "plaid", r"[A-Za-z0-9]{24}").ent(3.0)
            .pos(&["PLAID_CLIENT_ID=jzh2iblPVaxB0iAmL81xQ3s5"]),
        ctx("plaid-secret-key", "Plaid secret", Sensitive, &["plaid"], "plaid", r"[A-Za-z0-9]{30}").ent(3.0)
            .pos(&["PLAID_SECRET=rf54a3x65icpbvmw6dabi29po59lac"]),
        raw("plaid-api-token", "Plaid access token", Sensitive, &["access-sandbox-", "access-development-", "access-production-"],
            r"\b(access-(?:sandbox|development|production)-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\b")
            .pos(&["access-production-431d9b04-a343-3a2d-4e3e-7d07daa2ceae"]),
        ctx("gocardless-api-token", "GoCardless access token", Sensitive, &["gocardless"], "gocardless", r"live_[A-Za-z0-9\-_=]{40}")
            .pos(&["GOCARDLESS_TOKEN=live_wx9upzwyh_9sxjorz0ym81=7py-mj5_lx2vcih=o"]),
        raw("flutterwave-public-key", "Flutterwave public key", Sensitive, &["flwpubk_test-", "flwpubk-"], r"\b(FLWPUBK(?:_TEST)?-[a-h0-9]{32}-X)\b")
            .pos(&["FLWPUBK_TEST-d636bba4cdb03499afde24ce3fa26c6f-X"]),
        raw("flutterwave-secret-key", "Flutterwave secret key", Classified, &["flwseck_test-", "flwseck-"], r"\b(FLWSECK(?:_TEST)?-[a-h0-9]{32}-X)\b")
            .pos(&["FLWSECK_TEST-0c85fa90e3d52b0336937a8770737c87-X"]),
        raw("flutterwave-encryption-key", "Flutterwave encryption key", Sensitive, &["flwseck_test", "flwseck"], r"\b(FLWSECK(?:_TEST)?-?[a-h0-9]{12})\b")
            .pos(&["FLWSECK_TEST-c6156d0a5221"]),
        ctx("coinbase-access-token", "Coinbase access token", Sensitive, &["coinbase"], "coinbase", r"[A-Za-z0-9_\-]{64}").ent(3.0)
            .pos(&["COINBASE_TOKEN=wwjj4gztfdbhav7qhxoqqje2svzq9sa4mwa1ejj4szybz20elex79-ictcl3hr2y"]),
        ctx("kraken-access-token", "Kraken API secret", Sensitive, &["kraken"], "kraken", r"[A-Za-z0-9/=_+\-]{80,90}").ent(3.0)
            .pos(&["KRAKEN_SECRET=0uj/dsnxfhrj2=3kp6grxe12qr0h+ie_ccqf73r=00thrm8sjy4-c7c/hlydml3t6phfukaa1k8iwa31j=ymkcrtx"]),
        ctx("kucoin-access-token", "KuCoin API key", Sensitive, &["kucoin"], "kucoin", r"[a-f0-9]{24}")
            .pos(&["KUCOIN_KEY=22981391753c10cbddc8d576"]),
        ctx("kucoin-secret-key", "KuCoin API secret", Sensitive, &["kucoin"], "kucoin", r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
            .pos(&["KUCOIN_SECRET=8f79712c-64a2-0f00-2bdb-c97857e10464"]),
        ctx("bittrex-access-key", "Bittrex API key / secret", Sensitive, &["bittrex"], "bittrex", r"[A-Za-z0-9]{32}").ent(3.0)
            .pos(&["BITTREX_KEY=4hbck4beng21allmp6i4b3re4ekthu7g"]),
        ctx("binance-api-key", "Binance API key / secret", Sensitive, &["binance"], "binance", r"[A-Za-z0-9]{64}").ent(3.5)
            .pos(&["BINANCE_API_SECRET=oThwNScgrLRWzBQCABugjMgeP7cGq0pbqfi14ZgTsNOVM14tuoIZWD1IAEov4QbK"]),
        ctx("finicity-client-secret", "Finicity client secret", Sensitive, &["finicity"], "finicity", r"[A-Za-z0-9]{20}").ent(3.0)
            .pos(&["FINICITY_SECRET=kwvzgyarwrermiygrrha"]),
        ctx("finicity-api-token", "Finicity API token", Sensitive, &["finicity"], "finicity", r"[a-f0-9]{32}")
            .pos(&["FINICITY_TOKEN=134a5d8b6ccad7b896e29a5464be7218"]),
        ctx("finnhub-access-token", "Finnhub API token", Sensitive, &["finnhub"], "finnhub", r"[A-Za-z0-9]{20}").ent(3.0)
            .pos(&["FINNHUB_TOKEN=dxvtlc0twmydwvixckdi"]),
        raw("shopify-shared-secret", "Shopify app shared secret", Sensitive, &["shpss_"], r"\b(shpss_[a-fA-F0-9]{32})\b")
            .pos(&["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"]),
        raw("shopify-access-token", "Shopify access token", Sensitive, &["shpat_"], r"\b(shpat_[a-fA-F0-9]{32})\b")
            .pos(&["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"]),
        raw("shopify-custom-access-token", "Shopify custom app access token", Sensitive, &["shpca_"], r"\b(shpca_[a-fA-F0-9]{32})\b")
            .pos(&["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"]),
        raw("shopify-private-app-access-token", "Shopify private app password", Sensitive, &["shppa_"], r"\b(shppa_[a-fA-F0-9]{32})\b")
            .pos(&["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"]),
        raw("duffel-api-token", "Duffel API token", Sensitive, &["duffel_test_", "duffel_live_"], r"\b(duffel_(?:test|live)_[A-Za-z0-9_\-=]{43})")
            .pos(&["duffel_test_tj81jyyxuepxg-u5cx555mxb2-wvvpv6-h56ysnjlsm"]),
        raw("easypost-api-token", "EasyPost production API key", Sensitive, &["ezak"], r"\b(EZAK[A-Za-z0-9]{54})\b")
            .pos(&["EZAKwNfWdb9cnGC7D1uO2KSqR6OyaL7br8kpA43nPK2VtcRJ07E2FbrA3f"]),
        raw("easypost-test-api-token", "EasyPost test API key", Sensitive, &["eztk"], r"\b(EZTK[A-Za-z0-9]{54})\b")
            .pos(&["EZTKO7K5JQ9ku6QPaemWjpWk2wOC7TijaGfVpW65CfJPGgnwlSWiLCtjDs"]),
        raw("shippo-api-token", "Shippo API token", Sensitive, &["shippo_live_", "shippo_test_"], r"\b(shippo_(?:live|test)_[a-fA-F0-9]{40})\b")
            .pos(&["shippo_live_ebb50ca5fb64ed6ae49d60382ca1f5b3432675c6"]),
        ctx("lob-api-key", "Lob API key", Sensitive, &["lob_", "lob-", "lob.", "lobtoken", "lobkey", "lobapi", "lobsecret", "lobpub"], "lob", r"(?:live|test)_[a-f0-9]{35}")
            .pos(&["LOB_API_KEY=test_f64824a26280376aaf6ea02d8028f6f0212"]),
        ctx("lob-pub-api-key", "Lob publishable API key", Sensitive, &["lob_", "lob-", "lob.", "lobtoken", "lobkey", "lobapi", "lobsecret", "lobpub"], "lob", r"(?:test|live)_pub_[a-f0-9]{31}")
            .pos(&["LOB_PUB_KEY=test_pub_bd4021463cad59c3f4e09f28f1e4f1e"]),
        raw("alpaca-api-key", "Alpaca trading API key id", Sensitive, &["apca"], r"(?i:apca[_\-]api[_\-]key[_\-]id)\W{1,5}((?:PK|AK)[A-Z0-9]{18})\b")
            .pos(&["APCA_API_KEY_ID=PKQ8RZ3KLM9VT2XW7YP4"]),
    ]
}
