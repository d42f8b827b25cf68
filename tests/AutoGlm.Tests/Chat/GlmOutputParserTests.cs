using System.Text.Json;
using AutoGlm.Chat;
using Microsoft.Extensions.AI;

namespace AutoGlm.Tests.Chat;

public sealed class GlmOutputParserTests
{
    [Fact]
    public void Append_PlainTextWithoutTools_IsReleasedAtOnce()
    {
        var parser = new GlmOutputParser([], parseReasoning: true);

        Assert.Empty(parser.Append("<thi")); // could still be <think>
        IList<AIContent> released = parser.Append("s is text");

        Assert.Equal("<this is text", Assert.IsType<TextContent>(Assert.Single(released)).Text);
        Assert.Empty(parser.Complete());
        Assert.False(parser.SawToolCall);
    }

    [Fact]
    public void Append_ThinkBlockSplitAcrossChunks_BecomesReasoningThenText()
    {
        var parser = new GlmOutputParser([], parseReasoning: true);
        var all = new List<AIContent>();

        foreach (string chunk in new[] { "<th", "ink>plan ", "carefully</th", "ink>\nAnswer", " 42" })
        {
            all.AddRange(parser.Append(chunk));
        }

        all.AddRange(parser.Complete());

        Assert.Equal("plan carefully", string.Concat(all.OfType<TextReasoningContent>().Select(r => r.Text)));
        Assert.Equal("Answer 42", string.Concat(all.OfType<TextContent>().Select(t => t.Text)));
    }

    [Fact]
    public void Append_ReasoningDisabled_KeepsThinkTagsAsText()
    {
        var parser = new GlmOutputParser([], parseReasoning: false);

        IList<AIContent> released = parser.Append("<think>x</think>y");

        Assert.Equal("<think>x</think>y", Assert.IsType<TextContent>(Assert.Single(released)).Text);
    }

    [Fact]
    public void Complete_Glm4ToolCall_ParsesNameAndArguments()
    {
        var parser = new GlmOutputParser(["get_weather", "get_time"], parseReasoning: true);

        Assert.Empty(parser.Append("get_wea"));
        Assert.Empty(parser.Append("ther\n{\"city\": \"北京\", \"days\": 3}"));
        IList<AIContent> final = parser.Complete();

        FunctionCallContent call = Assert.IsType<FunctionCallContent>(Assert.Single(final));
        Assert.Equal("get_weather", call.Name);
        Assert.Equal("call_1", call.CallId);
        Assert.Equal("北京", ((JsonElement)call.Arguments!["city"]!).GetString());
        Assert.Equal(3, ((JsonElement)call.Arguments!["days"]!).GetInt32());
        Assert.True(parser.SawToolCall);
    }

    [Fact]
    public void Complete_TaggedToolCall_ParsesJsonObject()
    {
        var parser = new GlmOutputParser(["search"], parseReasoning: true);

        parser.Append("<tool_call>{\"name\": \"search\", \"arguments\": {\"q\": \"onnx\"}}</tool_call>");
        FunctionCallContent call = Assert.IsType<FunctionCallContent>(Assert.Single(parser.Complete()));

        Assert.Equal("search", call.Name);
        Assert.Equal("onnx", ((JsonElement)call.Arguments!["q"]!).GetString());
    }

    [Fact]
    public void Complete_ToolCallWithBadJson_CarriesAnException()
    {
        var parser = new GlmOutputParser(["f"], parseReasoning: true);

        parser.Append("f\n{not json");
        FunctionCallContent call = Assert.IsType<FunctionCallContent>(Assert.Single(parser.Complete()));

        Assert.Equal("f", call.Name);
        Assert.IsType<AutoGlmException>(call.Exception);
        Assert.Contains("{not json", call.Exception!.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Append_TextThatOnlyLooksLikeAToolNameAtFirst_IsReleasedAsText()
    {
        var parser = new GlmOutputParser(["get_weather"], parseReasoning: true);

        Assert.Empty(parser.Append("get"));
        IList<AIContent> released = parser.Append("ting there\nslowly");

        Assert.Equal("getting there\nslowly", Assert.IsType<TextContent>(Assert.Single(released)).Text);
        Assert.False(parser.SawToolCall);
    }
}
