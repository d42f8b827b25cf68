using AutoGlm.Chat;
using Microsoft.Extensions.AI;

namespace AutoGlm.Cli;

/// <summary>
/// <c>autoglm chat</c>: a streaming chat in the terminal with history. <c>/reset</c> clears the history,
/// <c>/exit</c> (or end of input) quits, Ctrl+C stops the answer being written without quitting.
/// </summary>
internal static class ChatCommand
{
    public static async Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        var cli = new CommandLine(args, "greedy");
        string? modelPath = cli.Get("model");
        int maxNewTokens = cli.GetInt("max-new-tokens", 256, 1, 1_000_000);
        string? system = cli.Get("system");
        bool greedy = cli.Has("greedy");
        cli.ThrowOnUnknown();

        modelPath ??= await DemoModel.EnsureAsync(Console.Error, cancellationToken).ConfigureAwait(false);
        Console.Error.WriteLine($"Loading {modelPath} ...");
        await using GlmModel model = await GlmModel.LoadAsync(modelPath, new GlmModelOptions(), cancellationToken).ConfigureAwait(false);
        using var client = new AutoGlmChatClient(model);
        Console.Error.WriteLine($"Ready: {model.Info.ModelType}, {model.Info.LayerCount} layers, on {model.ExecutionProvider.Selected}. Type a message; /reset clears the history, /exit quits, Ctrl+C stops an answer.");

        var history = new List<ChatMessage>();
        if (system is not null)
        {
            history.Add(new ChatMessage(ChatRole.System, system));
        }

        var options = new ChatOptions { MaxOutputTokens = maxNewTokens, Temperature = greedy ? 0 : 0.8f, TopP = greedy ? null : 0.9f };
        while (!cancellationToken.IsCancellationRequested)
        {
            Console.Out.Write("> ");
            string? line = await Console.In.ReadLineAsync(cancellationToken).ConfigureAwait(false);
            if (line is null || line.Trim() == "/exit")
            {
                break;
            }

            if (line.Trim() == "/reset")
            {
                history.RemoveAll(m => m.Role != ChatRole.System);
                Console.Out.WriteLine("(history cleared)");
                continue;
            }

            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            history.Add(new ChatMessage(ChatRole.User, line));
            using var answer = new CancellationTokenSource();
            using IDisposable _ = Program.RedirectCancelKey(answer);
            var reply = new System.Text.StringBuilder();
            try
            {
                await foreach (ChatResponseUpdate update in client.GetStreamingResponseAsync(history, options, answer.Token).ConfigureAwait(false))
                {
                    Console.Out.Write(update.Text);
                    reply.Append(update.Text);
                }
            }
            catch (OperationCanceledException) when (answer.IsCancellationRequested)
            {
                Console.Out.Write(" [stopped]");
            }

            Console.Out.WriteLine();
            history.Add(new ChatMessage(ChatRole.Assistant, reply.ToString()));
        }

        return 0;
    }
}
