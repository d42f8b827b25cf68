using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using AutoGlm.Generation.Constraints;

namespace AutoGlm.Generation;

/// <summary>
/// Chooses a sequence's next token from its row of logits: its own sampling options, its constraint's mask when it
/// has one, and the log probabilities it asked for (taken from the raw row, before penalties, temperature and masks).
/// </summary>
/// <remarks>Not thread-safe: the scheduler loop is its only caller. Scratch rows are made on first use and kept.</remarks>
internal sealed class TokenPicker
{
    private readonly Sampler _sampler;
    private readonly ITokenTextDecoder _textDecoder;
    private readonly int[] _eosTokenIds;
    private readonly int _vocabulary;
    private ConstraintMasker? _masker;
    private float[]? _rawRow;
    private float[]? _expRow;

    /// <summary>Creates a picker for rows of <paramref name="vocabularySize"/> logits.</summary>
    public TokenPicker(int vocabularySize, ITokenTextDecoder textDecoder, int[] eosTokenIds)
    {
        _vocabulary = vocabularySize;
        _sampler = new Sampler(vocabularySize);
        _textDecoder = textDecoder;
        _eosTokenIds = eosTokenIds;
    }

    /// <summary>
    /// Picks <paramref name="sequence"/>'s next token from <paramref name="logits"/> (which it may change) and records it
    /// in the sequence's sampling state; <paramref name="logProbabilities"/> is set when the request asked for them.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public int Pick(GenerationSequence sequence, Span<float> logits, out (float Chosen, TokenLogProbability[] Top)? logProbabilities)
    {
        int? top = sequence.Options.TopLogProbabilities;
        float logSumExp = top is null ? 0f : CaptureRow(logits);
        SamplingState sampling = sequence.Sampling!;
        int token = sequence.Grammar is { } grammar
            ? (_masker ??= new ConstraintMasker(_textDecoder.ConstraintVocabulary!, _vocabulary)).Sample(
                _sampler, logits, sampling, grammar, sequence.MaxNewTokens - sequence.Generated, _eosTokenIds, sequence.Options.StopTokenIds)
            : _sampler.Sample(logits, sampling);
        sampling.Observe(token);
        logProbabilities = top is int count ? LogProbabilities(token, logSumExp, count) : null;
        return token;
    }

    // Copies the raw row (sampling changes it) and returns its log-sum-exp.
    private float CaptureRow(ReadOnlySpan<float> logits)
    {
        _rawRow ??= new float[_vocabulary];
        _expRow ??= new float[_vocabulary];
        logits.CopyTo(_rawRow);
        float max = TensorPrimitives.Max(logits);
        TensorPrimitives.Subtract(logits, max, _expRow);
        TensorPrimitives.Exp(_expRow, _expRow);
        return max + MathF.Log(TensorPrimitives.Sum(_expRow));
    }

    // The chosen token's and the count most likely tokens' log probabilities, highest first.
    private (float Chosen, TokenLogProbability[] Top) LogProbabilities(int token, float logSumExp, int count)
    {
        float[] raw = _rawRow!;
        var top = new TokenLogProbability[count];
        int filled = 0;
        for (int id = 0; id < raw.Length; id++)
        {
            float value = raw[id];
            if (filled == count && (count == 0 || value <= top[count - 1].LogProbability))
            {
                continue;
            }

            int at = filled < count ? filled++ : count - 1;
            while (at > 0 && top[at - 1].LogProbability < value)
            {
                top[at] = top[at - 1];
                at--;
            }

            top[at] = new TokenLogProbability(id, value);
        }

        for (int i = 0; i < count; i++)
        {
            top[i] = top[i] with { LogProbability = top[i].LogProbability - logSumExp };
        }

        return (raw[token] - logSumExp, top);
    }
}
