using System.Globalization;
using AutoGlm.Generation.Constraints;

namespace AutoGlm.Generation;

/// <summary>
/// Checks a request before it is queued — prompt length and ids, the constraint's needs, and whether it could
/// ever fit in the KV budget — and works out its new-token limit. Every failure is an exception naming the problem
/// and the fix, thrown on the caller's thread so nothing reaches the scheduler loop that it cannot run.
/// </summary>
/// <remarks>Thread-safe: it only reads immutable sizes and the budget's capacity.</remarks>
internal sealed class RequestValidator
{
    private readonly int _contextLength;
    private readonly int _vocabulary;
    private readonly ITokenTextDecoder _textDecoder;
    private readonly KvCacheBudget _budget;

    /// <summary>Creates a validator for <paramref name="decoder"/>'s context and vocabulary and <paramref name="budget"/>.</summary>
    public RequestValidator(IBatchDecoder decoder, ITokenTextDecoder textDecoder, KvCacheBudget budget)
    {
        _contextLength = decoder.MaxSequenceLength;
        _vocabulary = decoder.VocabularySize;
        _textDecoder = textDecoder;
        _budget = budget;
    }

    /// <summary>Checks <paramref name="prompt"/> and <paramref name="options"/> and returns the request's new-token limit, clamped to the context.</summary>
    /// <exception cref="ArgumentException">The prompt is empty or holds an id outside the vocabulary, or the options cannot be combined; <see cref="ContextLengthExceededException"/> when the prompt leaves no room in the context.</exception>
    /// <exception cref="GrammarException">The constraint's shortest value does not fit in the new-token limit.</exception>
    /// <exception cref="AutoGlmException">The request could never fit in the KV budget.</exception>
    public int Validate(IReadOnlyList<int> prompt, GenerationOptions options)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        if (prompt.Count == 0)
        {
            throw new ArgumentException("The prompt is empty; a request needs at least one token to continue from.", nameof(prompt));
        }

        if (prompt.Count >= _contextLength)
        {
            throw new ContextLengthExceededException(
                Invariant($"The prompt has {prompt.Count} tokens but the model's context holds {_contextLength} (MaxSequenceLength), which leaves no room to generate; shorten the prompt to at most {_contextLength - 1} tokens."),
                nameof(prompt),
                prompt.Count,
                _contextLength);
        }

        for (int i = 0; i < prompt.Count; i++)
        {
            if ((uint)prompt[i] >= (uint)_vocabulary)
            {
                throw new ArgumentException(
                    Invariant($"Prompt token {i} is {prompt[i]}, outside the model's vocabulary of {_vocabulary} ids; the prompt was encoded with a different tokenizer."),
                    nameof(prompt));
            }
        }

        int maxNewTokens = Math.Min(options.MaxNewTokens, _contextLength - prompt.Count);
        if (options.Constraint is { } constraint)
        {
            CheckConstraint(constraint, options, maxNewTokens);
        }

        int needed = prompt.Count + maxNewTokens;
        if (!_budget.CanEverFit(needed))
        {
            throw new AutoGlmException(Invariant(
                $"The request needs {needed} tokens of KV cache (a prompt of {prompt.Count} and up to {maxNewTokens} new tokens) but the KV budget holds {_budget.CapacityTokens} tokens in total, so it could never run; lower MaxNewTokens or shorten the prompt, or raise the KV budget."));
        }

        return maxNewTokens;
    }

    private void CheckConstraint(GenerationConstraint constraint, GenerationOptions options, int maxNewTokens)
    {
        if (options.StopSequences.Count > 0)
        {
            throw new ArgumentException("GenerationOptions.Constraint cannot be combined with StopSequences: a stop sequence could cut the value short. Remove the stop sequences; the constrained output ends by itself.", nameof(options));
        }

        if (_textDecoder.ConstraintVocabulary is null)
        {
            throw new ArgumentException("GenerationOptions.Constraint needs the model's tokenizer, but this scheduler has none; load the model with GlmModel.Load.", nameof(options));
        }

        if (constraint.MinimumTokens > maxNewTokens)
        {
            throw new GrammarException(
                Invariant($"The constraint ({constraint.Description}) needs at least {constraint.MinimumTokens} new tokens (its shortest value plus the end token), but the request may generate only {maxNewTokens}; raise MaxNewTokens (max_tokens) or relax minItems/minLength/required in the schema."),
                "maxTokens",
                "#");
        }
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
