using System.CommandLine;
using AutoGlm.Chat;
using Microsoft.Extensions.AI;

namespace AutoGlm.Cli;

/// <summary>
/// <c>autoglm chat</c>: a streaming chat in the terminal with history. <c>/reset</c> clears the history,
/// <c>/exit</c> (or end of input) quits, Ctrl+C stops the answer being written without quitting.
/// </summary>
internal static class ChatCommand
{
    public static Command Create()
    {
        Option<string> model = GenerateCommand.ModelOption(required: false);
        model.Description = "The model folder (written by 'autoglm build'); without it a small demo model (random weights) is built once and cached.";
        Option<int> maxNewTokens = CliOptions.Int("--max-new-tokens", "The most tokens in one answer.", 256, 1, 1_000_000);
        Option<string> system = CliOptions.Text("--system", "A system message that starts the conversation.", "TEXT");
        Option<bool> greedy = CliOptions.Flag("--greedy", "Always take the most likely token (otherwise temperature 0.8, top-p 0.9).");

        var command = new Command("chat", "Chat with a model in the terminal: /reset clears the history, /exit quits, Ctrl+C stops an answer.") { model, maxNewTokens, system, greedy };
        command.SetAction((parse, cancellationToken) => RunAsync(parse.GetValue(model), parse.GetValue(maxNewTokens), parse.GetValue(system), parse.GetValue(greedy), cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(string? modelPath, int maxNewTokens, string? system, bool greedy, CancellationToken cancellationToken)
    {
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
            // Console.In reads synchronously whatever the token says; read on the pool so Ctrl+C or SIGTERM still ends the session.
            string? line = await Task.Run(Console.In.ReadLine, CancellationToken.None).WaitAsync(cancellationToken).ConfigureAwait(false);
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
                while (true)
                {
                    try
                    {
                        await foreach (ChatResponseUpdate update in client.GetStreamingResponseAsync(history, options, answer.Token).ConfigureAwait(false))
                        {
                            Console.Out.Write(update.Text);
                            reply.Append(update.Text);
                        }

                        break;
                    }
                    catch (ArgumentException) when (reply.Length == 0 && DropOldestExchange(history))
                    {
                        // The conversation outgrew the model's context: forget the oldest exchange and ask again.
                        Console.Error.Write("(oldest messages dropped to fit the context) ");
                    }
                }
            }
            catch (OperationCanceledException) when (answer.IsCancellationRequested)
            {
                Console.Out.Write(" [stopped]");
            }
            catch (ArgumentException ex)
            {
                // Even the new message alone does not fit: say so and forget it.
                Console.Out.Write($"[cannot answer: {ex.Message}]");
                history.RemoveAt(history.Count - 1);
                Console.Out.WriteLine();
                continue;
            }
            catch (QueueFullException ex)
            {
                Console.Out.Write($" [busy: {ex.Message}]");
            }

            Console.Out.WriteLine();
            history.Add(new ChatMessage(ChatRole.Assistant, reply.ToString()));
        }

        cancellationToken.ThrowIfCancellationRequested();
        return ExitCodes.Ok;
    }

    /// <summary>Removes the oldest non-system messages up to the next user message; false when only the newest message is left.</summary>
    private static bool DropOldestExchange(List<ChatMessage> history)
    {
        int first = history.FindIndex(m => m.Role != ChatRole.System);
        int newest = history.Count - 1;
        if (first < 0 || first >= newest)
        {
            return false;
        }

        int end = first + 1;
        while (end < newest && history[end].Role != ChatRole.User)
        {
            end++;
        }

        history.RemoveRange(first, end - first);
        return true;
    }
}
