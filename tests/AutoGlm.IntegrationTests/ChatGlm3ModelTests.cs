using AutoGlm.Chat;
using AutoGlm.Generation;
using AutoGlm.ModelBuilder;
using AutoGlm.ModelBuilder.Checkpoints;
using Microsoft.Extensions.AI;

namespace AutoGlm.IntegrationTests;

/// <summary>A random ChatGLM model folder with ChatGLM3's SentencePiece tokenizer.model, end to end through the public API.</summary>
public sealed class ChatGlm3ModelTests : IDisposable
{
    private static readonly GenerationOptions s_greedy = new() { Temperature = 0f, MaxNewTokens = 8 };
    private readonly string _root = Directory.CreateTempSubdirectory("autoglm-chatglm3-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task GenerateAndChat_RandomChatGlm3Folder_UseTheSentencePieceTokenizerAndItsPrompt()
    {
        string folder = Path.Combine(_root, "model");
        await GlmModelBuilder.BuildRandomAsync(new RandomCheckpointOptions { Preset = "tiny", Architecture = GlmArchitecture.ChatGlm, Seed = 5 }, folder);
        Assert.True(File.Exists(Path.Combine(folder, "tokenizer.model")));

        await using GlmModel model = await GlmModel.LoadAsync(folder);
        Assert.True(model.Tokenizer.IsChatGlm3);

        // Special tokens written in a prompt are recognised; "sop" only as a whole word.
        IReadOnlyList<int> prompt = model.Tokenizer.Encode("[gMASK]sop<|user|>\nHello, sopping world!<|assistant|>");
        Assert.Equal([model.Tokenizer.TokenToId("[gMASK]")!.Value, model.Tokenizer.TokenToId("sop")!.Value, model.Tokenizer.TokenToId("<|user|>")!.Value], prompt.Take(3));
        Assert.Single(prompt, id => id == model.Tokenizer.TokenToId("sop"));
        Assert.Equal(model.Tokenizer.TokenToId("<|assistant|>"), prompt[^1]);

        GenerationResult generated = await model.GenerateAsync(prompt, s_greedy with { IgnoreEos = true });
        Assert.Equal(8, generated.Usage.CompletionTokens);
        Assert.Equal(model.Tokenizer.Decode([.. generated.Tokens.Select(t => t.Id)], skipSpecialTokens: true), generated.Text);

        // The chat client builds the prompt from ids as ChatGLM3's build_chat_input does, and generates from it.
        using var client = new AutoGlmChatClient(model);
        ChatMessage[] messages = [new(ChatRole.System, "Be brief."), new(ChatRole.User, "Hello 世界")];
        (int[] expectedPrompt, _) = ChatGlm3Prompt.Build(model.Tokenizer, [new ChatTemplateMessage("system", "Be brief."), new ChatTemplateMessage("user", "Hello 世界")], tools: null);
        GenerationResult direct = await model.GenerateAsync(expectedPrompt, s_greedy);

        ChatResponse response = await client.GetResponseAsync(messages, new ChatOptions { Temperature = 0f, MaxOutputTokens = 8 });

        Assert.Equal(expectedPrompt.Length, response.Usage!.InputTokenCount);
        Assert.Equal(direct.Usage.CompletionTokens, response.Usage.OutputTokenCount);
    }
}
