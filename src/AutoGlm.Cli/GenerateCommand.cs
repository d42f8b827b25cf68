using System.CommandLine;
using System.Text.Json;
using AutoGlm.Execution;
using AutoGlm.Generation;

namespace AutoGlm.Cli;

/// <summary><c>autoglm generate</c>: one completion of a raw prompt, streamed, or as one JSON object.</summary>
internal static class GenerateCommand
{
    public static Command Create()
    {
        Option<string> model = ModelOption(required: true);
        Option<string> prompt = CliOptions.Text("--prompt", "The raw text to continue (no chat template is applied).", "TEXT", required: true, emptyHint: "give the text to continue from");
        Option<int> maxNewTokens = CliOptions.Int("--max-new-tokens", "The most tokens to generate.", 64, 1, 1_000_000);
        Option<bool> greedy = CliOptions.Flag("--greedy", "Always take the most likely token (temperature 0).");
        Option<bool> ignoreEos = CliOptions.Flag("--ignore-eos", "Keep generating after an end-of-sequence token.");
        Option<bool> json = CliOptions.Flag("--json", "Print one JSON object (prompt and generated ids, text, finish reason, timings) instead of streaming text.");
        Option<double?> temperature = CliOptions.OptionalDouble("--temperature", "Sampling temperature (default 1, or 0 with --greedy).", 0, 100);
        Option<int?> seed = CliOptions.OptionalInt("--seed", "Sampling seed, for repeatable samples.", 0, int.MaxValue);
        Option<ExecutionProvider> provider = ProviderOption();

        var command = new Command("generate", "Complete a prompt with a model, streaming the text (or one JSON object with --json).")
        {
            model, prompt, maxNewTokens, greedy, ignoreEos, json, temperature, seed, provider,
        };
        command.SetAction((parse, cancellationToken) =>
        {
            bool isGreedy = parse.GetValue(greedy);
            var options = new GenerationOptions
            {
                MaxNewTokens = parse.GetValue(maxNewTokens),
                Temperature = (float)(parse.GetValue(temperature) ?? (isGreedy ? 0 : 1)),
                IgnoreEos = parse.GetValue(ignoreEos),
                Seed = parse.GetValue(seed),
            };
            return RunAsync(parse.GetValue(model)!, parse.GetValue(prompt)!, options, parse.GetValue(provider)!, parse.GetValue(json), cancellationToken);
        });
        return command;
    }

    /// <summary>The <c>--model MODEL</c> option every command that loads a model shares.</summary>
    internal static Option<string> ModelOption(bool required)
        => CliOptions.Text("--model", "The model folder (written by 'autoglm build').", "MODEL", required, emptyHint: "give a model folder written by 'autoglm build'");

    private static Option<ExecutionProvider> ProviderOption()
    {
        var option = new Option<ExecutionProvider>("--provider")
        {
            Description = "Execution provider: cpu, cuda, cuda:N, directml or auto.",
            HelpName = "cpu|cuda[:N]|directml|auto",
            DefaultValueFactory = _ => ExecutionProvider.Cpu,
            CustomParser = result =>
            {
                if (result.Tokens.Count == 0)
                {
                    return ExecutionProvider.Cpu;
                }

                string text = result.Tokens[^1].Value;
                try
                {
                    return ExecutionProvider.Parse(text);
                }
                catch (ArgumentException)
                {
                    result.AddError($"option '--provider' must be cpu, cuda, cuda:N, directml or auto, not '{CliOptions.Quote(text)}'.");
                    return ExecutionProvider.Cpu;
                }
            },
        };
        option.CompletionSources.Add("cpu", "cuda", "directml", "auto");
        return option;
    }

    private static async Task<int> RunAsync(string modelPath, string prompt, GenerationOptions options, ExecutionProvider provider, bool json, CancellationToken cancellationToken)
    {
        var modelOptions = new GlmModelOptions { ExecutionProvider = provider, MaxBatchSize = 1, WarmUp = false };
        await using GlmModel model = await GlmModel.LoadAsync(modelPath, modelOptions, cancellationToken).ConfigureAwait(false);
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
            return ExitCodes.Ok;
        }

        await foreach (GeneratedToken token in model.GenerateStreamingAsync(promptIds, options, cancellationToken).ConfigureAwait(false))
        {
            Console.Out.Write(token.Text);
        }

        Console.Out.WriteLine();
        return ExitCodes.Ok;
    }
}
