// AutoGlm console chat: streams answers, keeps the conversation, /reset clears it, Ctrl+C stops the current
// answer (a second Ctrl+C while waiting for input quits).
//
//   dotnet run --project samples/AutoGlm.Samples.Chat -c Release -- [MODEL_FOLDER]
//
// Without a model folder it builds the model builder's tiny random model (it talks nonsense, but every part
// of the path runs: prompt template, batching scheduler, streaming, cancellation).
using AutoGlm;
using AutoGlm.Chat;
using AutoGlm.Samples.Chat;
using Microsoft.Extensions.AI;

using var quit = new CancellationTokenSource();
var cancelKey = new ConsoleCancelKey(quit);

string modelPath = args.Length > 0 ? args[0] : await DemoModel.EnsureAsync(Console.Error, quit.Token);
if (!Directory.Exists(modelPath))
{
    Console.Error.WriteLine($"Model folder '{modelPath}' does not exist; pass a folder built by 'autoglm build', or no argument for the demo model.");
    return 2;
}

Console.Error.WriteLine($"Loading {modelPath} ...");
GlmModel model;
try
{
    model = await GlmModel.LoadAsync(modelPath, new GlmModelOptions(), quit.Token);
}
catch (AutoGlmException ex)
{
    Console.Error.WriteLine($"Cannot load the model: {ex.Message}");
    return 1;
}

await using (model)
{
    using IChatClient client = new AutoGlmChatClient(model);
    Console.Error.WriteLine("Type a message. /reset clears the history, /exit quits, Ctrl+C stops an answer.");
    var conversation = new Conversation();
    var options = new ChatOptions { MaxOutputTokens = 200, Temperature = 0.8f, TopP = 0.9f };

    while (true)
    {
        Console.Write("> ");
        string? line = Console.ReadLine();
        if (line is null || line.Trim() == "/exit" || quit.IsCancellationRequested)
        {
            break;
        }

        if (line.Trim() == "/reset")
        {
            conversation.Reset();
            Console.WriteLine("(history cleared)");
            continue;
        }

        if (string.IsNullOrWhiteSpace(line))
        {
            continue;
        }

        conversation.AddUser(line);
        using CancellationTokenSource answer = cancelKey.BeginAnswer();
        var reply = new System.Text.StringBuilder();
        try
        {
            while (true)
            {
                try
                {
                    await foreach (ChatResponseUpdate update in client.GetStreamingResponseAsync(conversation.Messages, options, answer.Token))
                    {
                        Console.Write(update.Text);
                        reply.Append(update.Text);
                    }

                    break;
                }
                catch (ArgumentException) when (reply.Length == 0 && conversation.DropOldestExchange())
                {
                    // The conversation outgrew the model's context: forget the oldest exchange and ask again.
                    Console.Error.Write("(oldest messages dropped to fit the context) ");
                }
            }
        }
        catch (OperationCanceledException) when (answer.IsCancellationRequested)
        {
            Console.Write(" [stopped]");
        }
        catch (QueueFullException ex)
        {
            Console.Write($" [busy: {ex.Message}]");
        }
        catch (ArgumentException ex)
        {
            Console.Write($" [cannot answer: {ex.Message}]");
        }
        finally
        {
            cancelKey.EndAnswer(answer);
        }

        Console.WriteLine();
        conversation.AddAssistant(reply.ToString());
    }
}

return 0;
