//! Chat and social: Slack, Discord, Telegram, Microsoft Teams, Mattermost, Twitter/X, Facebook,
//! LinkedIn, Twitch, Reddit, Zoom.

use super::{ctx, raw, Spec};
use crate::Level::Sensitive;

pub(crate) fn rules() -> Vec<Spec> {
    vec![
        raw("slack-bot-token", "Slack bot token", Sensitive, &["xoxb-"], r"\b(xoxb-[0-9]{10,13}-[0-9]{10,13}[A-Za-z0-9\-]*)")
            .pos(&["SLACK_BOT_TOKEN=xoxb-781236542736-2364535789652-GkwFDQoHqzXDVsC6GzqYUypD"]).neg(&["xoxb-12345-abcd234"]),
        raw("slack-user-token", "Slack user token", Sensitive, &["xoxp-", "xoxe-"], r"\b(xox[pe](?:-[0-9]{10,13}){3}-[A-Za-z0-9\-]{28,34})")
            .pos(&["xoxp-41684372915-1320496754-45609968301-e708ba56e1517a99f6b5fb07349476ef"])
            .neg(&["\"token1\": \"xoxp-1234567890\"", "\"token2\": \"xoxp-XXXXXXXXXX-XXXXXXXXXX-XXXXXXXXXXX-XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX\""]),
        raw("slack-app-token", "Slack app-level token", Sensitive, &["xapp-"], r"(?i)\b(xapp-\d-[A-Z0-9]+-\d+-[a-z0-9]+)\b")
            .pos(&["xapp-1-A052FGTS2DL-5171572773297-610b6a11f4b7eb819e87b767d80e6575a3634791acb9a9ead051da879eb5b55e"]),
        raw("slack-config-access-token", "Slack app configuration access token", Sensitive, &["xoxe.xox"],
            r"(?i)\b(xoxe\.xox[bp]-\d-[A-Z0-9]{163,166})\b")
            .pos(&["xoxe.xoxp-1-Mi0yLTM0MTQwNDE0MDE3Ni0zNjU5NDY0Njg4MTctNTE4MjA3NTQ5NjA4MC01NDEyOTYyODY5NzUxLThhMTBjZmI1ZWIzMGIwNTg0ZDdmMDI5Y2UxNzVlZWVhYzU2ZWQyZTZiODNjNDZiMGUxMzRlNmNjNDEwYmQxMjQ"])
            .neg(&["xoxe.xoxp-1-SlackAppConfigurationAccessTokenHere"]),
        raw("slack-config-refresh-token", "Slack app configuration refresh token", Sensitive, &["xoxe-"], r"(?i)\b(xoxe-\d-[A-Z0-9]{146})\b")
            .pos(&["xoxe-1-My0xLTMxNzcwMjQ0MTcxMy01MTU4MTUyNjkxNzE0LTUxODE4NDI0MDY3MzYtMjA5MGFkOTFlZThkZWE2OGFlZDYwYWJjODNhYzAxYjA5ZjVmODBhYjgzN2QyNDdjOTNlOGY5NTg2YWM1OGM4Mg"])
            .neg(&["xoxe-1-xxx", "XOxE-RROAmw, Home and Garden, 5:24, 20120323"]),
        raw("slack-legacy-bot-token", "Slack legacy bot token", Sensitive, &["xoxb-"], r"\b(xoxb-[0-9]{8,14}-[A-Za-z0-9]{18,26})\b")
            .pos(&["xoxb-263594206564-FGqddMF8t08v8N7Oq4i57vs1"]).neg(&["xoxb-Slack_BOT_TOKEN"]),
        raw("slack-legacy-workspace-token", "Slack legacy workspace token", Sensitive, &["xoxa-", "xoxr-"],
            r"\b(xox[ar]-(?:\d-)?[0-9A-Za-z]{8,48}(?:-[0-9A-Za-z]{1,48}){0,4})\b")
            .pos(&["xoxa-2-511111111-31111111111-3111111111111-e039d02840a0b9379c"]),
        raw("slack-legacy-token", "Slack legacy token", Sensitive, &["xoxo-", "xoxs-"], r"\b(xox[os]-\d+-\d+-\d+-[a-fA-F\d]+)\b")
            .pos(&["xoxs-416843729158-132049654-5609968301-e708ba56e1"]).neg(&["https://indieweb.org/images/3/35/2018-250-xoxo-indieweb-1.jpg"]),
        raw("slack-webhook-url", "Slack incoming webhook / workflow URL", Sensitive, &["hooks.slack.com"],
            r"(?i)((?:https?://)?hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9+/]{43,56})")
            .pos(&["https://hooks.slack.com/services/T024TTTTT/BBB72BBL/AZAAA9u0pA4ad666eMgbi555"]),
        ctx("discord-api-token", "Discord API token in context", Sensitive, &["discord"], "discord", r"[a-f0-9]{64}")
            .pos(&["DISCORD_TOKEN=513b7d68e55282f80d762eb59e83f7de9043c108adbbccb77c082c2fc9cbb046"]),
        ctx("discord-client-id", "Discord client id", Sensitive, &["discord"], "discord", r"[0-9]{18}").ent(2.0)
            .pos(&["discordToken=\"157399978438907684\""]).neg(&["discord=000000000000000000"]),
        ctx("discord-client-secret", "Discord client secret", Sensitive, &["discord"], "discord", r"[A-Za-z0-9=_\-]{32}").ent(2.0)
            .pos(&["discord_secret: '72136691359544960517025223450812'"]).neg(&["discord=00000000000000000000000000000000"]),
        raw("discord-bot-token", "Discord bot token", Sensitive, &["discord", "bot "],
            r"\b([MNO][A-Za-z0-9_\-]{23,25}\.[A-Za-z0-9_\-]{6}\.[A-Za-z0-9_\-]{27,38})\b").ent(3.5)
            .pos(&["discord bot token MTk4NjIyNDgzNDcxOTI1MjQ4.Cl2FMQ.ZnCjm1XVW7vRze4b7Cq4se7kKWs"]),
        raw("discord-webhook-url", "Discord webhook URL", Sensitive, &["discord.com/api/webhooks", "discordapp.com/api/webhooks"],
            r"(https://(?:ptb\.|canary\.)?discord(?:app)?\.com/api/webhooks/\d{17,20}/[A-Za-z0-9_\-]{60,72})")
            .pos(&["https://discord.com/api/webhooks/123456789012345678/q8Rz3kLm9Vt2Xw7Yp4Bn6Cd1Ef5Gh0Jk2Lm4No6Pq8Rz3kLm9Vt2Xw7Yp4Bn6Cd1Ef5Gh0J"]),
        raw("telegram-bot-api-token", "Telegram bot token", Sensitive, &["telegram", "tgbot", "tg_bot", "bot_token"],
            r"(?:^|[^0-9A-Za-z])([0-9]{5,16}:[A-Za-z0-9_\-]{35})(?:[^A-Za-z0-9_\-]|$)").win(0, 200)
            .pos(&["TELEGRAM_API_TOKEN = 08084605:A6tlnn1dxg9vbe-vng-knkp0vw2k0voqx7d", "telegram bot = '869511423:Bk3qZ-oRTnUkq653PAPbo4HLs3DCd9NCDe1'"])
            .neg(&["telegram_api_token = \"5240:As-p_u4nzfdzal_84iy-wa2eju16agiu-_r\""]),
        raw("telegram-bot-token", "Telegram bot token (bot id, colon, 35-character secret)", Sensitive, &[":aa"],
            r"(?:^|[^0-9A-Za-z_\-])([0-9]{8,10}:AA[A-Za-z0-9_\-]{33})(?:[^A-Za-z0-9_\-]|$)").win(12, 40)
            .pos(&["bot = Bot('0751163726:AAQlY7Zkuvqdt7s8Stqcbnr3yBdGBLEPH1q')"])
            .neg(&["0751163726:AAQlY7Zkuvqdt7s8Stqcbnr3yBdGBLEPH1qX", "12:AAQlY7Zkuvqdt7s8Stqcbnr3yBdGBLEPH1q"]),
        raw("twitch-stream-key", "Twitch stream key", Sensitive, &["live_"], r"\b(live_[0-9]{6,12}_[A-Za-z0-9]{30})\b").ent(3.5)
            .pos(&["stream_key = \"live_336338750_bYrEqmSM9wCZ7Uw9xfogoEmvnEN5N1\""])
            .neg(&["live_reload_enabled_for_all_the_dev_servers"]),
        raw("telegram-bot-url", "Telegram bot token in an API URL", Sensitive, &["api.telegram.org/bot"],
            r"api\.telegram\.org/bot([0-9]{5,16}:A[A-Za-z0-9_\-]{34})")
            .pos(&["https://api.telegram.org/bot123456789:AAq8Rz3kLm9Vt2Xw7Yp4Bn6Cd1Ef5Gh0Jk2/getMe"]),
        raw("microsoft-teams-webhook", "Microsoft Teams incoming webhook URL", Sensitive, &["webhook.office.com", "outlook.office.com"],
            r"(https://[A-Za-z0-9\-]+\.webhook\.office\.com/webhookb2/[A-Za-z0-9\-]+@[A-Za-z0-9\-]+/IncomingWebhook/[A-Za-z0-9]+/[A-Za-z0-9\-]+|https://outlook\.office\.com/webhook/[A-Za-z0-9\-@]+/IncomingWebhook/[A-Za-z0-9]+/[A-Za-z0-9\-]+)")
            .pos(&["https://mycompany.webhook.office.com/webhookb2/pmgbwrma-gwr4-cg27-fsd7-9acg9lvmoh9p@jzp3ad11-zkmh-msks-tq1w-y7ke2p2spts2/IncomingWebhook/k4n7fyf7ijqtd9j8qmp9090do23xq78k/pjrfvc8s-c8bz-z5qi-w4zl-g7wdxvel7ugb"]),
        raw("power-automate-workflow-url", "Power Automate workflow trigger URL with its signature (the Teams webhooks' successor)", Sensitive, &["powerplatform.com"],
            r"(https://[A-Za-z0-9\-.]+\.environment\.api\.powerplatform\.com(?::443)?/powerautomate/automations/direct/workflows/[a-f0-9]{32}/triggers/manual/paths/invoke\?[^\s\x22'<>]*?sig=[A-Za-z0-9_\-%]{20,}[^\s\x22'<>]*)").win(80, 600)
            .pos(&["TEAMS_HOOK=https://default5e2c1b8a9d7f4e3a0b6c5d4e3f2a1b0c.4d.environment.api.powerplatform.com:443/powerautomate/automations/direct/workflows/0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f/triggers/manual/paths/invoke?api-version=1&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=Qm3kX9vT2pL7wR4yN8cB1dF6hJ0sZ5aE"])
            .neg(&["https://make.powerautomate.com/environments/Default/flows"]),
        raw("zapier-webhook-url", "Zapier catch-hook URL", Sensitive, &["hooks.zapier.com"],
            r"(https://hooks\.zapier\.com/hooks/catch/[A-Za-z0-9]{4,}(?:/[A-Za-z0-9]{4,})?/?)").win(16, 120)
            .pos(&["ZAPIER_HOOK = 'https://hooks.zapier.com/hooks/catch/4815162/3kq9xzw/'"]),
        raw("tines-webhook-url", "Tines webhook URL", Sensitive, &["tines.com/webhook"],
            r"(https://[A-Za-z0-9\-]+\.tines\.com/webhook/[a-z0-9]{32}/[a-z0-9]{32})").win(64, 120)
            .pos(&["https://acme-sec.tines.com/webhook/4j55coiuyil7dq9ydaoo4oan89u56vkm/u37txygi11dou8u2ttwe4rl63ax4lnw9"]),
        ctx("mattermost-access-token", "Mattermost access token", Sensitive, &["mattermost"], "mattermost", r"[A-Za-z0-9]{26}").ent(3.0)
            .pos(&["MATTERMOST_TOKEN=i118b915i0bgsyry4lml3cxuvr"]),
        ctx("twitter-api-key", "Twitter / X API key", Sensitive, &["twitter"], "twitter", r"[A-Za-z0-9]{25}").ent(3.0)
            .pos(&["TWITTER_API_KEY=nic1voxs0zti8cz9qi84yx6br"]),
        ctx("twitter-api-secret", "Twitter / X API secret", Sensitive, &["twitter"], "twitter", r"[A-Za-z0-9]{50}").ent(3.0)
            .pos(&["twitter_secret = zp0uhlwubsfdvqgbimc3v1fv6y98qt8c5fnqr2sq2pqrkxacll"]),
        ctx("twitter-access-token", "Twitter / X access token", Sensitive, &["twitter"], "twitter", r"[0-9]{15,25}-[A-Za-z0-9]{20,40}")
            .pos(&["twitter_access_token: 31566928112952398827-ih8MiPRMD46H7pv8ASujLzf4QhmyZTEYE"]),
        ctx("twitter-access-secret", "Twitter / X access token secret", Sensitive, &["twitter"], "twitter", r"[A-Za-z0-9]{45}").ent(3.0)
            .pos(&["twitter_access_secret = f0j1macxq7zjkc3eeq9332qo8rzeayqikmpodebcltqn3"]),
        raw("twitter-bearer-token", "Twitter / X app bearer token", Sensitive, &["aaaaaaaaaaaaaaaaaaaaa"], r"\b(A{22}[A-Za-z0-9%]{80,100})")
            .pos(&["AAAAAAAAAAAAAAAAAAAAAAQzyX9S%Jv8zevAUM43z6iwUDKHRqgYyG1AZl3AQbXQeNC6wMkbrh9VAhjQWJvDbmb097rBmBoQhtNq3EBOaFXxYRRKX"]),
        ctx("facebook-secret", "Facebook app secret", Sensitive, &["facebook"], "facebook", r"[a-f0-9]{32}")
            .pos(&["FACEBOOK_APP_SECRET=cb93b1f6fc28cbbf6f943b3bfca8952d"]),
        raw("facebook-access-token", "Facebook app access token (id|secret)", Sensitive, &["facebook", "fb_"],
            r"\b([0-9]{15,16}(?:\||%7[Cc])[A-Za-z0-9_\-]{27,40})\b").win(64, 120)
            .pos(&["facebook 1308742762612587|rhoK1cbv0DOU_RTX_87O4MkX7AI"]),
        raw("facebook-page-access-token", "Facebook / Meta user or page access token", Sensitive, &["eaam", "eaac"],
            r"\b(EAA[MC][A-Za-z0-9]{100,})").ent(4.0)
            .pos(&["EAAM9GOnCB9kBO2frzOAWGN2zMnZClQshlWydZCrBNdodesbwimx1mfVJgqZBP5RSpMfUzWhtjTTXHG5I1UlvlwRZCgjm3ZBVGeTYiqAAoxyED6HaUdhpGVNoPUwAuAWWFsi9OvyYBQt22DGLqMIgD7VktuCTTZCWKasz81Q822FPhMTB9VFFyClNzQ0NLZClt9zxpsMMrUZCo1VU1rL3CKavir5QTfBjfCEzH"]),
        ctx("linkedin-client-id", "LinkedIn client id", Sensitive, &["linkedin", "linked_in", "linked-in"], r"linked[_\-]?in", r"[A-Za-z0-9]{14}").ent(3.0)
            .pos(&["LINKEDIN_CLIENT_ID=6s0ajq07ytws2o"]),
        ctx("linkedin-client-secret", "LinkedIn client secret", Sensitive, &["linkedin", "linked_in", "linked-in"], r"linked[_\-]?in", r"[A-Za-z0-9]{16}").ent(3.0)
            .pos(&["linkedin_secret = \"n7tc7hhpcz64gbzk\""]),
        ctx("twitch-api-token", "Twitch API token", Sensitive, &["twitch"], "twitch", r"[A-Za-z0-9]{30}").ent(3.0)
            .pos(&["TWITCH_CLIENT_SECRET=zamgf3cpivq1f32baupglp9cwop2m2"]),
        ctx("reddit-client-secret", "Reddit API client secret", Sensitive, &["reddit"], "reddit", r"[A-Za-z0-9_\-]{27,30}").ent(3.5)
            .pos(&["REDDIT_CLIENT_SECRET=q8Rz3kLm9Vt2Xw7Yp4Bn6Cd1Ef5G"]),
        ctx("zoom-api-secret", "Zoom API / SDK secret", Sensitive, &["zoom"], "zoom", r"[A-Za-z0-9]{32,36}").ent(3.5)
            .pos(&["ZOOM_CLIENT_SECRET=q8Rz3kLm9Vt2Xw7Yp4Bn6Cd1Ef5Gh0Jk"]),
    ]
}
