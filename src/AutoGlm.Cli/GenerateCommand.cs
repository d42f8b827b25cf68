using System.Text.Json;
using AutoGlm.Generation;

namespace AutoGlm.Cli;

/// <summary><c>autoglm generate</c>: one completion of a raw prompt, streamed, or as one JSON object.</summary>
internal static class GenerateCommand
{
    public static async Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        var cli = new CommandLine(args, "greedy", "ignore-eos", "json");
        string modelPath = cli.Require("model");
        string prompt = cli.Require("prompt");
        int maxNewTokens = cli.GetInt("max-new-tokens", 64, 1, 1_000_000);
        bool greedy = cli.Has("greedy");
        bool ignoreEos = cli.Has("ignore-eos");
        bool json = cli.Has("json");
        double temperature = cli.GetDouble("temperature", greedy ? 0 : 1, 0, 100);
        int? seed = cli.Has("seed") ? cli.GetInt("seed", 0, 0) : null;
        string provider = cli.Get("provider") ?? "cpu";
        cli.ThrowOnUnknown();

        GlmModelOptions modelOptions;
        try
        {
            modelOptions = new GlmModelOptions { ExecutionProvider = Execution.ExecutionProvider.Parse(provider), MaxBatchSize = 1, WarmUp = false };
        }
        catch (ArgumentException ex)
        {
            throw new CommandLineException(ex.Message);
        }

        await using GlmModel model = await GlmModel.LoadAsync(modelPath, modelOptions, cancellationToken).ConfigureAwait(false);
        var options = new GenerationOptions { MaxNewTokens = maxNewTokens, Temperature = (float)temperature, IgnoreEos = ignoreEos, Seed = seed };
        IReadOnlyList<int> promptIds = model.Tokenizer.Encode(prompt);
        if (json)
        {
            GenerationResult result = await model.GenerateAsync(promptIds, options, cancellationToken).ConfigureAwait(false);
            var report = new Dictionary<string, object?>
            {
                ["prompt_tokens"] = promptIds,
                ["tokens"] = result.Tokens.Select(t => t.Id).ToArray(),
                ["text"] = result.Text,
                ["finish_reason"] = result.FinishReason.ToString().ToLowerInvariant(),
                ["timings"] = new Dictionary<string, object?>
                {
                    ["queue_ms"] = result.Timings.QueueTime.TotalMilliseconds,
                    ["time_to_first_token_ms"] = result.Timings.TimeToFirstToken.TotalMilliseconds,
                    ["total_ms"] = result.Timings.TotalTime.TotalMilliseconds,
                    ["tokens_per_second"] = result.Tokens.Count / Math.Max(result.Timings.TotalTime.TotalSeconds, 1e-9),
                },
            };
            Console.Out.WriteLine(JsonSerializer.Serialize(report, CliJson.Options));
            return 0;
        }

        await foreach (GeneratedToken token in model.GenerateStreamingAsync(promptIds, options, cancellationToken).ConfigureAwait(false))
        {
            Console.Out.Write(token.Text);
        }

        Console.Out.WriteLine();
        return 0;
    }
}
