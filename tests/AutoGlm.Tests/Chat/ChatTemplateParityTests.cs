using System.Text.Json.Nodes;
using AutoGlm.Chat;
using AutoGlm.Tests.Tokenization;

namespace AutoGlm.Tests.Chat;

/// <summary>Renders every template and conversation with AutoGlm and, once, with @huggingface/jinja under node.</summary>
public sealed class ChatTemplateReferenceFixture
{
    private readonly Lazy<IReadOnlyList<Case>> _cases = new(Create);

    internal IReadOnlyList<Case> Cases => _cases.Value;

    private static List<Case> Create()
    {
        string folder = Path.Combine(NodeReference.RepositoryRoot, "tests", "AutoGlm.Tests", "Chat", "templates");
        var templates = new List<(string Name, ChatTemplate Template, Dictionary<string, string> Extra)>
        {
            ("GLM-4 built-in", ChatTemplate.Glm4, []),
            ("GLM-Edge built-in", ChatTemplate.GlmEdge, []),
            ("Llama-3 (npm)", ChatTemplate.FromModelFolder(NodeReference.Llama3Folder)!, new() { ["bos_token"] = "<|begin_of_text|>", ["eos_token"] = "<|end_of_text|>" }),
        };
        foreach (string file in Directory.GetFiles(folder, "*.jinja").Order(StringComparer.Ordinal))
        {
            templates.Add((Path.GetFileName(file), ChatTemplate.Parse(File.ReadAllText(file), file), []));
        }

        var cases = new List<Case>();
        var request = new JsonArray();
        foreach ((string name, ChatTemplate template, Dictionary<string, string> extra) in templates)
        {
            foreach ((string conversation, IReadOnlyList<ChatTemplateMessage> messages, bool prompt, bool tools) in ChatTemplateCases.Conversations)
            {
                string? actual;
                string? actualError = null;
                try
                {
                    actual = template.Render(messages, prompt, tools ? ChatTemplateCases.Tools : null);
                }
                catch (TokenizerException e)
                {
                    actual = null;
                    actualError = e.Message;
                }

                cases.Add(new Case($"{name} / {conversation}", actual, actualError));
                request.Add(new JsonObject { ["source"] = template.Text, ["context"] = ChatTemplateCases.Context(messages, prompt, tools, extra) });
            }
        }

        JsonArray renders = NodeReference.Run(new JsonObject { ["templates"] = request })["renders"]!.AsArray();
        for (int i = 0; i < cases.Count; i++)
        {
            cases[i] = cases[i] with { Expected = (string?)renders[i]!["text"], ExpectedError = (string?)renders[i]!["error"] };
        }

        return cases;
    }

    internal sealed record Case(string Name, string? Actual, string? ActualError, string? Expected = null, string? ExpectedError = null);
}

public sealed class ChatTemplateParityTests(ChatTemplateReferenceFixture fixture) : IClassFixture<ChatTemplateReferenceFixture>
{
    [NodeFact]
    public void Render_EveryTemplateAndConversation_MatchesHuggingFaceJinja()
    {
        Assert.Equal(9 * 3, fixture.Cases.Count);
        var failures = new List<string>();
        foreach (ChatTemplateReferenceFixture.Case c in fixture.Cases)
        {
            if (c.ExpectedError is not null)
            {
                if (c.ActualError is null)
                {
                    failures.Add($"{c.Name}: the reference failed ({c.ExpectedError}) but AutoGlm rendered {Show(c.Actual)}");
                }
            }
            else if (c.Actual != c.Expected)
            {
                failures.Add($"{c.Name}:\n expected {Show(c.Expected)}\n actual   {(c.ActualError ?? Show(c.Actual))}");
            }
        }

        Assert.True(failures.Count == 0, string.Join("\n", failures));
        Assert.Equal([], fixture.Cases.Where(c => c.ExpectedError is not null).Select(c => $"{c.Name}: {c.ExpectedError}"));
    }

    private static string Show(string? text) => System.Text.Json.JsonSerializer.Serialize(text);
}
