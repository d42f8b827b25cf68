using System.Globalization;
using Microsoft.Extensions.Options;

namespace AutoGlm.Extensions.Hosting;

/// <summary>Checks <see cref="AutoGlmOptions"/> at start-up; each failure names the option, quotes the bad value and says how to fix it.</summary>
/// <remarks>Stateless and thread-safe.</remarks>
internal sealed class AutoGlmOptionsValidator : IValidateOptions<AutoGlmOptions>
{
    private static readonly TimeSpan s_maxTimer = TimeSpan.FromDays(24);

    private const string ModelFolderHint = "set it to a model folder written by 'autoglm build' (the folder that holds model.onnx)";

    public ValidateOptionsResult Validate(string? name, AutoGlmOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        string prefix = string.IsNullOrEmpty(name) ? "AutoGlm: " : $"AutoGlm '{name}': ";
        var failures = new List<string>();

        ValidateModelPath(options.ModelPath, prefix, failures);
        if (!IsKnownProvider(options.ExecutionProvider))
        {
            failures.Add($"{prefix}ExecutionProvider '{options.ExecutionProvider}' is not a known provider; use one of: cpu, cuda, cuda:<device>, directml, dml:<adapter>, auto.");
        }

        if (options.IntraOpThreads < 0 || options.IntraOpThreads > GlmModelOptions.MaxIntraOpThreads)
        {
            failures.Add(Invariant($"{prefix}IntraOpThreads must be between 0 (let ONNX Runtime choose) and {GlmModelOptions.MaxIntraOpThreads} (4 × the {Environment.ProcessorCount} logical processors); got {options.IntraOpThreads}."));
        }

        if (GlmModelOptions.FindBadSessionConfigEntry(options.OnnxRuntimeSessionConfig.AsReadOnly()) is { } badEntry)
        {
            failures.Add($"{prefix}OnnxRuntimeSessionConfig: {badEntry}");
        }

        if (options.MaxBatchSize is < 1 or > GlmModelOptions.MaxBatchSizeLimit)
        {
            failures.Add(Invariant($"{prefix}MaxBatchSize must be between 1 and {GlmModelOptions.MaxBatchSizeLimit}; got {options.MaxBatchSize}."));
        }

        if (options.QueueCapacity is < 1 or > GlmModelOptions.MaxQueueCapacity)
        {
            failures.Add(Invariant($"{prefix}QueueCapacity must be between 1 and {GlmModelOptions.MaxQueueCapacity}; got {options.QueueCapacity}."));
        }

        if (options.PrefillChunkTokens is < 1 or > GlmModelOptions.MaxPrefillChunkTokens)
        {
            failures.Add(Invariant($"{prefix}PrefillChunkTokens must be between 1 and {GlmModelOptions.MaxPrefillChunkTokens}; got {options.PrefillChunkTokens}."));
        }

        if (options.MaxSequenceLength is int maxSequence && maxSequence is < 1 or > GlmModelOptions.MaxTokens)
        {
            failures.Add(Invariant($"{prefix}MaxSequenceLength must be between 1 and {GlmModelOptions.MaxTokens} when set; got {maxSequence}. Leave it unset to use the model's context length."));
        }

        if (options.KvBudgetTokens is int budget)
        {
            if (budget is < 1 or > GlmModelOptions.MaxTokens)
            {
                failures.Add(Invariant($"{prefix}KvBudgetTokens must be between 1 and {GlmModelOptions.MaxTokens} when set; got {budget}. Leave it unset for MaxBatchSize × the max sequence length."));
            }
            else if (options.MaxSequenceLength is int max && max >= 1 && budget < max)
            {
                failures.Add(Invariant($"{prefix}KvBudgetTokens ({budget}) is smaller than one max-length sequence (MaxSequenceLength = {max}), so a long request could never run; raise KvBudgetTokens to at least {max} or lower MaxSequenceLength."));
            }
        }

        if (options.DefaultMaxOutputTokens is < 1 or > GlmModelOptions.MaxTokens)
        {
            failures.Add(Invariant($"{prefix}DefaultMaxOutputTokens must be between 1 and {GlmModelOptions.MaxTokens}; got {options.DefaultMaxOutputTokens}."));
        }

        // Timers take at most about 24.8 days (int.MaxValue milliseconds).
        if (options.KeepAlive is TimeSpan keepAlive && keepAlive != Timeout.InfiniteTimeSpan && (keepAlive <= TimeSpan.Zero || keepAlive > s_maxTimer))
        {
            failures.Add(Invariant($"{prefix}KeepAlive must be positive and at most {s_maxTimer.TotalDays} days when set; got {keepAlive}. Leave it unset to keep the model loaded until the application stops."));
        }

        if (options.DrainTimeout < TimeSpan.Zero || options.DrainTimeout > s_maxTimer)
        {
            failures.Add(Invariant($"{prefix}DrainTimeout must be between zero and {s_maxTimer.TotalDays} days; got {options.DrainTimeout}."));
        }

        if (!(options.DegradedQueueFraction > 0 && options.DegradedQueueFraction <= 1))
        {
            failures.Add(Invariant($"{prefix}DegradedQueueFraction must be greater than 0 and at most 1; got {options.DegradedQueueFraction}."));
        }

        if (!string.IsNullOrEmpty(options.NativeLibraryPath) && !File.Exists(options.NativeLibraryPath) && !Directory.Exists(options.NativeLibraryPath))
        {
            failures.Add($"{prefix}NativeLibraryPath '{options.NativeLibraryPath}' does not exist; point it at the ONNX Runtime library file or its folder, or leave it unset to search the usual places.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void ValidateModelPath(string? path, string prefix, List<string> failures)
    {
        if (string.IsNullOrWhiteSpace(path))
        {
            failures.Add($"{prefix}ModelPath is not set; {ModelFolderHint}.");
            return;
        }

        string full = Path.GetFullPath(path);
        string shown = string.Equals(full, path, StringComparison.Ordinal) ? $"'{path}'" : $"'{path}' ({full})";
        if (!Directory.Exists(full))
        {
            failures.Add($"{prefix}ModelPath {shown} does not exist; {ModelFolderHint}.");
        }
        else if (!File.Exists(Path.Combine(full, "model.onnx")))
        {
            failures.Add($"{prefix}ModelPath {shown} has no model.onnx; {ModelFolderHint}.");
        }
    }

    private static bool IsKnownProvider(string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return false;
        }

        try
        {
            _ = Execution.ExecutionProvider.Parse(value);
            return true;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
