//! AI and model providers: OpenAI, Anthropic, Hugging Face, Cohere, Groq, Perplexity, Replicate,
//! Mistral, xAI, DeepSeek, OpenRouter, ElevenLabs, LangSmith, Pinecone, Weights & Biases,
//! Together, Fireworks, Private AI.

use super::{ctx, raw, Spec};
use crate::Level::{Classified, Sensitive};

pub(crate) fn rules() -> Vec<Spec> {
    vec![
        raw("openai-api-key", "OpenAI API key", Sensitive, &["t3blbkfj"],
            r"\b(sk-(?:(?:proj|svcacct|admin)-)?[A-Za-z0-9_\-]{20,74}T3BlbkFJ[A-Za-z0-9_\-]{20,74})(?:[^A-Za-z0-9_\-]|$)")
            .pos(&["OPENAI_API_KEY=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"]),
        raw("openai-project-key", "OpenAI project / service-account key", Sensitive, &["sk-proj-", "sk-svcacct-", "sk-admin-"],
            r"\b(sk-(?:proj|svcacct|admin)-[A-Za-z0-9_\-]{58,})(?:[^A-Za-z0-9_\-]|$)").ent(4.0)
            .pos(&["sk-proj-q8Rz3kLm9Vt2Xw7Yp4Bn6Cd1Ef5Gh0Jk2Lm4No6Pq8Rz3kLm9Vt2Xw7Yp4Bn6Cd1Ef5Gh0Jk2Lm4No6P"]),
        raw("anthropic-api-key", "Anthropic API key", Classified, &["sk-ant-api03-"], r"\b(sk-ant-api03-[A-Za-z0-9_\-]{93}AA)(?:[^A-Za-z0-9_\-]|$)")
            .pos(&["sk-ant-api03-abc123xyz-456def789ghij-klmnopqrstuvwx-3456yza789bcde-1234fghijklmnopby56aaaogaopaaaabc123xyzAA"])
            .neg(&["sk-ant-api03-abc123xyz-456de-klMnopqrstuvwx-3456yza789bcde-1234fghijklmnopAA"]),
        raw("anthropic-admin-api-key", "Anthropic admin API key", Classified, &["sk-ant-admin01-"], r"\b(sk-ant-admin01-[A-Za-z0-9_\-]{93}AA)(?:[^A-Za-z0-9_\-]|$)")
            .pos(&["sk-ant-admin01-DFq1Y3gqSmPsSCdLKRcAQX9VjUPC94TNWLAVYFeRgpMPgxAFQ0FJZlCZBTToOFl9h2wJq5ty4mYwUufJSunpJC01t5gobAA"]),
        raw("huggingface-access-token", "Hugging Face user access token", Sensitive, &["hf_"], r"\b(hf_[A-Za-z0-9]{34})\b").ent(3.0)
            .pos(&["HF_TOKEN=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"])
            .neg(&["_kHMSymptomhf_generatedByHomeAppForDebuggingPurposesKey,", "HUGGINGFACE_API_TOKEN=hf_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx,"]),
        raw("huggingface-organization-api-token", "Hugging Face organization API token", Sensitive, &["api_org_"], r"\b(api_org_[A-Za-z0-9]{34})\b").ent(3.0)
            .pos(&["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"]),
        ctx("cohere-api-token", "Cohere API key", Sensitive, &["cohere", "co_api_key"], r"cohere|co_api_key", r"[A-Za-z0-9]{40}").ent(4.0)
            .pos(&["export CO_API_KEY=DAYaMLde8G1QVux2za1W82BZuskILzCUDB1dkiec"])
            .neg(&["CO_API_KEY=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"]),
        raw("tavily-api-key", "Tavily search API key", Sensitive, &["tvly-"], r"\b(tvly-(?:dev-|prod-)?[A-Za-z0-9]{32})\b").ent(3.5)
            .pos(&["TAVILY_API_KEY=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", "key: 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"])
            .neg(&["tvly-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"]),
        raw("groq-api-key", "Groq API key", Sensitive, &["gsk_"], r"\b(gsk_[A-Za-z0-9]{52})\b").ent(3.5)
            .pos(&["GROQ_API_KEY=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"]),
        raw("perplexity-api-key", "Perplexity API key", Sensitive, &["pplx-"], r"\b(pplx-[A-Za-z0-9]{48})(?:[^A-Za-z0-9_\-]|$)")
            .pos(&["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"]),
        raw("replicate-api-token", "Replicate API token", Sensitive, &["r8_"], r"\b(r8_[A-Za-z0-9]{37})\b").ent(3.5)
            .pos(&["REPLICATE_API_TOKEN=r8_g5iFqhEvveQzE2QPuwNOvpdf2YEe6rSxCnopM"]),
        ctx("mistral-api-key", "Mistral AI API key", Sensitive, &["mistral"], "mistral", r"[A-Za-z0-9]{32}").ent(3.5)
            .pos(&["MISTRAL_API_KEY=q8Rz3kLm9Vt2Xw7Yp4Bn6Cd1Ef5Gh0Jk"]),
        raw("xai-api-key", "xAI (Grok) API key", Sensitive, &["xai-"], r"\b(xai-[A-Za-z0-9]{80})\b").ent(4.0)
            .pos(&["XAI_API_KEY=xai-q8Rz3kLm9Vt2Xw7Yp4Bn6Cd1Ef5Gh0Jk2Lm4No6Pq8Rz3kLm9Vt2Xw7Yp4Bn6Cd1Ef5Gh0Jk2Lm4No6P"]),
        ctx("deepseek-api-key", "DeepSeek API key", Sensitive, &["deepseek"], "deepseek", r"sk-[a-f0-9]{32}")
            .pos(&["DEEPSEEK_API_KEY=sk-3f9a1c7e2b4d6f8a0c1e3b5d7f9a2c4e"]),
        raw("openrouter-api-key", "OpenRouter API key", Sensitive, &["sk-or-v1-"], r"\b(sk-or-v1-[a-f0-9]{64})\b")
            .pos(&["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"]),
        ctx("elevenlabs-api-key", "ElevenLabs API key", Sensitive, &["elevenlabs", "xi-api-key", "xi_api_key"], r"elevenlabs|xi[_\-]api[_\-]key", r"(?:sk_)?[a-f0-9]{32,48}")
            .pos(&["ELEVENLABS_API_KEY=sk_3f9a1c7e2b4d6f8a0c1e3b5d7f9a2c4e6b8d0f1a3f9a1c7e"]),
        raw("langsmith-api-key", "LangSmith API key", Sensitive, &["lsv2_pt_", "lsv2_sk_"], r"\b(lsv2_(?:pt|sk)_[a-f0-9]{32}_[a-f0-9]{10})\b")
            .pos(&["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"]),
        raw("pinecone-api-key", "Pinecone API key", Sensitive, &["pcsk_"], r"\b(pcsk_[A-Za-z0-9_]{50,90})\b").ent(3.5)
            .pos(&["PINECONE_API_KEY=pcsk_q8Rz3_kLm9Vt2Xw7Yp4Bn6Cd1Ef5Gh0Jk2Lm4No6Pq8Rz3kLm9Vt2Xw7Yp"]),
        ctx("wandb-api-key", "Weights & Biases API key", Sensitive, &["wandb"], "wandb", r"[a-f0-9]{40}")
            .pos(&["WANDB_API_KEY=3f9a1c7e2b4d6f8a0c1e3b5d7f9a2c4e6b8d0f1a"]),
        ctx("together-api-key", "Together AI API key", Sensitive, &["together"], "together", r"(?:tgp_v1_)?[A-Za-z0-9_\-]{43,64}").ent(4.0)
            .pos(&["TOGETHER_API_KEY=tgp_v1_q8Rz3kLm9Vt2Xw7Yp4Bn6Cd1Ef5Gh0Jk2Lm4No6Pq8Rz3k"]),
        raw("fireworks-api-key", "Fireworks AI API key", Sensitive, &["fw_"], r"\b(fw_[A-Za-z0-9]{24})\b").ent(3.5)
            .pos(&["FIREWORKS_API_KEY=fw_q8Rz3kLm9Vt2Xw7Yp4Bn6Cd1"]),
        ctx("privateai-api-token", "Private AI API token", Sensitive, &["privateai", "private_ai", "private-ai"], r"private[_\-]?ai", r"[A-Za-z0-9]{32}").ent(3.0)
            .pos(&["privateai_api_token = \"4t3alr1upz8klmd4168xwpl0zffkbkyv\""])
            .neg(&["const privateaiToken = \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\";"]),
    ]
}
