//! Dify provider ids → the provider names Opik's price table knows (linked item 10).

/// Opik's canonical provider for a Dify provider id (`org/plugin/provider`, or
/// a bare name in older data) and model name. The known names are constants,
/// not copied for every span.
pub fn canonical(dify_provider: &str, model: Option<&str>) -> std::borrow::Cow<'static, str> {
    let segment = dify_provider
        .rsplit('/')
        .next()
        .unwrap_or(dify_provider)
        .trim();
    let name = match segment {
        "openai" => "openai",
        "anthropic" => "anthropic",
        "google" | "gemini" => "google_ai",
        "vertex_ai" if model.is_some_and(|m| m.starts_with("anthropic.")) => "anthropic_vertexai",
        "vertex_ai" => "google_vertexai",
        "bedrock" => "bedrock",
        "azure_openai" => "azure",
        "deepseek" => "deepseek",
        "groq" => "groq",
        "moonshot" => "moonshot",
        "sambanova" => "sambanova",
        "mistralai" => "mistral",
        "x" => "xai",
        "fireworks" => "fireworks_ai",
        "zhipuai" => "zai",
        other => return std::borrow::Cow::Owned(other.to_owned()),
    };
    std::borrow::Cow::Borrowed(name)
}

#[cfg(test)]
mod tests {
    use super::canonical;

    #[test]
    fn plugin_ids_and_bare_names() {
        assert_eq!(
            canonical("langgenius/openai/openai", Some("gpt-4o")),
            "openai"
        );
        assert_eq!(canonical("openai", None), "openai");
        assert_eq!(canonical("langgenius/gemini/google", None), "google_ai");
        assert_eq!(
            canonical("langgenius/vertex_ai/vertex_ai", Some("gemini-2.0-flash")),
            "google_vertexai"
        );
        assert_eq!(
            canonical(
                "langgenius/vertex_ai/vertex_ai",
                Some("anthropic.claude-3-5-sonnet")
            ),
            "anthropic_vertexai"
        );
        assert_eq!(
            canonical("langgenius/azure_openai/azure_openai", None),
            "azure"
        );
        assert_eq!(canonical("langgenius/mistralai/mistralai", None), "mistral");
        assert_eq!(canonical("langgenius/x/x", None), "xai");
        assert_eq!(
            canonical("langgenius/fireworks/fireworks", None),
            "fireworks_ai"
        );
        assert_eq!(canonical("langgenius/zhipuai/zhipuai", None), "zai");
        assert_eq!(canonical("langgenius/bedrock/bedrock", None), "bedrock");
        for same in ["deepseek", "groq", "moonshot", "sambanova", "anthropic"] {
            assert_eq!(canonical(&format!("langgenius/{same}/{same}"), None), same);
        }
        assert_eq!(canonical("someone/ollama/ollama", None), "ollama");
    }
}
