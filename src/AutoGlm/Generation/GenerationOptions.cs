using System.Globalization;

namespace AutoGlm.Generation;

/// <summary>How one generation request chooses its tokens and when it stops.</summary>
/// <remarks>
/// <para>
/// Every property is validated when it is set, so an invalid value fails where it is written, with a message
/// that quotes it. The defaults sample from the model's full distribution (temperature 1, no truncation, no
/// penalties) for at most 256 new tokens; set <see cref="Temperature"/> to 0 for greedy decoding.
/// </para>
/// <para>
/// The sampling pipeline runs in this order: repetition penalty, frequency and presence penalties,
/// temperature, top-k, top-p, min-p, then a draw from what is left (or the most likely token when greedy).
/// </para>
/// <para>Instances are immutable once built and safe to share between threads and requests.</para>
/// </remarks>
public sealed record GenerationOptions
{
    /// <summary>The most stop sequences one request may give.</summary>
    public const int MaxStopSequences = 256;

    /// <summary>The longest stop sequence, in UTF-16 characters.</summary>
    public const int MaxStopSequenceLength = 4096;

    /// <summary>The most stop token ids one request may give.</summary>
    public const int MaxStopTokenIds = 1024;

    private const int MaxTokens = Models.ModelLimits.MaxContextLength;
    private const int MaxTokenId = Models.ModelLimits.MaxVocabularySize - 1;

    private readonly int _maxNewTokens = 256;
    private readonly float _temperature = 1f;
    private readonly int _topK;
    private readonly float _topP = 1f;
    private readonly float _minP;
    private readonly float _repetitionPenalty = 1f;
    private readonly float _frequencyPenalty;
    private readonly float _presencePenalty;
    private readonly IReadOnlyList<string> _stopSequences = [];
    private readonly IReadOnlyList<int> _stopTokenIds = [];
    private readonly int? _topLogProbabilities;

    /// <summary>Gets options for greedy decoding (temperature 0) with the other defaults.</summary>
    public static GenerationOptions Greedy { get; } = new() { Temperature = 0f };

    /// <summary>Gets the most tokens to generate, at least 1 (default 256). The model's context may end a request sooner.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is less than 1.</exception>
    public int MaxNewTokens
    {
        get => _maxNewTokens;
        init
        {
            if (value is < 1 or > MaxTokens)
            {
                throw OutOfRange(nameof(MaxNewTokens), value, $"must be between 1 and {MaxTokens}");
            }

            _maxNewTokens = value;
        }
    }

    /// <summary>
    /// Gets the softmax temperature, 0 or more and finite (default 1). 0 means greedy decoding: the most likely
    /// token after penalties, ignoring <see cref="TopK"/>, <see cref="TopP"/>, <see cref="MinP"/> and <see cref="Seed"/>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative, infinite or NaN.</exception>
    public float Temperature
    {
        get => _temperature;
        init
        {
            // Below 1e-4 the scaled logits overflow to infinity; above 100 every token is equally likely anyway.
            if (!(value == 0f || (value >= 1e-4f && value <= 100f)))
            {
                throw OutOfRange(nameof(Temperature), value, "must be 0 (greedy) or a finite number between 0.0001 and 100");
            }

            _temperature = value;
        }
    }

    /// <summary>Gets how many of the most likely tokens are kept before sampling; 0 keeps all (default 0).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative.</exception>
    public int TopK
    {
        get => _topK;
        init
        {
            if (value is < 0 or > MaxTokenId + 1)
            {
                throw OutOfRange(nameof(TopK), value, $"must be 0 (disabled) or a positive number of at most {MaxTokenId + 1}");
            }

            _topK = value;
        }
    }

    /// <summary>
    /// Gets the nucleus mass: the most likely tokens are kept until their probabilities sum to at least this
    /// value; in (0, 1], 1 keeps all (default 1).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not in (0, 1].</exception>
    public float TopP
    {
        get => _topP;
        init
        {
            if (!(value > 0f && value <= 1f))
            {
                throw OutOfRange(nameof(TopP), value, "must be greater than 0 and at most 1");
            }

            _topP = value;
        }
    }

    /// <summary>
    /// Gets the min-p threshold: tokens less likely than this fraction of the most likely token's probability
    /// are dropped; in [0, 1], 0 keeps all (default 0).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not in [0, 1].</exception>
    public float MinP
    {
        get => _minP;
        init
        {
            if (!(value >= 0f && value <= 1f))
            {
                throw OutOfRange(nameof(MinP), value, "must be between 0 and 1");
            }

            _minP = value;
        }
    }

    /// <summary>
    /// Gets the repetition penalty with the Hugging Face meaning: the logit of every token already in the
    /// prompt or the output is divided by this value when positive and multiplied by it when negative;
    /// positive and finite, 1 disables it (default 1).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not positive and finite.</exception>
    public float RepetitionPenalty
    {
        get => _repetitionPenalty;
        init
        {
            if (!(value >= 1e-4f && value <= 100f))
            {
                throw OutOfRange(nameof(RepetitionPenalty), value, "must be a finite number between 0.0001 and 100 (1 disables it)");
            }

            _repetitionPenalty = value;
        }
    }

    /// <summary>
    /// Gets the frequency penalty with the OpenAI meaning: each token's logit is lowered by this value times
    /// the number of times the token already appears in the output; in [-2, 2], 0 disables it (default 0).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not in [-2, 2].</exception>
    public float FrequencyPenalty
    {
        get => _frequencyPenalty;
        init
        {
            if (!(value >= -2f && value <= 2f))
            {
                throw OutOfRange(nameof(FrequencyPenalty), value, "must be between -2 and 2");
            }

            _frequencyPenalty = value;
        }
    }

    /// <summary>
    /// Gets the presence penalty with the OpenAI meaning: the logit of each token that appears in the output
    /// at least once is lowered by this value, however often it appears; in [-2, 2], 0 disables it (default 0).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not in [-2, 2].</exception>
    public float PresencePenalty
    {
        get => _presencePenalty;
        init
        {
            if (!(value >= -2f && value <= 2f))
            {
                throw OutOfRange(nameof(PresencePenalty), value, "must be between -2 and 2");
            }

            _presencePenalty = value;
        }
    }

    /// <summary>
    /// Gets the seed of the request's random number generator; the same seed, prompt and options give the same
    /// tokens, whatever else runs in the batch. <see langword="null"/> picks a fresh seed per request (default).
    /// </summary>
    public long? Seed { get; init; }

    /// <summary>
    /// Gets strings that end generation when the generated text contains one of them; the stop string itself
    /// is not part of the output. They may span several tokens. Empty by default.
    /// </summary>
    /// <exception cref="ArgumentNullException">The list or one of its strings is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">One of the strings is empty.</exception>
    public IReadOnlyList<string> StopSequences
    {
        get => _stopSequences;
        init
        {
            ArgumentNullException.ThrowIfNull(value);
            string[] copy = [.. value];
            if (copy.Length > MaxStopSequences)
            {
                throw OutOfRange(nameof(StopSequences), copy.Length, $"may hold at most {MaxStopSequences} sequences");
            }

            for (int i = 0; i < copy.Length; i++)
            {
                if (copy[i]?.Length > MaxStopSequenceLength)
                {
                    throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"StopSequences[{i}] has {copy[i].Length} characters; a stop sequence may have at most {MaxStopSequenceLength}."), nameof(StopSequences));
                }

                if (copy[i] is null)
                {
                    throw new ArgumentNullException(nameof(StopSequences), $"StopSequences[{i}] is null; remove it or give a non-empty string.");
                }

                if (copy[i].Length == 0)
                {
                    throw new ArgumentException($"StopSequences[{i}] is an empty string, which would stop every request at once; remove it.", nameof(StopSequences));
                }
            }

            _stopSequences = copy;
        }
    }

    /// <summary>
    /// Gets token ids that end generation when sampled, in addition to the model's end-of-sequence ids.
    /// The stop token is reported as the last token but contributes no text. Empty by default.
    /// </summary>
    /// <exception cref="ArgumentNullException">The list is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException">One of the ids is negative.</exception>
    public IReadOnlyList<int> StopTokenIds
    {
        get => _stopTokenIds;
        init
        {
            ArgumentNullException.ThrowIfNull(value);
            int[] copy = [.. value];
            if (copy.Length > MaxStopTokenIds)
            {
                throw OutOfRange(nameof(StopTokenIds), copy.Length, $"may hold at most {MaxStopTokenIds} ids");
            }

            for (int i = 0; i < copy.Length; i++)
            {
                if (copy[i] is < 0 or > MaxTokenId)
                {
                    throw OutOfRange(nameof(StopTokenIds), copy[i], $"item {i} must be a token id between 0 and {MaxTokenId}");
                }
            }

            _stopTokenIds = copy;
        }
    }

    /// <summary>
    /// Gets a value indicating whether the model's end-of-sequence tokens are ignored, so generation runs to
    /// <see cref="MaxNewTokens"/> (for benchmarks). <see cref="StopTokenIds"/> and <see cref="StopSequences"/>
    /// still apply. Default <see langword="false"/>.
    /// </summary>
    public bool IgnoreEos { get; init; }

    /// <summary>
    /// Gets the structure the output must have (a JSON schema, any JSON, a tool call, a choice of strings); tokens
    /// that would break it are masked before sampling. <see langword="null"/> (default) generates freely. Cannot be
    /// combined with <see cref="StopSequences"/>, which could cut a value short.
    /// </summary>
    public GenerationConstraint? Constraint { get; init; }

    /// <summary>
    /// Gets how many of the most likely alternatives to report with each token's log probability, 0 to 20; <see langword="null"/>
    /// (default) reports no log probabilities at all (they cost a pass over the logits row per token).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not between 0 and 20.</exception>
    public int? TopLogProbabilities
    {
        get => _topLogProbabilities;
        init
        {
            if (value is < 0 or > 20)
            {
                throw OutOfRange(nameof(TopLogProbabilities), value.Value, "must be between 0 and 20");
            }

            _topLogProbabilities = value;
        }
    }

    /// <summary>Gets a value indicating whether these options decode greedily (<see cref="Temperature"/> is 0).</summary>
    public bool IsGreedy => _temperature == 0f;

    /// <summary>Gets the GenAI operation the server metrics name (<c>chat</c> when the chat client asks).</summary>
    internal string TelemetryOperationName { get; init; } = Diagnostics.AutoGlmInstruments.TextCompletionOperation;

    /// <summary>Gets a value indicating whether the scheduler leaves this request out of its metrics (the load's warm-up).</summary>
    internal bool ExcludeFromMetrics { get; init; }

    /// <summary>Gets the model id the server metrics carry as <c>gen_ai.request.model</c> / <c>gen_ai.response.model</c>, when the caller knows it.</summary>
    internal string? TelemetryModelId { get; init; }

    private static ArgumentOutOfRangeException OutOfRange<T>(string name, T value, string rule)
        where T : IFormattable
    {
        string shown = value.ToString(null, CultureInfo.InvariantCulture);
        return new ArgumentOutOfRangeException(name, value, $"GenerationOptions.{name} {rule}; got {shown}.");
    }
}
